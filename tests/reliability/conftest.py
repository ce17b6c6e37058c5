"""Fixtures of the reliability tests: settings over a temporary landing zone / archive / warehouse, a helper that
drops a file where an OPD would, table checksums, and runners for the load driver and the `tkpk` CLI as real
processes."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2026-10"
TKPK = Path(sys.executable).parent / "tkpk"
SIXTEEN = re.compile(r"(?<!\d)\d{16}(?!\d)")
# Words a rejection message in Bahasa Indonesia contains (at least one), and English that must not leak into it.
INDONESIAN = re.compile(r"(?i)\b(berkas|kolom|baris|tidak|harus|ditolak|kirim|isi|wajib|batas|periksa|dibaca|dan|atau|"
                        r"yang|dari|untuk|dengan|oleh|sudah|belum|sebagai|lebih|paling|bukan|salah|ulang|setelah|"
                        r"sebelum|hanya|berbeda|diterbitkan|sama|hapus|jatuh)\b")
ENGLISH = re.compile(r"(?i)\b(traceback|error:|exception|cannot|failed|invalid|unexpected|not found|"
                     r"permission denied|no such file|errno)\b")


def make_settings(base: Path, database_url: str | None = None, *, landing: Path | None = None, **overrides):
    from tkpk.settings import Settings

    base.mkdir(parents=True, exist_ok=True)
    values = dict(
        database_url=database_url or f"sqlite:///{base / 'warehouse.db'}",
        landing_url=(landing or base / "landing").as_uri(),
        archive_url=(base / "archive").as_uri(),
        reports_dir=base / "reports",
        outbox_dir=base / "outbox",
        var_dir=base / "var",
        config_dir=ROOT / "include" / "config",
        reference_dir=ROOT / "include" / "reference",
        expectations_dir=ROOT / "expectations",
    )
    values.update(overrides)
    return Settings.from_env(**values)


def landing_path(settings) -> Path:
    return Path(settings.landing_url.removeprefix("file://"))


def put(settings, opd: str, name: str, data: bytes, period: str = PERIOD) -> Path:
    """Drop a file in {landing}/{period}/{opd}/ under its name as sent (hostile names included)."""
    folder = landing_path(settings) / period / opd
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    target.write_bytes(data)
    return target


def pg_backends(url: str) -> list[tuple[int, str]]:
    """(pid, state) of the other sessions on the database of `url` (not this one)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    u = make_url(url)
    engine = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(
                "SELECT pid, state FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"),
                {"db": u.database})]
    finally:
        engine.dispose()


def terminate_backends(url: str) -> int:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    u = make_url(url)
    engine = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return len(conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db "
                "AND pid <> pg_backend_pid()"), {"db": u.database}).all())
    finally:
        engine.dispose()


# What a month's run leaves, without surrogate keys, run ids and timestamps; linkage rows identified by the staged
# row's natural key (file, sheet, row number).
CHECKSUMS = {
    "submission_batch": """SELECT DISTINCT period, opd_code, submission_type, status, is_current, sha256, rows_total,
        rows_accepted, rows_quarantined, rows_warning, rejection_reason FROM submission_batch
        WHERE is_current = :t OR status = 'rejected'""",
    "staged_row": """SELECT period, opd_code, submission_type, source_file, sheet, row_number, nik, no_kk, nama,
        jenis_kelamin, tanggal_lahir, kode_kelurahan, has_warning, data FROM staged_row""",
    "quarantined_row": """SELECT q.period, q.opd_code, q.submission_type, q.source_file, q.sheet, q.row_number, q.data
        FROM quarantined_row q JOIN submission_batch b ON b.batch_id = q.batch_id WHERE b.is_current = :t""",
    "finding": """SELECT DISTINCT f.period, f.opd_code, f.submission_type, f.source_file, f.sheet, f.row_number, f."column",
        f."check", f.severity, f.message, f.value FROM finding f JOIN submission_batch b ON b.batch_id = f.batch_id
        WHERE b.is_current = :t OR b.status = 'rejected'""",
    "person_link": """SELECT s.opd_code, s.submission_type, s.source_file, s.sheet, s.row_number, l.period, l.id_art,
        l.id_keluarga, l.match_status, ROUND(CAST(l.match_probability AS NUMERIC), 6), l.candidate_id_art,
        l.person_key, l.decided_by, l.model_version FROM person_link l JOIN staged_row s ON s.row_id = l.row_id""",
    "household_link": """SELECT s.opd_code, s.submission_type, s.source_file, s.sheet, s.row_number, h.period,
        h.id_keluarga, h.match_status, h.via, h.household_key, h.duplicate_of
        FROM household_link h JOIN staged_row s ON s.row_id = h.row_id""",
    "review_item": """SELECT s.opd_code, s.source_file, s.row_number, r.period, r.candidate_id_art,
        ROUND(CAST(r.match_probability AS NUMERIC), 6), r.fingerprint, r.status
        FROM review_item r JOIN staged_row s ON s.row_id = r.row_id""",
    "person_key": "SELECT fingerprint, person_key, first_period, last_period FROM person_key",
    "registry_event": """SELECT e.period, s.opd_code, s.source_file, s.row_number, e.id_art, e.id_keluarga, e.no_kk,
        e.event_type, e.event_date, e.data FROM registry_event e LEFT JOIN staged_row s ON s.row_id = e.row_id""",
    "eligibility_decision": """SELECT period, program, id_keluarga, id_art, kode_kelurahan, kode_kecamatan, eligible,
        benefit_rupiah, reasons, rank, rule_set_version FROM eligibility_decision""",
    "eligibility_change": """SELECT period, program, id_keluarga, id_art, kode_kelurahan, kode_kecamatan, change,
        reasons_before, reasons_after, reason_changed FROM eligibility_change""",
    "targeting_result": """SELECT t.period, t.program, t.id_keluarga, t.id_art, s.source_file, s.row_number,
        t.kode_kelurahan, t.kode_kecamatan, t.eligible, t.receiving, t.category, t.rupiah, t.reason
        FROM targeting_result t LEFT JOIN staged_row s ON s.row_id = t.row_id""",
    "expected_submission": """SELECT period, opd_code, submission_type, required, state, file_count, deadline
        FROM expected_submission""",
}


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return _plain(json.loads(value))
        except ValueError:
            return value
    if isinstance(value, float):
        return round(value, 6)
    if hasattr(value, "is_finite") and not isinstance(value, (int, bool)):  # Decimal from ROUND(NUMERIC)
        return str(value.normalize()) if value == value.to_integral() else str(value)
    return value


def table_checksums(url: str, tables: list[str] | None = None) -> dict[str, tuple[int, str]]:
    """(row count, sha256 of the sorted rows) per table: ordered row hashes without surrogate keys or timestamps."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    out = {}
    try:
        with engine.connect() as conn:
            for table in tables or list(CHECKSUMS):
                rows = sorted(json.dumps([_plain(v) for v in row], sort_keys=True, default=str)
                              for row in conn.execute(text(CHECKSUMS[table]), {"t": True}))
                out[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    finally:
        engine.dispose()
    return out


def _process_env() -> dict:
    return dict(os.environ, TKPK_HOME=str(ROOT), PYTHONPATH=os.pathsep.join([str(ROOT / "plugins"), str(ROOT)]))


def run_process(args: list[str], *, memory_mb: int | None = None, timeout: float = 300, env: dict | None = None):
    """Run a process to the end: (exit code, stdout, stderr, peak RSS in MB). A negative exit code is the signal
    that ended it (-6: abort, -9: killed). `memory_mb` caps its address space."""
    import resource
    import tempfile
    import threading

    def limit():
        if memory_mb:
            resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1024 * 1024,) * 2)

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, cwd=ROOT, env={**_process_env(), **(env or {})}, stdout=out, stderr=err,
                                preexec_fn=limit)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (proc.returncode, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                usage.ru_maxrss / 1024)


def driver_args(settings, opd: str, type_code: str, *, period: str = PERIOD, run_id: str = "driver") -> list[str]:
    return [sys.executable, "-m", "tests.reliability.driver", "load", "--db", settings.database_url,
            "--landing", settings.landing_url, "--archive", settings.archive_url, "--period", period, "--opd", opd,
            "--type", type_code, "--run-id", run_id]


def start_paused_driver(settings, opd: str, type_code: str, pause_at: str, marker: Path, **kw) -> subprocess.Popen:
    """A load in its own process that stops at `pause_at` (see driver.py); the caller kills it."""
    args = driver_args(settings, opd, type_code, **kw) + ["--pause-at", pause_at, "--marker", str(marker)]
    return subprocess.Popen(args, cwd=ROOT, env=_process_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def run_driver(settings, opd: str, type_code: str, *, memory_mb: int | None = None, timeout: float = 300, **kw):
    """A load in its own process, to the end: (exit code, parsed JSON line or {}, stderr, peak RSS MB)."""
    args = driver_args(settings, opd, type_code, **kw)
    if memory_mb:
        args += ["--memory-mb", str(memory_mb)]
    code, out, err, peak = run_process(args, timeout=timeout)
    data = {}
    for line in reversed(out.splitlines()):
        if line.startswith("{"):
            data = json.loads(line)
            break
    return code, data, err, peak


def run_tkpk(*args: str, memory_mb: int | None = None, timeout: float = 300, env: dict | None = None):
    """The real `tkpk` console script as a process: (exit code, stdout, stderr, peak RSS MB)."""
    return run_process([str(TKPK), *args], memory_mb=memory_mb, timeout=timeout, env=env)


@dataclass
class Month:
    """Run A: the synthetic month through every stage in-process, uninterrupted, e-mails sent to a local sink."""

    synth: Path
    settings: object
    runner: object
    logs: str
    sent: dict


@pytest.fixture(scope="session")
def synth_month(tmp_path_factory) -> Path:
    from tkpk.synth import generate

    out = tmp_path_factory.mktemp("synth-month")
    generate(out, PERIOD, households=120, seed=20261, months=1)
    return out


@pytest.fixture(scope="session")
def month(synth_month, tmp_path_factory) -> Month:
    import shutil

    from tests.reliability.month import LogCapture, MonthRunner, add_written_niks, prepare
    from tkpk.notify import SmtpSettings, send_reports
    from tkpk.notify.mailsink import MailSink

    base = tmp_path_factory.mktemp("month-a")
    landing = shutil.copytree(synth_month / "landing", base / "landing")
    add_written_niks(landing, synth_month)  # NIKs in every written form, in cells and file names (privacy test)
    settings = make_settings(base, landing=landing)
    prepare(settings, synth_month)
    with LogCapture() as logs:
        runner = MonthRunner(settings).run()
        with MailSink(settings.outbox_dir) as sink:
            sent = send_reports(settings, PERIOD, SmtpSettings(host="127.0.0.1", port=sink.port, backoff=0.01))
    return Month(synth_month, settings, runner, logs.text, sent)
