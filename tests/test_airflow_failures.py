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

Retry delays, sensor pokes and timeouts are scaled down through TKPK_RETRY_DELAY_SECONDS / TKPK_TIMEOUT_FACTOR;
the retry counts are the DAG's own.
"""

from __future__ import annotations

import email
import json
import socket
import sqlite3
from collections import Counter
from datetime import date
from email import policy
from pathlib import Path

import pytest

from tests.ops.airflow_stack import free_port
from tests.test_airflow_ops import _synthetic_landing
from tests.test_airflow_run import _airflow

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(1500)]

PERIOD = "2026-10"
STEWARDS = 2  # include/config/opds.yaml


def _setup(tmp_path: Path, url: str, smtp_port: int) -> tuple[Path, Path, dict, Path]:
    from tkpk.demo import airflow_env
    from tkpk.registry import load_snapshot
    from tkpk.warehouse import upgrade

    data = _synthetic_landing(tmp_path / "data", PERIOD, 1)
    var = tmp_path / "var"
    (var / "airflow").mkdir(parents=True)
    upgrade(url)
    manifest = json.loads((tmp_path / "data" / "truth" / "manifest.json").read_text())
    snap = manifest["snapshot_date"]
    load_snapshot(url, str(data / "registry" / snap), date.fromisoformat(snap))
    env = airflow_env(var, smtp_port)
    env = {k: v for k, v in env.items() if k != "AIRFLOW_CONN_TKPK_LANDING"}
    env.update(TKPK_VAR_DIR=str(var), TKPK_DATABASE_URL=url, TKPK_LANDING_URL=data.as_uri(),
               TKPK_ARCHIVE_URL=(var / "archive").as_uri(), TKPK_OUTBOX_DIR=str(var / "outbox-files"),
               TKPK_RETRY_DELAY_SECONDS="1", TKPK_POKE_SECONDS="2")
    log = tmp_path / "airflow.log"
    assert _airflow(["db", "migrate"], env, log) == 0, log.read_text()[-3000:]
    return data, var, env, log


class Runs:
    """`airflow dags test` runs of one period at successive logical dates, with their state and task instances."""

    def __init__(self, var: Path, env: dict, log: Path):
        self.db = var / "airflow" / "airflow.db"
        self.env, self.log, self.day = env, log, 10

    def run(self, env: dict | None = None) -> tuple[str, dict]:
        logical = f"2026-11-{self.day:02d}T00:00:00+00:00"
        self.day += 1
        _airflow(["dags", "test", "tkpk_monthly", logical, "-c", json.dumps({"period": PERIOD})],
                 env or self.env, self.log)
        with sqlite3.connect(self.db) as conn:
            run_id, state = conn.execute("SELECT run_id, state FROM dag_run WHERE dag_id = 'tkpk_monthly' "
                                         "ORDER BY id DESC LIMIT 1").fetchone()
            tis = {(t, m): (s, n) for t, m, s, n in conn.execute(
                "SELECT task_id, map_index, state, try_number FROM task_instance WHERE run_id = ?", (run_id,))}
            self.names = {(t, m): r for t, m, r in conn.execute(
                "SELECT task_id, map_index, rendered_map_index FROM task_instance WHERE run_id = ?", (run_id,))}
        return state, tis


def _mail(outbox: Path) -> list:
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(outbox.glob("*.eml"))]


def _split(messages: list) -> tuple[list, list]:
    alerts = [m for m in messages if m["X-TKPK-Report"] == "alert"]
    return alerts, [m for m in messages if m["X-TKPK-Report"] != "alert"]


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
        data, var, env, log = _setup(tmp_path, url, sink.port)
        runs = Runs(var, env, log)
        seen = 0

        def new_mail() -> list:
            nonlocal seen
            mail = _mail(outbox)
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
                        TKPK_TIMEOUT_FACTOR="0.05")  # discover: 10 min -> 30 s
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
    get_engine.cache_clear()


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
        data, var, env, log = _setup(tmp_path, pg_url, port)
        runs = Runs(var, env, log)

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
        first = _mail(outbox)
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
        new = _mail(outbox)[len(first):]
        alerts, reports = _split(new)
        assert len(alerts) == STEWARDS and "send_reports" in alerts[0]["Subject"], [m["Subject"] for m in alerts]
        assert "server e-mail" in alerts[0].get_body(("plain",)).get_content()
        assert not list((var / "alerts" / "pending").glob("*"))
        _reports_once(reports)
        # a further run sends nothing: no report twice, no alert twice
        state, _ = runs.run()
        assert state == "success" and len(_mail(outbox)) == len(first) + len(new)
    finally:
        sink.__exit__(None, None, None)
        get_engine.cache_clear()


def test_revising_october_after_november_ran_rebuilds_november_once(tmp_path):
    """October is revised (Disnaker's corrected file) after November ran: the October run marks November for
    rebuild and queues a run of it; that run recomputes November's events, eligibility and reports and sends the
    changed reports once, as [REVISI]; one more run sends nothing."""
    from sqlalchemy import text

    from tests.test_airflow_run import _drop_last_rows
    from tkpk.demo import airflow_env
    from tkpk.notify.mailsink import MailSink
    from tkpk.registry import load_snapshot
    from tkpk.warehouse import get_engine, upgrade

    landing = _synthetic_landing(tmp_path / "data", "2026-10", 2)
    var = tmp_path / "var"
    (var / "airflow").mkdir(parents=True)
    url = f"sqlite:///{var / 'warehouse.db'}"
    upgrade(url)
    for snapshot in sorted((landing / "registry").iterdir()):
        load_snapshot(url, str(snapshot), date.fromisoformat(snapshot.name))
    outbox = tmp_path / "sink"
    log = tmp_path / "airflow.log"
    with MailSink(outbox) as sink:
        env = airflow_env(var, sink.port)
        env.update(TKPK_VAR_DIR=str(var), TKPK_DATABASE_URL=url, TKPK_LANDING_URL=landing.as_uri(),
                   TKPK_ARCHIVE_URL=(var / "archive").as_uri(), TKPK_OUTBOX_DIR=str(var / "outbox-files"))
        assert _airflow(["db", "migrate"], env, log) == 0, log.read_text()[-3000:]

        def run(logical: str, conf: dict | None = None) -> list:
            before = len(_mail(outbox))
            args = ["dags", "test", "tkpk_monthly", logical] + (["-c", json.dumps(conf)] if conf else [])
            _airflow(args, env, log)
            with sqlite3.connect(var / "airflow" / "airflow.db") as conn:
                state = conn.execute("SELECT state FROM dag_run WHERE state != 'queued' ORDER BY id DESC "
                                     "LIMIT 1").fetchone()[0]
            assert state == "success", log.read_text()[-4000:]
            return _mail(outbox)[before:]

        def marks() -> list[tuple]:
            with get_engine(url).connect() as conn:
                return [tuple(r) for r in conn.execute(text(
                    "SELECT period, because_of, rebuilt_at IS NOT NULL FROM period_rebuild ORDER BY rebuild_id"))]

        october = run("2026-11-10T00:00:00+00:00")  # the scheduled runs of October and November
        november = run("2026-12-10T00:00:00+00:00")
        assert october and november and marks() == []

        folder = landing / "2026-10" / "disnaker"
        (old,) = [p for p in folder.iterdir() if p.is_file()]
        _drop_last_rows(old, 2, folder / "Peserta BPJS TK perbaikan.csv")
        old.unlink()
        revised = run("2026-12-11T00:00:00+00:00", {"period": "2026-10", "opd": "disnaker"})
        assert revised and all(m["Subject"].startswith("[REVISI]") and "Oktober 2026" in m["Subject"]
                               for m in revised), [m["Subject"] for m in revised]
        assert marks() == [("2026-11", "2026-10", False)]
        with sqlite3.connect(var / "airflow" / "airflow.db") as conn:
            queued = [json.loads(c) if isinstance(c, str) else c for (c,) in conn.execute(
                "SELECT conf FROM dag_run WHERE state = 'queued'")]
        assert any(str(c).find("2026-11") >= 0 for c in queued), queued  # the rebuild run, queued by the trigger

        rebuilt = run("2026-12-12T00:00:00+00:00", {"period": "2026-11"})  # what the queued run does
        assert rebuilt, "November's reports compare with October: some must change"
        assert all(m["Subject"].startswith("[REVISI]") and "November 2026" in m["Subject"] for m in rebuilt), \
            [m["Subject"] for m in rebuilt]
        assert max(Counter((m["Subject"], m["Delivered-To"]) for m in rebuilt).values()) == 1
        assert marks() == [("2026-11", "2026-10", True)]

        assert run("2026-12-13T00:00:00+00:00", {"period": "2026-11"}) == []  # once, not again
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
        assert _airflow(["db", "migrate"], env, log) == 0, log.read_text()[-3000:]
        for day in ("2026-11-10T10:00:00+00:00", "2026-11-10T10:05:00+00:00"):
            assert _airflow(["dags", "test", "tkpk_monthly_deadline", day], env, log) == 0, log.read_text()[-3000:]
            mail = _mail(outbox)
            assert len(mail) == STEWARDS, [m["Subject"] for m in mail]
    assert all("Oktober 2026" in m["Subject"] and m["X-TKPK-Report"] == "alert" for m in mail)
    assert "17.00 WIB (belum dimulai)" in mail[0].get_body(("plain",)).get_content()
    get_engine.cache_clear()
