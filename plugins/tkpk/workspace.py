"""The queries behind the steward's TKPK view (/tkpk/) that no other stage already has: the periods on record,
the batches with quarantined rows, one page of a batch's row errors, and the send log of a period. The submission matrix is tkpk.status, the review queue tkpk.linkage.review, the rendered
reports tkpk.reports.build. Every read is paged or bounded, so a page answers quickly at province scale.
"""

from __future__ import annotations

from sqlalchemy import func, select, union

from tkpk.warehouse import session_scope
from tkpk.warehouse.models import ExpectedSubmission, Finding, SendLog, SubmissionBatch


def periods(database_url: str) -> list[str]:
    """Every period with a discovery or a batch, newest first."""
    with session_scope(database_url) as s:
        found = s.execute(union(select(ExpectedSubmission.period).distinct(),
                                select(SubmissionBatch.period).distinct()))
        return sorted({p for (p,) in found}, reverse=True)


def quarantine_batches(database_url: str, period: str) -> list[dict]:
    """The latest batch of each OPD and type of the period that has quarantined rows."""
    with session_scope(database_url) as s:
        rows = s.execute(
            select(SubmissionBatch.batch_id, SubmissionBatch.opd_code, SubmissionBatch.submission_type,
                   SubmissionBatch.rows_quarantined, SubmissionBatch.status)
            .where(SubmissionBatch.period == period, SubmissionBatch.rows_quarantined > 0)
            .order_by(SubmissionBatch.opd_code, SubmissionBatch.submission_type, SubmissionBatch.batch_id.desc()))
        seen, out = set(), []
        for b in rows:
            if (b.opd_code, b.submission_type) in seen:
                continue
            seen.add((b.opd_code, b.submission_type))
            out.append(dict(b._mapping))
    return out


def quarantine_page(database_url: str, batch_id: int, *, offset: int, limit: int) -> tuple[list[dict], int]:
    """One page of a batch's row errors in Excel row order, and how many there are. `header` is the column as the
    OPD wrote it (None for findings loaded before it was kept). `value` and `message` are as stored (they may hold
    a full NIK): the caller masks them."""
    with session_scope(database_url) as s:
        where = (Finding.batch_id == batch_id, Finding.severity == "error")
        total = int(s.scalar(select(func.count()).select_from(Finding).where(*where)) or 0)
        found = s.execute(select(Finding.source_file, Finding.sheet, Finding.row_number, Finding.column,
                                 Finding.header, Finding.message, Finding.value)
                          .where(*where).order_by(Finding.row_number, Finding.finding_id)
                          .offset(offset).limit(limit)).all()
    return [dict(f._mapping) for f in found], total


def send_log(database_url: str, period: str, limit: int = 500) -> list[dict]:
    """Who got which report of the period, when, which version (newest first)."""
    with session_scope(database_url) as s:
        return [dict(r._mapping) for r in s.execute(
            select(SendLog.report, SendLog.recipient, SendLog.revision, SendLog.status, SendLog.attempted_at,
                   SendLog.sent_at, SendLog.error)
            .where(SendLog.period == period).order_by(SendLog.attempted_at.desc()).limit(limit))]
