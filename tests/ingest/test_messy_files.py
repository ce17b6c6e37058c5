"""Acceptance: hand-made messy OPD files (tests/ingest/files/, made by make_files.py, not by the synthetic generator)
run through `tkpk validate --json`, with the decision, row numbers, columns and normalised values DESIGN.md
section 5 asks for."""

from __future__ import annotations

import pytest

from tests.ingest.conftest import PERIOD

# file, type, status, {(row, column, check, severity)} expected exactly (row None = file level)
CASES = [
    ("disnaker_bpjstk_oktober.xlsx", "disnaker_bpjstk", "accepted", 10, 6, {
        (9, "nik", "nik_panjang_salah", "error"),
        (11, "tanggal_lahir", "tanggal_masa_depan", "error"),
        (12, "kode_kelurahan", "kelurahan_tidak_dikenal", "error"),
        (17, None, "baris_ganda", "error"),
        (13, "tanggal_lahir", "usia_tidak_wajar", "warning"),
        (14, "nik", "nik_luar_kota_jambi", "warning"),
        (15, "tanggal_lahir", "nik_beda_tanggal_lahir", "warning"),
        (16, "jenis_kelamin", "nik_beda_jenis_kelamin", "warning"),
    }),
    ("dinsos_kpm_oktober.csv", "dinsos_kpm", "accepted", 6, 3, {
        (7, "no_kk", "kk_notasi_ilmiah", "error"),
        (8, "program", "nilai_tidak_dikenal", "error"),
        (9, "nik_pengurus", "nik_placeholder", "error"),
    }),
    ("disdik_siswa_tab.csv", "disdik_siswa", "accepted", 4, 3, {
        (4, "jenjang", "nilai_tidak_dikenal", "error"),
        (5, "tanggal_lahir", "usia_tidak_wajar", "warning"),
    }),
    ("perkim_rumah.ods", "perkim_rumah", "accepted", 3, 2, {
        (6, "tahun_anggaran", "di_atas_maksimum", "error"),
    }),
    ("pertanian_bibit.xls", "pertanian_bibit", "accepted", 5, 3, {
        (3, "jumlah", "di_bawah_minimum", "error"),
        (4, "jenis_bibit", "nilai_tidak_dikenal", "error"),
        (4, "jumlah", "bukan_bilangan_bulat", "error"),
    }),
    ("koperasi_pemberdayaan_multisheet.xlsx", "koperasi_pemberdayaan", "accepted", 2, 2, set()),
    ("dinkes_ibu_hamil.xlsx", "dinkes_ibu_hamil", "accepted", 6, 3, {
        (2, "nik", "nik_kosong_diterima", "warning"),
        (3, "nik", "wajib_diisi", "error"),
        (3, "kode_kelurahan", "wajib_diisi", "error"),
        (4, "usia_kehamilan_minggu", "di_atas_maksimum", "error"),
        (5, "hpl", "tanggal_terlalu_jauh", "error"),
    }),
    ("kelurahan_usulan.csv", "kelurahan_usulan", "accepted", 5, 4, {
        (4, "nik", "nik_kosong_diterima", "warning"),
        (5, "nik", "nik_kosong_diterima", "warning"),
        (5, None, "baris_ganda", "error"),
    }),
    ("disnaker_kolom_hilang.xlsx", "disnaker_bpjstk", "rejected", 2, 0, {
        (None, "nama", "kolom_wajib_tidak_ada", "critical"),
        (None, "tanggal_lahir", "kolom_wajib_tidak_ada", "critical"),
    }),
    ("disdukcapil_mutasi_banyak_salah.csv", "disdukcapil_mutasi", "rejected", 4, 0, {
        (None, None, "terlalu_banyak_baris_salah", "critical"),
        (3, "nik", "nik_panjang_salah", "error"),
        (4, "jenis_mutasi", "nilai_tidak_dikenal", "error"),
        (5, "tanggal_peristiwa", "tanggal_tidak_terbaca", "error"),
    }),
    ("pertanian_hanya_judul.xlsx", "pertanian_bibit", "rejected", 0, 0, {
        (None, None, "tidak_ada_baris_data", "critical"),
    }),
    ("kosong.csv", "pertanian_bibit", "rejected", 0, 0, {(None, None, "berkas_kosong", "critical")}),
    ("laporan_sebenarnya_pdf.xlsx", "pertanian_bibit", "rejected", 0, 0,
     {(None, None, "bukan_spreadsheet", "critical")}),
    ("catatan_sebenarnya_teks.xlsx", "pertanian_bibit", "rejected", 0, 0,
     {(None, None, "bukan_spreadsheet", "critical")}),
    ("pertanian_terkunci.xlsx", "pertanian_bibit", "rejected", 0, 0, {(None, None, "berkas_terkunci", "critical")}),
]


@pytest.mark.parametrize("name,type_code,status,total,valid,expected", CASES, ids=[c[0] for c in CASES])
def test_validate_json_decides_as_design_says(cli, files_dir, name, type_code, status, total, valid, expected):
    code, _out, err, data = cli("validate", str(files_dir / name), "--type", type_code, "--period", PERIOD, "--json")
    assert data is not None, err
    assert code == (0 if status == "accepted" else 2)
    assert data["status"] == status
    assert (data["rows_total"], data["rows_valid"]) == (total, valid)
    got = {(i["row"], i["column"], i["check"], i["severity"]) for i in data["issues"]}
    assert got == expected
    for issue in data["issues"]:
        assert issue["message"].strip() and not issue["message"][0].islower()
        if issue["severity"] == "critical":
            assert issue["row"] is None
    if status == "rejected":
        assert data["records"] == []
    else:
        assert len(data["records"]) == valid


def _by_row(data):
    return {r["row"]: r for r in data["records"]}


def test_disnaker_xlsx_normalises_numbers_dates_amounts_and_kelurahan(cli, files_dir):
    _code, _out, _err, data = cli("validate", str(files_dir / "disnaker_bpjstk_oktober.xlsx"), "--type",
                                  "disnaker_bpjstk", "--period", PERIOD, "--json")
    rows = _by_row(data)
    # Title rows, the "(1) (2) ..." row, a blank row, JUMLAH and the signature block are not data rows.
    assert sorted(rows) == [7, 8, 13, 14, 15, 16]
    assert rows[7] == {
        "row": 7, "nik": "1571014505900003", "nama": "Siti Aminah", "tanggal_lahir": "1990-05-05",
        "jenis_kelamin": "P", "kode_kelurahan": "15.71.01.1001", "pekerjaan": "Pedagang",
        "tanggal_mulai": "2026-10-01", "iuran_bulanan": 16800,
    }
    assert rows[8]["tanggal_lahir"] == "1985-01-01"  # "1 Januari 1985"
    assert rows[8]["kode_kelurahan"] == "15.71.01.1002"  # "15.71.01.1002"
    issues = {(i["row"], i["check"]): i for i in data["issues"]}
    assert issues[(9, "nik_panjang_salah")]["value"] == "157101010185000"
    assert issues[(9, "nik_panjang_salah")]["sheet"] == "BPJS TK"
    assert "15 digit" in issues[(9, "nik_panjang_salah")]["message"]
    assert issues[(11, "tanggal_masa_depan")]["value"] == "01/07/2030"
    assert "31 Oktober 2026" in issues[(11, "tanggal_masa_depan")]["message"]
    assert "baris 8" in issues[(17, "baris_ganda")]["message"]
    assert "2 Februari 1990" in issues[(15, "nik_beda_tanggal_lahir")]["message"]
    assert "75 tahun" in issues[(13, "usia_tidak_wajar")]["message"]


def test_dinsos_cp1252_semicolon_csv(cli, files_dir):
    _code, _out, _err, data = cli("validate", str(files_dir / "dinsos_kpm_oktober.csv"), "--type", "dinsos_kpm",
                                  "--period", PERIOD, "--json")
    rows = _by_row(data)
    assert rows[6]["nama_pengurus"] == "René Café"  # Windows-1252 decoded
    assert rows[5]["nominal"] == 3_000_000 and rows[6]["nominal"] == 2_400_000 and rows[10]["nominal"] == 504_000
    assert rows[5]["kode_kelurahan"] == "15.71.01.1001"  # SIMPANG IV SIPIN
    assert rows[10]["kode_kelurahan"] == "15.71.10.1001"  # Sungai Putri
    assert (rows[6]["program"], rows[10]["program"]) == ("BPNT", "PBI_JK")
    assert rows[5]["status_kepesertaan"] == "aktif"
    sci = next(i for i in data["issues"] if i["check"] == "kk_notasi_ilmiah")
    assert sci["value"] == "1,57101E+15" and "notasi ilmiah" in sci["message"]


def test_formula_like_text_is_kept_as_text(cli, files_dir):
    _code, _out, _err, data = cli("validate", str(files_dir / "kelurahan_usulan.csv"), "--type", "kelurahan_usulan",
                                  "--period", PERIOD, "--json")
    rows = _by_row(data)
    assert rows[2]["alasan_usulan"] == '=HYPERLINK("http://contoh.example")'
    assert rows[3]["alasan_usulan"] == "+62 812 rumah rusak"
    assert rows[4]["alasan_usulan"] == "@anak putus sekolah"
    assert rows[6]["alasan_usulan"] == "-kehilangan pekerjaan"
    assert rows[4]["nik"] is None  # tolerated missing NIK: loaded with a warning
    assert (rows[2]["rt"], rows[6]["rt"], rows[6]["rw"]) == ("003", "003", "002")
    assert rows[2]["hubungan_keluarga"] == "kepala_keluarga"


def test_tab_separated_utf8_bom_and_excel_text_trick(cli, files_dir):
    _code, _out, _err, data = cli("validate", str(files_dir / "disdik_siswa_tab.csv"), "--type", "disdik_siswa",
                                  "--period", PERIOD, "--json")
    rows = _by_row(data)
    assert rows[2]["nik"] == "1571011508150001"  # ="1571..." in the CSV
    assert (rows[2]["jenis_kelamin"], rows[3]["jenis_kelamin"]) == ("L", "P")
    assert (rows[2]["penerima_pip"], rows[3]["penerima_pip"]) == ("Y", "N")  # "Ya"; empty -> default N
    assert rows[3]["jenjang"] == "SMP"


def test_workbook_with_several_sheets_reads_the_data_sheet_only(files_dir):
    from tkpk.ingest import validate_file

    result = validate_file(files_dir / "koperasi_pemberdayaan_multisheet.xlsx", "koperasi_pemberdayaan", PERIOD)
    assert result.accepted
    assert set(result.records["_sheet"]) == {"Data"}  # not Petunjuk, Rekap, nor the hidden "Lama"
    assert list(result.records["_row"]) == [2, 3]
    assert list(result.records["jenis_kegiatan"]) == ["PELATIHAN", "BANTUAN_USAHA"]
    assert str(result.records["tanggal_kegiatan"].iloc[1].date()) == "2026-10-14"


def test_missing_required_columns_one_critical_each_and_no_row_noise(files_dir):
    from tkpk.ingest import validate_file

    result = validate_file(files_dir / "disnaker_kolom_hilang.xlsx", "disnaker_bpjstk", PERIOD)
    assert not result.accepted
    assert [(f.column, f.severity) for f in result.issues] == [("nama", "critical"), ("tanggal_lahir", "critical")]
    assert "Nama Lengkap" in result.issues[0].message  # tells the officer which headers are recognised


def test_encrypted_workbook_message_says_password(files_dir):
    from tkpk.ingest import validate_file

    result = validate_file(files_dir / "pertanian_terkunci.xlsx", "pertanian_bibit", PERIOD)
    assert result.issues[0].check == "berkas_terkunci"
    assert "kata sandi" in result.issues[0].message


def test_a_sheet_without_any_known_header_names_each_missing_column(tmp_path):
    from tkpk.ingest import validate_file

    path = tmp_path / "bibit.csv"
    path.write_text("Kolom A;Kolom B\n1;2\n", encoding="utf-8")
    result = validate_file(path, "pertanian_bibit", PERIOD)
    assert [(f.check, f.column) for f in result.issues] == [
        ("kolom_wajib_tidak_ada", c) for c in ("nik", "nama", "kode_kelurahan", "jenis_bibit", "jumlah")]


def test_sheet_cells_are_read_as_calamine_lays_them_out(tmp_path):
    """The reader fills one array row by row from `iter_rows` (no list per row kept alive); it must hold exactly
    what `to_python(skip_empty_area=False)` returns, also for a table that starts at C5 and an empty sheet."""
    import datetime

    import numpy as np
    import python_calamine as pc
    import xlsxwriter

    from tkpk.ingest.read import _sheet_grid

    path = tmp_path / "offset.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Data")
    ws.write_string(4, 2, "NIK")
    ws.write_number(6, 3, 5)
    ws.write_datetime(7, 2, datetime.datetime(2020, 1, 2), wb.add_format({"num_format": "dd/mm/yyyy"}))
    ws.write_boolean(8, 4, True)
    wb.add_worksheet("Kosong")
    wb.close()
    book = pc.CalamineWorkbook.from_path(str(path))
    for name in ("Data", "Kosong"):
        sheet = book.get_sheet_by_name(name)
        expected = sheet.to_python(skip_empty_area=False)
        grid = _sheet_grid(sheet)
        assert grid.shape == (len(expected), len(expected[0]) if expected else 0)
        assert grid.tolist() == expected
        assert all(type(a) is type(b) for a, b in zip(np.ravel(grid), sum(expected, []), strict=True))
