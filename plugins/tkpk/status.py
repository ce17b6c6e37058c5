"""The submission matrix for stewards (`tkpk status --period YYYY-MM`): per OPD and submission type, whether the file
arrived, was accepted or rejected, row counts, errors, last load time; the period's runs and audit trail."""

from __future__ import annotations

from sqlalchemy import and_, func, select

from tkpk.warehouse import session_scope
from tkpk.warehouse.models import (
    AuditLog,
    ExpectedSubmission,
    Finding,
    PipelineRun,
    SubmissionBatch,
)

STATE_LABEL = {
    "accepted": "diterima",
    "rejected": "ditolak",
    "missing": "belum mengirim",
    "received": "diterima (belum dimuat)",
    "duplicate": "diterima (berkas sama)",
    "superseded": "diganti",
}


def _late(exp) -> bool | None:
    """Whether the first file arrived after the deadline day (in Jakarta time)."""
    if exp is None or exp.deadline is None or exp.first_received_at is None:
        return None
    from zoneinfo import ZoneInfo

    received = exp.first_received_at
    if received.tzinfo is None:  # SQLite keeps no zone: stored as UTC
        from datetime import UTC

        received = received.replace(tzinfo=UTC)
    return received.astimezone(ZoneInfo("Asia/Jakarta")).date() > exp.deadline


def submission_matrix(database_url: str, period: str) -> dict:
    with session_scope(database_url) as s:
        expected = {
            (e.opd_code, e.submission_type): e
            for e in s.scalars(select(ExpectedSubmission).where(ExpectedSubmission.period == period))
        }
        latest_sub = (
            select(SubmissionBatch.opd_code, SubmissionBatch.submission_type,
                   func.max(SubmissionBatch.batch_id).label("batch_id"))
            .where(SubmissionBatch.period == period, SubmissionBatch.status != "duplicate")
            .group_by(SubmissionBatch.opd_code, SubmissionBatch.submission_type)
            .subquery()
        )
        latest = {
            (b.opd_code, b.submission_type): b
            for b in s.scalars(select(SubmissionBatch).join(latest_sub, SubmissionBatch.batch_id == latest_sub.c.batch_id))
        }
        current = {
            (b.opd_code, b.submission_type): b
            for b in s.scalars(select(SubmissionBatch).where(SubmissionBatch.period == period,
                                                             SubmissionBatch.is_current.is_(True)))
        }
        errors = dict(
            ((o, t), n) for o, t, n in s.execute(
                select(Finding.opd_code, Finding.submission_type, func.count())
                .join(SubmissionBatch, and_(Finding.batch_id == SubmissionBatch.batch_id))
                .where(Finding.period == period, Finding.severity.in_(["error", "critical"]),
                       SubmissionBatch.batch_id.in_([b.batch_id for b in latest.values()] or [-1]))
                .group_by(Finding.opd_code, Finding.submission_type)
            )
        )
        rows = []
        for key in sorted(set(expected) | set(latest)):
            exp, last, cur = expected.get(key), latest.get(key), current.get(key)
            if last is not None:
                state = last.status if last.status != "superseded" else "accepted"
            elif exp is not None:
                state = exp.state
            else:
                state = "missing"
            rows.append({
                "opd_code": key[0],
                "submission_type": key[1],
                "required": bool(exp.required) if exp else None,
                "state": state,
                "state_label": STATE_LABEL.get(state, state),
                "files": exp.file_count if exp else len(last.files or []) if last else 0,
                "rows_total": last.rows_total if last else 0,
                "rows_accepted": last.rows_accepted if last else 0,
                "rows_quarantined": last.rows_quarantined if last else 0,
                "rows_warning": last.rows_warning if last else 0,
                "errors": int(errors.get(key, 0)),
                "in_use_batch": cur.batch_id if cur else None,
                "in_use_rows": cur.rows_accepted if cur else 0,
                "last_loaded_at": last.loaded_at.isoformat(timespec="minutes") if last else None,
                "rejection_reason": last.rejection_reason if last and last.status == "rejected" else None,
                "run_id": last.run_id if last else None,
                "deadline": exp.deadline.isoformat() if exp and exp.deadline else None,
                "late": _late(exp),
            })
        runs = [
            {"run_id": r.run_id, "state": r.state, "started_at": r.started_at.isoformat(timespec="minutes"),
             "opd_filter": r.opd_filter, "rule_set_version": r.rule_set_version, "config_version": r.config_version}
            for r in s.scalars(select(PipelineRun).where(PipelineRun.period == period).order_by(PipelineRun.started_at))
        ]
        audit = [
            {"at": a.at.isoformat(timespec="minutes"), "actor": a.actor, "action": a.action, "opd_code": a.opd_code,
             "details": a.details}
            for a in s.scalars(select(AuditLog).where(AuditLog.period == period).order_by(AuditLog.at))
        ]
    return {"period": period, "submissions": rows, "runs": runs, "audit": audit}


def format_matrix(matrix: dict) -> str:
    header = f"{'OPD':<16} {'Jenis':<22} {'Status':<24} {'Baris':>7} {'Diterima':>8} {'Karantina':>9} {'Galat':>6}  Dimuat"
    lines = [f"Status kiriman periode {matrix['period']}", header, "-" * len(header)]
    for r in matrix["submissions"]:
        if r["state"] == "missing" and not r["required"]:
            continue  # kelurahan folders that sent nothing are not news
        lines.append(
            f"{r['opd_code']:<16} {r['submission_type']:<22} {r['state_label']:<24} {r['rows_total']:>7} "
            f"{r['rows_accepted']:>8} {r['rows_quarantined']:>9} {r['errors']:>6}  {r['last_loaded_at'] or '-'}"
        )
        if r["rejection_reason"]:
            lines.append(f"{'':<16} alasan: {r['rejection_reason'][:200]}")
    if matrix["runs"]:
        lines.append("")
        lines.append("Run:")
        for run in matrix["runs"]:
            flt = f" OPD {run['opd_filter']}" if run["opd_filter"] else ""
            lines.append(f"  {run['started_at']}  {run['state']:<9} {run['run_id']}{flt} "
                         f"(aturan {run['rule_set_version']}, konfigurasi {run['config_version']})")
    if matrix["audit"]:
        lines.append("")
        lines.append("Jejak audit:")
        for a in matrix["audit"]:
            lines.append(f"  {a['at']}  {a['actor']:<12} {a['action']:<16} {a['opd_code'] or ''}")
    return "\n".join(lines)
