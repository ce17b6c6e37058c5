"""The two kinds of failure in run bookkeeping (issue #13): the load gate, the failure records behind the one alert,
alerts kept while SMTP is down, the deadline alert, and the landing connection rules."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy

import pytest

from tkpk.pipeline import (
    LoadsIncomplete,
    check_loads,
    overdue_alert,
    record_failure,
    resume_steps,
    run_failures,
    start_run,
)
from tkpk.settings import Settings
from tkpk.warehouse import session_scope
from tkpk.warehouse.models import AuditLog, SubmissionBatch


@pytest.fixture
def settings(sqlite_warehouse, tmp_path) -> Settings:
    return Settings.from_env(database_url=sqlite_warehouse, var_dir=tmp_path / "var", outbox_dir=tmp_path / "out")


def _batch(settings, opd, stype, status, run_id):
    with session_scope(settings.database_url) as s:
        s.add(SubmissionBatch(period="2026-10", opd_code=opd, submission_type=stype, status=status, is_current=False,
                              files=[], sha256="x", loaded_at=datetime.now(UTC), run_id=run_id, rows_total=0))


def test_the_gate_accepts_rejected_files_and_stops_on_a_load_without_outcome(settings):
    found = [{"opd_code": "dinsos", "submission_type": "dinsos_penerima"},
             {"opd_code": "koperasi", "submission_type": "koperasi_umkm"},
             {"opd_code": "disnaker", "submission_type": "disnaker_bpjstk"}]
    _batch(settings, "dinsos", "dinsos_penerima", "accepted", "run-1")
    _batch(settings, "koperasi", "koperasi_umkm", "rejected", "run-1")
    _batch(settings, "disnaker", "disnaker_bpjstk", "accepted", "run-0")  # an earlier run's outcome does not count
    with pytest.raises(LoadsIncomplete) as exc:
        check_loads(settings, "2026-10", "run-1", found)
    assert "disnaker/disnaker_bpjstk" in str(exc.value) and "koperasi" not in str(exc.value)
    _batch(settings, "disnaker", "disnaker_bpjstk", "duplicate", "run-1")  # the cleared load, now unchanged
    assert check_loads(settings, "2026-10", "run-1", found) == {"accepted": 1, "rejected": 1, "duplicate": 1}
    assert check_loads(settings, "2026-10", "run-1", []) == {"accepted": 1, "rejected": 1, "duplicate": 1}


def test_failure_records_name_infrastructure_failures_not_rejections(settings):
    rec = dict(settings=settings, run_id="manual__2026-11-12")
    record_failure(**rec, task_id="load_submission", map_index=3, error_type="Rejected", error="ditolak",
                   kind="rejected", period="2026-10")
    assert run_failures(settings, "manual__2026-11-12") == []
    record_failure(**rec, task_id="check_loads", error_type="Infrastructure", error="gate", kind="gate")
    assert [f["task_id"] for f in run_failures(settings, "manual__2026-11-12")] == ["check_loads"]
    record_failure(**rec, task_id="discover", error_type="OperationalError", error="db down")
    record_failure(**rec, task_id="discover", error_type="ConnectionRefusedError", error="refused")
    failures = run_failures(settings, "manual__2026-11-12")
    assert [(f["task_id"], f["error"]) for f in failures] == [("discover", "refused")]
    assert failures[0]["what"].startswith("zona landing")
    steps = resume_steps("tkpk_monthly", "manual__2026-11-12", "2026-10", failures)
    assert any("tugas discover" in s and "Clear" in s for s in steps)
    assert any("""airflow dags trigger tkpk_monthly --conf '{"period": "2026-10"}'""" in s for s in steps)
    assert run_failures(settings, "another-run") == []


def test_a_retried_resolve_period_audits_a_retrigger_once(settings):
    for _ in range(2):
        start_run(settings, run_id="manual__x", dag_id="tkpk_monthly", logical_date=datetime(2026, 11, 12, tzinfo=UTC),
                  period="2026-10", opd=None, triggered_by="steward")
    with session_scope(settings.database_url) as s:
        assert len(s.query(AuditLog).filter_by(action="retrigger").all()) == 1


def _outbox(path):
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(path.glob("*.eml"))]


def test_an_alert_kept_while_smtp_is_down_is_delivered_once_later(settings, tmp_path):
    from tkpk.notify import SendFailed, SmtpSettings, send_failure_alert
    from tkpk.notify.alert import flush_pending_alerts
    from tkpk.notify.mailsink import MailSink, free_port

    port = free_port()
    smtp = SmtpSettings(host="127.0.0.1", port=port, retries=1, backoff=0.01)
    with pytest.raises(SendFailed):
        send_failure_alert(settings, smtp, dag_id="tkpk_monthly", task_id="send_reports", period="2026-10",
                           error="SMTP down", run_id="r1",
                           failures=[{"task_id": "send_reports", "what": "server e-mail", "error": "SMTP down"}])
    assert len(list((settings.var_dir / "alerts" / "pending").glob("*.eml"))) == 2
    assert flush_pending_alerts(settings, smtp) == 0  # still down: kept
    sink_dir = tmp_path / "sink"
    with MailSink(sink_dir, port=port):
        assert flush_pending_alerts(settings, smtp) == 2
        assert flush_pending_alerts(settings, smtp) == 0
        # the same failure alerted again (a re-run failing the same way) is recognised as already delivered
        send_failure_alert(settings, smtp, dag_id="tkpk_monthly", task_id="send_reports", period="2026-10",
                           error="SMTP down", run_id="r1",
                           failures=[{"task_id": "send_reports", "what": "server e-mail", "error": "SMTP down"}])
    msgs = _outbox(sink_dir)
    assert len(msgs) == 2 and len({m["Delivered-To"] for m in msgs}) == 2
    body = msgs[0].get_body(("plain",)).get_content()
    assert "server e-mail" in body and "BELUM dikirim" in body


def test_deadline_alert_only_while_the_month_has_not_finished(settings, tmp_path):
    from tkpk.notify import SmtpSettings
    from tkpk.notify.mailsink import MailSink
    from tkpk.warehouse.models import PipelineRun

    with MailSink(tmp_path / "sink") as sink:
        smtp = SmtpSettings(host="127.0.0.1", port=sink.port, backoff=0.01)
        assert overdue_alert(settings, smtp, period="2026-10", finish_by_hour=17)  # no run at all
        assert overdue_alert(settings, smtp, period="2026-10", finish_by_hour=17)  # the same alert: not resent
        start_run(settings, run_id="scheduled__2026-11-10", dag_id="tkpk_monthly",
                  logical_date=datetime(2026, 11, 10, tzinfo=UTC), period=None, opd=None)
        assert overdue_alert(settings, smtp, period="2026-10", finish_by_hour=17)  # still running: a new alert
        with session_scope(settings.database_url) as s:
            s.get(PipelineRun, "scheduled__2026-11-10").state = "finished"
        assert not overdue_alert(settings, smtp, period="2026-10", finish_by_hour=17)
    msgs = _outbox(tmp_path / "sink")
    assert len(msgs) == 4  # two alerts, one per steward each
    assert "Oktober 2026" in msgs[0]["Subject"]
    bodies = [m.get_body(("plain",)).get_content() for m in msgs]
    assert "17.00 WIB (belum dimulai)" in bodies[0] and "masih berjalan" in bodies[-1]


def test_landing_connection_rules(monkeypatch):
    import json

    import tkpk_airflow

    monkeypatch.delenv("AIRFLOW_CONN_TKPK_LANDING", raising=False)
    assert tkpk_airflow.landing_storage_options("file:///srv/landing") == {}
    with pytest.raises(tkpk_airflow.LandingConnectionMissing):
        tkpk_airflow.landing_storage_options("s3://tkpk-landing/")
    monkeypatch.setenv("AIRFLOW_CONN_TKPK_LANDING", json.dumps({
        "conn_type": "aws", "login": "k", "password": "s",
        "extra": {"endpoint_url": "http://minio:9000", "region_name": "ap-southeast-3"}}))
    assert tkpk_airflow.landing_storage_options("s3://tkpk-landing/") == {
        "key": "k", "secret": "s",
        "client_kwargs": {"endpoint_url": "http://minio:9000", "region_name": "ap-southeast-3"}}


def test_the_deadline_check_runs_at_finish_by_hour_on_the_run_day():
    from tkpk.schedule import deadline_cron

    assert deadline_cron() == "0 17 10 * *"  # opds.yaml: schedule_day 10, finish_by_hour 17 (WIB)
