"""Shared normalisation of what OPD files and the registry contain (owned by the foundation; ingestion and linkage
extend it). Scalar functions for clarity and tests, vectorised Series versions where the hot path needs them.

Every function returns a normalised value or None; the `*_problem` helpers say, in a short code, why a raw value
could not be normalised, so quality checks can turn that into an Indonesian message.
"""

from tkpk.normalize.dates import parse_date, parse_date_series
from tkpk.normalize.kelurahan import KelurahanIndex
from tkpk.normalize.nik import (
    NikInfo,
    decode_nik,
    nik_problem,
    normalize_kk,
    normalize_nik,
    normalize_nik_series,
)
from tkpk.normalize.numbers import parse_amount
from tkpk.normalize.text import normalize_rt_rw, normalize_sex, normalize_yn

__all__ = [
    "KelurahanIndex",
    "NikInfo",
    "decode_nik",
    "nik_problem",
    "normalize_kk",
    "normalize_nik",
    "normalize_nik_series",
    "normalize_rt_rw",
    "normalize_sex",
    "normalize_yn",
    "parse_amount",
    "parse_date",
    "parse_date_series",
]
