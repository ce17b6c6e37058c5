"""Delivery: MIME messages, SMTP with retries, the send log (exactly once per report, recipient and content), the
failure alert to stewards, and a local mail sink. Step 6 of the monthly run; the reports come from `tkpk.reports`.

The DAG builds `SmtpSettings.from_connection(conn)` from the Airflow connection `smtp_default` and calls
`send_reports(...)`; the failure callback calls `send_failure_alert(...)`. Importing this package is cheap.
"""

from __future__ import annotations

from tkpk.notify.smtp import RecipientRefused, SendFailed, SmtpSettings


def send_reports(settings, period: str, smtp: SmtpSettings, *, resend: bool = False, actor: str = "tkpk",
                 run_id: str | None = None, config=None) -> dict:
    """Send every report built for `period` to its recipients, exactly once (see `tkpk.notify.send`).

    Returns counts for XCom: sent, revisions, resent, skipped, refused, refused_reports.
    """
    from tkpk.notify.send import send_reports as _send

    return _send(settings, period, smtp, resend=resend, actor=actor, run_id=run_id, config=config)


def send_failure_alert(settings, smtp: SmtpSettings, *, dag_id: str, task_id: str, period: str | None,
                       error: str, run_id: str | None = None, log_url: str | None = None, config=None,
                       failures: list[dict] | None = None, resume: list[str] | None = None) -> None:
    """E-mail the stewards that `dag_id`/`task_id` (or, with `failures`, a whole run) failed for `period` (errors
    masked, how to resume)."""
    from tkpk.notify.alert import send_failure_alert as _alert

    _alert(settings, smtp, dag_id=dag_id, task_id=task_id, period=period, error=error, run_id=run_id,
           log_url=log_url, config=config, failures=failures, resume=resume)


__all__ = ["RecipientRefused", "SendFailed", "SmtpSettings", "send_failure_alert", "send_reports"]
