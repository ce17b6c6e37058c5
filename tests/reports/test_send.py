"""Delivery through a real SMTP server (aiosmtpd on localhost), parsed back with Python's `email` package: MIME
structure, CID images, XLSX attachments, privacy, exact subjects, and exactly-once sending with the send log."""

from __future__ import annotations

import email
import io
import json
import re
import shutil
from collections import Counter
from email import policy
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from .conftest import PERIOD, settings_for
from .fixtures import change_targeting

SIXTEEN = re.compile(r"(?<!\d)\d{16}(?!\d)")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _smtp(port: int, **kw):
    from tkpk.notify import SmtpSettings

    return SmtpSettings(host="127.0.0.1", port=port, timeout=10, backoff=0.01, **kw)


def _send(settings, port: int, **kw) -> dict:
    from tkpk.notify import send_reports

    return send_reports(settings, PERIOD, _smtp(port), **kw)


def _parse(path: Path):
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def _messages(outbox: Path) -> list:
    return [_parse(p) for p in sorted(outbox.glob("*.eml"))]


def _send_log(settings):
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import SendLog

    with session_scope(settings.database_url) as s:
        return [(r.report, r.recipient, r.status, r.revision, r.message_id, r.content_hash)
                for r in s.scalars(select(SendLog).order_by(SendLog.send_id))]


def _expected_subjects(config) -> Counter:
    names = {"kecamatan:15.71.01": "Kecamatan Telanaipura", "kecamatan:15.71.03": "Kecamatan Jambi Timur",
             "kecamatan:15.71.09": "Kecamatan Alam Barajo", "kelurahan:15.71.01.1001": "Kelurahan Simpang IV Sipin",
             "kelurahan:15.71.03.1003": "Kelurahan Talang Banjar"}
    out = Counter()
    for r in config.recipients.recipients:
        title = "Laporan Bulanan" if r.scope == "kota" else f"Laporan Bulanan {names[r.scope]}"
        out[f"[TKPK Kota Jambi] {title} Oktober 2026"] += 1
    # Kelurahan that sent proposals get feedback too: Simpang IV Sipin its own operator, Talang Banjar (no contact
    # of its own) the Jambi Timur kecamatan operator.
    for short in ("Dinsos", "Disnaker", "Dinkes", "Disdik", "Perkim", "Pertanian", "Disdukcapil",
                  "Kelurahan Simpang IV Sipin", "Kelurahan Talang Banjar"):
        out[f"[TKPK Kota Jambi] Umpan Balik Data {short} Oktober 2026"] += 1
    return out


def _xlsx_text(blob: bytes) -> str:
    wb = openpyxl.load_workbook(io.BytesIO(blob))  # opens: a valid workbook
    return "\n".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None)


def test_messages_structure_subjects_and_privacy(fresh, built, config, monkeypatch):
    from tkpk.notify.mailsink import MailSink
    from tkpk.reports import lists

    pii_emails = {str(r.email) for r in config.recipients.recipients if r.pii}
    niks = set(built.truth.niks)
    written: Counter = Counter()
    real_workbook = lists.pii_workbook

    def counted(conn, sql_dir, data, config, scope, *args, **kwargs):
        written[scope.key] += 1
        return real_workbook(conn, sql_dir, data, config, scope, *args, **kwargs)

    monkeypatch.setattr(lists, "pii_workbook", counted)
    with MailSink(fresh.outbox_dir) as sink:
        result = _send(fresh, sink.port)
    msgs = _messages(fresh.outbox_dir)
    # one by-name workbook per report, the same bytes for each of its authorised recipients
    pii_scopes = Counter(r.scope for r in config.recipients.recipients if r.pii)
    assert written == Counter(dict.fromkeys(pii_scopes, 1))
    lists_by_report: dict[str, set[bytes]] = {}
    for m in msgs:
        for a in m.iter_attachments():
            if "Daftar_Nama" in a.get_filename():
                lists_by_report.setdefault(m["X-TKPK-Report"], set()).add(a.get_content())
    assert {k: len(v) for k, v in lists_by_report.items()} == dict.fromkeys(pii_scopes, 1)
    assert result["sent"] == len(msgs) == sum(_expected_subjects(config).values())
    assert Counter(str(m["Subject"]) for m in msgs) == _expected_subjects(config)
    assert len({m["Message-ID"] for m in msgs}) == len(msgs)
    full_nik_seen = 0
    for m in msgs:
        to = m["Delivered-To"]
        assert m.get_content_type() == "multipart/mixed"
        parts = list(m.iter_parts())
        assert parts[0].get_content_type() == "multipart/alternative"
        alt = list(parts[0].iter_parts())
        assert [p.get_content_type() for p in alt] == ["text/plain", "multipart/related"]
        related = list(alt[1].iter_parts())
        assert related[0].get_content_type() == "text/html"
        html, text = related[0].get_content(), alt[0].get_content()
        images = {p["Content-ID"].strip("<>"): p for p in related[1:]}
        assert all(p.get_content_type() == "image/png" and p.get_content().startswith(b"\x89PNG")
                   for p in images.values())
        cids = set(re.findall(r'src="cid:([^"]+)"', html))
        assert cids == set(images), m["Subject"]  # every cid: resolves, no image left unused
        if "Laporan Bulanan Oktober" in m["Subject"]:
            assert len(cids) == 6  # city summary: all four charts and the two maps (issue #12)
        attachments = parts[1:]
        assert attachments and all(a.get_content_type() == XLSX and a.get_filename().endswith(".xlsx")
                                   for a in attachments)
        for body in (html, text):
            assert not SIXTEEN.search(body) and not any(n in body for n in niks)
        assert "&#" not in text and "&amp;" not in text and "<" not in text  # plain text, not escaped HTML
        names = [a.get_filename() for a in attachments]
        for a in attachments:
            content = _xlsx_text(a.get_content())
            if "Daftar_Nama" in a.get_filename():
                assert to in pii_emails
                full_nik_seen += sum(1 for n in niks if n in content)
            else:
                assert not SIXTEEN.search(content), (to, a.get_filename())
        is_summary = m["X-TKPK-Report"] != "opd:" and not m["X-TKPK-Report"].startswith("opd:")
        if is_summary and to in pii_emails:
            assert any("Daftar_Nama" in n for n in names), to
        else:
            assert not any("Daftar_Nama" in n for n in names), to
    assert full_nik_seen > 0  # authorised recipients do get the by-name lists


def test_unchanged_rerun_sends_nothing(fresh):
    from tkpk.notify.mailsink import MailSink

    with MailSink(fresh.outbox_dir) as sink:
        first = _send(fresh, sink.port)
        second = _send(fresh, sink.port)
    assert second["sent"] == second["revisions"] == 0
    assert second["skipped"] == first["sent"]
    assert len(list(fresh.outbox_dir.glob("*.eml"))) == first["sent"]
    assert all(status == "sent" for _r, _t, status, *_ in _send_log(fresh))


def test_changed_report_goes_out_once_as_revisi(fresh, built, tmp_path):
    """A reload that changes Jelutung's figures: the city summary is re-sent once as REVISI, to its recipients only;
    reports whose data did not change (kecamatan, kelurahan, OPD feedback) keep their hash and are not re-sent.
    The rebuild replaces the period's directory as a whole."""
    from tkpk.notify.mailsink import MailSink
    from tkpk.reports import build_reports

    reports = tmp_path / "reports2"
    shutil.copytree(built.reports_dir, reports)
    stale = reports / PERIOD / "kelurahan-15.71.99.9999"
    stale.mkdir()
    with MailSink(fresh.outbox_dir) as sink:
        first = _send(fresh, sink.port)
        firsts = {(m["Delivered-To"], m["X-TKPK-Report"]): m["Message-ID"] for m in _messages(fresh.outbox_dir)}
        change_targeting(fresh.database_url, PERIOD, "15.71.08.1001")
        rebuilt = settings_for(fresh.database_url, reports, fresh.outbox_dir)
        again = build_reports(rebuilt, PERIOD)
        changed = {d["report"] for d, b in zip(again, built.descriptors, strict=True)
                   if (d["content_hash"], d["content_hash_pii"]) != (b["content_hash"], b["content_hash_pii"])}
        assert changed == {"kota"}
        assert not stale.exists() and not [p for p in reports.iterdir() if p.name.startswith(".")]
        before = set(fresh.outbox_dir.glob("*.eml"))
        second = _send(rebuilt, sink.port)
        third = _send(rebuilt, sink.port)
    new = [_parse(p) for p in sorted(set(fresh.outbox_dir.glob("*.eml")) - before)]
    kota_recipients = sum(1 for (_to, report) in firsts if report == "kota")
    assert second["revisions"] == len(new) == kota_recipients and second["sent"] == 0
    assert second["skipped"] == first["sent"] - kota_recipients
    assert third["revisions"] == third["sent"] == 0 and third["skipped"] == first["sent"]
    for m in new:
        assert m["Subject"] == "[REVISI] [TKPK Kota Jambi] Laporan Bulanan Oktober 2026"
        assert m["X-TKPK-Revision"] == "1"
        assert m["References"] == firsts[(m["Delivered-To"], "kota")]  # threads with the first copy
        assert m["Message-ID"] != m["References"]
        html = m.get_body(("html",)).get_content()
        assert "REVISI" in html and "REVISI" in m.get_body(("plain",)).get_content()
    rows = [r for r in _send_log(fresh) if r[0] == "kota"]
    assert sorted(r[3] for r in rows) == [0] * kota_recipients + [1] * kota_recipients
    # the REVISI names the headline figures that changed (old -> new), from the figures kept per sent version
    from tkpk.reports.figures import HEADLINE_LABELS
    from tkpk.reports.format import angka, rupiah

    old = next(d for d in built.descriptors if d["report"] == "kota")
    old_head = json.loads((built.reports_dir / PERIOD / "manifest.json").read_text())
    old_head = next(r for r in old_head["reports"] if r["report"] == "kota")["headline"]
    new_head = next(r for r in json.loads((reports / PERIOD / "manifest.json").read_text())["reports"]
                    if r["report"] == "kota")["headline"]
    changed_codes = [c for c in HEADLINE_LABELS if c in new_head and old_head[c] != new_head[c]]
    assert changed_codes and old["report"] == "kota"
    for m in new:
        text = m.get_body(("plain",)).get_content()
        assert "Angka utama yang berubah:" in text
        for code in changed_codes:
            fmt = rupiah if code.endswith("_rupiah") else angka
            assert f"{HEADLINE_LABELS[code]}: {fmt(old_head[code])} \u2192 {fmt(new_head[code])}" in text, code
        assert "Angka utama yang berubah" in m.get_body(("html",)).get_content()
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import SendLog

    with session_scope(fresh.database_url) as s:
        kept = [(r.revision, r.headline) for r in s.scalars(select(SendLog).where(SendLog.report == "kota"))]
    assert {json.dumps(h, sort_keys=True) for rev, h in kept if rev == 0} == {json.dumps(old_head, sort_keys=True)}
    assert {json.dumps(h, sort_keys=True) for rev, h in kept if rev == 1} == {json.dumps(new_head, sort_keys=True)}


def test_retry_after_crash_between_send_and_log(fresh, monkeypatch):
    """The task dies after the server accepted a message but before the log said so: the retry sends that one
    message again with the same Message-ID (the one duplicate DESIGN.md allows), every other message once."""
    import tkpk.notify.send as send_module
    from tkpk.notify.mailsink import MailSink

    real_finish = send_module._finish
    calls = {"n": 0}

    def crash_on_third(settings, row_id, status, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed")
        return real_finish(settings, row_id, status, **kw)

    with MailSink(fresh.outbox_dir) as sink:
        monkeypatch.setattr(send_module, "_finish", crash_on_third)
        with pytest.raises(RuntimeError, match="worker killed"):
            _send(fresh, sink.port)
        monkeypatch.setattr(send_module, "_finish", real_finish)
        assert sum(1 for r in _send_log(fresh) if r[2] == "sending") == 1
        retry = _send(fresh, sink.port)
        again = _send(fresh, sink.port)
    msgs = _messages(fresh.outbox_dir)
    ids = Counter(m["Message-ID"] for m in msgs)
    duplicated = [mid for mid, n in ids.items() if n > 1]
    assert len(duplicated) == 1 and ids[duplicated[0]] == 2
    assert retry["sent"] == len(ids) - 2  # the two logged before the crash are skipped
    assert again["sent"] == 0 and again["skipped"] == len(ids)
    assert all(r[2] == "sent" for r in _send_log(fresh))
    assert len(_send_log(fresh)) == len(ids)


def test_refused_recipient_is_logged_and_others_continue(fresh):
    from tkpk.notify.mailsink import MailSink

    refused = "camat.telanaipura@jambikota.example"
    with MailSink(fresh.outbox_dir, refuse={refused}) as sink:
        result = _send(fresh, sink.port)
    assert result["refused"] == 1 and result["refused_reports"] == ["kecamatan:15.71.01"]
    delivered = {m["Delivered-To"] for m in _messages(fresh.outbox_dir)}
    assert refused not in delivered and len(delivered) > 10
    log = _send_log(fresh)
    assert [r[2] for r in log if r[1] == refused] == ["refused"]
    assert all(r[2] == "sent" for r in log if r[1] != refused)
    with MailSink(fresh.outbox_dir) as sink:  # the address is fixed on the server side: the next run delivers it
        again = _send(fresh, sink.port)
    assert again["sent"] == 1 and again["skipped"] == result["sent"]


def test_transient_failures_are_retried_with_backoff(fresh):
    from tkpk.notify.mailsink import MailSink
    from tkpk.notify.send import send_reports
    from tkpk.notify.smtp import SmtpClient

    with MailSink(fresh.outbox_dir, fail_first=2) as sink:
        sleeps: list[float] = []
        client = SmtpClient(_smtp(sink.port, retries=3), sleep=sleeps.append)
        with client:
            result = send_reports(fresh, PERIOD, _smtp(sink.port), client=client)
    assert sink.handler.temporary_failures == 2
    assert result["sent"] == len(_messages(fresh.outbox_dir))
    assert client.attempts == result["sent"] + 2
    assert sleeps == [0.01, 0.02]  # exponential backoff


def test_server_down_fails_the_task_then_retry_sends_the_rest(fresh):
    from tkpk.notify import SendFailed, send_reports
    from tkpk.notify.mailsink import MailSink, free_port

    dead = free_port()
    with pytest.raises(SendFailed, match="tidak dapat dihubungi"):
        send_reports(fresh, PERIOD, _smtp(dead, retries=1))
    assert [r[2] for r in _send_log(fresh)] == ["failed"]
    with MailSink(fresh.outbox_dir) as sink:
        result = _send(fresh, sink.port)
    assert result["sent"] == len(_messages(fresh.outbox_dir))
    assert Counter(r[2] for r in _send_log(fresh)) == Counter({"sent": result["sent"], "failed": 1})


def test_resend_sends_one_more_copy_per_run_and_is_audited(fresh):
    from tkpk.notify.mailsink import MailSink
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import AuditLog

    with MailSink(fresh.outbox_dir) as sink:
        first = _send(fresh, sink.port)
        resent = _send(fresh, sink.port, resend=True, run_id="manual__1", actor="steward")
        retried = _send(fresh, sink.port, resend=True, run_id="manual__1", actor="steward")
    assert resent["resent"] == first["sent"] and retried["resent"] == 0
    msgs = _messages(fresh.outbox_dir)
    assert len(msgs) == 2 * first["sent"]
    assert len({m["Message-ID"] for m in msgs}) == len(msgs)  # a deliberate resend is a new message
    assert not any(str(m["Subject"]).startswith("[REVISI]") for m in msgs)
    with session_scope(fresh.database_url) as s:
        audits = s.scalars(select(AuditLog).where(AuditLog.action == "resend")).all()
        assert len(audits) == 1 and audits[0].actor == "steward" and audits[0].details["messages"] == first["sent"]


def test_failure_alert(fresh, config):
    from tkpk.notify import send_failure_alert
    from tkpk.notify.mailsink import MailSink

    error = ("Traceback (most recent call last):\n  File \"x.py\", line 1\n"
             "ValueError: baris 7: NIK 1571015505800001 dan KK 1571011503150001 tidak cocok")
    with MailSink(fresh.outbox_dir) as sink:
        send_failure_alert(fresh, _smtp(sink.port), dag_id="tkpk_monthly", task_id="load", period=PERIOD,
                           error=error, run_id="scheduled__2026-11-10", log_url="http://airflow.local/log/1")
    msgs = _messages(fresh.outbox_dir)
    assert {m["Delivered-To"] for m in msgs} == {str(s.email) for s in config.opds.stewards}
    for m in msgs:
        assert m["Subject"] == "[TKPK Kota Jambi] Gagal: tkpk_monthly / load Oktober 2026"
        text = m.get_body(("plain",)).get_content()
        html = m.get_body(("html",)).get_content()
        for body in (text, html):
            assert "157101******0001" in body
            assert not SIXTEEN.search(body)
            assert "Traceback" not in body  # the error in one line
            assert "Clear" in body and "period" in body and "opd" in body
    assert [r[2] for r in _send_log(fresh)] == ["sent", "sent"]


def test_failure_alert_rerun_command_names_the_failed_opd(fresh):
    """The alert's re-run command used to say "opd": "disnaker" whatever failed (hard-coded in the templates)."""
    from tkpk.notify import send_failure_alert
    from tkpk.notify.mailsink import MailSink
    from tkpk.pipeline import resume_steps

    # what the task failure callback records for a failed mapped load (its map index "dinkes/dinkes_ibu_hamil")
    failures = [{"task_id": "load_submission", "what": "gudang data tidak dapat dihubungi",
                 "error": "OperationalError: connection refused", "opd": "dinkes",
                 "submission_type": "dinkes_ibu_hamil"}]
    with MailSink(fresh.outbox_dir) as sink:
        send_failure_alert(fresh, _smtp(sink.port), dag_id="tkpk_monthly", task_id="load_submission",
                           period=PERIOD, error=failures[0]["error"], run_id="manual__1", failures=failures,
                           resume=resume_steps("tkpk_monthly", "manual__1", PERIOD, failures))
    msgs = _messages(fresh.outbox_dir)
    assert msgs
    for m in msgs:
        for body in (m.get_body(("plain",)).get_content(), m.get_body(("html",)).get_content()):
            assert "disnaker" not in body
            assert '"opd": "dinkes"' in body.replace("&#34;", '"').replace("&quot;", '"')
            assert "dinkes_ibu_hamil" in body and f'"period": "{PERIOD}"' in body.replace("&#34;", '"').replace(
                "&quot;", '"')


def test_smtp_settings_from_airflow_connection():
    from tkpk.notify import SmtpSettings

    class Conn:
        host, port, login, password = "mail.example", 2525, "u", "rahasia"
        extra_dejson = {"disable_ssl": "true", "disable_tls": False, "from_email": "tkpk@x.example", "timeout": 5}

    s = SmtpSettings.from_connection(Conn())
    assert (s.host, s.port, s.use_ssl, s.starttls, s.sender, s.timeout) == ("mail.example", 2525, False, True,
                                                                              "tkpk@x.example", 5.0)
    assert "rahasia" not in repr(s)

    class Sink(Conn):
        extra_dejson = {"disable_ssl": True, "disable_tls": True}

    s = SmtpSettings.from_connection(Sink())
    assert not s.use_ssl and not s.starttls
    Conn.extra_dejson = {}
    assert SmtpSettings.from_connection(Conn()).use_ssl  # the provider's default: SSL


@pytest.mark.postgres
def test_send_log_on_postgres(pg_url, tmp_path, config):
    """Build and send from a PostgreSQL warehouse; a re-run sends nothing."""
    from tkpk.notify.mailsink import MailSink
    from tkpk.reports import build_reports
    from tkpk.warehouse import upgrade

    from .fixtures import fill_warehouse

    upgrade(pg_url)
    fill_warehouse(pg_url)
    settings = settings_for(pg_url, tmp_path / "reports", tmp_path / "outbox")
    descriptors = build_reports(settings, PERIOD, run_id="pg")
    with MailSink(settings.outbox_dir) as sink:
        first = _send(settings, sink.port, run_id="pg")
        second = _send(settings, sink.port, run_id="pg")
    assert first["sent"] == sum(d["recipients"] for d in descriptors) == len(_messages(settings.outbox_dir))
    assert second["skipped"] == first["sent"] and second["sent"] == 0


def test_lists_too_large_for_the_server_go_without_the_attachment_and_say_so(built, tmp_path, caplog):
    """A mail server refuses a message over the SIZE it advertises (552): the report must still go out, without
    the by-name attachment, saying why and how the list is handed over; nothing else changes."""
    from tkpk.notify.mailsink import MailSink
    from tkpk.notify.send import wire_size

    from .conftest import copy_sqlite

    def fresh_copy(name: str):
        db = tmp_path / f"{name}.db"
        copy_sqlite(built.db, db)
        return settings_for(f"sqlite:///{db}", built.reports_dir, tmp_path / name)

    roomy = fresh_copy("roomy")
    with MailSink(roomy.outbox_dir) as sink:
        _send(roomy, sink.port)
    before = {(m["X-TKPK-Report"], str(m["Delivered-To"])): (wire_size(m.as_bytes()), m)
              for m in _messages(roomy.outbox_dir)}
    with_lists = {k for k, (_n, m) in before.items()
                  if any("Daftar_Nama" in (a.get_filename() or "") for a in m.iter_attachments())}
    limit = max(n for k, (n, _m) in before.items() if k not in with_lists) + 1024
    too_large = {k for k in with_lists if before[k][0] > limit}
    assert too_large and too_large != with_lists  # both outcomes occur, or the test proves nothing

    tight = fresh_copy("tight")
    with caplog.at_level("WARNING", logger="tkpk.notify.send"), \
            MailSink(tight.outbox_dir, data_size_limit=limit) as sink:
        result = _send(tight, sink.port)
    after = {(m["X-TKPK-Report"], str(m["Delivered-To"])): m for m in _messages(tight.outbox_dir)}
    assert result["sent"] == len(after) == len(before) and result["refused"] == 0
    assert set(after) == set(before)
    for key, m in after.items():
        names = [a.get_filename() for a in m.iter_attachments()]
        plain = [n for n in names if "Daftar_Nama" not in n]
        assert plain == [a.get_filename() for a in before[key][1].iter_attachments()
                         if "Daftar_Nama" not in a.get_filename()]
        html = m.get_body(("html",)).get_content()
        text = m.get_body(("plain",)).get_content()
        if key in too_large:
            assert len(plain) == len(names)  # the by-name list is left out ...
            assert "Daftar nama tidak dilampirkan" in html and "DAFTAR NAMA TIDAK DILAMPIRKAN" in text
            assert "tkpk report lists" in text  # ... and the message says how it is handed over
            assert wire_size(m.as_bytes()) <= limit
        else:
            assert ("Daftar_Nama" in " ".join(names)) == (key in with_lists)
            assert "tidak dilampirkan" not in html.lower()
    warned = [r.getMessage() for r in caplog.records if "melebihi batas e-mail" in r.getMessage()]
    assert len(warned) == len(too_large)
    assert not any(SIXTEEN.search(w) for w in warned)


def test_report_lists_cli_exports_the_by_name_workbook_and_audits_it(fresh, built, tmp_path):
    from tkpk.cli import main
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import AuditLog

    out = tmp_path / "daftar.xlsx"
    code = main(["report", "lists", "--period", PERIOD, "--scope", "kecamatan:15.71.01", "--out", str(out),
                 "--actor", "steward-uji", "--database-url", fresh.database_url])
    assert code == 0
    content = _xlsx_text(out.read_bytes())
    assert sum(1 for n in built.truth.niks if n in content) > 0  # full NIKs: this is the by-name list
    with session_scope(fresh.database_url) as s:
        entries = [(a.actor, a.action, a.details.get("scope")) for a in s.scalars(select(AuditLog))]
    assert ("steward-uji", "export_lists", "kecamatan:15.71.01") in entries
    assert main(["report", "lists", "--period", PERIOD, "--scope", "pulau", "--out", str(out),
                 "--database-url", fresh.database_url]) == 1
