"""Run a submission type's suite on a normalised file and turn GX's answer into findings (step 2 of the monthly
run, and `tkpk validate`).

The frame handed to Great Expectations holds the canonical columns as read (for `expect_column_to_exist`) and the
helper columns of `tkpk.ingest.normalise`. Row-level failures quarantine (`error`) or annotate (`warning`) rows; a
failed table-level expectation is `critical`. After GX, one rule GX cannot see in a single pass: more than
`reject_error_share` of the rows in error rejects the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from tkpk.config.submissions import SubmissionType
from tkpk.quality.findings import CRITICAL, ERROR, WARNING, Finding
from tkpk.quality.gx import run_suite
from tkpk.quality.messages import describe


@dataclass
class CheckOutcome:
    findings: list[Finding] = field(default_factory=list)
    row_error: np.ndarray | None = None  # bool per frame row
    row_warning: np.ndarray | None = None


def suite_parameters_for(stype: SubmissionType) -> dict:
    """Values for the `$PARAMETER`s suites use (kept in config, so the YAML stays the one place to change them)."""
    params: dict = {}
    if stype.age_range:
        params["age_min"], params["age_max"] = stype.age_range
    return params


def run_checks(frame: pd.DataFrame, norm, stype: SubmissionType, end: date, expectations_dir: Path,
               file_name: str, aliases_by_column: dict[str, list[str]] | None = None,
               missing: list[str] | None = None, sheet_of_header: str | None = None,
               headers: dict[str, str] | None = None,
               suggestions: dict[str, tuple[str, str]] | None = None) -> CheckOutcome:
    """Validate one file's rows. `frame` has a RangeIndex aligned with `norm`; `missing` lists required columns
    the reader did not find (they are absent from `frame`); `headers` maps canonical columns to the file's own
    header text (messages name the column as the clerk wrote it); `suggestions` maps a missing column to
    (header in the file, known header it resembles)."""
    headers = headers or {}
    n = len(frame)
    # GX sees the helper columns, plus one cheap placeholder per canonical column the reader found, which is all
    # `expect_column_to_exist` needs (GX hashes the whole frame per batch: raw text columns would cost seconds).
    present = {c: np.zeros(n, dtype=np.int8) for c in frame.columns if not c.startswith("_")}
    gx_frame = pd.concat([pd.DataFrame(present, index=frame.index), norm.helpers], axis=1)
    failures = run_suite(gx_frame, expectations_dir, stype.code, suite_parameters_for(stype))
    outcome = CheckOutcome(row_error=np.zeros(n, dtype=bool), row_warning=np.zeros(n, dtype=bool))
    rows = frame["_row"].to_numpy() if "_row" in frame else np.arange(n)
    sheets = frame["_sheet"].to_numpy() if "_sheet" in frame else np.full(n, None)
    has_missing_column = False

    for f in failures:
        if not f.row_level:
            if f.severity not in ("critical", "warning"):
                continue
            severity = CRITICAL if f.severity == "critical" else WARNING
            check = f.check or f.expectation
            if f.expectation == "expect_column_to_exist":
                has_missing_column = True
                column = f.kwargs.get("column")
                message = describe("kolom_wajib_tidak_ada", column,
                                   aliases=(aliases_by_column or {}).get(column, []), sheet=sheet_of_header,
                                   suggestion=(suggestions or {}).get(column))
            else:
                column = f.column
                message = describe(check, column, header=headers.get(column))
            outcome.findings.append(Finding(check, severity, message, file=file_name, sheet=sheet_of_header,
                                            column=column, header=headers.get(column)))
            continue
        if f.severity not in ("critical", "warning") or not f.indices:
            continue
        severity = ERROR if f.severity == "critical" else WARNING
        idx = np.asarray(f.indices, dtype=int)
        if severity == ERROR:
            outcome.row_error[idx] = True
        else:
            outcome.row_warning[idx] = True
        outcome.findings.extend(_row_findings(f, idx, severity, frame, norm, stype, end, file_name, rows, sheets,
                                              headers))

    if has_missing_column:
        # The file is rejected for its columns; row findings (and "no data rows" when no header was found at all)
        # would only be noise.
        outcome.findings = [x for x in outcome.findings
                            if x.severity == CRITICAL and x.check != "tidak_ada_baris_data"]
        outcome.row_error[:] = False
        outcome.row_warning[:] = False
        return outcome

    errors = int(outcome.row_error.sum())
    if n and errors / n > stype.reject_error_share:
        outcome.findings.append(Finding(
            "terlalu_banyak_baris_salah", CRITICAL,
            describe("terlalu_banyak_baris_salah", errors=errors, total=n, share_pct=round(100 * errors / n),
                     limit_pct=round(100 * stype.reject_error_share)),
            file=file_name,
        ))
    return outcome


def _row_findings(f, idx, severity, frame, norm, stype, end, file_name, rows, sheets, headers) -> list[Finding]:
    helper = f.helper
    column = f.column
    codes = None
    if helper in norm.helpers and isinstance(norm.helpers[helper].dtype, pd.CategoricalDtype):
        codes = np.asarray(norm.helpers[helper].iloc[idx], dtype=object)
    shown = norm.display[column].iloc[idx].to_numpy(dtype=object) if column in norm.display else None
    col_cfg = None
    try:
        col_cfg = stype.column(column) if column else None
    except KeyError:
        col_cfg = None
    extra = _extras(f, idx, column, norm)
    out = []
    for k, i in enumerate(idx):
        check = (codes[k] if codes is not None and isinstance(codes[k], str) else None) or f.check or f.expectation
        ctx = _context(check, k, column, col_cfg, extra, stype, end)
        value = shown[k] if shown is not None else None
        out.append(Finding(
            check, severity, describe(check, column, header=headers.get(column), **ctx), file=file_name,
            sheet=sheets[i], row=int(rows[i]), column=column, value=value if value not in ("", None) else None,
            header=headers.get(column),
        ))
    return out


def _extras(f, idx, column, norm) -> dict:
    """Per-failing-row values some messages name, fetched once per expectation (not once per row)."""
    extra: dict = {}
    if column in norm.display:
        extra["shown"] = norm.display[column].iloc[idx].to_numpy(dtype=object)
    if "_duplicate_of" in norm.helpers:
        extra["first_row"] = norm.helpers["_duplicate_of"].to_numpy()[idx]
    if "nik" in norm.decoded:
        extra["birth"] = norm.decoded["nik"]["birth"].iloc[idx].to_numpy()
        extra["sex"] = norm.decoded["nik"]["sex"].iloc[idx].to_numpy(dtype=object)
    if column in norm.values and isinstance(norm.values[column].dtype, pd.StringDtype):
        extra["value"] = norm.values[column].iloc[idx].to_numpy(dtype=object)
    if "_age" in norm.helpers:
        extra["age"] = norm.helpers["_age"].to_numpy()[idx]
    return extra


def _context(check: str, k: int, column, col_cfg, extra: dict, stype, end) -> dict:
    """What a message may name for the k-th failing row: bounds, allowed values, the decoded NIK part, the first
    repeat."""
    ctx: dict = {"end": end}
    if col_cfg is not None:
        if col_cfg.kind == "enum":
            ctx["allowed"] = list(col_cfg.values)
        ctx["max_days"] = col_cfg.max_days_after_end
        if check in ("di_bawah_minimum", "di_atas_maksimum"):
            from tkpk.ingest.normalise import column_bounds

            ctx.update(column_bounds(col_cfg, end))
    if check.endswith("panjang_salah") and "shown" in extra:
        import re

        ctx["digits"] = len(re.sub(r"\D", "", str(extra["shown"][k]).removesuffix(".0")))
    if check == "baris_ganda" and "first_row" in extra:
        first = extra["first_row"][k]
        ctx["first_row"] = int(first) if first == first else "sebelumnya"
    if check == "nik_beda_tanggal_lahir" and "birth" in extra:
        born = extra["birth"][k]
        ctx["decoded"] = None if pd.isna(born) else pd.Timestamp(born).date()
    if check == "nik_beda_jenis_kelamin" and "sex" in extra:
        ctx["decoded"] = extra["sex"][k]
    if check == "nik_luar_kota_jambi" and "value" in extra:
        nik = extra["value"][k]
        ctx["region"] = f"{nik[:2]}.{nik[2:4]}" if isinstance(nik, str) else "?"
    if check == "usia_tidak_wajar" and "age" in extra:
        age = extra["age"][k]
        ctx["age"] = int(age) if age == age else None
        if stype.age_range:
            ctx["age_min"], ctx["age_max"] = stype.age_range
    return ctx
