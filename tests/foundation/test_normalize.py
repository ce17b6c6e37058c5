"""Shared normalisation, case by case (issue 2, item 6c)."""

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from tkpk.normalize import (
    KelurahanIndex,
    decode_nik,
    nik_problem,
    normalize_kk,
    normalize_nik,
    normalize_nik_series,
    normalize_rt_rw,
    normalize_sex,
    normalize_yn,
    parse_amount,
    parse_date,
    parse_date_series,
)
from tkpk.normalize.dates import age_on
from tkpk.normalize.nik import mask, mask_text

NIK_F = "1571014508850003"  # Telanaipura, 5 Aug 1985, female (45 = 5 + 40)


@pytest.mark.parametrize(
    "raw, expected",
    [
        (NIK_F, NIK_F),
        (f"'{NIK_F}", NIK_F),
        ("1571.0145.0885.0003", NIK_F),
        (" 1571014508850003 ", NIK_F),
        (1571014508850003, NIK_F),
        (1571014508850003.0, NIK_F),
        ("1571014508850003.0", NIK_F),
    ],
)
def test_nik_accepted_forms(raw, expected):
    assert normalize_nik(raw) == expected
    assert nik_problem(raw) is None


@pytest.mark.parametrize(
    "raw, problem",
    [
        (None, "kosong"),
        ("", "kosong"),
        ("1.57101E+15", "notasi_ilmiah"),
        ("1,57101E+15", "notasi_ilmiah"),
        ("157101450885000", "panjang_salah"),
        ("15710145088500031", "panjang_salah"),
        ("0000000000000000", "placeholder"),
        ("1571014508850000", "placeholder"),
        ("1111111111111111", "placeholder"),
        ("9971014508850003", "kode_wilayah_salah"),
        ("1571013213850003", "tanggal_salah"),  # month 13
        ("1571017202850003", "tanggal_salah"),  # day 72-40=32
        ("15710A4508850003", "bukan_angka"),
    ],
)
def test_nik_problems(raw, problem):
    assert nik_problem(raw) == problem
    assert normalize_nik(raw) is None


def test_kk_has_no_birth_date_check():
    assert normalize_kk("1571010101230001") == "1571010101230001"
    assert normalize_kk("1571019999990001") == "1571019999990001"


def test_decode_nik_sex_day_plus_40_and_century_from_reference():
    info = decode_nik(NIK_F, reference=date(2026, 10, 31))
    assert (info.birth_date, info.jenis_kelamin, info.kode_kecamatan) == (date(1985, 8, 5), "P", "15.71.01")
    assert info.issued_in_kota_jambi
    baby = decode_nik("1571020105250001", reference=date(2026, 10, 31))
    assert baby.birth_date == date(2025, 5, 1) and baby.jenis_kelamin == "L"
    elder = decode_nik("1504015203400002", reference=date(2026, 10, 31))
    assert elder.birth_date == date(1940, 3, 12) and not elder.issued_in_kota_jambi


def test_nik_series_matches_scalar():
    raw = pd.Series([NIK_F, 1571014508850003.0, "1.57101E+15", None, "0000000000000000", "'1571014508850003", "abc"])
    normalised, problems = normalize_nik_series(raw)
    assert list(normalised.fillna("")) == [normalize_nik(v) or "" for v in raw]
    assert list(problems.fillna("")) == [nik_problem(v) or "" for v in raw]


def test_masking():
    assert mask(NIK_F) == "157101******0003"
    assert mask_text(f"NIK {NIK_F} dan KK 1571010101230001 salah") == (
        "NIK 157101******0003 dan KK 157101******0001 salah"
    )
    assert mask_text("Rp 2.400.000 pada 2026-10-31") == "Rp 2.400.000 pada 2026-10-31"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("01/10/2026", date(2026, 10, 1)),
        ("1/10/2026", date(2026, 10, 1)),
        ("01-10-2026", date(2026, 10, 1)),
        ("01.10.2026", date(2026, 10, 1)),
        ("1 Oktober 2026", date(2026, 10, 1)),
        ("1 Okt 2026", date(2026, 10, 1)),
        ("17 Agustus 1945", date(1945, 8, 17)),
        ("1 Nopember 2026", date(2026, 11, 1)),
        ("2026-10-01", date(2026, 10, 1)),
        ("2026-10-01 00:00:00", date(2026, 10, 1)),
        (45931, date(2025, 10, 1)),  # Excel serial
        (pd.Timestamp("2026-10-01"), date(2026, 10, 1)),
        ("31/02/2026", None),
        ("32/01/2026", None),
        ("kemarin", None),
        ("", None),
        (None, None),
    ],
)
def test_dates(raw, expected):
    assert parse_date(raw) == expected


def test_date_series_matches_scalar():
    raw = pd.Series(["01/10/2026", "2026-10-01", "1 Oktober 2026", None, 45931, "31/02/2026", "01-10-2026"])
    assert list(parse_date_series(raw)) == [parse_date(v) for v in raw]


def test_age_on_is_full_years():
    assert age_on(date(2008, 10, 31), date(2026, 10, 31)) == 18
    assert age_on(date(2008, 11, 1), date(2026, 10, 31)) == 17


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Rp 16.800,00", Decimal("16800.00")),
        ("16.800", Decimal("16800")),
        ("1.500.000", Decimal("1500000")),
        ("16,800.00", Decimal("16800.00")),
        ("Rp. 2.400.000", Decimal("2400000")),
        (16800, Decimal("16800")),
        ("1,5", Decimal("1.5")),
        ("-", None),
        ("abc", None),
    ],
)
def test_amounts(raw, expected):
    assert parse_amount(raw) == expected


@pytest.mark.parametrize("raw, expected", [("L", "L"), ("laki-laki", "L"), ("LAKI-LAKI", "L"), ("1", "L"),
                                           ("P", "P"), ("Perempuan", "P"), ("2", "P"), (2.0, "P"), ("x", None)])
def test_sex(raw, expected):
    assert normalize_sex(raw) == expected


def test_flags_and_rt_rw():
    assert [normalize_yn(v) for v in ("Y", "ya", "T", "tidak", "N", "?")] == ["Y", "Y", "N", "N", "N", None]
    assert [normalize_rt_rw(v) for v in ("3", "RT 03", "003", 3.0, "")] == ["003", "003", "003", "003", None]


def test_kelurahan_by_code_or_name(reference_dir):
    idx = KelurahanIndex.load(reference_dir)
    assert len(idx.rows) == 68 and len({r.kode_kecamatan for r in idx.rows}) == 11
    for raw in ("15.71.01.1001", "1571011001", 1571011001.0, "Simpang IV Sipin", "SIMPANG IV  SIPIN",
                "Kel. Simpang IV Sipin", "simpang iv sipin"):
        assert idx.code(raw) == "15.71.01.1001", raw
    assert idx.code("15.71.99.1001") is None
    assert idx.code("Kebayoran Baru") is None
