"""By-name lists to act on: the inclusion list (usul nonaktif), reasons in words, the empty kelurahan_verval columns
on every list, and the size estimated from the cell count before a workbook is written."""

from __future__ import annotations

from pathlib import Path

from .conftest import PERIOD

SQL_DIR = Path(__file__).resolve().parents[2] / "include" / "sql"
VERVAL = ["hasil_verifikasi", "tanggal_kunjungan", "petugas", "foto_rumah", "foto_lain", "catatan"]


def test_every_list_carries_verval_columns_inclusion_and_reasons_in_words(fresh, config):
    from tkpk.reports.figures import Scope, load_period_data
    from tkpk.reports.lists import estimated_bytes, pii_sheets, pii_workbook
    from tkpk.warehouse import get_engine

    with get_engine(fresh.database_url).connect() as conn:
        data = load_period_data(conn, SQL_DIR, PERIOD)
        sheets = pii_sheets(conn, SQL_DIR, data, config, Scope("kota"))
        by_name = {s.name: s for s in sheets}
        assert {"Kesalahan eksklusi", "Kesalahan inklusi"} <= set(by_name)
        # the lists to visit carry the empty field-check columns; the two lists that verval itself produced (usul
        # nonaktif, usulan DTSEN: visits already done, for SIKS-NG) carry the visit's result instead
        for sheet in (s for s in sheets if s.name not in ("Usul nonaktif", "Usulan DTSEN")):
            assert [c.key for c in sheet.columns][-6:] == VERVAL, sheet.name
            assert [c.header for c in sheet.columns][-6:] == VERVAL, sheet.name
            assert all(not row.get(k) for row in sheet.rows for k in VERVAL), sheet.name
        inclusion = by_name["Kesalahan inklusi"].rows
        # the fixture's inclusion errors: desil 5-7 households receiving PKH/BPNT, a household whose only member
        # died, and one PKH recipient Dinas Sosial reported who is not in the registry
        assert inclusion and all(r["reason_words"] for r in inclusion)
        assert any(r["reason_words"] == "Tidak ditemukan di registri (DTSEN)" and r["nama"] == "Penerima Tak Dikenal"
                   for r in inclusion)
        assert any(r["reason_words"] == "Tidak ada anggota keluarga yang masih aktif" for r in inclusion)
        exclusion = by_name["Kesalahan eksklusi"].rows
        assert any(r["reason"] == "desil_1;usia_18_64" and r["reason_words"] == "Desil 1; usia 18–64 tahun"
                   for r in exclusion)
        # too large by the estimate alone: the estimate comes back and no workbook is written
        estimate = estimated_bytes(sheets)
        cells = sum(len(s.rows) * len(s.columns) for s in sheets)
        assert estimate == 16_384 + 2_048 * len(sheets) + cells * 6
        assert pii_workbook(conn, SQL_DIR, data, config, Scope("kota"), "t", max_bytes=estimate - 1) == estimate
        blob = pii_workbook(conn, SQL_DIR, data, config, Scope("kota"), "t", max_bytes=estimate)
        assert isinstance(blob, bytes) and len(blob) <= estimate


def test_lists_need_only_the_snapshot_and_area_names(fresh, config):
    """Sending builds the lists on `lists_data` (no report figures): the same sheets as on the report's data."""
    from tkpk.reports.figures import Scope, load_period_data
    from tkpk.reports.lists import lists_data, pii_sheets
    from tkpk.warehouse import get_engine

    def shown(sheets):
        return [(s.name, s.title, s.note, [(c.key, c.header, c.kind) for c in s.columns], s.rows) for s in sheets]

    with get_engine(fresh.database_url).connect() as conn:
        full, light = load_period_data(conn, SQL_DIR, PERIOD), lists_data(conn, SQL_DIR, PERIOD)
        assert (light.period, light.snapshot_id) == (full.period, full.snapshot_id)
        for scope in (Scope("kota"), Scope("kecamatan", "15.71.01"), Scope("kelurahan", "15.71.01.1001")):
            sheets = pii_sheets(conn, SQL_DIR, full, config, scope)
            assert any(s.rows for s in sheets), scope
            assert shown(pii_sheets(conn, SQL_DIR, light, config, scope)) == shown(sheets), scope


def test_lists_fingerprint_follows_what_the_lists_show(fresh, config):
    """The REVISI fingerprint of the by-name lists (kept at build time instead of the lists): the same for the same
    warehouse, different when only a name on a list changes (the report figures do not), when the configuration
    the lists are written out with changes, and per scope."""
    import dataclasses

    from sqlalchemy import text

    from tkpk.reports.figures import Scope, load_period_data
    from tkpk.reports.lists import lists_hash, pii_sheets
    from tkpk.warehouse import get_engine

    engine = get_engine(fresh.database_url)
    with engine.connect() as conn:
        data = load_period_data(conn, SQL_DIR, PERIOD)
        kota = lists_hash(conn, SQL_DIR, data, config, Scope("kota"))
        assert lists_hash(conn, SQL_DIR, data, config, Scope("kota")) == kota
        kel = Scope("kelurahan", "15.71.01.1001")
        assert lists_hash(conn, SQL_DIR, data, config, kel) != kota
        other_config = dataclasses.replace(config, version="lain")
        assert lists_hash(conn, SQL_DIR, data, other_config, Scope("kota")) != kota
        # one person named on the exclusion list gets a corrected name in the registry
        row = next(r for r in next(s for s in pii_sheets(conn, SQL_DIR, data, config, Scope("kota"))
                                   if s.name == "Kesalahan eksklusi").rows if r["nik"])
    with engine.begin() as conn:
        changed = conn.execute(text("UPDATE registry_person SET nama = :nama WHERE nik = :nik AND snapshot_id = :s"),
                               {"nama": row["nama"] + " (ejaan baru)", "nik": row["nik"], "s": data.snapshot_id})
        assert changed.rowcount >= 1
    with engine.connect() as conn:
        assert lists_hash(conn, SQL_DIR, data, config, Scope("kota")) != kota


def test_records_are_plain_python_values():
    """What the lists hash and write: None for every kind of missing value, ISO text for dates, Python numbers."""
    from datetime import date, datetime

    import numpy as np
    import pandas as pd

    from tkpk.reports.lists import _records

    frame = pd.DataFrame({
        "nama": ["Siti", None, "Budi"], "desil": pd.array([1, None, 3], dtype="Int64"), "rp": [1.5, np.nan, 2.0],
        "n": np.array([1, 2, 3], dtype="int64"), "aktif": [True, False, True],
        "lahir": [date(1980, 5, 15), None, "1990-01-02"], "waktu": pd.to_datetime(["2026-01-01", None, "2026-03-04"]),
        "campur": [datetime(2026, 1, 1, 5), 7, None],
    })
    rows = _records(frame)
    assert rows == [
        {"nama": "Siti", "desil": 1, "rp": 1.5, "n": 1, "aktif": True, "lahir": "1980-05-15",
         "waktu": "2026-01-01T00:00:00", "campur": "2026-01-01T05:00:00"},
        {"nama": None, "desil": None, "rp": None, "n": 2, "aktif": False, "lahir": None, "waktu": None, "campur": 7},
        {"nama": "Budi", "desil": 3, "rp": 2.0, "n": 3, "aktif": True, "lahir": "1990-01-02",
         "waktu": "2026-03-04T00:00:00", "campur": None},
    ]
    assert [type(v) for v in rows[0].values()] == [str, int, float, int, bool, str, str, str]
    assert _records(frame.iloc[0:0]) == []


def test_repeated_queries_run_once_within_reuse_results(fresh, monkeypatch):
    from tkpk.reports import sql
    from tkpk.warehouse import get_engine

    runs = []
    real_run = sql._run
    monkeypatch.setattr(sql, "_run", lambda conn, sql_dir, name, params: runs.append(name) or real_run(
        conn, sql_dir, name, params))
    engine = get_engine(fresh.database_url)
    with engine.connect() as conn, engine.connect() as other:
        with sql.reuse_results(conn):
            first = sql.query(conn, SQL_DIR, "report_areas")
            first["kelurahan"] = "diubah"  # a caller changing its result does not change the next caller's
            again = sql.query(conn, SQL_DIR, "report_areas")
            assert runs == ["report_areas"] and "diubah" not in set(again["kelurahan"])
            sql.query(conn, SQL_DIR, "report_review", period=PERIOD)
            sql.query(conn, SQL_DIR, "report_review", period="2026-09")  # other parameters: another query
            sql.query(other, SQL_DIR, "report_areas")  # another connection is not served from this one
            assert runs == ["report_areas", "report_review", "report_review", "report_areas"]
        sql.query(conn, SQL_DIR, "report_areas")  # after the block every query runs
        assert runs[-1] == "report_areas" and len(runs) == 5


def test_reason_codes_in_words():
    from tkpk.reports.reasons import reason_words

    assert reason_words("desil_2;usia_6_21;sekolah_sma") == "Desil 2; usia 6–21 tahun; bersekolah di SMA"
    assert reason_words("pkh_aktif;desil_di_luar_1_4;tidak_ada_komponen") == (
        "Tercatat aktif sebagai penerima PKH; desil di luar 1–4; tidak ada anggota yang memenuhi komponen PKH")
    assert reason_words("desil_1;komponen:anak_sd;komponen:anak_sd") == "Desil 1; komponen anak SD (2 orang)"
    assert reason_words("kuota_penuh") == "Kuota penuh (daftar tunggu)"
    assert reason_words("usia_60_ke_atas") == "Usia 60 tahun ke atas"
    assert reason_words("kode_baru_x") == "Kode_baru_x"  # unknown codes are kept, never dropped
    assert reason_words(None) == ""
