"""tkpk_monthly: one month of OPD submissions -> quality -> linkage -> eligibility -> reports -> e-mail.

Reads like DESIGN.md section 3. Every task body is one call into `tkpk.<stage>`; the tasks pass only small values
(period, counts, partition codes) through XCom, never personal data.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task
from tkpk_airflow import (
    alert_run_failure,
    default_args,
    execution_timeout,
    infrastructure_failed,
    poke_interval,
    registry_asset,
    rejected,
    settings,
    smtp_settings,
)
from tkpk_airflow.approval import approve_before

from tkpk.period import PERIOD_PATTERN
from tkpk.schedule import TIMEZONE, monthly_cron, opd_codes

log = logging.getLogger(__name__)

REGISTRY_ASSET = registry_asset()

DOC_MD = """
### Laporan bulanan TKPK Kota Jambi

**Kapan**: otomatis pukul 07.00 WIB pada tanggal 10 setiap bulan (dapat diatur di `include/config/opds.yaml`),
untuk **bulan kalender sebelumnya** (dihitung dalam waktu Jakarta).

**Urutan kerja**
1. `discover` - mencari berkas kiriman OPD di folder `{landing}/{YYYY-MM}/{kode_opd}/`; OPD wajib yang belum
   mengirim dicatat sebagai *belum mengirim*.
2. `load_submission` - satu tugas per OPD dan jenis kiriman: membaca berkas, memeriksa mutu data, mengarantina baris
   yang salah, lalu mengganti batch OPD tersebut untuk bulan itu. **Berkas yang ditolak** membuat tugas ini merah
   (tanpa percobaan ulang) dengan alasan dalam bahasa Indonesia di log; batch lama yang sudah diterima tetap dipakai
   dan langkah berikutnya tetap berjalan.
3. `linkage` - mencocokkan setiap orang dan keluarga dengan registri (DTKS/DTSEN); pasangan yang meragukan masuk
   antrean tinjauan (`tkpk review export`).
4. `eligibility` - menghitung ulang kelayakan setiap program, perubahan sejak bulan lalu, dan ketepatan sasaran.
5. `reports` dan `send` - menyusun laporan dan mengirim e-mail (laporan kota, kecamatan, kelurahan, umpan balik OPD).
   Laporan yang berubah setelah muat ulang dikirim sekali lagi dengan tanda **[REVISI]**.
   Bila persetujuan aktif (`accounts.yaml`), `approve_reports` menunggu steward menyetujui (Approve) atau menolak
   (Reject) pengiriman di *Required actions*; ditolak = tidak ada e-mail, run tetap hijau.

**Memuat ulang berkas satu OPD** (setelah OPD mengirim berkas perbaikan):
letakkan berkas baru di folder landing, lalu *Trigger DAG* dengan parameter `period` (misalnya `2026-10`) dan `opd`
(misalnya `disnaker`). Hanya batch OPD itu yang dimuat ulang; tautan, kelayakan dan laporan dihitung ulang; e-mail
hanya terkirim bila laporannya berubah. Cara lain: *Clear* tugas `load_submission` yang gagal.

Status kiriman per OPD: `tkpk status --period 2026-10`.

**Bila ada gangguan** (zona landing, database, server e-mail, secrets): tugas dicoba ulang otomatis; bila tetap
gagal, laporan bulan itu **tidak dikirim**, run berwarna merah, dan steward menerima **satu** e-mail peringatan yang
menyebut apa yang gagal dan langkah melanjutkannya (Clear tugas yang merah, dengan *Downstream*). Berkas yang
ditolak bukan gangguan: hanya tugas pemuatannya yang merah dan laporan tetap dikirim. Lihat
`docs/panduan-steward.md`.
"""


def _period() -> dict:
    return get_current_context()["ti"].xcom_pull(task_ids="resolve_period")


@dag(
    dag_id="tkpk_monthly",
    schedule=CronTriggerTimetable(monthly_cron(), timezone=TIMEZONE),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=6),
    default_args=default_args(),
    on_failure_callback=alert_run_failure,  # ONE alert per failed run; tasks only record what failed
    tags=["tkpk", "monthly"],
    doc_md=DOC_MD,
    params={
        "period": Param(
            "", type="string", pattern=PERIOD_PATTERN, title="Periode (YYYY-MM)",
            description="Bulan yang diproses, misalnya 2026-10. Kosongkan untuk bulan sebelumnya (waktu Jakarta).",
        ),
        "opd": Param(
            "", type="string", enum=["", *opd_codes()], title="OPD",
            description="Muat ulang hanya kiriman OPD ini. Kosongkan untuk semua OPD.",
        ),
        "resend": Param(
            False, type="boolean", title="Kirim ulang laporan",
            description="Kirim sekali lagi laporan yang tidak berubah (dicatat di log audit).",
        ),
    },
)
def tkpk_monthly():
    @task(execution_timeout=execution_timeout("resolve_period"))
    def resolve_period() -> dict:
        """The period this run reports on, in Jakarta time, and the steward's filters; recorded as a pipeline run
        (idempotent: a retry updates the same record). First delivers any alert kept while SMTP was down."""
        from tkpk_airflow import _plain_settings, flush_pending_alerts

        from tkpk.pipeline import start_run

        flush_pending_alerts()
        ctx = get_current_context()
        params = ctx["params"]
        dag_run = ctx["dag_run"]
        when = ctx.get("logical_date") or dag_run.run_after
        info = start_run(
            _plain_settings(), run_id=dag_run.run_id, dag_id=dag_run.dag_id, logical_date=when,
            period=params.get("period") or None, opd=params.get("opd") or None,
            resend=bool(params.get("resend")), triggered_by=getattr(dag_run, "triggering_user_name", None),
        )
        log.info("Periode laporan: %s (OPD: %s)", info["period"], info["opd"] or "semua")
        return info

    @task(retries=3, execution_timeout=execution_timeout("discover"))
    def discover(info: dict) -> list[dict]:
        from tkpk.ingest import discover as discover_files

        s = settings()
        found = discover_files(s, info["period"], opd=info["opd"], storage_options=s.storage_options)
        received = [f for f in found if f["state"] == "received"]
        missing = [f["opd_code"] for f in found if f["state"] == "missing" and f["required"]]
        log.info("Periode %s: %d kiriman diterima, OPD wajib belum mengirim: %s", info["period"], len(received),
                 ", ".join(missing) or "tidak ada")
        return [{"opd_code": f["opd_code"], "submission_type": f["submission_type"]} for f in received]

    @task(map_index_template="{{ submission.opd_code }}/{{ submission.submission_type }}",
          execution_timeout=execution_timeout("load_submission"))
    def load_submission(submission: dict) -> dict:
        from tkpk.ingest import BatchRejected
        from tkpk.ingest import load_submission as load

        info = _period()
        s = settings()
        try:
            result = load(s, info["period"], submission["opd_code"], submission["submission_type"],
                          run_id=info["run_id"], storage_options=s.storage_options)
        except BatchRejected as exc:
            # A rejected file is a normal outcome: red in the grid with the reason, no retry, later steps go on
            # (check_loads counts it as an outcome). Any other exception is infrastructure: retried with backoff.
            raise rejected(f"Berkas {submission['opd_code']} ditolak: {exc}") from None
        log.info("Periode %s, %s/%s: %s", info["period"], submission["opd_code"], submission["submission_type"],
                 result)
        return result

    @task(trigger_rule="all_done", execution_timeout=execution_timeout("check_loads"))
    def check_loads() -> dict:
        """The gate between loading and everything after it: every file discover found has an outcome from this
        run (accepted, unchanged, or rejected = the OPD's problem). A discover or load that failed for any other
        reason (landing zone, database, timeout) stops the month here: no linkage, no report, run red."""
        from tkpk.pipeline import LoadsIncomplete
        from tkpk.pipeline import check_loads as check

        info = _period()
        found = get_current_context()["ti"].xcom_pull(task_ids="discover")
        if found is None:
            raise infrastructure_failed(f"Periode {info['period']}: discover gagal; kiriman OPD belum terbaca.")
        try:
            counts = check(settings(), info["period"], info["run_id"], found)
        except LoadsIncomplete as exc:
            raise infrastructure_failed(str(exc)) from None
        log.info("Periode %s: hasil pemuatan %s", info["period"], counts)
        return counts

    @task(execution_timeout=execution_timeout("prepare_linkage"))
    def prepare_linkage(_loads: dict) -> list[str]:
        from tkpk.linkage import prepare_linkage as prepare

        info = _period()
        partitions = prepare(settings(), info["period"])
        log.info("Periode %s: linkage dibagi ke %d kecamatan", info["period"], len(partitions))
        return partitions

    @task(map_index_template="{{ partition }}", execution_timeout=execution_timeout("link_partition"))
    def link_partition(partition: str) -> dict:
        from tkpk.linkage import link_partition as link

        info = _period()
        result = link(settings(), info["period"], partition)
        log.info("Periode %s, kecamatan %s: %s", info["period"], partition, result)
        return result

    @task(execution_timeout=execution_timeout("finalize_linkage"))
    def finalize_linkage(_partitions: list[dict]) -> dict:
        from tkpk.linkage import finalize_linkage as finalize

        info = _period()
        result = finalize(settings(), info["period"])
        log.info("Periode %s: hasil linkage %s", info["period"], result)
        return result

    # A month's eligibility reads the month before (events, quota keep, changes since last month), so it must not
    # start while a run of an earlier month is still going (a backfill of several months at once). A sensor waits
    # for that without spending a retry (try number stays 1). Poke mode, not reschedule: on a loaded machine
    # Airflow 3.3's scheduler received the LocalExecutor's "success" event of the previous reschedule poke after the
    # next poke had started with the same try number, took the task for "killed externally" and marked it for retry
    # (tests/test_airflow_ops.py saw try 2 and 3). Only a multi-month backfill ever waits here, holding one slot.
    @task.sensor(mode="poke", poke_interval=poke_interval(), timeout=timedelta(hours=6),
                 execution_timeout=timedelta(hours=6, minutes=5))
    def wait_for_earlier_months(_linkage: dict) -> bool:
        from tkpk.pipeline import earlier_runs_active

        info = _period()
        busy = earlier_runs_active(settings(), info["period"], info["run_id"])
        if busy:
            log.info("Periode %s menunggu run periode %s selesai", info["period"], ", ".join(busy))
        return not busy

    @task(inlets=[REGISTRY_ASSET], execution_timeout=execution_timeout("derive_events"))
    def derive_events(_linkage: dict) -> list[str]:
        from tkpk.eligibility import derive_events as derive
        from tkpk.eligibility import eligibility_partitions

        info = _period()
        s = settings()
        result = derive(s, info["period"])
        log.info("Periode %s: peristiwa registri %s", info["period"], result)
        return eligibility_partitions(s, info["period"])

    @task(map_index_template="{{ kecamatan }}", execution_timeout=execution_timeout("compute_eligibility"))
    def compute_eligibility(kecamatan: str) -> dict:
        from tkpk.eligibility import compute_eligibility as compute

        info = _period()
        result = compute(settings(), info["period"], kecamatan=kecamatan)
        log.info("Periode %s, kecamatan %s: %s", info["period"], kecamatan, result)
        return result

    @task(execution_timeout=execution_timeout("finalize_eligibility"))
    def finalize_eligibility(_parts: list[dict]) -> dict:
        from tkpk.eligibility import finalize_eligibility as finalize

        info = _period()
        result = finalize(settings(), info["period"])
        log.info("Periode %s: kelayakan dan ketepatan sasaran %s", info["period"], result)
        return result

    @task(execution_timeout=execution_timeout("build_reports"))
    def build_reports(_eligibility: dict) -> list[dict]:
        from tkpk.reports import build_reports as build

        info = _period()
        reports = build(settings(), info["period"], run_id=info["run_id"])
        log.info("Periode %s: %d laporan disusun", info["period"], len(reports))
        return reports

    @task(retries=3, execution_timeout=execution_timeout("send_reports"))
    def send_reports(_reports: list[dict]) -> dict:
        from tkpk.notify import send_reports as send

        info = _period()
        result = send(settings(), info["period"], smtp_settings(), resend=info["resend"], actor=info["actor"],
                      run_id=info["run_id"])
        log.info("Periode %s: pengiriman e-mail %s", info["period"], result)
        return result

    @task(trigger_rule="one_failed", retries=0, execution_timeout=execution_timeout("check_outputs"))
    def check_outputs() -> None:
        """Runs only when the load gate, linkage, eligibility, reports or sending failed, and fails the run so it
        shows red (and the DAG's failure callback sends the one alert). A rejected OPD file alone does not: that
        is a normal outcome the reports already explain."""
        raise infrastructure_failed("Langkah sebelum pengiriman gagal; lihat tugas yang merah dan e-mail peringatan.")

    @task(trigger_rule="all_done", retries=2, execution_timeout=execution_timeout("summarize"))
    def summarize() -> dict:
        """The run summary in the last task's log (counts only) and the pipeline_run record closed."""
        from tkpk.pipeline import finish_run

        info = _period()
        sent = get_current_context()["ti"].xcom_pull(task_ids="send_reports")
        summary = finish_run(settings(), info["run_id"], complete=sent is not None)
        for line in summary["lines"]:
            log.info(line)
        return summary["counts"]

    @task.short_circuit(execution_timeout=execution_timeout("next_rebuild"))
    def next_rebuild() -> str | None:
        """A later month marked for rebuild because an earlier month was revised after it ran: its period, so the
        next task triggers a run of it (it queues behind this run; max_active_runs=1). None skips the trigger."""
        from tkpk.pipeline import next_rebuild as pending

        if get_current_context()["ti"].xcom_pull(task_ids="send_reports") is None:
            return None  # a failed run queues nothing (it would queue itself again); the next good run does
        period = pending(settings())
        if period:
            log.info("Periode %s ditandai untuk dihitung ulang (bulan sebelumnya direvisi); run baru dipicu", period)
        return period

    rebuild_later_month = TriggerDagRunOperator(
        task_id="rebuild_later_month", trigger_dag_id="tkpk_monthly", execution_timeout=execution_timeout("default"),
        conf={"period": "{{ ti.xcom_pull(task_ids='next_rebuild') }}"}, wait_for_completion=False)

    info = resolve_period()
    found = discover(info)
    loaded = load_submission.expand(submission=found)
    gate = check_loads()
    loaded >> gate
    partitions = prepare_linkage(gate)
    linked = finalize_linkage(link_partition.expand(partition=partitions))
    kecamatan = derive_events(wait_for_earlier_months(linked))
    decided = finalize_eligibility(compute_eligibility.expand(kecamatan=kecamatan))
    built = build_reports(decided)
    sent = send_reports(built)
    approve_before(built, sent)  # the steward's sign-off between them, when accounts.yaml `approval.required`
    sent >> summarize() >> next_rebuild() >> rebuild_later_month
    [gate, linked, decided, built, sent] >> check_outputs()


tkpk_monthly()
