"""`tkpk simulate` on the warehouse (SQLite and PostgreSQL): the month's official tables stay byte-for-byte the same,
the no-override scenario reproduces the official month, and scenarios land in their own tables."""

from __future__ import annotations

import csv
import json

from sqlalchemy import select

from tests.eligibility.test_store import scenario as october
from tkpk.cli import main
from tkpk.eligibility import run_period
from tkpk.warehouse import session_scope
from tkpk.warehouse.models import (
    EligibilityChange,
    EligibilityDecision,
    RegistryEvent,
    SendLog,
    SimulationDiff,
    SimulationScenario,
    TargetingResult,
)

OFFICIAL = (EligibilityDecision, EligibilityChange, TargetingResult, RegistryEvent, SendLog)


def dump(url: str) -> dict[str, list[str]]:
    """Every row of every official table, every column (primary keys included), as sorted JSON lines."""
    out = {}
    with session_scope(url) as s:
        for model in OFFICIAL:
            cols = list(model.__table__.columns)
            rows = s.execute(select(*cols)).all()
            out[model.__tablename__] = sorted(json.dumps(list(r), default=str, sort_keys=True) for r in rows)
    return out


def simulate(url: str, tmp_path, capsys, *args: str) -> tuple[list[dict], dict]:
    out = tmp_path / "diff.csv"
    assert main(["simulate", "--period", "2026-10", "--database-url", url, "--out", str(out), "--json",
                 "--requested-by", "analis@bappeda.jambikota.example", *args]) == 0
    summary = json.loads(capsys.readouterr().out)
    with open(out, encoding="utf-8") as fh:
        return list(csv.DictReader(fh)), summary


def test_official_tables_unchanged_and_no_override_equals_the_official_month(warehouse, tmp_path, capsys):
    url = warehouse
    settings, _ = october(url, tmp_path)
    run_period(settings, "2026-09")
    run_period(settings, "2026-10")
    before = dump(url)
    assert before["eligibility_decision"], "the official month has decisions"

    rows, summary = simulate(url, tmp_path, capsys)
    assert rows == []
    with session_scope(url) as s:
        official = s.execute(select(EligibilityDecision.program, EligibilityDecision.id_keluarga,
                                    EligibilityDecision.id_art, EligibilityDecision.benefit_rupiah).where(
            EligibilityDecision.period == "2026-10", EligibilityDecision.eligible.is_(True))).all()
    for p in summary["scenarios"][0]["programs"]:
        mine = [r for r in official if r.program == p["program"]]
        assert p["units_before"] == p["units_after"] == len(mine), p["program"]
        assert p["families_before"] == len({r.id_keluarga for r in mine}), p["program"]
        assert p["rupiah_before"] == p["rupiah_after"] == sum(r.benefit_rupiah for r in mine), p["program"]

    # two scenarios, one with differences: stored under their own ids, the official month untouched
    rows, summary = simulate(url, tmp_path, capsys, "--scenario", "desil1", "--set", "bpjs_tk.desil.max=1",
                             "--scenario", "bpnt", "--set", "bpnt.amount=2700000")
    assert dump(url) == before
    assert {r["scenario"] for r in rows} == {"desil1", "bpnt"}
    # rule set 2026.2 reaches desil 1-4: K2's informal worker (desil 2, 46 years old) leaves when only desil 1 counts
    assert [(r["id_art"], r["scenario_eligible"]) for r in rows if r["scenario"] == "desil1"] == [("K2b", "false")]
    ids = [s["scenario_id"] for s in summary["scenarios"]]
    with session_scope(url) as s:
        stored = {r.scenario_id: r for r in s.scalars(select(SimulationScenario))}
        assert set(ids) <= set(stored)
        assert stored[ids[0]].overrides == ["bpjs_tk.desil.max=1"] and stored[ids[0]].period == "2026-10"
        assert stored[ids[0]].requested_by == "analis@bappeda.jambikota.example"
        diffs = s.scalars(select(SimulationDiff).where(SimulationDiff.scenario_id == ids[1])).all()
    assert len(diffs) == len([r for r in rows if r["scenario"] == "bpnt"]) > 0
    assert all(d.program == "bpnt" and d.scenario_benefit == 2_700_000 for d in diffs)
    assert all(d.kode_kecamatan for d in diffs)
