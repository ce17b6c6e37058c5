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
