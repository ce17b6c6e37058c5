"""Valid rows for any submission type, straight from `submission_types.yaml`, and quick file writers.

Used by the bad-file catalogue (a hostile file is a valid file with one thing broken), the concurrency tests and the
load script. Deterministic for a seed. Every NIK is well formed for Kota Jambi (1571 + kecamatan + birth date with
day + 40 for women + a non-zero serial) and agrees with the stated birth date and sex, so a valid row raises no
finding at all; ages sit inside the type's plausible range.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta

from tkpk.period import Period

FIRST = ["Siti", "Budi", "Ahmad", "Nurhayati", "Muhammad", "Dewi", "Kemas", "Nyimas", "Rahmat", "Fitri", "Joko",
         "Aisyah", "Hasan", "Yuliana", "Irwan", "Ratna"]
LAST = ["Aminah", "Santoso", "Fauzi", "Lestari", "Rizki", "Abdullah", "Wahyuni", "Saputra", "Hidayat", "Sari"]


def kelurahan_codes() -> list[str]:
    from tkpk.normalize.kelurahan import KelurahanIndex

    return [k.kode_kelurahan for k in KelurahanIndex.load().rows]


class RowMaker:
    """`RowMaker(config, period, seed).rows(type_code, n)` -> list of {canonical column: cell text}."""

    def __init__(self, config, period: str = "2026-10", seed: int = 1):
        self.config = config
        self.period = Period.parse(period)
        self.end: date = self.period.end
        self.rng = random.Random(seed)
        self.kel = kelurahan_codes()
        self._serial = 0

    def _serial_no(self) -> int:
        self._serial = self._serial % 9998 + 1
        return self._serial

    def nik(self, kel: str, born: date, sex: str) -> str:
        kec = kel.split(".")[2]
        day = born.day + (40 if sex == "P" else 0)
        return f"1571{kec}{day:02d}{born.month:02d}{born.year % 100:02d}{self._serial_no():04d}"

    def kk(self, kel: str) -> str:
        issued = date(2010, 1, 1) + timedelta(days=self.rng.randrange(0, 5000))
        return f"1571{kel.split('.')[2]}{issued.day:02d}{issued.month:02d}{issued.year % 100:02d}{self._serial_no():04d}"

    def row(self, type_code: str) -> dict[str, str]:
        stype = self.config.types.get(type_code)
        rng = self.rng
        lo, hi = stype.age_range or (20, 60)
        age = rng.randint(max(lo, 1) + 1, max(lo + 2, hi - 1))
        born = self.end - timedelta(days=int(age * 365.25) + rng.randrange(30, 300))
        sex = "P" if type_code == "dinkes_ibu_hamil" else rng.choice("LP")
        kel = rng.choice(self.kel)
        nik = self.nik(kel, born, sex)
        out: dict[str, str] = {}
        for col in stype.columns:
            if col.kind == "nik":
                out[col.name] = nik
            elif col.kind == "kk":
                out[col.name] = self.kk(kel)
            elif col.kind == "name":
                out[col.name] = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            elif col.kind == "kelurahan":
                out[col.name] = kel
            elif col.kind == "sex":
                out[col.name] = sex
            elif col.kind == "yn":
                out[col.name] = rng.choice("YN")
            elif col.kind == "rtrw":
                out[col.name] = f"{rng.randint(1, 20):03d}"
            elif col.kind == "enum":
                out[col.name] = self._enum(type_code, col, age)
            elif col.kind == "int":
                out[col.name] = str(self._int(col))
            elif col.kind == "amount":
                out[col.name] = str(int(col.default or 100_000))
            elif col.kind == "date":
                out[col.name] = self._date(col, born).strftime("%d/%m/%Y")
            else:
                out[col.name] = "Jl. Kenari No. 3" if col.name == "alamat" else "Pedagang"
        return out

    def _enum(self, type_code: str, col, age: int) -> str:
        if type_code == "disdik_siswa" and col.name == "jenjang":
            return "SD" if age <= 12 else "SMP" if age <= 15 else "SMA"
        if col.name == "hubungan_keluarga":
            return "kepala_keluarga"
        if col.name == "status_kepesertaan":
            return "aktif"
        return self.rng.choice(col.values)

    def _int(self, col) -> int:
        if col.min_year is not None:
            return self.end.year
        lo = int(col.min if col.min is not None else 1)
        hi = int(col.max if col.max is not None else lo + 50)
        return self.rng.randint(lo, hi)

    def _date(self, col, born: date) -> date:
        if col.name == "tanggal_lahir":
            return born
        if col.max_days_after_end:
            return self.end + timedelta(days=self.rng.randrange(1, min(col.max_days_after_end, 200)))
        return self.end - timedelta(days=self.rng.randrange(0, 27))

    def rows(self, type_code: str, n: int) -> list[dict[str, str]]:
        return [self.row(type_code) for _ in range(n)]


def header_of(config, type_code: str) -> list[str]:
    return [c.name for c in config.types.get(type_code).columns]


def csv_bytes(header: list[str], rows: list[list], *, sep: str = ";", encoding: str = "utf-8",
              prefix: list[list] | None = None) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    for line in prefix or []:
        writer.writerow(line)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def table(config, type_code: str, records: list[dict[str, str]]) -> tuple[list[str], list[list[str]]]:
    header = header_of(config, type_code)
    return header, [[r.get(h, "") for h in header] for r in records]


def xlsx_bytes(sheets: dict[str, list[list]], *, hidden: tuple[str, ...] = ()) -> bytes:
    """Every cell written as text (no formula or number conversion), as an OPD's 'format as text' sheet."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                                   "strings_to_urls": False})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                if isinstance(value, (int, float)):
                    ws.write_number(i, j, value)
                elif value not in (None, ""):
                    ws.write_string(i, j, str(value))
        if name in hidden:
            ws.hide()
    wb.close()
    return buf.getvalue()


def xls_bytes(rows: list[list], sheet: str = "Data") -> bytes:
    import xlwt

    wb = xlwt.Workbook()
    ws = wb.add_sheet(sheet)
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            ws.write(i, j, value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
