"""tkpk_simulate: a what-if question from the trigger form -> scenario vs the current rules -> e-mail to the requester.

Never scheduled; triggered by an analyst. Every task body is one call into `tkpk.simulate.request`; XCom carries the
request (period, --set lines, e-mail) and counts only.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException
from tkpk_airflow import alert_run_failure, default_args, settings, smtp_settings

from tkpk.period import PERIOD_PATTERN
from tkpk.simulate.request import program_codes

log = logging.getLogger(__name__)

DOC_MD = """
### Simulasi program (bagaimana jika)

**Untuk siapa**: analis Bappeda dan TKPK yang merancang aturan atau anggaran program tahun depan.

**Apa**: menghitung ulang kelayakan satu bulan dengan aturan usulan (skenario) dan membandingkannya dengan aturan
yang berlaku untuk bulan yang sama. Hasilnya dikirim ke e-mail peminta: ringkasan, tabel per program (keluarga dan
jiwa bertambah/berkurang, rupiah setahun, cakupan keluarga miskin ekstrem, kecukupan pagu), tabel per kecamatan dan
per kelurahan, peta perubahan per kelurahan, dan daftar nama (XLSX) hanya bagi peminta yang tercantum dengan
`pii: true` di `include/config/recipients.yaml`. **Keputusan resmi, perubahan dan laporan bulanan tidak berubah.**

**Cara memakai**: *Trigger DAG*, isi periode, pilih program, isi kolom perubahan yang diperlukan (misalnya kuota per
kelurahan atau desil maksimum), atau tulis baris bebas seperti `pkh.components.lansia.age.min=70` atau
`pagu.bpjs_tk.per_kelurahan=12000000`, lalu isi e-mail peminta. Nilai yang salah membuat tugas `validate_request`
merah dengan pesan yang menyebut kunci dan nilai yang diharapkan (tanpa percobaan ulang).

Dari baris perintah (juga untuk beberapa skenario sekaligus): `tkpk simulate --period 2026-10 --set
bpjs_tk.quota.size=60 --out DIFF.csv`. Panduan: `docs/panduan-steward.md`, bagian *Simulasi untuk analis*.
"""


def _optional_int(title: str, description: str, minimum: int = 0, maximum: int | None = None) -> Param:
    bounds = {"minimum": minimum} | ({"maximum": maximum} if maximum is not None else {})
    return Param(None, type=["null", "integer"], title=title, description=description, **bounds)


@dag(
    dag_id="tkpk_simulate",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=1),
    default_args=default_args(),
    on_failure_callback=alert_run_failure,
    tags=["tkpk", "simulation"],
    doc_md=DOC_MD,
    params={
        "period": Param("2026-10", type="string", pattern=PERIOD_PATTERN, title="Periode (YYYY-MM)",
                        description="Bulan yang dihitung ulang, misalnya 2026-10 (sudah diproses tkpk_monthly)."),
        "program": Param("bpjs_tk", type="string", enum=program_codes(), title="Program",
                         description="Program yang aturannya diubah oleh kolom-kolom di bawah."),
        "desil_min": _optional_int("Desil minimum", "Batas bawah desil (1-10). Kosongkan bila tetap.", 1, 10),
        "desil_max": _optional_int("Desil maksimum", "Batas atas desil (1-10). Kosongkan bila tetap.", 1, 10),
        "usia_min": _optional_int("Usia minimum (tahun)", "Untuk program dengan syarat usia. Kosongkan bila tetap.",
                                  0, 130),
        "usia_max": _optional_int("Usia maksimum (tahun)", "Untuk program dengan syarat usia. Kosongkan bila tetap.",
                                  0, 130),
        "kuota_per_wilayah": _optional_int("Kuota per kelurahan", "Jumlah peserta per kelurahan (program berkuota, "
                                           "misalnya BPJS TK). Kosongkan bila tetap."),
        "nominal_setahun": _optional_int("Nominal setahun (Rp)", "Manfaat per keluarga/orang per tahun. "
                                         "Kosongkan bila tetap."),
        "pagu_tahunan": _optional_int("Pagu tahunan kota (Rp)", "Pagu program setahun. Kosongkan bila tetap."),
        "pagu_per_kelurahan": _optional_int("Pagu per kelurahan (Rp)", "BPJS TK: pagu setiap kelurahan. "
                                            "Kosongkan bila tetap."),
        "set_lines": Param([], type="array", items={"type": "string"}, title="Perubahan lain (--set)",
                           description="Satu baris per perubahan, PROGRAM.KUNCI=NILAI, misalnya "
                                       "pkh.components.lansia.age.min=70 atau pagu.bpjs_tk.per_kelurahan=12000000."),
        "nama_skenario": Param("", type="string", maxLength=100, title="Nama skenario",
                               description="Nama singkat untuk laporan. Kosongkan: nama program."),
        "email_peminta": Param("data.bappeda@jambikota.example", type="string", format="idn-email",
                               title="E-mail peminta", description="Laporan perbandingan dikirim ke alamat ini."),
    },
)
def tkpk_simulate():
    @task(retries=0)
    def validate_request() -> dict:
        """A wrong value fails here, once, with the key and what was expected; nothing is computed yet."""
        from tkpk.config import ConfigError
        from tkpk.simulate.request import COMMON_FIELDS
        from tkpk.simulate.request import validate_request as validate

        params = get_current_context()["params"]
        try:
            return validate(settings(), params["period"], params.get("program"),
                            {k: params.get(k) for k in COMMON_FIELDS}, params.get("set_lines") or [],
                            params.get("email_peminta") or "", name=params.get("nama_skenario") or None)
        except ConfigError as exc:
            raise AirflowFailException(str(exc)) from None

    @task(retries=2, retry_delay=timedelta(minutes=1))
    def run_simulation(request: dict) -> dict:
        from tkpk.simulate.request import run_request

        run_id = get_current_context()["dag_run"].run_id
        return run_request(settings(), smtp_settings(), request, request_id=run_id)

    run_simulation(validate_request())


tkpk_simulate()
