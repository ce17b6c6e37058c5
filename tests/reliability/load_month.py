"""Load test (not a unit test): a month of 20 OPD files of 50,000 rows each (CSV and XLSX, every submission type),
loaded the way Airflow runs the load tasks: each `load_submission` in its own process, `--parallel N` at a time.
Reports wall time, rows per second and the peak memory (RSS) of every load process, as a Markdown table and JSON.

    .venv/bin/python -m tests.reliability.load_month [--rows 50000] [--files 20] [--parallel 1] [--pg] [--out DIR]

`--pg` loads into a fresh PostgreSQL database on 127.0.0.1 (dropped afterwards); the default is SQLite, the embedded
warehouse. The files come from `tests.reliability.rows` (valid rows, about 1% with a broken NIK), not from the
synthetic city: this measures the load stage, not linkage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TKPK_HOME", str(ROOT))

PERIOD = "2026-10"
PG_ADMIN = os.environ.get("TKPK_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def plan(config, files: int) -> list[tuple[str, str, str]]:
    """(opd folder, type, format) for `files` files: the 8 OPDs, then kelurahan proposals; CSV and XLSX alternate."""
    opds = [(o.code, o.submissions[0]) for o in config.opds.opds]
    kelurahan = [f"kel-{k.replace('.', '')}" for k in __import__("tests.reliability.rows", fromlist=["x"])
                 .kelurahan_codes()]
    out = list(opds)
    for code in kelurahan:
        if len(out) >= files:
            break
        out.append((code, "kelurahan_usulan"))
    return [(opd, t, "xlsx" if i % 2 else "csv") for i, (opd, t) in enumerate(out[:files])]


def write_file(config, folder: Path, opd: str, type_code: str, fmt: str, rows: int, seed: int) -> Path:
    from tests.reliability.rows import RowMaker, header_of

    rm = RowMaker(config, PERIOD, seed)
    header = header_of(config, type_code)
    k = header.index("nik") if "nik" in header else None
    target = folder / PERIOD / opd / f"{type_code}_{opd}.{fmt}"
    target.parent.mkdir(parents=True, exist_ok=True)

    def records():
        for i in range(rows):
            r = rm.row(type_code)
            cells = [r[h] for h in header]
            if k is not None and i % 100 == 7:
                cells[k] = cells[k][:15]  # about 1% row errors, as real files have
            yield cells

    if fmt == "csv":
        with open(target, "w", encoding="cp1252", newline="") as fh:
            fh.write(f"DATA {type_code.upper()} OKTOBER 2026\r\n\r\n")
            fh.write(";".join(header) + "\r\n")
            for cells in records():
                fh.write(";".join(cells) + "\r\n")
    else:
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(target), {"constant_memory": True, "strings_to_numbers": False})
        ws = wb.add_worksheet("Data")
        ws.write_string(0, 0, f"DATA {type_code.upper()} OKTOBER 2026")
        for j, h in enumerate(header):
            ws.write_string(2, j, h)
        for i, cells in enumerate(records(), start=3):
            for j, v in enumerate(cells):
                ws.write_string(i, j, v)
        wb.close()
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=1, help="load processes at a time (Airflow parallelism)")
    parser.add_argument("--pg", action="store_true", help="PostgreSQL warehouse instead of SQLite")
    parser.add_argument("--out", type=Path, default=None, help="keep the files and warehouse here")
    parser.add_argument("--json", type=Path, default=None, help="write the measurements here")
    args = parser.parse_args(argv)

    from tests.reliability.conftest import make_settings, run_driver
    from tkpk.config import load_config
    from tkpk.warehouse import upgrade

    config = load_config(ROOT / "include" / "config")
    base = args.out or Path(tempfile.mkdtemp(prefix="tkpk-load-month-"))
    drop = None
    url = None
    if args.pg:
        from sqlalchemy import create_engine, text

        name = f"tkpk_load_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f"CREATE DATABASE {name}"))
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name

        def drop():
            with admin.connect() as c:
                c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    settings = make_settings(base, url)
    upgrade(settings.database_url)
    landing = base / "landing"
    files = plan(config, args.files)
    t0 = time.perf_counter()
    sizes = {}
    for i, (opd, type_code, fmt) in enumerate(files):
        path = write_file(config, landing, opd, type_code, fmt, args.rows, seed=100 + i)
        sizes[opd] = path.stat().st_size
    generated = time.perf_counter() - t0
    print(f"{len(files)} berkas x {args.rows:,} baris dibuat dalam {generated:.0f} s di {landing}", flush=True)

    def load(item):
        opd, type_code, fmt = item
        started = time.perf_counter()
        code, data, err, peak = run_driver(settings, opd, type_code, timeout=3600, run_id="load-month")
        return {"opd": opd, "type": type_code, "format": fmt, "mb": round(sizes[opd] / 2**20, 1), "exit": code,
                "status": data.get("outcome"), "rows_accepted": data.get("counts", {}).get("rows_accepted"),
                "rows_total": data.get("counts", {}).get("rows_total"), "seconds": round(time.perf_counter() - started, 1),
                "peak_rss_mb": round(peak), "stages": data.get("counts", {}).get("seconds"),
                "error": None if code == 0 else (data.get("message") or err[-500:])}

    t1 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.parallel) as pool:
        results = list(pool.map(load, files))
    total = time.perf_counter() - t1
    rows = sum(r["rows_total"] or 0 for r in results)
    summary = {"files": len(files), "rows_per_file": args.rows, "rows_total": rows, "parallel": args.parallel,
               "warehouse": "postgresql" if args.pg else "sqlite", "generate_seconds": round(generated, 1),
               "load_seconds": round(total, 1), "rows_per_second": round(rows / total) if total else None,
               "max_peak_rss_mb": max(r["peak_rss_mb"] for r in results),
               "failed": [r["opd"] for r in results if r["exit"] != 0], "loads": results}
    print("| OPD | type | fmt | MB | rows | accepted | s | peak RSS MB |\n|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['opd']} | {r['type']} | {r['format']} | {r['mb']} | {r['rows_total']} | {r['rows_accepted']} "
              f"| {r['seconds']} | {r['peak_rss_mb']} |")
    print(f"\nTotal: {rows:,} rows in {total:.0f} s ({summary['rows_per_second']:,} rows/s, {args.parallel} at a time, "
          f"{summary['warehouse']}); largest load process peak {summary['max_peak_rss_mb']} MB; "
          f"failed: {summary['failed'] or 'none'}")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    if drop:
        from tkpk.warehouse import get_engine

        get_engine.cache_clear()
        drop()
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
