"""Benchmark of ingestion (not a test): `python -m bench.ingest [--rows-xlsx N] [--rows-csv N] [--pg URL]`.

1. A 100,000-row XLSX submission (title rows, NIK as text, Indonesian dates and amounts) read and checked by
   `validate_file`, against `pandas.read_excel(engine="calamine")` reading the same file (target: at most 3x).
2. A 1,000,000-row `;`-separated Windows-1252 CSV read and checked (target: under 15 s), then loaded into
   PostgreSQL by `load_submission` (target: 100,000 rows/s or more for the write, peak memory under 1.5 GB).
The Great Expectations import is timed separately. The data is made here, row by row like an OPD export (not by the
project's synthetic generator). Each measurement runs in a fresh subprocess so peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from tkpk.period import BULAN

# Benchmark files are complete when written: no landing settle wait.
os.environ.setdefault("TKPK_SETTLE_SECONDS", "0")

NAMES = ["SITI", "AMINAH", "BUDI", "SANTOSO", "MUHAMMAD", "RIZKY", "NUR", "HASANAH", "AHMAD", "FAUZI", "DEWI",
         "LESTARI", "M.", "YUSUF", "KEMAS", "ABDULLAH", "SRI", "WAHYUNI", "RATNA", "SARI"]
JOBS = ["Pedagang", "Ojek", "Buruh Harian", "Nelayan", "Tukang", "Petani", "Penjahit"]


def _rows(n: int, seed: int = 7):
    """disnaker_bpjstk rows as an OPD would type them; about 1% with a mistake."""
    from tkpk.normalize.kelurahan import KelurahanIndex

    rng = random.Random(seed)
    kel = KelurahanIndex.load().rows
    for i in range(n):
        born = date(1960, 1, 1) + timedelta(days=rng.randrange(0, 365 * 45))
        female = rng.random() < 0.5
        k = rng.choice(kel)
        day = born.day + (40 if female else 0)
        nik = f"{k.kode_kecamatan.replace('.', '')}{day:02d}{born.month:02d}{born.year % 100:02d}{rng.randrange(1, 9999):04d}"
        if rng.random() < 0.01:
            nik = nik[:15]
        birth = born.strftime("%d/%m/%Y") if rng.random() < 0.8 else f"{born.day} {BULAN[born.month - 1]} {born.year}"
        kelurahan = k.kelurahan if rng.random() < 0.5 else k.kode_kelurahan
        start = date(2026, 10, 1) - timedelta(days=rng.randrange(0, 900))
        yield [i + 1, nik, f"{rng.choice(NAMES)} {rng.choice(NAMES)}", birth, "P" if female else "L", kelurahan,
               rng.choice(JOBS), start.strftime("%d-%m-%Y"), "Rp 16.800,00"]


HEADER = ["No", "NIK", "Nama Lengkap", "Tgl Lahir", "L/P", "Kelurahan", "Pekerjaan", "TMT", "Iuran"]


def make_xlsx(path: Path, n: int) -> Path:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False})
    ws = wb.add_worksheet("Peserta")
    ws.write_string(0, 0, "DAFTAR PESERTA BPJS KETENAGAKERJAAN BUKAN PENERIMA UPAH")
    ws.write_string(1, 0, "DINAS TENAGA KERJA KOTA JAMBI - OKTOBER 2026")
    for j, h in enumerate(HEADER):
        ws.write_string(3, j, h)
    for i, row in enumerate(_rows(n), start=4):
        ws.write_number(i, 0, row[0])
        for j, v in enumerate(row[1:], start=1):
            ws.write_string(i, j, v)
    wb.close()
    return path


def make_csv(path: Path, n: int) -> Path:
    with open(path, "w", encoding="cp1252", newline="") as fh:
        fh.write("REKAP PESERTA BPJS TK;;;;;;;;\r\n\r\n")
        fh.write(";".join(HEADER) + "\r\n")
        for row in _rows(n):
            fh.write(";".join(str(v) for v in row) + "\r\n")
    return path


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(task: str, args: dict) -> dict:
    """Run one measurement in this process (called in a subprocess)."""
    out: dict = {}
    if task == "gx_import":
        t = time.perf_counter()
        from tkpk.quality.gx import warm_up

        warm_up()
        out["gx_import_s"] = time.perf_counter() - t
    elif task == "xlsx":
        import pandas as pd

        from tkpk.ingest.validate import validate_file
        from tkpk.quality.gx import warm_up
        from tkpk.settings import Settings

        settings = Settings.from_env()
        warm_up(settings.expectations_dir, ["disnaker_bpjstk"])
        times_pd, times_ours, cpu_pd, cpu_ours = [], [], [], []
        for _ in range(args.get("repeat", 3)):
            t, c = time.perf_counter(), time.process_time()
            pd.read_excel(args["path"], engine="calamine")
            times_pd.append(time.perf_counter() - t)
            cpu_pd.append(time.process_time() - c)
            t, c = time.perf_counter(), time.process_time()
            r = validate_file(args["path"], "disnaker_bpjstk", "2026-10", settings=settings)
            times_ours.append(time.perf_counter() - t)
            cpu_ours.append(time.process_time() - c)
        out.update(pandas_calamine_s=min(times_pd), validate_s=min(times_ours), pandas_calamine_cpu_s=min(cpu_pd),
                   validate_cpu_s=min(cpu_ours), rows=r.rows_total, rows_valid=r.rows_valid, status=r.status)
    elif task == "csv":
        from tkpk.ingest.validate import validate_file
        from tkpk.quality.gx import warm_up
        from tkpk.settings import Settings

        settings = Settings.from_env()
        warm_up(settings.expectations_dir, ["disnaker_bpjstk"])
        t, c = time.perf_counter(), time.process_time()
        r = validate_file(args["path"], "disnaker_bpjstk", "2026-10", settings=settings)
        out.update(validate_s=time.perf_counter() - t, validate_cpu_s=time.process_time() - c, rows=r.rows_total,
                   rows_valid=r.rows_valid, status=r.status)
    elif task == "load":
        from tkpk.ingest import load_submission
        from tkpk.quality.gx import warm_up
        from tkpk.settings import Settings
        from tkpk.warehouse import upgrade

        settings = Settings.from_env(database_url=args["url"], landing_url=args["landing"],
                                     archive_url=args["archive"])
        upgrade(args["url"])
        warm_up(settings.expectations_dir, ["disnaker_bpjstk"])
        t, c = time.perf_counter(), time.process_time()
        counts = load_submission(settings, "2026-10", "disnaker", "disnaker_bpjstk", run_id="bench")
        out.update(load_s=time.perf_counter() - t, load_cpu_s=time.process_time() - c, counts=counts)
        out["server_cpu_s"] = _server_cpu(args["url"])
    out["peak_mb"] = _peak_mb()
    return out


def _server_cpu(url: str) -> float | None:
    """CPU seconds the PostgreSQL backends of this process used (they stay in SQLAlchemy's pool after the load):
    read from /proc when the server runs on this machine, so the write rate can be stated independently of how
    busy the machine is."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    try:
        probe = create_engine(url.replace("application_name=tkpk_bench_load", "application_name=tkpk_bench_probe"),
                              poolclass=NullPool)
        with probe.connect() as conn:
            pids = [r[0] for r in conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'tkpk_bench_load'"))]
        probe.dispose()
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        return total if pids else None
    except Exception:  # noqa: BLE001 - a remote server: no figure
        return None


def _run(task: str, args: dict) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2]) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "bench.ingest", "--child", task, json.dumps(args)],
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{task} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _pg_database(admin_url: str) -> tuple[str, callable]:
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"tkpk_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()

    return url, drop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark pembacaan dan pemeriksaan kiriman OPD")
    parser.add_argument("--rows-xlsx", type=int, default=100_000)
    parser.add_argument("--rows-csv", type=int, default=1_000_000)
    parser.add_argument("--pg", default=os.environ.get("TKPK_BENCH_PG_URL",
                                                     "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-xlsx", action="store_true")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child[0], json.loads(args.child[1])), default=str))
        return 0

    report: dict = {"load_average_at_start": os.getloadavg(), "cpus": os.cpu_count()}
    print(f"Beban mesin saat mulai (load average 1/5/15 menit): {report['load_average_at_start']}, "
          f"{report['cpus']} CPU", flush=True)
    with tempfile.TemporaryDirectory(prefix="tkpk-bench-") as tmp:
        tmp = Path(tmp)
        report["gx_import"] = _run("gx_import", {})
        print(f"Import Great Expectations + konteks: {report['gx_import']['gx_import_s']:.2f} s", flush=True)

        if not args.skip_xlsx:
            xlsx = make_xlsx(tmp / "disnaker_100k.xlsx", args.rows_xlsx)
            x = _run("xlsx", {"path": str(xlsx)})
            x["ratio"] = x["validate_s"] / x["pandas_calamine_s"]
            x["ratio_cpu"] = x["validate_cpu_s"] / x["pandas_calamine_cpu_s"]
            report["xlsx"] = x
            print(f"XLSX {args.rows_xlsx:,} baris ({xlsx.stat().st_size / 1e6:.1f} MB): pandas+calamine "
                  f"{x['pandas_calamine_s']:.2f} s, baca+periksa {x['validate_s']:.2f} s, rasio {x['ratio']:.2f}x "
                  f"(CPU {x['ratio_cpu']:.2f}x; target <= 3x); puncak memori {x['peak_mb']:.0f} MB", flush=True)

        landing = tmp / "landing" / "2026-10" / "disnaker"
        landing.mkdir(parents=True)
        csv_path = make_csv(landing / "disnaker_1m.csv", args.rows_csv)
        c = _run("csv", {"path": str(csv_path)})
        report["csv"] = c
        print(f"CSV {args.rows_csv:,} baris ({csv_path.stat().st_size / 1e6:.0f} MB, cp1252, ';'): baca+periksa "
              f"{c['validate_s']:.2f} s (CPU {c['validate_cpu_s']:.2f} s; target < 15 s); puncak memori "
              f"{c['peak_mb']:.0f} MB", flush=True)

        if not args.skip_load:
            url, drop = _pg_database(args.pg)
            url = url + ("&" if "?" in url else "?") + "application_name=tkpk_bench_load"
            try:
                ld = _run("load", {"url": url, "landing": (tmp / "landing").as_uri(),
                                   "archive": (tmp / "archive").as_uri()})
            finally:
                drop()
            counts = ld["counts"]
            write_s = counts.get("seconds", {}).get("write")
            ld["write_rows_per_s"] = counts["rows_accepted"] / write_s if write_s else None
            ld["end_to_end_rows_per_s"] = counts["rows_total"] / ld["load_s"]
            report["load"] = ld
            server = ld.get("server_cpu_s")
            server_text = (f"; CPU server PostgreSQL {server:.1f} s = {counts['rows_accepted'] / server:,.0f} baris per "
                           "detik-CPU server" if server else "")
            print(f"Muat ke PostgreSQL: {counts['rows_accepted']:,} baris diterima; total {ld['load_s']:.2f} s "
                  f"({ld['end_to_end_rows_per_s']:,.0f} baris/s end-to-end; CPU klien {ld['load_cpu_s']:.1f} s), "
                  f"tulis {write_s:.2f} s ({ld['write_rows_per_s']:,.0f} baris/s; target >= 100.000){server_text}; "
                  f"puncak memori {ld['peak_mb']:.0f} MB (target < 1.500 MB)", flush=True)
    print(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
