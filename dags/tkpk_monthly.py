"""tkpk_monthly: one month of OPD submissions -> quality -> linkage -> eligibility -> reports -> e-mail.

Reads like DESIGN.md section 3. Every task body is one call into `tkpk.<stage>`; the tasks pass only small values
(period, counts, partition codes) through XCom, never personal data.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException
from tkpk_airflow import default_args, registry_asset, settings, smtp_settings
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
    @task(retries=0)
    def resolve_period() -> dict:
        """The period this run reports on, in Jakarta time, and the steward's filters; recorded as a pipeline run."""
        from tkpk.pipeline import start_run

        ctx = get_current_context()
        params = ctx["params"]
        dag_run = ctx["dag_run"]
        when = ctx.get("logical_date") or dag_run.run_after
        info = start_run(
            settings(), run_id=dag_run.run_id, dag_id=dag_run.dag_id, logical_date=when,
            period=params.get("period") or None, opd=params.get("opd") or None,
            resend=bool(params.get("resend")), triggered_by=getattr(dag_run, "triggering_user_name", None),
        )
        log.info("Periode laporan: %s (OPD: %s)", info["period"], info["opd"] or "semua")
        return info

    @task(retries=3, retry_delay=timedelta(seconds=30))
    def discover(info: dict) -> list[dict]:
        from tkpk.ingest import discover as discover_files

        s = settings()
        found = discover_files(s, info["period"], opd=info["opd"], storage_options=s.storage_options)
        received = [f for f in found if f["state"] == "received"]
        missing = [f["opd_code"] for f in found if f["state"] == "missing" and f["required"]]
        log.info("Periode %s: %d kiriman diterima, OPD wajib belum mengirim: %s", info["period"], len(received),
                 ", ".join(missing) or "tidak ada")
        return [{"opd_code": f["opd_code"], "submission_type": f["submission_type"]} for f in received]

    @task(map_index_template="{{ submission.opd_code }}/{{ submission.submission_type }}")
    def load_submission(submission: dict) -> dict:
        from tkpk.ingest import BatchRejected
        from tkpk.ingest import load_submission as load

        info = _period()
        s = settings()
        try:
            result = load(s, info["period"], submission["opd_code"], submission["submission_type"],
                          run_id=info["run_id"], storage_options=s.storage_options)
        except BatchRejected as exc:
            # A rejected file is a normal outcome: red in the grid with the reason, no retry, later steps go on.
            raise AirflowFailException(f"Berkas {submission['opd_code']} ditolak: {exc}") from None
        log.info("Periode %s, %s/%s: %s", info["period"], submission["opd_code"], submission["submission_type"],
                 result)
        return result

    @task(trigger_rule="all_done")
    def prepare_linkage() -> list[str]:
        from tkpk.linkage import prepare_linkage as prepare

        info = _period()
        partitions = prepare(settings(), info["period"])
        log.info("Periode %s: linkage dibagi ke %d kecamatan", info["period"], len(partitions))
        return partitions

    @task(map_index_template="{{ partition }}")
    def link_partition(partition: str) -> dict:
        from tkpk.linkage import link_partition as link

        info = _period()
        result = link(settings(), info["period"], partition)
        log.info("Periode %s, kecamatan %s: %s", info["period"], partition, result)
        return result

    @task
    def finalize_linkage(_partitions: list[dict]) -> dict:
        from tkpk.linkage import finalize_linkage as finalize

        info = _period()
        result = finalize(settings(), info["period"])
        log.info("Periode %s: hasil linkage %s", info["period"], result)
        return result

    # Waits (by retrying, up to ~75 min) while a run of an earlier month is still going: a month's eligibility
    # reads the month before. Only a backfill of several months at once gets here.
    @task(inlets=[REGISTRY_ASSET], retries=8)
    def derive_events(_linkage: dict) -> list[str]:
        from tkpk.eligibility import derive_events as derive
        from tkpk.eligibility import eligibility_partitions
        from tkpk.pipeline import ensure_earlier_runs_finished

        info = _period()
        s = settings()
        ensure_earlier_runs_finished(s, info["period"], info["run_id"])
        result = derive(s, info["period"])
        log.info("Periode %s: peristiwa registri %s", info["period"], result)
        return eligibility_partitions(s, info["period"])

    @task(map_index_template="{{ kecamatan }}")
    def compute_eligibility(kecamatan: str) -> dict:
        from tkpk.eligibility import compute_eligibility as compute

        info = _period()
        result = compute(settings(), info["period"], kecamatan=kecamatan)
        log.info("Periode %s, kecamatan %s: %s", info["period"], kecamatan, result)
        return result

    @task
    def finalize_eligibility(_parts: list[dict]) -> dict:
        from tkpk.eligibility import finalize_eligibility as finalize

        info = _period()
        result = finalize(settings(), info["period"])
        log.info("Periode %s: kelayakan dan ketepatan sasaran %s", info["period"], result)
        return result

    @task
    def build_reports(_eligibility: dict) -> list[dict]:
        from tkpk.reports import build_reports as build

        info = _period()
        reports = build(settings(), info["period"], run_id=info["run_id"])
        log.info("Periode %s: %d laporan disusun", info["period"], len(reports))
        return reports

    @task(retries=3, retry_delay=timedelta(minutes=2))
    def send_reports(_reports: list[dict]) -> dict:
        from tkpk.notify import send_reports as send

        info = _period()
        result = send(settings(), info["period"], smtp_settings(), resend=info["resend"], actor=info["actor"],
                      run_id=info["run_id"])
        log.info("Periode %s: pengiriman e-mail %s", info["period"], result)
        return result

    @task(trigger_rule="one_failed", retries=0, on_failure_callback=None)
    def check_outputs() -> None:
        """Runs only when linkage, eligibility, reports or sending failed, and fails the run so it shows red.
        (A rejected OPD file alone does not: that is a normal outcome the reports already explain.)
        The failed step has already alerted the stewards, so this task sends no second alert."""
        raise AirflowFailException("Langkah setelah pemuatan gagal; lihat tugas yang merah dan peringatan e-mail.")

    @task(trigger_rule="all_done", retries=2)
    def summarize() -> dict:
        """The run summary in the last task's log (counts only) and the pipeline_run record closed."""
        from tkpk.pipeline import finish_run

        info = _period()
        summary = finish_run(settings(), info["run_id"])
        for line in summary["lines"]:
            log.info(line)
        return summary["counts"]

    info = resolve_period()
    found = discover(info)
    loaded = load_submission.expand(submission=found)
    partitions = prepare_linkage()
    loaded >> partitions
    linked = finalize_linkage(link_partition.expand(partition=partitions))
    kecamatan = derive_events(linked)
    decided = finalize_eligibility(compute_eligibility.expand(kecamatan=kecamatan))
    built = build_reports(decided)
    sent = send_reports(built)
    approve_before(built, sent)  # the steward's sign-off, when accounts.yaml `approval.required`
    sent >> summarize()
    [linked, decided, built, sent] >> check_outputs()


tkpk_monthly()
