"""Findings: what the checks say about a file, in the three labels of DESIGN.md section 5.

`critical` rejects the file (no row), `error` quarantines a row, `warning` reports a loaded row. Great
Expectations' own severity words map onto these in `tkpk.quality.gx`; a finding is the same object in the
database (`finding` table), the `tkpk validate` JSON and the reports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

CRITICAL = "critical"
ERROR = "error"
WARNING = "warning"
SEVERITIES = (CRITICAL, ERROR, WARNING)
SEVERITY_ORDER = {CRITICAL: 0, ERROR: 1, WARNING: 2}

# Indonesian labels for people (CLI, reports).
SEVERITY_LABEL = {CRITICAL: "KRITIS", ERROR: "GALAT", WARNING: "PERINGATAN"}


@dataclass
class Finding:
    """One finding. `row` is the row number a person sees in Excel (header row counted); `column` the canonical
    column name, `header` the file's own header text; `value` the cell as the file showed it (may hold a full
    NIK: keep it out of logs and e-mail)."""

    check: str
    severity: str
    message: str
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    header: str | None = None  # the column's header as the file wrote it ("Kode Kel"); None when not in the file

    def as_issue(self) -> dict:
        """The `issues[]` entry of the `tkpk validate --json` contract (`column` canonical, `header` as written)."""
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "header": self.header,
            "check": self.check,
            "severity": self.severity,
            "message": self.message,
            "value": self.value,
        }

    def as_dict(self) -> dict:
        return asdict(self)

    def sort_key(self) -> tuple:
        return (
            SEVERITY_ORDER.get(self.severity, 9),
            self.file or "",
            self.sheet or "",
            self.row if self.row is not None else -1,
            self.column or "",
            self.check,
        )
