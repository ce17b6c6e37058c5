"""Personal data and credentials after a full month (issue 8, item 4).

Run A (fixture `month`: the synthetic month through every stage, e-mails to a local SMTP sink; registry NIKs added
in every written form - spaced, dotted, dashed, underscored, 17 digits, inside names, dates and file names, see
`month.add_written_niks`) is scanned for unmasked NIK / No KK in: every log record (other libraries' DEBUG records
aside), the stage return values (what XCom would hold),
the rendered reports under `reports_dir` (HTML, text, JSON, XLSX), the rejection messages, and every e-mail body and
every attachment of recipients without `pii: true`. The scanner is shown to work on the places where full NIKs must
live (archived raw files, the by-name attachments of `pii: true` recipients, the warehouse). Database and SMTP
passwords never appear in logs, results, exceptions or e-mails.
"""

from __future__ import annotations

import email
import io
import json
import re
import zipfile
from email import policy
from pathlib import Path

import pytest

from tests.reliability.conftest import PERIOD, ROOT, SIXTEEN, make_settings, put
from tests.reliability.month import LogCapture
from tests.reliability.rows import RowMaker, csv_bytes, table

MONTH_GROUP = pytest.mark.xdist_group("reliability-month")


def registry_numbers(synth: Path) -> set[str]:
    import csv

    out = set()
    with open(synth / "registry" / "persons.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out.update(v for v in (row["nik"], row["no_kk"]) if v)
    return out


def xlsx_text(blob: bytes) -> str:
    """Every cell value and the raw shared strings of a workbook (nothing hides in a hidden sheet)."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(blob), read_only=True)
    cells = [str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        raw = [zf.read(n).decode("utf-8", "replace") for n in zf.namelist() if n.endswith(".xml")]
    return "\n".join(cells + raw)


# 16 digits not inside a longer number, and not the fraction of a decimal number (0.5349999999999999)
CANDIDATE = re.compile(r"(?<!\d)(?<!\d[.,])\d{16}(?!\d)")


def found(text: str, niks: set[str]) -> list[str]:
    """Unmasked 16-digit numbers, and any registry NIK/KK anywhere in the text, also written with separators
    (1571 0101 ...) or inside a longer run of digits."""
    hits = CANDIDATE.findall(text)
    compact = re.sub(r"(?<=\d)[ .\-_/]{1,3}(?=\d)", "", text)
    windows = set(re.findall(r"(?=(\d{16}))", compact))
    hits += sorted(windows & niks)
    return hits


def _messages(outbox: Path):
    for path in sorted(outbox.glob("*.eml")):
        yield path, email.message_from_bytes(path.read_bytes(), policy=policy.default)


def _pii_recipients(settings) -> dict[tuple[str, str], bool]:
    from tkpk.reports.build import load_manifest

    manifest = load_manifest(settings, PERIOD)
    return {(e["report"], r["email"]): bool(r.get("pii")) for e in manifest["reports"] for r in e["recipients"]}


@MONTH_GROUP
def test_no_unmasked_nik_in_logs_results_reports_or_mail_where_none_may_be(month):
    niks = registry_numbers(month.synth)
    assert len(niks) > 500
    report = {}

    # Every record of the project's loggers at any level; other libraries' DEBUG records (fsspec logs every path it
    # opens, a file name with a NIK included) are below the level task logs run at (INFO) and are left out.
    task_log = "\n".join(line for line in month.logs.splitlines()
                         if not (line.startswith("DEBUG ") and not line.startswith("DEBUG tkpk")))
    report["logs"] = found(task_log, niks)
    assert month.logs.count("\n") > 20, "the log capture saw nothing"
    report["xcom"] = found(month.runner.xcom(), niks)
    report["rejections"] = found(json.dumps(month.runner.rejected, ensure_ascii=False), niks)
    assert month.runner.rejected, "the synthetic month has one rejected file"

    scanned_files = 0
    for path in Path(month.settings.reports_dir).rglob("*"):
        if path.suffix in (".html", ".txt", ".json", ".csv"):
            report[str(path)] = found(path.read_text(encoding="utf-8"), niks)
        elif path.suffix == ".xlsx":
            report[str(path)] = found(xlsx_text(path.read_bytes()), niks)
        else:
            continue
        scanned_files += 1
    assert scanned_files >= 20

    pii = _pii_recipients(month.settings)
    bodies = attachments = pii_attachments_with_nik = 0
    for path, msg in _messages(month.settings.outbox_dir):
        key = (str(msg["X-TKPK-Report"]), str(msg["Delivered-To"]))
        authorised = pii[key]
        report[f"{path.name} headers"] = found(str(msg.items()), niks)
        for part in msg.walk():
            if part.is_multipart():
                continue
            payload = part.get_payload(decode=True) or b""
            ctype = part.get_content_type()
            if ctype in ("text/plain", "text/html"):
                bodies += 1
                report[f"{path.name} {ctype}"] = found(payload.decode(part.get_content_charset() or "utf-8"), niks)
            elif part.get_filename() and part.get_filename().endswith(".xlsx"):
                attachments += 1
                text = xlsx_text(payload)
                if authorised:
                    pii_attachments_with_nik += bool(found(text, niks))
                else:
                    report[f"{path.name} {part.get_filename()}"] = found(text, niks)
    assert bodies >= 2 * month.sent["sent"] and attachments >= month.sent["sent"]
    assert pii_attachments_with_nik >= 1, "positive control: by-name lists of pii recipients carry full NIKs"

    leaks = {where: hits[:3] for where, hits in report.items() if hits}
    assert not leaks, f"unmasked NIK/KK where none may be: {leaks}"


@MONTH_GROUP
def test_full_niks_live_only_in_the_archive_and_the_warehouse(month):
    """Positive controls: the same scanner finds full NIKs where they must be."""
    from sqlalchemy import select

    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import StagedRow

    niks = registry_numbers(month.synth)
    archive = Path(month.settings.archive_url.removeprefix("file://"))
    raw = [p for p in archive.rglob("*") if p.is_file()]
    assert raw
    hits = 0
    for p in raw:
        data = p.read_bytes()
        text = xlsx_text(data) if data[:2] == b"PK" else data.decode("cp1252", "replace")
        hits += bool(found(text, niks))
    assert hits >= len(raw) // 2
    with session_scope(month.settings.database_url) as s:
        staged = [n for (n,) in s.execute(select(StagedRow.nik).where(StagedRow.nik.is_not(None)).limit(50))]
    assert staged and all(SIXTEEN.fullmatch(n) for n in staged)


@MONTH_GROUP
def test_failure_alert_masks_the_error(month, tmp_path):
    from tkpk.notify import SmtpSettings, send_failure_alert
    from tkpk.notify.mailsink import MailSink

    nik = sorted(registry_numbers(month.synth))[0]
    settings = make_settings(tmp_path, month.settings.database_url, reports_dir=month.settings.reports_dir)
    with MailSink(tmp_path / "alerts") as sink:
        send_failure_alert(settings, SmtpSettings(host="127.0.0.1", port=sink.port, backoff=0.01),
                           dag_id="tkpk_monthly", task_id="load_submission", period=PERIOD,
                           error=f"ValueError: baris dengan NIK {nik} dan KK {nik[:6]} {nik[6:]} rusak", run_id="x")
        messages = list(_messages(tmp_path / "alerts"))
    assert messages
    for _path, msg in messages:
        body = "\n".join(p.get_content() for p in msg.walk() if p.get_content_type().startswith("text/"))
        assert nik not in body and not SIXTEEN.search(body)
        assert nik[:6] in body  # masked, not dropped: 157101******0001


# ------------------------------------------------------------------------------------------------ credentials

DB_PASSWORD = "Rahasia-DB-7391"
SMTP_PASSWORD = "Sandi-SMTP-5521"


@pytest.mark.postgres
def test_database_password_never_reaches_logs_results_or_errors(pg_url, tmp_path, config):
    import sqlalchemy.exc
    from sqlalchemy.engine import make_url

    from tkpk.ingest import BatchRejected, discover, load_submission
    from tkpk.warehouse import upgrade

    url = make_url(pg_url).set(password=DB_PASSWORD).render_as_string(hide_password=False)  # trust auth: accepted
    settings = make_settings(tmp_path, url)
    rm = RowMaker(config, PERIOD, 9)
    header, rows = table(config, "pertanian_bibit", rm.rows("pertanian_bibit", 8))
    put(settings, "pertanian", "bibit.csv", csv_bytes(header, rows))
    put(settings, "koperasi", "rusak.csv", b"bukan;tabel\n1;2\n")
    outputs = []
    with LogCapture() as logs:
        upgrade(url)
        outputs.append(discover(settings, PERIOD))
        outputs.append(load_submission(settings, PERIOD, "pertanian", "pertanian_bibit"))
        with pytest.raises(BatchRejected) as rejected:
            load_submission(settings, PERIOD, "koperasi", "koperasi_pemberdayaan")
        outputs.append(str(rejected.value))
        bad = make_url(url).set(port=1).render_as_string(hide_password=False)  # nobody listens on port 1
        with pytest.raises(sqlalchemy.exc.OperationalError) as refused:
            discover(make_settings(tmp_path / "b", bad), PERIOD)
        outputs.append(str(refused.value))
    blob = logs.text + json.dumps(outputs, default=str)
    assert DB_PASSWORD not in blob
    assert "tkpk" in logs.text.lower() or outputs  # something was captured


def test_settings_repr_hides_the_database_password(tmp_path):
    settings = make_settings(tmp_path, f"postgresql+psycopg2://tkpk:{DB_PASSWORD}@db.example:5432/warehouse")
    assert DB_PASSWORD not in repr(settings) and DB_PASSWORD not in str(settings)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_password_never_reaches_logs_mail_or_errors(tmp_path):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tkpk.notify import SendFailed, SmtpSettings
    from tkpk.notify.mailsink import OutboxHandler, free_port
    from tkpk.notify.smtp import SmtpClient

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"tkpk" and auth_data.password == SMTP_PASSWORD.encode()
        return AuthResult(success=ok, handled=False)  # let the server answer 235 or 535 itself

    port = free_port()
    handler = OutboxHandler(tmp_path / "outbox")
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False, auth_required=True, auth_exclude_mechanism=["LOGIN"],
                            ready_timeout=10)
    controller.start()
    try:
        good = SmtpSettings(host="127.0.0.1", port=port, username="tkpk", password=SMTP_PASSWORD, backoff=0.01)
        wrong = SmtpSettings(host="127.0.0.1", port=port, username="tkpk", password=SMTP_PASSWORD + "x",
                             backoff=0.01, timeout=5, retries=1)
        with LogCapture() as logs:
            with SmtpClient(good) as client:
                client.deliver(b"Subject: uji\r\n\r\nisi\r\n", "tkpk@jambikota.example", "a@jambikota.example")
            with pytest.raises(SendFailed) as failed, SmtpClient(wrong) as client:
                client.deliver(b"Subject: uji\r\n\r\nisi\r\n", "tkpk@jambikota.example", "a@jambikota.example")
    finally:
        controller.stop()
    assert len(handler.saved) == 1
    blob = logs.text + str(failed.value) + repr(good) + repr(wrong) + handler.saved[0].read_text()
    assert SMTP_PASSWORD not in blob
    assert "smtp_default" in str(failed.value)  # the message says what to check


def test_no_credentials_in_code_or_config():
    """Credentials come only from Airflow connections or environment variables: nothing that looks like a
    password literal in the DAGs, the domain package or the YAML config."""
    pattern = re.compile(r"(?i)(password|passwd|secret|api_key)\s*[=:]\s*['\"][^'\"\s]{4,}['\"]")
    url_with_password = re.compile(r"[a-z+]+://[^/\s:@'\"]+:[^@/\s'\"]{3,}@")
    offenders = []
    for folder, globs in ((ROOT / "dags", ("*.py",)), (ROOT / "plugins" / "tkpk", ("*.py",)),
                          (ROOT / "plugins" / "tkpk_airflow", ("*.py",)), (ROOT / "include", ("*.yaml", "*.yml"))):
        for glob in globs:
            for path in folder.rglob(glob):
                text = path.read_text(encoding="utf-8")
                for m in list(pattern.finditer(text)) + list(url_with_password.finditer(text)):
                    offenders.append(f"{path.relative_to(ROOT)}: {m.group(0)}")
    assert not offenders, offenders
