"""tkpk_reminders: a daily check that reminds OPDs of their deadline when their monthly file has not arrived."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from airflow.sdk import CronTriggerTimetable, dag, get_current_context, task
from tkpk_airflow import alert_run_failure, default_args, settings, smtp_settings

from tkpk.schedule import TIMEZONE

log = logging.getLogger(__name__)

DOC_MD = """
### Pengingat batas waktu kiriman OPD

**Kapan**: setiap hari pukul 08.00 WIB.

**Apa**: untuk bulan sebelumnya, setiap OPD wajib yang **belum mengirim** berkas dan batas waktunya
(`deadline_day` di `include/config/opds.yaml`) tinggal `reminder_days_before` hari (bawaan 3) atau kurang menerima
e-mail pengingat dalam bahasa Indonesia, dengan tembusan ke petugas data (steward). Setiap pengingat dikirim **sekali**
per periode, OPD dan penerima (tercatat di log pengiriman), walaupun DAG berjalan setiap hari.

Kartu skor mutu data di laporan bulanan memakai batas waktu yang sama untuk kolom "tepat waktu".
"""


@dag(
    dag_id="tkpk_reminders",
    schedule=CronTriggerTimetable("0 8 * * *", timezone=TIMEZONE),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=1),
    default_args=default_args(),
    on_failure_callback=alert_run_failure,
    tags=["tkpk", "reminder"],
    doc_md=DOC_MD,
)
def tkpk_reminders():
    @task(retries=3, retry_delay=timedelta(minutes=5))
    def send_reminders() -> dict:
        import pendulum

        from tkpk.reminders import send_reminders as send

        ctx = get_current_context()
        when = ctx.get("logical_date") or ctx["dag_run"].run_after
        today = pendulum.instance(when).in_tz(TIMEZONE).date()
        result = send(settings(), smtp_settings(), today)
        log.info("Pengingat %s: %s", today, result)
        return result

    send_reminders()


tkpk_reminders()
