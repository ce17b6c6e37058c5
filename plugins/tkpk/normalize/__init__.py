"""The one normalisation of what OPD files and the registry contain: NIK and No KK (`nik`), dates (`dates`), names
(`names`), kelurahan (`kelurahan`), amounts and small codes (`numbers`, `text`). The registry loader, ingest
(`tkpk.ingest.normalise`, which applies these rules to a whole file and adds the helper columns the Great Expectations
suites check) and linkage (`tkpk.linkage.prepare`, which makes them fast on a million registry persons) all call it;
`tests/foundation/test_normalize_shared.py` runs one table of tricky inputs through every path and requires the same
values. Rules with a vectorised form share their definition with the scalar one (the NIK birth century:
`nik.birth_years`; a bare year is incomplete: `dates.date_cell`).

Why the name stays `tkpk.normalize` (American spelling, beside `tkpk.ingest.normalise`): it is the package every
stage imports (registry, ingest, linkage, eligibility, synth, reports' masking) and the name the docs use; renaming
it would touch every stage for no behaviour. `tkpk.ingest.normalise` is ingest's file-level step: it imports
the date, century and kelurahan rules from here, and its fast NIK column check is held to the scalar rules by the
shared table.

python-stdnum's `stdnum.id.nik` is not used: its regency table predates Kalimantan Utara (65) and the Papua provinces
of 2022 (92-97), so valid NIKs from there would be rejected, and its birth date always takes the 1900s.

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
