"""One table of tricky inputs through every path that normalises NIK, No KK and dates (issue #11): the scalar
functions of `tkpk.normalize`, the registry loader's vectorised calls, ingest (`tkpk.ingest.normalise`) and linkage
(`tkpk.linkage.prepare`). They must agree value for value: a bare year is incomplete everywhere (never 7 June 1905,
Excel serial 1985), and a NIK's birth century is decided by one rule."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

E = date(2026, 10, 31)  # the period's last day: the reference of every century decision

NIKS = [
    "1571014505900003",  # woman, born 5 May 1990
    "1571010101850002",
    "1571 0101 0185 0002",  # spaced
    "1571.0101.0185.0002",  # dotted
    "1571-0101-0185-0002",
    "'1571010101850002",  # apostrophe typed to force text
    "1571010101850002.0",
    1571010101850002.0,  # a number typed into Excel (exact below 2^53)
    "1571011211250001",  # born 12 Nov: in 2025 (on or before E)
    "1571011212260001",  # born 12 Dec 26: after E in 2026, so 1926
    "1571011210260001",  # born 12 Oct 2026: on or before E
    "1571012902000001",  # 29 Feb 2000 (a leap year; 1900 is not)
    "1571012902010001",  # 29 Feb 2001/1901: no such day
    "1571013213850001",  # month 13
    "157101010185000",  # 15 digits
    "15710101018500021",  # 17 digits
    "1,57101E+15",  # Excel scientific notation: digits lost
    "0000000000000000",
    "1571010101850000",  # serial 0000
    "9971010101850002",  # no such province
    "1500010101850002",  # regency 00
    "15710101O1850002",  # letter O
    "",
    None,
]

DATES = ["1985", 1985, 1985.0, "12/08/1985", "12-08-1985", "1985-08-12", "12 Agustus 1985", "12 Agt 1985",
         "31/02/2020", "Jambi, 12 Agustus 1985", "Jambi, 1985", "", "-", None, "besok", "01/01/1800"]


def _scalar_nik(value):
    from tkpk.normalize.nik import decode_nik, normalize_nik

    nik = normalize_nik(value)
    info = decode_nik(nik, reference=E) if nik else None
    return nik, (info.birth_date if info else None), (info.jenis_kelamin if info else None)


def _registry_nik(values):
    from tkpk.normalize.nik import normalize_nik_series

    nik, _problem = normalize_nik_series(pd.Series(values, dtype=object))
    return [None if pd.isna(v) else str(v) for v in nik]


def _ingest_nik(values):
    from tkpk.ingest.normalise import decode_nik_series, display_series, nik_series

    nik, _problem = nik_series(display_series(pd.Series(values, dtype=object)))
    decoded = decode_nik_series(nik, E)
    born = [None if pd.isna(b) else b.date() for b in decoded["birth"]]
    return [None if pd.isna(v) else str(v) for v in nik], born, [None if s is None else s for s in decoded["sex"]]


def _linkage_nik(values):
    from tkpk.linkage.prepare import prepare_persons

    out = prepare_persons(pd.DataFrame({"nik": pd.Series(values, dtype=object)}), reference=E)
    niks = [str(int(v)) if v else None for v in out["nik"]]
    born = [date(d // 10000, d // 100 % 100, d % 100) if d else None for d in out["nik_dob"]]
    sex = [{1: "L", 2: "P"}.get(int(s)) for s in out["nik_sex"]]
    return niks, born, sex


def test_nik_table_is_read_alike_everywhere():
    scalar = [_scalar_nik(v) for v in NIKS]
    want_nik = [s[0] for s in scalar]
    want_born = [s[1] for s in scalar]
    want_sex = [s[2] for s in scalar]
    assert want_nik.count(None) >= 10 and want_nik.count("1571010101850002") == 7
    assert want_born[NIKS.index("1571011212260001")] == date(1926, 12, 12)
    assert want_born[NIKS.index("1571011210260001")] == date(2026, 10, 12)
    assert want_born[NIKS.index("1571012902000001")] == date(2000, 2, 29)

    assert _registry_nik(NIKS) == want_nik, "registry loader"
    nik, born, sex = _ingest_nik(NIKS)
    assert nik == want_nik, "ingest"
    assert born == want_born and sex == want_sex, "ingest birth date / sex"
    nik, born, sex = _linkage_nik(NIKS)
    assert nik == want_nik, "linkage"
    assert born == want_born and sex == want_sex, "linkage birth date / sex"


def test_kk_table_is_read_alike_everywhere():
    from tkpk.ingest.normalise import display_series, nik_series
    from tkpk.linkage.prepare import prepare_persons
    from tkpk.normalize.nik import normalize_kk, normalize_nik_series

    want = [normalize_kk(v) for v in NIKS]
    reg, _ = normalize_nik_series(pd.Series(NIKS, dtype=object), kind="kk")
    assert [None if pd.isna(v) else str(v) for v in reg] == want
    ing, _ = nik_series(display_series(pd.Series(NIKS, dtype=object)), kind="kk")
    assert [None if pd.isna(v) else str(v) for v in ing] == want
    out = prepare_persons(pd.DataFrame({"no_kk": pd.Series(NIKS, dtype=object)}), reference=E)
    assert [str(int(v)) if v else None for v in out["kk"]] == want


def _scalar_dates(values):
    from tkpk.normalize.dates import parse_date

    return [parse_date(v) for v in values]


def test_date_table_is_read_alike_everywhere():
    from tkpk.ingest.normalise import date_series
    from tkpk.linkage.prepare import _dates
    from tkpk.normalize.dates import parse_date_series

    want = _scalar_dates(DATES)
    assert want[:3] == [None, None, None], "a bare year is incomplete, never an Excel serial day (1905-06-07)"
    assert want[DATES.index("12 Agt 1985")] == date(1985, 8, 12)

    registry = parse_date_series(pd.Series(DATES, dtype=object)).tolist()
    assert registry == want, "registry loader"
    values, problems = date_series(pd.Series(DATES, dtype=object))
    ingest = [None if pd.isna(v) else v.date() for v in values]
    assert ingest == want, "ingest"
    assert list(problems[:3]) == ["tanggal_tidak_lengkap"] * 3
    linkage = [date(d // 10000, d // 100 % 100, d % 100) if d else None for d in _dates(pd.Series(DATES, dtype=object))]
    assert linkage == want, "linkage"


@pytest.mark.parametrize("size", [1, 64, 500])
def test_bare_year_never_becomes_1905_on_any_path(size):
    """The fast paths (many distinct values) and the slow ones alike."""
    from tkpk.ingest.normalise import date_series
    from tkpk.linkage.prepare import _dates
    from tkpk.normalize.dates import parse_date_series

    values = pd.Series(["1985"] + [f"{d % 28 + 1:02d}/01/1990" for d in range(size - 1)], dtype=object)
    assert parse_date_series(values)[0] is None
    assert pd.isna(date_series(values)[0][0])
    assert _dates(values)[0] == 0
    assert np.all(_dates(pd.Series([1985, "1985", 1985.0], dtype=object)) == 0)


KELURAHAN = ["Simpang IV Sipin", "Simpang 4 Sipin", "simpang iv sipin ", "15.71.01.1001", "1571011001",
             "Kelurahan Antah Berantah", "", None]


def test_kelurahan_table_is_read_alike_everywhere():
    from tkpk.ingest.normalise import display_series, kelurahan_lookup
    from tkpk.linkage.prepare import _kelurahan
    from tkpk.normalize.kelurahan import KelurahanIndex

    index = KelurahanIndex.load()
    want = [index.code(v) for v in KELURAHAN]
    assert want[0] == want[1] == want[2] and want[0] is not None, "roman numerals are one rule, everywhere"
    assert want[3] == want[4] == "15.71.01.1001" and want[5] is None
    shown = display_series(pd.Series(KELURAHAN, dtype=object))
    ingest = [kelurahan_lookup(index)(None if v == "" else v) or None for v in shown]
    assert ingest == want, "ingest"
    linkage = [v or None for v in _kelurahan(pd.Series(KELURAHAN, dtype=object), index).to_pylist()]
    assert linkage == want, "linkage"
