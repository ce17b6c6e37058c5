"""The steward's sign-off between build_reports and send_reports (include/config/accounts.yaml `approval`).

An `ApprovalOperator` (standard provider, human-in-the-loop) assigned to the accounts with role steward; while it
waits it is `awaiting_input`, holds no worker slot, and is answered in Airflow's "Required actions" or through the
REST API. Approve: send_reports runs. Reject: send_reports is skipped (the run still ends successful: a decision,
not a failure), the stewards get an e-mail, the decision is in the audit log under the person who gave it. No
answer within `timeout_hours`: the configured default outcome. The task has no execution timeout: the wait is for
a person, so the DAG's run timeout is extended by `timeout_hours` (it keeps measuring the processing time).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from airflow.providers.standard.operators.hitl import ApprovalOperator

log = logging.getLogger(__name__)
TASK_ID = "approve_reports"


class ReportApproval(ApprovalOperator):
    """ApprovalOperator whose body carries the month's headline figures, and which records who decided."""

    def execute(self, context):
        from airflow.sdk.configuration import conf

        from tkpk.notify.approval import approval_body
        from tkpk_airflow import settings

        info = context["ti"].xcom_pull(task_ids="resolve_period")
        base = (conf.get("api", "base_url", fallback="") or "").rstrip("/")
        previews = f"{base}/tkpk/laporan?period={info['period']}" if base else None
        self.body = approval_body(settings(), info["period"], previews)
        return super().execute(context)

    def execute_complete(self, context, event):
        # Recorded before the operator acts on the answer: on Reject it skips send_reports by raising (Airflow 3's
        # SkipMixin), so nothing after super() would run.
        if "error" not in event:
            self._record(context, approved=list(event.get("chosen_options") or []) == [self.APPROVE],
                         user=event.get("responded_by_user"))
        return super().execute_complete(context, event)

    def _record(self, context, *, approved: bool, user: dict | None) -> None:
        from tkpk.notify.approval import notify_rejected, record_decision
        from tkpk_airflow import settings, smtp_settings

        info = context["ti"].xcom_pull(task_ids="resolve_period")
        actor = (user or {}).get("id") or "otomatis (batas waktu)"
        s = settings()
        record_decision(s, info["period"], approved=approved, actor=actor, run_id=info["run_id"],
                        automatic=user is None)
        if approved:
            log.info("Periode %s: pengiriman disetujui oleh %s", info["period"], actor)
        else:
            told = notify_rejected(s, smtp_settings(), info["period"], actor=actor, run_id=info["run_id"])
            log.info("Periode %s: pengiriman ditolak oleh %s; tidak ada laporan terkirim, %d steward diberi tahu",
                     info["period"], actor, told)


def approve_before(built, sent) -> None:
    """Put the sign-off between `built` and `sent` when accounts.yaml requires it (else leave them linked)."""
    from tkpk.config.accounts import load_accounts

    accounts = load_accounts()
    cfg = accounts.approval
    if not cfg.required:
        return
    approval = ReportApproval(
        task_id=TASK_ID,
        subject="Setujui pengiriman laporan TKPK bulan ini?",
        defaults="Approve" if cfg.default == "approve" else "Reject",
        response_timeout=timedelta(hours=cfg.timeout_hours),
        assigned_users=[{"id": a.username, "name": a.name} for a in accounts.stewards],
        execution_timeout=None,
        retries=0,
        doc_md="Steward memeriksa angka utama dan pratinjau laporan, lalu menyetujui (Approve) atau menolak "
               "(Reject) pengiriman e-mail bulan ini.",
    )
    built >> approval >> sent
    # The run timeout measures processing; the wait for a person comes on top of it.
    dag = approval.dag
    if dag is not None and dag.dagrun_timeout is not None:
        dag.dagrun_timeout = dag.dagrun_timeout + approval.response_timeout
