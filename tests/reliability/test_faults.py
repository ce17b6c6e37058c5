"""Faults injected into real runs, and what must hold afterwards (issue 8, item 1).

(a) A load process SIGKILLed mid-write (SQLite and PostgreSQL, three moments) leaves the warehouse exactly as before
    (same table checksums) and the retry succeeds.
(b) The PostgreSQL backend terminated mid-load (pg_terminate_backend from another connection): SQLAlchemy raises
    OperationalError, which the DAG retries (load task retries >= 2; only BatchRejected is turned into a no-retry
    failure); nothing partial is left and the retry succeeds. A pooled connection killed between tasks is replaced.
(c) SMTP down for the first attempts, then back: every e-mail delivered exactly once. A crash at each point of a
    delivery shows the only duplicate window is "server accepted, task died before logging", and that duplicate
    carries the same Message-ID.
(d) The landing store unreadable: the task retries, succeeds when the store comes back, and when it does not, fails
    with a clear Indonesian message.
(e) A month interrupted at five points (mid-load, mid-linkage partition, mid-finalize, mid-eligibility) and resumed
    ends in exactly the state of an uninterrupted run (table checksums), and a full re-run changes nothing.
"""

from __future__ import annotations

import ast
import email
import hashlib
import re
import signal
import sqlite3
import threading
import time
from collections import Counter
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.reliability.conftest import (
    ENGLISH,
    INDONESIAN,
    PERIOD,
    ROOT,
    SIXTEEN,
    landing_path,
    make_settings,
    pg_backends,
    put,
    start_paused_driver,
    table_checksums,
    terminate_backends,
)
from tests.reliability.rows import RowMaker, csv_bytes, table

INGEST_TABLES = ["submission_batch", "staged_row", "quarantined_row", "finding"]
MONTH_GROUP = pytest.mark.xdist_group("reliability-month")


def _count(url: str, model, **where) -> int:
    from tkpk.warehouse import session_scope

    with session_scope(url) as s:
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return int(s.scalar(q))


def _submission(config, n_valid: int, n_bad: int, seed: int) -> bytes:
    rm = RowMaker(config, PERIOD, seed)
    header, rows = table(config, "disnaker_bpjstk", rm.rows("disnaker_bpjstk", n_valid + n_bad))
    k = header.index("nik")
    for r in rows[n_valid:]:
        r[k] = r[k][:15]  # a NIK one digit short: a row error
    return csv_bytes(header, rows)


def _setup_previous_batch(settings, config) -> dict:
    """An accepted batch for disnaker, then the corrected file that replaces it in the landing zone."""
    from tkpk.ingest import load_submission

    put(settings, "disnaker", "bpjstk_oktober.csv", _submission(config, 40, 2, seed=1))
    first = load_submission(settings, PERIOD, "disnaker", "disnaker_bpjstk", run_id="run-1")
    assert (first["status"], first["rows_accepted"]) == ("accepted", 40)
    (landing_path(settings) / PERIOD / "disnaker" / "bpjstk_oktober.csv").unlink()
    data = _submission(config, 3000, 30, seed=2)
    put(settings, "disnaker", "bpjstk_oktober_perbaikan.csv", data)
    return {"first": first, "data": data}


def _assert_retry_succeeds(settings, url: str, data: bytes) -> None:
    from tkpk.ingest import load_submission
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import StagedRow, SubmissionBatch

    counts = load_submission(settings, PERIOD, "disnaker", "disnaker_bpjstk", run_id="run-2-retry")
    assert (counts["status"], counts["rows_accepted"], counts["rows_quarantined"]) == ("accepted", 3000, 30)
    assert _count(url, StagedRow) == 3000
    with session_scope(url) as s:
        current = s.scalars(select(SubmissionBatch).filter_by(is_current=True)).all()
        assert [b.batch_id for b in current] == [counts["batch_id"]]
        files = current[0].files
    archived = Path(files[0]["archive_uri"].removeprefix("file://"))
    assert hashlib.sha256(archived.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest(), \
        "the archived raw file is not the file that was loaded"


# ------------------------------------------------------------------------------------------------ (a) SIGKILL

KILL_POINTS = [
    "archive_write",  # was bug 1: a partial archive file survived the retry
    "batch_inserted",
    "staged_written",
]


@pytest.mark.slow
@pytest.mark.parametrize("point", KILL_POINTS)
def test_load_killed_mid_write_leaves_the_warehouse_as_before_and_the_retry_succeeds(warehouse, tmp_path, config,
                                                                                      point):
    from tkpk.warehouse.models import SubmissionBatch

    settings = make_settings(tmp_path, warehouse)
    setup = _setup_previous_batch(settings, config)
    before = table_checksums(warehouse, INGEST_TABLES)
    batches_before = _count(warehouse, SubmissionBatch)

    marker = tmp_path / "paused"
    proc = start_paused_driver(settings, "disnaker", "disnaker_bpjstk", point, marker)
    deadline = time.monotonic() + 240
    while not marker.exists():
        assert proc.poll() is None, f"load ended before {point}: {proc.stderr.read().decode()[-2000:]}"
        assert time.monotonic() < deadline, f"load never reached {point}"
        time.sleep(0.05)
    in_transaction: set[int] = set()
    if warehouse.startswith("postgresql") and point != "archive_write":
        in_transaction = {pid for pid, state in pg_backends(warehouse) if state == "idle in transaction"}
        assert in_transaction, "the load should be inside its transaction when it is killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 30
    while in_transaction and in_transaction & {pid for pid, _state in pg_backends(warehouse)}:  # the server notices and rolls back
        assert time.monotonic() < deadline, pg_backends(warehouse)
        time.sleep(0.1)

    assert table_checksums(warehouse, INGEST_TABLES) == before, "the killed load left something behind"
    assert _count(warehouse, SubmissionBatch) == batches_before
    _assert_retry_succeeds(settings, warehouse, setup["data"])


# ------------------------------------------------------------------------------------------------ (b) pg_terminate


@pytest.mark.postgres
@pytest.mark.parametrize("where", ["after_batch_insert", "after_staged_copy"])
def test_backend_terminated_mid_load_raises_a_retriable_error_and_leaves_nothing(pg_url, tmp_path, config,
                                                                                  monkeypatch, where):
    import psycopg2
    import sqlalchemy.exc
    from sqlalchemy import event

    import tkpk.ingest.load as load_mod
    from tkpk.ingest import BatchRejected, load_submission
    from tkpk.warehouse import get_engine, upgrade
    from tkpk.warehouse.models import SubmissionBatch

    upgrade(pg_url)
    settings = make_settings(tmp_path, pg_url)
    setup = _setup_previous_batch(settings, config)
    before = table_checksums(pg_url, INGEST_TABLES)
    batches_before = _count(pg_url, SubmissionBatch)

    reached, resume = threading.Event(), threading.Event()

    def hold():
        reached.set()
        resume.wait(120)

    def after_execute(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO SUBMISSION_BATCH"):
            hold()

    original = load_mod.bulk_insert

    def bulk_insert(session, tbl, *args, **kwargs):
        n = original(session, tbl, *args, **kwargs)
        if tbl.name == "staged_row":
            hold()
        return n

    if where == "after_batch_insert":
        event.listen(get_engine(pg_url), "after_cursor_execute", after_execute)
    else:
        monkeypatch.setattr(load_mod, "bulk_insert", bulk_insert)
    raised: list[BaseException] = []

    def task():
        try:
            load_submission(settings, PERIOD, "disnaker", "disnaker_bpjstk", run_id="run-2")
        except BaseException as exc:  # noqa: BLE001 - what the task would raise to Airflow
            raised.append(exc)

    worker = threading.Thread(target=task)
    worker.start()
    try:
        assert reached.wait(240), f"the load never reached {where}"
        assert terminate_backends(pg_url) >= 1
    finally:
        resume.set()
        worker.join(120)
        monkeypatch.undo()
        if where == "after_batch_insert":
            event.remove(get_engine(pg_url), "after_cursor_execute", after_execute)

    assert len(raised) == 1
    exc = raised[0]
    assert not isinstance(exc, BatchRejected)  # the DAG turns only BatchRejected into a failure without retry
    assert isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated, f"{type(exc)}: {exc}"
    # The server's "terminating connection" reaches the load as an OperationalError (psycopg2's own on the COPY path,
    # which runs on the raw DBAPI cursor); the rollback that follows then fails on the dead connection, so the task
    # sees SQLAlchemy's DBAPIError with connection_invalidated: retried by Airflow, and the pool drops the connection.
    chain, e = [], exc
    while e is not None:
        chain.append(e)
        e = e.__cause__ or e.__context__
    assert any(isinstance(x, (psycopg2.OperationalError, sqlalchemy.exc.OperationalError)) for x in chain), chain
    assert table_checksums(pg_url, INGEST_TABLES) == before
    assert _count(pg_url, SubmissionBatch) == batches_before
    _assert_retry_succeeds(settings, pg_url, setup["data"])  # same process: the pool replaced the dead connection


@pytest.mark.postgres
def test_pooled_connection_killed_between_tasks_is_replaced(pg_url, tmp_path):
    from tkpk.ingest import discover
    from tkpk.warehouse import get_engine, upgrade

    upgrade(pg_url)
    settings = make_settings(tmp_path, pg_url)
    assert discover(settings, PERIOD)
    assert get_engine(pg_url).pool.checkedin() >= 1
    assert terminate_backends(pg_url) >= 1  # the idle pooled connection of this worker
    assert discover(settings, PERIOD)  # pre-ping notices and reconnects: no error reaches the task


def test_load_task_retries_database_errors_but_not_rejections():
    """Static: the load task keeps the default retries (>= 2, with backoff) and turns only BatchRejected into a
    failure without retry, so OperationalError and OSError are retried by Airflow."""
    from tkpk_airflow import default_args

    args = default_args()
    assert args["retries"] >= 2 and args["retry_exponential_backoff"]
    tree = ast.parse((ROOT / "dags" / "tkpk_monthly.py").read_text())
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "load_submission")
    for deco in fn.decorator_list:
        for kw in getattr(deco, "keywords", []):
            if kw.arg == "retries":
                assert isinstance(kw.value, ast.Constant) and kw.value.value >= 2
    handlers = [h for n in ast.walk(fn) if isinstance(n, ast.Try) for h in n.handlers]
    assert handlers and all(isinstance(h.type, ast.Name) and h.type.id == "BatchRejected" for h in handlers)
    raises = [n for h in handlers for n in ast.walk(h) if isinstance(n, ast.Raise)]
    # a rejection fails without retry: AirflowFailException itself, or tkpk_airflow.rejected(), a subclass of it
    assert all("AirflowFailException" in ast.unparse(r) or "rejected(" in ast.unparse(r) for r in raises)
    from airflow.sdk.exceptions import AirflowFailException
    from tkpk_airflow import rejected

    assert isinstance(rejected("x"), AirflowFailException)


# ------------------------------------------------------------------------------------------------ (c) SMTP


def _fresh_copy(month, tmp_path):
    """A private copy of run A's warehouse (send log emptied) with its built reports."""
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import SendLog

    src = Path(month.settings.database_url.removeprefix("sqlite:///"))
    db = tmp_path / "warehouse.db"
    with sqlite3.connect(src) as a, sqlite3.connect(db) as b:
        a.backup(b)
    settings = make_settings(tmp_path, f"sqlite:///{db}", reports_dir=month.settings.reports_dir,
                             landing=landing_path(month.settings))
    with session_scope(settings.database_url) as s:
        s.query(SendLog).delete()
    return settings


def _smtp(port: int, **kw):
    from tkpk.notify import SmtpSettings

    return SmtpSettings(host="127.0.0.1", port=port, timeout=10, backoff=0.01, **kw)


def _delivered(outbox: Path) -> Counter:
    out: Counter = Counter()
    for path in outbox.glob("*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        out[(str(msg["X-TKPK-Report"]), str(msg["Delivered-To"]))] += 1
    return out


def _message_ids(outbox: Path, key: tuple[str, str]) -> list[str]:
    ids = []
    for path in outbox.glob("*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if (str(msg["X-TKPK-Report"]), str(msg["Delivered-To"])) == key:
            ids.append(str(msg["Message-ID"]))
    return ids


def _expected(month) -> int:
    return month.sent["sent"]


@MONTH_GROUP
def test_smtp_failing_first_attempts_then_back_delivers_each_email_once(month, tmp_path):
    from tkpk.notify import send_reports
    from tkpk.notify.mailsink import MailSink

    settings = _fresh_copy(month, tmp_path)
    with MailSink(settings.outbox_dir, fail_first=3) as sink:
        result = send_reports(settings, PERIOD, _smtp(sink.port, retries=4))
        assert sink.handler.temporary_failures == 3
    delivered = _delivered(settings.outbox_dir)
    assert result["sent"] == _expected(month) == sum(delivered.values())
    assert set(delivered.values()) == {1}, "an e-mail was delivered twice"


@MONTH_GROUP
def test_smtp_server_down_then_started_late_delivers_each_email_once(month, tmp_path):
    from tkpk.notify import SendFailed, send_reports
    from tkpk.notify.mailsink import MailSink, free_port
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import SendLog

    settings = _fresh_copy(month, tmp_path)
    port = free_port()
    with pytest.raises(SendFailed) as exc:  # the task's first attempt: nobody listens
        send_reports(settings, PERIOD, _smtp(port, retries=2))
    message = str(exc.value)
    assert INDONESIAN.search(message) and "percobaan" in message
    with session_scope(settings.database_url) as s:
        statuses = Counter(s.scalars(select(SendLog.status)))
    assert statuses == Counter({"failed": 1}), statuses  # stopped at the first message, logged as failed

    with MailSink(settings.outbox_dir, port=port):  # the server comes back; Airflow retries the task
        result = send_reports(settings, PERIOD, _smtp(port))
        again = send_reports(settings, PERIOD, _smtp(port))  # a further retry or re-run
    delivered = _delivered(settings.outbox_dir)
    assert result["sent"] == _expected(month) == sum(delivered.values())
    assert set(delivered.values()) == {1}
    assert again["sent"] == 0 and again["skipped"] == _expected(month)


class _Crash(BaseException):
    """The send task's process died here."""


@MONTH_GROUP
@pytest.mark.parametrize("window", ["before_smtp", "accepted_before_log", "after_log"])
def test_a_crash_duplicates_only_when_the_server_accepted_before_the_log(month, tmp_path, monkeypatch, window):
    import tkpk.notify.send as send_mod
    from tkpk.notify.mailsink import MailSink
    from tkpk.notify.smtp import SmtpClient
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import SendLog

    settings = _fresh_copy(month, tmp_path)
    crash_at = 3  # the third message of the run
    calls = {"deliver": 0, "finish": 0}

    class CrashingClient(SmtpClient):
        def deliver(self, data, sender, recipient):
            calls["deliver"] += 1
            if window == "before_smtp" and calls["deliver"] == crash_at:
                raise _Crash()
            super().deliver(data, sender, recipient)
            if window == "accepted_before_log" and calls["deliver"] == crash_at:
                raise _Crash()

    original_finish = send_mod._finish

    def finish(*args, **kwargs):
        original_finish(*args, **kwargs)
        calls["finish"] += 1
        if window == "after_log" and calls["finish"] == crash_at:
            raise _Crash()

    monkeypatch.setattr(send_mod, "_finish", finish)
    with MailSink(settings.outbox_dir) as sink:
        smtp = _smtp(sink.port)
        with pytest.raises(_Crash):
            send_mod.send_reports(settings, PERIOD, smtp, client=CrashingClient(smtp))
        monkeypatch.undo()
        result = send_mod.send_reports(settings, PERIOD, smtp)  # the task's retry
    delivered = _delivered(settings.outbox_dir)
    assert len(delivered) == _expected(month), "some e-mail never arrived"
    duplicates = {k: n for k, n in delivered.items() if n > 1}
    if window == "accepted_before_log":
        assert len(duplicates) == 1 and set(duplicates.values()) == {2}
        (key,) = duplicates
        ids = _message_ids(settings.outbox_dir, key)
        assert len(ids) == 2 and ids[0] == ids[1], "the duplicate must carry the same Message-ID"
    else:
        assert duplicates == {}, f"{window}: duplicates {duplicates}"
    assert result["sent"] == _expected(month) - (crash_at - (window != "after_log"))
    with session_scope(settings.database_url) as s:
        assert set(s.scalars(select(SendLog.status))) == {"sent"}


# ------------------------------------------------------------------------------------------------ (d) landing store


def _flaky_landing(tmp_path, failures: int):
    """A landing zone behind an fsspec filesystem (`flaky://`) that raises PermissionError for its first
    `failures` operations: a share whose permissions are broken, an S3 bucket policy that changed, an NFS hiccup.
    (`chmod 000` cannot show this here: the tests run as root.)"""
    import fsspec
    from fsspec.implementations.local import LocalFileSystem

    class FlakyFileSystem(LocalFileSystem):
        protocol = ("flaky",)
        left = failures

        @classmethod
        def _strip_protocol(cls, path):
            path = str(path)
            return LocalFileSystem._strip_protocol(path[len("flaky://"):] if path.startswith("flaky://") else path)

        def _fail(self, path):
            if FlakyFileSystem.left > 0:
                FlakyFileSystem.left -= 1
                raise PermissionError(13, "Permission denied", str(path))

        def ls(self, path, detail=True, **kwargs):
            self._fail(path)
            return super().ls(path, detail=detail, **kwargs)

        def cat_file(self, path, start=None, end=None, **kwargs):
            self._fail(path)
            return super().cat_file(path, start=start, end=end, **kwargs)

    fsspec.register_implementation("flaky", FlakyFileSystem, clobber=True)
    return FlakyFileSystem


def _with_retries(fn, retries: int = 2):
    """What Airflow does with a task that raises: try again `retries` times; BatchRejected is not retried."""
    from tkpk.ingest import BatchRejected

    attempts = 0
    while True:
        attempts += 1
        try:
            return fn(), attempts, None
        except BatchRejected:
            raise
        except Exception as exc:  # noqa: BLE001
            if attempts > retries:
                return None, attempts, exc


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_landing_unreadable_for_a_while_is_retried(sqlite_warehouse, tmp_path, config):
    from tkpk.ingest import discover, load_submission

    local = make_settings(tmp_path, sqlite_warehouse)
    put(local, "disnaker", "bpjstk.csv", _submission(config, 20, 0, seed=3))
    settings = make_settings(tmp_path, sqlite_warehouse, landing_url="flaky://" + str(landing_path(local)))
    fs = _flaky_landing(tmp_path, failures=2)
    found, attempts, exc = _with_retries(lambda: discover(settings, PERIOD, opd="disnaker"))
    assert exc is None and attempts == 3 and found[0]["state"] == "received"
    fs.left = 2
    counts, attempts, exc = _with_retries(lambda: load_submission(settings, PERIOD, "disnaker", "disnaker_bpjstk"))
    assert exc is None and attempts == 3
    assert (counts["status"], counts["rows_accepted"]) == ("accepted", 20)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_landing_unreadable_for_good_fails_with_a_clear_indonesian_message(sqlite_warehouse, tmp_path, config):
    from tkpk.ingest import discover, load_submission

    local = make_settings(tmp_path, sqlite_warehouse)
    put(local, "disnaker", "bpjstk.csv", _submission(config, 20, 0, seed=3))
    settings = make_settings(tmp_path, sqlite_warehouse, landing_url="flaky://" + str(landing_path(local)))
    fs = _flaky_landing(tmp_path, failures=10**6)
    try:
        for fn in (lambda: discover(settings, PERIOD, opd="disnaker"),
                   lambda: load_submission(settings, PERIOD, "disnaker", "disnaker_bpjstk")):
            _value, attempts, exc = _with_retries(fn)
            assert exc is not None and attempts == 3
            message = str(exc)
            assert INDONESIAN.search(message) and "landing" in message.lower(), message
            assert not ENGLISH.search(message), message
    finally:
        fs.left = 0


# ------------------------------------------------------------------------------------------------ (e) interrupted run

CRASHES = [  # (task, die after N SQL statements): mid-write in every kind of stage
    ("load:dinkes/dinkes_ibu_hamil", 4),
    ("load:disdik/disdik_siswa", 6),
    ("link_partition:15.71.05", 3),
    ("finalize_linkage", 12),
    ("compute_eligibility:15.71.03", 4),
    ("finalize_eligibility", 5),
]


@MONTH_GROUP
@pytest.mark.slow
def test_interrupted_month_resumed_equals_the_uninterrupted_run(month, tmp_path):
    from tests.reliability.month import Crash, Interrupted, MonthRunner, prepare

    reference = table_checksums(month.settings.database_url)
    assert reference["staged_row"][0] > 0 and reference["person_link"][0] > 0
    assert reference["eligibility_decision"][0] > 0 and reference["targeting_result"][0] > 0

    settings = make_settings(tmp_path, None, landing=landing_path(month.settings))
    prepare(settings, month.synth)
    runner = MonthRunner(settings, crashes=[Crash(task, n) for task, n in CRASHES])
    interruptions = 0
    while True:
        try:
            runner.run()
            break
        except Interrupted:
            interruptions += 1
            assert interruptions <= len(CRASHES)
            if interruptions == 3:  # the comparison can fail: a half-done month is not the reference
                assert table_checksums(settings.database_url) != reference
    assert interruptions == len(CRASHES) and all(c.fired for c in runner.crashes)
    resumed = table_checksums(settings.database_url)
    diff = {t: (resumed[t], reference[t]) for t in reference if resumed[t] != reference[t]}
    assert not diff, f"interrupted + resumed differs from the uninterrupted run: {diff}"

    runner.rerun()  # a steward re-triggers the whole month: nothing changes
    rerun = table_checksums(settings.database_url)
    diff = {t: (rerun[t], reference[t]) for t in reference if rerun[t] != reference[t]}
    assert not diff, f"a full re-run changed the month: {diff}"
    # report content hashes (64 hex characters) can hold a run of 16 decimal digits by chance: a NIK is 16 digits
    # not inside a hex word
    xcom = runner.xcom()
    found = [m for m in SIXTEEN.finditer(xcom)
             if not re.fullmatch(r"[0-9a-f]{64}", _hex_word(xcom, m.start(), m.end()))]
    assert not found, f"a full NIK in a task return value (at {[m.start() for m in found]})"


def _hex_word(text: str, start: int, end: int) -> str:
    """The run of hex characters around text[start:end]."""
    while start > 0 and text[start - 1] in "0123456789abcdef":
        start -= 1
    while end < len(text) and text[end] in "0123456789abcdef":
        end += 1
    return text[start:end]
