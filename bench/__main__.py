"""`python -m bench --scale tiny|city|province [--repeat 3] [--only synth,registry,...] [--db sqlite|postgres]`.

Steps (each measured in its own process: wall, CPU user+sys, peak RSS, load average at start):
  synth        `tkpk synth` for the scale (registry + one month of submissions)
  registry     `tkpk registry load` of the synthetic snapshot into a fresh SQLite warehouse
  ingest       `bench.ingest`: 100k-row XLSX read+check vs pandas+calamine, 1M-row CSV, PostgreSQL load rate
  linkage      `bench.linkage`: ours vs the Splink 5 + DuckDB baseline on the same data (accuracy, time)
  eligibility  `bench.eligibility`: the rules engine over the synthetic registry (in memory), vs a plain pandas
               implementation of the rules on the same data (time ratio, disagreements)
  reports      `bench/reports.py`: build and send every report
  pipeline     the monthly run step by step on the synthetic month, as the DAG calls it (bench.pipeline),
               linkage and eligibility partitioned by kecamatan; one run; then the TKPK view's page queries
               on the month's warehouse (bench.view)
  wholerun     `airflow dags test tkpk_monthly` on the synthetic month through the embedded setup; one run
  simulate     `tkpk simulate` from files (registry + the month's accepted rows as canonical CSVs): one scenario,
               three one-program scenarios side by side, one scenario touching every program; the same on a
               warehouse whose month is processed when TKPK_BENCH_SIMULATE_DB names it (e.g. the pipeline
               step's, kept when TKPK_BENCH_KEEP_WAREHOUSE=1)
  verval       `tkpk verval check` of 10,000 phone-sized photos (tiny: 200) with their sheet (bench.verval)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bench import SCALES, Measurement, machine, markdown_table, measure
from tkpk.settings import PROJECT_ROOT

PY = sys.executable
PERIOD = "2026-10"
LOGICAL_DATE = "2026-11-10T00:00:00+00:00"  # the scheduled run for October 2026 (Jakarta time)
PG_ADMIN = os.environ.get("TKPK_BENCH_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")

# Arguments of the stage benchmarks per scale (their own synthetic data where they generate it).
STAGE_ARGS = {
    "tiny": {
        "ingest": ["--rows-xlsx", "2000", "--rows-csv", "20000", "--skip-load"],
        "linkage": ["--persons", "5000", "--rows", "500", "--no-splink"],
        "eligibility": ["--households", "2000"],
        "reports": ["--households", "2000"],
    },
    "city": {
        "ingest": [],  # 100,000-row XLSX, 1,000,000-row CSV, PostgreSQL load (the comparisons)
        "linkage": ["--persons", "1000000", "--rows", "100000"],  # with the Splink 5 baseline
        "eligibility": ["--households", "170000"],
        "reports": ["--households", "170000"],
    },
    "province": {
        "ingest": ["--skip-xlsx"],
        "linkage": ["--persons", "3700000", "--rows", "500000", "--no-splink"],
        "eligibility": ["--households", "1000000", "--repeat", "1"],
        "reports": ["--households", "1000000"],
    },
}


def data_dir(scale: str) -> Path:
    cfg = SCALES[scale]
    return PROJECT_ROOT / ".bench" / f"{scale}-h{cfg['households']}-s{cfg['seed']}"


def ensure_data(scale: str) -> Path:
    """Synthetic data for the scale, generated once and cached by seed and size."""
    out = data_dir(scale)
    if not (out / "truth" / "manifest.json").exists():
        # generated beside it and renamed into place: two benchmarks (or two test workers) asking for the same data
        # at once each write their own copy, and the first to finish provides it
        cfg = SCALES[scale]
        tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run([PY, "-m", "tkpk", "synth", "--out", str(tmp), "--period", PERIOD,
                        "--households", str(cfg["households"]), "--seed", str(cfg["seed"])], check=True)
        if not (out / "truth" / "manifest.json").exists():
            shutil.rmtree(out, ignore_errors=True)
            try:
                tmp.rename(out)
            except OSError:  # the other one renamed its copy in between
                pass
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def manifest(data: Path) -> dict:
    return json.loads((data / "truth" / "manifest.json").read_text())


def log_path(scale: str, name: str) -> str:
    return str(PROJECT_ROOT / "var" / "bench" / "logs" / f"{scale}-{name}.log")


def step_synth(scale: str, repeat: int) -> list[dict]:
    cfg = SCALES[scale]
    tmp = PROJECT_ROOT / ".bench" / "tmp-synth"
    m = measure("synth (registry + one month of submissions)",
                [PY, "-m", "tkpk", "synth", "--out", str(tmp), "--period", PERIOD,
                 "--households", str(cfg["households"]), "--seed", str(cfg["seed"])],
                repeat=repeat, rows=cfg["households"], setup=["rm", "-rf", str(tmp)], parse=lambda _: {})
    shutil.rmtree(tmp, ignore_errors=True)
    return [m.as_dict()]


def step_registry(scale: str, repeat: int) -> list[dict]:
    data = ensure_data(scale)
    db = PROJECT_ROOT / ".bench" / "registry-bench.db"
    env = dict(os.environ, TKPK_DATABASE_URL=f"sqlite:///{db}")
    snapshot = manifest(data).get("snapshot_date", "2026-09-25")
    with open(data / "registry" / "persons.csv") as fh:
        persons = sum(1 for _ in fh) - 1
    m = measure("registry load (SQLite)",
                [PY, "-m", "tkpk", "registry", "load", str(data / "registry"), "--snapshot-date", snapshot],
                repeat=repeat, rows=persons, env=env, parse=lambda _: {},
                setup=["sh", "-c", f"rm -f {db}* && {PY} -m tkpk db upgrade >/dev/null"])
    for path in db.parent.glob(db.name + "*"):
        path.unlink()
    return [m.as_dict()]


def parse_ingest(stdout: str) -> dict:
    from bench import last_json

    r = last_json(stdout)
    out = {}
    if "xlsx" in r:
        x = r["xlsx"]
        out.update(xlsx_calamine_s=round(x["pandas_calamine_s"], 2), xlsx_read_check_s=round(x["validate_s"], 2),
                   xlsx_ratio=round(x["ratio"], 2), xlsx_ratio_cpu=round(x["ratio_cpu"], 2))
    if "csv" in r:
        out.update(csv_read_check_s=round(r["csv"]["validate_s"], 2),
                   csv_read_check_cpu_s=round(r["csv"]["validate_cpu_s"], 2))
    if "load" in r:
        ld = r["load"]
        out.update(pg_load_s=round(ld["load_s"], 2), pg_write_rows_per_s=round(ld["write_rows_per_s"] or 0),
                   pg_end_to_end_rows_per_s=round(ld["end_to_end_rows_per_s"]))
    return out


def step_ingest(scale: str, repeat: int) -> list[dict]:
    m = measure("ingest: read + check (+ PostgreSQL load)", [PY, "-m", "bench.ingest", *STAGE_ARGS[scale]["ingest"]],
                repeat=repeat, parse=parse_ingest, log=log_path(scale, "ingest"))
    return [m.as_dict()]


def step_linkage(scale: str) -> list[dict]:
    out = PROJECT_ROOT / "var" / "bench" / f"linkage-{scale}.json"
    args = STAGE_ARGS[scale]["linkage"]

    def parse(_stdout: str) -> dict:
        r = json.loads(out.read_text())["results"]
        res = {}
        for name in ("tkpk", "splink"):
            if name in r:
                res.update({f"{name}_{k}": r[name][k] for k in ("wall_s", "peak_mb", "precision", "recall")
                            if k in r[name]})
        if "ratio_splink_over_tkpk" in r:
            res["splink_over_tkpk_time"] = r["ratio_splink_over_tkpk"]
        return res

    m = measure(f"linkage bench ({args[1]} persons, {args[3]} rows)", [PY, "-m", "bench.linkage", *args,
                "--json", str(out)], repeat=1, parse=parse, log=log_path(scale, "linkage"))
    return [m.as_dict()]


def parse_eligibility(stdout: str) -> dict:
    from bench import last_json

    out = {}
    for line in stdout.splitlines():
        if line.startswith("one month"):
            out["engine"] = line.split(":", 1)[1].strip().split(";")[0]
            break
    r = last_json(stdout)
    for key in ("engine_s", "engine_cpu_s", "baseline_s", "baseline_cpu_s", "engine_over_baseline",
                "engine_over_baseline_cpu", "disagreements"):
        if key in r:
            out[key] = r[key]
    if "agreement" in r:
        out["disagreements_by_program"] = {code: row["disagreements"] for code, row in r["agreement"].items()}
    return out


def step_eligibility(scale: str, repeat: int) -> list[dict]:
    m = measure("eligibility engine vs plain pandas (in memory)", [PY, "-m", "bench.eligibility",
                *STAGE_ARGS[scale]["eligibility"]], repeat=repeat, parse=parse_eligibility,
                log=log_path(scale, "eligibility"))
    return [m.as_dict()]


def parse_reports(stdout: str) -> dict:
    out = {}
    for line in stdout.splitlines():
        for key in ("build_reports", "send_reports"):
            if line.startswith(key + ":"):
                out[key + "_s"] = float(line.split(":")[1].split("s,")[0])
    return out


def step_reports(scale: str, repeat: int) -> list[dict]:
    m = measure("reports: fill + build + send", [PY, "-m", "bench.reports",
                *STAGE_ARGS[scale]["reports"]], repeat=repeat, parse=parse_reports, log=log_path(scale, "reports"))
    return [m.as_dict()]


def scratch(scale: str, kind: str, db: str) -> tuple[dict, callable]:
    """A scratch var dir and an empty warehouse for one pipeline or whole run; returns (env, cleanup)."""
    var = PROJECT_ROOT / ".bench" / f"run-{kind}-{scale}"
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    data = ensure_data(scale)
    env = dict(os.environ, TKPK_VAR_DIR=str(var), TKPK_LANDING_URL=(data / "landing").as_uri(),
               TKPK_HOME=str(PROJECT_ROOT), PYTHONPATH=str(PROJECT_ROOT / "plugins"))
    drop = None
    if db == "postgres":
        import sqlalchemy as sa

        name = f"tkpk_bench_{kind}_{scale}_{uuid.uuid4().hex[:6]}"
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        env["TKPK_DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + "/" + name

        def drop() -> None:
            with admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        env["TKPK_DATABASE_URL"] = f"sqlite:///{var / 'warehouse.db'}"

    def cleanup() -> None:
        if os.environ.get("TKPK_BENCH_KEEP_WAREHOUSE") and kind == "pipeline":
            # kept for the warehouse path of `simulate` (TKPK_BENCH_SIMULATE_DB); the caller drops it
            print(f"  warehouse kept: {env['TKPK_DATABASE_URL']}", flush=True)
            return
        if drop:
            drop()
        shutil.rmtree(var, ignore_errors=True)

    return env, cleanup


def step_pipeline(scale: str, db: str) -> list[dict]:
    """The monthly run step by step (one process per task, as Airflow runs them), partitioned by kecamatan."""
    data = ensure_data(scale)
    env, cleanup = scratch(scale, "pipeline", db)
    results: list[dict] = []
    base = [PY, "-m", "bench.pipeline"]
    tag = f"pipeline/{db}"

    def run(step: str, *extra: str, label: str | None = None) -> dict:
        m = measure(f"{tag}: {label or step}", [*base, step, "--period", PERIOD, *extra], repeat=1, env=env,
                    log=log_path(scale, f"pipeline-{step}"))
        row = m.as_dict()
        results.append(row)
        print(f"  {row['step']}: {row['median_s']} s (CPU {row['cpu_s']} s, {row['peak_rss_mb']} MB)", flush=True)
        return m.extra

    try:
        run("setup", "--registry", str(data / "registry"), "--snapshot-date", manifest(data)["snapshot_date"],
            label="migrate + registry load")
        run("start")
        run("ingest", label="discover + load_submission (all files, sequential)")
        parts = run("prepare_linkage")["partitions"]
        for p in parts:
            run("link_partition", "--partition", p, label=f"link_partition {p}")
        run("finalize_linkage")
        kec = run("derive_events")["partitions"]
        for k in kec:
            run("compute_eligibility", "--partition", k, label=f"compute_eligibility {k}")
        run("finalize_eligibility")
        run("build_reports")
        run("send_reports")
        pages = run("view_pages", label="TKPK view: the queries of every page")
    finally:
        cleanup()
    total = {"step": f"{tag}: TOTAL (sum of steps, sequential)", "median_s": round(sum(r["median_s"] for r in results), 1),
             "runs_s": [], "cpu_s": round(sum(r["cpu_s"] for r in results), 1),
             "peak_rss_mb": max(r["peak_rss_mb"] for r in results)}
    for group in ("link_partition", "compute_eligibility"):
        rows = [r for r in results if group in r["step"]]
        if rows:
            results.append({"step": f"{tag}: {group} x{len(rows)} (sum)", "median_s": round(sum(r['median_s'] for r in rows), 1),
                            "runs_s": [], "cpu_s": round(sum(r["cpu_s"] for r in rows), 1),
                            "peak_rss_mb": max(r["peak_rss_mb"] for r in rows),
                            "slowest_partition_s": max(r["median_s"] for r in rows)})
    results.append(total)
    for key, seconds in pages.items():  # one row per page of the TKPK view (median of 5 on the month's warehouse)
        if key.endswith("_s"):
            results.append({"step": f"{tag}: view page {key[:-2]} (median of 5)", "median_s": seconds, "runs_s": [],
                            "cpu_s": 0, "peak_rss_mb": 0})
    return results


def step_wholerun(scale: str, db: str, repeat: int = 1) -> list[dict]:
    """`airflow dags test tkpk_monthly` for October 2026 on the synthetic month, as `make demo` runs it; `repeat`
    times, each on a fresh warehouse and metadata DB (a second run on the same one would find nothing to do).
    Per-task times come from the run with the median wall time."""
    from tkpk.demo import airflow_env
    from tkpk.notify.mailsink import MailSink

    data = ensure_data(scale)
    runs: list[tuple[Measurement, list[dict], int]] = []
    setups: list[Measurement] = []
    for _ in range(repeat):
        env, cleanup = scratch(scale, "wholerun", db)
        var = Path(env["TKPK_VAR_DIR"])
        try:
            (var / "airflow").mkdir(parents=True, exist_ok=True)
            setups.append(measure("wholerun: warehouse migrate + registry load",
                                  [PY, "-m", "bench.pipeline", "setup", "--registry", str(data / "registry"),
                                   "--snapshot-date", manifest(data)["snapshot_date"]], repeat=1, env=env))
            with MailSink(var / "outbox") as sink:
                aenv = {**airflow_env(var, sink.port), **{k: v for k, v in env.items() if k.startswith("TKPK_")}}
                exe = str(Path(PY).parent / "airflow")
                subprocess.run([exe, "db", "migrate"], env=aenv, check=True, capture_output=True)
                m = measure(f"wholerun: airflow dags test tkpk_monthly ({db} warehouse, SQLite metadata)",
                            [exe, "dags", "test", "tkpk_monthly", LOGICAL_DATE], repeat=1, env=aenv,
                            parse=lambda out: {"failed_tasks": out.count("state=failed") or out.count("FAILED")},
                            log=log_path(scale, f"wholerun-{db}"))
                time.sleep(0.5)
                emails = len(list((var / "outbox").glob("*.eml")))
                runs.append((m, task_durations(var / "airflow" / "airflow.db", f"wholerun/{db}"), emails))
                print(f"  run {len(runs)}: {m.wall_s[0]:.1f} s (CPU {m.cpu_s[0]:.1f} s), {emails} e-mails", flush=True)
        finally:
            cleanup()

    def merged(ms: list[Measurement], step: str, extra: dict) -> dict:
        return Measurement(step, [w for m in ms for w in m.wall_s], max(m.peak_rss_mb for m in ms), None,
                           extra, [c for m in ms for c in m.cpu_s], [x for m in ms for x in m.load_1m]).as_dict()

    median_run = sorted(runs, key=lambda r: r[0].wall_s[0])[len(runs) // 2]
    return [merged(setups, setups[0].step, setups[0].extra),
            merged([r[0] for r in runs], runs[0][0].step, {**median_run[0].extra, "emails": median_run[2]}),
            *median_run[1]]


def task_durations(metadata_db: Path, tag: str) -> list[dict]:
    """Per-task wall time of the finished run from Airflow's metadata DB (mapped tasks summed, slowest shown)."""
    import sqlite3

    with sqlite3.connect(metadata_db) as con:
        rows = con.execute("SELECT task_id, state, (julianday(end_date) - julianday(start_date)) * 86400 "
                           "FROM task_instance WHERE start_date IS NOT NULL ORDER BY start_date").fetchall()
    tasks: dict[str, list] = {}
    for task_id, state, secs in rows:
        tasks.setdefault(task_id, []).append((state, secs or 0.0))
    return [{"step": f"{tag}: task {task_id}" + (f" x{len(v)}" if len(v) > 1 else ""),
             "median_s": round(sum(x[1] for x in v), 1), "runs_s": [], "peak_rss_mb": "",
             "states": ",".join(sorted({x[0] for x in v})),
             **({"slowest_s": round(max(x[1] for x in v), 1)} if len(v) > 1 else {})}
            for task_id, v in tasks.items()]


def canonical_submissions(data: Path) -> Path:
    """The month's landing files as the canonical `<type>.csv` that `tkpk simulate --submissions` reads: each file
    checked like the monthly load does (`tkpk.ingest.validate`), accepted rows only. Made once per data set."""
    out = data / "canonical" / PERIOD
    if (out / "done").exists():
        return out
    import pandas as pd

    from tkpk.config import load_config
    from tkpk.ingest.validate import validate_file

    config = load_config()
    frames: dict[str, list] = {}
    for meta in manifest(data)["files"]:
        if meta.get("period") != PERIOD:
            continue
        result = validate_file(data / "landing" / meta["path"], meta["type_code"], PERIOD, config=config)
        columns = [c.name for c in config.types.get(meta["type_code"]).columns]
        frames.setdefault(meta["type_code"], []).append(pd.DataFrame(result.record_dicts(columns)))
    out.mkdir(parents=True, exist_ok=True)
    for type_code, parts in frames.items():
        rows = pd.concat(parts, ignore_index=True).drop(columns=["row"], errors="ignore")
        if len(rows):  # a rejected file has no accepted rows: no file, as in the monthly run
            rows.to_csv(out / f"{type_code}.csv", index=False)
    (out / "done").write_text("ok")
    return out


SIMULATIONS = {
    "one scenario (bpjs_tk.quota.size=60)": ["--set", "bpjs_tk.quota.size=60"],
    "three one-program scenarios": ["--scenario", "kuota60", "--set", "bpjs_tk.quota.size=60",
                                    "--scenario", "pkh_desil3", "--set", "pkh.desil.max=3",
                                    "--scenario", "bpnt_2700000", "--set", "bpnt.amount=2700000"],
    "one scenario touching every program": [
        "--set", "miskin_ekstrem.desil.max=2", "--set", "pkh.desil.max=3", "--set", "bpnt.desil.max=5",
        "--set", "pbi_jk.desil.max=6", "--set", "bpjs_tk.quota.size=60", "--set", "pip.desil.max=5",
        "--set", "rtlh.desil.max=4"],
}


def step_simulate(scale: str, repeat: int) -> list[dict]:
    from bench import last_json

    data = ensure_data(scale)
    subs = canonical_submissions(data)
    out = PROJECT_ROOT / "var" / "bench" / f"simulate-{scale}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)

    def parse(stdout: str) -> dict:
        r = last_json(stdout)
        return {"inputs_cpu_s": r.get("inputs_cpu_seconds"), "baseline_cpu_s": r.get("baseline_cpu_seconds"),
                "scenario_cpu_s": [s["cpu_seconds"] for s in r.get("scenarios", [])],
                "baseline_s": r.get("baseline_seconds"),
                "scenario_s": [s["seconds"] for s in r.get("scenarios", [])],
                "differences": [s["differences"] for s in r.get("scenarios", [])],
                "recomputed": [len(s["programs_recomputed"]) for s in r.get("scenarios", [])]}

    rows = []
    for label, extra in SIMULATIONS.items():
        m = measure(f"simulate: {label}", [PY, "-m", "tkpk", "simulate", "--period", PERIOD, "--registry",
                    str(data / "registry"), "--submissions", str(subs), "--out", str(out), "--json", *extra],
                    repeat=repeat, parse=parse, log=log_path(scale, "simulate"))
        rows.append(m.as_dict())
    # the warehouse path (what the DAG runs) when a warehouse with the month already processed is named
    warehouse = os.environ.get("TKPK_BENCH_SIMULATE_DB")
    if warehouse:
        for label, extra in SIMULATIONS.items():
            m = measure(f"simulate (warehouse): {label}", [PY, "-m", "tkpk", "simulate", "--period", PERIOD,
                        "--database-url", warehouse, "--out", str(out), "--json", *extra],
                        repeat=repeat, parse=parse, log=log_path(scale, "simulate-warehouse"))
            rows.append(m.as_dict())
    three, every = rows[1]["median_s"], rows[2]["median_s"]
    # wall time on a busy machine is mostly waiting; the CPU ratio is the one that carries
    rows.append({"step": "simulate: three one-program / one all-program (target < 1.5)",
                 "median_s": round(three / every, 2), "runs_s": [], "peak_rss_mb": "",
                 "cpu_ratio": round(rows[1]["cpu_s"] / rows[2]["cpu_s"], 2) if rows[2].get("cpu_s") else None})
    return rows


STEPS = ["synth", "registry", "ingest", "linkage", "eligibility", "reports", "pipeline", "wholerun", "simulate", "verval"]
DEFAULT_STEPS = {"tiny": ["synth", "registry", "ingest", "linkage", "eligibility", "reports", "pipeline", "simulate", "verval"],
                 "city": STEPS,
                 "province": ["synth", "registry", "eligibility", "pipeline", "wholerun"]}


def step_verval(scale: str, repeat: int) -> list[dict]:
    """Photo checks of a large month (issue 16): the photos are generated once (not measured) and cached."""
    photos = 200 if scale == "tiny" else 10_000
    folder = PROJECT_ROOT / ".bench" / f"verval-{photos}"
    subprocess.run([PY, "-m", "bench.verval", "generate", "--photos", str(photos), "--out", str(folder)],
                   check=True, cwd=PROJECT_ROOT, capture_output=True)
    var = PROJECT_ROOT / ".bench" / "run-verval"
    var.mkdir(parents=True, exist_ok=True)
    db = var / "warehouse.db"
    env = {**os.environ, "TKPK_DATABASE_URL": f"sqlite:///{db}", "TKPK_VAR_DIR": str(var)}
    m = measure(f"verval check ({photos} photos 1600x1200)",
                [PY, "-m", "tkpk", "verval", "check", str(folder), "--period", PERIOD],
                repeat=repeat, rows=photos, env=env, parse=lambda _: {},
                setup=["sh", "-c", f"rm -f {db}* && {PY} -m tkpk db upgrade >/dev/null"],
                log=log_path(scale, "verval"))
    return [m.as_dict()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--scale", choices=sorted(SCALES), default="city")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=None, help=f"comma-separated subset of {','.join(STEPS)}")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default=None,
                        help="warehouse for pipeline/wholerun (default: sqlite for tiny and the city wholerun, "
                             "postgres otherwise)")
    parser.add_argument("--out", default=None, help="results JSON (default var/bench/results-<scale>.json)")
    args = parser.parse_args(argv)
    only = args.only.split(",") if args.only else DEFAULT_STEPS[args.scale]
    unknown = set(only) - set(STEPS)
    if unknown:
        parser.error(f"unknown steps: {', '.join(sorted(unknown))}")
    results: list[dict] = []
    if set(only) - {"synth", "ingest", "linkage", "eligibility", "reports", "verval"}:  # simulate needs it too
        ensure_data(args.scale)
    for step in only:
        print(f"[bench] {step} ({args.scale}) ... load {os.getloadavg()[0]:.1f}", flush=True)
        if step == "synth":
            results += step_synth(args.scale, 1 if args.scale == "province" else args.repeat)
        elif step == "registry":
            results += step_registry(args.scale, 1 if args.scale == "province" else args.repeat)
        elif step == "ingest":
            results += step_ingest(args.scale, args.repeat)
        elif step == "linkage":
            results += step_linkage(args.scale)
        elif step == "eligibility":
            results += step_eligibility(args.scale, 1 if args.scale == "province" else args.repeat)
        elif step == "reports":
            results += step_reports(args.scale, 1 if args.scale == "province" else args.repeat)
        elif step == "pipeline":
            results += step_pipeline(args.scale, args.db or ("sqlite" if args.scale == "tiny" else "postgres"))
        elif step == "simulate":
            results += step_simulate(args.scale, 1 if args.scale == "province" else args.repeat)
        elif step == "wholerun":
            # province: the production warehouse (PostgreSQL), one run; city: the embedded default, as make demo
            results += step_wholerun(args.scale, args.db or ("postgres" if args.scale == "province" else "sqlite"),
                                     1 if args.scale == "province" else args.repeat)
        elif step == "verval":
            results += step_verval(args.scale, args.repeat)
        print(markdown_table(results[-1:]).splitlines()[-1], flush=True)
    out_dir = PROJECT_ROOT / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = Path(args.out) if args.out else out_dir / f"results-{args.scale}.json"
    report = {"scale": args.scale, "machine": machine(), "results": results}
    out.write_text(json.dumps(report, indent=2))
    print(markdown_table(results))
    print(f"\nmachine: {report['machine']['cores']} cores, {report['machine']['memory_gb']} GB; results in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
