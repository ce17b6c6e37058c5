"""How fast the TKPK view's pages answer: the queries behind each page (tkpk.status, tkpk.workspace,
tkpk.linkage.review, the report manifest), timed on a warehouse after a monthly run; median of `repeat` runs each.

The page itself adds the token check and the template (a few milliseconds); the data is what grows with the
province. Reported per page in seconds; the goal is under 1 s at province scale (issue #15).
"""

from __future__ import annotations

import statistics
import time

PAGE = 50


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return round(statistics.median(times), 3)


def time_pages(settings, period: str, repeat: int = 5) -> dict:
    from tkpk.linkage.review import count_open, review_frame
    from tkpk.reports.build import load_manifest
    from tkpk.status import submission_matrix
    from tkpk.workspace import periods, quarantine_batches, quarantine_page, send_log

    url = settings.database_url
    batches = quarantine_batches(url, period)
    biggest = max(batches, key=lambda b: b["rows_quarantined"]) if batches else None
    open_items = count_open(url, period)

    def karantina(last: bool) -> None:
        quarantine_batches(url, period)
        if biggest:
            _, total = quarantine_page(url, biggest["batch_id"], offset=0, limit=PAGE)
            if last:
                quarantine_page(url, biggest["batch_id"], offset=max(total - PAGE, 0), limit=PAGE)

    def tinjauan(last: bool) -> None:
        total = count_open(url, period)
        review_frame(url, period, offset=max(total - PAGE, 0) if last else 0, limit=PAGE)

    def laporan() -> None:
        try:
            load_manifest(settings, period)
        except FileNotFoundError:
            pass
        send_log(url, period)

    return {
        "quarantined_rows_biggest_batch": biggest["rows_quarantined"] if biggest else 0,
        "open_review_items": open_items,
        "kiriman_s": _median(lambda: (periods(url), submission_matrix(url, period)), repeat),
        "karantina_first_page_s": _median(lambda: (periods(url), karantina(False)), repeat),
        "karantina_last_page_s": _median(lambda: karantina(True), repeat),
        "tinjauan_first_page_s": _median(lambda: (periods(url), tinjauan(False)), repeat),
        "tinjauan_last_page_s": _median(lambda: tinjauan(True), repeat),
        "laporan_s": _median(lambda: (periods(url), laporan()), repeat),
    }


def seed_volume(url: str, period: str, *, findings: int, review: int) -> None:
    """A warehouse with province-sized tables for the view's pages: one batch with `findings` quarantined rows (one
    error each, raw cells as an OPD writes them), `review` open review items with their staged rows and registry
    candidates. Made-up NIKs from a counter (no real person)."""
    from datetime import UTC, date, datetime

    from sqlalchemy import insert

    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import (
        Finding,
        QuarantinedRow,
        RegistryPerson,
        RegistrySnapshot,
        ReviewItem,
        StagedRow,
        SubmissionBatch,
    )

    now = datetime.now(UTC)
    with session_scope(url) as s:
        snap = RegistrySnapshot(snapshot_date=date(2026, 9, 25), source_uri="bench", sha256="0" * 64, loaded_at=now)
        s.add(snap)
        batches = []
        for i, (opd, stype) in enumerate([("disnaker", "disnaker_bpjstk"), ("pertanian", "pertanian_bibit")]):
            b = SubmissionBatch(period=period, opd_code=opd, submission_type=stype, status="accepted", is_current=True,
                                files=[{"name": f"{opd}.xlsx"}], sha256=str(i) * 64, loaded_at=now,
                                rows_total=findings * 4, rows_accepted=findings * 3, rows_quarantined=findings)
            s.add(b)
            batches.append(b)
        s.flush()
        quarantined, errors = batches
        chunk = 20_000
        for start in range(0, findings, chunk):
            rows = range(start, min(start + chunk, findings))
            s.execute(insert(QuarantinedRow), [
                {"batch_id": quarantined.batch_id, "period": period, "opd_code": "pertanian",
                 "submission_type": "pertanian_bibit", "source_file": "pertanian.xlsx", "sheet": "Data",
                 "row_number": n + 2, "data": {"NIK Penerima": f"{1571010000000000 + n}", "Nama": "X",
                                                "Jenis Bibit": "CABAI"}} for n in rows])
            s.execute(insert(Finding), [
                {"batch_id": quarantined.batch_id, "period": period, "opd_code": "pertanian",
                 "submission_type": "pertanian_bibit", "source_file": "pertanian.xlsx", "sheet": "Data",
                 "row_number": n + 2, "column": "nik", "check": "nik_format", "severity": "error",
                 "message": "NIK harus 16 angka", "value": f"{1571010000000000 + n}"} for n in rows])
            s.execute(insert(Finding), [
                {"batch_id": errors.batch_id, "period": period, "opd_code": "disnaker",
                 "submission_type": "disnaker_bpjstk", "source_file": "disnaker.xlsx", "sheet": "Data",
                 "row_number": n + 2, "column": "nama", "check": "nama_kosong", "severity": "warning",
                 "message": "Nama kosong", "value": ""} for n in rows])
        for start in range(0, review, chunk):
            rows = range(start, min(start + chunk, review))
            s.execute(insert(RegistryPerson), [
                {"snapshot_id": snap.snapshot_id, "id_art": f"P{n:08d}", "id_keluarga": f"K{n:07d}",
                 "nik": f"{1571020000000000 + n}", "nama": "Registri", "kode_kelurahan": "15.71.01.1001"}
                for n in rows])
            staged = s.execute(insert(StagedRow).returning(StagedRow.row_id, sort_by_parameter_order=True), [
                {"batch_id": errors.batch_id, "period": period, "opd_code": "disnaker",
                 "submission_type": "disnaker_bpjstk", "source_file": "disnaker.xlsx", "row_number": n + 2,
                 "nik": f"{1571020000000000 + n}", "nama": "Usulan", "kode_kelurahan": "15.71.01.1001",
                 "data": {}} for n in rows]).scalars().all()
            s.execute(insert(ReviewItem), [
                {"period": period, "row_id": row_id, "candidate_id_art": f"P{n:08d}",
                 "match_probability": (n % 1000) / 1000, "evidence": "nama=0.61", "fingerprint": f"{n:064d}",
                 "status": "open", "created_at": now} for n, row_id in zip(rows, staged, strict=True)])


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.view [--findings N] [--review N]`: the page queries on province-sized tables, with the
    view's indexes (migration 0006) and without them."""
    import argparse
    import json
    import os
    import tempfile
    from pathlib import Path

    from sqlalchemy import text

    from tkpk.settings import Settings
    from tkpk.warehouse import get_engine, upgrade

    parser = argparse.ArgumentParser(prog="bench.view")
    parser.add_argument("--findings", type=int, default=200_000)
    parser.add_argument("--review", type=int, default=20_000)
    parser.add_argument("--period", default="2026-10")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'warehouse.db'}"
        upgrade(url)
        t = time.perf_counter()
        seed_volume(url, args.period, findings=args.findings, review=args.review)
        seeded = round(time.perf_counter() - t, 1)
        settings = Settings.from_env(database_url=url, reports_dir=Path(tmp) / "reports", var_dir=Path(tmp))
        with_indexes = time_pages(settings, args.period)
        with get_engine(url).begin() as conn:
            for name in ("ix_finding_batch_severity_row", "ix_review_item_open"):
                conn.execute(text(f"DROP INDEX {name}"))
        without = time_pages(settings, args.period)
    print(json.dumps({"findings": args.findings, "review": args.review, "seed_s": seeded,
                      "load_1m": round(os.getloadavg()[0], 1), "with_indexes": with_indexes,
                      "without_0006_indexes": without}, indent=1))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
