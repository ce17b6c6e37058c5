"""The comparison report of a simulation, e-mailed to the analyst who asked (the `tkpk_simulate` DAG).

Its own templates (`include/templates/simulate.html`, `simulate.txt`), not the monthly summaries: a headline per
scenario, one table comparing every scenario with the baseline and the pagu per program, tables per kecamatan and per
kelurahan, a choropleth of families gained/lost per kelurahan (the reports' kelurahan map,
`tkpk.reports.charts.choropleth`, with a scale diverging around zero) and, only for a requester with `pii: true` in
recipients.yaml, an XLSX of the differences by name. Built with the monthly run's MIME code (`tkpk.notify.mime`) and
sent with its SMTP client; NIK and No KK appear only in that attachment.
"""

from __future__ import annotations

import hashlib
import logging

import pandas as pd

from tkpk.simulate.engine import AREA_COLUMNS

log = logging.getLogger(__name__)
MAP_CID = "peta-simulasi"


def requester_may_see_names(config, email: str) -> bool:
    wanted = (email or "").strip().lower()
    return any(str(r.email).lower() == wanted and r.pii for r in config.recipients.recipients)


def _names(reference_dir) -> tuple[dict, dict]:
    from tkpk.normalize.kelurahan import KelurahanIndex

    index = KelurahanIndex.load(reference_dir)
    kel = {r.kode_kelurahan: r.kelurahan for r in index.rows}
    kec = {r.kode_kecamatan: r.kecamatan for r in index.rows}
    return kel, kec


def figures(simulation, config, reference_dir=None) -> dict:
    """Everything the templates show: counts and rupiah only."""
    kel_names, kec_names = _names(reference_dir)
    names = {p.code: p.name for p in config.programs.programs}
    scenarios = []
    for r in simulation.results:
        touched = set(r.scenario.touched)
        rows = [p for p in r.summary if p["program"] in touched or p["pagu_after"] != p["pagu_before"]]
        gained = sum(p["families_gained"] for p in rows)
        lost = sum(p["families_lost"] for p in rows)
        delta = sum(p["rupiah_after"] - p["rupiah_before"] for p in rows)
        over = [p for p in rows if p["pagu_after"]["cukup"] is False]
        scenarios.append({
            "name": r.scenario.name, "describe": r.scenario.describe(), "differences": len(r.diff),
            "families_gained": gained, "families_lost": lost, "rupiah_delta": delta, "programs": rows,
            "over_pagu": [names.get(p["program"], p["program"]) for p in over],
        })
    area = pd.concat([r.areas.assign(scenario=r.scenario.name) for r in simulation.results
                      if r.areas is not None and len(r.areas)], ignore_index=True) \
        if any(r.areas is not None and len(r.areas) for r in simulation.results) else \
        pd.DataFrame(columns=["scenario", *AREA_COLUMNS])

    def table(by: str, label: dict) -> list[dict]:
        if area.empty:
            return []
        g = area.groupby(["scenario", "program", by], sort=True)[AREA_COLUMNS[3:]].sum().reset_index()
        g = g[(g["families_gained"] + g["families_lost"] + g["persons_gained"] + g["persons_lost"] > 0)
              | (g["rupiah_before"] != g["rupiah_after"])]
        return [{"scenario": row["scenario"], "program": names.get(row["program"], row["program"]),
                 "code": row[by], "name": label.get(row[by], row[by]),
                 **{c: int(row[c]) for c in AREA_COLUMNS[3:]}} for _, row in g.iterrows()]

    return {
        "period": simulation.period,
        "rule_set_version": simulation.baseline_programs.rule_set_version,
        "scenarios": scenarios,
        "kecamatan": table("kode_kecamatan", kec_names),
        "kelurahan": table("kode_kelurahan", kel_names),
        "names": names,
    }


def choropleth(simulation, reference_dir) -> bytes | None:
    """Net families gained minus lost per kelurahan, summed over the scenarios' touched programs (the first
    scenario when there are several), on the reports' kelurahan map with a scale diverging around zero; None when
    nothing moves."""
    from tkpk.reports.charts import COLORS
    from tkpk.reports.charts import choropleth as kelurahan_map

    result = next((r for r in simulation.results if r.areas is not None and len(r.areas)), None)
    if result is None:
        return None
    by_kelurahan = result.areas.groupby("kode_kelurahan")[["families_gained", "families_lost"]].sum()
    net = {code: int(row.families_gained - row.families_lost) for code, row in by_kelurahan.iterrows()}
    return kelurahan_map(net, f"Keluarga bertambah / berkurang per kelurahan\nskenario '{result.scenario.name}'",
                         "selisih keluarga (bertambah \u2212 berkurang)", reference_dir, color=COLORS["gained"],
                         negative_color=COLORS["lost"], ends=("berkurang", "bertambah"))


def by_name_workbook(settings, simulation, config) -> bytes:
    """XLSX of every differing decision with the person's (or the household head's) name, NIK and No KK."""
    from sqlalchemy import select

    from tkpk.reports.xlsx import Column, Sheet, write_workbook
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import RegistryHousehold, RegistryPerson

    kel_names, _ = _names(settings.reference_dir)
    names = {p.code: p.name for p in config.programs.programs}
    diff = pd.concat([r.diff for r in simulation.results if len(r.diff)], ignore_index=True) \
        if any(len(r.diff) for r in simulation.results) else None
    rows = []
    if diff is not None and simulation.snapshot_id is not None:
        arts = [a for a in diff["id_art"].unique() if a]
        fams = list(diff["id_keluarga"].unique())
        with session_scope(settings.database_url) as s:
            people = {}
            for start in range(0, len(arts), 5000):
                for r in s.execute(select(RegistryPerson.id_art, RegistryPerson.nama, RegistryPerson.nik).where(
                        RegistryPerson.snapshot_id == simulation.snapshot_id,
                        RegistryPerson.id_art.in_(arts[start:start + 5000]))):
                    people[r.id_art] = (r.nama, r.nik)
            heads, kks = {}, {}
            for start in range(0, len(fams), 5000):
                part = fams[start:start + 5000]
                for r in s.execute(select(RegistryPerson.id_keluarga, RegistryPerson.nama, RegistryPerson.nik).where(
                        RegistryPerson.snapshot_id == simulation.snapshot_id, RegistryPerson.id_keluarga.in_(part),
                        RegistryPerson.hubungan_keluarga == "kepala_keluarga")):
                    heads.setdefault(r.id_keluarga, (r.nama, r.nik))
                for r in s.execute(select(RegistryHousehold.id_keluarga, RegistryHousehold.no_kk).where(
                        RegistryHousehold.snapshot_id == simulation.snapshot_id,
                        RegistryHousehold.id_keluarga.in_(part))):
                    kks[r.id_keluarga] = r.no_kk
        for d in diff.itertuples(index=False):
            nama, nik = people.get(d.id_art) if d.id_art else heads.get(d.id_keluarga, (None, None))
            change = ("bertambah" if d.scenario_eligible and not d.baseline_eligible else
                      "berkurang" if d.baseline_eligible and not d.scenario_eligible else "nominal berubah")
            rows.append({
                "scenario": d.scenario, "program": names.get(d.program, d.program), "perubahan": change,
                "kelurahan": kel_names.get(d.kode_kelurahan, d.kode_kelurahan), "id_keluarga": d.id_keluarga,
                "no_kk": kks.get(d.id_keluarga), "id_art": d.id_art, "nik": nik, "nama": nama,
                "sebelum": int(d.baseline_benefit), "sesudah": int(d.scenario_benefit),
                "alasan_sebelum": d.baseline_reasons, "alasan_sesudah": d.scenario_reasons,
            })
    columns = [Column("scenario", "Skenario"), Column("program", "Program"), Column("perubahan", "Perubahan"),
               Column("kelurahan", "Kelurahan"), Column("id_keluarga", "ID keluarga"), Column("no_kk", "No KK", "nik"),
               Column("id_art", "ID ART"), Column("nik", "NIK", "nik"),
               Column("nama", "Nama (ART, atau kepala keluarga untuk program per keluarga)"),
               Column("sebelum", "Manfaat setahun sekarang", "rupiah"),
               Column("sesudah", "Manfaat setahun skenario", "rupiah"),
               Column("alasan_sebelum", "Alasan sekarang"), Column("alasan_sesudah", "Alasan skenario")]
    sheet = Sheet("Perbedaan", f"Keputusan yang berbeda: simulasi {simulation.period}", columns, rows,
                  note="Hasil simulasi, bukan keputusan resmi. Data pribadi: hanya untuk penerima yang berwenang.")
    return write_workbook([sheet], pii=True, title=f"Simulasi {simulation.period}")


def render(settings, simulation, config, *, requester: str, pii: bool) -> tuple[str, str, str, list, list]:
    """(subject, html, text, images, attachments) of the comparison report."""
    from tkpk.period import Period
    from tkpk.reports.render import REVISION_MARKER, SUBJECT_PREFIX, render_html, render_text

    f = figures(simulation, config, settings.reference_dir)
    label = Period.parse(simulation.period).label()
    names = ", ".join(s["name"] for s in f["scenarios"])
    subject = f"{SUBJECT_PREFIX} Simulasi {label}: {names}"
    png = choropleth(simulation, settings.reference_dir)
    any_diff = any(len(r.diff) for r in simulation.results)
    context = dict(f, subject=subject, heading="Simulasi program (bagaimana jika)",
                   subheading=f"Periode {label}, dibandingkan dengan aturan {f['rule_set_version']}",
                   period_label=label, map_cid=MAP_CID if png else None, pii=pii, any_diff=any_diff,
                   requester=requester)
    html = render_html(settings.templates_dir, "simulate.html", **context).replace(REVISION_MARKER, "")
    text = render_text(settings.templates_dir, "simulate.txt", **context)
    images = [(MAP_CID, "peta-simulasi.png", png)] if png else []
    attachments = []
    if pii and any_diff:
        attachments.append((f"simulasi-{simulation.period}-daftar-nama.xlsx",
                            by_name_workbook(settings, simulation, config),
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    return subject, html, text, images, attachments


def send_comparison(settings, smtp, simulation, requester: str, scenario_ids: list[int] = (), config=None,
                    client=None) -> dict:
    """Build and send the comparison report to the requester; returns counts (no personal data)."""
    from tkpk.config import load_config
    from tkpk.notify.mime import as_bytes, build_message
    from tkpk.notify.smtp import SmtpClient

    config = config or load_config(settings.config_dir)
    pii = requester_may_see_names(config, requester)
    subject, html, text, images, attachments = render(settings, simulation, config, requester=requester, pii=pii)
    sender = smtp.sender or str(config.recipients.sender)
    domain = sender.rsplit("@", 1)[-1]
    ident = "-".join(str(i) for i in scenario_ids) or hashlib.sha256(text.encode()).hexdigest()[:12]
    who = hashlib.sha256(requester.strip().lower().encode()).hexdigest()[:12]
    msg = build_message(subject=subject, sender=sender, sender_name=config.recipients.sender_name,
                        to_email=requester, to_name=None, html=html, text=text, images=images,
                        attachments=attachments, msg_id=f"<tkpk.simulasi.{simulation.period}.{ident}.{who}@{domain}>",
                        headers={"X-TKPK-Report": "simulasi"})
    own = client is None
    client = client or SmtpClient(smtp)
    try:
        client.deliver(as_bytes(msg), sender, requester)
    finally:
        if own:
            client.close()
    log.info("Laporan simulasi %s dikirim (daftar nama: %s)", simulation.period, "ya" if attachments else "tidak")
    return {"sent": 1, "by_name_attachment": bool(attachments), "map": bool(images)}


__all__ = ["by_name_workbook", "choropleth", "figures", "render", "requester_may_see_names", "send_comparison"]
