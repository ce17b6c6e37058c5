"""Deadline reminders (issue 7 item 8): who is reminded, when, once, with a copy to stewards, over real SMTP."""

from __future__ import annotations

import email
from datetime import date
from email import policy

from tkpk.notify.mailsink import MailSink
from tkpk.notify.smtp import SmtpSettings
from tkpk.reminders import due_reminders, send_reminders
from tkpk.settings import Settings


def _settings(tmp_path, url):
    return Settings.from_env(database_url=url, landing_url=(tmp_path / "landing").as_uri(),
                             outbox_dir=tmp_path / "outbox", reports_dir=tmp_path / "reports", var_dir=tmp_path)


def test_due_window_and_sent_files(tmp_path, sqlite_warehouse, config):
    s = _settings(tmp_path, sqlite_warehouse)
    (tmp_path / "landing" / "2026-10" / "disnaker").mkdir(parents=True)
    (tmp_path / "landing" / "2026-10" / "disnaker" / "bpjstk.xlsx").write_bytes(b"x")
    # deadline day 5: the window is 2..5 November; day-7 OPDs (perkim, koperasi, pertanian) are not due yet
    due = {d["opd_code"] for d in due_reminders(s, date(2026, 11, 2), config)}
    assert due == {"dinsos", "dinkes", "disdik", "disdukcapil"}
    assert {d["opd_code"] for d in due_reminders(s, date(2026, 11, 4), config)} == due | {"perkim", "koperasi",
                                                                                          "pertanian"}
    assert due_reminders(s, date(2026, 11, 1), config) == []
    assert {d["opd_code"] for d in due_reminders(s, date(2026, 11, 6), config)} == {"perkim", "koperasi", "pertanian"}
    assert due_reminders(s, date(2026, 11, 8), config) == []


def test_reminders_sent_once_with_copy_to_stewards(tmp_path, sqlite_warehouse, config):
    s = _settings(tmp_path, sqlite_warehouse)
    with MailSink(tmp_path / "outbox") as sink:
        smtp = SmtpSettings(host="127.0.0.1", port=sink.port)
        first = send_reminders(s, smtp, date(2026, 11, 3), config=config)
        again = send_reminders(s, smtp, date(2026, 11, 4), config=config)  # next day: the day-5 OPDs are done
    stewards = len(config.opds.stewards)
    assert first == {"due": 5, "sent": 5 * (1 + stewards), "skipped": 0, "refused": 0}
    assert again["sent"] == 3 * (1 + stewards) and again["skipped"] == 5 * (1 + stewards)
    messages = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
                for p in sorted((tmp_path / "outbox").glob("*.eml"))]
    disnaker = [m for m in messages if "Dinas Tenaga Kerja" in m["Subject"]]
    assert disnaker and disnaker[0]["Subject"] == "[TKPK Kota Jambi] Pengingat Data Dinas Tenaga Kerja Oktober 2026"
    assert str(config.opds.stewards[0].email) in disnaker[0]["Cc"]
    body = disnaker[0].get_body(preferencelist=("plain",)).get_content()
    assert "5 November 2026" in body and "disnaker_bpjstk" in body and "2 hari lagi" in body
    # the same message id for a copy to a steward and the next day's (skipped) attempt: deterministic
    assert len({m["Message-ID"] for m in messages}) == len(messages)
