"""Name normalisation (issue 4, item 1): every variant the issue lists, and the vectorised path agreeing with the
scalar one."""

from __future__ import annotations

import pandas as pd
import pytest

from tkpk.linkage.compare import name_level
from tkpk.normalize.names import normalize_name, normalize_name_series, phonetic_name


@pytest.mark.parametrize("raw, expected", [
    # case, punctuation, spacing
    ("  siti   AMINAH ", "siti aminah"),
    ("Ma'ruf Amin", "maruf amin"),
    ("Nur-Aini", "nur aini"),
    # religious and civil titles in front
    ("H. Ahmad Yani", "ahmad yani"),
    ("Hj. Siti Aminah", "siti aminah"),
    ("Drs. H. Rahmat", "rahmat"),
    ("Ir. Budi Santoso", "budi santoso"),
    ("Dra. Nurhayati", "nurhayati"),
    ("Ustadz Abdullah", "abdullah"),
    # academic suffixes, after a comma or not
    ("Siti Aminah, S.Pd", "siti aminah"),
    ("Budi Santoso, S.E., M.M.", "budi santoso"),
    ("Rina S.Pd.I", "rina"),
    ("Dewi Lestari A.Md.Keb", "dewi lestari"),
    ("Ahmad Fauzi SH", "ahmad fauzi"),
    ("Nurhayati S.Kep.Ns", "nurhayati"),
    # bin / binti with the father's name (also B., BN, BT.)
    ("Ahmad bin Abdullah", "ahmad"),
    ("Siti Aminah binti Djamal", "siti aminah"),
    ("AHMAD B. ABDULLAH", "ahmad"),
    ("SITI BT. HASAN", "siti"),
    # Jambi titles
    ("Kemas Ahmad", "ahmad"),
    ("Kms. Ahmad", "ahmad"),
    ("Nyimas Fatimah", "fatimah"),
    ("Nys. Fatimah", "fatimah"),
    ("Sayid Ali", "ali"),
    ("Said Ali", "ali"),
    ("Syarifah Nur", "nur"),
    ("Sy. Nur", "nur"),
    ("Raden Suprapto", "suprapto"),
    ("R. Suprapto", "suprapto"),
    ("Masagus Ismail", "ismail"),
    ("Kgs. Ismail", "ismail"),
    # Muhammad and Ahmad, every way they are written
    ("Muhammad Rizki", "muhammad rizki"),
    ("Muhamad Rizki", "muhammad rizki"),
    ("Mohammad Rizki", "muhammad rizki"),
    ("Mochammad Rizki", "muhammad rizki"),
    ("M. Rizki", "muhammad rizki"),
    ("Mhd Rizki", "muhammad rizki"),
    ("Moh. Rizki", "muhammad rizki"),
    ("Muh. Rizki", "muhammad rizki"),
    ("Achmad Fauzi", "ahmad fauzi"),
    ("Akhmad Fauzi", "ahmad fauzi"),
    ("Abd. Rahman", "abdul rahman"),
    # old spelling: dj/j, tj/c, oe/u, ch/kh, sj/sy, nj/ny (and the old j for today's y)
    ("Djoko Susilo", "joko susilo"),
    ("Tjahjo Kumolo", "cahyo kumolo"),
    ("Soekarno", "sukarno"),
    ("Chairul Tanjung", "khairul tanjung"),
    ("Sjamsul Bahri", "syamsul bahri"),
    ("Njoman Sudirga", "nyoman sudirga"),
    # nothing usable
    ("   ", None),
    (None, None),
])
def test_normalize_name(raw, expected):
    assert normalize_name(raw) == expected


def test_vectorised_equals_scalar():
    raw = ["Hj. SITI AMINAH binti Djamal, S.Pd", "M. Rizki", "Kms. Achmad", "", None, "Tjahjo Soedjono"]
    series = normalize_name_series(pd.Series(raw, dtype=object))
    assert [None if pd.isna(v) else v for v in series] == [normalize_name(r) for r in raw]


@pytest.mark.parametrize("a, b", [
    ("Rizky", "Riski"), ("Fatimah", "Fatima"), ("Khairul", "Hairul"), ("Arif", "Arip"), ("Jusuf", "Yusuf"),
    ("Syamsul", "Samsul"), ("Abdullah", "Abdulah"), ("Norhayati", "Nurhayati"),
])
def test_phonetic_variants_agree(a, b):
    assert phonetic_name(a) == phonetic_name(b)


def level(a: str, b: str) -> int:
    return name_level(normalize_name(a), normalize_name(b), phonetic_name(a), phonetic_name(b))


@pytest.mark.parametrize("a, b, expected", [
    ("SITI AMINAH", "Siti Aminah", 8),                   # exact after normalisation
    ("Rizky Saputra", "Riski Saputra", 7),               # same sound
    ("Ahmad Yani", "Yani Ahmad", 7),                     # order
    ("Nurhayati", "Nur Hayati", 7),                      # spacing
    ("Siti Aminha", "Siti Aminah", 6),                   # one slip
    ("Cinta Sinmboon", "Cinta Simbolon", 6),             # two slips in a long token
    ("Fatimah", "Fatimah Zahra", 5),                     # a dropped token
    ("Famzias", "Fauziah", 4),                           # two slips
    ("Muhammad Hasan Saputra", "Muhammad Husein Saputra", 3),  # a sibling: shares the family token only
    ("Muhammad Rizki", "Muhammad Rizal", 2),             # a sibling: shares only 'Muhammad'
    ("Ahmad", "Budi", 1),
    ("", "Budi", 0),
])
def test_name_levels_tell_slips_from_siblings(a, b, expected):
    assert level(a, b) == expected
