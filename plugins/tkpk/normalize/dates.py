"""Indonesian dates as OPD files carry them: `01/10/2026`, `01-10-2026`, `1 Oktober 2026`, `1 Okt 2026`, ISO,
real Excel dates (cells typed as dates) and Excel serial numbers. Day first, always: Indonesia writes dd/mm/yyyy.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pandas as pd

MONTHS = {
    "januari": 1, "jan": 1, "februari": 2, "feb": 2, "pebruari": 2, "peb": 2, "maret": 3, "mar": 3,
    "april": 4, "apr": 4, "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "agustus": 8, "agu": 8,
    "agt": 8, "agus": 8, "ags": 8, "september": 9, "sep": 9, "sept": 9, "oktober": 10, "okt": 10,
    "november": 11, "nov": 11, "nopember": 11, "nop": 11, "desember": 12, "des": 12,
    # English, seen in exports from English-locale Excel
    "january": 1, "february": 2, "march": 3, "may": 5, "june": 6, "july": 7, "august": 8, "aug": 8,
    "october": 10, "oct": 10, "december": 12, "dec": 12,
}
_EXCEL_EPOCH = date(1899, 12, 30)
_NUMERIC_RE = re.compile(r"^(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{2,4})$")
_ISO_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_WORD_RE = re.compile(r"^(\d{1,2})[\s\-]+([A-Za-z]+)\.?[\s\-]+(\d{4})$")
_DMY_TIME_RE = re.compile(r"^(\d{1,2}[/\-.]\d{1,2}[/\-.]\d{2,4})\s+\d{1,2}:\d{2}(?::\d{2})?$")


def _year(y: str) -> int:
    value = int(y)
    if len(y) == 2:
        # Two-digit years in birth dates: 00-29 -> 2000s, else 1900s (OPD files rarely carry them).
        value += 2000 if value < 30 else 1900
    return value


def _make(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


# What an empty date cell looks like in OPD files and registry exports.
EMPTY_TEXT = frozenset({"", "-", "--", "nan", "nat", "none", "null", "n/a", "#n/a", "<na>"})
DATE_INCOMPLETE = "tanggal_tidak_lengkap"
DATE_UNREADABLE = "tanggal_tidak_terbaca"


def _bare_year(value: object) -> bool:
    """1985, "1985", 1985.0: a year alone, never an Excel serial day (serial 1985 is 7 June 1905)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return value == value and float(value).is_integer() and 1900 <= value <= 2100
    text = str(value).strip()
    return len(text) == 4 and text.isdigit() and 1900 <= int(text) <= 2100


def date_cell(value: object) -> date | str | None:
    """The one reading of a date cell for ingest, the registry loader and linkage: a date, None for an empty cell,
    or a problem code: `tanggal_tidak_lengkap` (a year alone) or `tanggal_tidak_terbaca`. Also reads the date
    part of a "TTL" cell (tempat, tanggal lahir: "Jambi, 12 Agustus 1985")."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, bool):
        return DATE_UNREADABLE
    if isinstance(value, float) and value != value:
        return None
    if not isinstance(value, (date, datetime, pd.Timestamp)):
        if _bare_year(value):
            return DATE_INCOMPLETE
        if isinstance(value, str) and value.strip().lower() in EMPTY_TEXT:
            return None
    parsed = _parse(value)
    if parsed is None and isinstance(value, str) and "," in value:
        tail = value.rsplit(",", 1)[1].strip()
        if _bare_year(tail):
            return DATE_INCOMPLETE
        parsed = _parse(tail)
    return parsed or DATE_UNREADABLE


def parse_date(value: object) -> date | None:
    """A date, or None when the value is empty, a year alone, or cannot be read as a real calendar date."""
    got = date_cell(value)
    return got if isinstance(got, date) else None


def _parse(value: object) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if isinstance(value, (int, float)):
        if value != value:  # NaN
            return None
        if 1 <= value < 2958466:  # Excel serial day number
            return _EXCEL_EPOCH + timedelta(days=int(value))
        return None
    text = str(value).strip()
    if not text or text.lower() in {"nan", "nat", "none", "-"}:
        return None
    m = _DMY_TIME_RE.match(text)
    if m:
        text = m.group(1)
    m = _NUMERIC_RE.match(text)
    if m:
        return _make(_year(m.group(3)), int(m.group(2)), int(m.group(1)))
    m = _ISO_RE.match(text)
    if m:
        return _make(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _WORD_RE.match(text)
    if m:
        month = MONTHS.get(m.group(2).lower())
        return _make(int(m.group(3)), month, int(m.group(1))) if month else None
    if text.isdigit() and 3 <= len(text) <= 5:  # Excel serial written as text
        return _EXCEL_EPOCH + timedelta(days=int(text))
    return None


def parse_date_series(values: pd.Series) -> pd.Series:
    """Vectorised `parse_date`: a Series of `datetime.date` objects or None. Fast path for the common formats."""
    out = pd.Series([None] * len(values), index=values.index, dtype="object")
    if values.empty:
        return out
    is_str = values.map(lambda v: isinstance(v, str))
    strings = values[is_str].str.strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"):
        pending = strings[out[strings.index].isna()]
        if pending.empty:
            break
        parsed = pd.to_datetime(pending, format=fmt, errors="coerce")
        good = parsed.notna()
        if good.any():
            out[parsed[good].index] = [ts.date() for ts in parsed[good]]
    rest = out.isna() & values.notna()
    if rest.any():
        out[rest] = values[rest].map(parse_date)
    return out


def age_on(born: date, on: date) -> int:
    """Full years at `on` (E)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
