"""XLSX attachments (xlsxwriter): the detail tables behind every report, formatted for people who open them in Excel.

Each sheet has a title, a bold header row that stays in view, an autofilter, sensible column widths and number
formats (counts `#.##0`, rupiah, percentages, dates). Safety, whoever the recipient:
- text is always written as text (never a formula, URL or number), and text that starts with `= + - @` (or a tab or
  carriage return) carries Excel's quote prefix, so opening or re-saving the file never turns it into a formula;
- NIK and No KK columns are masked (`157101******0001`) and every other text cell has each NIK/No KK masked however
  it is written (`tkpk.normalize.nik.mask_text`: spaced, dotted, dashed, 15-18 digits), unless the workbook is built
  for a recipient with `pii: true`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime

from tkpk.normalize.nik import mask, mask_text

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_WIDTH = 60


@dataclass
class Column:
    key: str
    header: str
    kind: str = "text"  # text | int | rupiah | percent | date | nik (NIK or No KK)
    width: int | None = None


@dataclass
class Sheet:
    name: str  # at most 31 characters (Excel)
    title: str
    columns: list[Column]
    rows: list[dict]
    note: str | None = None
    extra: dict = field(default_factory=dict)


def neutralise(text: str) -> tuple[str, bool]:
    """(text, needs_quote_prefix): formula-like text stays exactly as typed, marked as text."""
    return text, text.startswith(FORMULA_PREFIXES)


def _as_date(value) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return datetime.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _is_missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN / NA
    except (TypeError, ValueError):
        return False


def write_workbook(sheets: list[Sheet], *, pii: bool, title: str) -> bytes:
    """Render the sheets to XLSX bytes. `pii=False` masks every NIK/No KK (see the module docstring)."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {
        "in_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    })
    wb.set_properties({"title": title, "author": "TKPK Kota Jambi", "company": "Pemerintah Kota Jambi",
                       "comments": "Dibuat otomatis oleh pipeline data TKPK Kota Jambi"})
    base = {"font_name": "Calibri", "font_size": 10, "valign": "top"}
    fmt = {
        "title": wb.add_format({**base, "bold": True, "font_size": 13}),
        "note": wb.add_format({**base, "italic": True, "font_color": "#4b5563"}),
        "header": wb.add_format({**base, "bold": True, "bg_color": "#0f766e", "font_color": "#ffffff",
                                 "text_wrap": True, "border": 1, "border_color": "#d1d5db"}),
        "text": wb.add_format({**base, "text_wrap": False}),
        "text_quoted": wb.add_format({**base, "quote_prefix": True}),
        "nik": wb.add_format({**base, "num_format": "@"}),
        "int": wb.add_format({**base, "num_format": "#,##0"}),
        "rupiah": wb.add_format({**base, "num_format": '"Rp"#,##0'}),
        "percent": wb.add_format({**base, "num_format": "0.00%"}),
        "date": wb.add_format({**base, "num_format": "dd/mm/yyyy"}),
    }
    used_names: set[str] = set()
    for sheet in sheets:
        name = _sheet_name(sheet.name, used_names)
        ws = wb.add_worksheet(name)
        ws.write_string(0, 0, sheet.title, fmt["title"])
        header_row = 1
        if sheet.note:
            ws.write_string(1, 0, sheet.note, fmt["note"])
            header_row = 2
        header_row += 1
        widths = [len(c.header) for c in sheet.columns]
        for j, col in enumerate(sheet.columns):
            ws.write_string(header_row, j, col.header, fmt["header"])
        for i, row in enumerate(sheet.rows, start=header_row + 1):
            for j, col in enumerate(sheet.columns):
                shown = _write_cell(ws, i, j, row.get(col.key), col.kind, fmt, pii)
                widths[j] = max(widths[j], len(shown))
        for j, col in enumerate(sheet.columns):
            ws.set_column(j, j, col.width or min(max(widths[j] + 2, 8), MAX_WIDTH))
        ws.freeze_panes(header_row + 1, 0)
        if sheet.rows:
            ws.autofilter(header_row, 0, header_row + len(sheet.rows), len(sheet.columns) - 1)
        else:
            ws.write_string(header_row + 1, 0, "(tidak ada data)", fmt["note"])
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(header_row)
    wb.close()
    return buf.getvalue()


def _write_cell(ws, i: int, j: int, value, kind: str, fmt: dict, pii: bool) -> str:
    """Write one cell; return the text as shown (for the column width)."""
    if _is_missing(value):
        ws.write_blank(i, j, None, fmt["text"])
        return ""
    if kind in ("int", "rupiah", "percent") and not isinstance(value, str):
        number = float(value)
        ws.write_number(i, j, number, fmt[kind])
        return f"{number:,.0f}" if kind != "percent" else "100,00%"
    if kind == "date":
        when = _as_date(value)
        if when is not None:
            ws.write_datetime(i, j, when, fmt["date"])
            return "00/00/0000"
    text = str(value)
    if kind == "nik":
        text = text if pii else mask(text)
        ws.write_string(i, j, text, fmt["nik"])
        return text
    if not pii:
        text = mask_text(text)
    text, quoted = neutralise(text)
    ws.write_string(i, j, text, fmt["text_quoted" if quoted else "text"])
    return text


def _sheet_name(name: str, used: set[str]) -> str:
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31] or "Data"
    candidate, n = clean, 2
    while candidate.lower() in used:
        suffix = f" ({n})"
        candidate = clean[: 31 - len(suffix)] + suffix
        n += 1
    used.add(candidate.lower())
    return candidate
