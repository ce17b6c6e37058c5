"""`python -m tkpk.bench --scale city|province [--repeat 3] [--only synth,registry,...]`."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from tkpk.bench import SCALES, machine, markdown_table, measure
from tkpk.settings import PROJECT_ROOT

PY = sys.executable


def data_dir(scale: str) -> Path:
    cfg = SCALES[scale]
    return PROJECT_ROOT / ".bench" / f"{scale}-h{cfg['households']}-s{cfg['seed']}"


def ensure_data(scale: str) -> Path:
    """Synthetic data for the scale, generated once and cached by seed and size."""
    out = data_dir(scale)
    if not (out / "truth" / "manifest.json").exists():
        cfg = SCALES[scale]
        shutil.rmtree(out, ignore_errors=True)
        import subprocess

        subprocess.run([PY, "-m", "tkpk", "synth", "--out", str(out), "--period", "2026-10",
                        "--households", str(cfg["households"]), "--seed", str(cfg["seed"])], check=True)
    return out


def step_synth(scale: str, repeat: int) -> list[dict]:
    cfg = SCALES[scale]
    tmp = PROJECT_ROOT / ".bench" / "tmp-synth"
    m = measure("synth (registry + one month of submissions)",
                [PY, "-m", "tkpk", "synth", "--out", str(tmp), "--period", "2026-10",
                 "--households", str(cfg["households"]), "--seed", str(cfg["seed"])],
                repeat=repeat, rows=cfg["households"], setup=["rm", "-rf", str(tmp)])
    shutil.rmtree(tmp, ignore_errors=True)
    return [m.as_dict()]


def step_registry(scale: str, repeat: int) -> list[dict]:
    data = ensure_data(scale)
    manifest = json.loads((data / "truth" / "manifest.json").read_text())
    db = PROJECT_ROOT / ".bench" / "registry-bench.db"
    env = dict(os.environ, TKPK_DATABASE_URL=f"sqlite:///{db}")
    snapshot = manifest.get("snapshot_date", "2026-09-25")
    persons = sum(1 for _ in open(data / "registry" / "persons.csv")) - 1
    m = measure("registry load (SQLite)",
                [PY, "-m", "tkpk", "registry", "load", str(data / "registry"), "--snapshot-date", snapshot],
                repeat=repeat, rows=persons, env=env,
                setup=["sh", "-c", f"rm -f {db}* && {PY} -m tkpk db upgrade >/dev/null"])
    return [m.as_dict()]


def step_module(module: str, label: str, args: list[str], repeat: int) -> list[dict]:
    """A stage's own benchmark (it prints one JSON object on its last line with its comparisons)."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        return []
    m = measure(label, [PY, "-m", module, *args], repeat=repeat)
    return [m.as_dict()]


STEPS = ["synth", "registry", "ingest", "linkage", "eligibility"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tkpk.bench")
    parser.add_argument("--scale", choices=sorted(SCALES), default="city")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=",".join(STEPS))
    args = parser.parse_args(argv)
    only = args.only.split(",")
    results: list[dict] = []
    data = str(ensure_data(args.scale)) if set(only) - {"synth"} else ""
    for step in only:
        print(f"[bench] {step} ({args.scale}) ...", flush=True)
        if step == "synth":
            results += step_synth(args.scale, args.repeat)
        elif step == "registry":
            results += step_registry(args.scale, args.repeat)
        elif step == "ingest":
            results += step_module("tkpk.ingest.bench", "ingest: read + check + load", ["--data", data], args.repeat)
        elif step == "linkage":
            results += step_module("tkpk.linkage.bench", "linkage", ["--data", data], 1)
        elif step == "eligibility":
            results += step_module("tkpk.eligibility.bench", "eligibility", ["--data", data], args.repeat)
    out_dir = PROJECT_ROOT / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    report = {"scale": args.scale, "machine": machine(), "results": results}
    (out_dir / f"results-{args.scale}.json").write_text(json.dumps(report, indent=2))
    print(markdown_table(results))
    print(f"\nmachine: {report['machine']['cores']} cores, {report['machine']['memory_gb']} GB; "
          f"results in {out_dir / f'results-{args.scale}.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
