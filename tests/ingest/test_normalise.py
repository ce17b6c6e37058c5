"""Reading and normalising: header detection, encodings and delimiters, Excel row numbers, NIK/KK, Indonesian dates
and amounts, kelurahan by code or name, exact repeats."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from tests.ingest.conftest import PERIOD

E = date(2026, 10, 31)


@pytest.mark.parametrize("raw,expected,problem", [
    ("1571014505900003", "1571014505900003", None),
    ("1571 0145 0590 0003", "1571014505900003", None),
    ("'1571014505900003", "1571014505900003", None),
    ('="1571014505900003"', "1571014505900003", None),
    ("1571014505900003.0", "1571014505900003", None),
    ("1.57101E+15", None, "notasi_ilmiah"),
    ("1,57101E+15", None, "notasi_ilmiah"),
    ("15710145059", None, "panjang_salah"),
    ("15710145O5900003", None, "bukan_angka"),
    ("0000000000000000", None, "placeholder"),
    ("1571014505900000", None, "placeholder"),
    ("9971014505900003", None, "kode_wilayah_salah"),
    ("1571019913900003", None, "tanggal_salah"),
    ("1571017102900003", None, "tanggal_salah"),  # 31 + 40 in February
    ("", None, "kosong"),
    ("-", None, "kosong"),
])
def test_nik_series(raw, expected, problem):
    from tkpk.ingest.normalise import nik_series

    values, problems = nik_series(pd.Series([raw], dtype="str"))
    assert (None if pd.isna(values.iloc[0]) else values.iloc[0]) == expected
    assert problems[0] == problem


def test_nik_typed_as_a_number_in_a_cell_keeps_all_16_digits():
    from tkpk.ingest.normalise import display_series, nik_series

    shown = display_series(pd.Series([1571014505900003.0, 1571010101850002], dtype=object))
    values, problems = nik_series(shown)
    assert list(values) == ["1571014505900003", "1571010101850002"]
    assert list(problems) == [None, None]


def test_no_kk_does_not_need_a_birth_date():
    from tkpk.ingest.normalise import nik_series

    _values, problems = nik_series(pd.Series(["1571019913900003"], dtype="str"), kind="kk")
    assert problems[0] is None


def test_decode_nik_chooses_the_century_by_e_and_reads_sex():
    from tkpk.ingest.normalise import decode_nik_series

    info = decode_nik_series(pd.Series(["1571014101250001", "1571010101300002", "1171012902000003", None],
                                       dtype="str"), E)
    born = [None if pd.isna(v) else v.date() for v in info["birth"]]
    assert born == [date(2025, 1, 1), date(1930, 1, 1), date(2000, 2, 29), None]
    assert list(info["sex"][:3]) == ["P", "L", "L"]
    assert list(info["kota_jambi"][:3]) == [True, True, False]


@pytest.mark.parametrize("raw,expected,problem", [
    ("01/10/2026", date(2026, 10, 1), None),
    ("1/10/2026", date(2026, 10, 1), None),
    ("01-10-2026", date(2026, 10, 1), None),
    ("1 Oktober 2026", date(2026, 10, 1), None),
    ("1 Okt 2026", date(2026, 10, 1), None),
    ("2026-10-01", date(2026, 10, 1), None),
    (datetime(2026, 10, 1), date(2026, 10, 1), None),
    (date(2026, 10, 1), date(2026, 10, 1), None),
    (46296.0, date(2026, 10, 1), None),  # an Excel serial day number in a cell without a date format
    ("Jambi, 12 Agustus 1985", date(1985, 8, 12), None),  # a "TTL" column: place, date of birth
    ("31/02/2026", None, "tanggal_tidak_terbaca"),
    ("10/31/2026", None, "tanggal_tidak_terbaca"),  # month first is not Indonesian
    ("kemarin", None, "tanggal_tidak_terbaca"),
    ("1990", None, "tanggal_tidak_lengkap"),
    (1990.0, None, "tanggal_tidak_lengkap"),
    (None, None, None),
])
def test_date_series(raw, expected, problem):
    from tkpk.ingest.normalise import date_series

    values, problems = date_series(pd.Series([raw], dtype=object))
    got = None if pd.isna(values.iloc[0]) else values.iloc[0].date()
    assert got == expected
    assert problems[0] == problem


def test_date_series_bulk_path_agrees_with_the_slow_path():
    from tkpk.ingest.normalise import date_series

    days = pd.date_range("1990-01-01", periods=400, freq="D")
    texts = [d.strftime("%d/%m/%Y") for d in days] + ["31/02/1990", "29/02/2000", "29/02/1900"]
    values, problems = date_series(pd.Series(texts, dtype="str"))
    assert [v.date() for v in values[:400]] == [d.date() for d in days]
    assert list(problems[-3:]) == ["tanggal_tidak_terbaca", None, "tanggal_tidak_terbaca"]


@pytest.mark.parametrize("raw,integer,expected,problem", [
    ("Rp 16.800,00", False, 16800, None),
    ("16.800", False, 16800, None),
    ("16800", False, 16800, None),
    (16800.0, False, 16800, None),
    ("1.500.000", False, 1500000, None),
    ("Rp16.800,50", False, 16801, None),  # whole rupiah
    ("abc", False, None, "bukan_angka"),
    ("12,5", True, None, "bukan_bilangan_bulat"),
    (12.5, True, None, "bukan_bilangan_bulat"),
    ("1.500", True, 1500, None),
])
def test_number_series(raw, integer, expected, problem):
    from tkpk.ingest.normalise import number_series

    values, problems = number_series(pd.Series([raw], dtype=object), integer=integer)
    assert (None if pd.isna(values.iloc[0]) else int(values.iloc[0])) == expected
    assert problems[0] == problem


@pytest.mark.parametrize("text,expected", [
    ("15.71.01.1001", "15.71.01.1001"),
    ("1571011001", "15.71.01.1001"),
    ("Simpang IV Sipin", "15.71.01.1001"),
    ("SIMPANG  IV  SIPIN", "15.71.01.1001"),
    ("simpangivsipin", "15.71.01.1001"),
    ("Kel. Simpang IV Sipin", "15.71.01.1001"),
    ("Simpang 4 Sipin", "15.71.01.1001"),
    ("Mendalo Darat", ""),
    ("15.71.02.1001", ""),
])
def test_kelurahan_by_code_or_name(text, expected):
    from tkpk.ingest.normalise import kelurahan_lookup
    from tkpk.normalize.kelurahan import KelurahanIndex

    assert kelurahan_lookup(KelurahanIndex.load())(text) == expected


def test_exact_repeats_point_at_the_first_row():
    from tkpk.ingest.normalise import duplicate_rows

    display = pd.DataFrame({"nik": ["1", "2", "1", "1", "2"], "nama": ["a", "b", "a", "x", "b"]}, dtype="str")
    got = duplicate_rows(display, np.array([10, 11, 12, 13, 14]))
    assert [None if np.isnan(v) else int(v) for v in got] == [None, None, 10, None, 11]


# --- reading ---------------------------------------------------------------------------------------------------------


def _read_csv(data: bytes, type_code: str = "pertanian_bibit"):
    from tkpk.config import load_config
    from tkpk.ingest.read import read_csv

    config = load_config()
    return read_csv(data, config.types.get(type_code), config.types.aliases_for(type_code))[0]


def test_csv_blank_lines_keep_excel_row_numbers():
    data = b"NIK,Nama,Kelurahan,Jenis Bibit,Jumlah\n1571010101900001,A,Legok,Cabai,1\n\n\n1571010101900002,B,Legok,Cabai,2\n"
    table = _read_csv(data)
    assert list(table.frame["_row"]) == [2, 5]
    assert table.skipped["kosong"] == 0  # empty lines are not rows in the frame at all


def test_csv_ragged_rows_fall_back_and_keep_numbering():
    data = (b"Judul laporan\nNIK;Nama;Kelurahan;Jenis Bibit;Jumlah\n1571010101900001;A;Legok;Cabai;1\n"
            b";;;;\n1571010101900002;B;Legok;Cabai;2;catatan tambahan\n")
    table = _read_csv(data)
    assert list(table.frame["_row"]) == [3, 5]
    assert table.header_row == 2


@pytest.mark.parametrize("encoding,sep,bom", [
    ("utf-8", ",", b""), ("utf-8", ";", b"\xef\xbb\xbf"), ("cp1252", ";", b""), ("utf-16", "\t", b""),
    ("utf-8", "|", b""),
])
def test_csv_encodings_and_delimiters(encoding, sep, bom):
    text = sep.join(["NIK", "Nama", "Kelurahan", "Jenis Bibit", "Jumlah"]) + "\r\n"
    text += sep.join(["1571010101900001", "Désirée", "Legok", "Cabai", "1"]) + "\r\n"
    table = _read_csv(bom + text.encode(encoding))
    assert table.frame["nama"].iloc[0] == "Désirée"
    assert list(table.frame["_row"]) == [2]


def test_header_with_notes_in_brackets_and_a_two_row_header():
    from tkpk.config import load_config
    from tkpk.ingest.read import find_header

    aliases = load_config().types.aliases_for("disnaker_bpjstk")
    rows = [
        ["REKAP PESERTA", "", "", "", ""],
        ["NIK (16 digit)", "Nama", "Tanggal", "L/P", "Kelurahan"],
        ["", "", "Lahir", "", ""],
        ["1571010101900001", "A", "01/01/1990", "L", "Legok"],
    ]
    h, mapping, data_start = find_header(rows, aliases, ["nik", "nama", "tanggal_lahir", "jenis_kelamin"])
    assert h == 1 and data_start == 3
    assert mapping == {"nik": 0, "nama": 1, "tanggal_lahir": 2, "jenis_kelamin": 3, "kode_kelurahan": 4}


def test_validate_file_period_sets_e(files_dir):
    """The birth date 01/07/2030 is 'in the future' for E = 31 Oct 2026 but not for a period after it."""
    from tkpk.ingest import validate_file

    now = validate_file(files_dir / "disnaker_bpjstk_oktober.xlsx", "disnaker_bpjstk", PERIOD)
    later = validate_file(files_dir / "disnaker_bpjstk_oktober.xlsx", "disnaker_bpjstk", "2030-12")
    assert any(f.check == "tanggal_masa_depan" and f.row == 11 for f in now.issues)
    assert not any(f.check == "tanggal_masa_depan" and f.row == 11 for f in later.issues)


def test_names_keep_their_text_with_whitespace_tidied(tmp_path):
    from tkpk.ingest import validate_file

    path = tmp_path / "bibit.csv"
    path.write_text("NIK;Nama;Kelurahan;Bibit;Jumlah\n1571010101900001;  Siti\t\tAminah  ;Legok;Cabai;1\n"
                    "1571010101900002;M.  Yusuf;Legok;Cabai;2\n", encoding="utf-8")
    result = validate_file(path, "pertanian_bibit", PERIOD)
    assert list(result.records["nama"]) == ["Siti Aminah", "M. Yusuf"]


def test_signature_block_is_skipped_but_a_lone_nik_at_the_end_is_reported():
    data = (b"NIK;Nama;Kelurahan;Bibit;Jumlah\n1571010101900001;A;Legok;Cabai;1\n1571010101900002;B;Legok;Cabai;2\n"
            b";;;;\n;;Jambi, 5 November 2026;;\n;;Kepala Dinas;;\nNIP. 19700101 199803 1 001;;;;\n"
            b"1571010101900003;;;;\n")
    table = _read_csv(data)
    assert list(table.frame["_row"]) == [2, 3, 8]
    assert table.skipped["penutup"] == 3
