"""The submission matrix for stewards (`tkpk status --period YYYY-MM`): per OPD and submission type, whether the file
arrived, was accepted or rejected, row counts, errors, last load time; the period's runs and audit trail.

What the warehouse knows (the last `discover` and loads) comes first; given the settings, a type that nothing has
loaded yet is also looked up in the landing zone with the same rule as `discover` and the reminders
(`tkpk.ingest.landing.received_files`), so a file a steward has just dropped shows as "diterima (belum dimuat)"."""

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


def _landed(settings, period: str) -> dict[tuple[str, str], tuple[bool, int]]:
    """(opd, type) -> (required, number of spreadsheet files) for every type with a delivery in the landing zone."""
    from tkpk.config import load_config
    from tkpk.ingest.landing import opd_folders, received_files

    present = opd_folders(settings, period)
    out = {}
    for opd in load_config(settings.config_dir).opds.all_opds():
        if opd.code not in present:
            continue
        for type_code, files in received_files(settings, period, opd, present=present).items():
            if files:
                out[(opd.code, type_code)] = (bool(opd.required), sum(1 for f in files if f.supported))
    return out


def submission_matrix(database_url: str, period: str, settings=None) -> dict:
    """The matrix from the warehouse; with `settings`, deliveries not loaded yet come from the landing zone. A landing
    zone that cannot be read leaves the warehouse's view and says so (`landing_error`)."""
    landed, landing_error = {}, None
    if settings is not None:
        from tkpk.ingest.errors import LandingUnreadable

        try:
            landed = _landed(settings, period)
        except LandingUnreadable as exc:  # the warehouse's matrix is still worth showing
            landing_error = exc.message
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
        for key in sorted(set(expected) | set(latest) | set(landed)):
            exp, last, cur = expected.get(key), latest.get(key), current.get(key)
            files = exp.file_count if exp else len(last.files or []) if last else 0
            if last is not None:
                state = last.status if last.status != "superseded" else "accepted"
            elif key in landed and (exp is None or exp.state == "missing"):
                state, files = "received", landed[key][1]
            elif exp is not None:
                state = exp.state
            else:
                state = "missing"
            rows.append({
                "opd_code": key[0],
                "submission_type": key[1],
                "required": bool(exp.required) if exp else landed[key][0] if key in landed else None,
                "state": state,
                "state_label": STATE_LABEL.get(state, state),
                "files": files,
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
    out = {"period": period, "submissions": rows, "runs": runs, "audit": audit}
    if landing_error:
        out["landing_error"] = landing_error
    return out


# What each audit action means, for the steward reading `tkpk status`.
AUDIT_LABEL = {
    "load_submission": "muat kiriman",
    "load_duplicate": "muat ulang (berkas sama)",
    "retrigger": "picu ulang",
    "trigger": "picu manual",
    "submit": "taruh berkas",
    "submit_replace": "ganti berkas",
    "review_decision": "keputusan tinjauan",
    "export_lists": "ekspor daftar nama",
    "resend": "kirim ulang laporan",
    "purge": "hapus data lama",
    "registry_load": "muat registri",
}


def _wrap(text: str, indent: int, width: int = 110) -> list[str]:
    """Each line of `text` wrapped at word boundaries under an indent: a reason is never cut mid-word."""
    import textwrap

    pad = " " * indent
    out: list[str] = []
    for line in str(text).splitlines() or [""]:
        out.extend(textwrap.wrap(line, width=width, initial_indent=pad, subsequent_indent=pad + "  ",
                                 break_long_words=False, break_on_hyphens=False) or [pad])
    return out


def format_matrix(matrix: dict) -> str:
    header = (f"{'OPD':<16} {'Jenis':<22} {'Status':<24} {'Baris':>7} {'Dipakai':>8} {'Ditolak':>8} {'Galat':>6}  "
              "Dimuat (UTC)")
    lines = [f"Status kiriman periode {matrix['period']}", header, "-" * len(header)]
    shown = [r for r in matrix["submissions"] if not (r["state"] == "missing" and not r["required"])]
    if not shown and not matrix["runs"]:
        lines.append(f"Belum ada data untuk periode {matrix['period']}: belum ada run dan belum ada kiriman yang "
                     "tercatat. Periksa periodenya (YYYY-MM), atau jalankan dulu tkpk_monthly untuk periode ini.")
    for r in shown:  # kelurahan folders that sent nothing are not news
        # a rejected file has no row-level split: nothing of it is used, "ditolak" per row would read 0
        quarantined = "-" if r["state"] == "rejected" else r["rows_quarantined"]
        lines.append(
            f"{r['opd_code']:<16} {r['submission_type']:<22} {r['state_label']:<24} {r['rows_total']:>7} "
            f"{r['rows_accepted']:>8} {quarantined:>8} {r['errors']:>6}  {r['last_loaded_at'] or '-'}"
        )
        if r["rejection_reason"]:
            lines.append(f"{'':<16} alasan:")
            lines.extend(_wrap(r["rejection_reason"], 18))
    if matrix.get("landing_error"):
        lines.append(f"Catatan: {matrix['landing_error']} Status di atas hanya dari gudang data.")
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
            action = AUDIT_LABEL.get(a["action"], a["action"].replace("_", " "))
            lines.append(f"  {a['at']}  {a['actor']:<12} {action:<26} {a['opd_code'] or ''}")
    return "\n".join(lines)
