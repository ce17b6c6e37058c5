"""The eligibility engine: pure, vectorised functions over pandas DataFrames (no database, no files).

Step 4 of the monthly run (DESIGN.md section 7). The warehouse wrapper (`tkpk.eligibility.store`) and the CLI
(`tkpk eligibility --registry DIR`) both call exactly these functions:

1. `registry_state(households, persons, events, period)`: the registry at E (the last day of the period): the
   snapshot plus the events of every period up to P (latest event dated on or before E wins), newborns added to the
   household of their No KK, pregnancy and school level at E, age in full years at E. The inputs are never altered.
2. `decide(state, programs, inputs)`: one decision per program and unit with reason codes, benefit, quota rank.
3. `targeting(decisions, recipients, ...)`: eligible x receiving per program (tepat / exclusion / inclusion).
4. `changes(previous, current)`: newly eligible and no longer eligible since the previous period.

Rows kept in the output of `decide` (and so in the warehouse and DECISIONS.csv): every eligible unit, every unit
ranked by a quota, every graduation candidate, and the informative refusals: household programs for households
inside the program's desil range, person programs for members of such households that miss at most one personal
condition (active, age, sector, school), plus any unit the caller asks to keep (recipients, last month's eligible).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from tkpk.config.programs import AgeRange, Program, ProgramsConfig
from tkpk.period import Period

STATUS_EVENTS = ("LAHIR", "MENINGGAL", "PINDAH_KELUAR", "PINDAH_DATANG")
INACTIVE_REASON = {"MENINGGAL": "meninggal", "PINDAH_KELUAR": "pindah_keluar"}
EVENT_COLUMNS = ["period", "seq", "event_type", "id_art", "id_keluarga", "nik", "event_date", "hpl", "jenjang"]
DECISION_COLUMNS = [
    "program", "id_keluarga", "id_art", "kode_kelurahan", "kode_kecamatan", "eligible", "benefit_rupiah",
    "reasons", "rank", "potential_rupiah", "targeting_eligible",
]
TARGETING_COLUMNS = [
    "program", "id_keluarga", "id_art", "row_id", "kode_kelurahan", "kode_kecamatan", "eligible", "receiving",
    "category", "rupiah", "reason",
]
CHANGE_COLUMNS = [
    "program", "id_keluarga", "id_art", "kode_kelurahan", "kode_kecamatan", "change", "reasons_before",
    "reasons_after", "reason_changed",
]
NOT_FOUND = "tidak_ditemukan"
RULE_CHANGE = "perubahan_aturan"
NO_ACTIVE_MEMBER = "tidak_ada_anggota_aktif"


def newborn_id(nik: object, id_keluarga: object = None, seq: object = None) -> str:
    """A stable id_art for a newborn reported by Disdukcapil (LAHIR) who is not in the snapshot yet.
    Derived from the NIK, never equal to it, so the id can travel where NIKs may not."""
    if isinstance(nik, str) and nik:
        return "LAHIR-" + hashlib.sha256(nik.encode()).hexdigest()[:12].upper()
    return f"LAHIR-{id_keluarga}-{seq}"


# --- input preparation -------------------------------------------------------------------------------------------
# Text columns stay numpy object arrays throughout: pandas 3 would otherwise infer its Arrow-backed `str` dtype,
# whose `isin` against a large set is an order of magnitude slower than the object path.


def _arr(values) -> np.ndarray:
    """An object numpy array of whatever holds the values."""
    if isinstance(values, (pd.Series, pd.Index)):
        return values.to_numpy(object)
    return np.asarray(values, dtype=object)


def _O(values, index=None) -> pd.Series:
    """An object-dtype Series (no str inference)."""
    return pd.Series(_arr(values), dtype=object, index=index)


def _isin(values, pool) -> np.ndarray:
    pool = _arr(pool) if pool is not None else np.array([], dtype=object)
    return _O(values).isin(pd.Index(pool, dtype=object)).to_numpy(bool)


def _ids(series: pd.Series) -> pd.Series:
    arr = series.to_numpy(object)
    if len(arr) and not all(isinstance(v, str) for v in arr[:1000]):
        arr = np.array([str(v) for v in arr], dtype=object)
    return _O(arr)


def _text(series: pd.Series, case: str | None = None) -> pd.Series:
    """Object Series of stripped strings (optionally upper/lower case), None for blanks; each distinct value is
    cleaned once."""
    codes, uniques = pd.factorize(_O(series), use_na_sentinel=True)
    if len(uniques) > 10_000:  # identifiers: vectorised string methods beat a Python loop
        s = _O(series).astype(pd.StringDtype("python")).str.strip()
        s = s.str.upper() if case == "upper" else s.str.lower() if case == "lower" else s
        arr = s.to_numpy(object)
        arr[pd.isna(arr)] = None
        arr[arr == ""] = None
        return pd.Series(arr, index=series.index, dtype=object)

    def clean(value) -> str | None:
        text = str(value).strip()
        if case == "upper":
            text = text.upper()
        elif case == "lower":
            text = text.lower()
        return text or None

    mapped = np.array([clean(u) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=series.index, dtype=object)


def _flag(series: pd.Series) -> np.ndarray:
    if series.dtype == bool:
        return series.to_numpy()
    text = series.astype("string").str.strip().str.upper()
    return text.isin(["Y", "YA", "TRUE", "1", "1.0"]).fillna(False).to_numpy(bool)


def _dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series.astype(object).where(series.notna(), None), errors="coerce")


def _col(frame: pd.DataFrame, name: str, default=None) -> pd.Series:
    return frame[name] if name in frame else pd.Series(default, index=frame.index, dtype=object)


def prepare_households(households: pd.DataFrame) -> pd.DataFrame:
    kel = _text(households["kode_kelurahan"])
    kec = _text(households["kode_kecamatan"]) if "kode_kecamatan" in households else kel.str[:8]
    return pd.DataFrame({
        "id_keluarga": _ids(households["id_keluarga"]),
        "kode_kelurahan": _O(kel),
        "kode_kecamatan": _O(kec),
        "desil": pd.to_numeric(households["desil"], errors="coerce").to_numpy(float),
        "status_kepemilikan_rumah": _O(_text(_col(households, "status_kepemilikan_rumah"), "lower")),
        "rumah_tidak_layak": _flag(_col(households, "rumah_tidak_layak", False)),
        "no_kk": _O(_text(_col(households, "no_kk"))),
    })


def prepare_persons(persons: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "id_art": _ids(persons["id_art"]),
        "id_keluarga": _ids(persons["id_keluarga"]),
        "nik": _O(_text(_col(persons, "nik"))),
        "tanggal_lahir": _dates(_col(persons, "tanggal_lahir")).to_numpy(),
        "pekerjaan_sektor": _O(_text(_col(persons, "pekerjaan_sektor"), "lower")),
        "jenjang_sekolah": _O(_text(_col(persons, "jenjang_sekolah"), "upper")),
        "disabilitas_berat": _flag(_col(persons, "disabilitas_berat", False)),
        "hamil": _flag(_col(persons, "hamil", False)),
    })


def prepare_events(events: pd.DataFrame | None) -> pd.DataFrame:
    if events is None or events.empty:
        ev = pd.DataFrame({c: pd.Series(dtype=object) for c in EVENT_COLUMNS})
    else:
        ev = events.copy()
        for c in EVENT_COLUMNS:
            if c not in ev:
                ev[c] = None
        ev = ev[EVENT_COLUMNS].reset_index(drop=True)
    for c in ("period", "id_art", "id_keluarga", "nik"):
        ev[c] = _text(ev[c])
    ev["event_type"] = _text(ev["event_type"], "upper")
    ev["jenjang"] = _text(ev["jenjang"], "upper")
    ev["seq"] = pd.to_numeric(ev["seq"], errors="coerce").fillna(0).astype("int64")
    ev["event_date"] = _dates(ev["event_date"])
    ev["hpl"] = _dates(ev["hpl"])
    return ev


# --- registry state at E -----------------------------------------------------------------------------------------


@dataclass
class RegistryState:
    period: Period
    households: pd.DataFrame  # + n_active, has_active
    persons: pd.DataFrame  # + active, inactive_reason, age, pregnant, jenjang, newborn, hh_pos
    counts: dict = field(default_factory=dict)


def age_in_years(born: pd.Series, on: date) -> np.ndarray:
    """Full years at `on`; NaN when the birth date is unknown or after `on`."""
    dt = pd.to_datetime(born, errors="coerce")
    y = dt.dt.year.to_numpy(float)
    m = dt.dt.month.to_numpy(float)
    d = dt.dt.day.to_numpy(float)
    before_birthday = (on.month < m) | ((on.month == m) & (on.day < d))
    age = on.year - y - before_birthday
    age[np.isnan(y) | (age < 0)] = np.nan
    return age


def _period_end(periods: pd.Series) -> pd.Series:
    ends = {p: pd.Timestamp(Period.parse(p).end) for p in periods.dropna().unique()}
    return periods.map(ends)


def registry_state(households: pd.DataFrame, persons: pd.DataFrame, events: pd.DataFrame | None,
                   period: Period | str) -> RegistryState:
    """The registry at E. `events` holds registry events of any period (only those of periods up to P count)."""
    period = Period.parse(str(period))
    P = str(period)
    E = pd.Timestamp(period.end)
    hh = prepare_households(households)
    pp = prepare_persons(persons)
    ev = prepare_events(events)
    ev = ev[ev["period"].notna() & (ev["period"] <= P)].copy()
    counts = {"events": len(ev)}

    # an undated event counts as of the end of the period that reported it
    ev["when"] = ev["event_date"].fillna(_period_end(ev["period"]))

    # newborns: a LAHIR dated on or before E for someone not in the snapshot joins the household of its No KK
    births = ev[(ev["event_type"] == "LAHIR").to_numpy() & (ev["when"] <= E).to_numpy()
                & ~_isin(ev["id_art"], pp["id_art"]) & _isin(ev["id_keluarga"], hh["id_keluarga"])]
    newborns = pp.iloc[0:0]
    if not births.empty:
        births = births.sort_values(["when", "period", "seq"])
        ids = [a if a else newborn_id(n, k, s) for a, n, k, s in
               zip(births["id_art"], births["nik"], births["id_keluarga"], births["seq"], strict=True)]
        births = births.assign(id_art=ids).drop_duplicates("id_art", keep="first")
        k = len(births)
        newborns = pd.DataFrame({
            "id_art": _O(births["id_art"]),
            "id_keluarga": _O(births["id_keluarga"]),
            "nik": _O(births["nik"]),
            "tanggal_lahir": births["when"].to_numpy(),
            "pekerjaan_sektor": _O([None] * k),
            "jenjang_sekolah": _O([None] * k),
            "disabilitas_berat": np.zeros(k, bool),
            "hamil": np.zeros(k, bool),
        })
        # later events about the newborn (a death, a school row) carry only its NIK
        nik_to_id = {n: i for n, i in zip(newborns["nik"], newborns["id_art"], strict=True) if n}
        fill = ev["id_art"].isna().to_numpy() & _isin(ev["nik"], list(nik_to_id))
        if fill.any():
            ids = ev["id_art"].to_numpy(object).copy()
            ids[fill] = [nik_to_id[n] for n in ev["nik"].to_numpy(object)[fill]]
            ev["id_art"] = _O(ids, index=ev.index)
        pp = pd.concat([pp, newborns], ignore_index=True)
    pp["newborn"] = np.r_[np.zeros(len(pp) - len(newborns), bool), np.ones(len(newborns), bool)]
    counts["newborns"] = len(newborns)

    status = ev[_isin(ev["event_type"], STATUS_EVENTS) & (ev["when"] <= E).to_numpy() & ev["id_art"].notna().to_numpy()]
    # latest status event dated on or before E wins; on the same day a death wins
    status = status.assign(_death=status["event_type"] == "MENINGGAL")
    last = status.sort_values(["when", "_death", "period", "seq"]).drop_duplicates("id_art", keep="last")
    art_index = pd.Index(_arr(pp["id_art"]), dtype=object)
    inactive = np.full(len(pp), None, dtype=object)
    pos = art_index.get_indexer(_arr(last["id_art"]))
    reason = np.array([INACTIVE_REASON.get(t) for t in last["event_type"]], dtype=object)
    inactive[pos[pos >= 0]] = reason[pos >= 0]
    pp["inactive_reason"] = _O(inactive)
    pp["active"] = pd.isna(inactive)
    counts["inactive"] = int((~pp["active"]).sum())

    # pregnant at E: this month's Dinkes batch, an earlier one with hpl after E, or hamil=Y in the snapshot
    preg = ev[ev["event_type"] == "HAMIL"]
    preg = preg[(preg["period"] == P) | (preg["hpl"] > E)]
    preg_pos = art_index.get_indexer(pd.unique(_arr(preg["id_art"].dropna())))
    pregnant = pp["hamil"].to_numpy(bool).copy()
    pregnant[preg_pos[preg_pos >= 0]] = True
    pp["pregnant"] = pregnant

    # enrolled: the latest Disdik row for the person, else jenjang_sekolah in the snapshot
    school = ev[(ev["event_type"] == "SEKOLAH") & ev["id_art"].notna() & ev["jenjang"].notna()]
    school = school.sort_values(["period", "seq"]).drop_duplicates("id_art", keep="last")
    jenjang = pp["jenjang_sekolah"].to_numpy(object).copy()
    pos = art_index.get_indexer(_arr(school["id_art"]))
    jenjang[pos[pos >= 0]] = school["jenjang"].to_numpy(object)[pos >= 0]
    pp["jenjang"] = _O(jenjang)

    pp["age"] = age_in_years(pp["tanggal_lahir"], period.end)
    pp["hh_pos"] = pd.Index(hh["id_keluarga"], dtype=object).get_indexer(_arr(pp["id_keluarga"]))
    pp = pp[pp["hh_pos"] >= 0].reset_index(drop=True)
    n_active = np.bincount(pp["hh_pos"].to_numpy()[pp["active"].to_numpy()], minlength=len(hh))
    hh["n_active"] = n_active
    hh["has_active"] = n_active > 0
    counts["persons_active"] = int(pp["active"].sum())
    return RegistryState(period, hh, pp, counts)


# --- reason codes ---------------------------------------------------------------------------------------------------


def join_reasons(parts: list[np.ndarray]) -> np.ndarray:
    """Row-wise ';'.join of the non-None codes in `parts` (arrays of equal length). Few distinct combinations occur,
    so each combination is built once and broadcast."""
    n = len(parts[0]) if parts else 0
    if n == 0:
        return np.array([], dtype=object)
    key = np.zeros(n, dtype=np.int64)
    uniques: list[np.ndarray] = []
    for part in parts:
        codes, uniq = pd.factorize(pd.Series(part, dtype=object), use_na_sentinel=True)
        key = key * (len(uniq) + 1) + (codes + 1)
        uniques.append(np.asarray(uniq, dtype=object))
    ukeys, inverse = np.unique(key, return_inverse=True)
    strings = []
    for k in ukeys.tolist():
        found = []
        for uniq in reversed(uniques):
            k, c = divmod(k, len(uniq) + 1)
            if c:
                found.append(uniq[c - 1])
        strings.append(";".join(reversed(found)))
    return np.array(strings, dtype=object)[inverse]


def _code(ok: np.ndarray, passed, failed, eligible: np.ndarray) -> np.ndarray:
    """The reason code of one criterion: its pass code on eligible rows, its fail code where it fails."""
    out = np.full(len(ok), None, dtype=object)
    if passed is not None:
        out[eligible] = passed[eligible] if isinstance(passed, np.ndarray) else passed
    bad = ~ok
    out[bad] = failed[bad] if isinstance(failed, np.ndarray) else failed
    return out


def _reasons(crit: list, eligible: np.ndarray, mask: np.ndarray, extra: tuple = ()) -> np.ndarray:
    """Reason strings for the rows in `mask` only (the rows that are kept)."""
    def sub(x):
        return x[mask] if isinstance(x, np.ndarray) else x

    parts = [_code(ok[mask], sub(p), sub(f), eligible[mask]) for ok, p, f in crit]
    return join_reasons([*parts, *(e[mask] for e in extra)])


def _full(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = np.full(len(mask), None, dtype=object)
    out[mask] = values
    return out


_DESIL_LABELS = np.array([None] + [f"desil_{d}" for d in range(1, 11)], dtype=object)


def _desil(desil: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ok = (desil >= rng.min) & (desil <= rng.max)
    valid = ~np.isnan(desil) & (desil >= 1) & (desil <= 10)
    passed = _DESIL_LABELS[np.where(valid, np.nan_to_num(desil), 0).astype(int)]
    failed = np.full(len(desil), f"desil_di_luar_{rng.label}", dtype=object)
    failed[np.isnan(desil)] = "desil_kosong"
    return ok, passed, failed


def _age_ok(age: np.ndarray, rng: AgeRange | None) -> np.ndarray:
    if rng is None:
        return np.ones(len(age), bool)
    ok = ~np.isnan(age)
    if rng.min is not None:
        ok &= age >= rng.min
    if rng.max is not None:
        ok &= age <= rng.max
    return ok


# --- decisions ---------------------------------------------------------------------------------------------------


@dataclass
class RuleInputs:
    """What the rules need beyond the registry state, keyed by program code.

    completed: for RTLH-like programs, the completed rehabilitations (id_keluarga, tahun_anggaran) up to P.
    active_households: for graduation programs, the households active in the latest recipient batch up to P.
    keep: unit ids (id_keluarga for household programs, id_art for person programs) to keep in the output even
    when not otherwise informative (this month's recipients, last month's eligible units).
    """

    completed: dict[str, pd.DataFrame] = field(default_factory=dict)
    active_households: dict[str, pd.Index] = field(default_factory=dict)
    keep: dict[str, pd.Index] = field(default_factory=dict)


def units_to_keep(programs: ProgramsConfig, recipients: pd.DataFrame | None,
                  previous: pd.DataFrame | None = None) -> dict[str, pd.Index]:
    """`RuleInputs.keep`: per program, the units the decisions must hold even when not otherwise informative, so
    targeting finds every recipient among them and the month's changes see every unit eligible last month.

    recipients: this month's recipient rows (`program`, `id_keluarga`, `id_art`; unmatched ids are NaN).
    previous: last month's eligible units (`program`, `id_keluarga`, `id_art`), or None.
    The one place for this step: the warehouse run, `tkpk eligibility` on files and the benchmark all call it."""
    keep = {}
    for program in programs.programs:
        unit = "id_art" if program.unit == "person" else "id_keluarga"
        ids = [frame.loc[frame["program"] == program.code, unit].dropna()
               for frame in (recipients, previous) if frame is not None and len(frame)]
        ids = pd.concat(ids).unique() if ids else []
        if len(ids):
            keep[program.code] = pd.Index(ids)
    return keep


def _frame(program: Program, ids_kel, ids_art, kel, kec, eligible, benefit, reasons, rank, potential,
           targeting_eligible, mask) -> pd.DataFrame:
    n = int(mask.sum())
    return pd.DataFrame({
        "program": _O(np.full(n, program.code, dtype=object)),
        "id_keluarga": _O(ids_kel[mask]),
        "id_art": _O(ids_art[mask] if ids_art is not None else np.full(n, "", dtype=object)),
        "kode_kelurahan": _O(kel[mask]),
        "kode_kecamatan": _O(kec[mask]),
        "eligible": eligible[mask],
        "benefit_rupiah": benefit[mask].astype("int64"),
        "reasons": _O(reasons),
        "rank": pd.array(rank[mask], dtype="Int64") if rank is not None else pd.array([pd.NA] * n, dtype="Int64"),
        "potential_rupiah": potential[mask].astype("int64"),
        "targeting_eligible": targeting_eligible[mask],
    })


def _household_rule(program: Program, state: RegistryState, inputs: RuleInputs) -> tuple[pd.DataFrame, dict]:
    hh = state.households
    n = len(hh)
    year = state.period.end.year
    has_active = hh["has_active"].to_numpy()
    desil_ok, desil_pass, desil_fail = _desil(hh["desil"].to_numpy(float), program.desil)
    crit = [(has_active, None, NO_ACTIVE_MEMBER), (desil_ok, desil_pass, desil_fail)]
    if program.requires_rumah_tidak_layak:
        unfit = hh["rumah_tidak_layak"].to_numpy(bool)
        crit.append((unfit, "rumah_tidak_layak", "rumah_layak"))
    if program.requires_milik_sendiri:
        own = (hh["status_kepemilikan_rumah"] == "milik_sendiri").to_numpy()
        crit.append((own, "rumah_milik_sendiri", "rumah_bukan_milik_sendiri"))
    ok_before_this_year = np.ones(n, bool)
    if program.rtlh_recent_years is not None:
        done = inputs.completed.get(program.code)
        latest = np.full(n, np.nan)
        latest_before = np.full(n, np.nan)
        if done is not None and not done.empty:
            ta = pd.to_numeric(done["tahun_anggaran"], errors="coerce")
            recent = done[ta >= year - program.rtlh_recent_years].assign(ta=ta)
            pos = pd.Index(hh["id_keluarga"], dtype=object).get_indexer(_arr(recent["id_keluarga"]))
            recent = recent.assign(pos=pos)[pos >= 0]
            if not recent.empty:
                top = recent.groupby("pos")["ta"].max()
                latest[top.index.to_numpy()] = top.to_numpy()
                before = recent[recent["ta"] < year].groupby("pos")["ta"].max()
                latest_before[before.index.to_numpy()] = before.to_numpy()
        not_done = np.isnan(latest)
        fail = np.array([f"rtlh_sudah_selesai_{int(y)}" if y == y else None for y in latest], dtype=object)
        crit.append((not_done, None, fail))
        # targeting judges this year's recipients by the state before this year's rehabilitation
        ok_before_this_year = np.isnan(latest_before)
    eligible = np.logical_and.reduce([c[0] for c in crit])
    targeting_eligible = eligible.copy()
    if program.rtlh_recent_years is not None:
        others = np.logical_and.reduce([c[0] for c in crit[:-1]])
        targeting_eligible = others & ok_before_this_year
    amount = np.full(n, program.amount, dtype=np.int64)
    benefit = np.where(eligible, amount, 0)
    keep = inputs.keep.get(program.code)
    mask = eligible | desil_ok
    if keep is not None and len(keep):
        mask |= _isin(hh["id_keluarga"], keep)
    reasons = _reasons(crit, eligible, mask)
    ids = hh["id_keluarga"].to_numpy(object)
    frame = _frame(program, ids, None, hh["kode_kelurahan"].to_numpy(object), hh["kode_kecamatan"].to_numpy(object),
                   eligible, benefit, reasons, None, amount, targeting_eligible, mask)
    return frame, {"eligible": eligible, "reasons": _full(reasons, mask)}


def _pkh_rule(program: Program, state: RegistryState, inputs: RuleInputs) -> tuple[pd.DataFrame, dict]:
    hh, pp = state.households, state.persons
    nh, k = len(hh), len(program.components)
    active = pp["active"].to_numpy(bool)
    age = pp["age"].to_numpy(float)
    jenjang = pp["jenjang"]
    amounts = np.full((len(pp), k), -1, dtype=np.int64)
    for j, comp in enumerate(program.components):
        if comp.condition == "pregnant":
            m = pp["pregnant"].to_numpy(bool)
        elif comp.condition == "disabled":
            m = pp["disabilitas_berat"].to_numpy(bool)
        elif comp.condition == "age":
            m = _age_ok(age, comp.age)
        else:  # enrolled
            m = jenjang.isin(list(comp.jenjang)).to_numpy() & _age_ok(age, comp.age)
        amounts[m & active, j] = comp.amount
    # each person gives at most one component: the highest-paid (on equal amounts, the one listed first)
    best = amounts.argmax(axis=1)
    best_amount = amounts[np.arange(len(pp)), best]
    giving = best_amount >= 0
    comp = pd.DataFrame({
        "pos": pp["hh_pos"].to_numpy()[giving],
        "id_art": pp["id_art"].to_numpy(object)[giving],
        "comp": best[giving],
        "amount": best_amount[giving],
    })
    # the household keeps its max_components highest, ties by id_art ascending
    comp = comp.sort_values(["pos", "amount", "id_art"], ascending=[True, False, True], kind="stable")
    comp["order"] = comp.groupby("pos").cumcount().to_numpy()
    kept = comp[comp["order"] < program.max_components]
    potential = np.bincount(kept["pos"], weights=kept["amount"], minlength=nh).astype(np.int64)
    n_comp = np.bincount(comp["pos"], minlength=nh)
    capped = n_comp > program.max_components
    # component codes: canonical order (amount desc, then as listed), repeated per member
    base = program.max_components + 1
    key = np.zeros(nh, dtype=np.int64)
    np.add.at(key, kept["pos"].to_numpy(), base ** kept["comp"].to_numpy().astype(np.int64))
    canonical = sorted(range(k), key=lambda j: (-program.components[j].amount, j))
    ukeys, inverse = np.unique(key, return_inverse=True)
    labels = []
    for u in ukeys.tolist():
        counts = [(u // base**j) % base for j in range(k)]
        labels.append(";".join(f"komponen:{program.components[j].code}" for j in canonical
                               for _ in range(counts[j])) or None)
    comp_codes = np.array(labels, dtype=object)[inverse]

    has_active = hh["has_active"].to_numpy()
    desil_ok, desil_pass, desil_fail = _desil(hh["desil"].to_numpy(float), program.desil)
    has_comp = n_comp > 0
    eligible = has_active & desil_ok & has_comp
    benefit = np.where(eligible, potential, 0)
    mask = eligible | desil_ok
    keep = inputs.keep.get(program.code)
    if keep is not None and len(keep):
        mask |= _isin(hh["id_keluarga"], keep)
    cap = np.full(nh, None, dtype=object)
    cap[eligible & capped] = f"batas_komponen_{program.max_components}"
    crit = [(has_active, None, NO_ACTIVE_MEMBER), (desil_ok, desil_pass, desil_fail),
            (has_comp, comp_codes, "tidak_ada_komponen")]
    reasons = _reasons(crit, eligible, mask, extra=(cap,))
    frame = _frame(program, hh["id_keluarga"].to_numpy(object), None, hh["kode_kelurahan"].to_numpy(object),
                   hh["kode_kecamatan"].to_numpy(object), eligible, benefit, reasons, None, potential, eligible, mask)
    return frame, {"eligible": eligible, "reasons": _full(reasons, mask)}


def _rank(program: Program, state: RegistryState, candidates: np.ndarray, hpos: np.ndarray,
          desil: np.ndarray) -> np.ndarray:
    """Rank within the quota unit (1 = first) for candidates; NaN for everyone else."""
    hh, pp = state.households, state.persons
    quota = program.quota
    unit_col = "kode_kelurahan" if quota.per == "kelurahan" else "kode_kecamatan"
    sel = np.flatnonzero(candidates)
    df = pd.DataFrame({
        "unit": hh[unit_col].to_numpy(object)[hpos[sel]],
        "desil": desil[sel],
        "size": hh["n_active"].to_numpy()[hpos[sel]],
        "age": pp["age"].to_numpy(float)[sel],
        "id_art": pp["id_art"].to_numpy(object)[sel],
        "row": sel,
    })
    keys = {"desil": ("desil", True), "household_size_desc": ("size", False), "age_desc": ("age", False),
            "id_art": ("id_art", True)}
    by = ["unit"] + [keys[k][0] for k in quota.order]
    asc = [True] + [keys[k][1] for k in quota.order]
    df = df.sort_values(by, ascending=asc, kind="stable")
    rank = np.full(len(pp), np.nan)
    rank[df["row"].to_numpy()] = df.groupby("unit").cumcount().to_numpy() + 1
    return rank


def _person_rule(program: Program, state: RegistryState, inputs: RuleInputs) -> tuple[pd.DataFrame, dict]:
    hh, pp = state.households, state.persons
    n = len(pp)
    hpos = pp["hh_pos"].to_numpy()
    desil = hh["desil"].to_numpy(float)[hpos]
    active = pp["active"].to_numpy(bool)
    desil_ok, desil_pass, desil_fail = _desil(desil, program.desil)
    personal = [(active, None, pp["inactive_reason"].to_numpy(object))]
    if program.age is not None:
        age = pp["age"].to_numpy(float)
        fail = np.where(np.isnan(age), "tanggal_lahir_kosong", f"usia_di_luar_{program.age.label}").astype(object)
        personal.append((_age_ok(age, program.age), f"usia_{program.age.label}", fail))
    if program.pekerjaan_sektor:
        sektor = pp["pekerjaan_sektor"]
        ok = sektor.isin(list(program.pekerjaan_sektor)).to_numpy()
        passed = ("sektor_" + sektor.fillna("")).to_numpy(object)
        personal.append((ok, passed, "sektor_bukan_" + "_".join(program.pekerjaan_sektor)))
    jenjang = pp["jenjang"]
    if program.jenjang:
        ok = jenjang.isin(list(program.jenjang)).to_numpy()
        passed = ("sekolah_" + jenjang.fillna("").str.lower()).to_numpy(object)
        fail = np.where(jenjang.isna(), "tidak_bersekolah", "jenjang_tidak_sesuai").astype(object)
        personal.append((ok, passed, fail))
    crit = [personal[0], (desil_ok, desil_pass, desil_fail), *personal[1:]]
    all_ok = np.logical_and.reduce([c[0] for c in crit])
    rank = None
    eligible = all_ok
    quota_part = np.full(n, None, dtype=object)
    if program.quota is not None:
        rank = _rank(program, state, all_ok, hpos, desil)
        within = all_ok & (rank <= program.quota.size)
        quota_part[within] = "dalam_kuota"
        quota_part[all_ok & ~within] = "kuota_penuh"
        eligible = within
    if program.amounts_by_jenjang:
        potential = jenjang.map(program.amounts_by_jenjang).fillna(0).to_numpy(np.int64)
    else:
        potential = np.full(n, program.amount, dtype=np.int64)
    benefit = np.where(eligible, potential, 0)
    misses = np.sum([~c[0] for c in personal], axis=0)
    mask = eligible | all_ok | (desil_ok & (misses <= 1))
    keep = inputs.keep.get(program.code)
    if keep is not None and len(keep):
        mask |= _isin(pp["id_art"], keep)
    reasons = _reasons(crit, eligible, mask, extra=(quota_part,))
    frame = _frame(program, pp["id_keluarga"].to_numpy(object), pp["id_art"].to_numpy(object),
                   hh["kode_kelurahan"].to_numpy(object)[hpos], hh["kode_kecamatan"].to_numpy(object)[hpos],
                   eligible, benefit, reasons, rank, potential, eligible, mask)
    return frame, {"eligible": eligible}


def _graduation_rule(program: Program, state: RegistryState, inputs: RuleInputs, source: dict,
                     source_code: str) -> pd.DataFrame:
    hh = state.households
    active_ids = inputs.active_households.get(program.code)
    in_program = _isin(hh["id_keluarga"], active_ids)
    has_active = hh["has_active"].to_numpy()
    still_eligible = source["eligible"]
    eligible = in_program & has_active & ~still_eligible
    reasons = np.full(len(hh), None, dtype=object)
    reasons[eligible] = [f"{source_code}_aktif;{r}" for r in source["reasons"][eligible]]
    reasons[in_program & ~has_active] = NO_ACTIVE_MEMBER
    mask = in_program & ~still_eligible
    # last month's candidates stay explained: off the program's active list now, or entitled again
    keep = inputs.keep.get(program.code)
    if keep is not None and len(keep):
        kept = _isin(hh["id_keluarga"], keep) & ~mask
        reasons[kept & ~in_program] = f"{source_code}_tidak_aktif"
        again = kept & in_program & still_eligible
        reasons[again] = [f"{source_code}_aktif;{r}" for r in source["reasons"][again]]
        mask |= kept
    reasons = reasons[mask]
    zero = np.zeros(len(hh), dtype=np.int64)
    return _frame(program, hh["id_keluarga"].to_numpy(object), None, hh["kode_kelurahan"].to_numpy(object),
                  hh["kode_kecamatan"].to_numpy(object), eligible, zero, reasons, None, zero, eligible, mask)


def decide(state: RegistryState, programs: ProgramsConfig, inputs: RuleInputs | None = None) -> pd.DataFrame:
    """Decisions for every program (in config order) and unit worth recording; columns DECISION_COLUMNS."""
    inputs = inputs or RuleInputs()
    keep = dict(inputs.keep)
    for program in programs.programs:
        active = inputs.active_households.get(program.code)
        if program.kind == "graduation" and active is not None and len(active):
            # a graduation candidate's reasons come from its source program: keep those rows explained
            before = keep.get(program.graduates_from)
            keep[program.graduates_from] = active if before is None else before.append(pd.Index(active))
    inputs = RuleInputs(inputs.completed, inputs.active_households, keep)
    frames = []
    results: dict[str, dict] = {}
    for program in programs.programs:
        if program.kind == "pkh":
            frame, results[program.code] = _pkh_rule(program, state, inputs)
        elif program.kind in ("desil_only", "rtlh"):
            frame, results[program.code] = _household_rule(program, state, inputs)
        elif program.kind == "graduation":
            frame = _graduation_rule(program, state, inputs, results[program.graduates_from],
                                     program.graduates_from)
        else:
            frame, results[program.code] = _person_rule(program, state, inputs)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=DECISION_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    return out[DECISION_COLUMNS]


# --- targeting -------------------------------------------------------------------------------------------------------


def targeting(decisions: pd.DataFrame, recipients: pd.DataFrame, programs: ProgramsConfig,
              with_data: set[str] | list[str]) -> pd.DataFrame:
    """Eligible x receiving for each program in `with_data` (a recipient batch exists for it).

    recipients: program, row_id, id_keluarga, id_art (None when the row found no registry unit), kode_kelurahan
    (as the row says), key (the row's NIK / No KK, to count a repeated unknown recipient once), row_rupiah (what an
    unknown recipient costs, when known). A recipient whose unit is not among `decisions` counts as not found.
    Rupiah: the benefit the rules give the unit (for inclusion errors: what it would get were it eligible).
    """
    out = []
    programs_col = _arr(decisions["program"]) if len(decisions) else np.array([], dtype=object)
    rec_programs = _arr(recipients["program"]) if len(recipients) else np.array([], dtype=object)
    for program in programs.programs:
        if program.code not in with_data:
            continue
        unit = "id_art" if program.unit == "person" else "id_keluarga"
        dec = decisions[programs_col == program.code]
        rec = recipients[rec_programs == program.code]
        dec_units = pd.Index(_arr(dec[unit]), dtype=object)
        if dec_units.has_duplicates:
            raise ValueError(f"duplicate {unit} in decisions of {program.code}")
        # position of each recipient's unit among the decisions (-1: not in the registry)
        pos = dec_units.get_indexer(_arr(rec[unit])) if len(rec) else np.array([], dtype=np.int64)
        found = pos >= 0
        receiving_row = np.full(len(dec), np.nan)
        if found.any():
            row_ids = pd.to_numeric(rec["row_id"], errors="coerce").to_numpy(float)[found]
            first = pd.Series(row_ids).groupby(pos[found]).min()
            receiving_row[first.index.to_numpy()] = first.to_numpy()
        is_receiving_all = np.zeros(len(dec), bool)
        is_receiving_all[pos[found]] = True
        take = dec["targeting_eligible"].to_numpy(bool) | is_receiving_all
        if take.any():
            units = dec[take]
            is_receiving = is_receiving_all[take]
            is_eligible = units["targeting_eligible"].to_numpy(bool)
            category = np.where(is_eligible & is_receiving, "tepat",
                                np.where(is_eligible, "exclusion", "inclusion")).astype(object)
            out.append(pd.DataFrame({
                "program": _O(np.full(len(units), program.code, dtype=object)),
                "id_keluarga": _O(units["id_keluarga"]),
                "id_art": _O(units["id_art"]),
                "row_id": pd.array(receiving_row[take], dtype="Int64"),
                "kode_kelurahan": _O(units["kode_kelurahan"]),
                "kode_kecamatan": _O(units["kode_kecamatan"]),
                "eligible": is_eligible,
                "receiving": is_receiving,
                "category": _O(category),
                "rupiah": units["potential_rupiah"].to_numpy(np.int64),
                "reason": _O(units["reasons"]),
            }))
        lost = rec[~found]
        if len(lost):
            if "key" in lost:
                keyed = lost[lost["key"].notna()].drop_duplicates("key")
                lost = pd.concat([keyed, lost[lost["key"].isna()]])
            row_ids = pd.to_numeric(lost["row_id"], errors="coerce")
            lost = lost.assign(_row=row_ids).sort_values("_row", kind="stable")
            rupiah = pd.to_numeric(_col(lost, "row_rupiah"), errors="coerce").fillna(program.amount)
            kel = _arr(lost["kode_kelurahan"])
            k = len(lost)
            out.append(pd.DataFrame({
                "program": _O(np.full(k, program.code, dtype=object)),
                "id_keluarga": _O([None] * k),
                "id_art": _O([None] * k),
                "row_id": pd.array(lost["_row"].to_numpy(float), dtype="Int64"),
                "kode_kelurahan": _O(kel),
                "kode_kecamatan": _O([c[:8] if isinstance(c, str) else None for c in kel]),
                "eligible": np.zeros(k, bool),
                "receiving": np.ones(k, bool),
                "category": _O(["inclusion"] * k),
                "rupiah": rupiah.to_numpy(np.int64),
                "reason": _O([NOT_FOUND] * k),
            }))
    if not out:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TARGETING_COLUMNS})
    return pd.concat(out, ignore_index=True)[TARGETING_COLUMNS]


# --- changes since last period ------------------------------------------------------------------------------------


_FAMILIES = (
    ("desil_", "desil"), ("usia_", "usia"), ("tanggal_lahir_kosong", "usia"), ("sektor_", "sektor"),
    ("sekolah_", "sekolah"), ("tidak_bersekolah", "sekolah"), ("jenjang_tidak_sesuai", "sekolah"),
    ("komponen:", "komponen"), ("tidak_ada_komponen", "komponen"), ("batas_komponen_", "komponen"),
    ("rumah_tidak_layak", "kondisi_rumah"), ("rumah_layak", "kondisi_rumah"),
    ("rumah_milik_sendiri", "kepemilikan"), ("rumah_bukan_milik_sendiri", "kepemilikan"),
    ("meninggal", "aktif"), ("pindah_keluar", "aktif"), (NO_ACTIVE_MEMBER, "aktif"),
    ("dalam_kuota", "kuota"), ("kuota_penuh", "kuota"), ("rtlh_sudah_selesai_", "rtlh"),
)


def _family(code: str) -> str:
    """The condition a reason code speaks about (`desil_1` and `desil_di_luar_1_2` both speak about desil)."""
    for prefix, family in _FAMILIES:
        if code.startswith(prefix):
            return family
    return code


def _split(codes) -> list[str]:
    return [c for c in codes.split(";") if c] if isinstance(codes, str) else []


def reason_changed(change: str, before, after) -> str | None:
    """What changed: for a unit no longer eligible, the conditions it now fails; for a unit newly eligible, the
    conditions it now meets that it failed before (all of them when the earlier decision is unknown)."""
    a, b = _split(after), _split(before)
    if change == "baru_layak" and b:
        failed_before = {_family(c) for c in b}
        met = [c for c in a if _family(c) in failed_before]
        return ";".join(dict.fromkeys(met)) or ";".join(b)
    seen = set(b)
    return ";".join(c for c in dict.fromkeys(a) if c not in seen) or None


def changes(previous: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Units newly eligible (`baru_layak`) and no longer eligible (`tidak_layak_lagi`) since the previous period.

    Both frames: program, id_keluarga, id_art, kode_kelurahan, kode_kecamatan, eligible, reasons (a unit without a
    row was not eligible). A unit eligible before and absent now left the registry (`tidak_ada_di_registri`).
    """
    out = []
    programs = list(dict.fromkeys([*_arr(current["program"]), *_arr(previous["program"])])) if len(current) or \
        len(previous) else []

    def unit_keys(frame: pd.DataFrame) -> np.ndarray:
        art = _arr(frame["id_art"])
        kel = _arr(frame["id_keluarga"])
        return np.where(pd.isna(art) | (art == ""), kel, art).astype(object)

    for program in programs:
        a = current[_arr(current["program"]) == program] if len(current) else current
        b = previous[_arr(previous["program"]) == program] if len(previous) else previous
        a_key, b_key = unit_keys(a), unit_keys(b)
        a_ok = a["eligible"].to_numpy(bool) if len(a) else np.zeros(0, bool)
        b_ok = b["eligible"].to_numpy(bool) if len(b) else np.zeros(0, bool)
        pos_b = pd.Index(b_key, dtype=object).get_indexer(a_key) if len(b) else np.full(len(a), -1)
        was = np.where(pos_b >= 0, b_ok[np.clip(pos_b, 0, None)] if len(b) else False, False)
        new = a_ok & ~was
        if new.any():
            rows = a[new]
            before = np.where(pos_b[new] >= 0, _arr(b["reasons"])[np.clip(pos_b[new], 0, None)] if len(b) else None,
                              None)
            out.append(pd.DataFrame({
                "program": _O(rows["program"]), "id_keluarga": _O(rows["id_keluarga"]), "id_art": _O(rows["id_art"]),
                "kode_kelurahan": _O(rows["kode_kelurahan"]), "kode_kecamatan": _O(rows["kode_kecamatan"]),
                "change": _O(["baru_layak"] * len(rows)), "reasons_before": _O(before),
                "reasons_after": _O(rows["reasons"]),
            }))
        pos_a = pd.Index(a_key, dtype=object).get_indexer(b_key) if len(a) else np.full(len(b), -1)
        still = np.where(pos_a >= 0, a_ok[np.clip(pos_a, 0, None)] if len(a) else False, False)
        lost = b_ok & ~still
        if lost.any():
            rows = b[lost]
            present = pos_a[lost] >= 0
            after = np.where(present, _arr(a["reasons"])[np.clip(pos_a[lost], 0, None)] if len(a) else None,
                             "tidak_ada_di_registri")
            kel = np.where(present, _arr(a["kode_kelurahan"])[np.clip(pos_a[lost], 0, None)] if len(a) else None,
                           _arr(rows["kode_kelurahan"]))
            kec = np.where(present, _arr(a["kode_kecamatan"])[np.clip(pos_a[lost], 0, None)] if len(a) else None,
                           _arr(rows["kode_kecamatan"]))
            out.append(pd.DataFrame({
                "program": _O(rows["program"]), "id_keluarga": _O(rows["id_keluarga"]), "id_art": _O(rows["id_art"]),
                "kode_kelurahan": _O(kel), "kode_kecamatan": _O(kec),
                "change": _O(["tidak_layak_lagi"] * len(rows)), "reasons_before": _O(rows["reasons"]),
                "reasons_after": _O(after),
            }))
    if not out:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CHANGE_COLUMNS})
    result = pd.concat(out, ignore_index=True)
    result["reason_changed"] = _O([reason_changed(c, b, a) for c, b, a in
                                   zip(result["change"], result["reasons_before"], result["reasons_after"],
                                       strict=True)])
    return result[CHANGE_COLUMNS]


def mark_rule_changes(changed: pd.DataFrame, previous_under_current_rules: pd.DataFrame) -> pd.DataFrame:
    """Changes the current rule set would already have made last month are the rule change's doing: their
    `reason_changed` becomes `perubahan_aturan` (reported apart from families who became (in)eligible).

    previous_under_current_rules: last month's decisions recomputed with this month's rules."""
    if changed.empty:
        return changed
    prev = previous_under_current_rules
    keys = pd.Index(list(zip(_arr(prev["program"]), _arr(prev["id_keluarga"]),
                             ["" if pd.isna(a) else a for a in _arr(prev["id_art"])], strict=True)), dtype=object)
    eligible_then = prev["eligible"].to_numpy(bool)
    rows = list(zip(_arr(changed["program"]), _arr(changed["id_keluarga"]),
                    ["" if pd.isna(a) else a for a in _arr(changed["id_art"])], strict=True))
    pos = keys.get_indexer(pd.Index(rows, dtype=object)) if len(keys) else np.full(len(rows), -1)
    then = np.where(pos >= 0, eligible_then[np.clip(pos, 0, None)] if len(keys) else False, False)
    now = (changed["change"] == "baru_layak").to_numpy()
    by_rule = then == now
    out = changed.copy()
    reason = out["reason_changed"].to_numpy(object).copy()
    reason[by_rule] = RULE_CHANGE
    out["reason_changed"] = _O(reason, index=out.index)
    return out
