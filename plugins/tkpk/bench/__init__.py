"""`make bench`: one harness that measures every stage as the pipeline runs it, at city or province scale.

Each measurement runs in a fresh subprocess so peak memory (ru_maxrss from wait4) belongs to that step alone; wall
time is the median of `--repeat` runs. Synthetic data comes from `tkpk synth`, cached under `.bench/` by seed and size.
Stage benchmarks that compare against a floor or a peer (calamine/read_csv, Splink, plain pandas) live beside their
stage (`tkpk.<stage>.bench`) and print one JSON object per measurement on their last stdout line; this harness
collects them into `var/bench/results-<scale>.json` and a Markdown table for BENCHMARKS.md.
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

    @property
    def median_s(self) -> float:
        return statistics.median(self.wall_s)

    def as_dict(self) -> dict:
        out = {"step": self.step, "median_s": round(self.median_s, 3), "runs_s": [round(w, 3) for w in self.wall_s],
               "peak_rss_mb": round(self.peak_rss_mb, 1)}
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


def measure(step: str, argv: list[str], *, repeat: int, rows: int | None = None, env: dict | None = None,
            setup: list[str] | None = None) -> Measurement:
    walls, peaks, last_out = [], [], ""
    for _ in range(repeat):
        if setup:
            subprocess.run(setup, check=True, cwd=PROJECT_ROOT, env=env, capture_output=True)
        # a wrapper process per run so ru_maxrss covers exactly this run
        wrapped = [sys.executable, "-m", "tkpk.bench.peak", "--", *argv]
        out = run_measured(wrapped, env=env)
        info = json.loads(out.strip().splitlines()[-1])
        walls.append(info["wall_s"])
        peaks.append(info["peak_rss_mb"])
        last_out = info.get("stdout_tail", "")
    extra = {}
    tail = last_out.strip().splitlines()
    if tail:
        try:
            extra = json.loads(tail[-1])
        except ValueError:
            extra = {}
    return Measurement(step, walls, max(peaks), rows, extra if isinstance(extra, dict) else {})


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
    lines = ["| step | median s | runs (s) | peak MB | rows | rows/s | notes |", "|---|---:|---|---:|---:|---:|---|"]
    for r in results:
        notes = ", ".join(f"{k}={v}" for k, v in r.items()
                          if k not in {"step", "median_s", "runs_s", "peak_rss_mb", "rows", "rows_per_s"})
        lines.append(f"| {r['step']} | {r['median_s']} | {', '.join(map(str, r['runs_s']))} | {r['peak_rss_mb']} | "
                     f"{r.get('rows', '')} | {r.get('rows_per_s', '')} | {notes} |")
    return "\n".join(lines)
