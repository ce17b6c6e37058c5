"""tkpk_registry: load new registry snapshots (DTKS/DTSEN from Dinas Sosial) and announce them as an Asset.

The monthly DAG declares the asset as an inlet of its eligibility step; its schedule stays time-based, so a registry
load never sends mid-month e-mail.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from tkpk_airflow import alert_run_failure, default_args, registry_asset, settings

from tkpk.schedule import TIMEZONE

log = logging.getLogger(__name__)

REGISTRY_ASSET = registry_asset()

DOC_MD = """
### Snapshot registri (DTKS/DTSEN)

Dinas Sosial mengirim snapshot registri baru beberapa kali setahun ke folder
`{landing}/registry/{tanggal_snapshot}/` (misalnya `registry/2026-09-25/`) berisi `households.csv` dan
`persons.csv` (atau `.xlsx` dengan nama yang sama).

**Kapan**: setiap hari pukul 06.00 WIB DAG ini memeriksa folder snapshot yang belum dimuat (atau yang berkasnya
berubah) lalu memuatnya. Snapshot lama tetap disimpan: periode P memakai snapshot terakhir yang bertanggal pada atau
sebelum akhir bulan P, sehingga menjalankan ulang bulan lalu memberi hasil yang sama.

**Pemeriksaan**: kolom wajib, id ganda, anggota tanpa keluarga, kode kelurahan di luar Kota Jambi menolak snapshot;
NIK/No KK yang rusak dikosongkan dan dihitung (tidak ada orang yang dibuang).

**Memuat satu snapshot secara manual**: *Trigger DAG* dengan parameter `snapshot_date` (YYYY-MM-DD).

Setelah snapshot dimuat, aset `tkpk://warehouse/registry_snapshot` diperbarui; laporan bulanan berikutnya memakainya.
"""


@dag(
    dag_id="tkpk_registry",
    schedule=CronTriggerTimetable("0 6 * * *", timezone=TIMEZONE),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=2),
    default_args=default_args(),
    on_failure_callback=alert_run_failure,
    tags=["tkpk", "registry"],
    doc_md=DOC_MD,
    params={
        "snapshot_date": Param(
            "", type="string", pattern=r"^$|^\d{4}-\d{2}-\d{2}$", title="Tanggal snapshot (YYYY-MM-DD)",
            description="Muat folder registry/<tanggal> ini. Kosongkan untuk memuat semua snapshot baru.",
        ),
    },
)
def tkpk_registry():
    @task(retries=3)
    def find_snapshots() -> list[str]:
        from tkpk.registry import pending_snapshots

        requested = get_current_context()["params"].get("snapshot_date")
        if requested:
            return [requested]
        s = settings()
        pending = pending_snapshots(s.database_url, s.landing_url, s.storage_options)
        log.info("Snapshot baru: %s", ", ".join(pending) or "tidak ada")
        return pending

    @task(outlets=[REGISTRY_ASSET])
    def load_snapshots(snapshot_dates: list[str]) -> list[dict]:
        from tkpk.registry import RegistryError, load_snapshot

        if not snapshot_dates:
            raise AirflowSkipException("Tidak ada snapshot registri baru.")
        s = settings()
        results = []
        for name in snapshot_dates:
            folder = f"{s.landing_url.rstrip('/')}/registry/{name}"
            try:
                result = load_snapshot(s.database_url, folder, date.fromisoformat(name),
                                       storage_options=s.storage_options, actor="tkpk_registry")
            except RegistryError as exc:
                raise AirflowFailException(f"Snapshot {name} ditolak: {exc}") from None
            log.info("Snapshot %s: %d keluarga, %d jiwa%s", name, result["households"], result["persons"],
                     " (tidak berubah)" if result["unchanged"] else "")
            for problem in result["problems"]:
                log.warning("Snapshot %s: %s", name, problem)
            results.append({"snapshot_date": name, "households": result["households"], "persons": result["persons"]})
        return results

    load_snapshots(find_snapshots())


tkpk_registry()
