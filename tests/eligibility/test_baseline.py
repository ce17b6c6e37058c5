"""The engine against the plain pandas baseline (bench.eligibility_baseline) on the benchmark's synthetic registry:
every covered decision (eligible, benefit, quota rank, targeting category, recipients not found) must agree.

The generated month is enriched with the cases the generator does not make: undated events, events of a later
period or dated after E, a death and a return on the same day, moves out and back, a newborn who dies and is
reported by NIK only, a duplicate birth, a birth into an unknown household, old pregnancies with hpl before and after
E, birthdays exactly on E at every age bound, unknown birth dates, a person of an unknown household, recipients not
found reported twice; and a small BPJS TK quota so that the waiting list is long."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from bench import eligibility_baseline as baseline
from bench.eligibility import engine_month, synth_month, synth_registry
from tkpk.eligibility import rules
from tkpk.period import Period

PERIOD = Period.parse("2026-10")
E = pd.Timestamp(PERIOD.end)
AGE_BOUNDS = [0, 6, 7, 18, 19, 21, 22, 64, 65, 69, 70]


def _on_e_minus(years: int) -> date:
    return date(E.year - years, E.month, E.day)


def edge_households(hh: pd.DataFrame, pp: pd.DataFrame, completed: pd.DataFrame):
    """Hand-made households: RTLH finished 9 and 10 years before E and this year; PKH whose only component
    (a member of 75) died; a newborn dated after E."""
    kel = hh["kode_kelurahan"].iloc[0]
    homes, people, done = [], [], []
    for key, desil, finished in (("K_RTLH_2016", 2, 2016), ("K_RTLH_2017", 2, 2017), ("K_RTLH_2026", 3, 2026),
                                 ("K_PKH_DEAD", 1, None)):
        homes.append({"id_keluarga": key, "no_kk": key, "kode_kelurahan": kel, "kode_kecamatan": kel[:8],
                      "desil": float(desil), "status_kepemilikan_rumah": "milik_sendiri", "rumah_tidak_layak": True})
        people.append({"id_art": f"{key}_1", "id_keluarga": key, "nik": f"{key}_1", "tanggal_lahir": _on_e_minus(40),
                       "jenis_kelamin": "L", "pekerjaan_sektor": "formal", "jenjang_sekolah": None,
                       "disabilitas_berat": False, "hamil": False})
        if finished:
            done.append({"id_keluarga": key, "tahun_anggaran": finished})
    people.append({**people[-1], "id_art": "K_PKH_DEAD_2", "nik": "K_PKH_DEAD_2", "tanggal_lahir": _on_e_minus(75)})
    hh = pd.concat([hh, pd.DataFrame(homes)], ignore_index=True)
    pp = pd.concat([pp, pd.DataFrame(people)], ignore_index=True)
    return hh, pp, pd.concat([completed, pd.DataFrame(done)], ignore_index=True)


def enrich(hh: pd.DataFrame, pp: pd.DataFrame, events: pd.DataFrame, recipients: pd.DataFrame,
           seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    pp = pp.copy()
    n = len(pp)
    # birthdays on E (and the day after E) at each age bound; some unknown birth dates
    idx = rng.choice(n, 600, replace=False)
    born = pp["tanggal_lahir"].to_numpy(object).copy()
    for k, i in enumerate(idx[:400]):
        b = _on_e_minus(AGE_BOUNDS[k % len(AGE_BOUNDS)])
        born[i] = b if k % 2 else b + pd.Timedelta(days=1).to_pytimedelta()
    born[idx[400:450]] = None
    pp["tanggal_lahir"] = born
    orphan = pp.iloc[[0]].assign(id_art="A_ORPHAN", id_keluarga="K_UNKNOWN", nik="1571ORPHAN")
    pp = pd.concat([pp, orphan], ignore_index=True)

    ids = pp["id_art"].to_numpy(object)
    seq = int(events["seq"].max()) + 1
    rows = []

    def event(kind, period, id_art=None, when=None, **extra):
        nonlocal seq
        rows.append({"event_type": kind, "period": period, "seq": seq, "id_art": id_art,
                     "event_date": pd.Timestamp(when) if when is not None else pd.NaT, **extra})
        seq += 1

    people = rng.choice(n, 400, replace=False)
    for i in people[:60]:  # undated deaths and moves: they count at the end of their period
        event(str(rng.choice(["MENINGGAL", "PINDAH_KELUAR"])), str(rng.choice(["2026-09", "2026-10"])), ids[i])
    for i in people[60:100]:  # rows of a later period (even dated before E), or dated after E: ignored
        event("MENINGGAL", "2026-11", ids[i], "2026-10-15")
        event("PINDAH_KELUAR", "2026-10", ids[i + 1 if i + 1 < n else 0], "2026-11-02")
        event("HAMIL", "2026-11", ids[i], hpl=E + pd.Timedelta(days=100))
        event("SEKOLAH", "2026-11", ids[i], jenjang="SMA")
    for i in people[100:140]:  # death and return on the same day (the return reported later): the death wins
        event("MENINGGAL", "2026-10", ids[i], "2026-10-12")
        event("PINDAH_DATANG", "2026-10", ids[i], "2026-10-12")
    for i in people[140:180]:  # moved out in September, back in October; and the other way round
        event("PINDAH_KELUAR", "2026-09", ids[i], "2026-09-10")
        event("PINDAH_DATANG", "2026-10", ids[i], "2026-10-05")
    for i in people[180:200]:
        event("PINDAH_DATANG", "2026-09", ids[i], "2026-09-10")
        event("PINDAH_KELUAR", "2026-10", ids[i], "2026-10-30")
    for i in people[200:260]:  # earlier pregnancies: hpl before E (over), after E (still pregnant)
        event("HAMIL", "2026-08", ids[i], hpl=E + pd.Timedelta(days=int(rng.integers(-90, 90))))
    for i in people[260:300]:  # school rows of two periods: the later one wins
        event("SEKOLAH", "2026-09", ids[i], jenjang="SD")
        event("SEKOLAH", "2026-10", ids[i], jenjang=str(rng.choice(["SMP", "SMA", "PAUD", "smk "])))
    kk = hh["id_keluarga"].to_numpy(object)
    for j in range(30):  # births: undated, duplicated, into an unknown household, one who dies by NIK only
        nik = f"1571EDGE{j:08d}"
        event("LAHIR", "2026-10", None, None if j % 3 == 0 else f"2026-10-{j % 28 + 1:02d}",
              id_keluarga=kk[j * 7], nik=nik)
        if j % 5 == 0:
            event("LAHIR", "2026-10", None, "2026-10-20", id_keluarga=kk[j * 7], nik=nik)
        if j % 4 == 0:
            event("MENINGGAL", "2026-10", None, "2026-10-29", nik=nik)
        if j % 6 == 0:
            event("SEKOLAH", "2026-10", None, jenjang="SD", nik=nik)
    event("LAHIR", "2026-10", None, "2026-10-03", id_keluarga="K_UNKNOWN", nik="1571EDGEUNKNOWN")
    event("LAHIR", "2026-11", None, "2026-11-03", id_keluarga=kk[1], nik="1571EDGELATER")
    poor = hh.loc[hh["desil"] <= 5, "id_keluarga"].to_numpy(object)
    event("LAHIR", "2026-10", None, "2026-11-02", id_keluarga=poor[0], nik="1571EDGEAFTERE")  # after E: not yet
    event("MENINGGAL", "2026-10", "K_PKH_DEAD_2", "2026-10-02")
    events = pd.concat([events, pd.DataFrame(rows)], ignore_index=True)

    lost = recipients[recipients["id_keluarga"].isna()].head(20)
    rtlh = recipients[recipients["program"] == "rtlh"].head(1).assign(id_keluarga="K_RTLH_2026", key="k_rtlh")
    recipients = pd.concat([recipients, lost.assign(row_id=lost["row_id"] + 10_000_000),
                            rtlh.assign(row_id=20_000_000)], ignore_index=True)
    return pp, events, recipients


def small_quota(programs):
    updated = tuple(p.model_copy(update={"quota": p.quota.model_copy(update={"size": 3})}) if p.quota else p
                    for p in programs.programs)
    return programs.model_copy(update={"programs": updated})


@pytest.fixture(scope="module")
def month(config):
    hh, pp = synth_registry(3000, seed=5, on=PERIOD.end)
    now = synth_month(hh, pp, PERIOD, seed=6)
    before = synth_month(hh, pp, PERIOD.previous(), seed=7)
    events = pd.concat([before["events"], now["events"]], ignore_index=True)
    hh, pp, completed = edge_households(hh, pp, now["inputs"].completed["rtlh"])
    pp, events, recipients = enrich(hh, pp, events, now["recipients"], seed=8)
    inputs = rules.RuleInputs({"rtlh": completed}, now["inputs"].active_households)
    return hh, pp, events, recipients, inputs


def run_both(month, programs):
    hh, pp, events, recipients, inputs = month
    inputs = rules.RuleInputs(inputs.completed, inputs.active_households, rules.units_to_keep(programs, recipients))
    decisions, target = engine_month(hh, pp, events, PERIOD, programs, inputs, recipients)
    result = baseline.run(hh, pp, events, PERIOD, programs, recipients, inputs.completed, inputs.active_households,
                          {p.code for p in programs.programs if p.recipients})
    return decisions, target, result


@pytest.mark.parametrize("quota", ["default", "small"])
def test_engine_and_baseline_agree_on_every_covered_decision(month, config, quota):
    programs = config.programs if quota == "default" else small_quota(config.programs)
    decisions, target, result = run_both(month, programs)
    agree = baseline.agreement(decisions, target, result, programs)
    assert set(agree) == {p.code for p in programs.programs}
    assert {code: row["disagreements"] for code, row in agree.items() if row["disagreements"]} == {}, agree

    # not vacuous: every program has eligible units, the targeting categories all occur, the quota binds
    assert all(row["eligible"] > 0 for row in agree.values()), agree
    categories = result["targeting"].groupby(["program", "category"]).size()
    for code in ("pkh", "bpnt", "pbi_jk", "pip"):
        assert {"tepat", "exclusion", "inclusion"} <= set(categories[code].index), code
    assert all(count > 0 for count in result["not_found"].values())
    ranked = decisions[(decisions["program"] == "bpjs_tk") & decisions["rank"].notna()]
    if quota == "small":
        assert (~ranked["eligible"]).sum() > 100 and ranked["eligible"].sum() > 0
    # the enriched cases reached the state: newborns (one died), a person of an unknown household dropped
    hh, pp, events, _, _ = month
    state_hh, state_pp = baseline.registry_at(hh, pp, events, PERIOD)
    babies = state_pp[state_pp["id_art"].str.startswith("LAHIR-")]
    assert len(babies) > 25 and (~babies["active"]).sum() >= 5
    assert "A_ORPHAN" not in set(state_pp["id_art"])
    eligible = set(zip(decisions.loc[decisions["eligible"], "program"], decisions.loc[decisions["eligible"],
                                                                                     "id_keluarga"], strict=True))
    assert ("rtlh", "K_RTLH_2016") in eligible and ("rtlh", "K_RTLH_2017") not in eligible
    assert ("pkh", "K_PKH_DEAD") not in eligible and ("pbi_jk", "K_PKH_DEAD") in eligible
    rtlh_2026 = target[(target["program"] == "rtlh") & (target["id_keluarga"] == "K_RTLH_2026")]
    assert rtlh_2026["category"].tolist() == ["tepat"]


def test_agreement_counts_each_kind_of_difference(month, config):
    programs = small_quota(config.programs)
    decisions, target, result = run_both(month, programs)
    decisions = decisions.copy()
    pkh = decisions.index[(decisions["program"] == "pkh") & decisions["eligible"]]
    pip = decisions.index[(decisions["program"] == "pip") & decisions["eligible"]]
    bpjs = decisions.index[(decisions["program"] == "bpjs_tk") & decisions["rank"].notna()]
    decisions.loc[pkh[:2], "eligible"] = False  # two units eligible for the baseline only
    decisions.loc[pip[:3], "benefit_rupiah"] += 1  # three benefits differ
    decisions.loc[bpjs[:1], "rank"] += 1000  # one rank differs
    target = target.copy()
    bpnt = target.index[(target["program"] == "bpnt") & target["id_keluarga"].notna()]
    target.loc[bpnt[:4], "category"] = "salah"  # four categories differ
    target = target.drop(target.index[(target["program"] == "rtlh") & target["id_keluarga"].isna()][:1])
    agree = baseline.agreement(decisions, target, result, programs)
    assert agree["pkh"]["only_baseline"] == 2 and agree["pkh"]["only_engine"] == 0
    assert agree["pip"]["benefit"] == 3
    assert agree["bpjs_tk"]["rank"] == 1
    assert agree["bpnt"]["targeting"] == 4
    assert agree["rtlh"]["not_found"] == 1
    assert sum(row["disagreements"] for row in agree.values()) == 2 + 3 + 1 + 4 + 1


def test_bench_reports_the_comparison_to_the_harness(capsys):
    from bench.__main__ import parse_eligibility
    from bench.eligibility import main

    assert main(["--households", "400", "--repeat", "2"]) == 0
    parsed = parse_eligibility(capsys.readouterr().out)
    assert parsed["disagreements"] == 0 and set(parsed["disagreements_by_program"]) >= {"pkh", "bpjs_tk", "rtlh"}
    assert parsed["engine_s"] > 0 and parsed["baseline_s"] > 0 and parsed["engine_over_baseline"] > 0
    assert parsed["engine"].endswith(")")  # the one-month line the harness has always read
