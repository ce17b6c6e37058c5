"""Issue #13 acceptance through real Airflow runs (`airflow dags test`, SQLite metadata): an infrastructure failure
ends the run red with exactly ONE alert (one message per steward) and no report; once the fault is cleared a
re-run sends every report exactly once; a rejected file alone leaves only its load red and the reports go out.

1. `test_landing_faults_end_red_with_one_alert_then_recover`: the landing zone unreachable (SFTP, connection
   refused), the `tkpk_landing` connection missing while the landing URL is remote, and an SFTP server that accepts
   the connection and never answers (discover hangs past its execution_timeout); then the landing zone back.
2. `test_database_and_smtp_faults_end_red_then_recover` (PostgreSQL warehouse): the database fails every load's
   write (a trigger raising SQLSTATE 57P01 "admin_shutdown", what psycopg reports when the server goes away); then
   SMTP down longer than every retry (the alert is kept); then SMTP back: the kept alert is delivered once and
   every report once.
3. `test_deadline_check_alerts_once_when_the_month_has_not_finished`.

A revised October after November ran is in tests/test_airflow_run.py. Retry delays, sensor pokes, timeouts and the
SMTP client's retries are scaled down (TKPK_RETRY_DELAY_SECONDS, TKPK_POKE_SECONDS, TKPK_TIMEOUT_FACTOR, the
`smtp_default` connection's `retry_limit`); the tasks' retry counts are the DAG's own. The runs of a test are
forked from one warm process (tests/warm_airflow.py).
"""

from __future__ import annotations

import json
import socket
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.airflow_month import messages, month_env, synthetic_landing, warehouse
from tests.ops.airflow_stack import free_port
from tests.warm_airflow import AIRFLOW_MODULES, WarmAirflow

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(1500)]

PERIOD = "2026-10"
STEWARDS = 2  # include/config/opds.yaml


def _smtp_with_one_retry(env: dict) -> str:
    """The sink's `smtp_default` with one SMTP retry per message (the client's default is 3, backing off 2+4+8 s):
    SMTP down costs every try of send_reports 2 s instead of 14 s; the retries themselves are tests/reports'."""
    conn = json.loads(env["AIRFLOW_CONN_SMTP_DEFAULT"])
    conn["extra"]["retry_limit"] = 1
    return json.dumps(conn)


class Runs:
    """`airflow dags test` runs of one period at successive logical dates, with their state and task instances."""

    def __init__(self, airflow: WarmAirflow, var: Path, log: Path):
        self.airflow, self.env, self.log = airflow, airflow.env, log
        self.db = var / "airflow" / "airflow.db"
        self.day = 10

    def run(self, env: dict | None = None) -> tuple[str, dict]:
        logical = f"2026-11-{self.day:02d}T00:00:00+00:00"
        self.day += 1
        self.airflow.run(["dags", "test", "tkpk_monthly", logical, "-c", json.dumps({"period": PERIOD})], self.log,
                         env=env)
        with sqlite3.connect(self.db) as conn:
            run_id, state = conn.execute("SELECT run_id, state FROM dag_run WHERE dag_id = 'tkpk_monthly' "
                                         "ORDER BY id DESC LIMIT 1").fetchone()
            tis = {(t, m): (s, n) for t, m, s, n in conn.execute(
                "SELECT task_id, map_index, state, try_number FROM task_instance WHERE run_id = ?", (run_id,))}
            self.names = {(t, m): r for t, m, r in conn.execute(
                "SELECT task_id, map_index, rendered_map_index FROM task_instance WHERE run_id = ?", (run_id,))}
        return state, tis


@contextmanager
def _month(tmp_path: Path, url: str, smtp_port: int) -> Iterator[tuple[Path, Path, Runs]]:
    """A synthetic October in the landing zone, the warehouse with its registry, a migrated metadata database and
    the warm Airflow for its runs: (landing, var, runs)."""
    data = synthetic_landing(tmp_path / "data", PERIOD, 1)
    var = tmp_path / "var"
    warehouse(url, data)
    # A retry delay under a second: Airflow's exponential backoff then waits its floor of 1 s before every retry
    # (1 s base: 1-2, 2-4, 4-8 s).
    env = month_env(var, data, url, smtp_port, TKPK_OUTBOX_DIR=str(var / "outbox-files"),
                    TKPK_RETRY_DELAY_SECONDS="0.1", TKPK_POKE_SECONDS="2")
    env.pop("AIRFLOW_CONN_TKPK_LANDING", None)
    env["AIRFLOW_CONN_SMTP_DEFAULT"] = _smtp_with_one_retry(env)
    log = tmp_path / "airflow.log"
    with WarmAirflow(env, tmp_path / "warm.log") as airflow:
        airflow.migrate(log)
        yield data, var, Runs(airflow, var, log)


def _split(mail: list) -> tuple[list, list]:
    alerts = [m for m in mail if m["X-TKPK-Report"] == "alert"]
    return alerts, [m for m in mail if m["X-TKPK-Report"] != "alert"]


def _one_alert(new: list, *, names: str, tail: str) -> None:
    """Exactly one alert: one message per steward, all the same, naming what failed and how to resume."""
    alerts, reports = _split(new)
    assert not reports, [m["Subject"] for m in reports]
    assert len(alerts) == STEWARDS, [m["Subject"] for m in alerts]
    assert len({m["Delivered-To"] for m in alerts}) == STEWARDS
    body = alerts[0].get_body(("plain",)).get_content()
    assert names in body, body[-1500:]
    assert "Clear" in body and f"airflow dags trigger tkpk_monthly --conf '{{\"period\": \"{PERIOD}\"}}'" in body
    assert "BELUM dikirim" in body, tail


def _failed(tis: dict) -> set[str]:
    return {t for (t, _m), (s, _n) in tis.items() if s == "failed"}


def _reports_once(reports: list) -> None:
    keys = Counter((m["Subject"], m["Delivered-To"]) for m in reports)
    assert keys and max(keys.values()) == 1, [k for k, n in keys.items() if n > 1]
    assert not any(m["Subject"].startswith("[REVISI]") for m in reports)


class SilentServer:
    """Accepts TCP connections and never says a word: an SFTP/SSH server that hangs."""

    def __enter__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        return self

    def __exit__(self, *exc):
        self.sock.close()


def test_landing_faults_end_red_with_one_alert_then_recover(tmp_path):
    from tkpk.notify.mailsink import MailSink
    from tkpk.warehouse import get_engine

    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    outbox = tmp_path / "sink"
    with MailSink(outbox) as sink:
        with _month(tmp_path, url, sink.port) as (data, var, runs):
            _landing_faults(data, runs, outbox)
    get_engine.cache_clear()


def _landing_faults(data: Path, runs: Runs, outbox: Path) -> None:
    env, log = runs.env, runs.log
    seen = 0

    def new_mail() -> list:
        nonlocal seen
        mail = messages(outbox)
        fresh, seen = mail[seen:], len(mail)
        return fresh

    closed = free_port()
    remote = dict(env, TKPK_LANDING_URL=f"sftp://127.0.0.1:{closed}/landing", AIRFLOW_CONN_TKPK_LANDING=json.dumps(
        {"conn_type": "sftp", "host": "127.0.0.1", "port": closed, "login": "tkpk", "password": "rahasia"}))

    # 1. landing zone unreachable: discover retried (4 tries), then red; no report, one alert
    state, tis = runs.run(remote)
    assert state == "failed", log.read_text()[-4000:]
    assert tis[("discover", -1)] == ("failed", 4)
    assert {"build_reports", "send_reports"}.isdisjoint(t for (t, _), (s, _) in tis.items() if s == "success")
    _one_alert(new_mail(), names="zona landing", tail=log.read_text()[-3000:])

    # 2. the landing URL is remote but the connection tkpk_landing is missing (secrets backend without it)
    missing = {k: v for k, v in remote.items() if k != "AIRFLOW_CONN_TKPK_LANDING"}
    state, tis = runs.run(missing)
    assert state == "failed" and tis[("discover", -1)][0] == "failed"
    _one_alert(new_mail(), names="koneksi tkpk_landing", tail=log.read_text()[-3000:])

    # 3. an SFTP server that never answers: discover hangs and is stopped by its execution_timeout
    with SilentServer() as silent:
        hung = dict(remote, TKPK_LANDING_URL=f"sftp://127.0.0.1:{silent.port}/landing",
                    AIRFLOW_CONN_TKPK_LANDING=json.dumps({"conn_type": "sftp", "host": "127.0.0.1",
                                                          "port": silent.port, "login": "tkpk",
                                                          "password": "rahasia"}),
                    TKPK_TIMEOUT_FACTOR="0.025")  # discover: 10 min -> 15 s; resolve_period 7.5 s
        state, tis = runs.run(hung)
    assert state == "failed" and tis[("discover", -1)] == ("failed", 4)
    assert "AirflowTaskTimeout" in log.read_text()
    _one_alert(new_mail(), names="waktu tugas habis", tail=log.read_text()[-3000:])

    # 4. the landing zone is back: the month runs, every report goes out exactly once; Disnaker's file is
    #    rejected this month: only its own load is red (one try, no retry), the run is green
    folder = data / PERIOD / "disnaker"
    for old in [p for p in folder.iterdir() if p.is_file()]:
        old.unlink()
    (folder / "Peserta BPJS TK Oktober 2026.csv").write_text("catatan;isi\nbelum lengkap;-\n", encoding="utf-8")
    state, tis = runs.run()
    assert state == "success", log.read_text()[-4000:]
    assert _failed(tis) == {"load_submission"}, _failed(tis)
    (disnaker,) = [k for k, name in runs.names.items() if name == "disnaker/disnaker_bpjstk"]
    assert tis[disnaker] == ("failed", 1)
    alerts, reports = _split(new_mail())
    assert not alerts
    _reports_once(reports)
    assert tis[("send_reports", -1)] == ("success", 1)


@pytest.mark.postgres
def test_database_and_smtp_faults_end_red_then_recover(tmp_path, pg_url):
    from sqlalchemy import text

    from tkpk.notify.mailsink import MailSink
    from tkpk.warehouse import get_engine

    outbox = tmp_path / "sink"
    port = free_port()
    sink = MailSink(outbox, port=port)
    sink.__enter__()
    try:
        with _month(tmp_path, pg_url, port) as (_data, var, runs):
            log = runs.log
            # 1. the database goes away whenever a load writes its batch
            with get_engine(pg_url).begin() as conn:
                conn.execute(text("CREATE FUNCTION tkpk_test_down() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION "
                                  "'terminating connection due to administrator command' USING ERRCODE = '57P01'; "
                                  "END $$ LANGUAGE plpgsql"))
                conn.execute(text("CREATE TRIGGER tkpk_test_down BEFORE INSERT ON submission_batch "
                                  "FOR EACH ROW EXECUTE FUNCTION tkpk_test_down()"))
            state, tis = runs.run()
            assert state == "failed", log.read_text()[-4000:]
            loads = {m: v for (t, m), v in tis.items() if t == "load_submission"}
            assert loads and all(v == ("failed", 3) for v in loads.values()), loads  # retried, unlike a rejection
            assert tis[("check_loads", -1)][0] == "failed" and tis[("prepare_linkage", -1)][0] == "upstream_failed"
            first = messages(outbox)
            _one_alert(first, names="database warehouse", tail=log.read_text()[-3000:])

            # 2. the database is back, SMTP is down for longer than every retry: red, nothing sent, the alert kept
            with get_engine(pg_url).begin() as conn:
                conn.execute(text("DROP TRIGGER tkpk_test_down ON submission_batch"))
            sink.__exit__(None, None, None)
            state, tis = runs.run()
            assert state == "failed", log.read_text()[-4000:]
            assert tis[("build_reports", -1)][0] == "success"
            assert tis[("send_reports", -1)] == ("failed", 4)
            pending = sorted((var / "alerts" / "pending").glob("*.eml"))
            assert len(pending) == STEWARDS
            with get_engine(pg_url).connect() as conn:
                sent = conn.execute(text("SELECT count(*) FROM send_log WHERE status = 'sent' AND report NOT LIKE "
                                         "'alert:%'")).scalar()
            assert sent == 0

            # 3. SMTP is back: the next run delivers the kept alert once and every report once
            sink = MailSink(outbox, port=port)
            sink.__enter__()
            state, tis = runs.run()
            assert state == "success", log.read_text()[-4000:]
            new = messages(outbox)[len(first):]
            alerts, reports = _split(new)
            assert len(alerts) == STEWARDS and "send_reports" in alerts[0]["Subject"], [m["Subject"] for m in alerts]
            assert "server e-mail" in alerts[0].get_body(("plain",)).get_content()
            assert not list((var / "alerts" / "pending").glob("*"))
            _reports_once(reports)
            # a further run sends nothing: no report twice, no alert twice
            state, _ = runs.run()
            assert state == "success" and len(messages(outbox)) == len(first) + len(new)
    finally:
        sink.__exit__(None, None, None)
        get_engine.cache_clear()


def test_deadline_check_alerts_once_when_the_month_has_not_finished(tmp_path):
    """tkpk_monthly_deadline at 17.00 WIB on day 10 with no finished October run: one alert (one message per
    steward); the same check again sends nothing more."""
    from tkpk.demo import airflow_env
    from tkpk.notify.mailsink import MailSink
    from tkpk.warehouse import get_engine, upgrade

    var = tmp_path / "var"
    (var / "airflow").mkdir(parents=True)
    url = f"sqlite:///{var / 'warehouse.db'}"
    upgrade(url)
    outbox = tmp_path / "sink"
    log = tmp_path / "airflow.log"
    with MailSink(outbox) as sink:
        env = airflow_env(var, sink.port)
        env.update(TKPK_VAR_DIR=str(var), TKPK_DATABASE_URL=url)
        with WarmAirflow(env, tmp_path / "warm.log", preload=AIRFLOW_MODULES) as airflow:  # no pandas, GX here
            airflow.migrate(log)
            for day in ("2026-11-10T10:00:00+00:00", "2026-11-10T10:05:00+00:00"):
                assert airflow.run(["dags", "test", "tkpk_monthly_deadline", day], log) == 0, log.read_text()[-3000:]
                mail = messages(outbox)
                assert len(mail) == STEWARDS, [m["Subject"] for m in mail]
    assert all("Oktober 2026" in m["Subject"] and m["X-TKPK-Report"] == "alert" for m in mail)
    assert "17.00 WIB (belum dimulai)" in mail[0].get_body(("plain",)).get_content()
    get_engine.cache_clear()
