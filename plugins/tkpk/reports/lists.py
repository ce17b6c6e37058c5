"""By-name follow-up lists (PERSONAL DATA): kesalahan eksklusi, kesalahan inklusi (input for usul nonaktif in
SIKS-NG), the BPJS Ketenagakerjaan quota list, PKH graduation candidates and kelurahan proposals, for one report scope.
Reasons are written out in words; every list ends with the empty field-check columns of the `kelurahan_verval`
submission type (VERVAL_COLUMNS), so a list filled in the field and sent back loads as that type.

Only recipients with `pii: true` in recipients.yaml receive them, only as an XLSX attachment, never in a body. They
are built from the warehouse when a message is sent and are not saved under var/reports (the warehouse and the raw
archive are the only places full NIKs live); at build time only a fingerprint of them is kept (`lists_hash`), so a
change in a list makes the report a REVISI for the authorised recipients.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from tkpk.period import Period
from tkpk.reports.figures import (
    BPJS_PROGRAM,
    GRADUATION_PROGRAM,
    PROPOSAL_TYPE,
    PeriodData,
    Scope,
    content_hash,
)
from tkpk.reports.reasons import reason_words
from tkpk.reports.xlsx import Column, Sheet, write_workbook

# named exactly like the columns of the kelurahan_verval submission type (issue #16)
VERVAL_COLUMNS = ("hasil_verifikasi", "tanggal_kunjungan", "petugas", "foto_rumah", "foto_lain", "catatan")
# measured: xlsxwriter output of a by-name sheet (NIKs, names, addresses, empty verval columns) is ~4.4 bytes per
# cell; 6 errs on the large side, so a list is judged too large before the workbook is written (province: 5.5 M
# cells, 30 s of writing for nothing). Near the limit the exact size is still checked after writing.
BYTES_PER_CELL = 6
BYTES_BASE, BYTES_PER_SHEET = 16_384, 2_048  # styles, document properties, one sheet's XML skeleton

MATCH_LABELS = {
    "new": "Baru (belum ada di registri)",
    "duplicate": "Duplikat (sudah terdaftar)",
    "linked": "Cocok dengan registri",
    "review": "Menunggu verifikasi",
    "belum_dicocokkan": "Belum dicocokkan",
}


def _names(frame: pd.DataFrame, data: PeriodData, config) -> pd.DataFrame:
    """Add kelurahan, kecamatan and program names (vectorised lookups)."""
    if frame.empty:
        return frame
    kel = dict(zip(data.areas["kode_kelurahan"], data.areas["kelurahan"], strict=False))
    kec = dict(zip(data.areas["kode_kecamatan"], data.areas["kecamatan"], strict=False))
    frame = frame.copy()
    if "kode_kelurahan" in frame:
        frame["kelurahan"] = frame["kode_kelurahan"].map(kel).fillna(frame["kode_kelurahan"])
    if "kode_kecamatan" in frame:
        frame["kecamatan"] = frame["kode_kecamatan"].map(kec).fillna(frame["kode_kecamatan"])
    if "program" in frame:
        names = {p.code: p.name for p in config.programs.programs}
        frame["program_name"] = frame["program"].map(names).fillna(frame["program"])
    return frame


def _reason_words(codes: pd.Series) -> list[str]:
    """`reason_words` of each value, worked out once per distinct value (a few hundred among 100,000 rows)."""
    words = {code: reason_words(code) for code in set(codes.tolist()) if isinstance(code, str)}
    return [words[code] if isinstance(code, str) else reason_words(code) for code in codes.tolist()]


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as plain dicts of Python values: missing values None, dates and times as ISO text."""
    keys = list(frame.columns)
    columns = []
    for key in keys:
        values = frame[key]
        missing = values.isna().to_numpy()
        plain = values.astype(object).tolist()  # Python ints, floats, str, bool, Timestamps, dates
        if isinstance(values.dtype, pd.StringDtype) or values.dtype.kind in "biuf":
            columns.append([None if m else v for v, m in zip(plain, missing, strict=True)])
        else:  # object columns may hold dates (PostgreSQL), datetime64 columns Timestamps
            columns.append([None if m else v.isoformat() if hasattr(v, "isoformat") else v
                            for v, m in zip(plain, missing, strict=True)])
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]


def lists_data(conn, sql_dir: Path, period: Period | str) -> PeriodData:
    """What the lists need of a period (its registry snapshot and the area names) without the report figures, which
    `load_period_data` computes with a dozen queries: for sending, where the figures are already in the manifest."""
    from sqlalchemy.orm import Session

    from tkpk.registry import snapshot_for_period
    from tkpk.reports.sql import prepare, query

    period = Period.parse(period) if isinstance(period, str) else period
    prepare(conn)
    with Session(bind=conn) as session:
        snap = snapshot_for_period(session, period)
    empty = pd.DataFrame()
    return PeriodData(period=period, snapshot_id=snap.snapshot_id if snap else None,
                      snapshot_date=snap.snapshot_date if snap else None, areas=query(conn, sql_dir, "report_areas"),
                      registry=empty, eligibility=empty, targeting=empty, coverage=empty, changes=empty,
                      proposals=empty, review=empty, submissions=empty, expected=empty)


def _queries(conn, sql_dir: Path, data: PeriodData, scope: Scope) -> dict[str, pd.DataFrame]:
    """The by-name lists of one scope as the warehouse gives them (before names and words are added)."""
    from tkpk.reports.sql import prepare, query

    prepare(conn)
    params = dict(
        period=str(data.period),
        snapshot_id=data.snapshot_id or -1,
        kecamatan=scope.code if scope.kind == "kecamatan" else "",
        kelurahan=scope.code if scope.kind == "kelurahan" else "",
    )
    proposal_params = {k: v for k, v in params.items() if k != "snapshot_id"}
    return {
        "exclusion": query(conn, sql_dir, "list_exclusion", **params),
        "bpjs": query(conn, sql_dir, "list_bpjs_tk", program=BPJS_PROGRAM, **params),
        "graduation": query(conn, sql_dir, "list_graduation", program=GRADUATION_PROGRAM, **params),
        "proposals": query(conn, sql_dir, "list_proposals", proposal_type=PROPOSAL_TYPE, **proposal_params),
        "inclusion": query(conn, sql_dir, "list_inclusion", **params),
    }


def pii_sheets(conn, sql_dir: Path, data: PeriodData, config, scope: Scope) -> list[Sheet]:
    """The by-name sheets for one scope (empty sheets included, so the recipient sees 'tidak ada data')."""
    raw = _queries(conn, sql_dir, data, scope)
    exclusion, bpjs, graduation, proposals, inclusion = (
        _names(raw[key], data, config) for key in ("exclusion", "bpjs", "graduation", "proposals", "inclusion"))
    for frame, column in ((exclusion, "reason"), (inclusion, "reason"), (bpjs, "reasons"), (graduation, "reasons")):
        if not frame.empty:
            frame["reason_words"] = _reason_words(frame[column])
    if not bpjs.empty:
        eligible = bpjs["eligible"].astype(bool)
        bpjs["quota_status"] = eligible.map({True: "Dalam kuota", False: "Daftar tunggu"})
        bpjs["enrolled_label"] = bpjs["enrolled"].astype(int).map({1: "Ya", 0: "Belum"})
    if not proposals.empty:
        proposals["match_label"] = proposals["match_status"].map(MATCH_LABELS).fillna(proposals["match_status"])
    note = "RAHASIA - berisi data pribadi (UU 27/2022). Hanya untuk tindak lanjut dinas; jangan diteruskan."
    return (_base_sheets(exclusion, inclusion, bpjs, graduation, proposals, note)
            + _verval_sheets(conn, sql_dir, data, config, scope))


def lists_hash(conn, sql_dir: Path, data: PeriodData, config, scope: Scope) -> str:
    """A fingerprint of what `pii_sheets` shows, for the REVISI check of authorised recipients: the lists' rows as
    the warehouse gives them, the area names and the configuration they are written out with (`config.version`),
    and the verification sheets. The sheets themselves are a function of these; building them only to hash them
    cost 15 s of a province build (the city's exclusion list has 450,000 rows)."""
    raw = _queries(conn, sql_dir, data, scope)
    parts = {key: frame_digest(frame) for key, frame in raw.items()}
    parts["areas"] = frame_digest(data.areas)
    parts["config"] = config.version
    parts["verval"] = sheets_hash(_verval_sheets(conn, sql_dir, data, config, scope))
    return content_hash(parts)


def frame_digest(frame: pd.DataFrame) -> str:
    """sha256 of a frame's column names and values, row by row in order (pandas' per-row hashes, vectorised)."""
    digest = hashlib.sha256("\x1f".join(map(str, frame.columns)).encode("utf-8"))
    if len(frame):
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _verval_sheets(conn, sql_dir: Path, data: PeriodData, config, scope: Scope) -> list[Sheet]:
    """Usul nonaktif and usulan DTSEN from field verification, for the kelurahan and city reports (tkpk.verval)."""
    if scope.kind not in ("kota", "kelurahan"):
        return []
    from tkpk.verval.lists import verval_lists

    return verval_lists(conn, sql_dir, data, config, scope, _names)


def _base_sheets(exclusion, inclusion, bpjs, graduation, proposals, note: str) -> list[Sheet]:
    return [
        Sheet("Kesalahan eksklusi", "Layak tetapi belum menerima bantuan (kesalahan eksklusi)", [
            Column("program_name", "Program"), Column("kecamatan", "Kecamatan"), Column("kelurahan", "Kelurahan"),
            Column("nama", "Nama (kepala keluarga untuk program keluarga)"), Column("nik", "NIK", "nik"),
            Column("no_kk", "No KK", "nik"), Column("desil", "Desil", "int"), Column("alamat", "Alamat"),
            Column("rt", "RT"), Column("rw", "RW"), Column("rupiah", "Nilai bantuan per tahun", "rupiah"),
            Column("reason_words", "Alasan layak"), *_verval(),
        ], _records(exclusion), note=note),
        Sheet("Kesalahan inklusi", "Menerima tetapi tidak layak (kesalahan inklusi): bahan usul nonaktif SIKS-NG", [
            Column("program_name", "Program"), Column("kecamatan", "Kecamatan"), Column("kelurahan", "Kelurahan"),
            Column("nama", "Nama (kepala keluarga untuk program keluarga)"), Column("nik", "NIK", "nik"),
            Column("no_kk", "No KK", "nik"), Column("desil", "Desil", "int"), Column("alamat", "Alamat"),
            Column("rt", "RT"), Column("rw", "RW"), Column("rupiah", "Nilai bantuan per tahun", "rupiah"),
            Column("reason_words", "Alasan tidak layak"), *_verval(),
        ], _records(inclusion), note=note),
        Sheet("Kuota BPJS TK", "Kuota BPJS Ketenagakerjaan pekerja informal: urutan rekomendasi per kelurahan", [
            Column("kecamatan", "Kecamatan"), Column("kelurahan", "Kelurahan"), Column("quota_rank", "Peringkat", "int"),
            Column("quota_status", "Status kuota"), Column("enrolled_label", "Sudah terdaftar"),
            Column("nama", "Nama"), Column("nik", "NIK", "nik"), Column("jenis_kelamin", "L/P"),
            Column("tanggal_lahir", "Tanggal lahir", "date"), Column("no_kk", "No KK", "nik"),
            Column("desil", "Desil", "int"), Column("reason_words", "Alasan"), *_verval(),
        ], _records(bpjs), note=note),
        Sheet("Kandidat graduasi", "Kandidat graduasi PKH (perlu diverifikasi)", [
            Column("kecamatan", "Kecamatan"), Column("kelurahan", "Kelurahan"), Column("nama", "Kepala keluarga"),
            Column("nik", "NIK", "nik"), Column("no_kk", "No KK", "nik"), Column("desil", "Desil", "int"),
            Column("alamat", "Alamat"), Column("rt", "RT"), Column("rw", "RW"), Column("reason_words", "Alasan"),
            *_verval(),
        ], _records(graduation), note=note),
        Sheet("Usulan kelurahan", "Usulan keluarga baru dari kelurahan dan hasil pencocokan dengan registri", [
            Column("kelurahan", "Kelurahan"), Column("no_kk", "No KK", "nik"), Column("nama", "Nama"),
            Column("nik", "NIK", "nik"), Column("jenis_kelamin", "L/P"), Column("tanggal_lahir", "Tanggal lahir", "date"),
            Column("match_label", "Hasil pencocokan"), Column("source_file", "Berkas"),
            Column("excel_row", "Baris Excel", "int"), *_verval(),
        ], _records(proposals), note=note),
    ]


def _verval() -> list[Column]:
    """The empty field-check columns, headed by their exact kelurahan_verval names."""
    return [Column(name, name) for name in VERVAL_COLUMNS]


def estimated_bytes(sheets: list[Sheet]) -> int:
    """The workbook's size estimated from its cell count, before writing it."""
    cells = sum(len(s.rows) * len(s.columns) for s in sheets)
    return BYTES_BASE + BYTES_PER_SHEET * len(sheets) + cells * BYTES_PER_CELL


def sheets_hash(sheets: list[Sheet]) -> str:
    return content_hash([{"name": s.name, "rows": s.rows} for s in sheets])


def pii_workbook(conn, sql_dir: Path, data: PeriodData, config, scope: Scope, title: str,
                 max_bytes: int | None = None) -> bytes | int:
    """XLSX bytes with full NIK/No KK (the lists' fingerprint is `build_reports`' business: `lists_hash`); or, when the
    estimated size already exceeds `max_bytes`, that estimate (int) and no workbook."""
    sheets = pii_sheets(conn, sql_dir, data, config, scope)
    estimate = estimated_bytes(sheets)
    if max_bytes is not None and estimate > max_bytes:
        return estimate
    return write_workbook(sheets, pii=True, title=title)
