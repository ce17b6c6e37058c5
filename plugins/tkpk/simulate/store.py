"""The warehouse side of `tkpk simulate`: read what the monthly run stored for a period (snapshot, registry events,
linked submission rows, last month's eligible units) exactly as `compute_eligibility` reads it, and write scenario
results to `simulation_scenario` / `simulation_diff`. Nothing here writes a table of the monthly run.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from tkpk.eligibility import rules
from tkpk.eligibility.store import (
    EligibilityError,
    _eligible_keys,
    _load_events,
    _load_registry,
    _load_sources,
    _period,
    _snapshot,
)
from tkpk.normalize.kelurahan import KelurahanIndex
from tkpk.warehouse import session_scope
from tkpk.warehouse.bulk import insert_frame
from tkpk.warehouse.models import SimulationDiff, SimulationScenario

__all__ = ["EligibilityError", "save_simulation", "warehouse_inputs"]


def warehouse_inputs(settings, period, config):
    """(registry state at E, rule inputs, snapshot id, inputs_for(programs)) for the whole city."""
    p = _period(period)
    P = str(p)
    kelurahan = KelurahanIndex.load(settings.reference_dir)
    with session_scope(settings.database_url) as s:
        snap = _snapshot(s, p)
        snapshot_id = snap.snapshot_id
        hh, pp = _load_registry(s, snapshot_id, None)
        events = _load_events(s, P)
        sources = _load_sources(s, config.programs, config, p, kelurahan)
        previous = _eligible_keys(s, str(p.previous()))
    sources.inputs.keep = rules.units_to_keep(config.programs, sources.recipients, previous)
    state = rules.registry_state(hh, pp, events, p)

    def inputs_for(programs) -> rules.RuleInputs:
        with session_scope(settings.database_url) as s:
            other = _load_sources(s, programs, config, p, kelurahan)
        other.inputs.keep = rules.units_to_keep(programs, other.recipients, previous)
        return other.inputs

    return state, sources.inputs, snapshot_id, inputs_for


def save_simulation(settings, simulation, requested_by: str | None = None, request_id: str | None = None) -> list[int]:
    """One simulation_scenario row per scenario and its differences; returns the scenario ids. A request (DAG run)
    saved again replaces what it saved before."""
    from sqlalchemy import delete, select

    ids = []
    with session_scope(settings.database_url) as s:
        if request_id:
            old = list(s.scalars(select(SimulationScenario.scenario_id).where(
                SimulationScenario.request_id == request_id)))
            if old:
                s.execute(delete(SimulationDiff).where(SimulationDiff.scenario_id.in_(old)))
                s.execute(delete(SimulationScenario).where(SimulationScenario.scenario_id.in_(old)))
        for result in simulation.results:
            row = SimulationScenario(
                period=simulation.period, name=result.scenario.name[:100],
                overrides=[o.text for o in result.scenario.overrides], rules_file=result.scenario.rules_file,
                rule_set_version=simulation.baseline_programs.rule_set_version,
                snapshot_id=simulation.snapshot_id, requested_by=requested_by, request_id=request_id, created_at=datetime.now(UTC),
                summary=result.summary)
            s.add(row)
            s.flush()
            ids.append(row.scenario_id)
            d = result.diff
            if len(d):
                frame = pd.DataFrame({
                    "scenario_id": row.scenario_id,
                    "program": d["program"].to_numpy(object),
                    "id_keluarga": d["id_keluarga"].to_numpy(object),
                    "id_art": d["id_art"].to_numpy(object),
                    "kode_kelurahan": d["kode_kelurahan"].to_numpy(object),
                    "kode_kecamatan": d["kode_kecamatan"].to_numpy(object),
                    "baseline_eligible": d["baseline_eligible"].to_numpy(bool),
                    "scenario_eligible": d["scenario_eligible"].to_numpy(bool),
                    "baseline_benefit": d["baseline_benefit"].to_numpy("int64"),
                    "scenario_benefit": d["scenario_benefit"].to_numpy("int64"),
                    "baseline_rank": pd.array(d["baseline_rank"].tolist(), dtype="Int64"),
                    "scenario_rank": pd.array(d["scenario_rank"].tolist(), dtype="Int64"),
                    "baseline_reasons": d["baseline_codes"].to_numpy(object),
                    "scenario_reasons": d["scenario_codes"].to_numpy(object),
                })
                insert_frame(s, SimulationDiff, frame)
    return ids
