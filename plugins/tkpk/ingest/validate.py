"""Validate one submitted file: safety checks, reading, normalising and the type's Great Expectations suite,
without touching the warehouse. `tkpk validate` and `load_submission` both call this, so a steward sees exactly
what the pipeline will decide.

The result carries the findings, the normalised accepted rows (`records`), the quarantined rows as the file showed
them, and the counts of the `tkpk validate --json` contract.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from tkpk.config.submissions import SubmissionType
from tkpk.ingest import normalise as norm_mod
from tkpk.ingest.errors import FileRejected
from tkpk.ingest.read import CellNotes, read_tables, scrub_cells
from tkpk.ingest.safety import check_size, inspect
from tkpk.period import JAKARTA, Period, reporting_period
from tkpk.quality.findings import CRITICAL, ERROR, WARNING, Finding
from tkpk.quality.messages import describe

log = logging.getLogger(__name__)


@dataclass
class ValidationResult:
    """What the checks decided about one file."""

    file: str
    type: str
    period: str
    status: str = "accepted"  # accepted | rejected
    rows_total: int = 0
    rows_valid: int = 0
    issues: list[Finding] = field(default_factory=list)
    records: pd.DataFrame | None = None  # accepted rows: _row, _sheet, has_warning + canonical columns (normalised)
    quarantined: pd.DataFrame | None = None  # rows in error: _row, _sheet + canonical columns as shown
    sha256: str = ""
    size: int = 0
    format: str | None = None
    skipped: dict = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"

    @property
    def rows_quarantined(self) -> int:
        return self.rows_total - self.rows_valid

    @property
    def rows_warning(self) -> int:
        if self.records is None or self.records.empty:
            return 0
        return int(self.records["has_warning"].sum())

    def counts(self) -> dict[str, int]:
        by = {s: 0 for s in (CRITICAL, ERROR, WARNING)}
        for f in self.issues:
            by[f.severity] = by.get(f.severity, 0) + 1
        return by

    def record_dicts(self, columns: list[str]) -> list[dict]:
        """Accepted rows as JSON-ready dicts: row, then every canonical column normalised (dates ISO, amounts int)."""
        if self.records is None or self.records.empty or not self.accepted:
            return []
        out = jsonable(self.records, columns)
        out.insert(0, "row", self.records["_row"].astype(int))
        return out.to_dict(orient="records")

    def to_json(self, columns: list[str]) -> dict:
        """The `tkpk validate --json` contract."""
        return {
            "file": self.file,
            "type": self.type,
            "status": self.status,
            "rows_total": int(self.rows_total),
            "rows_valid": int(self.rows_valid) if self.accepted else 0,  # a rejected file loads nothing
            "issues": [f.as_issue() for f in self.issues],
            "records": self.record_dicts(columns),
        }


def jsonable(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Canonical columns as JSON-friendly objects: ISO dates, Python ints, None for missing."""
    out = pd.DataFrame(index=frame.index)
    for c in columns:
        s = frame[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            iso = s.dt.strftime("%Y-%m-%d")
            out[c] = iso.astype(object).where(s.notna(), None)
        else:
            out[c] = s.astype(object).where(s.notna(), None)
    return out


def use_system_arrow_pool() -> None:
    """Let pyarrow (and pandas' arrow-backed strings) allocate through the C library's malloc instead of its bundled
    jemalloc, unless the operator chose a pool with ARROW_DEFAULT_MEMORY_POOL. Measured on the 1M-row CSV check in a
    fresh process: 4.4 s with jemalloc, of which 1.8 s in the kernel (jemalloc hands freshly touched pages back and
    faults them in again), against 3.3 s with 0.5 s in the kernel on the system allocator (BENCHMARKS.md)."""
    import os

    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    import pyarrow as pa

    if pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())


def validate_bytes(data: bytes, name: str, stype: SubmissionType, period: Period, *, config,
                   expectations_dir: Path, kelurahan=None) -> ValidationResult:
    """Check one file's bytes. Never raises for a bad file (that is a rejected result); raises for configuration
    errors (a broken suite) so they are fixed rather than blamed on the OPD."""
    from tkpk.normalize.kelurahan import KelurahanIndex

    use_system_arrow_pool()

    result = ValidationResult(file=name, type=stype.code, period=str(period), size=len(data),
                              sha256=hashlib.sha256(data).hexdigest())
    aliases = config.types.aliases_for(stype.code)
    try:
        limits = config.types.file_limits
        fmt = inspect(data, name, limits)
        result.format = fmt
        tables = read_tables(data, fmt, stype, aliases, limits)
    except FileRejected as exc:
        result.status = "rejected"
        result.issues.append(Finding(exc.check, CRITICAL, exc.message, file=name))
        return result

    # One frame for the file; columns missing from one sheet but not another stay empty there.
    found = [t for t in tables if t.header_row is not None]
    frames = [t.frame for t in found] or [tables[0].frame]
    frame = pd.concat(frames, ignore_index=True, sort=False) if len(frames) > 1 else frames[0].reset_index(drop=True)
    missing = sorted({c for t in tables for c in t.missing}, key=[c.name for c in stype.columns].index)
    for c in missing:
        if c in frame.columns:
            frame = frame.drop(columns=[c])
    result.skipped = {k: sum(t.skipped.get(k, 0) for t in tables) for k in ("kosong", "jumlah", "penutup",
                                                                             "nomor_kolom")}
    canonical = [c.name for c in stype.columns]
    raw = data if fmt == "csv" and not data.startswith((b"\xff\xfe", b"\xfe\xff")) else None
    notes = scrub_cells(frame, canonical, limits.max_cell_chars, raw)
    truncated = excel_truncated(frame, stype)
    kelurahan = kelurahan or KelurahanIndex.load()
    end = period.end
    norm = norm_mod.normalise(frame, stype, end, kelurahan)
    rows = frame["_row"] if "_row" in frame else pd.Series(np.arange(len(frame)))
    norm.helpers["_duplicate_of"] = norm_mod.duplicate_rows(norm.display[norm.present], rows)

    from tkpk.quality.check import run_checks

    aliases_by_column: dict[str, list[str]] = {}
    for col in stype.columns:
        common = config.types.common_aliases.get(col.name, ())
        aliases_by_column[col.name] = list(dict.fromkeys((*col.aliases, *common, col.name)))
    header_sheet = tables[0].sheet if len(tables) == 1 else None
    headers: dict[str, str] = {}
    for t in found:
        for canon, text in t.columns.items():
            headers.setdefault(canon, str(text).strip())
    from tkpk.ingest.headers import suggest_columns

    unmatched = list(dict.fromkeys(h for t in found for h in t.unmatched))
    suggestions = suggest_columns(unmatched, set(headers), stype, aliases_by_column)
    outcome = run_checks(frame, norm, stype, end, expectations_dir, name, aliases_by_column, missing, header_sheet,
                         headers=headers, suggestions=suggestions)
    _cell_findings(notes, frame, name, limits.max_cell_chars, outcome)
    _truncated_findings(truncated, frame, name, outcome)
    result.issues.extend(outcome.findings)
    for canon, (written, known) in suggestions.items():
        if not stype.column(canon).required:
            result.issues.append(Finding("kolom_tidak_dikenal", WARNING,
                                         describe("kolom_tidak_dikenal", canon, header=written, known=known),
                                         file=name, sheet=header_sheet, column=canon, header=written))
    order = {c.name: i for i, c in enumerate(stype.columns)}  # findings of one row in the file's column order
    result.issues.sort(key=lambda f: (*f.sort_key()[:4], order.get(f.column or "", len(order)), f.check))
    result.rows_total = len(frame)
    result.rows_valid = int(len(frame) - outcome.row_error.sum())
    if any(f.severity == CRITICAL for f in result.issues):
        result.status = "rejected"
        return result

    ok = ~outcome.row_error
    columns = [c.name for c in stype.columns]
    records = norm.values.loc[ok, columns].copy()
    records.insert(0, "_row", frame.loc[ok, "_row"].to_numpy())
    records.insert(1, "_sheet", frame.loc[ok, "_sheet"].to_numpy() if "_sheet" in frame else None)
    records.insert(2, "has_warning", outcome.row_warning[ok])
    result.records = records.reset_index(drop=True)
    bad = outcome.row_error
    quarantined = norm.display.loc[bad, columns].copy()
    quarantined.insert(0, "_row", frame.loc[bad, "_row"].to_numpy())
    quarantined.insert(1, "_sheet", frame.loc[bad, "_sheet"].to_numpy() if "_sheet" in frame else None)
    result.quarantined = quarantined.reset_index(drop=True)
    return result


def excel_truncated(frame: pd.DataFrame, stype: SubmissionType) -> dict[str, np.ndarray]:
    """NIK / No KK cells holding a 16-digit *number* ending in 0 (positions per column). Excel keeps 15 significant
    digits of a number typed into a cell, so the last digit of a NIK typed as a number becomes 0 and the result
    usually still looks valid. A text cell is exact, and so is a number ending in another digit (only a program can
    have written it)."""
    out: dict[str, np.ndarray] = {}
    for col in stype.columns:
        if col.kind not in ("nik", "kk") or col.name not in frame.columns:
            continue
        cells = frame[col.name]
        if cells.dtype != object and not pd.api.types.is_numeric_dtype(cells.dtype):
            continue  # text (every CSV): exact
        kinds = np.array(list(map(type, cells.to_numpy())), dtype=object)
        numeric = np.flatnonzero((kinds == float) | (kinds == int))  # noqa: E721 - element-wise on an array
        if not len(numeric):
            continue
        values = pd.to_numeric(cells.iloc[numeric], errors="coerce").to_numpy(dtype="float64")
        hit = (values >= 1e15) & (values < 1e16) & (np.mod(values, 10) == 0)
        if hit.any():
            out[col.name] = numeric[hit]
    return out


def _truncated_findings(truncated: dict[str, np.ndarray], frame: pd.DataFrame, file_name: str, outcome) -> None:
    rows = frame["_row"].to_numpy() if "_row" in frame else np.arange(len(frame))
    sheets = frame["_sheet"].to_numpy() if "_sheet" in frame else np.full(len(frame), None)
    for column, where in truncated.items():
        outcome.row_warning[where] = True
        message = describe("nik_mungkin_terpotong", column)
        values = frame[column].to_numpy(dtype=object)
        outcome.findings.extend(Finding("nik_mungkin_terpotong", WARNING, message, file=file_name, sheet=sheets[i],
                                        row=int(rows[i]), column=column, value=f"{int(values[i])}") for i in where)


def _cell_findings(notes: CellNotes, frame: pd.DataFrame, file_name: str, max_chars: int, outcome) -> None:
    """The reader's cell notes as findings: control characters removed (warning, row kept), a cell over the length
    limit (error, row quarantined)."""
    rows = frame["_row"].to_numpy() if "_row" in frame else np.arange(len(frame))
    sheets = frame["_sheet"].to_numpy() if "_sheet" in frame else np.full(len(frame), None)
    for column, where in notes.control.items():
        outcome.row_warning[where] = True
        message = describe("karakter_kontrol_dihapus", column)
        values = frame[column].to_numpy(dtype=object)
        outcome.findings.extend(Finding("karakter_kontrol_dihapus", WARNING, message, file=file_name, sheet=sheets[i],
                                        row=int(rows[i]), column=column, value=values[i] or None) for i in where)
    for column, (where, lengths) in notes.too_long.items():
        outcome.row_error[where] = True
        values = frame[column].to_numpy(dtype=object)
        outcome.findings.extend(
            Finding("sel_terlalu_panjang", ERROR, describe("sel_terlalu_panjang", column, length=int(n), limit=max_chars),
                    file=file_name, sheet=sheets[i], row=int(rows[i]), column=column, value=values[i])
            for i, n in zip(where, lengths, strict=True))


def _resolve(config_dir, config=None):
    from tkpk.config import load_config

    return config or load_config(config_dir)


def validate_file(path: str | Path, submission_type: str, period: str | Period | None = None, *, settings=None,
                  config=None, storage_options: dict | None = None) -> ValidationResult:
    """Validate a local file (or an fsspec URL) as `submission_type` for `period` (default: the previous month in
    Jakarta time, the one the monthly run processes; E is its last day). The size limit is checked before the file is read."""
    from tkpk.settings import Settings

    settings = settings or Settings.from_env()
    config = _resolve(settings.config_dir, config)
    stype = config.types.get(submission_type)
    if period is None:  # the month the next monthly run processes: the previous month in Jakarta time
        period = reporting_period(datetime.now(JAKARTA))
    elif not isinstance(period, Period):
        period = Period.parse(str(period))
    path_str = str(path)
    name = Path(path_str.split("://", 1)[-1]).name
    if "://" in path_str:
        import fsspec

        fs, p = fsspec.core.url_to_fs(path_str, **(storage_options or {}))
        size = int(fs.size(p))
        reader = lambda: fs.cat_file(p)  # noqa: E731
    else:
        size = Path(path_str).stat().st_size
        reader = Path(path_str).read_bytes
    try:
        check_size(size, config.types.file_limits)
    except FileRejected as exc:
        result = ValidationResult(file=name, type=stype.code, period=str(period), size=size, status="rejected")
        result.issues.append(Finding(exc.check, CRITICAL, exc.message, file=name))
        return result
    return validate_bytes(reader(), name, stype, period, config=config, expectations_dir=settings.expectations_dir)
