"""XLSX attachments: formula-like text stays text, NIK/No KK masked unless the workbook is for a pii recipient."""

from __future__ import annotations

import io
import re
from datetime import date

import openpyxl

NIK = "1571015505800001"
KK = "1571011503150001"


def _book(pii: bool):
    from tkpk.reports.xlsx import Column, Sheet, write_workbook

    sheet = Sheet("Uji", "Judul", [
        Column("nama", "Nama"), Column("nik", "NIK", "nik"), Column("no_kk", "No KK", "nik"),
        Column("catatan", "Catatan"), Column("jumlah", "Jumlah", "int"), Column("rp", "Rp", "rupiah"),
        Column("p", "Persen", "percent"), Column("tgl", "Tanggal", "date"),
    ], [
        {"nama": "=HYPERLINK(\"http://x\",\"klik\")", "nik": NIK, "no_kk": KK, "catatan": f"NIK {NIK} salah",
         "jumlah": 6562, "rp": 2_400_000, "p": 0.0108, "tgl": date(2026, 10, 31)},
        {"nama": "+62 812", "nik": None, "no_kk": "", "catatan": "-1", "jumlah": None, "rp": 0, "p": None,
         "tgl": "2026-01-02"},
        {"nama": "@SUM(A1)", "nik": "123", "no_kk": KK, "catatan": "\tcmd", "jumlah": 1, "rp": 1, "p": 1, "tgl": None},
    ], note="catatan")
    blob = write_workbook([sheet], pii=pii, title="uji")
    return openpyxl.load_workbook(io.BytesIO(blob)), blob


def _cells(wb):
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def test_formula_like_text_is_written_as_text():
    wb, _ = _book(pii=False)
    ws = wb["Uji"]
    header = [c.value for c in ws[4]]  # title, note, blank, header
    assert header[:3] == ["Nama", "NIK", "No KK"]
    names = [ws.cell(row=r, column=1) for r in (5, 6, 7)]
    assert [c.value for c in names] == ["=HYPERLINK(\"http://x\",\"klik\")", "+62 812", "@SUM(A1)"]
    for cell in names:
        assert cell.data_type == "s"  # a string, never a formula
        assert cell.quotePrefix, cell.coordinate  # Excel keeps it text when the cell is edited
    assert ws.cell(row=6, column=4).value == "-1" and ws.cell(row=6, column=4).data_type == "s"
    assert ws.freeze_panes == "A5"
    assert ws.auto_filter.ref == "A4:H7"
    assert ws.cell(row=5, column=5).value == 6562 and ws.cell(row=5, column=5).number_format == "#,##0"
    assert ws.cell(row=5, column=6).number_format == '"Rp"#,##0'
    assert ws.cell(row=5, column=7).number_format == "0.00%"
    assert ws.cell(row=5, column=8).value.date() == date(2026, 10, 31)


def test_nik_masked_unless_pii():
    masked, blob = _book(pii=False)
    values = [str(c.value) for c in _cells(masked)]
    assert not any(re.search(r"(?<!\d)\d{16}(?!\d)", v) for v in values)
    assert "157101******0001" in values
    assert "NIK 157101******0001 salah" in values
    assert NIK.encode() not in blob
    full, _ = _book(pii=True)
    values = [str(c.value) for c in _cells(full)]
    assert NIK in values and KK in values
    nik_cell = full["Uji"].cell(row=5, column=2)
    assert nik_cell.data_type == "s" and nik_cell.number_format == "@"  # text, so Excel keeps all 16 digits


def test_sheet_names_are_valid_and_unique():
    from tkpk.reports.xlsx import Column, Sheet, write_workbook

    sheets = [Sheet("Per kelurahan: detail/rinci [x]", "t", [Column("a", "A")], []) for _ in range(3)]
    wb = openpyxl.load_workbook(io.BytesIO(write_workbook(sheets, pii=False, title="t")))
    names = wb.sheetnames
    assert len(set(names)) == 3 and all(len(n) <= 31 for n in names)
    assert wb[names[0]]["A4"].value == "(tidak ada data)"
