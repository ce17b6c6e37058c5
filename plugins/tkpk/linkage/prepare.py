"""Turn person records (registry persons or submitted rows, as raw text) into the columns the matcher compares.

First step of every linkage run, for the registry and for the month's rows alike, so both sides are normalised by
the same code. Vectorised with pyarrow compute (a million registry persons in a few seconds): NIK and No KK become
integers (0 = unusable), dates `yyyymmdd` integers (0 = missing), sex 1/2 (0 = missing), names their normalised and
phonetic forms (`tkpk.normalize.names`), kelurahan the dotted Kemendagri code and its number.

The rules are those of `tkpk.normalize` (NIK validity as `nik.nik_problem`, dates day-first as `dates.parse_date`,
sex as `text.normalize_sex`); this module only makes them fast on whole columns.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tkpk.normalize.dates import parse_date
from tkpk.normalize.names import normalize_name_array, phonetic_array
from tkpk.normalize.nik import PROVINCES, birth_years, valid_dates

PERSON_FIELDS = ["nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir", "alamat", "rt", "rw", "kode_kelurahan"]
STRING_COLUMNS = ("name", "name_ph", "f1", "fl", "f12", "skel", "kel", "nik_near")
# Sex after removing spaces, hyphens and dots ("Laki - laki" -> "lakilaki"); the values of normalize.text plus more.
_SEX = {
    "l": 1, "lk": 1, "laki": 1, "lakilaki": 1, "pria": 1, "1": 1, "m": 1, "male": 1, "cowok": 1,
    "p": 2, "pr": 2, "prp": 2, "perempuan": 2, "wanita": 2, "2": 2, "f": 2, "female": 2, "w": 2, "cewek": 2,
}
_PROVINCE_OK = np.zeros(100, dtype=bool)
_PROVINCE_OK[[int(p) for p in PROVINCES]] = True
_REPDIGIT = np.array([d * 1111111111111111 for d in range(1, 10)], dtype=np.int64)


def text_array(values) -> pa.Array:
    """Cells as trimmed pyarrow strings ('' for missing), whatever the column held (text, numbers, dates)."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        arr = values
    else:
        arr = getattr(values.array, "_pa_array", None)
        if arr is None:
            try:
                arr = pa.array(values, from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                arr = pa.array(values.map(lambda v: None if v is None or v != v else str(v)), type=pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        if pa.types.is_floating(arr.type):
            # Numbers typed into Excel: whole numbers without the ".0".
            as_int = pc.cast(pc.round(arr), pa.int64(), safe=False)
            whole = pc.equal(pc.cast(as_int, pa.float64()), arr)
            arr = pc.if_else(whole, pc.cast(as_int, pa.string()), pc.cast(arr, pa.string()))
        else:
            arr = pc.cast(arr, pa.string())
    arr = pc.cast(arr, pa.string())
    return pc.fill_null(pc.utf8_trim_whitespace(arr), "")


def _digits16(values) -> tuple[np.ndarray, pa.Array]:
    """(int64 of a 16-digit number or 0, the bare digit string) for NIK / No KK cells."""
    text = text_array(values)
    clean = pc.match_substring_regex(text, r"^\d{16}$").to_numpy(zero_copy_only=False)
    if not clean.all():
        # The slow path only for cells that are not already 16 bare digits.
        idx = pa.array(np.flatnonzero(~clean))
        messy = pc.replace_substring_regex(pc.take(text, idx), r"\.0$", "")
        messy = _full_precision_sci(messy)
        sci = pc.match_substring_regex(messy, r"^\d(?:[.,]\d+)?\s*[eE]\s*\+?\s*\d+$")
        digits = pc.replace_substring_regex(messy, r"[\s'`\".\-_/,]", "")
        only = pc.match_substring_regex(digits, r"^\d+$")
        fixed = pc.if_else(pc.and_(only, pc.invert(sci)), digits, "")
        text = pc.replace_with_mask(text, pa.array(~clean), fixed)
    ok = pc.equal(pc.utf8_length(text), 16)
    num = pc.cast(pc.if_else(ok, text, "0"), pa.int64()).to_numpy(zero_copy_only=False)
    return num, text


def _full_precision_sci(text: pa.Array) -> pa.Array:
    """`1.571010101800001E+15` still holds all 16 digits (a number written by a program, not an Excel cell shown
    as 1.57101E+15, whose digits are gone): write it out."""
    hit = pc.match_substring_regex(text, r"^\d[.,]\d{15}[eE]\+?15$").to_numpy(zero_copy_only=False)
    if not hit.any():
        return text
    idx = np.flatnonzero(hit)
    fixed = [v[0] + v[2:17] for v in pc.take(text, pa.array(idx)).to_pylist()]
    return pc.replace_with_mask(text, pa.array(hit), pa.array(fixed, type=pa.string()))


_valid_date = valid_dates


def _valid_nik(num: np.ndarray, *, kind: str, reference: date
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validity (the rules of `tkpk.normalize.nik.nik_problem`); plausibility (no placeholder, a real region:
    worth comparing digit by digit even when the birth-date part is broken); for NIKs the encoded birth date, sex."""
    has = num > 0
    repdigit = np.isin(num, _REPDIGIT)
    serial0 = (num % 10000) == 0
    lead0 = num < 10**12
    prov = num // 10**14
    regency = (num // 10**12) % 100
    region = _PROVINCE_OK[np.clip(prov, 0, 99)] & (regency != 0)
    plausible = has & ~repdigit & ~serial0 & ~lead0 & region
    dob = np.zeros(len(num), dtype=np.int32)
    sex = np.zeros(len(num), dtype=np.int8)
    if kind != "nik":
        return plausible, plausible, dob, sex
    day = (num // 10**8) % 100
    month = (num // 10**6) % 100
    yy = (num // 10**4) % 100
    female = day > 40
    day = np.where(female, day - 40, day)
    year = birth_years(yy, month, day, reference)  # the one century rule (tkpk.normalize.nik)
    year = np.where(_valid_date(year, month, day), year, 2000 + yy)  # 29 February 2000 (1900 was no leap year)
    good = _valid_date(year, month, day)
    valid = plausible & good
    dob = np.where(valid, year * 10000 + month * 100 + day, 0).astype(np.int32)
    sex = np.where(valid, np.where(female, 2, 1), 0).astype(np.int8)
    return valid, plausible, dob, sex


_DMY = r"^(?P<a>\d{1,2})[/\-.](?P<b>\d{1,2})[/\-.](?P<c>\d{4})$"
_YMD = r"^(?P<a>\d{4})[/\-.](?P<b>\d{1,2})[/\-.](?P<c>\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"


def _parts(text: pa.Array, pattern: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    found = pc.extract_regex(text, pattern)
    out = []
    for i in range(3):
        field = pc.struct_field(found, [i])
        num = pc.cast(pc.if_else(pc.is_valid(field), field, "0"), pa.int32())
        out.append(pc.fill_null(num, 0).to_numpy(zero_copy_only=False).astype(np.int64))
    return out[0], out[1], out[2]


def _dates(values) -> np.ndarray:
    """yyyymmdd integers (0 = missing or not a real date); day first, Indonesian month names, Excel serials."""
    text = text_array(values)
    out = np.zeros(len(text), dtype=np.int32)
    d, m, y = _parts(text, _DMY)  # dd/mm/yyyy, dd-mm-yyyy: day first, always
    ok = (y > 0) & _valid_date(y, m, d)
    out[ok] = (y * 10000 + m * 100 + d)[ok]
    y2, m2, d2 = _parts(text, _YMD)  # ISO, with or without a time
    ok2 = (out == 0) & (y2 > 0) & _valid_date(y2, m2, d2)
    out[ok2] = (y2 * 10000 + m2 * 100 + d2)[ok2]
    pending = (out == 0) & (y == 0) & (y2 == 0) & pc.not_equal(text, "").to_numpy(zero_copy_only=False)
    if pending.any():
        # Month names ("1 Oktober 1980"), Excel serials and the rest: the shared scalar parser, once per value.
        idx = np.flatnonzero(pending)
        rest = pc.take(text, pa.array(idx)).to_pylist()
        cache: dict[str, int] = {}
        for i, value in zip(idx, rest, strict=True):
            if value not in cache:
                parsed = parse_date(value)
                cache[value] = parsed.year * 10000 + parsed.month * 100 + parsed.day if parsed else 0
            out[i] = cache[value]
    return out


def _map_unique(text: pa.Array, fn, type_: pa.DataType) -> pa.Array:
    """Apply a Python function to each distinct value only (small domains: sex, kelurahan)."""
    enc = pc.dictionary_encode(text)
    mapped = pa.array([fn(v) for v in enc.dictionary.to_pylist()], type=type_)
    return pc.take(mapped, enc.indices)


def _sex(values) -> np.ndarray:
    text = pc.utf8_lower(text_array(values))
    text = pc.replace_substring_regex(pc.replace_substring_regex(text, r"\.0$", ""), r"[\s\-.]", "")
    return _map_unique(text, lambda v: _SEX.get(v, 0), pa.int8()).to_numpy(zero_copy_only=False).astype(np.int8)


def _rtrw(values) -> np.ndarray:
    found = pc.extract_regex(text_array(values), r"(?P<d>\d{1,3})")
    num = pc.cast(pc.fill_null(pc.struct_field(found, [0]), "0"), pa.int16())
    return pc.fill_null(num, 0).to_numpy(zero_copy_only=False)


def _kelurahan(values, index) -> pa.Array:
    def code(value: str) -> str:
        found = index.code(value) if (index is not None and value) else None
        if found is None and value:
            digits = re.sub(r"[.\s]", "", value)
            if digits.isdigit() and len(digits) == 10:
                found = f"{digits[0:2]}.{digits[2:4]}.{digits[4:6]}.{digits[6:10]}"
        return found or ""

    return _map_unique(text_array(values), code, pa.string())


def prepare_persons(df: pd.DataFrame, *, reference: date, kelurahan=None) -> pd.DataFrame:
    """Comparable columns for person records. `df` has (a subset of) PERSON_FIELDS as raw cells; other columns
    (id_art, id_keluarga, row_id, ...) are carried through unchanged. The index becomes 0..n-1."""
    df = df.reset_index(drop=True)
    n = len(df)
    empty = pa.array([""] * n, type=pa.string())

    def col(name: str):
        return df[name] if name in df.columns else empty

    out = pd.DataFrame(index=df.index)
    for carry in df.columns:
        if carry not in PERSON_FIELDS:
            out[carry] = df[carry]
    nik, nik_digits = _digits16(col("nik"))
    valid, plausible, nik_dob, nik_sex = _valid_nik(nik, kind="nik", reference=reference)
    out["nik"] = np.where(valid, nik, 0)
    # A damaged NIK still points at its owner: 16 digits that fail the birth-date check are kept for comparison
    # and blocking; 15 or 17 digits (one dropped or doubled) for an edit-distance comparison.
    out["nik_any"] = np.where(plausible, nik, 0)
    length = pc.utf8_length(nik_digits).to_numpy(zero_copy_only=False)
    near = (nik == 0) & (length >= 14) & (length <= 17)
    out["nik_near"] = _series(pc.if_else(pa.array(near), nik_digits, ""))
    out["nik_dob"] = nik_dob
    out["nik_sex"] = nik_sex
    kk, _ = _digits16(col("no_kk"))
    kk_valid, _, _, _ = _valid_nik(kk, kind="kk", reference=reference)
    out["kk"] = np.where(kk_valid, kk, 0)
    name = pc.fill_null(normalize_name_array(text_array(col("nama"))), "")
    phon = pc.fill_null(phonetic_array(name), "")
    # Names feed the Python comparator: kept as object arrays, converted once.
    out["name"] = pd.Series(name.to_numpy(zero_copy_only=False), dtype=object)
    out["name_ph"] = pd.Series(phon.to_numpy(zero_copy_only=False), dtype=object)
    out["f1"] = _series(pc.fill_null(pc.struct_field(pc.extract_regex(phon, r"^(?P<t>\S+)"), [0]), ""))
    out["fl"] = _series(pc.fill_null(pc.struct_field(pc.extract_regex(phon, r"(?P<t>\S+)$"), [0]), ""))
    # Blocking helpers: the first two tokens of names with three or more; the consonant skeleton.
    first_two = pc.fill_null(pc.struct_field(pc.extract_regex(phon, r"^(?P<t>\S+ \S+) "), [0]), "")
    out["f12"] = _series(first_two)
    out["skel"] = _series(pc.replace_substring_regex(phon, r"[aiueo ]", ""))
    out["dob"] = _dates(col("tanggal_lahir"))
    out["sex"] = _sex(col("jenis_kelamin"))
    kel = _kelurahan(col("kode_kelurahan"), kelurahan)
    out["kel"] = _series(kel)
    digits = pc.replace_substring(kel, ".", "")
    out["kel_i"] = pc.cast(pc.if_else(pc.equal(digits, ""), "0", digits), pa.int64()).to_numpy(zero_copy_only=False)
    out["rt"] = _rtrw(col("rt"))
    out["rw"] = _rtrw(col("rw"))
    return out


def _series(arr: pa.Array) -> pd.Series:
    """A pandas column backed by the Arrow array (no copy into Python objects)."""
    return pd.Series(pd.arrays.ArrowExtensionArray(arr))
