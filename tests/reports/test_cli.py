"""`tkpk mailsink` as a real process, and `tkpk report send` from the command line."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

from .conftest import PERIOD

ROOT = Path(__file__).resolve().parents[2]


def test_mailsink_command_saves_eml_and_stops_on_sigterm(tmp_path):
    outbox, port_file = tmp_path / "outbox", tmp_path / "port"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "plugins"))
    proc = subprocess.Popen([sys.executable, "-m", "tkpk", "mailsink", "--port", "0", "--outbox", str(outbox),
                             "--port-file", str(port_file)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "mailsink did not start"
            time.sleep(0.1)
        port = int(port_file.read_text())
        msg = EmailMessage()
        msg["Subject"], msg["From"], msg["To"] = "uji", "a@jambikota.example", "b@jambikota.example"
        msg.set_content("halo")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.send_message(msg)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert f"127.0.0.1:{port}" in out and "1 e-mail diterima" in out
    files = list(outbox.glob("*.eml"))
    assert len(files) == 1
    text = files[0].read_text()
    assert "Delivered-To: b@jambikota.example" in text and "Subject: uji" in text


def test_report_send_command(fresh, monkeypatch, capsys):
    from tkpk.cli import main
    from tkpk.notify.mailsink import MailSink

    monkeypatch.setenv("TKPK_DATABASE_URL", fresh.database_url)
    monkeypatch.setenv("TKPK_REPORTS_DIR", str(fresh.reports_dir))
    with MailSink(fresh.outbox_dir) as sink:
        monkeypatch.setenv("TKPK_SMTP_PORT", str(sink.port))
        assert main(["report", "send", "--period", PERIOD]) == 0
        first = capsys.readouterr().out
        assert main(["report", "send", "--period", PERIOD]) == 0
        second = capsys.readouterr().out
    sent = len(list(fresh.outbox_dir.glob("*.eml")))
    assert f"{sent} terkirim" in first and "0 terkirim" in second and f"{sent} tidak berubah" in second
    assert main(["report", "send", "--period", "2019-01"]) == 1  # not built: a usage error, said in Indonesian
    assert "belum dibuat" in capsys.readouterr().err
    assert main(["report", "build", "--period", "2026-13"]) == 1
