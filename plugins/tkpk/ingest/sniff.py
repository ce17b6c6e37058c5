"""Which submission type a file's columns fit, and which rows two files share: the checks `tkpk submit` runs before it
places a file, so a file sent under the wrong OPD or a second copy of last week's file does not quietly join a batch.

`fit_types` reads only the first rows of each sheet (the header is found the same way the monthly load finds it,
`tkpk.ingest.read.find_header`) and scores every configured type by how many of the file's header cells it names.
A type "fits better" than the one the OPD implies when it finds all of its own required columns and names more of
the file's columns. `row_keys` fingerprints normalised accepted rows, so the same person typed twice in two files
(other spelling of the kelurahan, NIK as a number) is recognised.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass

import pandas as pd

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TypeFit:
    code: str
    name: str
    mapped: int  # header cells of the file this type recognises
    complete: bool  # every required column of the type found


def _head_rows(data: bytes, fmt: str) -> list[list[list]]:
    """The first rows of every visible sheet (a workbook) or of the CSV under each usual delimiter."""
    from tkpk.ingest.read import DELIMITERS, HEADER_SCAN_ROWS, decode_text

    if fmt == "csv":
        text, _enc = decode_text(data)
        lines = text[:262144].splitlines()[:HEADER_SCAN_ROWS + 5]
        return [list(csv.reader(lines, delimiter=d)) for d in DELIMITERS]
    import python_calamine as pc

    out = []
    wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    with wb:
        metas = list(wb.sheets_metadata)
        names = [m.name for m in metas if str(m.visible).endswith("Visible")] or [m.name for m in metas]
        for name in names:
            out.append(wb.get_sheet_by_name(name).to_python(skip_empty_area=False, nrows=HEADER_SCAN_ROWS))
    return out


def fit_types(data: bytes, name: str, config, candidates: list[str] | None = None) -> list[TypeFit]:
    """How well each submission type fits the file's header, best first. Empty when the file cannot be read (the
    validation that follows reports why)."""
    from tkpk.ingest.read import find_header
    from tkpk.ingest.safety import inspect

    try:
        fmt = inspect(data, name, config.types.file_limits)
        sheets = _head_rows(data, fmt)
    except Exception as exc:  # noqa: BLE001 - an unreadable file is reported by validation, not here
        log.info("Jenis berkas tidak dapat ditebak: %s", type(exc).__name__)
        return []
    fits = []
    for stype in config.types.types:
        if candidates is not None and stype.code not in candidates:
            continue
        aliases = config.types.aliases_for(stype.code)
        required = set(stype.required_columns)
        best = (0, False)
        for rows in sheets:
            h, mapping, _start = find_header(rows, aliases, stype.required_columns)
            if h is None:
                continue
            best = max(best, (len(mapping), required <= set(mapping)), key=lambda x: (x[1], x[0]))
        fits.append(TypeFit(stype.code, stype.name, best[0], best[1]))
    return sorted(fits, key=lambda f: (f.complete, f.mapped), reverse=True)


def better_type(data: bytes, name: str, config, type_code: str) -> TypeFit | None:
    """Another type whose columns fit the file better than `type_code`, or None."""
    fits = fit_types(data, name, config)
    mine = next((f for f in fits if f.code == type_code), None)
    if mine is None:
        return None
    for f in fits:
        if f.code != type_code and f.complete and f.mapped > mine.mapped:
            return f
    return None


def row_keys(records: pd.DataFrame | None, columns: list[str]) -> pd.Series:
    """One 64-bit fingerprint per accepted row (its normalised canonical values), indexed like `records`."""
    if records is None or records.empty:
        return pd.Series([], dtype="uint64")
    cols = [c for c in columns if c in records.columns]
    # Text compared without case or repeated spaces: "BUDI  SANTOSO" typed again is the same row.
    shown = pd.DataFrame({c: records[c].astype("string").str.upper().str.split().str.join(" ").fillna("\x00")
                          for c in cols})
    return pd.util.hash_pandas_object(shown, index=False)
