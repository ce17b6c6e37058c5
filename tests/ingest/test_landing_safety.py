"""Landing safety (issue #11): links and special files are refused with a message, a file still being copied is
not read (discover waits for it within a bound; the load leaves it out and says so), S3 objects are complete once
listed. Settle times are one second here, so nothing sleeps long."""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.ingest.conftest import PERIOD, make_settings, put
from tests.ingest.test_load import ROWS, csv_bytes


def _findings(url) -> dict[str, str]:
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import Finding

    with session_scope(url) as s:
        return {f.check: f.message for f in s.scalars(select(Finding))}


def _archived(settings) -> list[Path]:
    root = Path(settings.archive_url.removeprefix("file://"))
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_symlink_to_a_file_outside_the_landing_zone_is_refused(sqlite_warehouse, tmp_path):
    from tkpk.ingest import load_submission

    settings = make_settings(tmp_path, sqlite_warehouse)
    good = put(settings, "dinsos", csv_bytes(ROWS), "kpm.csv")
    outside = tmp_path / "rahasia" / "lain.csv"
    outside.parent.mkdir()
    outside.write_bytes(csv_bytes(ROWS[:1]))
    (good.parent / "tautan.csv").symlink_to(outside)
    counts = load_submission(settings, PERIOD, "dinsos", "dinsos_kpm")
    assert counts["status"] == "accepted" and counts["rows_accepted"] == len(ROWS)  # the link's row is not read
    findings = _findings(sqlite_warehouse)
    assert "berkas_tautan_ditolak" in findings and "tautan" in findings["berkas_tautan_ditolak"]
    assert all(p.stat().st_size == good.stat().st_size for p in _archived(settings))  # the link is not archived


def test_fifo_is_refused_without_blocking(sqlite_warehouse, tmp_path):
    from tkpk.ingest import load_submission

    settings = make_settings(tmp_path, sqlite_warehouse)
    good = put(settings, "dinsos", csv_bytes(ROWS), "kpm.csv")
    os.mkfifo(good.parent / "pipa.csv")  # opening a FIFO for reading would block for ever
    counts = load_submission(settings, PERIOD, "dinsos", "dinsos_kpm")
    assert counts["status"] == "accepted" and counts["rows_accepted"] == len(ROWS)
    assert "berkas_khusus_ditolak" in _findings(sqlite_warehouse)


def test_a_file_still_being_copied_is_not_read_by_the_load(sqlite_warehouse, tmp_path):
    from tkpk.ingest import BatchRejected, load_submission

    settings = make_settings(tmp_path, sqlite_warehouse, settle_seconds=1.0)
    whole = csv_bytes(ROWS)
    target = put(settings, "dinsos", whole[: len(whole) - 5], "kpm.csv")  # the copy is cut inside the last field
    with pytest.raises(BatchRejected):  # nothing else to read: no spreadsheet for this type yet
        load_submission(settings, PERIOD, "dinsos", "dinsos_kpm")
    assert "berkas_masih_disalin" in _findings(sqlite_warehouse)
    assert not _archived(settings)
    target.write_bytes(whole)
    _age(target, 2)  # the copy finished and settled
    counts = load_submission(settings, PERIOD, "dinsos", "dinsos_kpm")
    assert counts["status"] == "accepted" and counts["rows_accepted"] == len(ROWS)


def test_discover_waits_for_a_young_file_then_counts_it(sqlite_warehouse, tmp_path):
    from tkpk.ingest import discover

    settings = make_settings(tmp_path, sqlite_warehouse, settle_seconds=1.0, settle_max_wait=10.0)
    put(settings, "dinsos", csv_bytes(ROWS), "kpm.csv")
    started = time.monotonic()
    found = {(i["opd_code"], i["submission_type"]): i for i in discover(settings, PERIOD)}
    waited = time.monotonic() - started
    assert found[("dinsos", "dinsos_kpm")]["state"] == "received"
    assert 0.5 <= waited < 8, waited  # about the settle time, never the whole bound


def test_discover_goes_on_without_a_file_that_keeps_changing_and_says_so(sqlite_warehouse, tmp_path, caplog):
    from tkpk.ingest import discover

    settings = make_settings(tmp_path, sqlite_warehouse, settle_seconds=60.0, settle_max_wait=1.0)
    put(settings, "dinsos", csv_bytes(ROWS), "kpm_1571019909970045.csv")
    with caplog.at_level(logging.WARNING, logger="tkpk.ingest.landing"):
        started = time.monotonic()
        found = {(i["opd_code"], i["submission_type"]): i for i in discover(settings, PERIOD)}
        assert time.monotonic() - started < 5
    assert found[("dinsos", "dinsos_kpm")]["state"] == "missing"
    text = caplog.text
    assert "masih disalin" in text and "kpm_" in text and "1571019909970045" not in text


def test_s3_objects_are_complete_once_listed_and_old_files_are_settled(tmp_path):
    from tkpk.ingest.landing import FileEntry, still_copying

    now = datetime.now(UTC)
    young = FileEntry("a.csv", "x", "x", 10, now - timedelta(seconds=5))
    old = FileEntry("a.csv", "x", "x", 10, now - timedelta(seconds=300))
    local = make_settings(tmp_path, settle_seconds=120)
    s3 = make_settings(tmp_path, settle_seconds=120, landing_url="s3://landing/tkpk")
    sftp = make_settings(tmp_path, settle_seconds=120, landing_url="sftp://host:22/landing")
    assert still_copying(young, local, now) and still_copying(young, sftp, now)
    assert not still_copying(old, local, now)
    assert not still_copying(young, s3, now)
    assert make_settings(tmp_path, settle_seconds=0) and not still_copying(young, make_settings(tmp_path,
                                                                                               settle_seconds=0), now)
