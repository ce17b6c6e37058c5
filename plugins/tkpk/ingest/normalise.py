"""Normalise the raw cells of one file into typed canonical values, and compute the helper columns the Great
Expectations suite checks (step 2 of the monthly run, shared with `tkpk validate`).

Input: the frame the reader built (one column per canonical name holding the cells as read, plus `_row`/`_sheet`).
Output: `Normalised` with
- `values`: canonical columns normalised (NIK/KK 16-digit text, dates as datetime64, amounts as Int64, sex L/P,
  kelurahan `15.71.01.1001`, enum values spelled as in the config);
- `display`: each cell as the file showed it (the `value` of a finding, the data of a quarantined row);
- `helpers`: `_<column>_problem` (a check code or null), `_duplicate_of`, `_nik_in_kota_jambi`, `_nik_birth_agrees`,
  `_nik_sex_agrees`, `_age`, `_nik_warning`: what the suite's expectations look at.

Everything is vectorised or computed once per distinct value (`pandas.factorize`), so a 1,000,000-row file costs
seconds, not minutes. E (the last day of the period) is the reference date of every date rule, never today.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import repeat

import numpy as np
import pandas as pd

from tkpk.config.submissions import SubmissionType, header_key
from tkpk.normalize.dates import MONTHS, date_cell
from tkpk.normalize.kelurahan import KelurahanIndex
from tkpk.normalize.nik import KOTA_JAMBI_PREFIX, PROVINCES, birth_years, valid_dates
from tkpk.normalize.numbers import parse_amount
from tkpk.normalize.text import normalize_rt_rw, normalize_sex, normalize_yn

EMPTY_TEXT = {"", "-", "--", "nan", "none", "null", "n/a", "#n/a", "<na>"}
# Patterns stay inside what RE2 runs natively (no \\s, \\d, \\b, $), so pandas' pyarrow strings never fall back to
# Python's re on a million rows. \\Z is rewritten to RE2's \\z by pandas.
_WS = " \t\r\n\xa0"
_SCI = r"^[0-9](?:[.,][0-9]+)?[ ]*[eE][ ]*\+?[ ]*[0-9]+\Z"
_NIK_STRIP = "[" + _WS + "'`\".\\-_/=]"  # also ="1571..." (Excel's keep-as-text trick in CSV)
_MIN_DATE = np.datetime64("1900-01-01", "D")
_MONTH_DAYS = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
# --- cells as the file showed them -------------------------------------------------------------------------------------


def show_cell(value: object) -> str:
    """A cell as Excel would show it, as text ('' when empty). Whole numbers lose the '.0' that calamine adds, so a
    NIK typed as a number shows as its 16 digits; dates show day first."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value != value:
            return ""
        if value.is_integer() and abs(value) < 1e17:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second) == (0, 0, 0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, pd.Timestamp):
        return "" if pd.isna(value) else value.strftime("%d/%m/%Y")
    return str(value)


def text_mask(values: pd.Series) -> np.ndarray:
    """Which cells of an object column are text (bool array): all of them is told by one C-level check."""
    arr = values.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(arr, skipna=False) == "string":
        return np.ones(len(arr), dtype=bool)
    return np.fromiter(map(isinstance, arr, repeat(str)), dtype=bool, count=len(arr))


def display_series(values: pd.Series) -> pd.Series:
    """Cells as text (str dtype, stripped, '' for empty). Strings pass through; only other cells are formatted."""
    if values.dtype != object:
        return values.astype("str").fillna("").str.strip()
    is_str = text_mask(values)
    if bool(is_str.all()):
        return values.astype("str").fillna("").str.strip()
    out = values.copy()
    other = ~is_str
    out[other] = values[other].map(show_cell)
    return out.astype("str").fillna("").str.strip()


_EMPTY_MAX = max(len(t) for t in EMPTY_TEXT)


def is_empty(display: pd.Series) -> pd.Series:
    """Empty cells and the usual stand-ins ('-', 'NULL', '#N/A'); only short values are looked at closely."""
    short = (display.str.len() <= _EMPTY_MAX).to_numpy(dtype=bool, na_value=True)
    out = np.zeros(len(display), dtype=bool)
    if short.any():
        out[short] = display[short].str.lower().isin(EMPTY_TEXT).to_numpy(dtype=bool, na_value=True)
    return pd.Series(out, index=display.index)


def _unknown_bool(n: int) -> pd.arrays.BooleanArray:
    return pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))


# --- per-kind normalisers ------------------------------------------------------------------------------------------------
# Problem codes travel as numpy object arrays (None = no problem) and become categorical helper columns at the end:
# cheap to mask, cheap for GX to hash and check.


def _none(n: int) -> np.ndarray:
    return np.full(n, None, dtype=object)


def _is_none(a: np.ndarray) -> np.ndarray:
    return np.equal(a, None)


def problem_codes(problem: np.ndarray) -> pd.Categorical:
    """A problem-code array as a categorical helper column. The same as `pd.Categorical(problem)`, but only the
    rows with a problem (usually few) are factorised."""
    has = ~_is_none(problem)
    if bool(has.all()):
        return pd.Categorical(problem)
    found = pd.Categorical(problem[has])
    codes = np.full(len(problem), -1, dtype=found.codes.dtype)
    codes[has] = found.codes
    return pd.Categorical.from_codes(codes, dtype=found.dtype)


def _arrow_backed(values: pd.Series) -> bool:
    return isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"


def factorize(values: pd.Series, *, with_uniques: bool = True) -> tuple[np.ndarray, list | int]:
    """(codes with -1 for missing, distinct values — or only their number). pyarrow's dictionary encoding for
    arrow strings (pandas' own factorize takes ~1 s per million arrow strings), pandas.factorize otherwise."""
    if _arrow_backed(values):
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(values.array)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        enc = pc.dictionary_encode(arr)
        codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        return codes, (enc.dictionary.to_pylist() if with_uniques else len(enc.dictionary))
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, (list(uniques) if with_uniques else len(uniques))


def _digits_int(values: pd.Series, start: int, stop: int) -> np.ndarray:
    """int32 of a fixed slice of digit strings (pyarrow cast; pandas' astype(int) goes through Python)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values.astype("str").array)
    return pc.cast(pc.utf8_slice_codeunits(arr, start, stop), pa.int32()).to_numpy(zero_copy_only=False)


def _ddmmyy(niks: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Day (+40 for women), month and two-digit year of 16-digit NIKs: one cast of digits 7-12."""
    six = _digits_int(niks, 6, 12)
    return six // 10000, six // 100 % 100, six % 100


def _by_unique(values: pd.Series, fn) -> np.ndarray:
    """Apply `fn` once per distinct value: OPD columns repeat a few kelurahan, programs and dates many times."""
    codes, uniques = factorize(values)
    mapped = np.array([fn(u) for u in uniques] + [fn(None)], dtype=object)
    return mapped[codes]  # code -1 picks fn(None), the last element


def nik_series(display: pd.Series, *, kind: str = "nik") -> tuple[pd.Series, np.ndarray]:
    """Vectorised NIK / No KK check on displayed text: (16-digit text or NA, problem code or None).

    Problem codes follow `tkpk.normalize.nik` (kosong, notasi_ilmiah, bukan_angka, panjang_salah, placeholder,
    kode_wilayah_salah, tanggal_salah); `kosong` is left to the caller (required or tolerated). Cells that are
    already 16 digits (nearly all) skip the cleaning regexes."""
    n = len(display)
    problem = _none(n)
    clean = display.str.fullmatch(r"[0-9]{16}").to_numpy(dtype=bool, na_value=False)
    digits = display.copy()
    if not clean.all():
        rest = ~clean
        text = display[rest].str.replace(r"\.0\Z", "", regex=True)
        sub = _none(int(rest.sum()))
        empty = is_empty(text).to_numpy()
        sub[empty] = "kosong"
        sub[~empty & text.str.match(_SCI).to_numpy(dtype=bool, na_value=False)] = "notasi_ilmiah"
        cleaned = text.str.replace(_NIK_STRIP, "", regex=True)
        pending = _is_none(sub)
        sub[pending & ~cleaned.str.fullmatch(r"[0-9]+").to_numpy(dtype=bool, na_value=False)] = "bukan_angka"
        pending = _is_none(sub)
        sub[pending & (cleaned.str.len().to_numpy() != 16)] = "panjang_salah"
        problem[rest] = sub
        digits[rest] = cleaned
    pending = _is_none(problem)
    placeholder = (digits.isin([d * 16 for d in "0123456789"]) | digits.str.endswith("0000")
                   | digits.str.startswith("0000")).to_numpy(dtype=bool, na_value=False)
    problem[pending & placeholder] = "placeholder"
    pending = _is_none(problem)
    region = (~digits.str[:2].isin(PROVINCES) | (digits.str[2:4] == "00")).to_numpy(dtype=bool, na_value=True)
    problem[pending & region] = "kode_wilayah_salah"
    pending = _is_none(problem)
    if kind == "nik" and bool(pending.any()):
        day, month, yy = _ddmmyy(digits[pending])
        day = np.where(day > 40, day - 40, day)
        max_day = _MONTH_DAYS[np.clip(month, 0, 12)]
        max_day = np.where((month == 2) & (yy % 4 != 0), 28, max_day)
        bad = (month < 1) | (month > 12) | (day < 1) | (day > max_day)
        problem[np.flatnonzero(pending)[bad]] = "tanggal_salah"
    ok = _is_none(problem)
    normalised = digits.where(ok, pd.NA).astype("str")
    return normalised, problem


def decode_nik_series(nik: pd.Series, end: date) -> pd.DataFrame:
    """Birth date (datetime64, century chosen so the date is on or before E), sex (L/P) and issue region of valid
    NIKs; NaT/NA elsewhere."""
    valid = nik.notna()
    out = pd.DataFrame(index=nik.index)
    out["birth"] = pd.Series(pd.NaT, index=nik.index, dtype="datetime64[s]")
    out["sex"] = pd.Series(None, index=nik.index, dtype=object)
    out["kota_jambi"] = pd.Series(_unknown_bool(len(nik)), index=nik.index)
    if not bool(valid.any()):
        return out
    sub = nik[valid]
    day, month, yy = _ddmmyy(sub)
    female = day > 40
    day = np.where(female, day - 40, day)
    year = birth_years(yy, month, day, end)  # the one century rule (tkpk.normalize.nik)
    year = np.where(valid_dates(year, month, day), year, 2000 + yy)  # 29 February 2000 (1900 was no leap year)
    births = np.full(len(nik), np.datetime64("NaT"), dtype="datetime64[D]")
    stamp = (year - 1970).astype("datetime64[Y]") + (month - 1).astype("timedelta64[M]")
    births[valid.to_numpy()] = stamp.astype("datetime64[D]") + (day - 1).astype("timedelta64[D]")
    out["birth"] = pd.Series(births.astype("datetime64[s]"), index=nik.index)
    sex = _none(len(nik))
    sex[valid.to_numpy()] = np.where(female, "P", "L")
    out["sex"] = pd.Series(sex, index=nik.index, dtype=object)
    kota = _unknown_bool(len(nik))
    kota[valid.to_numpy()] = sub.str.startswith(KOTA_JAMBI_PREFIX).to_numpy(dtype=bool)
    out["kota_jambi"] = pd.Series(kota, index=nik.index)
    return out


def _parse_date_cell(value: object):
    """A date from a raw cell, or a problem code string: `tkpk.normalize.dates.date_cell`, the rule the registry
    loader and linkage use too (a four-digit number is a year, not an Excel serial day)."""
    return date_cell(value)


_FAST_DATE_FORMATS = (  # (RE2 pattern, strptime format): the common spellings, parsed in bulk
    (r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}\Z", "%d/%m/%Y"),
    (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z", "%Y-%m-%d"),
    (r"^[0-9]{1,2}-[0-9]{1,2}-[0-9]{4}\Z", "%d-%m-%Y"),
)


def _fast_dates(uniques: list, parsed: np.ndarray) -> np.ndarray:
    """Parse the distinct values written dd/mm/yyyy, yyyy-mm-dd or dd-mm-yyyy in bulk; mark which were done.
    Impossible dates (31/02/2026) are left for the slow path, which reports them."""
    done = np.zeros(len(uniques), dtype=bool)
    if len(uniques) < 64:
        return done
    texts = pd.Series([u if isinstance(u, str) else None for u in uniques], dtype="str").str.strip()
    for pattern, fmt in _FAST_DATE_FORMATS:
        match = texts.str.match(pattern).to_numpy(dtype=bool, na_value=False) & ~done
        if not match.any():
            continue
        got = pd.to_datetime(texts[match], format=fmt, errors="coerce")
        ok = got.notna().to_numpy()
        where = np.flatnonzero(match)[ok]
        parsed[where] = got[ok].to_numpy().astype("datetime64[D]")
        done[where] = True
    _fast_word_dates(texts, parsed, done)
    return done


# "12 Agustus 1985", "5-Mei-1999", "1 Okt. 2020": `tkpk.normalize.dates`' word form, ASCII spaces only (anything
# rarer is left to the slow path).
_WORD_DATE = r"^([0-9]{1,2})[ \t\-]+([A-Za-z]+)\.?[ \t\-]+([0-9]{4})\Z"


def _fast_word_dates(texts: pd.Series, parsed: np.ndarray, done: np.ndarray) -> None:
    """Dates with the month written as a word, in bulk (a fifth of the birth dates in many OPD files). A month
    name `MONTHS` does not know and an impossible date (31 Februari) are left for the slow path, which reports
    them."""
    pending = ~done & texts.notna().to_numpy()
    if not pending.any():
        return
    parts = texts[pending].str.extract(_WORD_DATE)
    month = parts[1].str.lower().map(MONTHS)
    ok = (parts[0].notna() & month.notna()).to_numpy()
    if not ok.any():
        return
    day = parts[0][ok].astype("int64").to_numpy()
    year = parts[2][ok].astype("int64").to_numpy()
    month = month[ok].astype("int64").to_numpy()
    real = valid_dates(year, month, day) & (year >= 1)
    where = np.flatnonzero(pending)[ok][real]
    year, month, day = year[real], month[real], day[real]
    stamp = (year - 1970).astype("datetime64[Y]") + (month - 1).astype("timedelta64[M]")
    parsed[where] = stamp.astype("datetime64[D]") + (day - 1).astype("timedelta64[D]")
    done[where] = True


def date_series(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """(datetime64[s] with NaT, problem code or None) from raw cells, parsed once per distinct value."""
    codes, uniques = factorize(raw)
    n = len(uniques)
    parsed = np.full(n + 1, np.datetime64("NaT"), dtype="datetime64[D]")
    problems = _none(n + 1)
    done = _fast_dates(uniques, parsed)
    for i, u in enumerate(uniques):
        if done[i]:
            continue
        got = _parse_date_cell(u)
        if isinstance(got, str):
            problems[i] = got
        elif got is not None:
            parsed[i] = np.datetime64(got, "D")
    values = pd.Series(parsed[codes].astype("datetime64[s]"), index=raw.index)
    return values, problems[codes]


def _amount_cell(value: object):
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str) and value.strip().lower() in EMPTY_TEXT:
        return None
    if isinstance(value, (datetime, date, time, timedelta)):
        return "bukan_angka"
    amount = parse_amount(value)
    return "bukan_angka" if amount is None else amount


def number_series(raw: pd.Series, *, integer: bool = False) -> tuple[pd.Series, np.ndarray]:
    """(Int64 with NA, problem code or None) from raw cells, parsed once per distinct value. Amounts are rounded to
    whole rupiah; with `integer` a fractional value is a problem (`bukan_bilangan_bulat`)."""
    codes, uniques = factorize(raw)
    n = len(uniques)
    ints = np.zeros(n + 1, dtype=np.int64)
    missing = np.ones(n + 1, dtype=bool)
    problems = _none(n + 1)
    for i, u in enumerate(uniques):
        got = _amount_cell(u)
        if isinstance(got, str):
            problems[i] = got
        elif got is not None:
            if integer and got != got.to_integral_value():
                problems[i] = "bukan_bilangan_bulat"
            else:
                ints[i] = int(got.quantize(Decimal(1), rounding=ROUND_HALF_UP))
                missing[i] = False
    values = pd.Series(pd.arrays.IntegerArray(ints[codes], missing[codes]), index=raw.index)
    return values, problems[codes]


def _enum_mapper(allowed: tuple[str, ...]):
    keys = {header_key(v): v for v in allowed}

    def fn(text):
        if text is None:
            return None
        return keys.get(header_key(text), "")

    return fn


def kelurahan_lookup(index: KelurahanIndex):
    def fn(text):
        if text is None or text.lower() in EMPTY_TEXT:
            return None
        return index.code(text) or ""  # the one kelurahan rule (tkpk.normalize.kelurahan)

    return fn


# --- the whole frame -------------------------------------------------------------------------------------------------


@dataclass
class Normalised:
    values: pd.DataFrame
    display: pd.DataFrame
    helpers: pd.DataFrame
    decoded: dict[str, pd.DataFrame] = field(default_factory=dict)  # NIK column -> decode_nik_series
    present: list[str] = field(default_factory=list)  # canonical columns found in the file


def normalise(frame: pd.DataFrame, stype: SubmissionType, end: date, kelurahan: KelurahanIndex) -> Normalised:
    """Normalise every canonical column of `frame` (missing optional columns get their default) and build helpers."""
    index = frame.index
    n = len(frame)
    values: dict[str, pd.Series] = {}
    display: dict[str, pd.Series] = {}
    problems: dict[str, np.ndarray] = {}
    present = [c.name for c in stype.columns if c.name in frame.columns]
    end64 = np.datetime64(end, "D")

    for col in stype.columns:
        name = col.name
        if name not in frame.columns:
            display[name] = pd.Series("", index=index, dtype="str")
            values[name] = _default_series(col, index)
            problems[name] = _none(n)
            continue
        raw = frame[name]
        shown = display_series(raw)
        display[name] = shown
        empty_s = is_empty(shown)
        empty = empty_s.to_numpy()
        kind = col.kind

        if kind in ("nik", "kk"):
            value, code = nik_series(shown, kind=kind)
            prefix = "nik_" if kind == "nik" else "kk_"
            problem = _none(n)
            flagged = ~_is_none(code) & (code != "kosong")
            problem[flagged] = np.char.add(prefix, code[flagged].astype(str)).astype(object)
        elif kind == "date":
            value, problem = date_series(raw.where(~empty_s, None))
            v = value.to_numpy()
            has = ~np.isnat(v)
            limit = (end64 + np.timedelta64(col.max_days_after_end, "D")).astype("datetime64[s]")
            problem = np.where(has & (v < _MIN_DATE.astype("datetime64[s]")), "tanggal_terlalu_lama", problem)
            late = "tanggal_masa_depan" if col.max_days_after_end == 0 else "tanggal_terlalu_jauh"
            problem = np.where(has & (v > limit), late, problem).astype(object)
            value = value.where(_is_none(problem))
        elif kind in ("int", "amount"):
            value, problem = number_series(raw.where(~empty_s, None), integer=kind == "int")
            value, problem = _numbers(value, problem, col, end)
        elif kind in ("kelurahan", "enum", "sex", "yn", "rtrw"):
            fn, code_name = _coded(kind, col, kelurahan)
            got = _by_unique(shown.where(~empty_s, None), fn)
            bad = got == ""
            problem = np.where(bad, code_name, None).astype(object)
            got[bad] = None
            value = pd.Series(got, index=index, dtype="str")
        else:  # text, name
            value = shown  # whitespace runs and control characters become one space
            if bool(shown.str.contains(r"[\x00-\x20\xa0]{2}|[\x00-\x1f\xa0]", regex=True).any()):
                value = shown.str.replace(r"[\x00-\x20\xa0]+", " ", regex=True)
            value = value.where(~empty_s, pd.NA).astype("str")
            problem = _none(n)

        # Empty cells: required -> wajib_diisi; optional -> the default (no finding).
        if col.required:
            problem = np.where(empty, "wajib_diisi", problem).astype(object)
        else:
            problem = np.where(empty, None, problem).astype(object)
            if col.default is not None:
                value = value.where(~empty_s, _default_series(col, index))
        values[name] = value
        problems[name] = problem

    values_df = pd.DataFrame(values, index=index)
    helpers: dict[str, object] = {}
    if stype.require_one_of:
        _require_one_of(stype, display, problems, helpers, present, n)
    decoded = _nik_helpers(values_df, problems, helpers, stype, end, present)
    for name, problem in problems.items():
        helpers[f"_{name}_problem"] = problem_codes(problem)
    _age_helper(values_df, helpers, end)
    helpers_df = pd.DataFrame(helpers, index=index)
    return Normalised(values=values_df, display=pd.DataFrame(display, index=index), helpers=helpers_df,
                      decoded=decoded, present=present)


def _require_one_of(stype: SubmissionType, display: dict, problems: dict, helpers: dict, present: list[str],
                    n: int) -> None:
    """Columns of which each row must fill at least one (kelurahan_verval: nik or no_kk). A row with all of them
    empty is a row error on the first; `_one_of_present` (1 when the file has at least one of the columns) lets the
    suite reject a file that has none of them."""
    names = stype.require_one_of
    none_filled = np.ones(n, dtype=bool)
    for name in names:
        none_filled &= is_empty(display[name]).to_numpy()
    first = names[0]
    problems[first] = np.where(none_filled & _is_none(problems[first]), "salah_satu_wajib_diisi",
                               problems[first]).astype(object)
    helpers["_one_of_present"] = np.full(n, int(any(name in present for name in names)), dtype=np.int8)


def _coded(kind: str, col, kelurahan: KelurahanIndex):
    """(function raw text -> normalised value, '' when unknown, None when empty; problem code)."""
    if kind == "kelurahan":
        return kelurahan_lookup(kelurahan), "kelurahan_tidak_dikenal"
    if kind == "enum":
        return _enum_mapper(col.values), "nilai_tidak_dikenal"
    fn = {"sex": normalize_sex, "yn": normalize_yn, "rtrw": normalize_rt_rw}[kind]
    code = {"sex": "jenis_kelamin_tidak_dikenal", "yn": "ya_tidak_tidak_dikenal", "rtrw": "rt_rw_tidak_valid"}[kind]
    return (lambda v: None if v is None else (fn(v) or "")), code


def _numbers(value: pd.Series, problem: np.ndarray, col, end: date) -> tuple[pd.Series, np.ndarray]:
    """Range checks of int/amount columns (min/max, tahun_anggaran between min_year and year(E) + n)."""
    bounds = column_bounds(col, end)
    has = value.notna().to_numpy()
    v = value.fillna(0).to_numpy(dtype=np.int64)
    if bounds["min"] is not None:
        problem = np.where(has & (v < bounds["min"]), "di_bawah_minimum", problem).astype(object)
    if bounds["max"] is not None:
        problem = np.where(has & (v > bounds["max"]), "di_atas_maksimum", problem).astype(object)
    return value.where(_is_none(problem)), problem


def column_bounds(col, end: date) -> dict:
    """The bounds a range message names (for int/amount columns)."""
    lo = col.min if col.min is not None else col.min_year
    hi = col.max if col.max_years_after_end is None else end.year + col.max_years_after_end
    return {"min": lo, "max": hi}


def _default_series(col, index) -> pd.Series:
    if col.kind in ("int", "amount"):
        default = None if col.default is None else int(parse_amount(col.default))
        return pd.Series([default] * len(index), index=index, dtype="Int64")
    if col.kind == "date":
        return pd.Series(pd.NaT, index=index, dtype="datetime64[s]")
    default = None if col.default is None else str(col.default)
    if default is not None and col.kind == "enum":
        default = _enum_mapper(col.values)(default) or default
    return pd.Series([default] * len(index), index=index, dtype="str")


def _nik_helpers(values: pd.DataFrame, problems: dict, helpers: dict, stype: SubmissionType, end: date,
                 present: list[str]) -> dict:
    """NIK-derived warnings: issued outside Kota Jambi, birth date / sex disagreeing with the stated ones, and the
    tolerated missing NIK (dinkes_ibu_hamil, kelurahan_usulan: only when nama, tanggal_lahir and kode_kelurahan
    are present and valid)."""
    n = len(values)
    decoded: dict[str, pd.DataFrame] = {}
    for col in stype.columns:
        if col.kind != "nik":
            continue
        info = decode_nik_series(values[col.name], end)
        decoded[col.name] = info
        helpers[f"_{col.name}_in_kota_jambi"] = info["kota_jambi"].array
    if "nik" not in decoded:
        return decoded
    info = decoded["nik"]
    for column, key, helper in (("tanggal_lahir", "birth", "_nik_birth_agrees"),
                                ("jenis_kelamin", "sex", "_nik_sex_agrees")):
        if column not in values:
            continue
        stated = values[column]
        both = (info[key].notna() & stated.notna()).to_numpy()
        agrees = _unknown_bool(n)
        if bool(both.any()):
            agrees[both] = (info[key][both].to_numpy() == stated[both].to_numpy())
        helpers[helper] = agrees
    warning = _none(n)
    if stype.nik_optional_when and "nik" in present:
        others_ok = np.ones(n, dtype=bool)
        for other in stype.nik_optional_when:
            if other not in values:
                others_ok[:] = False
                continue
            others_ok &= values[other].notna().to_numpy() & _is_none(problems[other])
        tolerated = (problems["nik"] == "wajib_diisi") & others_ok
        problems["nik"] = np.where(tolerated, None, problems["nik"]).astype(object)
        warning[tolerated] = "nik_kosong_diterima"
    helpers["_nik_warning"] = problem_codes(warning)
    return decoded


def _age_helper(values: pd.DataFrame, helpers: dict, end: date) -> None:
    """Full years at E, as float (NaN when no birth date) so GX's `between` ignores the missing ones."""
    if "tanggal_lahir" not in values:
        return
    born = values["tanggal_lahir"]
    before_birthday = (born.dt.month > end.month) | ((born.dt.month == end.month) & (born.dt.day > end.day))
    age = (end.year - born.dt.year - before_birthday.astype(float)).astype(float)
    helpers["_age"] = age.where(born.notna()).to_numpy()


def duplicate_rows(display: pd.DataFrame, rows) -> pd.Series:
    """For each row that repeats an earlier row exactly (every canonical cell equal, as shown), the Excel row number
    of the first one; NaN elsewhere. Rows are keyed by combining per-column codes (exact, no hashing), column by
    column; a row whose key is already unique cannot repeat another and is dropped, so after a NIK or name column
    the other columns are coded for the few rows left."""
    n = len(display)
    out = np.full(n, np.nan)
    if n == 0 or len(display.columns) == 0:
        return pd.Series(out, index=display.index)
    alive = np.arange(n)  # rows that may still repeat another
    key = np.zeros(n, dtype=np.int64)
    for c in display.columns:
        column = display[c] if len(alive) == n else display[c].iloc[alive]
        codes, count = factorize(column, with_uniques=False)
        key = key * (count + 1) + (codes + 1)  # key < len(alive) before this step: no overflow below 2**62 rows
        shared = pd.Series(key).duplicated(keep=False).to_numpy()
        alive, key = alive[shared], key[shared]
        if not len(alive):
            return pd.Series(out, index=display.index)
        key = pd.factorize(key)[0].astype(np.int64)  # re-number (< len(alive)) for the next column
    _u, first_pos = np.unique(key, return_index=True)
    first_of = alive[first_pos[np.searchsorted(_u, key)]]
    dup = first_of != alive
    out[alive[dup]] = np.asarray(rows, dtype=float)[first_of[dup]]
    return pd.Series(out, index=display.index)
