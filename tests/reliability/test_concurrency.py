"""Concurrent loads of different OPDs for the same period (issue 8, item 3), each in its own process as Airflow runs
tasks: on PostgreSQL they run side by side (every load holds its open transaction at the same moment, proven by a
barrier across the processes that would break if one waited for another's lock) without corrupting each other; on
SQLite they queue for the single writer (busy timeout) and all succeed.

Two loads of the SAME (period, OPD, type) at once (a re-trigger while the scheduled run still loads) are serialised
on every backend: exactly one current batch afterwards, both loads succeed, no staged row twice.

Also: the checks of several files validated at once in one process (threads) must not mix up their files."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from sqlalchemy import func, select

from tests.reliability.conftest import PERIOD, ROOT, _process_env, driver_args, make_settings, put
from tests.reliability.rows import RowMaker, csv_bytes, table, xlsx_bytes

LOADS = [("disnaker", "disnaker_bpjstk", 1500), ("dinkes", "dinkes_ibu_hamil", 800), ("pertanian", "pertanian_bibit", 1200)]


def _landing(settings, config) -> None:
    rm = RowMaker(config, PERIOD, 11)
    for i, (opd, type_code, n) in enumerate(LOADS):
        header, rows = table(config, type_code, rm.rows(type_code, n))
        if i % 2:
            put(settings, opd, f"{type_code}.xlsx", xlsx_bytes({"Data": [header, *rows]}))
        else:
            put(settings, opd, f"{type_code}.csv", csv_bytes(header, rows))


def _run_processes(settings, sync_dir, *, barrier: bool, hold: float) -> list[dict]:
    sync_dir.mkdir()
    procs = []
    for opd, type_code, _n in LOADS:
        args = driver_args(settings, opd, type_code, run_id=f"paralel-{opd}") + [
            "--sync-dir", str(sync_dir), "--sync-count", str(len(LOADS) if barrier else 0),
            "--hold-seconds", str(hold)]
        procs.append(subprocess.Popen(args, cwd=ROOT, env=_process_env(), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    results = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, f"load failed ({p.returncode}): {out[-800:]} {err[-1500:]}"
        results.append(json.loads(out.strip().splitlines()[-1])["counts"])
    return results


def _intervals(sync_dir) -> list[tuple[float, float]]:
    lines = (sync_dir / "intervals.jsonl").read_text().splitlines()
    return sorted((d["start"], d["end"]) for d in map(json.loads, lines))


def _check_no_cross_talk(url: str, results: list[dict]) -> None:
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import StagedRow, SubmissionBatch

    expected = {opd: n for opd, _t, n in LOADS}
    assert sorted(r["opd_code"] for r in results) == sorted(expected)
    with session_scope(url) as s:
        for r in results:
            assert r["status"] == "accepted" and r["rows_accepted"] == expected[r["opd_code"]]
            rows = s.execute(select(StagedRow.opd_code, StagedRow.submission_type, func.count())
                             .where(StagedRow.batch_id == r["batch_id"])
                             .group_by(StagedRow.opd_code, StagedRow.submission_type)).all()
            assert rows == [(r["opd_code"], r["submission_type"], expected[r["opd_code"]])]
        current = s.execute(select(SubmissionBatch.opd_code, func.count()).where(SubmissionBatch.is_current)
                            .group_by(SubmissionBatch.opd_code)).all()
        assert dict(current) == {opd: 1 for opd in expected}
        assert s.scalar(select(func.count()).select_from(StagedRow)) == sum(expected.values())


@pytest.mark.slow
@pytest.mark.postgres
def test_concurrent_loads_on_postgres_do_not_block_or_corrupt_each_other(pg_url, tmp_path, config):
    from tkpk.warehouse import upgrade

    upgrade(pg_url)
    settings = make_settings(tmp_path, pg_url)
    _landing(settings, config)
    results = _run_processes(settings, tmp_path / "sync", barrier=True, hold=0.0)
    spans = _intervals(tmp_path / "sync")
    assert len(spans) == len(LOADS)
    latest_start = max(s for s, _e in spans)
    assert all(end >= latest_start for _s, end in spans), "the transactions were not open at the same time"
    _check_no_cross_talk(pg_url, results)


@pytest.mark.slow
def test_concurrent_loads_on_sqlite_wait_their_turn_without_error(sqlite_warehouse, tmp_path, config):
    settings = make_settings(tmp_path, sqlite_warehouse)
    _landing(settings, config)
    started = time.monotonic()
    results = _run_processes(settings, tmp_path / "sync", barrier=False, hold=0.5)
    assert time.monotonic() - started < 600
    _check_no_cross_talk(sqlite_warehouse, results)  # every load succeeded: no "database is locked"
    spans = _intervals(tmp_path / "sync")
    assert len(spans) == len(LOADS)
    assert all(a_end <= b_start for (_a, a_end), (b_start, _b) in zip(spans, spans[1:], strict=False)), \
        "two SQLite write transactions overlapped"


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres),
                                     pytest.param("mariadb", marks=pytest.mark.mariadb)])
def test_two_loads_of_the_same_key_at_once_leave_one_current_batch(backend, request, tmp_path, config):
    """Both loads check and archive the same new file, meet at a barrier right before their write transactions and
    race for the current batch (an older accepted batch is current). Without the per-key lock both read the old
    batch as current and both become current (PostgreSQL and MariaDB: the older batch's row lock does not help once
    it is superseded; SQLite: the current batch was read before the writer lock)."""
    from tkpk.ingest import load_submission
    from tkpk.warehouse import session_scope, upgrade
    from tkpk.warehouse.models import StagedRow, SubmissionBatch

    url = {"sqlite": "sqlite_warehouse", "postgres": "pg_url", "mariadb": "mysql_url"}[backend]
    url = request.getfixturevalue(url)
    upgrade(url)
    settings = make_settings(tmp_path, url)
    rm = RowMaker(config, PERIOD, 21)
    header, rows = table(config, "disnaker_bpjstk", rm.rows("disnaker_bpjstk", 400))
    put(settings, "disnaker", "bpjstk.csv", csv_bytes(header, rows[:100]))
    first = load_submission(settings, PERIOD, "disnaker", "disnaker_bpjstk", run_id="terjadwal-lama")
    (tmp_path / "landing" / PERIOD / "disnaker" / "bpjstk.csv").unlink()
    put(settings, "disnaker", "bpjstk_perbaikan.xlsx", xlsx_bytes({"Data": [header, *rows]}))

    sync = tmp_path / "sync"
    sync.mkdir()
    procs = []
    for name in ("terjadwal", "picu-ulang"):
        args = driver_args(settings, "disnaker", "disnaker_bpjstk", run_id=name) + [
            "--sync-dir", str(sync), "--sync-before-write", "2", "--sync-name", name, "--hold-seconds", "1.5"]
        procs.append(subprocess.Popen(args, cwd=ROOT, env=_process_env(), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    results = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, f"load failed ({p.returncode}): {out[-800:]} {err[-1500:]}"
        results.append(json.loads(out.strip().splitlines()[-1])["counts"])
    with session_scope(url) as s:
        current = [b.batch_id for b in s.scalars(select(SubmissionBatch).where(SubmissionBatch.is_current))]
        assert len(current) == 1, f"{len(current)} current batches for one key"
        assert s.get(SubmissionBatch, first["batch_id"]).status == "superseded"
        staged = s.execute(select(StagedRow.batch_id, func.count(), func.count(func.distinct(StagedRow.row_number)))
                           .group_by(StagedRow.batch_id)).all()
    assert staged == [(current[0], 400, 400)], staged
    # The later writer found the very same files already current: recorded as a duplicate, nothing reprocessed.
    assert sorted(r["status"] for r in results) == ["accepted", "duplicate"], results
    assert next(r for r in results if r["status"] == "accepted")["batch_id"] == current[0]


# Was bug 9 (quality/gx.py run_suite not thread-safe: one shared GX context, dataframe asset and batch definition;
# four threads rejected each other's files with 'kolom_wajib_tidak_ada'). run_suite now holds a lock around the run.
def test_validation_in_threads_keeps_files_apart(config):
    import threading

    from tkpk.ingest.validate import validate_bytes
    from tkpk.period import Period
    from tkpk.settings import Settings

    settings = Settings.from_env()
    rm = RowMaker(config, PERIOD, 12)
    files = {}
    for _opd, type_code, _n in LOADS:
        header, rows = table(config, type_code, rm.rows(type_code, 300))
        files[type_code] = csv_bytes(header, rows)
    results = {}

    def one(type_code):
        results[type_code] = validate_bytes(files[type_code], f"{type_code}.csv", config.types.get(type_code),
                                            Period.parse(PERIOD), config=config,
                                            expectations_dir=settings.expectations_dir)

    for _round in range(3):
        threads = [threading.Thread(target=one, args=(t,)) for t in files]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        for type_code, r in results.items():
            assert (r.status, r.rows_valid) == ("accepted", 300), (type_code, [f.check for f in r.issues][:3])
