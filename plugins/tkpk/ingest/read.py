"""Read what OPDs really send (step 2 of the monthly run, and `tkpk validate`): XLSX, XLS and ODS through
python-calamine, CSV through pandas after detecting encoding (UTF-8 with or without BOM, UTF-16, Windows-1252) and
delimiter (`,` `;` tab `|`).

For each sheet the header row is found below any title rows by scoring rows on how many cells are known column
aliases (`SubmissionTypesConfig.aliases_for`); a header split over two rows is completed from the row above or
below; a row of column numbers under the header ("1 2 3 ...") is skipped. Total rows ("JUMLAH", "TOTAL"), blank
rows and a signature block after the data are skipped. Every kept row carries its Excel row number (`_row`: the
row a person sees, header counted) and its sheet (`_sheet`). Cells are kept as read (numbers, dates, text):
normalising is `tkpk.ingest.normalise`'s job. Text that starts with `= + - @` is just text here.

When several visible sheets carry every required column, all of them are read (one sheet per kecamatan is common);
sheets named like instructions or examples are skipped when another sheet qualifies. When none qualifies, the best
sheet is returned with its missing columns, which become critical findings.

Limits (`FileLimits.max_rows` / `max_cells`): the XLSX/ODS sheet areas are checked in `safety.inspect` before
calamine runs; here every sheet calamine built is checked again before its cells become Python objects (the only
check for XLS, whose format caps a sheet at 65,536 x 256), and a CSV's shape (records x widest record, what the
parsers allocate) once its delimiter is known. A parser's own (English) error text never reaches a message: it is
logged, and the finding says in Indonesian what kind of damage it is.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tkpk.config.submissions import FileLimits, SubmissionType, header_key
from tkpk.ingest.errors import FileRejected
from tkpk.ingest.normalise import text_mask
from tkpk.ingest.safety import SheetExtent, _within, check_extent_limits
from tkpk.quality.messages import describe

log = logging.getLogger(__name__)

HEADER_SCAN_ROWS = 40
# RE2-friendly (see tkpk.ingest.normalise): no \\s or \\b, so pyarrow runs it.
_TOTAL_RE = r"(?i)^[ \t]*(?:jumlah|total|grand[ \t]*total|sub[ \t]*-?[ \t]*total|jml)(?:[^a-z]|\Z)"
_PAREN_RE = re.compile(r"\(.*?\)|\[.*?\]")
_SKIP_SHEET_RE = re.compile(r"(?i)petunjuk|panduan|contoh|rekap|keterangan|referensi|instruksi|template|readme")
_COLNUM_RE = re.compile(r"^\(?\d{1,2}\)?$")
DELIMITERS = (";", ",", "\t", "|")


@dataclass
class SheetTable:
    """The data rows of one sheet (or a CSV), with canonical column names."""

    sheet: str | None
    header_row: int | None  # Excel row number of the header (None: no header found)
    columns: dict[str, str]  # canonical -> header text as written
    missing: list[str]  # required canonical columns not found
    frame: pd.DataFrame  # canonical columns (cells as read) + _row (+ _sheet)
    skipped: dict[str, int] = field(default_factory=dict)  # blank / total / footer / column-number rows
    score: int = 0
    unmatched: list[str] = field(default_factory=list)  # header cells no alias matched (for suggestions)


# --- header detection ---------------------------------------------------------------------------------------------------


def header_match(cell: object, aliases: dict[str, str]) -> str | None:
    """The canonical column a header cell names, or None. Tries the text as written, then without bracketed notes
    ('NIK (16 digit)', 'Tgl Lahir [dd/mm/yyyy]')."""
    if not isinstance(cell, str):
        return None
    text = cell.strip()
    if not text or len(text) > 80:
        return None
    found = aliases.get(header_key(text))
    if found is None and ("(" in text or "[" in text):
        found = aliases.get(header_key(_PAREN_RE.sub("", text)))
    return found


def _row_mapping(row: list, aliases: dict[str, str], taken: set[int] | None = None) -> dict[str, int]:
    mapping: dict[str, int] = {}
    for j, cell in enumerate(row):
        if taken and j in taken:
            continue
        canon = header_match(cell, aliases)
        if canon and canon not in mapping:
            mapping[canon] = j
    return mapping


def find_header(rows: list[list], aliases: dict[str, str], required: list[str]) -> tuple[int | None, dict[str, int],
                                                                                           int]:
    """(index of the header row, canonical -> column position, index of the first data row). The header is the row
    with the most alias hits in the first rows (at least two, or every required column)."""
    best_i, best_map = None, {}
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        mapping = _row_mapping(row, aliases)
        if len(mapping) > len(best_map):
            best_i, best_map = i, mapping
    if best_i is None or (len(best_map) < 2 and not set(required) <= set(best_map)):
        return None, {}, 0
    mapping = dict(best_map)
    data_start = best_i + 1
    missing = [c for c in required if c not in mapping]
    # Two-row headers: a merged cell above ("NIK" over two rows) or sub-headers below ("Tanggal" / "Lahir").
    if missing:
        for k in (best_i - 1, best_i + 1):
            if 0 <= k < len(rows):
                extra = _row_mapping(rows[k], aliases, taken=set(mapping.values()))
                extra = {c: j for c, j in extra.items() if c not in mapping}
                if extra:
                    mapping.update(extra)
                    data_start = max(data_start, k + 1)
    return best_i, mapping, data_start


def _is_column_number_row(row: list) -> bool:
    """'1 2 3 4 ...' or '(1) (2) (3)' under a header, as government tables print them."""
    cells = [c for c in row if not (c is None or (isinstance(c, str) and not c.strip()))]
    if len(cells) < 2:
        return False
    numbers = []
    for c in cells:
        if isinstance(c, float) and c.is_integer():
            numbers.append(int(c))
        elif isinstance(c, int) and not isinstance(c, bool):
            numbers.append(c)
        elif isinstance(c, str) and _COLNUM_RE.match(c.strip()):
            numbers.append(int(c.strip().strip("()")))
        else:
            return False
    return numbers == list(range(numbers[0], numbers[0] + len(numbers)))


# --- building the frame -----------------------------------------------------------------------------------------------


def _empty_mask(series: pd.Series) -> pd.Series:
    if series.dtype == object:
        is_str = pd.Series(text_mask(series), index=series.index)
        empty = series.isna()
        if bool(is_str.any()):
            empty |= is_str & (series.where(is_str, "x").astype("str").str.strip() == "")
        return empty
    return series.isna() | (series.astype("str").str.strip() == "")


def _text_matches(series: pd.Series, pattern: str) -> pd.Series:
    if series.dtype == object:
        is_str = pd.Series(text_mask(series), index=series.index)
        if not bool(is_str.any()):
            return pd.Series(False, index=series.index)
        return is_str & series.where(is_str, "").astype("str").str.contains(pattern, regex=True)
    return series.fillna("").astype("str").str.contains(pattern, regex=True)


def as_text_column(series: pd.Series) -> pd.Series:
    """A workbook column whose cells are all text, as a str column (what every CSV column is), so each later pass
    over it (empty cells, control characters, length, display, parsing) is one pyarrow kernel instead of a Python
    call per cell. Columns with numbers, dates or booleans among the text stay objects, cells as read."""
    if series.dtype != object or not len(series) or pd.api.types.infer_dtype(series, skipna=False) != "string":
        return series
    try:
        return series.astype("str")
    except (UnicodeError, ValueError, TypeError):  # text pyarrow cannot hold (a lone surrogate): keep the objects
        return series


def build_table(columns: dict[int, pd.Series], mapping: dict[str, int], row_numbers: np.ndarray, sheet: str | None,
                stype: SubmissionType) -> tuple[pd.DataFrame, dict[str, int]]:
    """Frame of the mapped columns with `_row`, after dropping blank, total and footer rows.

    `columns` holds every column of the data area (position -> cells) so a total label in an unmapped column ("No")
    is seen; `row_numbers` are the Excel row numbers of those cells."""
    n = len(next(iter(columns.values()))) if columns else 0
    rows = pd.Series(np.asarray(row_numbers, dtype="int64")[:n])
    frame = pd.DataFrame({canon: as_text_column(columns[pos].reset_index(drop=True)) if pos in columns
                          else pd.Series([None] * n, dtype=object) for canon, pos in mapping.items()})
    frame.index = pd.RangeIndex(n)
    skipped = {"kosong": 0, "jumlah": 0, "penutup": 0, "nomor_kolom": 0}
    if n == 0:
        frame["_row"] = rows
        frame["_sheet"] = sheet
        return frame, skipped
    filled = pd.DataFrame({c: ~_empty_mask(frame[c]) for c in mapping}, index=frame.index)
    count = filled.sum(axis=1) if len(mapping) else pd.Series(0, index=frame.index)
    blank = count == 0

    # Total rows: a JUMLAH/TOTAL label in any column, and no NIK/KK-like identifier in the row. Only rows without
    # a filled identifier are looked at (a million rows, one cheap pass instead of a regex per column).
    ident_cols = [c.name for c in stype.columns if c.kind in ("nik", "kk") and c.name in frame.columns]
    candidates = ~blank
    for c in ident_cols:
        cells = frame[c]
        if cells.dtype == object:
            cells = cells.map(lambda v: v if isinstance(v, str) else ("" if v is None else repr(v)))
        candidates &= (cells.astype("str").str.len().fillna(0) < 10).to_numpy()
    total = pd.Series(False, index=frame.index)
    if bool(candidates.any()):
        where = np.flatnonzero(candidates.to_numpy())
        label = np.zeros(len(where), dtype=bool)
        for series in columns.values():
            label |= _text_matches(series.iloc[where].reset_index(drop=True), _TOTAL_RE).to_numpy()
        total.iloc[where[label]] = True

    # Signature block / notes after the data: sparse rows after the last row with two or more cells filled, unless
    # the one filled cell is a 16-digit identifier (a real row missing the rest: reported, not skipped). An NIP
    # (18 digits) under "Kepala Dinas" is part of the signature.
    dense = (count >= 2) & ~total
    footer = pd.Series(False, index=frame.index)
    if bool(dense.any()):
        last_dense = int(np.flatnonzero(dense.to_numpy())[-1])
        after = pd.Series(np.arange(n) > last_dense, index=frame.index)
        footer = after & ~blank & ~total & (count <= 1)
        for c in ident_cols if bool(footer.any()) else ():
            from tkpk.ingest.normalise import show_cell

            cells = frame.loc[footer, c].map(show_cell).astype("str")
            sixteen = cells.str.replace(r"[^0-9]", "", regex=True).str.len() == 16
            footer[sixteen[sixteen].index] = False

    keep = ~(blank | total | footer)
    skipped["kosong"] = int(blank.sum())
    skipped["jumlah"] = int(total.sum())
    skipped["penutup"] = int(footer.sum())
    if not bool(keep.all()):  # filtering copies every column: skip it when nothing is dropped
        frame = frame[keep.to_numpy()].copy()
        rows = rows[keep.to_numpy()]
    frame["_row"] = rows.to_numpy()
    frame["_sheet"] = sheet
    frame.index = pd.RangeIndex(len(frame))
    return frame, skipped


def _table_from_grid(grid: np.ndarray, sheet: str | None, stype: SubmissionType,
                     aliases: dict[str, str]) -> SheetTable:
    """A SheetTable from a sheet's cells (`_sheet_grid`: rows x columns from A1, "" when empty)."""
    required = stype.required_columns
    # The header search looks at the first rows and at most two more (a second header row, a column-number row).
    rows = grid[:HEADER_SCAN_ROWS + 2].tolist()
    h, mapping, data_start = find_header(rows, aliases, required)
    if h is None:
        return SheetTable(sheet, None, {}, required, pd.DataFrame({"_row": pd.Series([], dtype="int64")}), {}, 0)
    header_cells = {canon: str(rows[h][pos]) if pos < len(rows[h]) else canon for canon, pos in mapping.items()}
    skipped_numbering = 0
    if data_start < len(rows) and _is_column_number_row(rows[data_start]):
        data_start += 1
        skipped_numbering = 1
    body = grid[data_start:]
    columns = {j: pd.Series(body[:, j], dtype=object) for j in range(body.shape[1])} if len(body) else {}
    first = data_start + 1
    frame, skipped = build_table(columns, mapping, np.arange(first, first + len(body)), sheet, stype)
    skipped["nomor_kolom"] = skipped_numbering
    missing = [c for c in required if c not in mapping]
    return SheetTable(sheet, h + 1, header_cells, missing, frame, skipped, len(mapping), _unmatched(rows[h], mapping))


def _sheet_grid(sheet) -> np.ndarray:
    """Every cell of a sheet from A1 to its last filled cell, "" when empty: what
    `to_python(skip_empty_area=False)` returns, as one object array filled row by row. `to_python` would hold
    one Python list per row at once (100,000 on a 100k-row sheet), and in a process that has loaded Great
    Expectations every full collection of the cyclic garbage collector walks them all (~0.4 s of CPU on the
    100k-row benchmark, a quarter of the read)."""
    start, end = sheet.start, sheet.end
    if start is None or end is None:
        return np.empty((0, 0), dtype=object)
    n_rows, width = end[0] + 1, end[1] + 1
    grid = np.full((n_rows, width), "", dtype=object)
    n = 0
    for row in sheet.iter_rows():
        # The iterator ends at the last filled cell but need not start at A1 (python-calamine 0.9 starts at row 1
        # and at the first filled column), so each row is placed against the last column and the rows against
        # the last row, which is right whichever corner it starts at.
        if n >= n_rows or len(row) > width:
            raise ValueError("sheet larger than its range")
        grid[n, width - len(row):] = row
        n += 1
    if n < n_rows:
        grid[n_rows - n:] = grid[:n].copy()
        grid[:n_rows - n] = ""
    return grid


# --- workbooks -----------------------------------------------------------------------------------------------------------


def read_workbook(data: bytes, stype: SubmissionType, aliases: dict[str, str],
                  limits: FileLimits | None = None) -> list[SheetTable]:
    """XLSX / XLS / ODS through calamine. Returns the data sheets (or the single best sheet, with missing columns)."""
    import python_calamine as pc

    limits = limits or FileLimits()
    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except pc.PasswordError as exc:
        raise FileRejected("berkas_terkunci", describe("berkas_terkunci")) from exc
    except Exception as exc:  # noqa: BLE001 - any parser failure means the file is unreadable
        raise FileRejected("berkas_tidak_terbaca", describe("berkas_tidak_terbaca", detail=_short(exc))) from exc
    with wb:
        metas = list(wb.sheets_metadata)
        visible = [m.name for m in metas if str(m.visible).endswith("Visible") and str(m.typ).endswith("WorkSheet")]
        candidates = visible or [m.name for m in metas]
        required = stype.required_columns
        scored: list[tuple[str, object, int, dict[str, int]]] = []
        for name in candidates:
            try:
                sheet = wb.get_sheet_by_name(name)
                _check_sheet(sheet, name, limits)
                head = sheet.to_python(skip_empty_area=False, nrows=HEADER_SCAN_ROWS)
            except FileRejected:
                raise
            except Exception as exc:  # noqa: BLE001
                raise FileRejected("berkas_tidak_terbaca",
                                   describe("berkas_tidak_terbaca", detail=f"lembar '{name}': {_short(exc)}")) from exc
            h, mapping, _ = find_header(head, aliases, required)
            scored.append((name, sheet, len(mapping) if h is not None else 0, mapping))
        if not scored:
            raise FileRejected("berkas_tidak_terbaca", describe("berkas_tidak_terbaca", detail="tidak ada sheet"))
        full = [s for s in scored if set(required) <= set(s[3])]
        if len(full) > 1:
            preferred = [s for s in full if not _SKIP_SHEET_RE.search(s[0])]
            full = preferred or full[:1]
        if full:
            chosen = full
        else:
            hints = [h.lower() for h in stype.sheet_hints]
            chosen = [max(scored, key=lambda s: (s[2], s[0].lower() in hints, -scored.index(s)))]
        tables = []
        for name, sheet, _score, _mapping in chosen:
            try:
                grid = _sheet_grid(sheet)
            except Exception as exc:  # noqa: BLE001
                raise FileRejected("berkas_tidak_terbaca",
                                   describe("berkas_tidak_terbaca", detail=f"lembar '{name}': {_short(exc)}")) from exc
            tables.append(_table_from_grid(grid, name, stype, aliases))
        return tables


def _check_sheet(sheet, name: str, limits: FileLimits) -> None:
    """The area calamine built for a sheet, against the limits, before its cells become Python objects."""
    start, end = sheet.start, sheet.end
    if start is None or end is None:
        return
    check_extent_limits(SheetExtent(name, start[0] + 1, end[0] + 1, start[1] + 1, end[1] + 1), limits)


# What a parser's error text means, in Indonesian (first match wins); the text itself only goes to the log.
_PARSER_ERRORS = (
    (re.compile(r"(?i)detect file format|unrecogni[sz]ed|unsupported|not a valid|invalid (file )?signature"),
     "format di dalam berkas tidak dikenali"),
    (re.compile(r"(?i)password|encrypt"), "berkas terkunci kata sandi"),
    (re.compile(r"(?i)\bxml\b|entity|dtd|doctype|markup|tag"), "isi XML di dalam berkas rusak atau tidak diizinkan"),
    (re.compile(r"(?i)\bzip\b|archive|deflate|crc"), "arsip ZIP di dalam berkas rusak"),
    (re.compile(r"(?i)\bcfb\b|\bole\b|biff|sector|\bfat\b|stream"), "struktur berkas Excel lama (.xls) rusak"),
    (re.compile(r"(?i)eof|end of (file|stream)|unexpected end|truncat|too short|out of range|index"),
     "berkas terpotong atau tidak lengkap"),
    (re.compile(r"(?i)utf|encoding|decode|codepage"), "pengodean teks di dalam berkas rusak"),
)


def _short(exc: Exception) -> str:
    """An Indonesian description of a parser failure (never the parser's English text, which is logged)."""
    from tkpk.normalize.nik import mask_text

    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    log.info("Parser menolak berkas: %s: %s", type(exc).__name__, mask_text(text[:300]))
    probe = f"{type(exc).__name__} {text}"
    for pattern, meaning in _PARSER_ERRORS:
        if pattern.search(probe):
            return meaning
    return "struktur berkas rusak"


# --- CSV -----------------------------------------------------------------------------------------------------------------


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 (BOM or not), UTF-16 with BOM, else Windows-1252 (Excel's 'CSV' under an Indonesian
    locale), else charset-normalizer's best guess."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:65536]).best()
    encoding = best.encoding if best else "latin-1"
    return data.decode(encoding, errors="replace"), encoding


def read_csv(data: bytes, stype: SubmissionType, aliases: dict[str, str],
             limits: FileLimits | None = None) -> list[SheetTable]:
    text, encoding = decode_text(data)
    # One cell can be as long as the file (the file itself is capped by max_file_mb): the csv module's default
    # 128 KB field limit would raise on a long cell. The limit is process-wide and only ever raised.
    csv.field_size_limit(max(csv.field_size_limit(), min(len(text) + 1, 2**31 - 1)))
    try:
        return _read_csv(data, text, encoding, stype, aliases, limits or FileLimits())
    except csv.Error as exc:
        raise FileRejected("berkas_tidak_terbaca", describe("berkas_tidak_terbaca", detail=_short(exc))) from exc


def _read_csv(data: bytes, text: str, encoding: str, stype: SubmissionType, aliases: dict[str, str],
              limits: FileLimits) -> list[SheetTable]:
    # Records, not `splitlines()`: CR, LF and CRLF (mixed too) end a line, nothing else does (splitlines would also
    # split on form feeds and U+2028), and a quoted cell may hold line breaks.
    sample = text[:262144]
    required = stype.required_columns
    best = None
    for delim in DELIMITERS:
        rows, ends = _records(sample, delim, HEADER_SCAN_ROWS + 5)
        h, mapping, data_start = find_header(rows, aliases, required)
        widths = [len(r) for r in rows if len(r) > 1]
        consistency = max((widths.count(w) for w in set(widths)), default=0)
        key = (len(mapping) if h is not None else 0, consistency)
        if best is None or key > best[0]:
            best = (key, delim, rows, ends, h, mapping, data_start)
    _key, delim, rows, ends, h, mapping, data_start = best
    if h is None:
        return [SheetTable(None, None, {}, required, pd.DataFrame({"_row": pd.Series([], dtype="int64")}), {}, 0)]
    header_cells = {canon: rows[h][pos] for canon, pos in mapping.items()}
    skipped_numbering = 0
    if data_start < len(rows) and _is_column_number_row(rows[data_start]):
        data_start += 1
        skipped_numbering = 1
    width = max([len(r) for r in rows] + [max(mapping.values()) + 1])
    skip_lines = ends[data_start - 1] if 0 < data_start <= len(ends) else 0  # physical lines before the data
    utf8 = data if encoding == "utf-8" else (data[3:] if encoding == "utf-8-sig" else None)
    payload = utf8 if utf8 is not None else text.encode("utf-8")
    # Shape limits before any parser allocates cells. Counting bytes bounds the cells pyarrow makes; the exact
    # records x widest record, which the line-by-line fallback allocates, is checked before that fallback.
    if not _within_cells(payload, delim, limits):
        _check_csv_shape(payload, text, delim, limits)
    got = _csv_columns_arrow(payload, delim, skip_lines, limits) if skip_lines == data_start else None
    if got is None:
        _check_csv_shape(payload, text, delim, limits)
        columns, row_numbers = _csv_columns(text, delim, data_start, width, len(mapping))
    else:
        columns, row_numbers = got
    frame, skipped = build_table(columns, mapping, row_numbers, None, stype)
    skipped["nomor_kolom"] = skipped_numbering
    missing = [c for c in required if c not in mapping]
    return [SheetTable(None, h + 1, header_cells, missing, frame, skipped, len(mapping), _unmatched(rows[h], mapping))]


def _unmatched(header: list, mapping: dict[str, int]) -> list[str]:
    used = set(mapping.values())
    return [str(c).strip() for j, c in enumerate(header) if j not in used and isinstance(c, str) and c.strip()]


def _within_cells(payload: bytes, delim: str, limits: FileLimits) -> bool:
    """Lines, and lines plus delimiters (an upper bound of the cells: quoted delimiters count too), within the
    limits. Two byte counts; a regular file that passes cannot parse into more cells than this."""
    lines = payload.count(b"\n") + (0 if payload.endswith(b"\n") or not payload else 1)
    return lines <= limits.max_rows and lines + payload.count(delim.encode()) <= limits.max_cells


def _check_csv_shape(payload: bytes, text: str, delim: str, limits: FileLimits) -> None:
    """Records and records x widest record against `max_rows` / `max_cells`, before any parser allocates them.
    A cheap upper bound first (lines, and delimiters per line: quoted ones count too); only a file over it is
    parsed once more, counting without keeping anything, for the exact shape."""
    lines, widest = _line_shape(payload, ord(delim))
    if lines == 0 or _within(SheetExtent(None, 1, lines, 1, widest), limits):
        return
    records = width = 0
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delim):
        if row:
            records += 1
            width = max(width, len(row))
    check_extent_limits(SheetExtent(None, 1, max(records, 1), 1, max(width, 1)), limits)


def _line_shape(payload: bytes, delim: int, chunk: int = 1 << 23) -> tuple[int, int]:
    """(lines, 1 + most delimiters on one line), in 8 MB slices so the temporary arrays stay small (a whole-file
    pass with per-byte counters cost 0.5 GB on a 96 MB CSV)."""
    buf = np.frombuffer(payload, dtype=np.uint8)
    lines = widest = carry = 0  # carry: delimiters seen on the line still open at the end of the previous slice
    for pos in range(0, len(buf), chunk):
        part = buf[pos:pos + chunk]
        newlines = np.flatnonzero(part == 10)
        delims = np.flatnonzero(part == delim)
        if not len(newlines):
            carry += len(delims)
            continue
        per_line = np.bincount(np.searchsorted(newlines, delims), minlength=len(newlines) + 1)
        per_line[0] += carry
        widest = max(widest, int(per_line[:-1].max()))
        carry = int(per_line[-1])
        lines += len(newlines)
    if len(buf) and buf[-1] != 10:
        lines += 1
        widest = max(widest, carry)
    return lines, widest + 1


def _csv_columns_arrow(data: bytes, delim: str, skip_lines: int,
                       limits: FileLimits) -> tuple[dict[int, pd.Series], np.ndarray] | None:
    """Fast path: pyarrow's multi-threaded CSV reader on the data part (every column as text), with the line number
    of each record computed from the newline positions (pyarrow skips empty lines; Excel numbers them). None when
    the file is irregular (ragged rows, newlines inside quotes, bare CR line ends): the caller falls back."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    # A bare CR ends a line ('CSV (Macintosh)', mixed endings): every CR must be the first half of a CRLF (counted
    # from the newline positions, a second pass over the bytes less than `data.count(b"\r\n")`).
    if data.count(b"\r") != int(np.count_nonzero(buf[newlines[newlines > 0] - 1] == 13)):
        return None
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(buf)]))
    if skip_lines >= len(starts):
        return {}, np.array([], dtype=np.int64)
    length = ends - starts
    last = np.maximum(ends - 1, 0)
    has_cr = (length > 0) & (buf[last] == 13) if len(buf) else np.zeros(len(starts), dtype=bool)
    content = (length - has_cr)[skip_lines:]
    line_numbers = np.arange(skip_lines + 1, len(starts) + 1)[content > 0]
    offset = int(starts[skip_lines])
    end_first = data.find(b"\n", offset)
    first_line = data[offset:end_first if end_first >= 0 else len(data)].decode("utf-8", errors="replace")
    first_line = first_line.rstrip("\r")
    width = len(next(csv.reader([first_line], delimiter=delim), [])) or 1
    if width * len(line_numbers) > limits.max_cells:
        return None  # pyarrow would set up `width` columns for every line: the caller checks the exact shape
    names = [f"c{j}" for j in range(width)]

    def invalid(_row):
        return "error"

    try:
        table = pcsv.read_csv(
            pa.BufferReader(pa.py_buffer(data)[offset:]),
            read_options=pcsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pcsv.ParseOptions(delimiter=delim, quote_char='"', ignore_empty_lines=True,
                                            invalid_row_handler=invalid),
            convert_options=pcsv.ConvertOptions(column_types={c: pa.string() for c in names}, null_values=[],
                                                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowException, ValueError):
        return None
    if table.num_rows != len(line_numbers) or "\r" in first_line:
        return None
    frame = table.to_pandas()
    return {j: frame[c] for j, c in enumerate(names)}, line_numbers


class _Lines:
    """The physical lines of a text (CR, LF or CRLF each end one), remembering those of the record being parsed so
    a record that swallowed lines can be shown and re-checked."""

    def __init__(self, text: str):
        self._it = iter(io.StringIO(text, newline=""))
        self.current: list[str] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._it)
        self.current.append(line)
        return line


def _records(text: str, delim: str, limit: int | None = None) -> tuple[list[list[str]], list[int]]:
    """(records, physical line on which each record ends), the first `limit` records of `text`."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    rows, ends = [], []
    for row in reader:
        rows.append(row)
        ends.append(reader.line_num)
        if limit is not None and len(rows) >= limit:
            break
    return rows, ends


def _swallowed(lines: list[str], delim: str, width: int) -> bool:
    """A quoted cell spanning lines is a structural break when it ends the file still open (a quote that never
    closes) or when the lines it took in look like whole rows (a stray quote paired with a later one)."""
    if len(lines) < 2:
        return False
    try:
        list(csv.reader(io.StringIO("".join(lines), newline=""), delimiter=delim, strict=True))
    except csv.Error as exc:
        if "end of data" in str(exc):
            return True
    row_like = max(2, width - 1)
    return any(line.count(delim) >= row_like for line in lines[1:])


def _csv_columns(text: str, delim: str, skip_records: int, width: int,
                 mapped: int) -> tuple[dict[int, pd.Series], np.ndarray]:
    """Every column of the data part as str Series, and the Excel row number of each record (Excel shows a record
    with a quoted line break as one row). Every physical line ends up in exactly one record; a quote that breaks the
    structure (never closed, or closed rows later) rejects the file naming the row where it opens, instead of
    swallowing the rows after it into one cell."""
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=delim)
    body: list[list[str]] = []
    index = 0
    row_like = max(width, mapped)
    for row in reader:
        index += 1
        if len(lines.current) > 1 and _swallowed(lines.current, delim, row_like):
            first_line = reader.line_num - len(lines.current) + 1
            raise FileRejected("struktur_csv_rusak", describe(
                "struktur_csv_rusak", row=index, line=first_line, swallowed=len(lines.current) - 1))
        lines.current = []
        if index > skip_records:
            body.append(row)
    width = max([len(r) for r in body] + [width])
    if any(len(r) != width for r in body):
        body = [r + [""] * (width - len(r)) for r in body]
    columns = {j: pd.Series(col, dtype="str") for j, col in enumerate(zip(*body, strict=True))} if body else {}
    return columns, np.arange(skip_records + 1, skip_records + 1 + len(body))


# --- cells ---------------------------------------------------------------------------------------------------------

# C0 control characters except tab, LF and CR, and DEL. NUL in particular: PostgreSQL text cannot hold it, so one
# NUL would fail the batch's COPY. RE2-friendly, so pyarrow-backed strings run it natively.
_CONTROL_RE = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_CONTROL_BYTES = bytes([*range(0, 9), 11, 12, *range(14, 32), 127])
_CONTROL_SEARCH = re.compile(_CONTROL_RE)
TRUNCATED_CHARS = 100  # what is kept of a cell over the length limit (enough to find it in the file)


@dataclass
class CellNotes:
    """Cells the reader changed: control characters removed (the row is kept, with a warning) and cells over the
    length limit (cut to `TRUNCATED_CHARS`; the row is in error). Positions index the frame's rows."""

    control: dict[str, np.ndarray] = field(default_factory=dict)
    too_long: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # column -> (rows, lengths)


def scrub_cells(frame: pd.DataFrame, columns: list[str], max_chars: int, raw: bytes | None = None) -> CellNotes:
    """Remove control characters from every text cell of `columns` and cut cells longer than `max_chars`, in place.
    `raw` (a CSV's bytes in a single-byte or UTF-8 encoding) lets a clean file skip the per-cell scans."""
    notes = CellNotes()
    scan_control = raw is None or len(raw.translate(None, _CONTROL_BYTES)) != len(raw)
    scan_length = raw is None or len(raw) > max_chars
    if not (scan_control or scan_length):
        return notes
    for c in columns:
        if c not in frame.columns or len(frame) == 0:
            continue
        cells = frame[c]
        if cells.dtype != object and not pd.api.types.is_string_dtype(cells.dtype):
            continue
        control, length = scan_control, scan_length
        if cells.dtype == object:
            # Workbook cells (text, numbers, dates mixed): one C-speed pass over the text cells joined decides
            # whether the per-cell scans are needed at all (nearly never).
            # str() of a number or a date never holds a control character nor comes near the limit, so every cell
            # goes through C-level map/join, with no Python loop.
            kind = pd.api.types.infer_dtype(cells, skipna=True)
            if kind != "string" and not kind.startswith("mixed"):
                continue  # numbers or dates only (a column Excel typed): nothing to scan
            shown = list(map(str, cells.to_numpy()))
            control = control and _CONTROL_SEARCH.search("\n".join(shown)) is not None
            length = length and max(map(len, shown), default=0) > max_chars
            if not (control or length):
                continue
        if control:
            hit = cells.str.contains(_CONTROL_RE, regex=True, na=False).to_numpy(dtype=bool)
            if hit.any():
                where = np.flatnonzero(hit)
                cleaned = cells.iloc[where].str.replace(_CONTROL_RE, "", regex=True)
                frame[c] = cells = _put(cells, where, cleaned)
                notes.control[c] = where
        if length:
            lengths = cells.str.len().to_numpy(dtype="float64", na_value=0)
            long = np.flatnonzero(lengths > max_chars)
            if len(long):
                cut = cells.iloc[long].str.slice(0, TRUNCATED_CHARS) + "…"
                frame[c] = _put(cells, long, cut)
                notes.too_long[c] = (long, lengths[long].astype("int64"))
    return notes


def _put(cells: pd.Series, where: np.ndarray, values: pd.Series) -> pd.Series:
    out = cells.copy()
    out.iloc[where] = values.to_numpy()
    return out


def read_tables(data: bytes, fmt: str, stype: SubmissionType, aliases: dict[str, str],
                limits: FileLimits | None = None) -> list[SheetTable]:
    if fmt == "csv":
        return read_csv(data, stype, aliases, limits)
    return read_workbook(data, stype, aliases, limits)
