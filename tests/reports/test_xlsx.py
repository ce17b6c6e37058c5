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


def _parts(blob: bytes) -> dict[str, bytes]:
    """Every part of the package; the creation time in docProps/core.xml blanked (it is the clock's)."""
    import zipfile

    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["docProps/core.xml"] = re.sub(rb"<dcterms:(created|modified)[^>]*>[^<]*<", b"<", parts["docProps/core.xml"])
    return parts


def _varied_sheets():
    """Sheets with every kind of cell, missing values of every sort, an empty sheet and one without a note."""
    import math
    from datetime import datetime

    import pandas as pd

    from tkpk.reports.xlsx import Column, Sheet

    columns = [Column("nama", "Nama"), Column("nik", "NIK", "nik"), Column("catatan", "Catatan"),
               Column("jumlah", "Jumlah", "int"), Column("rp", "Rp", "rupiah"), Column("p", "Persen", "percent"),
               Column("tgl", "Tanggal", "date"), Column("kosong", "kosong")]
    rows = []
    for i in range(40):  # more than 16 rows: several `spans` blocks
        rows.append({"nama": ["Siti", "=1+1", "-", "@x", "\tx", "Ani & <Budi> \"q\"", "  spasi ", "Ñame ünï"][i % 8],
                     "nik": [NIK, None, "", 1571015505800002, float("nan"), pd.NA, "12 34", KK][i % 8],
                     "catatan": [f"NIK {NIK} salah", None, "x" * 70, "baris\nbaru", 12.5, True, "", "ok"][i % 8],
                     "jumlah": [i, None, 1e15, -3, 2.5, "teks", float("nan"), 10**6][i % 8],
                     "rp": [2_400_000, 0, None, 1.0000000000000002, 123456789.125, "Rp 5", -1, 7][i % 8],
                     "p": [0.0108, 1, None, 0.333333333333333333, "n/a", 0, 2, 1e-9][i % 8],
                     "tgl": [date(2026, 10, 31), "2026-01-02", None, "bukan tanggal", datetime(2026, 5, 4, 13, 30),
                             pd.Timestamp("2025-12-31"), "2026-02-30", "1900-02-28T00:00:00"][i % 8],
                     "tidak_dipakai": "x"})
    rows.append({"nama": "y" * 40000})  # longer than Excel's 32,767 characters: cut like xlsxwriter cuts it
    assert not math.isnan(rows[0]["p"])
    return [
        Sheet("Data", "Judul data", columns, rows, note="RAHASIA"),
        Sheet("Kosong", "Tanpa baris", columns[:3], []),
        Sheet("Tanpa catatan", "Judul", [Column("a", "A"), Column("b", "B", "int")],
              [{"a": "Siti", "b": 1}, {"a": "=lagi", "b": None}, {"a": None, "b": 3}]),
        Sheet("Data", "Nama sama", [Column("nama", "Nama")], [{"nama": "Siti"}, {"nama": "Baru"}], note="c"),
    ]


def test_bulk_rows_make_the_same_package_as_the_per_cell_writer():
    from tkpk.reports.xlsx import write_workbook

    from .xlsx_reference import reference_workbook

    for pii in (True, False):
        sheets = _varied_sheets()
        new = _parts(write_workbook(sheets, pii=pii, title="uji"))
        old = _parts(reference_workbook(sheets, pii=pii, title="uji"))
        assert sorted(new) == sorted(old)
        for name in old:
            assert new[name] == old[name], (pii, name)


def test_rows_beyond_excel_are_left_out_like_xlsxwriter_leaves_them(monkeypatch):
    """Excel holds 1,048,576 rows; a smaller limit here shows the cut without writing a million rows."""
    from xlsxwriter.worksheet import Worksheet

    from tkpk.reports.xlsx import Column, Sheet, write_workbook

    from .xlsx_reference import reference_workbook

    real_init = Worksheet.__init__

    def small(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        self.xls_rowmax = 10

    monkeypatch.setattr(Worksheet, "__init__", small)
    sheets = [Sheet("Banyak", "t", [Column("a", "A"), Column("n", "N", "int")],
                    [{"a": "x" * i, "n": i} for i in range(20)], note="n")]
    new = _parts(write_workbook(sheets, pii=True, title="t"))
    old = _parts(reference_workbook(sheets, pii=True, title="t"))
    assert new == old
