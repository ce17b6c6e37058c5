"""Headers the reader did not recognise: the closest known header for each (rapidfuzz), so a clerk who typed
"Pekerjan" or "Mulai Kepesertan" is told what was meant instead of the column being dropped without a word.

Only columns the file lacks are suggested (a header that resembles a column already found is just an extra column).
A suggestion for an optional column becomes a warning of its own; for a required column it goes into the critical
"kolom wajib tidak ditemukan" message.
"""

from __future__ import annotations

from rapidfuzz import fuzz, process

from tkpk.config.submissions import SubmissionType, header_key

SCORE_CUTOFF = 80  # rapidfuzz ratio (0-100) of the compared header keys; "Pekerjan"/"Pekerjaan" scores 94


def suggest_columns(unmatched: list[str], found: set[str], stype: SubmissionType,
                    aliases_by_column: dict[str, list[str]]) -> dict[str, tuple[str, str]]:
    """canonical column -> (the header as the file wrote it, the known header it resembles most) for columns of
    the type the file lacks. One header suggests at most one column, and each column gets its closest header."""
    choices: dict[str, tuple[str, str]] = {}  # header key -> (canonical, alias as written in config)
    for col in stype.columns:
        if col.name in found:
            continue
        for alias in aliases_by_column.get(col.name, [col.name]):
            choices.setdefault(header_key(alias), (col.name, alias))
    if not choices:
        return {}
    best: dict[str, tuple[float, str, str]] = {}
    for text in unmatched:
        key = header_key(text)
        if len(key) < 3:
            continue
        hit = process.extractOne(key, list(choices), scorer=fuzz.ratio, score_cutoff=SCORE_CUTOFF)
        if hit is None:
            continue
        canon, alias = choices[hit[0]]
        if canon not in best or hit[1] > best[canon][0]:
            best[canon] = (hit[1], text, alias)
    return {canon: (text, alias) for canon, (_score, text, alias) in best.items()}
