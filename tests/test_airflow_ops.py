"""Two steward operations of issue 7 through a real Airflow scheduler (embedded SQLite metadata, LocalExecutor):

1. `airflow backfill create` for two past months at once (`--max-active-runs 2`, i.e. without the guide's
   `--max-active-runs 1`): both months start together, October's eligibility waits in `wait_for_earlier_months`
   until September's run has closed, no task uses a retry, and the backfill runs, executed by `airflow scheduler`,
   leave exactly what the scheduled runs of those months leave (`airflow dags test` with the scheduled logical
   dates): every result table, every report and every e-mail. Each backfill run reports on the month before its
   logical date.
2. One mapped `load_submission` fails (the OPD's file is rejected); the OPD sends a corrected file, and the steward
   clears only that task instance (task_id + map_index, with downstream) through the REST API the UI uses. Only
   that OPD's batch is replaced, the other OPDs' batches and task instances are untouched, linkage, eligibility and
   reports are recomputed, and only the reports that changed go out again, marked [REVISI]; clearing it once more
   with nothing changed sends nothing.

A backfill only creates runs, and `airflow dags test` cannot resume a cleared task instance, so both run through
`airflow api-server` + `airflow scheduler` started here as subprocesses (`SchedulerStack`, on `LocalAirflow` of
`make airflow`) and stopped afterwards. The two tests run on different xdist workers (no shared group).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from tkpk_airflow.local import LocalAirflow

from tests.airflow_month import messages, month_env, synthetic_landing, warehouse
from tests.ops.airflow_stack import free_port
from tests.reliability.conftest import table_checksums
from tests.warm_airflow import TASK_MODULES, WarmAirflow

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[1]
TKPK = Path(sys.executable).parent / "tkpk"
DAG_ID = "tkpk_monthly"
# The scheduled runs: 07:00 WIB on day 10 is 00:00 UTC; each reports on the calendar month before, in Jakarta time.
SCHEDULED = {"2026-09": "2026-10-10T00:00:00+00:00", "2026-10": "2026-11-10T00:00:00+00:00"}
RUN_TIMEOUT = 300

# The scheduler process imports the libraries the tasks import (TASK_MODULES), before the LocalExecutor forks its
# workers: a task then starts in about a second instead of spending 5-7 s importing Great Expectations, pandas and
# Splink. Tasks still go through the scheduler, the executor, the task supervisor and the execution API as in
# production.


class SchedulerStack(LocalAirflow):
    """`airflow api-server` and `airflow scheduler` (LocalExecutor) sharing one AIRFLOW_HOME with an SQLite metadata
    database, one JWT secret and the execution API at 127.0.0.1:<free port>. Runs come only from the test (job
    schedule off: an unpaused DAG would otherwise get a run for the latest cron point before today). Starting,
    waiting and stopping the processes is `LocalAirflow` (plugins/tkpk_airflow/local.py, what `make airflow` runs)."""

    def __init__(self, work: Path, env: dict):
        work.mkdir(parents=True, exist_ok=True)
        super().__init__(dict(env), work, free_port(), processes=("api-server", "scheduler"),
                         preload=TASK_MODULES)
        self.base = self.base_url
        self.env.update({
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base}/execution/",
            "AIRFLOW__API__BASE_URL": self.base,
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(48),
            "AIRFLOW__API_AUTH__JWT_ISSUER": "tkpk-ops-test",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "1",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        })
        self._token: str | None = None

    def prepare(self) -> None:
        """Metadata database and the serialized DAG (what the dag-processor would write)."""
        self.migrate()
        self.run_cli(["dags", "reserialize"], timeout=300)

    def start(self) -> None:
        super().start()
        self.wait_ready()
        with urllib.request.urlopen(f"{self.base}/auth/token", timeout=10) as r:
            self._token = json.load(r)["access_token"]

    # -- the REST API the UI uses ------------------------------------------------------------------------------------
    def api(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.base}/api/v2/{path}", data=data, method=method, headers={
            "Authorization": f"Bearer {self._token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as r:  # 120 s: a loaded two-core machine
                return json.load(r)
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: HTTP {exc.code} {exc.read()[:2000]!r}") from None

    def runs(self) -> list[dict]:
        return self.api("GET", f"dags/{DAG_ID}/dagRuns?limit=100")["dag_runs"]

    def run(self, run_id: str) -> dict:
        return self.api("GET", f"dags/{DAG_ID}/dagRuns/{urllib.parse.quote(run_id, safe='')}")

    def task_instances(self, run_id: str) -> dict[tuple[str, int], dict]:
        body = self.api("GET", f"dags/{DAG_ID}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances"
                               f"?limit=500")
        return {(t["task_id"], t["map_index"]): t for t in body["task_instances"]}

    def wait_until(self, done, what: str, timeout: float = RUN_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            value = done()
            if value:
                return value
            assert time.monotonic() < deadline, f"{what}: not done after {timeout:.0f} s\n{self.tail('scheduler')}"
            time.sleep(2)


def _month(var: Path, landing: Path, smtp_port: int, **extra: str) -> tuple[str, dict]:
    """A warehouse at var/warehouse.db with the registry loaded, and the environment of its Airflow."""
    url = warehouse(f"sqlite:///{var / 'warehouse.db'}", landing)
    return url, month_env(var, landing, url, smtp_port, **extra)


def _rows(url: str, sql: str, **params) -> list[tuple]:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def _reports(var: Path) -> dict[str, str]:
    """Every saved report file by path -> digest. Workbooks by cell values (an XLSX stores its creation time), the
    manifest without the run id."""
    import pandas as pd

    out = {}
    for path in sorted(p for p in (var / "reports").rglob("*") if p.is_file()):
        rel = str(path.relative_to(var / "reports"))
        if path.suffix == ".xlsx":
            sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=str, engine="calamine")
            content = json.dumps({name: frame.fillna("").values.tolist() for name, frame in sheets.items()})
        elif path.name == "manifest.json":
            content = json.dumps({k: v for k, v in json.loads(path.read_text()).items() if k != "run_id"},
                                 sort_keys=True)
        else:
            content = path.read_bytes().hex()
        out[rel] = hashlib.sha256(content.encode()).hexdigest()
    return out


def _send_log(url: str) -> list[tuple]:
    return sorted(_rows(url, "SELECT period, report, recipient, content_hash, revision, status FROM send_log"))


def _mail(outbox: Path) -> Counter:
    return Counter((m["Subject"], m["To"]) for m in messages(outbox))


def _scheduled_runs(env: dict, log: Path) -> None:
    with WarmAirflow(env, log.with_suffix(".warm.log")) as airflow:
        airflow.migrate(log)
        for period in ("2026-09", "2026-10"):
            assert airflow.run(["dags", "test", DAG_ID, SCHEDULED[period]], log) == 0, log.read_text()[-5000:]


def _finished(runs: list[dict], count: int) -> list[dict] | None:
    return runs if len(runs) == count and all(r["state"] in ("success", "failed") for r in runs) else None


def _assert_clean(tis: dict, label: str) -> None:
    """Every task succeeded, except the loads of files the checks rejected (failed without retry, by design),
    check_outputs, which runs only when a step failed, and rebuild_later_month, which runs only when a later month
    is marked for rebuild."""
    bad = {k: t["state"] for k, t in tis.items() if t["state"] != "success"
           and (k[0], t["state"]) not in {("load_submission", "failed"), ("check_outputs", "skipped"),
                                          ("rebuild_later_month", "skipped")}}
    assert not bad, f"{label}: {bad}"


@pytest.mark.timeout(1200)
def test_backfill_of_two_months_at_once_keeps_their_order_and_equals_the_scheduled_runs(tmp_path):
    from tkpk.notify.mailsink import MailSink

    # Seed 24: October has two newborns in poor families who become eligible (eligibility_change rows), so the
    # comparison covers what a month reads from the month before; most seeds of this small city have none.
    landing = synthetic_landing(tmp_path / "data", "2026-09", months=2, seed=24)
    scheduled_var, backfill_var = tmp_path / "scheduled", tmp_path / "backfill"
    started = time.monotonic()
    with MailSink(scheduled_var / "outbox") as scheduled_sink, MailSink(backfill_var / "outbox") as backfill_sink, \
            ThreadPoolExecutor(1) as pool:
        scheduled_url, scheduled_env = _month(scheduled_var, landing, scheduled_sink.port)
        backfill_url, backfill_env = _month(backfill_var, landing, backfill_sink.port, TKPK_POKE_SECONDS="3")
        # The scheduled way runs beside the backfill: separate metadata databases, warehouses and mail sinks.
        scheduled = pool.submit(_scheduled_runs, scheduled_env, tmp_path / "dags-test.log")
        stack = SchedulerStack(tmp_path / "stack", backfill_env)
        try:
            stack.prepare()
            stack.run_cli(["backfill", "create", "--dag-id", DAG_ID, "--from-date", SCHEDULED["2026-09"],
                           "--to-date", SCHEDULED["2026-10"], "--max-active-runs", "2"], timeout=300)
            stack.start()
            runs = stack.wait_until(lambda: _finished(stack.runs(), 2), "backfill runs", timeout=1000)
            tis = {r["dag_run_id"]: stack.task_instances(r["dag_run_id"]) for r in runs}
        finally:
            stack.stop()
        backfill_seconds = time.monotonic() - started
        scheduled.result()
    total_seconds = time.monotonic() - started

    # Two backfill runs at the scheduled logical dates, both successful, each on the month before its logical date
    # (Jakarta time), with no period given.
    by_date = {datetime.fromisoformat(r["logical_date"]): r for r in runs}
    ordered = [by_date[datetime.fromisoformat(SCHEDULED[p])] for p in sorted(SCHEDULED)]
    september, october = ordered
    assert {r["run_type"] for r in runs} == {"backfill"}, runs
    assert [r["state"] for r in ordered] == ["success", "success"], runs
    periods = dict(_rows(backfill_url, "SELECT run_id, period FROM pipeline_run"))
    assert periods == {september["dag_run_id"]: "2026-09", october["dag_run_id"]: "2026-10"}, periods
    for r in ordered:
        _assert_clean(tis[r["dag_run_id"]], r["dag_run_id"])
    # The months did run at once (so the order below is the sensor's doing, not the backfill's) ...
    assert datetime.fromisoformat(october["start_date"]) < datetime.fromisoformat(september["end_date"]), runs
    # ... October's eligibility started only after September had closed its run ...
    closed = datetime.fromisoformat(tis[september["dag_run_id"]][("summarize", -1)]["end_date"])
    began = datetime.fromisoformat(tis[october["dag_run_id"]][("derive_events", -1)]["start_date"])
    assert began >= closed, (began, closed)
    # ... and nothing was retried: the waiting is pokes, not failures.
    tries = {(r, k): t["try_number"] for r, instances in tis.items() for k, t in instances.items()
             if t["state"] not in ("skipped", None)}
    assert set(tries.values()) == {1}, {k: v for k, v in tries.items() if v != 1}

    # The same results as the scheduled runs: every result table of both months ...
    expected, actual = table_checksums(scheduled_url), table_checksums(backfill_url)
    for table in ("staged_row", "person_link", "eligibility_decision", "eligibility_change", "targeting_result"):
        assert expected[table][0] > 0, f"the scheduled runs left no {table} rows"
    differing = {t: (expected[t][0], actual[t][0]) for t in expected if expected[t] != actual[t]}
    assert not differing, f"backfill vs scheduled (rows scheduled, rows backfill) differ: {differing}"
    # ... the same reports (data, e-mail bodies, charts, workbooks; content hashes in the manifest) ...
    scheduled_reports, backfill_reports = _reports(scheduled_var), _reports(backfill_var)
    assert {p.split("/")[0] for p in scheduled_reports} == {"2026-09", "2026-10"}
    assert scheduled_reports.keys() == backfill_reports.keys()
    assert [p for p in scheduled_reports if scheduled_reports[p] != backfill_reports[p]] == []
    # ... and the same e-mails to the same people, logged with the same report hashes.
    assert _send_log(scheduled_url) == _send_log(backfill_url)
    mail = _mail(scheduled_var / "outbox")
    assert mail and mail == _mail(backfill_var / "outbox")
    print(f"\nbackfill of 2 months at once via the scheduler {backfill_seconds:.0f} s (beside the scheduled runs), "
          f"whole test {total_seconds:.0f} s; rows: { {t: v[0] for t, v in actual.items()} }", file=sys.stderr)


DOWNSTREAM = {"check_loads", "prepare_linkage", "link_partition", "finalize_linkage", "wait_for_earlier_months",
              "derive_events", "compute_eligibility", "finalize_eligibility", "build_reports", "send_reports",
              "summarize", "next_rebuild", "rebuild_later_month", "check_outputs"}
NOT_RUN_WHEN_CLEAN = {"check_outputs", "rebuild_later_month"}  # skipped: nothing failed, no later month to rebuild


def _batches(url: str) -> dict[int, tuple]:
    return {r[0]: r[1:] for r in _rows(url, "SELECT batch_id, opd_code, submission_type, status, is_current, "
                                            "sha256, loaded_at FROM submission_batch")}


def _manifest_hashes(var: Path, period: str) -> dict[str, tuple]:
    manifest = json.loads((var / "reports" / period / "manifest.json").read_text())
    return {e["report"]: (e["content_hash"], e.get("content_hash_pii")) for e in manifest["reports"]}


def _clear(stack: SchedulerStack, run_id: str, key: tuple[str, int], *, dry_run: bool) -> set[tuple[str, int]]:
    """What the UI's Clear on one mapped task instance sends (Downstream is on by default in the dialog)."""
    body = {"dag_run_id": run_id, "task_ids": [list(key)], "include_downstream": True, "only_failed": False,
            "dry_run": dry_run}
    cleared = stack.api("POST", f"dags/{DAG_ID}/clearTaskInstances", body)["task_instances"]
    return {(t["task_id"], t["map_index"]) for t in cleared}


def _rerun(stack: SchedulerStack, run_id: str, key: tuple[str, int], before: dict) -> dict:
    """Clear `key` with downstream and wait until the scheduler has run it again and the run has finished."""
    _clear(stack, run_id, key, dry_run=False)
    try_number = before[key]["try_number"]

    def finished():
        if stack.run(run_id)["state"] not in ("success", "failed"):
            return None
        tis = stack.task_instances(run_id)
        return tis if tis[key]["try_number"] > try_number and tis[key]["state"] in ("success", "failed") else None

    return stack.wait_until(finished, f"re-run of {key}")


def test_clearing_one_failed_mapped_load_reruns_only_that_opd(tmp_path):
    from tkpk.notify.mailsink import MailSink

    period = "2026-10"
    landing = synthetic_landing(tmp_path / "data", period, months=1)
    # Disnaker's first upload is broken (no recognisable header): its load is rejected and the task fails. The good
    # file is what Disnaker sends afterwards.
    folder = landing / period / "disnaker"
    (good,) = [p for p in folder.iterdir() if p.is_file()]
    corrected = tmp_path / "kiriman-perbaikan" / good.name
    corrected.parent.mkdir()
    good.rename(corrected)
    (folder / "Peserta BPJS TK Oktober 2026.csv").write_text("catatan;isi\nbelum lengkap;-\n", encoding="utf-8")
    var = tmp_path / "var"
    outbox = var / "outbox"
    with MailSink(outbox) as sink:
        url, env = _month(var, landing, sink.port)
        stack = SchedulerStack(tmp_path / "stack", env)
        try:
            stack.prepare()
            stack.start()
            run_id = "oktober-2026"
            stack.api("POST", f"dags/{DAG_ID}/dagRuns", {"dag_run_id": run_id, "logical_date": SCHEDULED[period]})
            stack.wait_until(lambda: stack.run(run_id)["state"] in ("success", "failed"), "first run")
            first = stack.task_instances(run_id)
            batches, reports, send_log = _batches(url), _manifest_hashes(var, period), _send_log(url)
            sent_first = len(messages(outbox))
            loads = {t["rendered_map_index"]: k for k, t in first.items() if k[0] == "load_submission"}
            key = loads["disnaker/disnaker_bpjstk"]
            assert first[key]["state"] == "failed", first[key]
            _assert_clean(first, "first run")
            other_failed = {k for k, t in first.items() if t["state"] == "failed" and k != key}
            assert not {k for k in other_failed if k[0] != "load_submission"}, other_failed

            # The corrected file goes to the landing folder the way the guide says (the broken one moves aside).
            done = subprocess.run([TKPK, "submit", str(corrected), "--opd", "disnaker", "--period", period,
                                   "--replace"], env=stack.env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stdout + done.stderr

            # The dialog's preview: this one mapped instance and what depends on it, no other OPD's load.
            preview = _clear(stack, run_id, key, dry_run=True)
            assert {k for k in preview if k[0] == "load_submission"} == {key}, preview
            assert {k[0] for k in preview} == {"load_submission"} | DOWNSTREAM, preview
            cleared_at = datetime.now().astimezone()
            second = _rerun(stack, run_id, key, first)
            batches_2, reports_2, send_log_2 = _batches(url), _manifest_hashes(var, period), _send_log(url)
            mail_2 = messages(outbox)[sent_first:]

            # Nothing changed: clearing it once more reloads nothing new and sends nothing.
            third = _rerun(stack, run_id, key, second)
            batches_3, reports_3, send_log_3 = _batches(url), _manifest_hashes(var, period), _send_log(url)
            sent_third = len(messages(outbox))
        finally:
            stack.stop()

    # -- the cleared instance ran again, with everything downstream; nothing else did ----------------------------------
    assert second[key]["state"] == "success", second[key]
    assert second[key]["try_number"] == first[key]["try_number"] + 1
    for k, t in second.items():
        if k[0] in DOWNSTREAM - NOT_RUN_WHEN_CLEAN:
            assert t["state"] == "success" and datetime.fromisoformat(t["start_date"]) > cleared_at, (k, t)
        elif k != key and k[0] not in NOT_RUN_WHEN_CLEAN:
            assert (t["state"], t["try_number"], t["end_date"]) == \
                   (first[k]["state"], first[k]["try_number"], first[k]["end_date"]), (k, first[k], t)
    assert second[("check_outputs", -1)]["state"] == "skipped"
    assert other_failed <= {k for k, t in second.items() if t["state"] == "failed"}, "another OPD's red load changed"

    # -- only Disnaker's batch was replaced --------------------------------------------------------------------------
    disnaker = ("disnaker", "disnaker_bpjstk")
    untouched = {b: v for b, v in batches.items() if v[:2] != disnaker}
    assert {b: v for b, v in batches_2.items() if v[:2] != disnaker} == untouched, "another OPD's batch changed"
    (rejected,) = [b for b, v in batches.items() if v[:2] == disnaker]
    assert batches[rejected][2:4] == ("rejected", False)
    assert batches_2[rejected] == batches[rejected], "the rejected attempt stays as history"
    (new,) = [b for b, v in batches_2.items() if v[:2] == disnaker and b != rejected]
    assert batches_2[new][2:4] == ("accepted", True), batches_2[new]

    # -- linkage, eligibility and reports were recomputed with Disnaker's rows ----------------------------------------
    staged, linked = _rows(url, "SELECT COUNT(*), COUNT(l.row_id) FROM staged_row s LEFT JOIN person_link l "
                                "ON l.row_id = s.row_id AND l.period = s.period WHERE s.batch_id = :b", b=new)[0]
    assert staged > 0 and linked == staged, (staged, linked)
    assert _rows(url, "SELECT COUNT(*) FROM targeting_result t JOIN staged_row s ON s.row_id = t.row_id "
                      "WHERE s.batch_id = :b", b=new)[0][0] > 0, "eligibility/targeting not recomputed"
    changed = {r for r in reports if reports[r] != reports_2[r]}
    assert {"kota", "opd:disnaker"} <= changed, changed
    assert changed < set(reports), "every report changed: the test cannot tell a REVISI from a blanket re-send"

    # -- only the changed reports went out again, as [REVISI] --------------------------------------------------------
    new_rows = [r for r in send_log_2 if r not in send_log]
    assert {r[1] for r in new_rows} == changed, ({r[1] for r in new_rows}, changed)
    assert all(r[4] >= 1 and r[5] == "sent" for r in new_rows), new_rows
    assert len(mail_2) == len(new_rows) and all(m["Subject"].startswith("[REVISI] ") for m in mail_2), \
        [m["Subject"] for m in mail_2]

    # -- clearing again with the same file: a duplicate load, same results, no e-mail --------------------------------
    assert third[key]["state"] == "success"
    assert {b: v for b, v in batches_3.items() if b in batches_2} == batches_2
    assert [v[2] for b, v in batches_3.items() if b not in batches_2] == ["duplicate"]
    assert reports_3 == reports_2 and send_log_3 == send_log_2 and sent_third == sent_first + len(mail_2)
