"""Monthly reports: figures from the warehouse (SQL in `include/sql/`), Jinja2 templates (`include/templates/`),
PNG charts and XLSX attachments, per recipient scope. Step 5 of the monthly run; `tkpk.notify` sends the result.

The DAG calls `build_reports(settings, period, run_id=...)`; heavy imports happen inside it, so importing this
package at DAG-parse time costs nothing.
"""

from __future__ import annotations


def build_reports(settings, period: str, *, run_id: str | None = None, config=None) -> list[dict]:
    """Build and save every report of `period` under `settings.reports_dir/period/`.

    Returns one small descriptor per report for XCom: report key, kind, recipients count, content hash(es).
    """
    from tkpk.reports.build import build_reports as _build

    return _build(settings, period, run_id=run_id, config=config)


__all__ = ["build_reports"]
