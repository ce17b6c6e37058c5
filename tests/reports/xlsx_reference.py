"""The XLSX writer as it was before the by-name lists were rendered in bulk: one xlsxwriter call per cell.

Kept for tests/reports/test_xlsx.py, which checks that `tkpk.reports.xlsx.write_workbook` still makes the same
package, part by part (values, styles, shared strings, sheet layout)."""

from __future__ import annotations

import io

from tkpk.normalize.nik import mask, mask_text
from tkpk.reports.xlsx import (
    Sheet,
    _as_date,
    _is_missing,
    _sheet_name,
    finish_sheet,
    neutralise,
    new_workbook,
)


def reference_workbook(sheets: list[Sheet], *, pii: bool, title: str) -> bytes:
    """The per-cell writer as it was before `_BulkWorksheet` (xlsxwriter's public API only)."""
    buf = io.BytesIO()
    wb, fmt = new_workbook(buf, title)  # the workbook and its formats are the same for both writers
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
        finish_sheet(ws, sheet, header_row, widths, lambda w, row, text: w.write_string(row, 0, text, fmt["note"]))
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
