"""Smoke test of the benchmark harness (bench): the wrapper measures wall, CPU and peak memory of a real child,
the stage outputs are parsed into the figures BENCHMARKS.md quotes, and a tiny-scale registry step runs end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench import Measurement, last_json, markdown_table, measure
from bench.__main__ import parse_eligibility, parse_ingest, parse_reports

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT / "plugins"))


def test_peak_reports_memory_and_cpu_of_the_child():
    # the child allocates ~200 MB and burns some CPU: the wrapper must see both
    code = "b = bytearray(200 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); s = sum(range(3_000_000)); print(s)"
    out = subprocess.run([sys.executable, "-m", "bench.peak", "--", sys.executable, "-c", code],
                         capture_output=True, text=True, env=_env(), check=True)
    info = json.loads(out.stdout.strip().splitlines()[-1])
    assert info["peak_rss_mb"] > 190
    assert info["cpu_s"] > 0.02
    assert info["wall_s"] >= info["cpu_s"] * 0.5
    assert info["stdout"].strip() == str(sum(range(3_000_000)))


def test_peak_propagates_failure():
    proc = subprocess.run([sys.executable, "-m", "bench.peak", "--", sys.executable, "-c", "raise SystemExit(3)"],
                          capture_output=True, text=True, env=_env())
    assert proc.returncode == 3


def test_measure_medians_and_parses_the_last_json(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT / "plugins"))
    m = measure("echo", [sys.executable, "-c", "print('noise'); print('{\"ratio\": 2.5}')"], repeat=3)
    assert len(m.wall_s) == 3 and len(m.cpu_s) == 3 and len(m.load_1m) == 3
    row = m.as_dict()
    assert row["ratio"] == 2.5
    assert row["median_s"] == round(sorted(m.wall_s)[1], 3)
    table = markdown_table([row])
    assert "| echo |" in table and "ratio=2.5" in table


def test_parsers_read_stage_outputs():
    assert last_json('text\n{\n  "a": {"b": 1}\n}') == {"a": {"b": 1}}
    assert last_json("no json here") == {}
    ingest = {"xlsx": {"pandas_calamine_s": 1.5, "validate_s": 3.0, "ratio": 2.0, "ratio_cpu": 1.8},
              "csv": {"validate_s": 4.2, "validate_cpu_s": 3.9},
              "load": {"load_s": 10.0, "write_rows_per_s": 150_000.4, "end_to_end_rows_per_s": 99_000.2}}
    parsed = parse_ingest("Beban...\n" + json.dumps(ingest, indent=2))
    assert parsed["xlsx_ratio"] == 2.0 and parsed["csv_read_check_s"] == 4.2
    assert parsed["pg_write_rows_per_s"] == 150_000
    assert parse_reports("fill: 3.0 s {}\nbuild_reports: 11.7 s, 14 reports\nsend_reports: 13.1 s, 19 messages") == {
        "build_reports_s": 11.7, "send_reports_s": 13.1}
    line = "one month (state + decide + targeting + changes): 17.20 s (cpu 8.70 s); peak 1280 MB"
    assert parse_eligibility(f"x\n{line}\n") == {"engine": "17.20 s (cpu 8.70 s)"}
    assert Measurement("x", [1.0, 3.0, 2.0], 10.0, rows=100).as_dict()["rows_per_s"] == 50


def test_harness_tiny_registry_end_to_end(tmp_path):
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, "-m", "bench", "--scale", "tiny", "--only", "registry", "--repeat", "1",
                           "--out", str(out)], capture_output=True, text=True, env=_env(), cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(out.read_text())
    (row,) = report["results"]
    assert row["step"].startswith("registry load")
    assert row["rows"] > 5_000  # 2,000 households -> ~7,300 persons
    assert row["peak_rss_mb"] > 50 and row["cpu_s"] > 0
    assert report["machine"]["cores"] >= 1 and "pandas" in report["machine"]["versions"]
    assert "| registry load (SQLite) |" in proc.stdout


def test_harness_tiny_simulate_end_to_end(tmp_path):
    """`make bench`'s simulate step: the month's files as canonical CSVs, then three `tkpk simulate` runs."""
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, "-m", "bench", "--scale", "tiny", "--only", "simulate", "--repeat", "1",
                           "--out", str(out)], capture_output=True, text=True, env=_env(), cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads(out.read_text())["results"]
    assert [r["step"] for r in rows] == [
        "simulate: one scenario (bpjs_tk.quota.size=60)", "simulate: three one-program scenarios",
        "simulate: one scenario touching every program",
        "simulate: three one-program / one all-program (target < 1.5)"]
    assert rows[0]["recomputed"] == [1] and rows[1]["recomputed"] == [1, 2, 1] and rows[2]["recomputed"] == [8]
    assert rows[0]["baseline_s"] > 0 and rows[3]["median_s"] > 0
