"""File safety before parsing (step 2 of the monthly run, and `tkpk validate`): size limit, content sniffing,
bounded decompression of XLSX/ODS (zip bombs), encrypted workbooks, and the used area of every sheet.

Each check raises `FileRejected` with a check code and an Indonesian message; nothing here parses a sheet. The zip
checks look at the member table first (declared sizes and ratios: a bomb is refused in milliseconds) and then
stream-decompress every member with a byte budget, so a forged size cannot make the parser unpack more than the
limit.

Sheet area (`max_rows`, `max_cells`): calamine builds a dense range from the first to the last filled cell, so a
5 KB file with one stray cell in XFD100001 asks for 1.6 billion cells (52 GB: the process aborts). The streamed pass
reads the real extent of every sheet on the way (XLSX: the cell references `r="XFD100001"` in the sheet XML, never
the `<dimension>` element, which may lie; ODS: the filled cells of `content.xml`, repeat counts included) and
rejects the file before calamine sees it. CSV is checked in `read.py` once its delimiter is known.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from xml.parsers import expat

from tkpk.config.submissions import FileLimits
from tkpk.ingest.errors import FileRejected
from tkpk.quality.messages import describe

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
SPREADSHEET_EXTS = {"xlsx": "xlsx", "xlsm": "xlsx", "xls": "xls", "ods": "ods", "csv": "csv", "txt": "csv",
                    "tsv": "csv"}
_CHUNK = 1 << 20
_MB = 1024 * 1024

_KNOWN = {  # what a mislabelled file really is, for the message
    "pdf": "dokumen PDF",
    "png": "gambar PNG",
    "jpg": "gambar JPEG",
    "gif": "gambar GIF",
    "docx": "dokumen Word (.docx)",
    "doc": "dokumen Word lama (.doc)",
    "pptx": "presentasi PowerPoint",
    "zip": "arsip ZIP",
    "rar": "arsip RAR",
    "7z": "arsip 7z",
    "gz": "arsip gzip",
}


def extension(name: str) -> str:
    return PurePosixPath(name).suffix.lower().lstrip(".")


def reject(check: str, **ctx) -> FileRejected:
    return FileRejected(check, describe(check, **ctx))


def check_size(size: int, limits: FileLimits) -> None:
    """Reject before reading when the file is empty or over the size limit."""
    if size == 0:
        raise reject("berkas_kosong")
    if size > limits.max_file_mb * _MB:
        raise reject("berkas_terlalu_besar", size_mb=round(size / _MB, 1), limit_mb=limits.max_file_mb)


def _guess(data: bytes) -> str:
    head = data[:8192]
    if head.startswith(b"%PDF"):
        return _KNOWN["pdf"]
    try:
        import filetype

        kind = filetype.guess(head)
    except Exception:  # noqa: BLE001 - sniffing is best effort
        kind = None
    if kind is not None:
        return _KNOWN.get(kind.extension, f"berkas {kind.mime}")
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html", b"<table")):
        return "halaman HTML"
    if stripped.startswith(b"<?xml"):
        return "berkas XML"
    if b"\x00" in head:
        return "data biner"
    return "teks biasa"


def inspect(data: bytes, name: str, limits: FileLimits) -> str:
    """Check a file's bytes and return its format ('xlsx', 'xls', 'ods' or 'csv'), or raise FileRejected."""
    check_size(len(data), limits)
    ext = extension(name)
    fmt = SPREADSHEET_EXTS.get(ext)
    if fmt is None:
        raise reject("format_tidak_didukung", ext=ext or "(tanpa ekstensi)")
    if data.startswith(OLE_MAGIC):
        _check_ole(data, ext)
        if fmt != "xls":
            actual = "Excel 97-2003 (.xls)" if fmt == "xlsx" else "berkas Office lama (OLE)"
            raise reject("bukan_spreadsheet", ext=ext, actual=actual)
        return fmt
    if data.startswith(ZIP_MAGICS):
        kind = _check_zip(data, limits, check_extent=fmt in ("xlsx", "ods"))
        if fmt == "csv" or kind != fmt:
            actual = {"xlsx": "Excel (.xlsx)", "ods": "OpenDocument (.ods)"}.get(kind, _guess(data))
            raise reject("bukan_spreadsheet", ext=ext, actual=actual)
        return fmt
    if fmt in ("xlsx", "ods", "xls"):
        raise reject("bukan_spreadsheet", ext=ext, actual=_guess(data))
    # csv / txt / tsv: text, not a binary that happens to be named .csv
    if not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        if _binary(data[:8192]) or _guess(data[:8192].replace(b"\x00", b"")) not in ("teks biasa", "halaman HTML",
                                                                               "berkas XML"):
            raise reject("bukan_spreadsheet", ext=ext, actual=_guess(data))
    return "csv"


# Bytes text files never hold (C0 controls but tab, LF, CR, form feed and Ctrl-Z, which old exports write).
_BINARY_BYTES = bytes([*range(1, 9), 11, *range(14, 26), *range(27, 32)])


def _binary(head: bytes) -> bool:
    """A binary file named .csv, as opposed to text with a stray NUL or two (those are removed from the values and
    reported per cell by the reader): NULs over a tenth of the bytes (UTF-16 without a BOM, a disk image) or other
    control bytes over 2 %."""
    if not head:
        return False
    nul = head.count(0)
    other = len(head) - len(head.translate(None, _BINARY_BYTES))
    return nul > len(head) // 10 or other > len(head) // 50


def _check_ole(data: bytes, ext: str) -> None:
    """OLE/CFB container: an encrypted OOXML workbook (EncryptionInfo) or an XLS with a password (FILEPASS)."""
    try:
        import msoffcrypto

        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        encrypted = office.is_encrypted()
    except Exception:  # noqa: BLE001 - not an Office container msoffcrypto understands
        encrypted = _ole_has_encryption_info(data)
    if encrypted:
        raise reject("berkas_terkunci")


def _ole_has_encryption_info(data: bytes) -> bool:
    try:
        import olefile

        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            return ole.exists("EncryptionInfo")
    except Exception:  # noqa: BLE001
        return False


def _check_zip(data: bytes, limits: FileLimits, check_extent: bool = True) -> str:
    """Bounded look inside a zip container; returns 'xlsx', 'ods' or 'zip' (something else). With `check_extent`,
    the used area of every sheet is measured in the same streamed pass and checked against the limits."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise reject("berkas_tidak_terbaca", detail="arsip ZIP rusak") from exc
    max_total = limits.max_uncompressed_mb * _MB
    declared = sum(i.file_size for i in infos)
    if declared > max_total:
        raise reject("dekompresi_berlebih",
                     detail=f"{round(declared / _MB)} MB setelah dibuka, batas {limits.max_uncompressed_mb:g} MB")
    for info in infos:
        if info.file_size > _MB and info.file_size > limits.max_compression_ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise reject("dekompresi_berlebih",
                         detail=f"rasio kompresi {ratio:.0f}:1, batas {limits.max_compression_ratio:g}:1")
    names = {i.filename for i in infos}
    kind = "zip"
    if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        kind = "xlsx"
    elif "content.xml" in names and _ods_mimetype(zf, names):
        kind = "ods"
        if "META-INF/manifest.xml" in names and b"encryption-data" in zf.read("META-INF/manifest.xml"):
            raise reject("berkas_terkunci", ext="ods")
    if kind == "zip":
        return kind
    # Stream every member with a byte budget: zipfile stops at the declared size and checks the CRC, so a member
    # that lies about its size fails here instead of inflating inside the parser.
    budget = max_total
    scanners: dict[str, _XlsxExtent | _OdsExtent] = {}
    try:
        for info in infos:
            scanner = None
            if check_extent and kind == "xlsx" and _XLSX_SHEET_RE.match(info.filename):
                scanner = scanners[info.filename] = _XlsxExtent()
            elif check_extent and kind == "ods" and info.filename == "content.xml":
                scanner = scanners[info.filename] = _OdsExtent()
            with zf.open(info) as fh:
                while True:
                    chunk = fh.read(_CHUNK)
                    if not chunk:
                        break
                    budget -= len(chunk)
                    if budget < 0:
                        raise reject("dekompresi_berlebih", detail=f"lebih dari {limits.max_uncompressed_mb:g} MB")
                    if scanner is not None:
                        scanner.feed(chunk)
            if scanner is not None:
                scanner.close()
    except zipfile.BadZipFile as exc:
        raise reject("berkas_tidak_terbaca", detail="arsip ZIP rusak") from exc
    except (RuntimeError, NotImplementedError) as exc:  # encrypted zip members, unknown compression
        raise reject("berkas_tidak_terbaca", detail="isi arsip tidak dapat dibuka") from exc
    if scanners:
        sheet_names = _xlsx_sheet_names(zf, names) if kind == "xlsx" else {}
        for part, scanner in scanners.items():
            sheet = sheet_names.get(part, PurePosixPath(part).stem)
            if isinstance(scanner, _OdsExtent):
                extents = scanner.extents(sheet)
            else:
                bound = scanner.bound(sheet)
                if bound is not None and _within(bound, limits):
                    continue
                extents = [e for e in [scanner.exact(_member_chunks(zf, part), sheet)] if e is not None]
            for extent in extents:
                check_extent_limits(extent, limits)
    return kind


def _ods_mimetype(zf: zipfile.ZipFile, names: set[str]) -> bool:
    if "mimetype" not in names:
        return True
    try:
        return b"spreadsheet" in zf.read("mimetype")[:200]
    except Exception:  # noqa: BLE001
        return False


# --- sheet area ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetExtent:
    """The used area of one sheet: first and last filled row and column (1-based, as Excel numbers them)."""

    sheet: str | None  # None: a CSV
    first_row: int
    last_row: int
    first_col: int
    last_col: int

    @property
    def rows(self) -> int:
        return self.last_row - self.first_row + 1

    @property
    def cols(self) -> int:
        return self.last_col - self.first_col + 1

    @property
    def cells(self) -> int:
        return self.rows * self.cols

    @property
    def last_cell(self) -> str:
        return f"{column_letters(self.last_col)}{self.last_row}"


def column_letters(col: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA, 16384 -> XFD."""
    out = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out or "A"


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def _num(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def check_extent_limits(extent: SheetExtent, limits: FileLimits) -> None:
    """Reject a sheet (or CSV) whose used area exceeds `max_rows` or `max_cells`, before anything allocates it."""
    max_rows, max_cells = limits.max_rows, limits.max_cells
    sheet = extent.sheet is not None
    where = f"Lembar '{extent.sheet}'" if sheet else "Berkas"
    if extent.rows > max_rows:
        raise reject("lembar_terlalu_besar", detail=(
            f"{where} berisi {_num(extent.rows)} baris, melebihi batas {_num(max_rows)} baris"), far=False)
    if extent.cells > max_cells:
        area = f"terisi sampai sel {extent.last_cell}:" if sheet else "berisi"
        raise reject("lembar_terlalu_besar", detail=(
            f"{where} {area} {_num(extent.rows)} baris x {_num(extent.cols)} kolom = {_num(extent.cells)} sel, "
            f"melebihi batas {_num(max_cells)} sel"), far=True)


# Cell references of the sheet XML: `<c r="XFD100001" ...>` (any prefix). Row elements (`<row r="12">`), `ref=` of
# merged cells and `<dimension ref=...>` do not match: a letter must follow the quote. The last group is '/' for an
# empty formatted cell (`<c r="Z9" s="1"/>`), which calamine skips, so it does not count either.
_CELL_REF_RE = re.compile(rb' r="([A-Z]{1,3})([0-9]{1,7})"[^>]*?(/?)>')
# The cheap pass: row numbers of rows that have cells, and the column letters of every cell reference.
_ROW_RE = re.compile(rb'row r="([0-9]{1,7})"[^>]*?(/?)>')
_LETTERS_RE = re.compile(rb' r="([A-Z]{1,3})[0-9]')
_XLSX_SHEET_RE = re.compile(r"^xl/worksheets/[^/]+\.xml$")


class _XlsxExtent:
    """The used area of one worksheet part, fed in decompressed chunks.

    Two passes keep a big ordinary sheet cheap (a 200,000 x 10 sheet, 72 MB of XML: 0.25 s): the streamed pass
    takes the row numbers and the column letters only (an upper bound: empty formatted cells count); only when that
    bound breaks a limit is the part read again for the exact area of the cells that hold something (`exact`)."""

    def __init__(self) -> None:
        self._tail = b""
        self._rows: tuple[int, int] | None = None
        self._cols: tuple[int, int] | None = None
        self.cells_seen = False

    def feed(self, chunk: bytes) -> None:
        buf = self._tail + chunk
        self._tail = buf[-256:]  # a tag cut by the chunk boundary is seen whole next time
        rows = [int(r) for r, empty in _ROW_RE.findall(buf) if not empty]
        letters = set(_LETTERS_RE.findall(buf))
        if letters:
            self.cells_seen = True
            cols = [_column_number(c) for c in letters]
            self._cols = _span(self._cols, min(cols), max(cols))
        if rows:
            self._rows = _span(self._rows, min(rows), max(rows))

    def close(self) -> None:
        self._tail = b""

    def bound(self, sheet: str) -> SheetExtent | None:
        """The cheap upper bound; None when it cannot be told (rows without `r`): then `exact` decides."""
        if not self.cells_seen:
            return SheetExtent(sheet, 1, 1, 1, 1)
        if self._rows is None or self._cols is None:
            return None
        return SheetExtent(sheet, self._rows[0], self._rows[1], self._cols[0], self._cols[1])

    @staticmethod
    def exact(chunks, sheet: str) -> SheetExtent | None:
        tail, rows, cols = b"", None, None
        for chunk in chunks:
            buf = tail + chunk
            tail = buf[-256:]
            refs = [(c, r) for c, r, empty in _CELL_REF_RE.findall(buf) if not empty]
            if refs:
                rr = [int(r) for _c, r in refs]
                cc = [_column_number(c) for c in {c for c, _r in refs}]
                rows, cols = _span(rows, min(rr), max(rr)), _span(cols, min(cc), max(cc))
        if rows is None:
            return None
        return SheetExtent(sheet, rows[0], rows[1], cols[0], cols[1])


def _span(current: tuple[int, int] | None, lo: int, hi: int) -> tuple[int, int]:
    return (lo, hi) if current is None else (min(lo, current[0]), max(hi, current[1]))


def _within(extent: SheetExtent, limits: FileLimits) -> bool:
    return extent.rows <= limits.max_rows and extent.cells <= limits.max_cells


def _member_chunks(zf: zipfile.ZipFile, part: str):
    with zf.open(part) as fh:
        while chunk := fh.read(_CHUNK):
            yield chunk


_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"


class _OdsExtent:
    """The filled area of every table in an ODS `content.xml`, streamed through expat: rows and cells count with
    their `number-rows-repeated` / `number-columns-repeated`; a cell counts as filled when it has a value type or
    content (LibreOffice writes the empty rest of a sheet as one repeated empty row: not counted). A DTD is refused
    (an ODS never has one), so no entity is ever expanded."""

    def __init__(self) -> None:
        self._parser = expat.ParserCreate(namespace_separator=" ")
        self._parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self._parser.StartDoctypeDeclHandler = self._doctype
        self._parser.EntityDeclHandler = self._doctype
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._tables: list[list] = []  # [name, first_row, last_row, first_col, last_col]
        self._current: list | None = None
        self._row = 0  # rows before the current row element
        self._row_repeat = 1
        self._col = 0
        self._cell: tuple[int, int, bool] | None = None  # (first column, repeat, filled)
        self._cell_depth = 0

    def _doctype(self, *args) -> None:
        raise reject("berkas_tidak_terbaca", detail="isi XML memuat deklarasi DTD yang tidak diizinkan")

    def _start(self, name: str, attrs: dict) -> None:
        if self._cell is not None:
            self._cell_depth += 1
            if self._cell_depth == 1:  # content (text:p, ...) makes the cell filled
                self._cell = (self._cell[0], self._cell[1], True)
            return
        if name == f"{_TABLE} table" and self._current is None:
            self._current = [attrs.get(f"{_TABLE} name", f"Sheet{len(self._tables) + 1}"), 0, 0, 0, 0]
            self._row = 0
        elif self._current is None:
            return
        elif name == f"{_TABLE} table-row":
            self._row_repeat = _repeat(attrs.get(f"{_TABLE} number-rows-repeated"))
            self._col = 0
        elif name in (f"{_TABLE} table-cell", f"{_TABLE} covered-table-cell"):
            repeat = _repeat(attrs.get(f"{_TABLE} number-columns-repeated"))
            self._cell = (self._col, repeat, f"{_OFFICE} value-type" in attrs)
            self._cell_depth = 0
            self._col += repeat

    def _end(self, name: str) -> None:
        if self._cell is not None:
            if self._cell_depth:
                self._cell_depth -= 1
                return
            first, repeat, filled = self._cell
            self._cell = None
            if filled and self._current is not None:
                t = self._current
                top, bottom = self._row + 1, self._row + self._row_repeat
                left, right = first + 1, first + repeat
                if t[2] == 0:
                    t[1:] = [top, bottom, left, right]
                else:
                    t[1], t[2] = min(t[1], top), max(t[2], bottom)
                    t[3], t[4] = min(t[3], left), max(t[4], right)
            return
        if self._current is None:
            return
        if name == f"{_TABLE} table-row":
            self._row += self._row_repeat
            self._row_repeat = 1
        elif name == f"{_TABLE} table":
            self._tables.append(self._current)
            self._current = None

    def feed(self, chunk: bytes) -> None:
        try:
            self._parser.Parse(chunk, False)
        except expat.ExpatError as exc:
            raise reject("berkas_tidak_terbaca", detail="isi XML rusak") from exc

    def close(self) -> None:
        try:
            self._parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise reject("berkas_tidak_terbaca", detail="isi XML rusak") from exc

    def extents(self, _part: str) -> list[SheetExtent]:
        return [SheetExtent(name, r0, r1, c0, c1) for name, r0, r1, c0, c1 in self._tables if r1]


def _repeat(value: str | None) -> int:
    try:
        return max(1, int(value)) if value else 1
    except ValueError:
        return 1


def _xlsx_sheet_names(zf: zipfile.ZipFile, names: set[str]) -> dict[str, str]:
    """Worksheet part -> sheet name as the workbook shows it (xl/workbook.xml + its relationships); best effort."""
    try:
        book = _attributes(zf.read("xl/workbook.xml"), "sheet")
        rels = _attributes(zf.read("xl/_rels/workbook.xml.rels"), "Relationship") \
            if "xl/_rels/workbook.xml.rels" in names else []
    except (KeyError, FileRejected, zipfile.BadZipFile):
        return {}
    targets = {}
    for rel in rels:
        target = rel.get("Target", "")
        part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        targets[rel.get("Id")] = str(PurePosixPath(part))
    out = {}
    for sheet in book:
        if sheet.get("id") in targets and "name" in sheet:
            out[targets[sheet["id"]]] = sheet["name"]
    return out


def _attributes(xml: bytes, local_name: str) -> list[dict[str, str]]:
    """The attributes of every element named `local_name` (any namespace); DTDs refused."""
    found: list[dict[str, str]] = []
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def doctype(*_args):
        raise reject("berkas_tidak_terbaca", detail="isi XML memuat deklarasi DTD yang tidak diizinkan")

    def start(name, attrs):
        if name.rsplit(" ", 1)[-1] == local_name:
            found.append({k.rsplit(" ", 1)[-1]: v for k, v in attrs.items()})  # r:id -> id

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.StartElementHandler = start
    try:
        parser.Parse(xml, True)
    except expat.ExpatError as exc:
        raise reject("berkas_tidak_terbaca", detail="isi XML rusak") from exc
    return found
