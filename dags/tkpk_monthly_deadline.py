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


def awaiting_approval(ti, run_id: str, dag_id: str = "tkpk_monthly") -> bool:
    """Whether that run's `approve_reports` waits for a steward (Airflow's `awaiting_input`): the warehouse only
    knows the run as running. If Airflow cannot say, the alert falls back to "masih berjalan"."""
    from tkpk_airflow.approval import TASK_ID

    try:
        states = ti.get_task_states(dag_id=dag_id, task_ids=[TASK_ID], run_ids=[run_id])
    except Exception:  # noqa: BLE001 - the alert still goes out, in the general wording
        log.warning("Status tugas %s run %s tidak dapat dibaca dari Airflow", TASK_ID, run_id, exc_info=True)
        return False
    return str((states.get(run_id) or {}).get(TASK_ID) or "") == "awaiting_input"


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
                             awaiting_approval=lambda run_id: awaiting_approval(ctx["ti"], run_id),
                             airflow_url=conf.get("api", "base_url", fallback=None))
        log.info("Periode %s: %s", period, "belum selesai, peringatan dikirim" if sent else "run sudah selesai")
        return sent

    check_monthly_finished()


tkpk_monthly_deadline()
