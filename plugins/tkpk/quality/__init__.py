"""Data quality of OPD submissions: Great Expectations suites per submission type (`expectations/`), findings in
the three labels of DESIGN.md section 5, and Indonesian messages. Used by `tkpk.ingest` in step 2 of the monthly run.
"""

from tkpk.quality.findings import CRITICAL, ERROR, SEVERITIES, WARNING, Finding

__all__ = ["CRITICAL", "ERROR", "SEVERITIES", "WARNING", "Finding"]
