"""A load task in its own process, for the fault tests: `python -m tests.reliability.driver load ...`.

Runs `tkpk.ingest.load_submission` exactly as the DAG's task does and prints one JSON line: `{"outcome":
"accepted"|"duplicate"|"rejected"|"error", ...}` (exit 0, 0, 2, 1). With `--pause-at POINT --marker FILE` it stops at
POINT inside the load, writes FILE and sleeps, so the test can SIGKILL it at a known moment:

- `archive_write`: half of a raw file's bytes written to its archive path (the write itself interrupted);
- `batch_inserted`: the `submission_batch` row inserted, inside the load's transaction;
- `staged_written`: the accepted rows written (COPY / executemany), transaction still open.

With `--sync-dir DIR --sync-count N` it stops after writing its staged rows (transaction open), announces itself in
DIR and waits until N loads have arrived there (a barrier across processes: it breaks if one load blocks another);
with `--hold-seconds S` it keeps the transaction open S seconds and appends the interval to DIR/intervals.jsonl.

With `--sync-before-write N` (and `--sync-dir DIR`) it waits, after checking and archiving its files and right
before its write transaction, until N loads have arrived there: two loads of the same key then race for the current
batch at the same moment.

With `--memory-mb N` the process runs under an address-space limit (hostile files must not take the worker down).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

PAUSE_SECONDS = 600


def _pause(marker: str) -> None:
    Path(marker).write_text("paused")
    time.sleep(PAUSE_SECONDS)


def install_pause(point: str, marker: str, database_url: str) -> None:
    if point == "archive_write":
        from fsspec.implementations.local import LocalFileSystem

        original = LocalFileSystem.pipe_file

        def pipe_file(self, path, value, *args, **kwargs):
            if "/archive/" not in str(path):
                return original(self, path, value, *args, **kwargs)
            self.makedirs(self._parent(path), exist_ok=True)
            with open(self._strip_protocol(path), "wb") as fh:
                fh.write(value[: len(value) // 2])
                fh.flush()
            _pause(marker)

        LocalFileSystem.pipe_file = pipe_file
    elif point == "batch_inserted":
        from sqlalchemy import event

        from tkpk.warehouse import get_engine

        def after(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("INSERT INTO SUBMISSION_BATCH"):
                _pause(marker)

        event.listen(get_engine(database_url), "after_cursor_execute", after)
    elif point == "staged_written":
        import tkpk.ingest.load as load_mod

        original_bulk = load_mod.bulk_insert

        def bulk_insert(session, table, *args, **kwargs):
            n = original_bulk(session, table, *args, **kwargs)
            if table.name == "staged_row":
                session.flush()
                _pause(marker)
            return n

        load_mod.bulk_insert = bulk_insert
    elif point:
        raise SystemExit(f"unknown pause point {point}")


def install_sync(sync_dir: str, count: int, hold: float, name: str) -> None:
    import tkpk.ingest.load as load_mod

    folder = Path(sync_dir)
    original_bulk = load_mod.bulk_insert

    def bulk_insert(session, table, *args, **kwargs):
        n = original_bulk(session, table, *args, **kwargs)
        if table.name == "staged_row":
            session.flush()
            start = time.time()
            if count:
                (folder / f"{name}.arrived").write_text("1")
                deadline = time.monotonic() + 240
                while len(list(folder.glob("*.arrived"))) < count:
                    if time.monotonic() > deadline:
                        raise RuntimeError("barrier timeout: another load never reached its staged rows")
                    time.sleep(0.05)
            if hold:
                time.sleep(hold)
            with open(folder / "intervals.jsonl", "a") as fh:
                fh.write(json.dumps({"name": name, "start": start, "end": time.time()}) + "\n")
        return n

    load_mod.bulk_insert = bulk_insert


def _barrier(folder: Path, name: str, count: int, stage: str) -> None:
    (folder / f"{name}.{stage}").write_text("1")
    deadline = time.monotonic() + 240
    while len(list(folder.glob(f"*.{stage}"))) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"barrier timeout at {stage}")
        time.sleep(0.02)


def install_sync_before_write(sync_dir: str, count: int, name: str) -> None:
    from contextlib import contextmanager

    import tkpk.ingest.load as load_mod

    original = load_mod._key_lock

    @contextmanager
    def key_lock(url, key):
        _barrier(Path(sync_dir), name, count, "writing")
        with original(url, key):
            yield

    load_mod._key_lock = key_lock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="driver")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("load")
    p.add_argument("--db", required=True)
    p.add_argument("--landing", required=True)
    p.add_argument("--archive", required=True)
    p.add_argument("--period", required=True)
    p.add_argument("--opd", required=True)
    p.add_argument("--type", required=True)
    p.add_argument("--run-id", default="driver")
    p.add_argument("--pause-at", default=None)
    p.add_argument("--marker", default=None)
    p.add_argument("--memory-mb", type=int, default=None)
    p.add_argument("--sync-dir", default=None)
    p.add_argument("--sync-count", type=int, default=0)
    p.add_argument("--hold-seconds", type=float, default=0.0)
    p.add_argument("--sync-before-write", type=int, default=0)
    p.add_argument("--sync-name", default=None)
    args = parser.parse_args(argv)
    if args.memory_mb:
        limit = args.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    from tkpk.ingest import BatchRejected, load_submission
    from tkpk.normalize.nik import mask_text
    from tkpk.settings import Settings

    settings = Settings.from_env(database_url=args.db, landing_url=args.landing, archive_url=args.archive)
    if args.pause_at:
        install_pause(args.pause_at, args.marker, args.db)
    if args.sync_dir:
        install_sync(args.sync_dir, args.sync_count, args.hold_seconds, args.sync_name or args.opd)
    if args.sync_before_write:
        install_sync_before_write(args.sync_dir, args.sync_before_write, args.sync_name or args.opd)
    try:
        counts = load_submission(settings, args.period, args.opd, args.type, run_id=args.run_id)
    except BatchRejected as exc:
        print(json.dumps({"outcome": "rejected", "message": exc.message, "counts": exc.counts}, default=str))
        return 2
    except Exception as exc:  # noqa: BLE001 - the test inspects what a task would have raised
        print(json.dumps({"outcome": "error", "error": type(exc).__name__, "message": mask_text(str(exc))[:2000]}))
        return 1
    print(json.dumps({"outcome": counts["status"], "counts": counts}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
