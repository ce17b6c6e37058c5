"""Retention and `tkpk purge` (issue 8, item 5) on SQLite and PostgreSQL: expired archived raw files, quarantined rows
and findings are removed, unexpired and shared ones kept, the removal recorded in audit_log without personal data;
a dry run changes nothing; a second purge finds nothing."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from tests.reliability.conftest import PERIOD, SIXTEEN, landing_path, make_settings, put
from tests.reliability.rows import RowMaker, csv_bytes, table

OLD = datetime(2020, 1, 15, 3, 0, tzinfo=UTC)
BEFORE = date(2026, 1, 1)


def _file(config, type_code: str, n_valid: int, n_bad: int, seed: int) -> bytes:
    rm = RowMaker(config, PERIOD, seed)
    header, rows = table(config, type_code, rm.rows(type_code, n_valid + n_bad))
    k = header.index("nik")
    for r in rows[n_valid:]:
        r[k] = r[k][:12]
    return csv_bytes(header, rows)


def _backdate(url: str, batch_id: int, *, legacy: bool) -> None:
    """Make a batch look loaded on OLD: by today's ingest (retention_until = OLD + 5 years on the batch, its
    findings and quarantined rows), or, `legacy`, by an ingest from before retention_until was set (empty)."""
    from tkpk.retention import retention_until
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import Finding, QuarantinedRow, SubmissionBatch

    until = None if legacy else retention_until(OLD, 5)
    with session_scope(url) as s:
        s.execute(update(SubmissionBatch).where(SubmissionBatch.batch_id == batch_id)
                  .values(loaded_at=OLD, retention_until=until))
        for model in (Finding, QuarantinedRow):
            s.execute(update(model).where(model.batch_id == batch_id).values(retention_until=until))


def _counts(url: str, batch_id: int) -> tuple[int, int]:
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import Finding, QuarantinedRow

    with session_scope(url) as s:
        return tuple(int(s.scalar(select(func.count()).select_from(m).where(m.batch_id == batch_id)))
                     for m in (QuarantinedRow, Finding))


def _archived(url: str, batch_id: int) -> list[dict]:
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import SubmissionBatch

    with session_scope(url) as s:
        return list(s.get(SubmissionBatch, batch_id).files)


def _audits(url: str) -> list[dict]:
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import AuditLog

    with session_scope(url) as s:
        return [a.details for a in s.scalars(select(AuditLog).where(AuditLog.action == "purge"))]


@pytest.fixture
def aged(warehouse, tmp_path, config):
    """Two batches loaded in January 2020 (one file shared with a batch of today; one without retention dates, as
    loaded before ingest set them), one of today, and two archive files no batch references (one from 2019, one
    from today)."""
    from tkpk.ingest import load_submission

    settings = make_settings(tmp_path, warehouse)
    nik = RowMaker(config, PERIOD, 1).row("pertanian_bibit")["nik"]
    put(settings, "pertanian", f"bibit {nik}.csv", _file(config, "pertanian_bibit", 20, 3, seed=1))
    old_unique = load_submission(settings, PERIOD, "pertanian", "pertanian_bibit")
    put(settings, "disnaker", "bpjstk.csv", _file(config, "disnaker_bpjstk", 20, 4, seed=2))
    old_shared = load_submission(settings, PERIOD, "disnaker", "disnaker_bpjstk")
    _backdate(warehouse, old_unique["batch_id"], legacy=True)
    _backdate(warehouse, old_shared["batch_id"], legacy=False)
    duplicate = load_submission(settings, PERIOD, "disnaker", "disnaker_bpjstk")  # same bytes today
    assert duplicate["status"] == "duplicate"
    put(settings, "dinkes", "bumil.csv", _file(config, "dinkes_ibu_hamil", 10, 2, seed=3))
    recent = load_submission(settings, PERIOD, "dinkes", "dinkes_ibu_hamil")
    archive = Path(settings.archive_url.removeprefix("file://"))
    orphan_old = archive / PERIOD / "koperasi" / "koperasi_pemberdayaan" / "0123456789abcdef_mati.csv"
    orphan_old.parent.mkdir(parents=True)
    orphan_old.write_bytes(b"nik;nama\n")
    os.utime(orphan_old, (OLD.timestamp() - 86400 * 30,) * 2)
    orphan_new = orphan_old.with_name("fedcba9876543210_baru.csv")
    orphan_new.write_bytes(b"nik;nama\n")
    return {"settings": settings, "url": warehouse, "old_unique": old_unique["batch_id"],
            "old_shared": old_shared["batch_id"], "duplicate": duplicate["batch_id"], "recent": recent["batch_id"],
            "orphan_old": orphan_old, "orphan_new": orphan_new, "nik": nik}


def _paths(files: list[dict]) -> list[Path]:
    return [Path(f["archive_uri"].removeprefix("file://")) for f in files if f.get("archive_uri")]


def test_dry_run_changes_nothing(aged):
    from tkpk.retention import purge

    url = aged["url"]
    before = {k: _counts(url, aged[k]) for k in ("old_unique", "old_shared", "recent")}
    summary = purge(aged["settings"], BEFORE, dry_run=True, years=5)
    assert summary["dry_run"] and summary["expired_batches"] == 2
    assert summary["files_removed"] == 2 and summary["orphan_files_removed"] == 1
    assert summary["files_kept_shared"] == 1
    assert summary["quarantined_rows_removed"] == 7 and summary["findings_removed"] >= 7
    assert {k: _counts(url, aged[k]) for k in before} == before
    assert all(p.exists() for p in _paths(_archived(url, aged["old_unique"]))) and aged["orphan_old"].exists()
    assert _audits(url) == []


def test_purge_removes_what_expired_and_records_it(aged):
    from tkpk.retention import PURGED_KEY, purge

    url, settings = aged["url"], aged["settings"]
    unique_files = _paths(_archived(url, aged["old_unique"]))
    shared_files = _paths(_archived(url, aged["old_shared"]))
    recent_files = _paths(_archived(url, aged["recent"]))
    recent_counts = _counts(url, aged["recent"])
    assert recent_counts[0] == 2

    summary = purge(settings, BEFORE, years=5, actor="uji-purge")
    assert not any(p.exists() for p in unique_files), "expired raw file still archived"
    assert all(p.exists() for p in shared_files), "a raw file a current batch still references was removed"
    assert all(p.exists() for p in recent_files)
    assert not aged["orphan_old"].exists() and aged["orphan_new"].exists()
    assert _counts(url, aged["old_unique"]) == (0, 0) and _counts(url, aged["old_shared"]) == (0, 0)
    assert _counts(url, aged["recent"]) == recent_counts
    assert all(f.get(PURGED_KEY) for f in _archived(url, aged["old_unique"]) if f.get("archive_uri"))
    assert not any(f.get(PURGED_KEY) for f in _archived(url, aged["old_shared"]))

    (audit,) = _audits(url)
    assert audit["files_removed"] == 2 and audit["quarantined_rows_removed"] == 7
    assert audit["findings_removed"] == summary["findings_removed"] >= 7
    assert len(audit["file_names"]) == 2
    text = str(audit)
    assert not SIXTEEN.search(text) and aged["nik"][:6] in text  # the NIK in a file name is masked

    again = purge(settings, BEFORE, years=5)
    assert again["files_removed"] == again["quarantined_rows_removed"] == again["findings_removed"] == 0
    assert len(_audits(url)) == 1


def test_stamp_retention_dates_everything_and_respects_the_setting(aged, monkeypatch):
    from tkpk.retention import stamp_retention
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import Finding, QuarantinedRow, SubmissionBatch

    monkeypatch.setenv("TKPK_RETENTION_YEARS", "7")
    stamp_retention(aged["url"])
    with session_scope(aged["url"]) as s:
        old = s.get(SubmissionBatch, aged["old_unique"])
        assert old.retention_until == date(2027, 1, 15)
        for model in (SubmissionBatch, QuarantinedRow, Finding):
            assert s.scalar(select(func.count()).select_from(model).where(model.retention_until.is_(None))) == 0
    assert stamp_retention(aged["url"]) == {"batches": 0, "quarantined_rows": 0, "findings": 0}


def test_purge_cli(aged, monkeypatch, capsys):
    from tkpk.cli import main

    settings = aged["settings"]
    monkeypatch.setenv("TKPK_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TKPK_ARCHIVE_URL", settings.archive_url)
    monkeypatch.setenv("TKPK_LANDING_URL", settings.landing_url)
    assert main(["purge", "--before", "2026-01-01", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Uji coba" in out and "batch kedaluwarsa        : 2" in out and "1 Januari 2026" in out
    assert main(["purge", "--before", "2026-01-01"]) == 0
    assert "Dicatat di audit_log" in capsys.readouterr().out
    assert main(["purge", "--before", "01-01-2026"]) == 1
    assert "Kesalahan" in capsys.readouterr().err
    monkeypatch.setenv("TKPK_RETENTION_YEARS", "lima")
    assert main(["purge", "--before", "2026-01-01"]) == 1
    assert "TKPK_RETENTION_YEARS" in capsys.readouterr().err


def test_retention_dates():
    from tkpk.retention import RetentionError, retention_until, retention_years

    assert retention_until(date(2024, 2, 29), 5) == date(2029, 2, 28)
    assert retention_until(datetime(2026, 10, 31, 23, 0, tzinfo=UTC), 5) == date(2031, 10, 31)
    assert retention_years() in (5, int(os.environ.get("TKPK_RETENTION_YEARS", "5")))
    with pytest.raises(RetentionError):
        retention_years("0")


def test_ingest_sets_retention_until_on_load(sqlite_warehouse, tmp_path, config):
    from tkpk.ingest import load_submission
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import Finding, QuarantinedRow, SubmissionBatch

    settings = make_settings(tmp_path, sqlite_warehouse)
    put(settings, "disnaker", "bpjstk.csv", _file(config, "disnaker_bpjstk", 10, 2, seed=5))
    counts = load_submission(settings, PERIOD, "disnaker", "disnaker_bpjstk")
    assert landing_path(settings).exists()
    with session_scope(sqlite_warehouse) as s:
        batch = s.get(SubmissionBatch, counts["batch_id"])
        assert batch.retention_until is not None
        for model in (QuarantinedRow, Finding):
            assert s.scalar(select(func.count()).select_from(model).where(model.retention_until.is_(None))) == 0
