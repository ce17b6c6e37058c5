"""Build every report of a period: figures -> charts -> HTML/text -> XLSX, saved under `reports_dir/{period}/`.

Step 5 of the monthly run. One report per recipient scope in recipients.yaml (the city summary for `kota`, a
kecamatan summary per camat scope, a kelurahan summary per lurah scope) and one OPD feedback per OPD with contacts
that sent something this period. Layout of the output (no personal data in any of it):

    var/reports/2026-10/manifest.json                what `tkpk.notify.send_reports` sends, with content hashes
    var/reports/2026-10/kota/laporan.html             for people and the archive (charts as files beside it)
    var/reports/2026-10/kota/email.html, email.txt    the e-mail body (charts by Content-ID)
    var/reports/2026-10/kota/*.png, *.xlsx, data.json charts, detail tables, the figures exactly as hashed
                                                     (canonical JSON: its sha256 is the content_hash)

The directory of a period is replaced as a whole, so a re-run never leaves a mix of old and new files.
"""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tkpk.period import Period
from tkpk.reports import charts
from tkpk.reports.figures import (
    PeriodData,
    Scope,
    canonical_json,
    content_hash,
    headline_figures,
    load_period_data,
    opd_figures,
    opd_short_name,
    summary_figures,
    text_hash,
)
from tkpk.reports.render import REVISION_MARKER, render_html, render_text, subject
from tkpk.reports.xlsx import Column, Sheet, write_workbook

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class ReportSpec:
    key: str  # kota | kecamatan:15.71.01 | kelurahan:15.71.01.1001 | opd:disnaker (send-log key)
    kind: str  # kota | kecamatan | kelurahan | opd
    recipients: list[dict] = field(default_factory=list)  # {name, email, pii}
    scope: Scope | None = None
    opd: object | None = None

    @property
    def slug(self) -> str:
        return self.key.replace(":", "-")


def plan_reports(config) -> list[ReportSpec]:
    """Which summary reports exist and who receives each (OPD feedback is planned per period, see build)."""
    specs: dict[str, ReportSpec] = {}
    for r in config.recipients.recipients:
        kind = r.scope_kind
        key = "kota" if kind == "kota" else f"{kind}:{r.scope_code}"
        spec = specs.setdefault(key, ReportSpec(key=key, kind=kind, scope=Scope.parse(r.scope)))
        spec.recipients.append({"name": r.name, "email": str(r.email), "pii": bool(r.pii)})
    order = {"kota": 0, "kecamatan": 1, "kelurahan": 2}
    return sorted(specs.values(), key=lambda s: (order.get(s.kind, 9), s.key))


def summary_title(figures: dict) -> str:
    """The subject title before the period: `Laporan Bulanan`, `Laporan Bulanan Kecamatan Telanaipura`."""
    scope = figures["scope"]
    return "Laporan Bulanan" if scope["kind"] == "kota" else f"Laporan Bulanan {scope['name']}"


def build_reports(settings, period: str, *, run_id: str | None = None, config=None) -> list[dict]:
    """Build and save every report of `period`; return small descriptors (no personal data) for XCom."""
    from tkpk.config import load_config
    from tkpk.reports.sql import reuse_results
    from tkpk.warehouse import get_engine

    period_obj = Period.parse(period)
    config = config or load_config(settings.config_dir)
    reports_dir = Path(settings.reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    work = reports_dir / f".building-{period_obj}-{uuid.uuid4().hex[:8]}"
    work.mkdir()
    entries: list[dict] = []
    try:
        with (get_engine(settings.database_url).connect() as conn, reuse_results(conn),
              ThreadPoolExecutor(max_workers=1, thread_name_prefix="tkpk-lists") as pool):
            specs = plan_reports(config)
            # The by-name lists' fingerprints (for authorised recipients) are mostly database work: they run on their
            # own connection while this thread computes the figures, draws the charts and writes the workbooks.
            pii_scopes = {spec.key: spec.scope for spec in specs if any(r["pii"] for r in spec.recipients)}
            lists = pool.submit(_lists_hashes, settings, period_obj, config, pii_scopes) if pii_scopes else None
            data = load_period_data(conn, settings.sql_dir, period_obj)
            for spec in specs:
                entries.append(_build_summary(settings, conn, data, config, spec, work))
            for opd in config.opds.all_opds():  # kelurahan folders too: their contacts or the kecamatan's
                if not opd.contacts:
                    continue
                spec = ReportSpec(key=f"opd:{opd.code}", kind="opd", opd=opd,
                                  recipients=[{"name": c.name, "email": str(c.email), "pii": False}
                                              for c in opd.contacts])
                entry = _build_opd(settings, conn, data, config, spec, work)
                if entry:
                    entries.append(entry)
            hashes = lists.result() if lists else {}
            for entry in entries:
                if entry["report"] in hashes:
                    entry["content_hash_pii"] = content_hash({"report": entry["content_hash"],
                                                              "lists": hashes[entry["report"]]})
        manifest = {"period": str(period_obj), "run_id": run_id, "config_version": config.version,
                    "reports": entries}
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
        _replace_dir(work, reports_dir / str(period_obj))
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    log.info("Laporan %s: %d laporan dibuat di %s", period_obj, len(entries), reports_dir / str(period_obj))
    return [
        {"report": e["report"], "kind": e["kind"], "recipients": len(e["recipients"]),
         "content_hash": e["content_hash"], "content_hash_pii": e.get("content_hash_pii")}
        for e in entries
    ]


def _replace_dir(new: Path, target: Path) -> None:
    old = target.with_name(f".old-{target.name}-{uuid.uuid4().hex[:8]}")
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def load_manifest(settings, period: str) -> dict:
    path = Path(settings.reports_dir) / str(Period.parse(period)) / MANIFEST
    if not path.exists():
        raise FileNotFoundError(
            f"Laporan periode {period} belum dibuat ({path} tidak ada): jalankan dulu `tkpk report build --period "
            f"{period}` atau langkah report di DAG."
        )
    return json.loads(path.read_text(encoding="utf-8"))


# --- summaries -------------------------------------------------------------------------------------------------------


def _charts_for(figures: dict, reference_dir=None) -> dict[str, tuple[bytes, str]]:
    """key -> (png, alt text); charts with nothing to show are left out."""
    scope = figures["scope"]["kind"]
    maps: dict[str, tuple[bytes | None, str]] = {}
    if scope in ("kota", "kecamatan") and reference_dir is not None:
        rows = [r for r in figures["kelurahan_rows"] if r["code"]]
        focus = {r["code"] for r in rows} if scope == "kecamatan" else None
        where = figures["scope"]["name"]
        maps["map_extreme"] = (charts.choropleth(
            {r["code"]: r["extreme_poor"] for r in rows}, f"Keluarga miskin ekstrem per kelurahan, {where}",
            "keluarga miskin ekstrem", reference_dir, color=charts.COLORS["extreme"], focus=focus),
            "Peta keluarga miskin ekstrem per kelurahan")
        maps["map_exclusion"] = (charts.choropleth(
            {r["code"]: r["exclusion_households"] for r in rows}, f"Kesalahan eksklusi per kelurahan, {where}",
            "keluarga layak yang belum menerima", reference_dir, color=charts.COLORS["exclusion"], focus=focus),
            "Peta kesalahan eksklusi per kelurahan")
    out: dict[str, tuple[bytes | None, str]] = {
        "targeting": (charts.targeting_errors(figures["programs"]), "Grafik salah sasaran per program"),
        "trend": (charts.trend(figures["trend"]), "Grafik tren 12 bulan"),
    }
    if scope in ("kota", "kecamatan"):
        label = "kecamatan" if scope == "kota" else "kelurahan"
        out["extreme_by_area"] = (charts.extreme_poor_by_area(figures["areas"], label),
                                  f"Grafik keluarga miskin ekstrem per {label}")
    if scope == "kota":
        out["scorecard"] = (charts.scorecard(figures["scorecard"]), "Grafik kualitas data per OPD")
    out.update(maps)
    return {k: v for k, v in out.items() if v[0] is not None}


def _build_summary(settings, conn, data: PeriodData, config, spec: ReportSpec, work: Path) -> dict:
    figures = summary_figures(data, config, spec.scope)
    from tkpk.verval.report import verval_figures

    figures["verval"] = verval_figures(conn, settings.sql_dir, data, spec.scope)
    title = summary_title(figures)
    heading = ("Laporan Bulanan TKPK Kota Jambi" if spec.kind == "kota"
               else f"Laporan Bulanan {figures['scope']['name']}")
    subheading = f"Periode {data.period.label()}"
    xlsx_name = f"TKPK_{_file_part(title)}_{data.period}.xlsx"
    sheets = summary_sheets(figures)
    xlsx = write_workbook(sheets, pii=False, title=f"{heading} {data.period.label()}")
    entry = _save(settings, spec, data.period, work, figures,
                  template=f"summary_{spec.kind}.html", text_template="summary.txt",
                  context={"f": figures, "heading": heading, "subheading": subheading},
                  images=_charts_for(figures, settings.reference_dir), attachments=[(xlsx_name, xlsx)], title=title)
    if any(r["pii"] for r in spec.recipients):  # content_hash_pii: filled in by build_reports
        entry["pii_attachment"] = f"TKPK_Daftar_Nama_{_file_part(title)}_{data.period}.xlsx"
    return entry


def _lists_hashes(settings, period: Period, config, scopes: dict[str, Scope]) -> dict[str, str]:
    """report key -> fingerprint of its by-name lists (`tkpk.reports.lists.lists_hash`), on a connection of its own
    (the lists need only the period's snapshot and the area names: `lists_data`)."""
    from tkpk.reports.lists import lists_data, lists_hash
    from tkpk.warehouse import get_engine

    with get_engine(settings.database_url).connect() as conn:
        data = lists_data(conn, settings.sql_dir, period)
        return {key: lists_hash(conn, settings.sql_dir, data, config, scope) for key, scope in scopes.items()}


def _file_part(title: str) -> str:
    return "_".join(title.replace("/", " ").split())


def _save(settings, spec: ReportSpec, period: Period, work: Path, figures: dict, *, template: str,
          text_template: str, context: dict, images: dict, attachments: list[tuple[str, bytes]], title: str) -> dict:
    """Save one report's files. The figures are serialised once: data.json holds exactly what `content_hash`
    hashes."""
    folder = work / spec.slug
    folder.mkdir(parents=True, exist_ok=True)
    image_entries = []
    for key, (png, alt) in images.items():
        name = f"grafik-{key.replace('_', '-')}.png"
        (folder / name).write_bytes(png)
        image_entries.append({"key": key, "file": name, "cid": f"{key}.{spec.slug}.{period}@tkpk.jambikota",
                              "alt": alt})
    common = dict(context, subject=subject(title, period.label()))
    archive = render_html(settings.templates_dir, template, **common,
                          images={e["key"]: e["file"] for e in image_entries})
    email = render_html(settings.templates_dir, template, **common,
                        images={e["key"]: f"cid:{e['cid']}" for e in image_entries})
    text = render_text(settings.templates_dir, text_template, **common)
    (folder / "laporan.html").write_text(archive.replace(REVISION_MARKER, ""), encoding="utf-8")
    (folder / "email.html").write_text(email, encoding="utf-8")
    (folder / "email.txt").write_text(text, encoding="utf-8")
    figures_json = canonical_json(figures)
    (folder / "data.json").write_text(figures_json, encoding="utf-8")
    attachment_entries = []
    for name, blob in attachments:
        (folder / name).write_bytes(blob)
        attachment_entries.append({"file": name, "content_type": XLSX_TYPE})
    return {
        "report": spec.key,
        "kind": spec.kind,
        "dir": spec.slug,
        "title": title,
        "period_label": period.label(),
        "scope": spec.scope.key if spec.scope else None,
        "recipients": spec.recipients,
        "content_hash": text_hash(figures_json),
        "content_hash_pii": None,
        "headline": headline_figures(figures),
        "html": "email.html",
        "text": "email.txt",
        "archive_html": "laporan.html",
        "images": image_entries,
        "attachments": attachment_entries,
    }


def summary_sheets(f: dict) -> list[Sheet]:
    """The detail tables of a summary as XLSX sheets (aggregates only: no personal data). Every table ends with a
    total row equal to the report's headline; keluarga and orang are never added together."""
    t = f["targeting_total"]
    x = f["extreme_section"]
    ch = f["changes_total"]
    summary_rows = [
        {"label": "Periode", "value": f["period_label"]},
        {"label": "Cakupan laporan", "value": f["scope"]["name"]},
        {"label": "Keluarga dalam registri", "value": f["registry"]["households"]},
        {"label": "Jiwa dalam registri", "value": f["registry"]["persons"]},
        {"label": "Keluarga miskin ekstrem", "value": f["extreme_poor"]["households"]},
        {"label": "Jiwa dalam keluarga miskin ekstrem", "value": x["persons"]},
        {"label": f"Keluarga miskin ekstrem {f['previous_label']}", "value": f["extreme_poor"]["previous"]},
        {"label": "Keluarga dengan kesalahan eksklusi (layak, belum menerima)", "value": t["exclusion_households"]},
        {"label": "Nilai kesalahan eksklusi per tahun (Rp, tanpa RTLH)", "value": t["exclusion_rupiah_yearly"]},
        {"label": "Keluarga dengan kesalahan inklusi (menerima, tidak layak)", "value": t["inclusion_households"]},
        {"label": "Nilai kesalahan inklusi per tahun (Rp, tanpa RTLH)", "value": t["inclusion_rupiah_yearly"]},
        {"label": "Penerima tidak ditemukan di registri", "value": t["inclusion_not_found"]},
        {"label": "Antrean RTLH (rumah)", "value": f["rtlh_backlog"]["households"]},
        {"label": "Antrean RTLH (Rp, sekali bayar)", "value": f["rtlh_backlog"]["rupiah"]},
        {"label": f"Baru layak sejak {f['previous_label']} (keluarga)", "value": ch["baru_layak_keluarga"]},
        {"label": f"Baru layak sejak {f['previous_label']} (orang)", "value": ch["baru_layak_orang"]},
        {"label": f"Tidak layak lagi sejak {f['previous_label']} (keluarga)", "value": ch["tidak_layak_lagi_keluarga"]},
        {"label": f"Tidak layak lagi sejak {f['previous_label']} (orang)", "value": ch["tidak_layak_lagi_orang"]},
        {"label": "Kandidat graduasi PKH", "value": f["graduation"]["households"]},
        {"label": "Usulan keluarga baru (keluarga)", "value": f["proposals"]["households"]},
        {"label": "Usulan keluarga baru (jiwa)", "value": f["proposals"]["persons"]},
        {"label": "Antrean verifikasi (review)", "value": f["review_open"]},
        {"label": "Keluarga tanpa desil (usulkan ke DTSEN)", "value": x["no_desil_households"]},
    ]
    family_total = {"name": "Jumlah keluarga (tanpa hitung ganda, tanpa RTLH)", "tepat": t["tepat_households"],
                    "exclusion": t["exclusion_households"], "exclusion_rupiah": t["exclusion_rupiah_yearly"],
                    "inclusion": t["inclusion_households"], "inclusion_rupiah": t["inclusion_rupiah_yearly"],
                    "not_found": t["inclusion_not_found"]}
    sheets = [
        Sheet("Ringkasan", f"Ringkasan {f['scope']['name']} {f['period_label']}",
              [Column("label", "Ukuran"), Column("value", "Nilai", "int")], summary_rows),
        Sheet("Per program", "Kelayakan dan ketepatan sasaran per program", [
            Column("name", "Program"), Column("unit", "Unit"), Column("eligible", "Layak", "int"),
            Column("eligible_prev", f"Layak {f['previous_label']}", "int"),
            Column("benefit_rupiah", "Nilai bantuan yang layak per tahun (RTLH: sekali bayar)", "rupiah"),
            Column("waiting", "Daftar tunggu kuota", "int"), Column("receiving", "Menerima", "int"),
            Column("tepat", "Tepat sasaran", "int"), Column("precision", "Penerima tepat sasaran", "percent"),
            Column("reach", "Cakupan (yang layak sudah menerima)", "percent"),
            Column("exclusion", "Kesalahan eksklusi", "int"),
            Column("exclusion_rupiah", "Kesalahan eksklusi (Rp)", "rupiah"),
            Column("inclusion", "Kesalahan inklusi", "int"),
            Column("inclusion_rupiah", "Kesalahan inklusi (Rp)", "rupiah"),
            Column("not_found", "Tidak ditemukan di registri", "int"),
        ], f["programs"] + [family_total]),
        Sheet("Cakupan miskin ekstrem", "Cakupan keluarga miskin ekstrem, dari yang layak per program", [
            Column("name", "Program"), Column("eligible_households", "Keluarga miskin ekstrem yang layak", "int"),
            Column("households", "Keluarga miskin ekstrem yang menerima", "int"),
            Column("share", "Cakupan", "percent"),
        ], f["coverage"] + [{"name": "Menerima minimal satu program",
                             "eligible_households": f["extreme_poor"]["households"], **f["coverage_any"]}]),
        Sheet("Miskin ekstrem", "Keluarga miskin ekstrem menurut tiga strategi kota", [
            Column("strategy", "Strategi"), Column("name", "Program"),
            Column("households", "Keluarga miskin ekstrem terjangkau", "int"), Column("share", "Cakupan", "percent"),
        ], x["strategies"] + [
            {"strategy": "Lingkungan lebih baik", "name": "Belum punya sumber air layak (registri)",
             "households": x["no_safe_water"]},
            {"strategy": "Lingkungan lebih baik", "name": "Belum punya jamban sendiri (registri)",
             "households": x["no_latrine"]},
            {"strategy": "Jumlah", "name": "Keluarga miskin ekstrem", "households": x["households"]},
        ]),
    ]
    area_columns = [
        Column("households", "Keluarga", "int"), Column("persons", "Jiwa", "int"),
        Column("extreme_poor", "Keluarga miskin ekstrem", "int"),
        Column("extreme_persons", "Jiwa miskin ekstrem", "int"),
        Column("extreme_poor_delta", "Perubahan miskin ekstrem", "int"),
        Column("exclusion_households", "Keluarga dengan kesalahan eksklusi", "int"),
        Column("inclusion_households", "Keluarga dengan kesalahan inklusi", "int"),
        Column("not_found", "Penerima tidak ditemukan di registri", "int"),
        Column("exclusion_rupiah", "Kesalahan eksklusi (Rp)", "rupiah"),
        Column("inclusion_rupiah", "Kesalahan inklusi (Rp)", "rupiah"),
        Column("graduation", "Kandidat graduasi PKH", "int"), Column("proposals", "Usulan keluarga baru", "int"),
    ]
    if f["scope"]["kind"] == "kota":
        sheets.append(Sheet("Per kecamatan", "Per kecamatan", [Column("name", "Kecamatan")] + area_columns,
                            f["areas"] + [f["areas_total"]]))
    sheets.append(Sheet("Per kelurahan", "Per kelurahan",
                        [Column("kecamatan", "Kecamatan"), Column("name", "Kelurahan"), Column("code", "Kode")]
                        + area_columns, f["kelurahan_rows"] + [f["kelurahan_total"]]))
    b = f["budget"]
    sheets.append(Sheet("Anggaran", f"Anggaran {b['year']}: pagu, perkiraan setahun (penerima bulan ini x nilai "
                        "bantuan per tahun) dan sisa", [
        Column("name", "Program"), Column("recipients", "Penerima", "int"), Column("unit", "Unit"),
        Column("pagu", "Pagu", "rupiah"), Column("realisation", "Perkiraan setahun", "rupiah"),
        Column("left", "Sisa", "rupiah"), Column("used_share", "Terpakai", "percent"), Column("source", "Sumber dana"),
    ], b["programs"]))
    sheets.append(Sheet("BPJS TK per kelurahan", "BPJS Ketenagakerjaan per kelurahan: kuota, daftar tunggu, pagu", [
        Column("name", "Kelurahan"), Column("code", "Kode"), Column("quota", "Kuota", "int"),
        Column("enrolled", "Kuota terpakai (terdaftar)", "int"), Column("recommended", "Direkomendasikan", "int"),
        Column("waiting", "Daftar tunggu", "int"), Column("pagu", "Pagu", "rupiah"),
        Column("realisation", "Perkiraan setahun", "rupiah"), Column("left", "Sisa", "rupiah"),
    ], b["kelurahan"]))
    sheets.append(Sheet("Perubahan kelayakan", f"Perubahan kelayakan sejak {f['previous_label']}", [
        Column("program_name", "Program"), Column("change", "Perubahan"),
        Column("reasons_words", "Alasan sekarang"), Column("units", "Jumlah", "int"),
    ], f["change_reasons"]))
    if "scorecard" in f:
        sheets.append(Sheet("Kualitas data OPD", "Kartu skor kualitas data OPD", [
            Column("short", "OPD"), Column("name", "Nama OPD"), Column("submission_type", "Jenis data"),
            Column("status_label", "Status"), Column("deadline", "Batas kirim", "date"),
            Column("received_date", "Diterima", "date"), Column("on_time_label", "Tepat waktu"),
            Column("rows_total", "Baris", "int"), Column("rows_accepted", "Baris dipakai", "int"),
            Column("accepted_share", "Diterima (%)", "percent"), Column("rows_quarantined", "Baris ditolak", "int"),
            Column("errors", "Galat", "int"), Column("warnings", "Peringatan", "int"),
            Column("rejection_reason", "Alasan ditolak"),
        ], [dict(r, on_time_label="" if r["on_time"] is None else "Ya" if r["on_time"] else "Tidak")
            for r in f["scorecard"]]))
    sheets.append(Sheet("Tren", "Tren 12 bulan terakhir", [
        Column("label", "Bulan"), Column("extreme_poor", "Keluarga miskin ekstrem", "int"),
        Column("exclusion_households", "Keluarga dengan kesalahan eksklusi", "int"),
        Column("inclusion_households", "Keluarga dengan kesalahan inklusi", "int"),
        Column("exclusion", "Kesalahan eksklusi", "int"), Column("exclusion_rupiah", "Kesalahan eksklusi (Rp)", "rupiah"),
        Column("inclusion", "Kesalahan inklusi", "int"), Column("inclusion_rupiah", "Kesalahan inklusi (Rp)", "rupiah"),
    ], f["trend"]))
    return sheets


# --- OPD feedback ----------------------------------------------------------------------------------------------------


def _build_opd(settings, conn, data: PeriodData, config, spec: ReportSpec, work: Path) -> dict | None:
    from tkpk.reports.sql import query

    findings = query(conn, settings.sql_dir, "opd_findings", period=str(data.period), opd_code=spec.opd.code)
    figures = opd_figures(data, config, spec.opd, findings)
    if figures is None:
        return None
    short = opd_short_name(spec.opd.code, spec.opd.name)
    title = f"Umpan Balik Data {short}"
    heading = f"Umpan Balik Data {spec.opd.name}"
    subheading = f"Periode {data.period.label()}"
    sheets = [
        Sheet("Status kiriman", f"Status kiriman {spec.opd.name} {data.period.label()}", [
            Column("submission_name", "Jenis data"), Column("status_label", "Status"),
            Column("received_date", "Masuk tanggal", "date"), Column("deadline", "Batas kirim", "date"),
            Column("rows_total", "Baris", "int"), Column("rows_accepted", "Baris dipakai", "int"),
            Column("rows_quarantined", "Baris ditolak", "int"), Column("warnings", "Peringatan", "int"),
            Column("rejection_reason", "Alasan berkas ditolak"),
        ], figures["submissions"]),
        Sheet("Baris bermasalah", "Setiap baris bermasalah (nomor baris seperti di Excel)", [
            Column("submission_type", "Jenis data"), Column("file", "Berkas"), Column("sheet", "Sheet"),
            Column("row", "Baris Excel", "int"), Column("column", "Kolom"), Column("severity_label", "Tingkat"),
            Column("message", "Masalah"), Column("value", "Isi sel (NIK/KK disamarkan)"),
        ], figures["findings"],
            note="Perbaiki baris ini di berkas asli lalu kirim ulang. Galat = baris tidak dipakai; "
                 "peringatan = baris dipakai tetapi perlu dicek."),
        Sheet("Per jenis masalah", "Ringkasan per jenis masalah", [
            Column("severity_label", "Tingkat"), Column("column", "Kolom"), Column("message", "Masalah"),
            Column("count", "Jumlah baris", "int"),
        ], figures["findings_grouped"]),
    ]
    xlsx = write_workbook(sheets, pii=False, title=f"{heading} {data.period.label()}")
    xlsx_name = f"TKPK_{_file_part(title)}_{data.period}.xlsx"
    return _save(settings, spec, data.period, work, figures, template="opd_feedback.html",
                 text_template="opd_feedback.txt",
                 context={"f": figures, "heading": heading, "subheading": subheading},
                 images={}, attachments=[(xlsx_name, xlsx)], title=title)
