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
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import date, datetime
from math import isinf

from xlsxwriter.utility import _utf16_len, _utf16_truncate, xl_col_to_name
from xlsxwriter.worksheet import Worksheet

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


def new_workbook(buf, title: str):
    """An xlsxwriter workbook writing into `buf` (no formulas, URLs or numbers guessed from text), its document
    properties set, and the cell formats of every TKPK workbook: (workbook, formats by name)."""
    import xlsxwriter

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
    return wb, fmt


def finish_sheet(ws, sheet: Sheet, header_row: int, widths: list[int], note) -> None:
    """Column widths from the longest text shown, frozen header, filter (or "(tidak ada data)" written by
    `note(ws, row, text)`), landscape pages one wide with the header repeated: the layout of every TKPK sheet."""
    for j, col in enumerate(sheet.columns):
        ws.set_column(j, j, col.width or min(max(widths[j] + 2, 8), MAX_WIDTH))
    ws.freeze_panes(header_row + 1, 0)
    if sheet.rows:
        ws.autofilter(header_row, 0, header_row + len(sheet.rows), len(sheet.columns) - 1)
    else:
        note(ws, header_row + 1, "(tidak ada data)")
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(header_row)


def write_workbook(sheets: list[Sheet], *, pii: bool, title: str) -> bytes:
    """Render the sheets to XLSX bytes. `pii=False` masks every NIK/No KK (see the module docstring)."""
    buf = io.BytesIO()
    wb, fmt = new_workbook(buf, title)

    def put(ws, row: int, col: int, text: str, cell_format) -> None:
        ws.write_string(row, col, text, cell_format)
        cell_format._get_xf_index()  # style numbers in the order xlsxwriter would give them (see _BulkWorksheet)

    used_names: set[str] = set()
    for sheet in sheets:
        name = _sheet_name(sheet.name, used_names)
        ws = wb.add_worksheet(name, worksheet_class=_BulkWorksheet)
        put(ws, 0, 0, sheet.title, fmt["title"])
        header_row = 1
        if sheet.note:
            put(ws, 1, 0, sheet.note, fmt["note"])
            header_row = 2
        header_row += 1
        for j, col in enumerate(sheet.columns):
            put(ws, header_row, j, col.header, fmt["header"])
        widths = ws.write_rows(header_row + 1, sheet.columns, sheet.rows, fmt, pii, wb.str_table)
        finish_sheet(ws, sheet, header_row, widths, lambda w, row, text: put(w, row, 0, text, fmt["note"]))
    wb.close()
    return buf.getvalue()


class _BulkWorksheet(Worksheet):
    """A worksheet whose data rows are rendered to their `<row>` XML in one pass when they are written.

    xlsxwriter's cell API keeps a tuple per cell and renders each through generic XML helpers at `close()`: for a
    by-name list of 2 million cells that was most of the send step. The XML made here is the same, byte for byte
    (tests/reports/test_xlsx.py compares every part of the package with the per-cell writer): the same shared-string
    and style numbers, assigned in the same (row-major) order, the same `spans`, the same number text."""

    def __init__(self):
        super().__init__()
        self._bulk_first: int | None = None  # first row of the rendered block (0-based)
        self._bulk_xml: list[str] = []

    def write_rows(self, first: int, columns: list[Column], rows: list[dict], fmt: dict, pii: bool,
                   str_table) -> list[int]:
        """Render `rows` from row `first` on (one cell per column, blank cells keep the text format); return the
        shown width of each column (headers included)."""
        widths = [len(c.header) for c in columns]
        if not rows or not columns:
            return widths
        # the rows Excel can hold; later ones are dropped, as xlsxwriter's write_* calls drop them (-1)
        last = min(first + len(rows), self.xls_rowmax) - 1
        sst = str_table._get_shared_string_index
        strmax = self.xls_strmax
        # format name -> ` s="n"`; a format without a number gets it at its first use, in row-major order, as at
        # xlsxwriter's close() (the header formats were numbered when written)
        xf = {name: f' s="{f.xf_index}"' for name, f in fmt.items() if f.xf_index is not None}

        def style(name: str) -> str:
            xf[name] = f' s="{fmt[name]._get_xf_index()}"'
            return xf[name]

        dates: dict = {}
        masked: dict[str, str] = {}  # mask_text per distinct text (file names, messages repeat down a column)
        spans = f'1:{len(columns)}'
        # per column: key, kind, `<c r="A` (the row number follows)
        plan = [(c.key, c.kind, f'<c r="{xl_col_to_name(j)}') for j, c in enumerate(columns)]
        numeric = ("int", "rupiah", "percent")
        append = self._bulk_xml.append
        row_number = first
        for row in rows[: last - first + 1]:
            row_number += 1
            r = str(row_number)
            cells = [f'<row r="{r}" spans="{spans}">']
            add = cells.append
            for j, (key, kind, ref) in enumerate(plan):
                value = row.get(key)
                if value is None or (type(value) is not str and _is_missing(value)):
                    add(f'{ref}{r}"{xf.get("text") or style("text")}/>')
                    continue
                if kind in numeric and not isinstance(value, str):
                    number = float(value)
                    if isinf(number):
                        raise TypeError("NAN/INF not supported in write_number() without 'nan_inf_to_errors' "
                                        "Workbook() option")
                    add(f'{ref}{r}"{xf.get(kind) or style(kind)}><v>{number:.16G}</v></c>')
                    shown = len(f"{number:,.0f}") if kind != "percent" else 7
                    if shown > widths[j]:
                        widths[j] = shown
                    continue
                if kind == "date":
                    serial = dates.get(value) if isinstance(value, Hashable) else None
                    if serial is None:
                        when = _as_date(value)
                        serial = "" if when is None else f"{self._convert_date_time(when):.16G}"
                        if isinstance(value, Hashable):
                            dates[value] = serial
                    if serial:
                        add(f'{ref}{r}"{xf.get("date") or style("date")}><v>{serial}</v></c>')
                        if widths[j] < 10:
                            widths[j] = 10
                        continue
                text = value if type(value) is str else str(value)
                if kind == "nik":
                    if not pii:
                        text = mask(text)
                    name = "nik"
                else:
                    if not pii:
                        shown_text = masked.get(text)
                        if shown_text is None:
                            shown_text = masked[text] = mask_text(text)
                        text = shown_text
                    name = "text_quoted" if text.startswith(FORMULA_PREFIXES) else "text"
                n = len(text)
                if n > widths[j]:
                    widths[j] = n
                if n > strmax // 2 and _utf16_len(text) > strmax:
                    text = _utf16_truncate(text, strmax)
                add(f'{ref}{r}"{xf.get(name) or style(name)} t="s"><v>{sst(text)}</v></c>')
            add("</row>")
            append("".join(cells))
        for row in rows[last - first + 1:]:  # beyond Excel's last row: not written, but measured like the rest
            for j, col in enumerate(columns):
                widths[j] = max(widths[j], _shown_width(row.get(col.key), col.kind, pii))
        if last >= first:
            self._bulk_first = first
            self._check_dimensions(last, len(columns) - 1)
        return widths

    def _write_rows(self) -> None:
        if self._bulk_first is None:
            super()._write_rows()
            return
        # the cells written one by one (title, note, header) all lie above the rendered block
        dim_rowmax = self.dim_rowmax
        self.dim_rowmax = self._bulk_first - 1
        try:
            super()._write_rows()
        finally:
            self.dim_rowmax = dim_rowmax
        self.fh.writelines(self._bulk_xml)
        self._bulk_xml = []


def _shown_width(value, kind: str, pii: bool) -> int:
    """The width of a cell as `write_rows` measures it, for rows it does not write."""
    if _is_missing(value):
        return 0
    if kind in ("int", "rupiah", "percent") and not isinstance(value, str):
        return len(f"{float(value):,.0f}") if kind != "percent" else 7
    if kind == "date" and _as_date(value) is not None:
        return 10
    text = str(value)
    if kind == "nik":
        return len(text if pii else mask(text))
    return len(text if pii else mask_text(text))


def _sheet_name(name: str, used: set[str]) -> str:
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31] or "Data"
    candidate, n = clean, 2
    while candidate.lower() in used:
        suffix = f" ({n})"
        candidate = clean[: 31 - len(suffix)] + suffix
        n += 1
    used.add(candidate.lower())
    return candidate
