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


def test_lock_files_and_replaced_files_are_not_a_delivery_for_reminders_discover_or_status(
        tmp_path, sqlite_warehouse, config):
    """One rule for "received" (tkpk.ingest.landing.received_files): an Excel/LibreOffice lock file, a file moved to
    `_diganti/` by `tkpk submit --replace` or folder metadata is no delivery for the reminders, for `discover` and
    for `tkpk status`; a real file (even one whose name starts with a dot) is one for all three."""
    from tkpk.ingest import discover
    from tkpk.status import submission_matrix

    s = _settings(tmp_path, sqlite_warehouse)
    month = tmp_path / "landing" / "2026-10"
    for opd in ("dinsos", "disnaker", "dinkes", "disdik", "disdukcapil"):
        (month / opd).mkdir(parents=True)
    (month / "dinsos" / "kpm_oktober.xlsx").write_bytes(b"x")  # delivered
    (month / "disnaker" / ".~lock.bpjstk.xlsx#").write_bytes(b"lock")  # LibreOffice lock file
    (month / "disnaker" / "~$bpjstk.xlsx").write_bytes(b"lock")  # Excel lock file
    (month / "dinkes" / "_diganti").mkdir()
    (month / "dinkes" / "_diganti" / "20261101T080000_bumil.xlsx").write_bytes(b"old")  # replaced earlier
    (month / "disdik" / ".DS_Store").write_bytes(b"meta")
    (month / "disdukcapil" / ".rekap.csv").write_bytes(b"x")  # a real file with a dot name: delivered

    due = {d["opd_code"] for d in due_reminders(s, date(2026, 11, 3), config)}
    assert due == {"disnaker", "dinkes", "disdik"}

    # Before discover ran, `tkpk status` already sees the same deliveries in the landing zone.
    before = {r["opd_code"]: r for r in submission_matrix(s.database_url, "2026-10", settings=s)["submissions"]}
    assert {o for o, r in before.items() if r["state"] == "received"} == {"dinsos", "disdukcapil"}
    assert before["dinsos"]["required"] is True and before["dinsos"]["files"] == 1

    found = discover(s, "2026-10")
    with_contacts = {o.code for o in config.opds.opds if o.required and o.contacts}
    # the day-5 OPDs are the ones in the window on 3 November; discover agrees with the reminders on each of them
    window = {"dinsos", "disnaker", "dinkes", "disdik", "disdukcapil"} & with_contacts
    missing = {f["opd_code"] for f in found if f["state"] == "missing" and f["opd_code"] in window}
    assert missing == due
    matrix = {r["opd_code"]: r["state"] for r in submission_matrix(s.database_url, "2026-10", settings=s)["submissions"]}
    assert {o for o in window if matrix[o] == "missing"} == due
    assert {o for o in window if matrix[o] == "received"} == {"dinsos", "disdukcapil"}


def test_status_still_shows_the_warehouse_when_the_landing_zone_cannot_be_read(tmp_path, sqlite_warehouse,
                                                                               monkeypatch):
    from tkpk.ingest import landing
    from tkpk.ingest.errors import LandingUnreadable
    from tkpk.status import format_matrix, submission_matrix

    s = _settings(tmp_path, sqlite_warehouse)

    def unreadable(*_args, **_kwargs):
        raise LandingUnreadable("sftp://landing.example/2026-10", PermissionError(13, "denied"))

    monkeypatch.setattr(landing, "opd_folders", unreadable)
    matrix = submission_matrix(s.database_url, "2026-10", settings=s)
    assert matrix["submissions"] == [] and "tidak dapat dibaca (akses ditolak)" in matrix["landing_error"]
    assert "Status di atas hanya dari gudang data." in format_matrix(matrix)
