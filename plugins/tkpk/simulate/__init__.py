"""What-if planning (`tkpk simulate`, the `tkpk_simulate` DAG): the month recomputed under other rules or budgets.

Not a step of the monthly run: it reads what the monthly run stored (snapshot, registry events, linked submission
rows) or the same CSV files `tkpk eligibility --registry` reads, runs the same engine (`tkpk.eligibility.rules`)
under the current rule set (the baseline) and under each scenario (`scenario.py`), and writes only its own tables
(`simulation_scenario`, `simulation_diff`) or files. The month's decisions, changes and reports are never altered.

    simulate_files(registry_dir, period, submissions_dir, scenarios)  -> Simulation (offline)
    simulate_warehouse(settings, period, scenarios)                   -> Simulation (what the DAG runs)
    save(settings, simulation, requested_by=None)                     -> scenario ids
    diff_csv(simulation) / write_diff(simulation, out)                -> DIFF.csv
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from tkpk.simulate.scenario import Scenario, build_scenario, parse_set

log = logging.getLogger(__name__)

__all__ = ["ScenarioSpec", "Scenario", "build_scenario", "build_scenarios", "parse_set", "simulate_files",
           "simulate_warehouse", "save", "diff_csv", "write_diff", "summary_json"]


@dataclass
class ScenarioSpec:
    """A scenario as asked for: a name, --set lines, an optional --rules file."""

    name: str
    sets: list[str]
    rules_file: str | None = None


def build_scenarios(config, specs: list[ScenarioSpec]) -> list[Scenario]:
    """Validate every scenario against the current config; ConfigError (Indonesian) on the first mistake."""
    return [build_scenario(s.name, config.programs, config.budget, s.sets, s.rules_file) for s in specs]


def simulate_files(registry_dir, period, submissions_dir, config, scenarios: list[Scenario], reference_dir=None):
    import time

    from tkpk.eligibility.files import file_inputs
    from tkpk.simulate.engine import run_scenarios

    t, c = time.perf_counter(), time.process_time()
    f = file_inputs(registry_dir, period, submissions_dir, config.programs, config.types, reference_dir)
    took = (round(time.perf_counter() - t, 2), round(time.process_time() - c, 2))

    def inputs_for(programs):
        return file_inputs(registry_dir, period, submissions_dir, programs, config.types, reference_dir).inputs

    sim = run_scenarios(f.state, f.inputs, config.programs, config.budget, scenarios, inputs_for)
    sim.inputs_seconds, sim.inputs_cpu_seconds = took
    return sim


def simulate_warehouse(settings, period, scenarios: list[Scenario], config=None):
    import time

    from tkpk.config import load_config
    from tkpk.simulate.engine import run_scenarios
    from tkpk.simulate.store import warehouse_inputs

    config = config or load_config(settings.config_dir)
    t, c = time.perf_counter(), time.process_time()
    state, inputs, snapshot_id, inputs_for = warehouse_inputs(settings, period, config)
    took = (round(time.perf_counter() - t, 2), round(time.process_time() - c, 2))
    sim = run_scenarios(state, inputs, config.programs, config.budget, scenarios, inputs_for)
    sim.snapshot_id = snapshot_id
    sim.inputs_seconds, sim.inputs_cpu_seconds = took
    return sim


def save(settings, simulation, requested_by: str | None = None, request_id: str | None = None) -> list[int]:
    from tkpk.simulate.store import save_simulation

    return save_simulation(settings, simulation, requested_by, request_id)


def diff_csv(simulation):
    import pandas as pd

    from tkpk.simulate.engine import DIFF_COLUMNS

    frames = [r.diff[DIFF_COLUMNS] for r in simulation.results if len(r.diff)]
    if not frames:
        return pd.DataFrame(columns=DIFF_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    for col in ("baseline_eligible", "scenario_eligible"):
        out[col] = out[col].map({True: "true", False: "false"})
    return out


def write_diff(simulation, out: str | Path) -> int:
    frame = diff_csv(simulation)
    frame.to_csv(out, index=False, encoding="utf-8")
    return len(frame)


def summary_json(simulation) -> dict:
    """Counts and rupiah only (no personal data): what `--json` prints and the DAG passes on."""
    return {
        "period": simulation.period,
        "rule_set_version": simulation.baseline_programs.rule_set_version,
        "inputs_seconds": simulation.inputs_seconds,
        "inputs_cpu_seconds": simulation.inputs_cpu_seconds,
        "baseline_seconds": simulation.baseline_seconds,
        "baseline_cpu_seconds": simulation.baseline_cpu_seconds,
        "scenarios": [{
            "scenario": r.scenario.name,
            "overrides": [o.text for o in r.scenario.overrides],
            "rules_file": r.scenario.rules_file,
            "programs_recomputed": r.scenario.touched,
            "differences": len(r.diff),
            "seconds": r.seconds,
            "cpu_seconds": r.cpu_seconds,
            "programs": r.summary,
        } for r in simulation.results],
    }
