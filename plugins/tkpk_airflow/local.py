"""`make airflow`: the whole Airflow on this machine, for stewards and developers, on the embedded default.

Starts `airflow api-server`, `scheduler`, `dag-processor` and `triggerer` as subprocesses (each in its own process
group) on the same `var/` as `make demo`: AIRFLOW_HOME `var/airflow`, metadata on SQLite unless
AIRFLOW__DATABASE__SQL_ALCHEMY_CONN says otherwise, LocalExecutor, the warehouse `var/warehouse.db`, and the local
SMTP sink that saves every e-mail to `var/outbox/`. The people in include/config/accounts.yaml become the simple auth
manager's users (steward -> op, anggota -> viewer); their passwords live in `var/airflow-passwords.json` (created
once, never overwritten). Nothing is reset. Ctrl-C stops every process it started.

This module starts Airflow as subprocesses and does not import it, so the tests start their Airflow processes with
`LocalAirflow` too (their own environment, port and processes, Celery workers through `spawn()`, `preload`).
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
    """Airflow processes with one environment, each in its own process group (so `stop()` also ends the task
    supervisors and api-server workers it forks), output appended to `log_dir/<name>.log`.

    `make airflow` starts the four of PROCESSES; the tests start the same class with other `processes` (e.g.
    api-server + scheduler), add Celery workers with `spawn()`, and may give `preload`: modules the scheduler imports
    before its LocalExecutor forks the task workers, so a task starts in about a second instead of importing pandas
    or Great Expectations itself (tasks still go through the executor, the supervisor and the execution API).

    `migrate()`, `start()`, `wait_ready()`, `check_alive()`, `tail()`, `stop()`; as a context manager it starts,
    waits for the api-server and stops on exit (also when starting fails)."""

    env: dict
    log_dir: Path
    api_port: int
    processes: tuple[str, ...] = PROCESSES
    preload: tuple[str, ...] = ()
    procs: dict = field(default_factory=dict, init=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def cli(self, args: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([_airflow(), *args], env=self.env, capture_output=True, text=True, timeout=timeout)

    def run_cli(self, args: list[str], timeout: float = 300) -> str:
        """`airflow ARGS...` to completion: its stdout, or RuntimeError with the end of its output."""
        done = self.cli(args, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} gagal (kode {done.returncode}):\n{done.stdout[-2000:]}\n"
                               f"{done.stderr[-2000:]}")
        return done.stdout

    def migrate(self) -> None:
        self.run_cli(["db", "migrate"])

    def command(self, name: str) -> list[str]:
        """The command line of process `name` (an `airflow` subcommand)."""
        if name == "api-server":
            return airflow_command([name, "--host", "127.0.0.1", "--port", str(self.api_port), "--workers", "1"])
        return airflow_command([name], preload=self.preload if name == "scheduler" else ())

    def spawn(self, name: str, argv: list, env: dict | None = None) -> None:
        """Start `argv` as process `name` in a new session, with `env` (default: the shared environment)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        proc = subprocess.Popen([str(a) for a in argv], env=env or self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs[name] = (proc, log)

    def start(self) -> None:
        for name in self.processes:
            self.spawn(name, self.command(name))

    def tail(self, name: str, chars: int = 3000) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def check_alive(self) -> None:
        for name, (proc, _) in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"airflow {name} berhenti (kode {proc.returncode}):\n{self.tail(name)}")

    def api_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/api/v2/version", timeout=3) as r:
                return r.status == 200
        except OSError:
            return False

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while not self.api_ready():
            self.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"api-server belum siap setelah {timeout:.0f} dtk:\n{self.tail('api-server')}")
            time.sleep(1)

    def stop(self) -> None:
        """SIGTERM to every process group started here; after 30 s, or once its leader has exited, SIGKILL to
        what is left of the group (forked task supervisors, api-server workers). Idempotent."""
        for proc, _log in self.procs.values():
            if proc.poll() is None:
                _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc, log in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
            log.close()
        self.procs.clear()

    def __enter__(self) -> LocalAirflow:
        try:
            self.start()
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def _airflow() -> str:
    return str(Path(sys.executable).parent / "airflow")


def airflow_command(args: list[str], preload: tuple[str, ...] = ()) -> list[str]:
    """`airflow ARGS...`; with `preload`, a Python that imports those modules first and then runs the same CLI (the
    modules are then in every process the command forks: LocalExecutor or Celery task processes)."""
    if not preload:
        return [_airflow(), *args]
    imports = "".join(f"import {module}\n" for module in preload)
    return [sys.executable, "-c", f"{imports}import sys\nfrom airflow.__main__ import main\n"
                                  f"sys.argv = {['airflow', *args]!r}\nsys.exit(main())\n"]


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
