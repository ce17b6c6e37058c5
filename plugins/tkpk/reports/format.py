"""Indonesian number, money, percentage and date formats for reports, charts and spreadsheets.

`6.562`, `Rp2.400.000` (tables) and `Rp1,61 miliar` (headlines), `1,08%`, `5 November 2026`: Babel's CLDR data for locale `id`, so the separators are the
ones an Indonesian reader expects. Used by the templates (as Jinja filters), the charts and the e-mail text part.
"""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

LOCALE = "id"
DASH = "–"


def angka(value: object) -> str:
    """An integer count: `6.562`. Missing values print as a dash."""
    if value is None or value != value:  # None or NaN
        return DASH
    return format_decimal(round(float(value)), format="#,##0", locale=LOCALE)


def desimal(value: object, digits: int = 1) -> str:
    if value is None or value != value:
        return DASH
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    return format_decimal(float(value), format=pattern, locale=LOCALE)


def rupiah(value: object) -> str:
    """`Rp1.607.700.800` (whole rupiah, as budgets are written; PUEBI: no space after Rp) for tables."""
    if value is None or value != value:
        return DASH
    v = round(float(value))
    return f"−Rp{angka(-v)}" if v < 0 else f"Rp{angka(v)}"


def rupiah_singkat(value: object) -> str:
    """Short form for headlines and chart labels: `Rp1,61 miliar`, `Rp2,4 juta`, `Rp500 ribu`."""
    if value is None or value != value:
        return DASH
    v = float(value)
    sign = "−" if v < 0 else ""
    for limit, suffix in ((1e12, "triliun"), (1e9, "miliar"), (1e6, "juta"), (1e3, "ribu")):
        if abs(v) >= limit:
            number = format_decimal(round(abs(v) / limit, 2), format="#,##0.##", locale=LOCALE)
            return f"{sign}Rp{number} {suffix}"
    return rupiah(v)


def persen(value: object, digits: int = 2) -> str:
    """A share (0..1) as `1,08%`; missing (no denominator) as a dash."""
    if value is None or value != value:
        return DASH
    pattern = "#,##0." + "0" * digits + "%" if digits else "#,##0%"
    return format_percent(float(value), format=pattern, locale=LOCALE)


def selisih(value: object) -> str:
    """A change against last month: `+12`, `−3` (true minus sign), `0`."""
    if value is None or value != value:
        return DASH
    v = round(float(value))
    if v > 0:
        return f"+{angka(v)}"
    if v < 0:
        return f"\u2212{angka(-v)}"
    return "0"


def tanggal(value: date | datetime | str | None) -> str:
    """`5 November 2026`."""
    if value is None or value == "":
        return DASH
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, "d MMMM yyyy", locale=LOCALE)


def share(numerator: float | int | None, denominator: float | int | None) -> float | None:
    """numerator / denominator, or None when there is nothing to divide by."""
    if not denominator or numerator is None:
        return None
    return round(float(numerator) / float(denominator), 6)  # stable hashes; no long digit runs in data.json


FILTERS = {
    "angka": angka,
    "desimal": desimal,
    "rupiah": rupiah,
    "rupiah_singkat": rupiah_singkat,
    "persen": persen,
    "selisih": selisih,
    "tanggal": tanggal,
}
