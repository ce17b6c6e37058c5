"""The events of life between the snapshot and the end of each simulated month.

Second step of `tkpk synth`, run once per month after the population is built: births (from the pregnancies drawn
with the population; twins too), deaths (age-dependent hazard), whole households and young adults moving out,
families moving in, children enrolling in or leaving school. Each event gets a date inside its month and the month
Disdukcapil reports it in (most in the same month, some a month late, a few never). `MonthState` is the city as it
stands on E, the last day of the month; the submission builders read it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tkpk.period import Period
from tkpk.synth.names import make_names
from tkpk.synth.population import Population, jenjang_for_age, make_nik, rng_for

NEVER = np.datetime64("2999-12-31", "s")
LONG_AGO = np.datetime64("1900-01-01", "s")
EVENT_COLUMNS = ["pid", "jenis_mutasi", "tanggal", "month", "report_month"]


@dataclass
class MonthState:
    period: Period
    m: int
    start: np.datetime64
    end: np.datetime64
    present: np.ndarray       # living in the city on E (born, alive, not moved out, moved in)
    age: np.ndarray           # age in years on E
    pregnant: np.ndarray
    weeks: np.ndarray         # weeks of pregnancy on E (0 when not pregnant)
    enrolled: np.ndarray
    jenjang: np.ndarray       # PAUD/SD/SMP/SMA/SMK/PT or ''
    left_before: np.ndarray   # died or moved out during the previous month (OPD lists lag behind)
    events: pd.DataFrame      # events Disdukcapil reports this month


def _t(d) -> np.datetime64:
    return np.datetime64(d, "s")


def prepare(pop: Population, seed: int, periods: list[Period]) -> None:
    """Columns the simulation needs; incoming families get their month and date of arrival."""
    pp, hh = pop.pp, pop.hh
    rng = rng_for(seed, "life", "prepare")
    n = len(pp)
    pp["death"] = np.full(n, NEVER)
    pp["move_out"] = np.full(n, NEVER)
    pp["enrol_date"] = np.full(n, NEVER)
    pp["drop_date"] = np.full(n, NEVER)
    pp["newborn"] = False
    incoming = np.flatnonzero(pop.H("kind") == "incoming")
    arrive = np.full(len(hh), LONG_AGO)
    month_of = rng.integers(0, len(periods), len(incoming))
    day = rng.random(len(incoming))
    for i, k in enumerate(incoming):
        p = periods[month_of[i]]
        span = (p.end - p.start).days + 1
        arrive[k] = _t(p.start) + np.timedelta64(int(day[i] * span) * 86400, "s")
    hh["move_in"] = arrive
    pp["move_in"] = arrive[pop.P("hh")]
    pop.events = pd.DataFrame(columns=EVENT_COLUMNS)


def present_at(pp: pd.DataFrame, t: np.datetime64) -> np.ndarray:
    return ((pp["born"].to_numpy() <= t) & (pp["death"].to_numpy() > t) & (pp["move_out"].to_numpy() > t)
            & (pp["move_in"].to_numpy() <= t))


def age_at(pp: pd.DataFrame, t: np.datetime64) -> np.ndarray:
    return (t - pp["born"].to_numpy()) / np.timedelta64(1, "D") / 365.25


def enrolled_at(pp: pd.DataFrame, t: np.datetime64) -> np.ndarray:
    base = pp["enrolled"].to_numpy() | (pp["enrol_date"].to_numpy() <= t)
    return base & (pp["drop_date"].to_numpy() > t)


def _dates_in(rng, n: int, start: np.datetime64, end: np.datetime64) -> np.ndarray:
    span = int((end - start) / np.timedelta64(1, "D")) + 1
    return start + (rng.integers(0, span, n) * 86400).astype("timedelta64[s]")


def simulate_month(pop: Population, seed: int, period: Period, m: int, n_months: int) -> MonthState:
    rng = rng_for(seed, "life", str(period))
    start, end = _t(period.start), _t(period.end)
    events: list[pd.DataFrame] = []
    pp = pop.pp
    # 1. Births: deliveries this month of women living here.
    deliver = pop.P("delivery")
    mothers = np.flatnonzero((deliver >= start) & (deliver <= end) & present_at(pp, start)
                             & (pop.P("death") > deliver))
    if len(mothers):
        newborn = _births(pop, seed, period, mothers)
        pp = pop.pp
        events.append(pd.DataFrame({"pid": newborn, "jenis_mutasi": "LAHIR",
                                    "tanggal": pop.P("born")[newborn]}))
    present0 = present_at(pp, start)
    age0 = age_at(pp, start)
    # 2. Deaths (annual hazard rising with age; infants a little higher).
    annual = 0.0006 + 0.0021 * np.exp(0.085 * (age0 - 40))
    annual = np.where(age0 < 1, 0.02, annual)
    dies = np.flatnonzero(present0 & (rng.random(len(pp)) < annual / 12))
    when = _dates_in(rng, len(dies), start, end)
    pp.loc[dies, "death"] = when
    events.append(pd.DataFrame({"pid": dies, "jenis_mutasi": "MENINGGAL", "tanggal": when}))
    # 3. Moving out: whole households, and young adults leaving home.
    h = pop.P("hh")
    alive = present0 & (pop.P("death") > end)
    hh_leave = rng.random(len(pop.hh)) < 0.0008
    hh_leave &= pop.hh["kind"].to_numpy() != "incoming"
    hh_date = _dates_in(rng, len(pop.hh), start, end)
    rel = pop.P("rel")
    young = (rel == "anak") & (age0 >= 19) & (age0 < 35) & (rng.random(len(pp)) < 0.002)
    leave = alive & (hh_leave[h] | young)
    leave_date = np.where(hh_leave[h], hh_date[h], _dates_in(rng, len(pp), start, end))
    movers = np.flatnonzero(leave)
    pp.loc[movers, "move_out"] = leave_date[movers]
    events.append(pd.DataFrame({"pid": movers, "jenis_mutasi": "PINDAH_KELUAR", "tanggal": leave_date[movers]}))
    # 4. Families moving in this month.
    arrive = pop.P("move_in")
    comers = np.flatnonzero((arrive >= start) & (arrive <= end) & (pop.P("born") <= arrive))
    events.append(pd.DataFrame({"pid": comers, "jenis_mutasi": "PINDAH_DATANG", "tanggal": arrive[comers]}))
    # 5. School: late enrolments and drop-outs.
    age_end = age_at(pp, end)
    was = enrolled_at(pp, start)
    present_end = present_at(pp, end)
    enrol = np.flatnonzero(present_end & ~was & (age_end >= 6) & (age_end < 18) & (rng.random(len(pp)) < 0.03))
    pp.loc[enrol, "enrol_date"] = _dates_in(rng, len(enrol), start, end)
    drop = np.flatnonzero(present_end & was & (age_end >= 13) & (age_end < 19) & (rng.random(len(pp)) < 0.003))
    pp.loc[drop, "drop_date"] = _dates_in(rng, len(drop), start, end)

    # Reporting: most events in their month, some a month late, a few never.
    ev = pd.concat([e for e in events if len(e)], ignore_index=True) if any(len(e) for e in events) else \
        pd.DataFrame(columns=["pid", "jenis_mutasi", "tanggal"])
    r = rng.random(len(ev))
    ev["month"] = m
    ev["report_month"] = np.where(r < 0.88, m, np.where(r < 0.96, m + 1, -1))
    pop.events = pd.concat([pop.events, ev], ignore_index=True) if len(pop.events) else ev
    all_ev = pop.events
    reported = all_ev[all_ev["report_month"] == m].reset_index(drop=True)

    enrolled = enrolled_at(pp, end)
    conc, deliv = pop.P("conception"), pop.P("delivery")
    pregnant = (conc <= end) & (end < deliv) & present_end
    weeks = np.where(pregnant, (end - conc) / np.timedelta64(7, "D"), 0).astype(int)
    prev_start = _t(period.previous().start)
    death, move_out = pop.P("death"), pop.P("move_out")
    left_before = ((death >= prev_start) & (death < start)) | ((move_out >= prev_start) & (move_out < start))
    return MonthState(
        period=period, m=m, start=start, end=end, present=present_end, age=age_end, pregnant=pregnant,
        weeks=weeks, enrolled=enrolled & present_end,
        jenjang=np.where(enrolled, jenjang_for_age(age_end, pop.P("smk")), ""),
        left_before=left_before, events=reported,
    )


def _births(pop: Population, seed: int, period: Period, mothers: np.ndarray) -> np.ndarray:
    """Append this month's newborns to the population (twins ~1.2%); returns their person numbers."""
    rng = rng_for(seed, "births", str(period))
    pp = pop.pp
    twins = rng.random(len(mothers)) < 0.012
    mothers = np.concatenate([mothers, mothers[twins]])
    mothers.sort(kind="stable")
    n = len(mothers)
    h = pop.P("hh")[mothers]
    mrel = pop.P("rel")[mothers]
    born = pop.P("delivery")[mothers]
    female = rng.random(n) < 0.49
    # Father: the male head or husband of the household when the mother is head or wife.
    is_father = np.isin(pop.P("rel"), ["kepala_keluarga", "suami"]) & ~pop.P("female")
    father_core = pd.Series(pop.P("core")[is_father], index=pop.P("hh")[is_father])
    father_core = father_core[~father_core.index.duplicated()]
    father = father_core.reindex(h).fillna("").to_numpy().astype(object)
    father = np.where(np.isin(mrel, ["istri", "kepala_keluarga"]), father, "")
    style = pop.H("style")[h]
    noble = pop.H("noble")[h] & (father != "")
    nama, core = make_names(rng, female, style, noble, pop.H("family")[h], father, np.zeros(n, bool))
    kec2 = pop.kel["kec2"].to_numpy()[pop.H("kel")[h]]
    nik = make_nik(157100 + kec2, born, female)
    first_new = len(pp)
    count_before = int(pp["newborn"].sum())
    new = pd.DataFrame({
        "hh": h,
        "rel": np.where(mrel == "anak", "cucu", np.where(np.isin(mrel, ["istri", "kepala_keluarga"]), "anak",
                                                         "famili_lain")),
        "age": 0.0, "female": female, "twin": np.r_[False, mothers[1:] == mothers[:-1]] if n else [],
        "order": 2, "born": born, "nama": nama, "core": core, "jenis_kelamin": np.where(female, "P", "L"),
        "smk": rng.random(n) < 0.4, "enrolled": False, "jenjang_sekolah": "", "pekerjaan_sektor": "tidak_bekerja",
        "pekerjaan": "", "disabilitas_berat": False, "may_conceive": False, "nik": nik, "has_nik": True,
        "no_kk": pop.H("no_kk")[h], "conception": NEVER, "delivery": NEVER, "hamil": False,
        "in_registry": False, "id_keluarga": pop.H("id_keluarga")[h], "id_art": "", "region": 157100 + kec2,
        "true_person_id": [f"B{count_before + i + 1:07d}" for i in range(n)],
        "death": NEVER, "move_out": NEVER, "enrol_date": NEVER, "drop_date": NEVER, "newborn": True,
        "move_in": LONG_AGO,
    }, index=np.arange(first_new, first_new + n))
    pop.pp = pd.concat([pp, new[pp.columns]])
    pop._cache.clear()
    # A birth ends the pregnancy; the mother cannot deliver twice in the window.
    return np.arange(first_new, first_new + n)
