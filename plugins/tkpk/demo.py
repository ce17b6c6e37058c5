"""`make demo`: a whole synthetic month (two, in fact) through Airflow on the embedded default.

Creates synthetic Kota Jambi data for October and November 2026, loads the registry, starts a local SMTP sink that
saves every e-mail as .eml, and runs `airflow dags test tkpk_monthly` for both months in order (so November's report
has a previous month to compare with). Then it prints, in Indonesian, what happened and where the reports and e-mails
are. Airflow runs as a subprocess: this module does not import it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from tkpk.settings import PROJECT_ROOT, Settings

PERIODS = ["2026-10", "2026-11"]
LOGICAL_DATES = {"2026-10": "2026-11-10T00:00:00+00:00", "2026-11": "2026-12-10T00:00:00+00:00"}
HOUSEHOLDS = int(os.environ.get("TKPK_DEMO_HOUSEHOLDS", "3000"))
# The demo writes its synthetic files and runs the month right away: they are complete, no settle wait.
os.environ.setdefault("TKPK_SETTLE_SECONDS", "0")
SEED = 20261


def say(text: str = "") -> None:
    print(text, flush=True)


def num(n: int) -> str:
    """Indonesian thousands separator: 10834 -> 10.834."""
    from tkpk.reports.format import angka

    return angka(n)


def airflow_env(var: Path, smtp_port: int) -> dict:
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": str(var / "airflow"),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{var / 'airflow' / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(var / "airflow" / "logs"),
        "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps({
            "conn_type": "smtp", "host": "127.0.0.1", "port": smtp_port,
            "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "tkpk@jambikota.example"},
        }),
        "TKPK_HOME": str(PROJECT_ROOT),
        "PYTHONPATH": str(PROJECT_ROOT / "plugins"),
        # Unattended runs (the demo, `airflow dags test` in tests and bench): no steward's sign-off before sending.
        "TKPK_APPROVAL_REQUIRED": "false",
    })
    return env


def airflow(args: list[str], env: dict, log_file: Path | None = None) -> int:
    exe = Path(sys.executable).parent / "airflow"
    if log_file is None:
        return subprocess.run([str(exe), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    with open(log_file, "w") as fh:
        return subprocess.run([str(exe), *args], env=env, stdout=fh, stderr=subprocess.STDOUT).returncode


def reset_runtime(settings: Settings) -> list[Path]:
    """A demo starts from a clean warehouse, outbox, reports and archive so what it shows is this run's work.
    Airflow's own state (var/airflow: metadata, logs; the accounts' passwords and keys of `make airflow`) is kept:
    `airflow dags test` replaces its own runs, and `make airflow` keeps working after a demo."""
    var = settings.var_dir
    for path in (var / "warehouse.db", var / "warehouse.db-wal", var / "warehouse.db-shm"):
        path.unlink(missing_ok=True)
    folders = [settings.outbox_dir, settings.reports_dir, var / "archive"]
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
    (var / "airflow").mkdir(parents=True, exist_ok=True)
    return [var / "warehouse.db", *folders]


def synthesise(var: Path) -> Path:
    from tkpk.synth import generate

    out = var / "demo"
    stamp = out / ".params.json"
    params = {"period": PERIODS[0], "households": HOUSEHOLDS, "seed": SEED, "months": len(PERIODS)}
    if stamp.exists() and json.loads(stamp.read_text()) == params:
        say(f"  data sintetis sudah ada ({num(HOUSEHOLDS)} keluarga, seed {SEED}), dipakai ulang")
        return out
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    counts = generate(out, PERIODS[0], households=HOUSEHOLDS, seed=SEED, months=len(PERIODS))
    stamp.write_text(json.dumps(params))
    say(f"  {num(counts['households'])} keluarga, {num(counts['persons'])} jiwa, {num(counts['rows'])} baris kiriman "
        f"dalam {len(counts['periods'])} bulan ({time.perf_counter() - started:.1f} dtk)")
    return out


def publish_landing(demo: Path) -> Path:
    """Copy the synthetic landing zone into data/landing (the default landing zone)."""
    landing = PROJECT_ROOT / "data" / "landing"
    for sub in (demo / "landing").iterdir():
        target = landing / sub.name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(sub, target)
    return landing


def main() -> int:
    settings = Settings.from_env()
    var = settings.var_dir
    say("== Demo TKPK Kota Jambi: dua bulan data sintetis melalui Airflow ==")
    say("1. Mengosongkan hasil demo sebelumnya (data Airflow dan akun make airflow tetap):")
    for path in reset_runtime(settings):
        say(f"  dikosongkan: {path}")
    say(f"  Folder {', '.join(PERIODS)} dan registry/ di data/landing/ diganti dengan data sintetis.")
    say("2. Membuat data sintetis Kota Jambi")
    demo = synthesise(var)
    landing = publish_landing(demo)
    say(f"  landing zone: {landing}")

    say("3. Menyiapkan gudang data dan memuat snapshot registri")
    from tkpk.registry import load_snapshot
    from tkpk.warehouse import upgrade

    upgrade(settings.database_url)
    snapshots = sorted((landing / "registry").iterdir())
    for snap in snapshots:
        result = load_snapshot(settings.database_url, str(snap), date.fromisoformat(snap.name), actor="demo")
        say(f"  snapshot {snap.name}: {num(result['households'])} keluarga, {num(result['persons'])} jiwa")

    from tkpk.notify.mailsink import MailSink

    with MailSink(settings.outbox_dir) as sink:
        env = airflow_env(var, sink.port)
        say("  persetujuan steward sebelum kirim e-mail: dimatikan untuk demo (di produksi aktif, lihat accounts.yaml)")
        say(f"4. Server SMTP lokal di 127.0.0.1:{sink.port} menyimpan e-mail ke {settings.outbox_dir}")
        say("5. Menyiapkan basis data metadata Airflow (SQLite)")
        if airflow(["db", "migrate"], env, var / "airflow" / "db-migrate.log") != 0:
            say(f"  GAGAL: lihat {var / 'airflow' / 'db-migrate.log'}")
            return 1
        for period in PERIODS:
            log_file = var / "airflow" / f"dags-test-{period}.log"
            say(f"6. Menjalankan tkpk_monthly untuk periode {period} (airflow dags test) ...")
            started = time.perf_counter()
            code = airflow(["dags", "test", "tkpk_monthly", LOGICAL_DATES[period]], env, log_file)
            say(f"  selesai dalam {time.perf_counter() - started:.0f} dtk (kode keluar {code}); log: {log_file}")
            show_period(settings, period)
        time.sleep(0.5)
    show_outputs(settings)
    return 0


def show_period(settings: Settings, period: str) -> None:
    from tkpk.demo_summary import period_lines

    for line in period_lines(settings, period):
        say(f"  {line}")


def show_outputs(settings: Settings) -> None:
    emails = sorted(settings.outbox_dir.glob("*.eml"))
    reports = sorted(p for p in settings.reports_dir.rglob("*") if p.is_file())
    say()
    say("== Hasil ==")
    say(f"E-mail terkirim  : {len(emails)} berkas .eml di {settings.outbox_dir}")
    say(f"Laporan tersimpan: {len(reports)} berkas (HTML, XLSX, PNG) di {settings.reports_dir}")
    say(f"Gudang data      : {settings.database_url}")
    say(f"Arsip berkas asli: {settings.var_dir / 'archive'}")
    say(f"Log Airflow      : {settings.var_dir / 'airflow'}")
    say("Status kiriman per OPD: .venv/bin/tkpk status --period 2026-11")


if __name__ == "__main__":
    sys.exit(main())
