"""`make bench`: one harness that measures every stage as the pipeline runs it, at city or province scale.

This package is not part of the product: it measures and checks `tkpk` from outside (the Docker image does not
contain it, and nothing under plugins/ or dags/ imports it; tests/test_layout.py holds that). It needs the
bench/dev requirements (Splink and DuckDB for the linkage baseline) on top of the runtime set.

  bench/__main__.py            the harness (`python -m bench`, `make bench`)
  bench/peak.py, pipeline.py   one measured process; the DAG's task bodies run one by one
  bench/ingest.py              read + check vs pandas/calamine, PostgreSQL load rate
  bench/linkage.py             our matcher vs the Splink 5 + DuckDB baseline
  bench/linkage_evaluate.py    the labelled linkage test bed (synthetic registry, messy rows, truth, metrics)
  bench/eligibility.py         the rules engine vs the plain pandas oracle
  bench/eligibility_baseline.py  that oracle: the rules as boolean masks and merges (also used by the tests)
  bench/reports.py             build and send every report on a city-sized warehouse

Each measurement runs in a fresh subprocess so peak memory (ru_maxrss from wait4) belongs to that step alone; wall
time is the median of `--repeat` runs. Synthetic data comes from `tkpk synth`, cached under `.bench/` by seed and size.
Stage benchmarks print one JSON object per measurement on their last stdout line; this harness collects them into
`var/bench/results-<scale>.json` and a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

from tkpk.settings import PROJECT_ROOT

# Benchmark files are complete when written: no landing settle wait.
os.environ.setdefault("TKPK_SETTLE_SECONDS", "0")

SCALES = {
    # households, seed; a month of submissions scales with the registry (~100,000 rows at city size)
    "tiny": {"households": 2_000, "seed": 11},
    "city": {"households": 170_000, "seed": 7},
    "province": {"households": 1_000_000, "seed": 8},
}


@dataclass
class Measurement:
    step: str
    wall_s: list[float]
    peak_rss_mb: float
    rows: int | None = None
    extra: dict = field(default_factory=dict)
    cpu_s: list[float] = field(default_factory=list)
    load_1m: list[float] = field(default_factory=list)

    @property
    def median_s(self) -> float:
        return statistics.median(self.wall_s)

    def as_dict(self) -> dict:
        out = {"step": self.step, "median_s": round(self.median_s, 3), "runs_s": [round(w, 3) for w in self.wall_s],
               "peak_rss_mb": round(self.peak_rss_mb, 1)}
        if self.cpu_s:
            out["cpu_s"] = round(statistics.median(self.cpu_s), 2)
        if self.load_1m:
            out["load_1m"] = [round(x, 1) for x in self.load_1m]
        if self.rows:
            out["rows"] = self.rows
            out["rows_per_s"] = round(self.rows / self.median_s) if self.median_s else None
        out.update(self.extra)
        return out


def run_measured(argv: list[str], env: dict | None = None) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, env=env or os.environ.copy(), cwd=PROJECT_ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:6])} ... failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.stdout


def last_json(stdout: str) -> dict:
    """The JSON object a stage benchmark prints last (one line, or an indented block starting with '{')."""
    lines = stdout.strip().splitlines()
    if not lines:
        return {}
    try:
        value = json.loads(lines[-1])
        return value if isinstance(value, dict) else {}
    except ValueError:
        pass
    for i in range(len(lines) - 1, -1, -1):
        if lines[i] == "{":
            try:
                value = json.loads("\n".join(lines[i:]))
                return value if isinstance(value, dict) else {}
            except ValueError:
                return {}
    return {}


def measure(step: str, argv: list[str], *, repeat: int, rows: int | None = None, env: dict | None = None,
            setup: list[str] | None = None, parse=last_json, log: str | None = None) -> Measurement:
    """Run `argv` `repeat` times, each in its own wrapper process (so ru_maxrss and CPU cover exactly that run).
    `parse(stdout)` turns the last run's output into extra fields (ratios, counts); `log` keeps that output."""
    walls, cpus, loads, peaks, stdout = [], [], [], [], ""
    for _ in range(repeat):
        if setup:
            subprocess.run(setup, check=True, cwd=PROJECT_ROOT, env=env, capture_output=True)
        wrapped = [sys.executable, "-m", "bench.peak", "--", *argv]
        out = run_measured(wrapped, env=env)
        info = json.loads(out.strip().splitlines()[-1])
        walls.append(info["wall_s"])
        cpus.append(info["cpu_s"])
        loads.append(info["load_1m"])
        peaks.append(info["peak_rss_mb"])
        stdout = info.get("stdout", "")
    if log:
        os.makedirs(os.path.dirname(log), exist_ok=True)
        with open(log, "w") as fh:
            fh.write(stdout)
    extra = parse(stdout) or {}
    return Measurement(step, walls, max(peaks), rows, extra, cpus, loads)


def machine() -> dict:
    mem_kb = 0
    try:
        with open("/proc/meminfo") as fh:
            mem_kb = int(fh.readline().split()[1])
    except OSError:
        pass
    import importlib.metadata as md

    versions = {}
    for pkg in ("apache-airflow", "pandas", "great-expectations", "splink", "duckdb", "sqlalchemy", "python-calamine"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return {"cores": os.cpu_count(), "memory_gb": round(mem_kb / 1024 / 1024, 1), "python": platform.python_version(),
            "platform": platform.platform(), "versions": versions, "date": time.strftime("%Y-%m-%d")}


def markdown_table(results: list[dict]) -> str:
    lines = ["| step | median wall s | runs (s) | CPU s | load 1m | peak MB | rows | rows/s | notes |",
             "|---|---:|---|---:|---|---:|---:|---:|---|"]
    skip = {"step", "median_s", "runs_s", "cpu_s", "load_1m", "peak_rss_mb", "rows", "rows_per_s"}
    for r in results:
        notes = ", ".join(f"{k}={v}" for k, v in r.items() if k not in skip and not isinstance(v, (dict, list)))
        loads = "/".join(str(x) for x in r.get("load_1m", []))
        lines.append(f"| {r['step']} | {r['median_s']} | {', '.join(map(str, r['runs_s']))} | {r.get('cpu_s', '')} | "
                     f"{loads} | {r['peak_rss_mb']} | {r.get('rows', '')} | {r.get('rows_per_s', '')} | {notes} |")
    return "\n".join(lines)
