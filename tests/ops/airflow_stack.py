"""A real distributed Airflow deployment on this machine, for the Celery integration test (issue 7 item 6).

Starts, as subprocesses in their own process groups, `airflow api-server`, `airflow scheduler`,
`airflow dag-processor` and N `airflow celery worker` processes that share one temporary AIRFLOW_HOME, a fresh
PostgreSQL database (metadata and Celery result backend) and a Redis broker database claimed for this run. All
processes share one JWT secret and issuer (without them the workers fail with "Invalid auth token",
apache/airflow#49646) and reach the execution API at `http://127.0.0.1:<port>/execution/`, as the compose stack does.

Each worker gets its own Celery hostname and a `[core] hostname_callable` that returns it, so the hostname recorded on
every task instance names the worker that ran it. `stop()` ends every process group it started, also on failure.

The processes themselves (spawn in a process group with a log file, run the CLI, wait for the api-server, tail a
log, stop every group) are `LocalAirflow` from plugins/tkpk_airflow/local.py, what `make airflow` runs.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
import textwrap
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tkpk_airflow.local import LocalAirflow, airflow_command

from tests.warm_airflow import TASK_MODULES

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = Path(sys.executable).parent / "airflow"
PG_ADMIN_URL = os.environ.get("TKPK_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TKPK_TEST_REDIS_URL", "redis://127.0.0.1:6379")

HOSTNAME_MODULE = '''
"""hostname_callable for test workers: the name the harness gave this worker process."""
import os
import socket


def get() -> str:
    return os.environ.get("TKPK_TEST_HOSTNAME") or socket.getfqdn()
'''


class ServiceUnavailable(RuntimeError):
    """Redis or PostgreSQL is not reachable on this machine."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def claim_redis_db(base_url: str = REDIS_URL) -> tuple[str, int, str]:
    """Claim an empty Redis database with a marker key; return (broker URL, db number, marker)."""
    import redis

    marker = f"tkpk-test-claim-{uuid.uuid4().hex}"
    try:
        probe = redis.Redis.from_url(f"{base_url}/0", socket_connect_timeout=3)
        probe.ping()
        databases = int(probe.config_get("databases").get("databases", 16))
    except Exception as exc:  # noqa: BLE001 - any failure means there is no usable Redis
        raise ServiceUnavailable(f"Redis ({base_url}): {type(exc).__name__}: {exc}") from exc
    for number in range(databases - 1, 0, -1):  # db 0 is everyone's default: never take it
        client = redis.Redis.from_url(f"{base_url}/{number}")
        if client.dbsize() == 0 and client.set("tkpk:test-claim", marker, nx=True, ex=3 * 3600):
            if client.dbsize() == 1:
                return f"{base_url}/{number}", number, marker
            client.delete("tkpk:test-claim")
    raise ServiceUnavailable(f"Redis ({base_url}): no empty database to claim")


def release_redis_db(base_url: str, number: int, marker: str) -> None:
    import redis

    client = redis.Redis.from_url(f"{base_url}/{number}")
    if client.get("tkpk:test-claim") == marker.encode():
        client.flushdb()


def create_pg_database(prefix: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
    except Exception as exc:  # noqa: BLE001
        raise ServiceUnavailable(f"PostgreSQL ({PG_ADMIN_URL}): {type(exc).__name__}: {exc}") from exc
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@dataclass
class AirflowStack:
    """One Celery deployment: `start()`, `trigger()`, `wait_for_run()`, `stop()`. Its
    processes are `self.airflow` (`LocalAirflow`: api-server, scheduler, dag-processor, plus the workers)."""

    work: Path
    dags_folder: Path
    workers: int = 2
    concurrency: int = 2
    extra_env: dict = field(default_factory=dict)
    airflow: LocalAirflow | None = field(default=None, init=False)
    metadata_url: str = field(default="", init=False)
    _redis: tuple | None = field(default=None, init=False)

    @property
    def env(self) -> dict:
        return self.airflow.env

    # -- set-up -----------------------------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Claim Redis and PostgreSQL, write the environment, migrate the metadata database."""
        self.work.mkdir(parents=True, exist_ok=True)
        home = self.work / "airflow"
        (home / "logs").mkdir(parents=True, exist_ok=True)
        pylib = self.work / "pylib"
        pylib.mkdir(exist_ok=True)
        (pylib / "tkpk_test_hostname.py").write_text(textwrap.dedent(HOSTNAME_MODULE))
        broker, number, marker = claim_redis_db()
        self._redis = (REDIS_URL, number, marker)
        self.metadata_url = create_pg_database("tkpk_af")
        result_backend = "db+" + self.metadata_url.replace("postgresql+psycopg2://", "postgresql://")
        api_port = free_port()
        from cryptography.fernet import Fernet

        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update({
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tkpk_test_hostname.get",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.metadata_url,
            "AIRFLOW__CELERY__BROKER_URL": broker,
            "AIRFLOW__CELERY__RESULT_BACKEND": result_backend,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.concurrency),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API_AUTH__JWT_ISSUER": "tkpk-celery-test",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            # Runs come only from trigger(): an unpaused scheduled DAG would otherwise get a run for the latest cron
            # point before today, which depends on the day the test runs.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "1",
            "PYTHONPATH": os.pathsep.join([str(pylib), str(ROOT / "plugins")]),
            "TKPK_HOME": str(ROOT),
            "TKPK_APPROVAL_REQUIRED": "false",  # unattended: no steward's sign-off before sending
        })
        env.update(self.extra_env)
        self.airflow = LocalAirflow(env, self.work, api_port, processes=("api-server", "scheduler", "dag-processor"))
        self.airflow.migrate()

    def start(self) -> None:
        self.prepare()
        self.airflow.start()
        for i in range(1, self.workers + 1):
            name = f"worker{i}"
            # The worker imports the tasks' libraries before its pool forks (see tests/warm_airflow.py).
            command = airflow_command(["celery", "worker", "--celery-hostname", f"{name}@%h", "--concurrency",
                                       str(self.concurrency), "--skip-serve-logs", "--without-mingle",
                                       "--without-gossip"], preload=TASK_MODULES)
            self.airflow.spawn(name, command, env=dict(self.env, TKPK_TEST_HOSTNAME=f"{name}.tkpk-test"))
        self.wait_until_ready()

    # -- waiting ----------------------------------------------------------------------------------------------------
    def wait_until_ready(self, timeout: float = 180) -> None:
        self.airflow.wait_ready(timeout)
        deadline = time.monotonic() + timeout
        pending = {f"worker{i}" for i in range(1, self.workers + 1)}
        while pending:
            self.airflow.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f} s: {sorted(pending)}")
            pending = {name for name in pending if " ready." not in self.airflow.tail(name, 20000)}
            time.sleep(1)

    def metadata(self, sql: str, **params) -> list[tuple]:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.metadata_url)
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(text(sql), params)]
        finally:
            engine.dispose()

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while not self.metadata("SELECT 1 FROM serialized_dag WHERE dag_id = :d", d=dag_id):
            self.airflow.check_alive()
            errors = self.metadata("SELECT filename, stacktrace FROM import_error")
            if errors:
                raise RuntimeError(f"DAG import errors: {errors}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"DAG {dag_id} not parsed after {timeout:.0f} s\n"
                                   f"{self.airflow.tail('dag-processor')}")
            time.sleep(2)

    def trigger(self, dag_id: str, run_id: str, conf: dict | None = None, logical_date: str | None = None) -> None:
        """Create the run and unpause the DAG (two CLI processes at once: each spends its time importing Airflow)."""
        args = ["dags", "trigger", dag_id, "--run-id", run_id, "--conf", json.dumps(conf or {})]
        if logical_date:
            args += ["--logical-date", logical_date]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(2) as pool:
            for future in [pool.submit(self.airflow.run_cli, args),
                           pool.submit(self.airflow.run_cli, ["dags", "unpause", dag_id])]:
                future.result()

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float, fail_on_retry: bool = False) -> str:
        """The run's final state. With `fail_on_retry`, a task going up_for_retry ends the wait at once with the
        error lines of its log (a test run on clean data should need no retry)."""
        deadline = time.monotonic() + timeout
        while True:
            self.airflow.check_alive()
            rows = self.metadata("SELECT state FROM dag_run WHERE dag_id = :d AND run_id = :r", d=dag_id, r=run_id)
            state = rows[0][0] if rows else None
            if state in ("success", "failed"):
                return state
            if fail_on_retry:
                retrying = [t for t in self.task_states(dag_id, run_id) if t[2] == "up_for_retry"]
                if retrying:
                    raise AssertionError(f"{retrying} failed and will retry:\n{self.task_errors(dag_id, run_id)}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{dag_id}/{run_id} still {state} after {timeout:.0f} s; task states: "
                                   f"{self.task_states(dag_id, run_id)}")
            time.sleep(3)

    def task_errors(self, dag_id: str, run_id: str, lines: int = 40) -> str:
        """Exception lines from the task logs of a run (file names and exception types, for the failure message)."""
        folder = Path(self.env["AIRFLOW_HOME"]) / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
        keep = []
        for path in sorted(folder.rglob("*.log")) if folder.exists() else []:
            for line in path.read_text(errors="replace").splitlines():
                if "Error" in line or "Exception" in line or '"filename"' in line or line.startswith("  File "):
                    keep.append(f"{path.parent.name}: {line[:300]}")
        return "\n".join(keep[-lines:])

    def task_states(self, dag_id: str, run_id: str) -> list[tuple]:
        return self.metadata(
            "SELECT task_id, map_index, state, hostname FROM task_instance WHERE dag_id = :d AND run_id = :r "
            "ORDER BY task_id, map_index", d=dag_id, r=run_id)

    # -- tear-down --------------------------------------------------------------------------------------------------
    def stop(self) -> None:
        if self.airflow:
            self.airflow.stop()
        if self._redis:
            try:
                release_redis_db(*self._redis)
            finally:
                self._redis = None
        if self.metadata_url:
            try:
                drop_pg_database(self.metadata_url)
            finally:
                self.metadata_url = ""
