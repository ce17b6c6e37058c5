"""A plain pandas implementation of the program rules: the baseline the eligibility benchmark compares the engine with.

Written the way an analyst would in a notebook, from DESIGN.md section 7 and docs/eligibility.md: one boolean mask
per program, merges and groupbys, pandas' default dtypes (ids as Python strings, see `_ids`). It shares no code
with `tkpk.eligibility.rules` (only the programs YAML through `tkpk.config` and `tkpk.period.Period`), so the
benchmark's agreement check and tests/eligibility/test_baseline.py are a real cross-check of the engine.

Covered, from the same inputs as the engine (snapshot households and persons, events of any period, recipients,
completed RTLH rehabilitations, PKH-aktif households):

- the registry at E: events of periods up to P only; an undated event counts at the end of its period; LAHIR of a
  NIK not in the snapshot adds a newborn (id `LAHIR-` + 12 upper-case hex digits of the NIK's SHA-256) to the
  household of its No KK, born on the event date, and later events that carry only its NIK find it; the latest
  status event (LAHIR, MENINGGAL, PINDAH_KELUAR, PINDAH_DATANG) dated on or before E wins, a death wins on the same
  day, then the later period, then the later row; pregnant = a HAMIL row of this period, an earlier one with hpl
  after E, or hamil in the snapshot; school level = the latest SEKOLAH row (period, then row), else the snapshot;
  age in full years at E; persons of an unknown household are dropped.
- eligibility yes/no for every program and unit (desil ranges, ages, sector, school level, housing, the RTLH
  9-year exclusion, PKH components, graduation candidates) with its benefit in rupiah (PKH: each member's
  highest-paid component, the household's 4 highest summed; PIP by school level), and the quota rank of every
  quota candidate (BPJS TK: per kelurahan by desil, active household size desc, age desc, id_art).
- targeting per unit: tepat / exclusion / inclusion for every program with recipient data (RTLH recipients of
  year(E) judged by the state before this year's rehabilitation), and the number of recipients not found in the
  registry (a repeated key counts once).

Left out (the engine's extra work, not reproduced here): reason codes and the rows kept only to explain a refusal
(the baseline returns eligible units, quota candidates and RTLH units eligible for targeting), the rupiah of
targeting rows, changes since the previous month, rule-set versions, and input cleaning beyond trimming and case
(flags are True/False or Y/N/YA; the engine also reads TRUE/1). With clean inputs such as the benchmark's, no
decision depends on what is left out, so the expected number of disagreements is 0 for every program.
"""

from __future__ import annotations

import hashlib
import time

import numpy as np
import pandas as pd

from tkpk.config.programs import AgeRange, Program, ProgramsConfig
from tkpk.period import Period

STATUS = ["LAHIR", "MENINGGAL", "PINDAH_KELUAR", "PINDAH_DATANG"]
EVENT_COLUMNS = ["period", "seq", "event_type", "id_art", "id_keluarga", "nik", "event_date", "hpl", "jenjang"]


def _yes(values: pd.Series) -> pd.Series:
    if values.dtype == bool:
        return values
    return values.astype("string").str.strip().str.upper().isin(["Y", "YA"]).fillna(False).astype(bool)


def _clean(values: pd.Series, case: str | None = None) -> pd.Series:
    s = values.astype("string").str.strip()
    s = s.str.upper() if case == "upper" else s.str.lower() if case == "lower" else s
    return s.replace("", pd.NA)


def _ids(values: pd.Series) -> pd.Series:
    """Identifiers as plain Python strings (object dtype), None when blank: pandas 3's Arrow-backed `isin` against
    a list of hundreds of thousands of ids boxes every id and is several times slower than the object path."""
    s = _clean(values)
    return s.astype(object).where(s.notna(), None)


def _age_between(age: pd.Series, rng: AgeRange | None) -> pd.Series:
    ok = age.notna()
    if rng is not None and rng.min is not None:
        ok &= age >= rng.min
    if rng is not None and rng.max is not None:
        ok &= age <= rng.max
    return ok.fillna(False)


def _newborn_id(nik, id_keluarga, seq) -> str:
    if isinstance(nik, str) and nik:
        return "LAHIR-" + hashlib.sha256(nik.encode()).hexdigest()[:12].upper()
    return f"LAHIR-{id_keluarga}-{seq}"


def registry_at(households: pd.DataFrame, persons: pd.DataFrame, events: pd.DataFrame | None,
                period: Period | str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(households, persons) at E: households gain n_active; persons gain active, pregnant, jenjang, age."""
    period = Period.parse(str(period))
    P, E = str(period), pd.Timestamp(period.end)

    hh = pd.DataFrame({
        "id_keluarga": _ids(households["id_keluarga"]),
        "kode_kelurahan": _clean(households["kode_kelurahan"]),
        "desil": pd.to_numeric(households["desil"], errors="coerce"),
        "milik_sendiri": _clean(households["status_kepemilikan_rumah"], "lower").eq("milik_sendiri").fillna(False),
        "rumah_tidak_layak": _yes(households["rumah_tidak_layak"]),
    })
    hh["kode_kecamatan"] = (_clean(households["kode_kecamatan"]) if "kode_kecamatan" in households
                            else hh["kode_kelurahan"].str[:8])
    pp = pd.DataFrame({
        "id_art": _ids(persons["id_art"]),
        "id_keluarga": _ids(persons["id_keluarga"]),
        "nik": _ids(persons["nik"]),
        "tanggal_lahir": pd.to_datetime(persons["tanggal_lahir"], errors="coerce"),
        "pekerjaan_sektor": _clean(persons["pekerjaan_sektor"], "lower"),
        "jenjang": _clean(persons["jenjang_sekolah"], "upper"),
        "disabilitas_berat": _yes(persons["disabilitas_berat"]),
        "pregnant": _yes(persons["hamil"]),
    })

    ev = pd.DataFrame(columns=EVENT_COLUMNS) if events is None else events.reindex(columns=EVENT_COLUMNS)
    ev = pd.DataFrame({
        "period": _clean(ev["period"]), "seq": pd.to_numeric(ev["seq"], errors="coerce").fillna(0),
        "event_type": _clean(ev["event_type"], "upper"), "id_art": _ids(ev["id_art"]),
        "id_keluarga": _ids(ev["id_keluarga"]), "nik": _ids(ev["nik"]),
        "event_date": pd.to_datetime(ev["event_date"], errors="coerce"),
        "hpl": pd.to_datetime(ev["hpl"], errors="coerce"), "jenjang": _clean(ev["jenjang"], "upper"),
    })
    ev = ev[(ev["period"] <= P).fillna(False)]
    period_ends = {p: pd.Timestamp(Period.parse(p).end) for p in ev["period"].unique()}
    ev["when"] = ev["event_date"].fillna(pd.to_datetime(ev["period"].map(period_ends)))

    # newborns
    births = ev[(ev["event_type"] == "LAHIR") & (ev["when"] <= E) & ~ev["id_art"].isin(pp["id_art"])
                & ev["id_keluarga"].isin(hh["id_keluarga"])].sort_values(["when", "period", "seq"])
    if len(births):
        births = births.assign(id_art=[a if isinstance(a, str) else _newborn_id(n, k, s) for a, n, k, s in
                                       births[["id_art", "nik", "id_keluarga", "seq"]].itertuples(index=False)])
        births = births.drop_duplicates("id_art")
        babies = pd.DataFrame({"id_art": births["id_art"], "id_keluarga": births["id_keluarga"],
                               "nik": births["nik"], "tanggal_lahir": births["when"], "disabilitas_berat": False,
                               "pregnant": False})
        pp = pd.concat([pp, babies], ignore_index=True)
        baby_of_nik = births.dropna(subset=["nik"]).drop_duplicates("nik", keep="last").set_index("nik")["id_art"]
        ev["id_art"] = ev["id_art"].fillna(ev["nik"].map(baby_of_nik))

    # active: the latest status event dated on or before E
    status = ev[ev["event_type"].isin(STATUS) & (ev["when"] <= E) & ev["id_art"].notna()]
    status = status.assign(death=status["event_type"] == "MENINGGAL")
    last = status.sort_values(["when", "death", "period", "seq"]).groupby("id_art")["event_type"].last()
    gone = last[last.isin(["MENINGGAL", "PINDAH_KELUAR"])].index
    pp["active"] = ~pp["id_art"].isin(gone)

    # pregnant at E
    preg = ev[(ev["event_type"] == "HAMIL") & ((ev["period"] == P) | (ev["hpl"] > E).fillna(False))]
    pp["pregnant"] = pp["pregnant"].fillna(False).astype(bool) | pp["id_art"].isin(preg["id_art"].dropna())

    # school level: the latest Disdik row, else the snapshot
    school = ev[(ev["event_type"] == "SEKOLAH") & ev["id_art"].notna() & ev["jenjang"].notna()]
    latest_school = school.sort_values(["period", "seq"]).groupby("id_art")["jenjang"].last()
    pp["jenjang"] = pp["id_art"].map(latest_school).fillna(pp["jenjang"])

    born = pp["tanggal_lahir"]
    before_birthday = (born.dt.month > E.month) | ((born.dt.month == E.month) & (born.dt.day > E.day))
    age = E.year - born.dt.year - before_birthday.astype(int)
    pp["age"] = age.where(age >= 0)

    pp = pp[pp["id_keluarga"].isin(hh["id_keluarga"])].reset_index(drop=True)
    hh["n_active"] = hh["id_keluarga"].map(pp[pp["active"]].groupby("id_keluarga").size()).fillna(0).astype(int)
    pp = pp.merge(hh[["id_keluarga", "kode_kelurahan", "kode_kecamatan", "desil", "n_active"]], on="id_keluarga",
                  how="left")
    return hh, pp


def _in_desil(desil: pd.Series, program: Program) -> pd.Series:
    return desil.between(program.desil.min, program.desil.max).fillna(False)


def eligibility(households: pd.DataFrame, persons: pd.DataFrame, events: pd.DataFrame | None, period: Period | str,
                programs: ProgramsConfig, completed: dict | None = None, active_households: dict | None = None,
                state: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Eligible units and quota candidates of every program: columns program, id_keluarga, id_art (None for
    household programs), eligible, benefit_rupiah, rank (quota programs), targeting_eligible (RTLH: before this
    year's rehabilitation)."""
    period = Period.parse(str(period))
    hh, pp = state if state is not None else registry_at(households, persons, events, period)
    completed = completed or {}
    active_households = active_households or {}
    year = period.end.year
    has_active = hh["n_active"] > 0
    eligible_hh: dict[str, pd.Series] = {}
    out = []

    def household_rows(code: str, ok: pd.Series, benefit, targeting_ok: pd.Series | None = None) -> None:
        targeting_ok = ok if targeting_ok is None else targeting_ok
        frame = pd.DataFrame({"program": code, "id_keluarga": hh["id_keluarga"], "id_art": None, "eligible": ok,
                              "benefit_rupiah": np.where(ok, benefit, 0), "rank": np.nan,
                              "targeting_eligible": targeting_ok})
        out.append(frame[ok | targeting_ok])

    for program in programs.programs:
        code = program.code
        if program.kind == "desil_only":
            ok = has_active & _in_desil(hh["desil"], program)
            household_rows(code, ok, program.amount)
        elif program.kind == "rtlh":
            base = (has_active & _in_desil(hh["desil"], program) & hh["rumah_tidak_layak"]
                    & hh["milik_sendiri"])
            done = completed.get(code)
            if done is None:
                done = pd.DataFrame({"id_keluarga": [], "tahun_anggaran": []})
            ta = pd.to_numeric(done["tahun_anggaran"], errors="coerce")
            recent = done.loc[ta >= year - program.rtlh_recent_years, "id_keluarga"]
            before_this_year = done.loc[(ta >= year - program.rtlh_recent_years) & (ta < year), "id_keluarga"]
            ok = base & ~hh["id_keluarga"].isin(recent)
            household_rows(code, ok, program.amount, base & ~hh["id_keluarga"].isin(before_this_year))
        elif program.kind == "pkh":
            # the amount of each member's highest-paid component (NaN: none)
            member = pp[pp["active"]]
            amounts = pd.DataFrame(index=member.index)
            for comp in program.components:
                if comp.condition == "pregnant":
                    m = member["pregnant"]
                elif comp.condition == "disabled":
                    m = member["disabilitas_berat"]
                elif comp.condition == "age":
                    m = _age_between(member["age"], comp.age)
                else:
                    m = member["jenjang"].isin(comp.jenjang).fillna(False) & _age_between(member["age"], comp.age)
                amounts[comp.code] = np.where(m, comp.amount, np.nan)
            best = member[["id_keluarga"]].assign(amount=amounts.max(axis=1)).dropna(subset=["amount"])
            top = best.sort_values("amount", ascending=False).groupby("id_keluarga").head(program.max_components)
            benefit = hh["id_keluarga"].map(top.groupby("id_keluarga")["amount"].sum()).fillna(0).astype("int64")
            ok = has_active & _in_desil(hh["desil"], program) & hh["id_keluarga"].isin(best["id_keluarga"])
            household_rows(code, ok, benefit)
        elif program.kind == "graduation":
            active = pd.Index(active_households.get(code, []), dtype=object)
            ok = hh["id_keluarga"].isin(active) & has_active & ~eligible_hh[program.graduates_from]
            household_rows(code, ok, 0)
        else:  # person programs
            ok = pp["active"] & _in_desil(pp["desil"], program)
            if program.age is not None:
                ok &= _age_between(pp["age"], program.age)
            if program.pekerjaan_sektor:
                ok &= pp["pekerjaan_sektor"].isin(program.pekerjaan_sektor).fillna(False)
            if program.jenjang:
                ok &= pp["jenjang"].isin(program.jenjang).fillna(False)
            rows = pp.loc[ok, ["id_keluarga", "id_art", "kode_kelurahan", "kode_kecamatan", "desil", "n_active",
                               "age", "jenjang"]]
            rows = rows.assign(program=code, rank=np.nan, eligible=True)
            if program.quota is not None:
                order = {"desil": ("desil", True), "household_size_desc": ("n_active", False),
                         "age_desc": ("age", False), "id_art": ("id_art", True)}
                unit = "kode_kelurahan" if program.quota.per == "kelurahan" else "kode_kecamatan"
                by = [unit] + [order[k][0] for k in program.quota.order]
                asc = [True] + [order[k][1] for k in program.quota.order]
                rows = rows.sort_values(by, ascending=asc)
                rows["rank"] = rows.groupby(unit).cumcount() + 1
                rows["eligible"] = rows["rank"] <= program.quota.size
            if program.amounts_by_jenjang:
                amount = rows["jenjang"].map(program.amounts_by_jenjang).fillna(0)
            else:
                amount = program.amount
            rows["benefit_rupiah"] = np.where(rows["eligible"], amount, 0)
            rows["targeting_eligible"] = rows["eligible"]
            out.append(rows)
        if program.unit == "household":
            eligible_hh[code] = ok

    columns = ["program", "id_keluarga", "id_art", "eligible", "benefit_rupiah", "rank", "targeting_eligible"]
    result = pd.concat([frame[columns] for frame in out], ignore_index=True)
    result["benefit_rupiah"] = result["benefit_rupiah"].astype("int64")
    return result


def targeting(decisions: pd.DataFrame, recipients: pd.DataFrame, programs: ProgramsConfig,
              state: tuple[pd.DataFrame, pd.DataFrame], with_data=None) -> tuple[pd.DataFrame, dict[str, int]]:
    """(units, not_found): units has program, unit (id_keluarga or id_art), category (tepat / exclusion /
    inclusion) for every registry unit eligible or receiving; not_found counts recipients outside the registry per
    program (one per key)."""
    hh, pp = state
    units, not_found = [], {}
    for program in programs.programs:
        if program.recipients is None or (with_data is not None and program.code not in with_data):
            continue
        col = "id_art" if program.unit == "person" else "id_keluarga"
        registry = pp["id_art"] if program.unit == "person" else hh["id_keluarga"]
        rec = recipients[recipients["program"] == program.code]
        rec_units = _ids(rec[col])
        found = rec_units.isin(registry)
        lost = rec[~found]
        not_found[program.code] = int(lost["key"].nunique() + lost["key"].isna().sum())
        receiving = pd.Series(rec_units[found].unique(), dtype=object)
        dec = decisions[(decisions["program"] == program.code) & decisions["targeting_eligible"]]
        eligible = pd.Series(dec[col].unique(), dtype=object)
        served = eligible.isin(receiving)
        units.append(pd.DataFrame({"program": program.code, "unit": eligible,
                                   "category": np.where(served, "tepat", "exclusion")}))
        units.append(pd.DataFrame({"program": program.code, "unit": receiving[~receiving.isin(eligible)],
                                   "category": "inclusion"}))
    frame = (pd.concat(units, ignore_index=True) if units
             else pd.DataFrame({"unit": [], "category": [], "program": []}))
    return frame[["program", "unit", "category"]], not_found


def run(households: pd.DataFrame, persons: pd.DataFrame, events: pd.DataFrame | None, period: Period | str,
        programs: ProgramsConfig, recipients: pd.DataFrame, completed: dict | None = None,
        active_households: dict | None = None, with_data=None, laps: dict | None = None) -> dict:
    """The whole baseline for one month: state at E, eligibility, targeting. `laps` (optional) gets seconds per
    part (state, eligibility, targeting)."""
    laps = laps if laps is not None else {}
    t = time.perf_counter()
    state = registry_at(households, persons, events, period)
    laps["state"] = time.perf_counter() - t
    t = time.perf_counter()
    decisions = eligibility(households, persons, events, period, programs, completed, active_households, state)
    laps["eligibility"] = time.perf_counter() - t
    t = time.perf_counter()
    units, not_found = targeting(decisions, recipients, programs, state, with_data)
    laps["targeting"] = time.perf_counter() - t
    return {"decisions": decisions, "targeting": units, "not_found": not_found}


# --- agreement with the engine ------------------------------------------------------------------------------------


def _keyed(frame: pd.DataFrame, programs: ProgramsConfig) -> pd.DataFrame:
    person = {p.code for p in programs.programs if p.unit == "person"}
    is_person = frame["program"].isin(person).to_numpy()
    unit = np.where(is_person, frame["id_art"].astype(object), frame["id_keluarga"].astype(object))
    return frame.assign(unit=pd.Series(unit, index=frame.index, dtype=object).astype("string"),
                        program=frame["program"].astype("string"))


def agreement(engine_decisions: pd.DataFrame, engine_targeting: pd.DataFrame | None, result: dict,
              programs: ProgramsConfig) -> dict[str, dict[str, int]]:
    """Per program, the decisions where the engine and the baseline disagree:

    only_engine / only_baseline: units eligible for one and not for the other; benefit: eligible for both with a
    different benefit; rank: quota candidates of either side with a different rank (or ranked by one only);
    targeting: registry units whose category (tepat / exclusion / inclusion, or none) differs; not_found: the
    difference in recipients not found. `eligible` is the engine's count of eligible units, for scale.
    """
    eng = _keyed(engine_decisions, programs)
    base = _keyed(result["decisions"], programs)
    out: dict[str, dict[str, int]] = {}
    e_ok = eng[eng["eligible"].astype(bool)]
    b_ok = base[base["eligible"].astype(bool)]
    both = e_ok[["program", "unit", "benefit_rupiah"]].merge(
        b_ok[["program", "unit", "benefit_rupiah"]], on=["program", "unit"], how="outer", suffixes=("_e", "_b"),
        indicator=True)
    e_rank = eng.loc[eng["rank"].notna(), ["program", "unit", "rank"]]
    b_rank = base.loc[base["rank"].notna(), ["program", "unit", "rank"]]
    ranks = e_rank.merge(b_rank, on=["program", "unit"], how="outer", suffixes=("_e", "_b"))
    ranks = ranks[ranks["rank_e"].astype("Float64").fillna(-1) != ranks["rank_b"].astype("Float64").fillna(-1)]
    t_diff = None
    if engine_targeting is not None:
        et = engine_targeting[engine_targeting["id_keluarga"].notna()]
        et = _keyed(et, programs)[["program", "unit", "category"]]
        bt = result["targeting"].assign(unit=result["targeting"]["unit"].astype("string"),
                                        program=result["targeting"]["program"].astype("string"))
        t = et.merge(bt, on=["program", "unit"], how="outer", suffixes=("_e", "_b"))
        t_diff = t[t["category_e"].astype("string").fillna("-") != t["category_b"].astype("string").fillna("-")]
        lost_e = engine_targeting[engine_targeting["id_keluarga"].isna()]["program"].value_counts()
    for program in programs.programs:
        code = program.code
        rows = both[both["program"] == code]
        row = {
            "eligible": int((e_ok["program"] == code).sum()),
            "only_engine": int((rows["_merge"] == "left_only").sum()),
            "only_baseline": int((rows["_merge"] == "right_only").sum()),
            "benefit": int(((rows["_merge"] == "both") & (rows["benefit_rupiah_e"] != rows["benefit_rupiah_b"]))
                           .sum()),
            "rank": int((ranks["program"] == code).sum()),
        }
        if t_diff is not None and program.code in result["not_found"]:
            row["targeting"] = int((t_diff["program"] == code).sum())
            row["not_found"] = abs(int(lost_e.get(code, 0)) - result["not_found"][code])
        row["disagreements"] = sum(v for k, v in row.items() if k != "eligible")
        out[code] = row
    return out
