"""`airflow` CLI commands (`dags test`, `db migrate`) forked from one warm process per test, instead of one fresh
interpreter per command.

A fresh `airflow dags test` spends most of its time before the first task does any work: starting Python, importing
Airflow and its CLI, building the in-process execution API, and, in its first tasks, importing pandas, Great
Expectations, Splink and the pipeline's modules. `WarmAirflow` starts one process with the test's environment that
imports all of that once; every command then runs in a child forked from it (`os.fork`, its own session, its own
output file), which calls Airflow's own CLI entry point with the command's arguments and exits. Each run is still a
separate process with nothing of an earlier run in it, as with the `airflow` executable; only the imports are shared,
as when the LocalExecutor forks task processes from a scheduler.

A command may change variables that Airflow and the pipeline read when they need them (TKPK_*, AIRFLOW_CONN_*, e.g.
another landing zone or connection per run); variables read at import (AIRFLOW_HOME, AIRFLOW__*) are fixed by the
warm process, and a command that changes them raises ValueError.

    with WarmAirflow(env) as airflow:
        airflow.migrate(log)
        airflow.run(["dags", "test", "tkpk_monthly", "2026-11-10T00:00:00+00:00"], log, env=other_env)
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

# What tkpk_monthly's tasks import that takes seconds: pandas, Great Expectations, Splink, matplotlib (charts), the
# report templating and the stage modules. Task processes forked from a process that has them imported spend their
# time on the task. Also the `preload` of the tests' scheduler and Celery workers (LocalAirflow).
TASK_MODULES = ("pandas", "great_expectations", "splink", "matplotlib.figure", "jinja2", "xlsxwriter", "tkpk.ingest.load",
                "tkpk.linkage.monthly", "tkpk.eligibility.store", "tkpk.reports.build", "tkpk.notify.send")
# What the warm process imports before forking: Airflow's CLI and in-process execution API, and by default the tasks'
# modules (none of them reads the environment at import beyond what is fixed here).
AIRFLOW_MODULES = ("airflow.cli.commands.dag_command", "airflow.cli.commands.db_command",
                   "airflow.api_fastapi.execution_api.app", "airflow.sdk.execution_time.supervisor",
                   "airflow.providers.standard.operators.trigger_dagrun")
FIXED = ("AIRFLOW_HOME", "PYTHONPATH")  # besides every AIRFLOW__* variable


class WarmAirflow:
    """One warm process for a test's `airflow` commands; `run()` forks a child per command. Stop it with `close()`
    (or use it as a context manager)."""

    def __init__(self, env: dict, log: Path | None = None, preload: tuple[str, ...] = AIRFLOW_MODULES + TASK_MODULES):
        self.env = dict(env)
        read_fd, write_fd = os.pipe()
        self._replies = os.fdopen(read_fd, "rb", buffering=0)
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
        self._proc = subprocess.Popen([sys.executable, __file__, str(write_fd), ",".join(preload)], env=self.env,
                                      stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT,
                                      pass_fds=(write_fd,), start_new_session=True)
        os.close(write_fd)
        if log:
            out.close()
        self._buffer = b""
        self._child: int | None = None  # the command running now (its own session)
        try:
            self._expect("ready", timeout=300)
        except BaseException:
            self.close()
            raise

    def run(self, args: list[str], log: Path, env: dict | None = None, timeout: float = 900) -> int:
        """`airflow ARGS...` in a forked child with `env` (default: the warm process's), output appended to `log`;
        its exit code. A command still running after `timeout` seconds is killed (TimeoutError)."""
        env = self.env if env is None else env
        changed = {k: v for k, v in env.items() if self.env.get(k) != v}
        removed = [k for k in self.env if k not in env]
        fixed = sorted(k for k in [*changed, *removed] if k.startswith("AIRFLOW__") or k in FIXED)
        if fixed:
            raise ValueError(f"{fixed} are read when Airflow is imported: use another WarmAirflow for them")
        request = {"args": [str(a) for a in args], "log": str(log), "set": changed, "unset": removed}
        self._proc.stdin.write((json.dumps(request) + "\n").encode())
        self._proc.stdin.flush()
        self._child = self._expect("pid", timeout=60)
        try:
            code = self._expect("rc", timeout=timeout)
        except TimeoutError:
            self._kill_child()
            self._expect("rc", timeout=60)
            raise
        self._child = None
        return code

    def _kill_child(self) -> None:
        if self._child:
            try:
                os.killpg(self._child, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._child = None

    def migrate(self, log: Path) -> None:
        """`airflow db migrate` (the test's fresh metadata database)."""
        assert self.run(["db", "migrate"], log, timeout=300) == 0, log.read_text()[-3000:]

    def _expect(self, key: str, timeout: float):
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            if self._proc.poll() is not None:
                raise RuntimeError(f"the warm Airflow process exited with {self._proc.returncode}")
            ready, _, _ = select.select([self._replies], [], [], min(1.0, max(0.0, deadline - time.monotonic())))
            if ready:
                chunk = self._replies.read(4096)
                if not chunk:
                    raise RuntimeError("the warm Airflow process closed its reply pipe")
                self._buffer += chunk
            elif time.monotonic() > deadline:
                raise TimeoutError(f"no '{key}' from the warm Airflow process after {timeout:.0f} s")
        line, self._buffer = self._buffer.split(b"\n", 1)
        message = json.loads(line)
        if key not in message:
            raise RuntimeError(f"the warm Airflow process said {message}, expected '{key}'")
        return message[key]

    def close(self) -> None:
        """End the warm process and a command still running (a test that stopped in the middle of one)."""
        self._kill_child()
        if self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait()
        self._replies.close()

    def __enter__(self) -> WarmAirflow:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _serve(reply_fd: int, preload: list[str]) -> None:
    """The warm process: import, then fork one child per request line on stdin."""
    import importlib
    import traceback

    replies = os.fdopen(reply_fd, "w", buffering=1)
    for module in preload:
        importlib.import_module(module)
    from airflow.__main__ import main
    from airflow.sdk.execution_time.supervisor import in_process_api_server

    # The in-process execution API of `dags test` (one per process, cached): built here, with the versioned routes
    # Cadwyn otherwise generates on the first request of every run (seconds of pydantic work). No request is made
    # and no thread started here: each child starts its own event loop on first use.
    app = in_process_api_server().app
    if not getattr(app, "_cadwyn_initialized", True):
        app._cadwyn_initialize()

    replies.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the command: its own session (killed as a group on timeout), its own output
            code = 1
            try:
                os.setsid()
                replies.close()
                out = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                os.dup2(out, 1)
                os.dup2(out, 2)
                os.close(out)
                os.environ.update(request["set"])
                for key in request["unset"]:
                    os.environ.pop(key, None)
                sys.argv = ["airflow", *request["args"]]
                try:
                    main()
                    code = 0
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                    if not isinstance(exc.code, int) and exc.code is not None:
                        print(exc.code, file=sys.stderr)
            except BaseException:  # noqa: BLE001 - reported as the command's output and exit code
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        replies.write(json.dumps({"pid": pid}) + "\n")
        _, status = os.waitpid(pid, 0)
        replies.write(json.dumps({"rc": os.waitstatus_to_exitcode(status)}) + "\n")


if __name__ == "__main__":
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if p != here]  # tests/ holds folders named like modules (reports, ...)
    _serve(int(sys.argv[1]), [m for m in sys.argv[2].split(",") if m])
