"""tkpk_monthly_deadline: the day-10 deadline. At `finish_by_hour` (WIB) on the monthly run's day, alerts the stewards
once if that month's run has not finished (not started, still going, or waiting for the steward's sign-off).

Airflow 3.3's Deadline Alerts (experimental) were tried first: with a `deadline=` on tkpk_monthly, every successful
`airflow dags test` run (the demo and the tests) crashes in DagRun.update_state (DeadlineAlert.get_by_id receives the
unserialized alert), so this small scheduled check stands in for it and is tested the same way as everything else.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from airflow.sdk import CronTriggerTimetable, dag, get_current_context, task
from tkpk_airflow import alert_run_failure, default_args, smtp_settings

from tkpk.schedule import TIMEZONE, deadline_cron, finish_by_hour

log = logging.getLogger(__name__)

DOC_MD = """
### Batas waktu laporan bulanan

**Kapan**: pada tanggal run bulanan (`schedule_day`, bawaan 10) pukul `finish_by_hour` WIB (bawaan 17.00), keduanya di
`include/config/opds.yaml`.

**Apa**: memeriksa run `tkpk_monthly` untuk bulan sebelumnya. Bila run itu **belum dimulai**, **masih berjalan**, atau
**menunggu persetujuan pengiriman** (tugas `approve_reports`), steward menerima **satu** e-mail peringatan dengan
langkah berikutnya (memeriksa run di Airflow, atau menyetujui/menolak pengiriman di *Required actions* setelah melihat
pratinjau di halaman TKPK > Laporan). Run yang sudah selesai, atau yang gagal dan sudah mengirim peringatan
kegagalan, tidak memicu peringatan ini.
"""


def run_status(ti, run_id: str, dag_id: str = "tkpk_monthly") -> str | None:
    """What only Airflow knows of a run the warehouse calls running: "failed" (its failure callback has alerted
    already), "awaiting_approval" (`approve_reports` waits for a steward: Airflow's `awaiting_input`), or None
    (still working, or Airflow cannot say: the alert then goes out in the general wording)."""
    from tkpk_airflow.approval import TASK_ID

    try:
        if str(ti.get_dagrun_state(dag_id=dag_id, run_id=run_id)) == "failed":
            return "failed"
        states = ti.get_task_states(dag_id=dag_id, task_ids=[TASK_ID], run_ids=[run_id])
    except Exception:  # noqa: BLE001 - the alert still goes out, in the general wording
        log.warning("Status run %s tidak dapat dibaca dari Airflow", run_id, exc_info=True)
        return None
    return "awaiting_approval" if str((states.get(run_id) or {}).get(TASK_ID) or "") == "awaiting_input" else None


@dag(
    dag_id="tkpk_monthly_deadline",
    schedule=CronTriggerTimetable(deadline_cron(), timezone=TIMEZONE),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=1),
    default_args=default_args(),
    on_failure_callback=alert_run_failure,
    tags=["tkpk", "monthly"],
    doc_md=DOC_MD,
)
def tkpk_monthly_deadline():
    @task(retries=3)
    def check_monthly_finished() -> bool:
        from airflow.sdk.configuration import conf
        from tkpk_airflow import _plain_settings

        from tkpk.period import reporting_period
        from tkpk.pipeline import overdue_alert

        ctx = get_current_context()
        when = ctx.get("logical_date") or ctx["dag_run"].run_after
        period = str(reporting_period(when))
        sent = overdue_alert(_plain_settings(), smtp_settings(), period=period, finish_by_hour=finish_by_hour(),
                             airflow_status=lambda run_id: run_status(ctx["ti"], run_id),
                             airflow_url=conf.get("api", "base_url", fallback=None))
        log.info("Periode %s: %s", period, "belum selesai, peringatan dikirim" if sent else "run sudah selesai")
        return sent

    check_monthly_finished()


tkpk_monthly_deadline()
