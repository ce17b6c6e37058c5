"""Reason codes in words for DIFF.csv and the comparison report: the reports' own wording
(`tkpk.reports.reasons.code_words`, one vocabulary for every reader), with the quota rank beside the quota reason.
A code nobody knows yet is shown as it is, so a new rule never makes a reason disappear.
"""

from __future__ import annotations

import pandas as pd

from tkpk.reports.reasons import code_words


def reasons_in_words(codes: object, rank: object = None) -> str:
    """';'-separated codes -> '; '-separated words; a quota rank is shown with the quota reason."""
    if not isinstance(codes, str) or not codes:
        return ""
    out = []
    for code in codes.split(";"):
        if not code:
            continue
        text = code_words(code)
        if code in ("dalam_kuota", "kuota_penuh") and rank is not None and not pd.isna(rank):
            text += f", peringkat {int(rank)}"
        out.append(text)
    return "; ".join(out)
