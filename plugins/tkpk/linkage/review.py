"""The steward's review queue as a spreadsheet: `tkpk review export` writes the uncertain pairs of a period (the
submitted row and the registry candidate side by side, with the evidence), `tkpk review import` reads the decisions
back.

A decision is stored in review_decision keyed by the registry person (id_art) and a fingerprint of the row's
normalised NIK, name and birth date; every later run (this period re-run, the next months) applies it before the
model: `match` links the row to that person, `non_match` keeps them apart. NIK and No KK are masked in the file
unless `--show-nik`; every cell is written as text (a value starting with = + - @ is never a formula).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from tkpk.normalize.nik import mask
from tkpk.period import Period
from tkpk.registry import snapshot_for_period
from tkpk.warehouse import audit, session_scope
from tkpk.warehouse.models import RegistryPerson, ReviewDecision, ReviewItem, StagedRow

log = logging.getLogger(__name__)

SHEET = "Tinjauan"
# The words the steward writes (the XLSX drop-down offers exactly these; the guide uses them too).
CHOICES = ("cocok", "tidak cocok", "lewati")
DECISIONS = {
    "cocok": "match", "tidak cocok": "non_match", "tidak_cocok": "non_match", "lewati": "skip", "": "skip",
    # files exported before the Indonesian drop-down
    "match": "match", "non_match": "non_match", "skip": "skip",
}
COLUMNS = [
    ("review_id", "ID Tinjauan"), ("period", "Periode"), ("opd_code", "OPD"), ("submission_type", "Jenis Data"),
    ("source_file", "Berkas"), ("row_number", "Baris"),
    ("row_nik", "NIK (Usulan)"), ("row_no_kk", "No KK (Usulan)"), ("row_nama", "Nama (Usulan)"),
    ("row_tanggal_lahir", "Tgl Lahir (Usulan)"), ("row_jenis_kelamin", "JK (Usulan)"),
    ("row_kode_kelurahan", "Kelurahan (Usulan)"),
    ("candidate_id_art", "ID ART (Registri)"), ("reg_nik", "NIK (Registri)"), ("reg_no_kk", "No KK (Registri)"),
    ("reg_nama", "Nama (Registri)"), ("reg_tanggal_lahir", "Tgl Lahir (Registri)"),
    ("reg_jenis_kelamin", "JK (Registri)"), ("reg_kode_kelurahan", "Kelurahan (Registri)"),
    ("reg_hubungan_keluarga", "Hubungan (Registri)"),
    ("match_probability", "Probabilitas"), ("evidence", "Bukti"),
    ("decision", "Keputusan"), ("note", "Catatan"), ("fingerprint", "Sidik Jari"),
]
HEADER = {k: v for k, v in COLUMNS}
INSTRUCTIONS = [
    "Petunjuk tinjauan pencocokan data",
    "",
    "Setiap baris: satu baris kiriman OPD (kolom Usulan) dan calon orang di registri DTKS/DTSEN (kolom Registri).",
    "Isi kolom Keputusan (pilih dari daftar): cocok = orang yang sama; tidak cocok = orang berbeda;",
    "lewati (atau kosong) = belum diputuskan. Kolom Catatan boleh diisi alasan singkat.",
    "Kolom Bukti menjelaskan kecocokan per kolom: exact = sama persis, typo = beda satu angka/huruf,",
    "swap = tanggal dan bulan tertukar, keluarga = NIK milik anggota keluarga lain, nama=0.96 = kemiripan nama.",
    "Jangan mengubah kolom ID Tinjauan, ID ART (Registri) dan Sidik Jari: baris yang kuncinya diubah ditolak.",
    "Keputusan berlaku untuk bulan ini (saat dijalankan ulang) dan bulan-bulan berikutnya.",
    "Impor kembali dengan: tkpk review import NAMA_BERKAS.xlsx --by NAMA_ANDA",
]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def count_open(database_url: str, period: str) -> int:
    from sqlalchemy import func

    with session_scope(database_url) as s:
        return int(s.scalar(select(func.count()).select_from(ReviewItem).where(
            ReviewItem.period == str(Period.parse(period)), ReviewItem.status == "open")) or 0)


def review_frame(database_url: str, period: str, *, offset: int = 0, limit: int | None = None) -> pd.DataFrame:
    """Open review items of the period with both records (unmasked: for the file writer, the TKPK view, tests);
    `offset`/`limit` give one page, in the same order as the file."""
    period = str(Period.parse(period))
    with session_scope(database_url) as s:
        snap = snapshot_for_period(s, period)
        items = s.execute(
            select(ReviewItem.review_id, ReviewItem.period, ReviewItem.row_id, ReviewItem.candidate_id_art,
                   ReviewItem.match_probability, ReviewItem.evidence, ReviewItem.fingerprint,
                   StagedRow.opd_code, StagedRow.submission_type, StagedRow.source_file, StagedRow.row_number,
                   StagedRow.nik, StagedRow.no_kk, StagedRow.nama, StagedRow.tanggal_lahir, StagedRow.jenis_kelamin,
                   StagedRow.kode_kelurahan)
            .join(StagedRow, StagedRow.row_id == ReviewItem.row_id)
            .where(ReviewItem.period == period, ReviewItem.status == "open")
            .order_by(ReviewItem.match_probability.desc(), ReviewItem.review_id)
            .offset(offset).limit(limit)).all()
        df = pd.DataFrame.from_records(items, columns=[
            "review_id", "period", "row_id", "candidate_id_art", "match_probability", "evidence", "fingerprint",
            "opd_code", "submission_type", "source_file", "row_number", "row_nik", "row_no_kk", "row_nama",
            "row_tanggal_lahir", "row_jenis_kelamin", "row_kode_kelurahan"])
        reg = pd.DataFrame(columns=["candidate_id_art"])
        if snap is not None and len(df):
            arts = sorted(set(df["candidate_id_art"]))
            found = []
            for i in range(0, len(arts), 1000):
                found.extend(s.execute(
                    select(RegistryPerson.id_art, RegistryPerson.nik, RegistryPerson.no_kk, RegistryPerson.nama,
                           RegistryPerson.tanggal_lahir, RegistryPerson.jenis_kelamin, RegistryPerson.kode_kelurahan,
                           RegistryPerson.hubungan_keluarga)
                    .where(RegistryPerson.snapshot_id == snap.snapshot_id,
                           RegistryPerson.id_art.in_(arts[i:i + 1000]))).all())
            reg = pd.DataFrame.from_records(found, columns=[
                "candidate_id_art", "reg_nik", "reg_no_kk", "reg_nama", "reg_tanggal_lahir", "reg_jenis_kelamin",
                "reg_kode_kelurahan", "reg_hubungan_keluarga"])
    df = df.merge(reg, on="candidate_id_art", how="left")
    df["decision"] = ""
    df["note"] = ""
    return df


def export_review(database_url: str, period: str, out: str | Path, *, show_nik: bool = False) -> int:
    """Write the open review items of `period` to an XLSX; returns how many."""
    import xlsxwriter

    df = review_frame(database_url, period)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(out), {"strings_to_formulas": False, "strings_to_urls": False})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    row_fmt = wb.add_format({"bg_color": "#FFF2CC"})
    reg_fmt = wb.add_format({"bg_color": "#E2EFDA"})
    pick = wb.add_format({"bg_color": "#FCE4D6", "locked": False})
    ws = wb.add_worksheet(SHEET)
    for j, (key, label) in enumerate(COLUMNS):
        ws.write_string(0, j, label, head)
        width = 34 if key in ("evidence", "row_nama", "reg_nama") else 16
        ws.set_column(j, j, width, row_fmt if key.startswith("row_") else reg_fmt if key.startswith("reg_") else None)
    for i, rec in enumerate(df.to_dict("records"), start=1):
        for j, (key, _label) in enumerate(COLUMNS):
            value = rec.get(key)
            if key in ("row_nik", "row_no_kk", "reg_nik", "reg_no_kk") and not show_nik and value:
                value = mask(value)
            if key == "match_probability" and value is not None:
                ws.write_number(i, j, round(float(value), 4))
            elif key == "decision":
                ws.write_string(i, j, "", pick)
            else:
                ws.write_string(i, j, _text(value))
    if len(df):
        col = [k for k, _ in COLUMNS].index("decision")
        ws.data_validation(1, col, len(df), col, {"validate": "list", "source": list(CHOICES),
                                                  "error_message": "Isi cocok, tidak cocok atau lewati."})
    ws.set_column(len(COLUMNS) - 1, len(COLUMNS) - 1, 44, None, {"hidden": True})
    ws.freeze_panes(1, 6)
    ws.autofilter(0, 0, max(len(df), 1), len(COLUMNS) - 1)
    info = wb.add_worksheet("Petunjuk")
    info.set_column(0, 0, 110)
    for i, line in enumerate(INSTRUCTIONS):
        info.write_string(i, 0, line)
    wb.close()
    log.info("review export %s: %d item", period, len(df))
    return int(len(df))


class ReviewFileError(ValueError):
    """The review file cannot be imported; the message says why, in Indonesian."""


def import_review(database_url: str, path: str | Path, *, actor: str) -> dict:
    """Store the decisions of a review file; returns counts {match, non_match, skipped, invalid} and `problems`,
    one (Excel row, reason in Indonesian) per invalid row. A row whose ID Tinjauan, ID ART or Sidik Jari no longer
    matches a review item of the warehouse (edited by hand) is refused, never stored."""
    path = Path(path)
    if not path.exists():
        raise ReviewFileError(f"Berkas {path} tidak ditemukan.")
    try:
        df = pd.read_excel(path, sheet_name=SHEET, dtype=str, engine="calamine").fillna("")
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same plain message
        raise ReviewFileError(f"Berkas {path.name} bukan berkas tinjauan (sheet '{SHEET}' tidak terbaca).") from exc
    need = [HEADER["candidate_id_art"], HEADER["fingerprint"], HEADER["decision"]]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ReviewFileError(f"Kolom tidak ditemukan di {path.name}: {', '.join(missing)}.")
    counts = {"match": 0, "non_match": 0, "skipped": 0, "invalid": 0}
    problems: list[tuple[int, str]] = []
    now = datetime.now(UTC)
    periods = set()
    with session_scope(database_url) as s:
        for i, rec in enumerate(df.to_dict("records")):
            excel_row = i + 2  # the header is row 1
            written = " ".join(str(rec.get(HEADER["decision"], "")).split())
            decision = DECISIONS.get(written.lower())
            art = str(rec.get(HEADER["candidate_id_art"], "")).strip()
            fp = str(rec.get(HEADER["fingerprint"], "")).strip()
            if decision is None:
                counts["invalid"] += 1
                problems.append((excel_row, f"keputusan '{written}' tidak dikenal; isi cocok, tidak cocok atau "
                                            "lewati"))
                continue
            if decision == "skip":
                counts["skipped"] += 1
                continue
            review_id = str(rec.get(HEADER["review_id"], "")).strip()
            item = s.get(ReviewItem, int(review_id)) if review_id.isdigit() else None
            if item is None or item.candidate_id_art != art or item.fingerprint != fp:
                counts["invalid"] += 1
                problems.append((excel_row, "ID Tinjauan, ID ART (Registri) atau Sidik Jari diubah atau tidak ada "
                                            "di antrean; keputusan tidak disimpan (ekspor ulang berkasnya)"))
                continue
            note = str(rec.get(HEADER["note"], "")).strip() or None
            periods |= _store_decision(s, art, fp, decision, actor, now, note)
            counts[decision] += 1
        audit(s, actor=actor, action="review_decision", period=min(periods) if len(periods) == 1 else None,
              file=path.name, **counts, invalid_rows=[r for r, _ in problems])
    return {**counts, "problems": problems}


def _store_decision(s, art: str, fp: str, decision: str, actor: str, now: datetime, note: str | None) -> set[str]:
    """One decision into review_decision (the latest wins) and its review items closed; returns their periods."""
    existing = s.scalar(select(ReviewDecision).where(ReviewDecision.id_art == art, ReviewDecision.fingerprint == fp))
    if existing is None:
        s.add(ReviewDecision(id_art=art, fingerprint=fp, decision=decision, decided_by=actor, decided_at=now,
                             note=note))
    else:
        existing.decision, existing.decided_by, existing.decided_at, existing.note = decision, actor, now, note
    periods = set()
    for item in s.scalars(select(ReviewItem).where(ReviewItem.fingerprint == fp, ReviewItem.candidate_id_art == art)):
        item.status = "decided"
        periods.add(item.period)
    return periods


def decide_item(database_url: str, review_id: int, decision: str, *, actor: str, note: str | None = None) -> str:
    """One decision from the TKPK view (cocok / tidak cocok / lewati), stored as `tkpk review import` stores it;
    returns the stored decision (`skip` stores nothing)."""
    decision = DECISIONS.get(str(decision).strip().lower())
    if decision is None:
        raise ValueError("Keputusan harus cocok, tidak_cocok atau lewati.")
    with session_scope(database_url) as s:
        item = s.get(ReviewItem, review_id)
        if item is None or item.status != "open":
            raise LookupError(f"Item tinjauan {review_id} tidak ada atau sudah diputuskan.")
        if decision == "skip":
            return decision
        _store_decision(s, item.candidate_id_art, item.fingerprint, decision, actor, datetime.now(UTC), note)
        audit(s, actor=actor, action="review_decision", period=item.period, review_id=review_id,
              **{decision: 1})
    return decision
