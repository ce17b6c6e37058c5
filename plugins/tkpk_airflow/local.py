"""`make airflow`: the whole Airflow on this machine, for stewards and developers, on the embedded default.

Starts `airflow api-server`, `scheduler`, `dag-processor` and `triggerer` as subprocesses (each in its own process
group) on the same `var/` as `make demo`: AIRFLOW_HOME `var/airflow`, metadata on SQLite unless
AIRFLOW__DATABASE__SQL_ALCHEMY_CONN says otherwise, LocalExecutor, the warehouse `var/warehouse.db`, and the local
SMTP sink that saves every e-mail to `var/outbox/`. The people in include/config/accounts.yaml become the simple auth
manager's users (steward -> op, anggota -> viewer); their passwords live in `var/airflow-passwords.json` (created
once, never overwritten). Nothing is reset. Ctrl-C stops every process it started.

This module starts Airflow as subprocesses and does not import it, so the tests use `LocalAirflow` too.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

PROCESSES = ("api-server", "scheduler", "dag-processor", "triggerer")


def _secret_file(var: Path) -> dict:
    """Keys every process must share (JWT for the execution API and UI tokens, Fernet, the API's secret key),
    made once per var/ so a restart keeps logins and encrypted values valid."""
    path = var / "airflow-secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    from cryptography.fernet import Fernet

    keys = {"jwt_secret": secrets.token_urlsafe(32), "secret_key": secrets.token_urlsafe(32),
            "fernet_key": Fernet.generate_key().decode()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(keys))
    path.chmod(0o600)
    return keys


def ensure_passwords(var: Path, usernames: list[str]) -> dict[str, str]:
    """The simple auth manager's passwords file: a generated password for every account that has none yet."""
    path = var / "airflow-passwords.json"
    passwords = json.loads(path.read_text()) if path.exists() and path.read_text().strip() else {}
    added = False
    for name in usernames:
        if name not in passwords:
            passwords[name] = secrets.token_urlsafe(12)
            added = True
    if added or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(passwords, indent=1) + "\n")
        path.chmod(0o600)
    return passwords


def local_env(var: Path, *, smtp_port: int, api_port: int, accounts) -> dict:
    """The environment of every local Airflow process: the demo's (same AIRFLOW_HOME, SMTP connection) plus auth,
    the API address and the shared keys."""
    from tkpk.demo import airflow_env

    keys = _secret_file(var)
    env = airflow_env(var, smtp_port)
    base = f"http://localhost:{api_port}"
    env.update({
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": accounts.simple_auth_users(),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(var / "airflow-passwords.json"),
        "AIRFLOW__CORE__FERNET_KEY": keys["fernet_key"],
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        # Runs start from a steward (Muat ulang, Trigger), not from the monthly cron: a laptop is not the server.
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__BASE_URL": base,
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__SECRET_KEY": keys["secret_key"],
        "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt_secret"],
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
    })
    # accounts.yaml decides about the sign-off here (the demo's environment switches it off), unless the caller says
    env.pop("TKPK_APPROVAL_REQUIRED", None)
    if os.environ.get("TKPK_APPROVAL_REQUIRED"):
        env["TKPK_APPROVAL_REQUIRED"] = os.environ["TKPK_APPROVAL_REQUIRED"]
    if os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):  # a configured metadata database wins over SQLite
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    return env


@dataclass
class LocalAirflow:
    """The four Airflow processes with one environment; `start()`, `wait_ready()`, `stop()`."""

    env: dict
    log_dir: Path
    api_port: int
    processes: tuple[str, ...] = PROCESSES
    procs: dict = field(default_factory=dict, init=False)

    def cli(self, args: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([_airflow(), *args], env=self.env, capture_output=True, text=True, timeout=timeout)

    def migrate(self) -> None:
        done = self.cli(["db", "migrate"])
        if done.returncode != 0:
            raise RuntimeError(f"airflow db migrate gagal:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name in self.processes:
            args = [name]
            if name == "api-server":
                args += ["--host", "127.0.0.1", "--port", str(self.api_port), "--workers", "1"]
            log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
            proc = subprocess.Popen([_airflow(), *args], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            self.procs[name] = (proc, log)

    def check_alive(self) -> None:
        for name, (proc, _) in self.procs.items():
            if proc.poll() is not None:
                tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"airflow {name} berhenti (kode {proc.returncode}):\n{tail}")

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            try:
                url = f"http://127.0.0.1:{self.api_port}/api/v2/version"
                with urllib.request.urlopen(url, timeout=3) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"api-server belum siap setelah {timeout:.0f} dtk")
            time.sleep(1)

    def stop(self) -> None:
        for proc, _log in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 30
        for proc, log in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
            log.close()
        self.procs.clear()


def _airflow() -> str:
    return str(Path(sys.executable).parent / "airflow")


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _interrupt(*_args) -> None:
    raise KeyboardInterrupt


def main() -> int:
    from tkpk.config.accounts import load_accounts
    from tkpk.notify.mailsink import MailSink
    from tkpk.settings import Settings
    from tkpk.warehouse import upgrade

    say = lambda text="": print(text, flush=True)  # noqa: E731
    settings = Settings.from_env()
    var = settings.var_dir
    port = int(os.environ.get("TKPK_AIRFLOW_PORT", "8080"))
    if not _port_free(port):
        say(f"Port {port} sudah dipakai proses lain. Hentikan proses itu, atau: make airflow TKPK_AIRFLOW_PORT=8081")
        return 1
    accounts = load_accounts(settings.config_dir)
    say("== Airflow lokal TKPK Kota Jambi ==")
    say(f"Folder kerja: {var} (sama dengan make demo; tidak ada yang dihapus)")
    (var / "airflow").mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    passwords = ensure_passwords(var, [a.username for a in accounts.accounts])
    with MailSink(settings.outbox_dir) as sink:
        env = local_env(var, smtp_port=sink.port, api_port=port, accounts=accounts)
        stack = LocalAirflow(env, var / "airflow" / "local", port)
        say(f"Server SMTP lokal 127.0.0.1:{sink.port} menyimpan e-mail ke {settings.outbox_dir}")
        say("Menyiapkan basis data metadata Airflow ...")
        stack.migrate()
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            stack.start()
            say("Menyalakan api-server, scheduler, dag-processor, triggerer ...")
            stack.wait_ready()
            say()
            say(f"Airflow siap: http://localhost:{port}   (tampilan TKPK: http://localhost:{port}/tkpk/)")
            say(f"Masuk dengan salah satu akun (kata sandi di {var / 'airflow-passwords.json'}):")
            for a in accounts.accounts:
                say(f"  {a.username:<16} {passwords[a.username]:<18} {a.role:<8} {a.name}")
            approval = accounts.approval
            say("Persetujuan sebelum kirim e-mail: " + (
                f"aktif (tunggu {approval.timeout_hours:g} jam, lalu otomatis '{approval.default}')"
                if approval.required else "nonaktif"))
            say("Jadwal bulanan tidak berjalan otomatis di sini; picu tkpk_monthly dari Airflow atau tombol Muat ulang.")
            say(f"Log proses: {stack.log_dir}.  Tekan Ctrl-C untuk berhenti.")
            while True:
                stack.check_alive()
                time.sleep(2)
        except KeyboardInterrupt:
            say()
            say("Menghentikan Airflow ...")
        finally:
            stack.stop()
    say("Airflow lokal berhenti.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
