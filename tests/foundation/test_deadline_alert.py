"""The day-10 deadline alert tells a month that is still working from a month that waits for the steward's sign-off
(`approve_reports`, awaiting input): each gets its own words and its own next steps. The warehouse knows both as a
running run; which one it is comes from Airflow, asked by tkpk_monthly_deadline."""

from __future__ import annotations

import email
import importlib.util
import json
import os
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest

from tkpk.pipeline import overdue_alert, start_run
from tkpk.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
RUN = "scheduled__2026-11-10"


@pytest.fixture
def settings(sqlite_warehouse, tmp_path) -> Settings:
    s = Settings.from_env(database_url=sqlite_warehouse, var_dir=tmp_path / "var", outbox_dir=tmp_path / "out",
                          reports_dir=tmp_path / "reports")
    start_run(s, run_id=RUN, dag_id="tkpk_monthly", logical_date=datetime(2026, 11, 10, tzinfo=UTC), period=None,
              opd=None)
    return s


def _manifest(settings, run_id: str, built: datetime) -> None:
    path = Path(settings.reports_dir) / "2026-10" / "manifest.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"period": "2026-10", "run_id": run_id, "reports": []}), encoding="utf-8")
    os.utime(path, (built.timestamp(), built.timestamp()))


def _alert(settings, tmp_path, *, waiting: bool, **kw) -> tuple[email.message.EmailMessage, str, list[str]]:
    from tkpk.notify import SmtpSettings
    from tkpk.notify.mailsink import MailSink

    asked = []

    def status(run_id):
        asked.append(run_id)
        return "awaiting_approval" if waiting else None

    with MailSink(tmp_path / "sink") as sink:
        smtp = SmtpSettings(host="127.0.0.1", port=sink.port, backoff=0.01)
        assert overdue_alert(settings, smtp, period="2026-10", finish_by_hour=17, airflow_status=status, **kw)
    msg = email.message_from_bytes(sorted((tmp_path / "sink").glob("*.eml"))[0].read_bytes(), policy=policy.default)
    return msg, msg.get_body(("plain",)).get_content(), asked


def test_a_month_still_working_is_called_running(settings, tmp_path):
    msg, text, asked = _alert(settings, tmp_path, waiting=False)
    assert asked == [RUN]
    assert msg["Subject"] == "[TKPK Kota Jambi] Terlambat: tkpk_monthly / belum_selesai Oktober 2026"
    assert "belum selesai pada pukul 17.00 WIB (masih berjalan); laporan belum terkirim" in text
    assert "persetujuan" not in text
    assert "GAGAL" not in text and "Kesalahan" not in text  # late is not failed
    html = msg.get_body(("html",)).get_content()
    assert ">gagal<" not in html and "Keadaan" in html


def test_a_failed_month_has_alerted_already(settings, tmp_path):
    """A run that failed stays "running" in the warehouse; Airflow knows it failed, and its failure callback sent
    the run's one alert: the deadline adds none."""
    from tkpk.notify import SmtpSettings
    from tkpk.notify.mailsink import MailSink

    with MailSink(tmp_path / "sink") as sink:
        smtp = SmtpSettings(host="127.0.0.1", port=sink.port, backoff=0.01)
        assert not overdue_alert(settings, smtp, period="2026-10", finish_by_hour=17,
                                 airflow_status=lambda run_id: "failed")
    assert not list((tmp_path / "sink").glob("*.eml"))


def test_a_month_waiting_for_the_sign_off_says_so_and_what_to_do(settings, tmp_path):
    _manifest(settings, RUN, datetime(2026, 11, 10, 2, 12, tzinfo=UTC))  # 09.12 WIB
    msg, text, asked = _alert(settings, tmp_path, waiting=True, airflow_url="https://tkpk.jambikota.example/")
    assert asked == [RUN]
    assert msg["Subject"] == ("[TKPK Kota Jambi] Menunggu persetujuan: tkpk_monthly / menunggu_persetujuan "
                              "Oktober 2026")
    flat = " ".join(text.split())
    assert ("Laporan periode 2026-10 sudah dibuat tetapi belum terkirim pada pukul 17.00 WIB: run tkpk_monthly "
            "menunggu persetujuan pengiriman oleh steward sejak 10 November 2026 pukul 09.12 WIB.") in flat
    assert "masih berjalan" not in flat and "gangguan infrastruktur" not in flat
    assert "https://tkpk.jambikota.example/tkpk/laporan?period=2026-10" in flat
    assert f"Required actions (atau DAG tkpk_monthly > run {RUN} > tugas approve_reports)" in flat
    # accounts.yaml: 48 hours, default reject
    assert ("Tanpa jawaban sampai 12 November 2026 pukul 09.12 WIB, berlaku pilihan bawaan (Reject: tidak ada "
            "laporan yang terkirim") in flat


def test_without_this_runs_reports_the_wait_has_no_start_time(settings, tmp_path):
    _manifest(settings, "scheduled__2026-10-10", datetime(2026, 10, 10, 2, 0, tzinfo=UTC))  # an older run's
    _msg, text, _ = _alert(settings, tmp_path, waiting=True)
    flat = " ".join(text.split())
    assert "menunggu persetujuan pengiriman oleh steward." in flat and "sejak" not in flat
    assert "halaman TKPK > Laporan: /tkpk/laporan?period=2026-10" in flat and "Tanpa jawaban dalam 48 jam" in flat


class _TI:
    def __init__(self, states=None, error=None, run_state="running"):
        self.states, self.error, self.run_state, self.asked = states, error, run_state, []

    def get_dagrun_state(self, **kw):
        if self.error:
            raise self.error
        return self.run_state

    def get_task_states(self, **kw):
        self.asked.append(kw)
        if self.error:
            raise self.error
        return self.states


def test_the_deadline_dag_asks_airflow_for_the_run_and_the_sign_off_task():
    spec = importlib.util.spec_from_file_location("tkpk_monthly_deadline_dag", ROOT / "dags" /
                                                  "tkpk_monthly_deadline.py")
    dag_file = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dag_file)
    ti = _TI({RUN: {"approve_reports": "awaiting_input"}})
    assert dag_file.run_status(ti, RUN) == "awaiting_approval"
    assert ti.asked == [{"dag_id": "tkpk_monthly", "task_ids": ["approve_reports"], "run_ids": [RUN]}]
    assert dag_file.run_status(_TI({RUN: {"approve_reports": "success"}}), RUN) is None
    assert dag_file.run_status(_TI({}), RUN) is None  # approval switched off: no such task
    assert dag_file.run_status(_TI({}, run_state="failed"), RUN) == "failed"
    assert dag_file.run_status(_TI(error=RuntimeError("api down")), RUN) is None  # falls back to "running"
