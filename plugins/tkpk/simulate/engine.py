"""Baseline and scenarios over one registry state: the same engine (`tkpk.eligibility.rules.decide`) run with other
validated rules, never writing a decision of the month.

The baseline is the current rule set recomputed for the month (every program once, shared by all scenarios). A
scenario recomputes only the programs whose rules differ from the baseline (`Scenario.touched`) and the graduation
programs derived from them; every other program keeps the baseline's decisions. So three scenarios that each touch
one program cost about three one-program runs, not three whole runs.

Rows: the engine keeps only informative rows (see `rules`). To explain both sides of every difference, the scenario
run also keeps the units eligible in the baseline, and the units that become eligible only in the scenario are
looked up in a second baseline pass of the touched programs that keeps them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tkpk.config.budget import BudgetConfig
from tkpk.config.programs import Program, ProgramsConfig
from tkpk.eligibility import rules
from tkpk.simulate.scenario import Scenario
from tkpk.simulate.words import reasons_in_words

KEY = ["program", "id_keluarga", "id_art"]
DIFF_COLUMNS = [
    "scenario", "program", "id_keluarga", "id_art", "baseline_eligible", "scenario_eligible", "baseline_benefit",
    "scenario_benefit", "baseline_reasons", "scenario_reasons",
]
# what the scenario tables and the report keep beside the CSV columns (codes, not words; areas; ranks)
DIFF_EXTRA = ["kode_kelurahan", "kode_kecamatan", "baseline_rank", "scenario_rank", "baseline_codes",
              "scenario_codes"]
EXTREME_POOR = "miskin_ekstrem"
AREA_COLUMNS = ["program", "kode_kelurahan", "kode_kecamatan", "families_gained", "families_lost", "persons_gained",
                "persons_lost", "rupiah_before", "rupiah_after"]


@dataclass
class ScenarioResult:
    scenario: Scenario
    diff: pd.DataFrame  # DIFF_COLUMNS + DIFF_EXTRA
    summary: list[dict]  # one per program
    areas: pd.DataFrame | None = None  # AREA_COLUMNS: per touched program and kelurahan
    seconds: float = 0.0
    cpu_seconds: float = 0.0


@dataclass
class Simulation:
    period: str
    baseline_programs: ProgramsConfig
    baseline_budget: BudgetConfig
    baseline: pd.DataFrame  # decisions of the current rule set
    results: list[ScenarioResult] = field(default_factory=list)
    baseline_seconds: float = 0.0
    baseline_cpu_seconds: float = 0.0
    inputs_seconds: float = 0.0  # reading the month (files or warehouse) and the registry state at E
    inputs_cpu_seconds: float = 0.0
    snapshot_id: int | None = None


def _subset(programs: ProgramsConfig, codes: list[str]) -> ProgramsConfig | None:
    """The programs in `codes` plus the sources their graduation programs derive from, in config order."""
    wanted = set(codes)
    for p in programs.programs:
        if p.code in wanted and p.kind == "graduation":
            wanted.add(p.graduates_from)
    chosen = [p for p in programs.programs if p.code in wanted]
    if not chosen:
        return None
    return ProgramsConfig.model_validate({"rule_set_version": programs.rule_set_version, "programs": chosen})


def _unit(program: Program) -> str:
    return "id_art" if program.unit == "person" else "id_keluarga"


def _with_keep(inputs: rules.RuleInputs, extra: dict[str, pd.Index]) -> rules.RuleInputs:
    keep = dict(inputs.keep)
    for code, ids in extra.items():
        if len(ids):
            keep[code] = pd.Index(ids, dtype=object) if code not in keep else keep[code].append(
                pd.Index(ids, dtype=object)).unique()
    return rules.RuleInputs(inputs.completed, inputs.active_households, keep)


def _eligible_ids(decisions: pd.DataFrame, programs: ProgramsConfig, codes: list[str]) -> dict[str, pd.Index]:
    out = {}
    for code in codes:
        try:
            program = programs.get(code)
        except KeyError:
            continue
        rows = decisions[(decisions["program"] == code).to_numpy() & decisions["eligible"].to_numpy(bool)]
        out[code] = pd.Index(rows[_unit(program)].unique(), dtype=object)
    return out


def _keys(frame: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays([frame[c].to_numpy(object) for c in KEY])


def run_scenarios(state: rules.RegistryState, inputs: rules.RuleInputs, base_programs: ProgramsConfig,
                  base_budget: BudgetConfig, scenarios: list[Scenario],
                  inputs_for: Callable[[ProgramsConfig], rules.RuleInputs] | None = None) -> Simulation:
    """Baseline once, then each scenario; `inputs_for(programs)` gives rule inputs for a rule set whose row sources
    differ from the baseline's (a whole --rules file), else `inputs` serve every scenario."""
    import time

    t0, c0 = time.perf_counter(), time.process_time()
    baseline = rules.decide(state, base_programs, inputs)
    sim = Simulation(str(state.period), base_programs, base_budget, baseline,
                     baseline_seconds=round(time.perf_counter() - t0, 2),
                     baseline_cpu_seconds=round(time.process_time() - c0, 2))
    active = pd.Series(state.households["n_active"].to_numpy(np.int64),
                       index=pd.Index(state.households["id_keluarga"], dtype=object))
    for scenario in scenarios:
        t1, c1 = time.perf_counter(), time.process_time()
        sim.results.append(_run_one(state, inputs, base_programs, base_budget, baseline, scenario, active,
                                    inputs_for))
        sim.results[-1].seconds = round(time.perf_counter() - t1, 2)
        sim.results[-1].cpu_seconds = round(time.process_time() - c1, 2)
    return sim


def _run_one(state, inputs, base_programs, base_budget, baseline, scenario: Scenario, active: pd.Series,
             inputs_for) -> ScenarioResult:
    touched = scenario.touched
    new_codes = {p.code for p in scenario.programs.programs}
    base_codes = {p.code for p in base_programs.programs}
    sub = _subset(scenario.programs, [c for c in touched if c in new_codes])
    scen_inputs = inputs
    if sub is not None and inputs_for is not None:
        sources_changed = any(
            (p.recipients, p.completed_from, p.active_from) != (
                (lambda b: (b.recipients, b.completed_from, b.active_from))(base_programs.get(p.code))
                if p.code in base_codes else (None, None, None))
            for p in sub.programs)
        if sources_changed:
            scen_inputs = inputs_for(sub)
    touched_rows = pd.DataFrame(columns=rules.DECISION_COLUMNS)
    if sub is not None:
        keep = _eligible_ids(baseline, base_programs, touched)
        touched_rows = rules.decide(state, sub, _with_keep(scen_inputs, keep))
        touched_rows = touched_rows[touched_rows["program"].isin(touched).to_numpy()]
    in_touched = baseline["program"].isin(touched).to_numpy()
    base_touched = baseline[in_touched]

    # scenario-eligible units the baseline did not keep: a second baseline pass of those programs that keeps them
    scen_eligible = touched_rows[touched_rows["eligible"].to_numpy(bool)]
    missing = scen_eligible[~_keys(scen_eligible).isin(_keys(base_touched))]
    if len(missing):
        codes = [c for c in dict.fromkeys(missing["program"]) if c in base_codes]
        base_sub = _subset(base_programs, codes)
        if base_sub is not None:
            extra = _eligible_ids(missing, scenario.programs, codes)
            again = rules.decide(state, base_sub, _with_keep(inputs, extra))
            again = again[again["program"].isin(codes).to_numpy()]
            found = again[_keys(again).isin(_keys(missing))]
            base_touched = pd.concat([base_touched, found], ignore_index=True)

    diff = _diff(scenario.name, base_touched, touched_rows, base_programs, scenario.programs, touched)
    scen_all = pd.concat([baseline[~in_touched], touched_rows], ignore_index=True)
    summary = summarize(baseline, scen_all, base_programs, scenario.programs, base_budget, scenario.budget, active,
                        state)
    return ScenarioResult(scenario, diff, summary, areas(baseline, touched_rows, touched, base_programs,
                                                         scenario.programs, active, state))


def areas(before: pd.DataFrame, after: pd.DataFrame, touched: list[str], base_programs: ProgramsConfig,
          new_programs: ProgramsConfig, active: pd.Series, state: rules.RegistryState) -> pd.DataFrame:
    """Per touched program and kelurahan (of the household): families and persons gained and lost, rupiah per year
    before and after. A family counts as covered when at least one of its units is eligible."""
    units = {p.code: p.unit for p in base_programs.programs}
    units.update({p.code: p.unit for p in new_programs.programs})
    hh = state.households
    kel_of = pd.Series(hh["kode_kelurahan"].to_numpy(object), index=pd.Index(hh["id_keluarga"], dtype=object))
    frames = []
    for code in touched:
        eb, ea = _eligible(before, code), _eligible(after, code)
        fam_b, fam_a = set(eb["id_keluarga"]), set(ea["id_keluarga"])
        gained, lost = fam_a - fam_b, fam_b - fam_a
        rows = []
        for fams, col in ((gained, "families_gained"), (lost, "families_lost")):
            if fams:
                ids = pd.Index(list(fams), dtype=object)
                rows.append(pd.DataFrame({"kode_kelurahan": kel_of.reindex(ids).to_numpy(object), col: 1}))
        if units.get(code) == "person":
            pb, pa = set(eb["id_art"]), set(ea["id_art"])
            for frame, ids, col in ((ea, pa - pb, "persons_gained"), (eb, pb - pa, "persons_lost")):
                if ids:
                    sel = frame[frame["id_art"].isin(list(ids)).to_numpy()]
                    rows.append(pd.DataFrame({"kode_kelurahan": sel["kode_kelurahan"].to_numpy(object), col: 1}))
        else:
            for fams, col in ((gained, "persons_gained"), (lost, "persons_lost")):
                if fams:
                    ids = pd.Index(list(fams), dtype=object)
                    rows.append(pd.DataFrame({"kode_kelurahan": kel_of.reindex(ids).to_numpy(object),
                                              col: active.reindex(ids).fillna(0).to_numpy(np.int64)}))
        for frame, col in ((eb, "rupiah_before"), (ea, "rupiah_after")):
            if len(frame):
                rows.append(pd.DataFrame({"kode_kelurahan": frame["kode_kelurahan"].to_numpy(object),
                                          col: frame["benefit_rupiah"].to_numpy(np.int64)}))
        if not rows:
            continue
        table = pd.concat(rows, ignore_index=True).groupby("kode_kelurahan", sort=True).sum(numeric_only=True)
        table = table.reindex(columns=AREA_COLUMNS[3:], fill_value=0).fillna(0).astype("int64").reset_index()
        table.insert(0, "program", code)
        table.insert(2, "kode_kecamatan", table["kode_kelurahan"].str[:8])
        frames.append(table)
    if not frames:
        return pd.DataFrame(columns=AREA_COLUMNS)
    return pd.concat(frames, ignore_index=True)[AREA_COLUMNS]


def _diff(name: str, before: pd.DataFrame, after: pd.DataFrame, base_programs: ProgramsConfig,
          new_programs: ProgramsConfig, touched: list[str]) -> pd.DataFrame:
    cols = KEY + ["kode_kelurahan", "kode_kecamatan", "eligible", "benefit_rupiah", "reasons", "rank"]
    b = before[cols].drop_duplicates(KEY)
    a = after[cols].drop_duplicates(KEY)
    m = b.merge(a, on=KEY, how="outer", suffixes=("_b", "_s"))
    if m.empty:
        return pd.DataFrame(columns=DIFF_COLUMNS + DIFF_EXTRA)
    eb = m["eligible_b"].astype(object).where(m["eligible_b"].notna(), False).astype(bool)
    es = m["eligible_s"].astype(object).where(m["eligible_s"].notna(), False).astype(bool)
    vb = pd.to_numeric(m["benefit_rupiah_b"], errors="coerce").fillna(0).astype("int64")
    vs = pd.to_numeric(m["benefit_rupiah_s"], errors="coerce").fillna(0).astype("int64")
    differs = (eb != es) | (vb != vs)
    m, eb, es, vb, vs = m[differs], eb[differs], es[differs], vb[differs], vs[differs]
    base_codes = {p.code for p in base_programs.programs}
    new_codes = {p.code for p in new_programs.programs}
    codes_b = [r if isinstance(r, str) else ("program_tidak_ada" if p not in base_codes else "")
               for r, p in zip(m["reasons_b"], m["program"], strict=True)]
    codes_s = [r if isinstance(r, str) else ("program_tidak_ada" if p not in new_codes else "")
               for r, p in zip(m["reasons_s"], m["program"], strict=True)]
    rank_b = m["rank_b"].astype(object).where(m["rank_b"].notna(), None)
    rank_s = m["rank_s"].astype(object).where(m["rank_s"].notna(), None)
    kel = m["kode_kelurahan_s"].where(m["kode_kelurahan_s"].notna(), m["kode_kelurahan_b"])
    kec = m["kode_kecamatan_s"].where(m["kode_kecamatan_s"].notna(), m["kode_kecamatan_b"])
    out = pd.DataFrame({
        "scenario": name,
        "program": m["program"].to_numpy(object),
        "id_keluarga": m["id_keluarga"].to_numpy(object),
        "id_art": m["id_art"].fillna("").to_numpy(object),
        "baseline_eligible": eb.to_numpy(bool),
        "scenario_eligible": es.to_numpy(bool),
        "baseline_benefit": vb.to_numpy(np.int64),
        "scenario_benefit": vs.to_numpy(np.int64),
        "baseline_reasons": [reasons_in_words(c, r) for c, r in zip(codes_b, rank_b, strict=True)],
        "scenario_reasons": [reasons_in_words(c, r) for c, r in zip(codes_s, rank_s, strict=True)],
        "kode_kelurahan": kel.to_numpy(object),
        "kode_kecamatan": kec.to_numpy(object),
        "baseline_rank": rank_b.to_numpy(object),
        "scenario_rank": rank_s.to_numpy(object),
        "baseline_codes": codes_b,
        "scenario_codes": codes_s,
    })
    order = {c: i for i, c in enumerate(touched)}
    out = out.assign(_o=out["program"].map(order).fillna(len(order))).sort_values(
        ["_o", "id_keluarga", "id_art"], kind="stable").drop(columns="_o")
    return out.reset_index(drop=True)[DIFF_COLUMNS + DIFF_EXTRA]


# --- summaries -------------------------------------------------------------------------------------------------------


def _eligible(decisions: pd.DataFrame, code: str) -> pd.DataFrame:
    return decisions[(decisions["program"] == code).to_numpy() & decisions["eligible"].to_numpy(bool)]


def _pagu(budget: BudgetConfig, code: str, eligible: pd.DataFrame, rupiah: int) -> dict:
    entry = budget.for_program(code)
    if entry is None:
        return {"pagu": None, "sisa": None, "cukup": None, "kelurahan_melebihi_pagu": None}
    out = {"pagu": entry.tahunan, "sisa": None if entry.tahunan is None else entry.tahunan - rupiah,
           "cukup": None if entry.tahunan is None else rupiah <= entry.tahunan, "kelurahan_melebihi_pagu": None}
    if entry.per_kelurahan is not None or entry.kelurahan:
        spent = eligible.groupby("kode_kelurahan")["benefit_rupiah"].sum()
        over = 0
        for kel, amount in spent.items():
            limit = entry.for_kelurahan(kel)
            if limit is not None and int(amount) > limit:
                over += 1
        out["kelurahan_melebihi_pagu"] = over
    return out


def summarize(before: pd.DataFrame, after: pd.DataFrame, base_programs: ProgramsConfig,
              new_programs: ProgramsConfig, base_budget: BudgetConfig, new_budget: BudgetConfig,
              active: pd.Series, state: rules.RegistryState) -> list[dict]:
    """Per program: units, families and persons before/after, gained and lost, rupiah per year, waiting list,
    extreme-poor coverage and the fit against the pagu. Persons of a household program are its active members."""
    programs = {p.code: p for p in base_programs.programs}
    programs.update({p.code: p for p in new_programs.programs if p.code not in programs})

    def extreme(decisions: pd.DataFrame, cfg: ProgramsConfig) -> set:
        if any(p.code == EXTREME_POOR for p in cfg.programs):
            return set(_eligible(decisions, EXTREME_POOR)["id_keluarga"])
        hh = state.households
        return set(hh.loc[(hh["desil"] == 1).to_numpy() & hh["has_active"].to_numpy(), "id_keluarga"])

    poor_b, poor_a = extreme(before, base_programs), extreme(after, new_programs)
    out = []
    for code, program in programs.items():
        eb, ea = _eligible(before, code), _eligible(after, code)
        fam_b, fam_a = set(eb["id_keluarga"]), set(ea["id_keluarga"])
        if program.unit == "person":
            pb, pa = set(eb["id_art"]), set(ea["id_art"])
            persons_b, persons_a = len(pb), len(pa)
            gained_p, lost_p = len(pa - pb), len(pb - pa)
        else:
            def members(ids) -> int:
                ids = list(ids)
                return int(active.reindex(pd.Index(ids, dtype=object)).fillna(0).sum()) if ids else 0
            persons_b, persons_a = members(fam_b), members(fam_a)
            gained_p, lost_p = members(fam_a - fam_b), members(fam_b - fam_a)
        rupiah_b, rupiah_a = int(eb["benefit_rupiah"].sum()), int(ea["benefit_rupiah"].sum())
        waiting = [int(((d["program"] == code) & ~d["eligible"].astype(bool) & d["rank"].notna()).sum())
                   for d in (before, after)]
        coverage = [None, None]
        if program.kind != "graduation" and code != EXTREME_POOR:
            coverage = [len(fam & poor) / len(poor) if poor else None
                        for fam, poor in ((fam_b, poor_b), (fam_a, poor_a))]
        out.append({
            "program": code,
            "name": program.name,
            "unit": program.unit,
            "units_before": len(eb), "units_after": len(ea),
            "families_before": len(fam_b), "families_after": len(fam_a),
            "families_gained": len(fam_a - fam_b), "families_lost": len(fam_b - fam_a),
            "persons_before": persons_b, "persons_after": persons_a,
            "persons_gained": gained_p, "persons_lost": lost_p,
            "rupiah_before": rupiah_b, "rupiah_after": rupiah_a,
            "waiting_before": waiting[0], "waiting_after": waiting[1],
            "extreme_poor_coverage_before": coverage[0], "extreme_poor_coverage_after": coverage[1],
            "pagu_before": _pagu(base_budget, code, eb, rupiah_b),
            "pagu_after": _pagu(new_budget, code, ea, rupiah_a),
        })
    return out
