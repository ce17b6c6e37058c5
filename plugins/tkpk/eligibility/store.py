"""Step 4 of the monthly run against the warehouse: read the snapshot, the linked submission rows and last month's
decisions; run the pure rules (`tkpk.eligibility.rules`); replace the period's partitions of registry_event,
eligibility_decision, eligibility_change and targeting_result.

Order in `tkpk_monthly`: `derive_events` (once) -> `compute_eligibility` (one mapped task per kecamatan; quotas are
per kelurahan, so nothing crosses a kecamatan) -> `finalize_eligibility` (once: changes since last month, recipients
not found in the registry, headline counts). Every function is re-run safe: it replaces what it wrote before.
Only counts leave these functions (XCom, logs); personal data stays in the warehouse.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session, aliased

from tkpk.config import load_config
from tkpk.config.programs import ProgramsConfig, RowSource
from tkpk.eligibility import rules
from tkpk.eligibility.sources import (
    EVENT_SOURCES,
    active_from_rows,
    completed_from_rows,
    events_from_rows,
    normalize_rows,
    recipients_from_rows,
)
from tkpk.normalize.kelurahan import KelurahanIndex
from tkpk.period import Period
from tkpk.registry import snapshot_for_period
from tkpk.settings import Settings
from tkpk.warehouse import analyze, session_scope
from tkpk.warehouse.bulk import insert_frame
from tkpk.warehouse.models import (
    EligibilityChange,
    EligibilityDecision,
    HouseholdLink,
    PersonLink,
    RegistryEvent,
    RegistryHousehold,
    RegistryPerson,
    StagedRow,
    SubmissionBatch,
    TargetingResult,
)

log = logging.getLogger(__name__)
READ_CHUNK = 50_000
IN_CHUNK = 5_000


class EligibilityError(RuntimeError):
    """Eligibility cannot run for the period; the message is for a steward, in Indonesian."""


def _period(period: str | Period) -> Period:
    return period if isinstance(period, Period) else Period.parse(period)


def _read(s: Session, stmt) -> pd.DataFrame:
    """A SELECT as a DataFrame straight from the DBAPI cursor. At city scale (hundreds of thousands of registry
    persons and decisions) SQLAlchemy's per-row result processing costs more than the rules themselves; the
    callers cope with what drivers return raw (ISO date strings and 0/1 on SQLite, JSON as text or dicts)."""
    result = s.connection().execute(stmt)
    try:
        # the raw DBAPI rows: SQLAlchemy still binds the parameters, but no per-row processing
        cursor = result.cursor
        names = [d[0] for d in cursor.description]
        columns: list[list] = [[] for _ in names]
        while True:
            chunk = cursor.fetchmany(READ_CHUNK)
            if not chunk:
                break
            for target, values in zip(columns, zip(*chunk, strict=True), strict=True):
                target.extend(values)
    finally:
        result.close()
    # object columns: no inference of pandas' Arrow-backed str dtype (slow set lookups, see rules.py)
    return pd.DataFrame({n: pd.Series(np.array(v, dtype=object), dtype=object) for n, v in zip(names, columns,
                                                                                                strict=True)})


def _json(value) -> dict:
    if isinstance(value, dict):
        return value
    if isinstance(value, (str, bytes)) and value:
        return json.loads(value)
    return {}


def _snapshot(s: Session, period: Period):
    snap = snapshot_for_period(s, period)
    if snap is None:
        raise EligibilityError(
            f"Belum ada snapshot registri dengan tanggal sampai {period.end:%d-%m-%Y}: muat dulu dengan "
            f"`tkpk registry load`."
        )
    return snap


def _write(s: Session, model, df: pd.DataFrame) -> None:
    """Insert a frame into the model's table inside the session's transaction (`tkpk.warehouse.bulk`: COPY on
    PostgreSQL, Core executemany elsewhere; hundreds of thousands of decisions a month, the ORM would take minutes)."""
    insert_frame(s, model, df)


# --- reading submission rows with their links -------------------------------------------------------------------------


def _rows(s: Session, type_code: str, config, kelurahan: KelurahanIndex, *, period: str | None = None,
          up_to: str | None = None, wanted=None) -> pd.DataFrame:
    """Staged rows of the current batches of one submission type (one period, or every period up to one), its
    canonical columns normalised, with their links.

    `wanted(links) -> bool mask` picks rows from their link columns first (a kecamatan partition, the recipients not
    found); only those rows' JSON is then read. The choice is made here rather than by joining registry tables in
    SQL: right after a bulk load the planner's statistics are stale and such a join can take minutes."""
    stype = config.types.get(type_code)
    links = (
        select(
            StagedRow.row_id, StagedRow.period,
            PersonLink.id_art.label("p_id_art"), PersonLink.id_keluarga.label("p_id_keluarga"),
            PersonLink.match_status.label("p_status"), PersonLink.decided_by.label("p_by"),
            HouseholdLink.id_keluarga.label("h_id_keluarga"), HouseholdLink.match_status.label("h_status"),
            HouseholdLink.via.label("h_via"),
        )
        .join(SubmissionBatch, SubmissionBatch.batch_id == StagedRow.batch_id)
        .outerjoin(PersonLink, and_(PersonLink.row_id == StagedRow.row_id, PersonLink.period == StagedRow.period))
        .outerjoin(HouseholdLink, and_(HouseholdLink.row_id == StagedRow.row_id,
                                       HouseholdLink.period == StagedRow.period))
        # filters on the batch as well, so the database starts from the few current batches (batch_id index)
        .where(SubmissionBatch.is_current.is_(True), SubmissionBatch.submission_type == type_code,
               StagedRow.submission_type == type_code)
        .order_by(StagedRow.period, StagedRow.row_id)
    )
    if period is not None:
        links = links.where(StagedRow.period == period, SubmissionBatch.period == period)
    if up_to is not None:
        links = links.where(StagedRow.period <= up_to, SubmissionBatch.period <= up_to)
    if wanted is None:
        raw = _read(s, links.add_columns(StagedRow.data))
    else:
        raw = _read(s, links)
        raw = raw[np.asarray(wanted(raw), dtype=bool)].reset_index(drop=True) if len(raw) else raw
        ids = [int(i) for i in raw["row_id"]] if len(raw) else []
        by_id: dict = {}
        for start in range(0, len(ids), IN_CHUNK):
            part = _read(s, select(StagedRow.row_id, StagedRow.data).where(
                StagedRow.row_id.in_(ids[start : start + IN_CHUNK])))
            by_id.update(zip((int(i) for i in part["row_id"]), part["data"], strict=True))
        raw["data"] = pd.Series([by_id.get(i) for i in ids], dtype=object)
    # the JSON is parsed here rather than by the database: PostgreSQL re-parses a json column for every ->>
    data = [_json(d) for d in raw["data"]] if len(raw) else []
    canonical = pd.DataFrame({c.name: pd.Series([d.get(c.name) for d in data], dtype=object)
                              for c in stype.columns})
    out = normalize_rows(canonical, stype, kelurahan, trusted=True)
    for col in ("row_id", "period", "p_id_art", "p_id_keluarga", "p_status", "p_by", "h_id_keluarga", "h_status",
                "h_via"):
        out[col] = raw[col].to_numpy(object) if len(raw) else pd.Series(dtype=object)
    return out.reset_index(drop=True)


def _in_households(households: pd.Index):
    """Rows linked (by household or person) to one of `households`, whatever the link status."""
    def wanted(links: pd.DataFrame) -> np.ndarray:
        kel = np.where(links["h_id_keluarga"].notna(), links["h_id_keluarga"], links["p_id_keluarga"])
        return pd.Series(kel, dtype=object).isin(households).to_numpy()
    return wanted


def _not_in_snapshot(persons: pd.Index, households: pd.Index):
    """Rows whose linked person, or else linked household, is not in the snapshot (recipients not found)."""
    def wanted(links: pd.DataFrame) -> np.ndarray:
        units = _units(links, "nik")
        person_found = pd.Series(units["id_art"], dtype=object).isin(persons).to_numpy()
        house = _units(links, "no_kk")["id_keluarga"]
        house_found = pd.Series(house, dtype=object).isin(households).to_numpy()
        return ~(person_found & house_found)
    return wanted


def _units(rows: pd.DataFrame, match: str) -> pd.DataFrame:
    """The registry unit of each row from the links: a person linked (or confirmed by a steward); for a household
    match the household link, else the household of the linked person."""
    person_ok = rows["p_id_art"].notna() & ((rows["p_status"] == "linked") | (rows["p_by"] == "steward"))
    id_art = rows["p_id_art"].where(person_ok, None)
    kel_person = rows["p_id_keluarga"].where(person_ok, None)
    if match == "no_kk":
        house_ok = rows["h_id_keluarga"].notna() & ((rows["h_status"] == "linked") | (rows["h_via"] == "steward"))
        kel = rows["h_id_keluarga"].where(house_ok, kel_person)
        return pd.DataFrame({"id_art": None, "id_keluarga": kel.astype(object)}, index=rows.index)
    return pd.DataFrame({"id_art": id_art.astype(object), "id_keluarga": kel_person.astype(object)}, index=rows.index)


def _types_with_batch(s: Session, period: str) -> set[str]:
    return set(s.scalars(select(SubmissionBatch.submission_type).distinct().where(
        SubmissionBatch.period == period, SubmissionBatch.is_current.is_(True))))


def _latest_period(s: Session, type_code: str, up_to: str) -> str | None:
    return s.scalar(select(func.max(SubmissionBatch.period)).where(
        SubmissionBatch.submission_type == type_code, SubmissionBatch.is_current.is_(True),
        SubmissionBatch.period <= up_to))


class _Clock:
    """Seconds spent per step, reported with the counts (the monthly log shows where the time goes)."""

    def __init__(self):
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 2)
        self._last = now


@dataclass
class _Sources:
    recipients: pd.DataFrame
    with_data: set[str]
    inputs: rules.RuleInputs


def _load_sources(s: Session, programs: ProgramsConfig, config, period: Period, kelurahan: KelurahanIndex,
                  wanted=None, recipients_only: bool = False) -> _Sources:
    """Recipients of this period, RTLH history up to P, PKH status in the latest batch up to P."""
    P, year = str(period), period.end.year
    have = _types_with_batch(s, P)
    recipient_frames, with_data = [], set()
    inputs = rules.RuleInputs()
    by_type: dict[tuple, pd.DataFrame] = {}

    def typed(type_code: str, **where) -> pd.DataFrame:
        key = (type_code, tuple(sorted(where.items())))
        if key not in by_type:
            by_type[key] = _rows(s, type_code, config, kelurahan, wanted=wanted, **where)
        return by_type[key]

    for program in programs.programs:
        src: RowSource | None = program.recipients
        if src is not None and src.type in have:
            rows = typed(src.type, period=P)
            with_data.add(program.code)
            recipient_frames.append(recipients_from_rows(program, rows, _units(rows, src.match), year))
        if recipients_only:
            continue
        if program.completed_from is not None:
            rows = typed(program.completed_from.type, up_to=P)
            inputs.completed[program.code] = completed_from_rows(rows, _units(rows, program.completed_from.match),
                                                                 program.completed_from, year)
        if program.active_from is not None:
            latest = _latest_period(s, program.active_from.type, P)
            if latest is not None:
                rows = typed(program.active_from.type, period=latest)
                inputs.active_households[program.code] = active_from_rows(
                    rows, _units(rows, program.active_from.match), program.active_from, year)
    recipients = pd.concat(recipient_frames, ignore_index=True) if recipient_frames else pd.DataFrame(
        columns=["program", "row_id", "id_keluarga", "id_art", "kode_kelurahan", "key", "row_rupiah"])
    return _Sources(recipients, with_data, inputs)


# --- public API ------------------------------------------------------------------------------------------------------


def derive_events(settings: Settings, period: str) -> dict:
    """Registry events of the period from accepted, linked rows (deaths, moves, births, pregnancies, enrolment).
    Replaces the period's events."""
    p = _period(period)
    P = str(p)
    config = load_config(settings.config_dir)
    with session_scope(settings.database_url) as s:
        snap = _snapshot(s, p)
        kk = _read(s, select(RegistryHousehold.no_kk, RegistryHousehold.id_keluarga).where(
            RegistryHousehold.snapshot_id == snap.snapshot_id, RegistryHousehold.no_kk.is_not(None)))
        household_by_kk = kk.drop_duplicates("no_kk", keep=False).set_index("no_kk")["id_keluarga"]
        earlier_births = s.scalars(select(RegistryEvent.data).where(
            RegistryEvent.event_type == "LAHIR", RegistryEvent.period < P)).all()
        newborn_niks = {d.get("nik") for d in earlier_births if d and d.get("nik")}
        frames, counts = [], {"period": P}
        for type_code in EVENT_SOURCES:
            typed = _rows(s, type_code, config, KelurahanIndex.load(settings.reference_dir), period=P)
            counts[f"{type_code}_baris"] = len(typed)
            if typed.empty:
                continue
            ev = events_from_rows(type_code, typed, _units(typed, "nik"), P, household_by_kk, newborn_niks)
            counts[f"{type_code}_tidak_tertaut"] = int(len(typed) - len(ev))
            frames.append(ev)
        events = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        s.execute(delete(RegistryEvent).where(RegistryEvent.period == P))
        if not events.empty:
            data = []
            for hpl, jenjang, nik, kind in zip(events["hpl"], events["jenjang"], events["nik"], events["event_type"],
                                               strict=True):
                item = {}
                if hpl is not None and pd.notna(hpl):
                    item["hpl"] = pd.Timestamp(hpl).date().isoformat()
                if isinstance(jenjang, str):
                    item["jenjang"] = jenjang
                if kind == "LAHIR" and isinstance(nik, str):
                    item["nik"] = nik  # later events about the newborn find it by its NIK
                data.append(item)
            out = pd.DataFrame({
                "period": P,
                "row_id": events["row_id"].to_numpy(object),
                "id_art": events["id_art"].to_numpy(object),
                "id_keluarga": events["id_keluarga"].to_numpy(object),
                "no_kk": events["no_kk"].to_numpy(object),
                "event_type": events["event_type"].to_numpy(object),
                "event_date": [pd.Timestamp(d).date() if pd.notna(d) else None for d in events["event_date"]],
            })
            out["data"] = data
            _write(s, RegistryEvent, out)
        for t, n in (events["event_type"].value_counts().items() if not events.empty else []):
            counts[str(t).lower()] = int(n)
        counts["events"] = len(events)
    log.info("registry events %s: %s", P, counts)
    return counts


def eligibility_partitions(settings: Settings, period: str) -> list[str]:
    """Kecamatan codes present in the snapshot used for the period (one mapped task each)."""
    p = _period(period)
    with session_scope(settings.database_url) as s:
        snap = _snapshot(s, p)
        return sorted(s.scalars(select(RegistryHousehold.kode_kecamatan).distinct().where(
            RegistryHousehold.snapshot_id == snap.snapshot_id)))


def _load_registry(s: Session, snapshot_id: int, kecamatan: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    hcols = [RegistryHousehold.id_keluarga, RegistryHousehold.no_kk, RegistryHousehold.kode_kelurahan,
             RegistryHousehold.kode_kecamatan, RegistryHousehold.desil, RegistryHousehold.status_kepemilikan_rumah,
             RegistryHousehold.rumah_tidak_layak]
    hq = select(*hcols).where(RegistryHousehold.snapshot_id == snapshot_id)
    pcols = [RegistryPerson.id_art, RegistryPerson.id_keluarga, RegistryPerson.tanggal_lahir,
             RegistryPerson.pekerjaan_sektor, RegistryPerson.jenjang_sekolah, RegistryPerson.disabilitas_berat,
             RegistryPerson.hamil]
    pq = select(*pcols).where(RegistryPerson.snapshot_id == snapshot_id)
    if kecamatan:
        hq = hq.where(RegistryHousehold.kode_kecamatan == kecamatan)
        pq = pq.join(RegistryHousehold, and_(RegistryHousehold.snapshot_id == RegistryPerson.snapshot_id,
                                             RegistryHousehold.id_keluarga == RegistryPerson.id_keluarga)).where(
            RegistryHousehold.kode_kecamatan == kecamatan)
    hh = _read(s, hq.order_by(RegistryHousehold.id_keluarga))
    pp = _read(s, pq.order_by(RegistryPerson.id_art))
    return hh, pp


def _load_events(s: Session, period: str) -> pd.DataFrame:
    ev = _read(s, select(
        RegistryEvent.event_id.label("seq"), RegistryEvent.period, RegistryEvent.event_type, RegistryEvent.id_art,
        RegistryEvent.id_keluarga, RegistryEvent.event_date, RegistryEvent.data,
    ).where(RegistryEvent.period <= period).order_by(RegistryEvent.event_id))
    if ev.empty:
        return ev
    data = [_json(d) for d in ev.pop("data")]
    for key in ("hpl", "jenjang", "nik"):
        ev[key] = pd.Series([d.get(key) for d in data], dtype=object, index=ev.index)
    return ev


def _eligible_keys(s: Session, period: str) -> pd.DataFrame:
    """(program, id_keluarga, id_art) of the units eligible in a period."""
    return _read(s, select(EligibilityDecision.program, EligibilityDecision.id_keluarga, EligibilityDecision.id_art)
                 .where(EligibilityDecision.period == period, EligibilityDecision.eligible.is_(True)))


def _decide(settings: Settings, config, p: Period, kecamatan: str | None, clock: _Clock | None = None):
    """Read what the rules need for (period[, kecamatan]) and decide with the current rule set; nothing is written."""
    programs: ProgramsConfig = config.programs
    clock = clock or _Clock()
    P = str(p)
    with session_scope(settings.database_url) as s:
        snap = _snapshot(s, p)
        snapshot_id = snap.snapshot_id
        hh, pp = _load_registry(s, snapshot_id, kecamatan)
        clock.lap("read_registry")
        events = _load_events(s, P)
        sources = _load_sources(s, programs, config, p, KelurahanIndex.load(settings.reference_dir),
                                wanted=_in_households(pd.Index(hh["id_keluarga"], dtype=object))
                                if kecamatan else None)
        clock.lap("read_submissions")
        previous = _eligible_keys(s, str(p.previous()))
        clock.lap("read_previous")
    sources.inputs.keep = rules.units_to_keep(programs, sources.recipients, previous)
    if kecamatan and not events.empty:
        events = events[events["id_art"].isin(pp["id_art"]) | events["id_keluarga"].isin(hh["id_keluarga"])
                        | events["id_art"].str.startswith("LAHIR-", na=False)]
    state = rules.registry_state(hh, pp, events, p)
    decisions = rules.decide(state, programs, sources.inputs)
    return state, decisions, sources, snapshot_id


def compute_eligibility(settings: Settings, period: str, kecamatan: str | None = None) -> dict:
    """Decisions for every program and unit of the period (one kecamatan, or the whole city), and targeting for the
    recipients linked to those units. Replaces what was there for (period[, kecamatan])."""
    p = _period(period)
    P = str(p)
    config = load_config(settings.config_dir)
    programs: ProgramsConfig = config.programs
    clock = _Clock()
    state, decisions, sources, snapshot_id = _decide(settings, config, p, kecamatan, clock)

    rec = sources.recipients
    if len(rec):
        in_partition = np.where(rec["id_art"].notna(), rec["id_art"].isin(state.persons["id_art"]),
                                rec["id_keluarga"].isin(state.households["id_keluarga"]))
        rec = rec[in_partition]
    target = rules.targeting(decisions, rec, programs, sources.with_data)
    target = target[target["id_keluarga"].notna()]
    clock.lap("rules")

    stored = decisions.drop(columns=["potential_rupiah", "targeting_eligible"]).assign(
        period=P, rule_set_version=programs.rule_set_version, snapshot_id=snapshot_id)
    with session_scope(settings.database_url) as s:
        d = delete(EligibilityDecision).where(EligibilityDecision.period == P)
        t = delete(TargetingResult).where(TargetingResult.period == P, TargetingResult.id_keluarga.is_not(None))
        if kecamatan:
            d = d.where(EligibilityDecision.kode_kecamatan == kecamatan)
            t = t.where(TargetingResult.kode_kecamatan == kecamatan)
        s.execute(d)
        s.execute(t)
        _write(s, EligibilityDecision, stored)
        _write(s, TargetingResult, target.assign(period=P))
    clock.lap("write")
    eligible = decisions[decisions["eligible"]]
    result = {
        "period": P,
        "kecamatan": kecamatan,
        "households": len(state.households),
        "persons": len(state.persons),
        "persons_active": state.counts["persons_active"],
        "decisions": len(decisions),
        "eligible": {k: int(v) for k, v in eligible["program"].value_counts().items()},
        "targeting_rows": len(target),
        "rule_set_version": programs.rule_set_version,
        "seconds": clock.laps,
    }
    log.info("eligibility %s %s: %d decisions, seconds %s", P, kecamatan or "kota", len(decisions), clock.laps)
    return result


def finalize_eligibility(settings: Settings, period: str) -> dict:
    """Changes since the previous period, recipients not found in the registry (inclusion errors), headline counts.
    Graduation candidates and targeting of registry units are written by `compute_eligibility`."""
    p = _period(period)
    P, prev = str(p), str(p.previous())
    config = load_config(settings.config_dir)
    programs: ProgramsConfig = config.programs
    with session_scope(settings.database_url) as s:
        snap = _snapshot(s, p)
        baseline = s.scalar(select(func.count()).select_from(EligibilityDecision).where(
            EligibilityDecision.period == prev)) > 0
        before, current = _changed_units(s, prev, P) if baseline else (None, None)
        previous_rules = set(s.scalars(select(EligibilityDecision.rule_set_version).distinct().where(
            EligibilityDecision.period == prev))) if baseline else set()
        known_kel = pd.Index(s.scalars(select(RegistryHousehold.id_keluarga).where(
            RegistryHousehold.snapshot_id == snap.snapshot_id)).all(), dtype=object)
        known_art = pd.Index(s.scalars(select(RegistryPerson.id_art).where(
            RegistryPerson.snapshot_id == snap.snapshot_id)).all(), dtype=object)
        sources = _load_sources(s, programs, config, p, KelurahanIndex.load(settings.reference_dir),
                                wanted=_not_in_snapshot(known_art, known_kel), recipients_only=True)
        rec = sources.recipients
        if len(rec):
            found = np.where(rec["id_art"].notna(), pd.Series(rec["id_art"], dtype=object).isin(known_art),
                             pd.Series(rec["id_keluarga"], dtype=object).isin(known_kel))
            rec = rec[~found]
    changed = rules.changes(before, current) if baseline else pd.DataFrame(columns=rules.CHANGE_COLUMNS)
    if len(changed) and previous_rules and previous_rules != {programs.rule_set_version}:
        # the rule set changed since last month: a change the new rules would have made last month already is the
        # rule change's doing, not the family's (DESIGN.md section 7)
        _, then, _, _ = _decide(settings, config, p.previous(), None)
        changed = rules.mark_rule_changes(changed, then)
    empty = pd.DataFrame(columns=rules.DECISION_COLUMNS)
    lost = rules.targeting(empty, rec, programs, sources.with_data)

    with session_scope(settings.database_url) as s:
        s.execute(delete(EligibilityChange).where(EligibilityChange.period == P))
        s.execute(delete(TargetingResult).where(TargetingResult.period == P, TargetingResult.id_keluarga.is_(None)))
        _write(s, EligibilityChange, changed.assign(period=P))
        _write(s, TargetingResult, lost.assign(period=P))
        # every kecamatan's decisions and targeting rows are in: the reports read them next
        analyze(s, EligibilityDecision, TargetingResult, EligibilityChange)
        summary = _summary(s, P, programs)
    summary.update({
        "changes_baseline": baseline,
        "changes": {k: int(v) for k, v in changed["change"].value_counts().items()} if len(changed) else {},
        "not_found": len(lost),
        "programs_without_recipient_data": sorted(
            p.code for p in programs.programs if p.recipients is not None and p.code not in sources.with_data),
    })
    log.info("eligibility %s finalised: %s", P, summary)
    return summary


def _changed_units(s: Session, before: str, after: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The decisions of both periods for the units whose eligibility differs, found by the database (a join on the
    decision key) instead of reading two months of decisions: `rules.changes` on these gives the same answer."""
    cols = ["program", "id_keluarga", "id_art", "kode_kelurahan", "kode_kecamatan", "eligible", "reasons"]
    a, b = aliased(EligibilityDecision), aliased(EligibilityDecision)
    frames = {before: [], after: []}
    for first, second, first_period, second_period in ((a, b, after, before), (b, a, before, after)):
        on = and_(second.period == second_period, second.program == first.program,
                  second.id_keluarga == first.id_keluarga, second.id_art == first.id_art)
        stmt = (select(*[getattr(first, c).label(f"f_{c}") for c in cols],
                       *[getattr(second, c).label(f"s_{c}") for c in cols])
                .select_from(first).outerjoin(second, on)
                .where(first.period == first_period, first.eligible.is_(True),
                       or_(second.eligible.is_(None), second.eligible.is_(False))))
        found = _read(s, stmt)
        frames[first_period].append(found[[f"f_{c}" for c in cols]].set_axis(cols, axis=1))
        other = found[found["s_program"].notna()][[f"s_{c}" for c in cols]].set_axis(cols, axis=1)
        frames[second_period].append(other)
    out = []
    for period in (before, after):
        frame = pd.concat(frames[period], ignore_index=True).drop_duplicates(["program", "id_keluarga", "id_art"])
        frame["eligible"] = frame["eligible"].map(bool).astype(bool) if len(frame) else frame["eligible"]
        out.append(frame.reset_index(drop=True))
    return out[0], out[1]


def _summary(s: Session, period: str, programs: ProgramsConfig) -> dict:
    eligible = dict(s.execute(select(EligibilityDecision.program, func.count()).where(
        EligibilityDecision.period == period, EligibilityDecision.eligible.is_(True))
        .group_by(EligibilityDecision.program)).all())
    waiting = s.scalar(select(func.count()).select_from(EligibilityDecision).where(
        EligibilityDecision.period == period, EligibilityDecision.eligible.is_(False),
        EligibilityDecision.rank.is_not(None))) or 0
    rows = s.execute(select(TargetingResult.program, TargetingResult.category, func.count(),
                            func.sum(TargetingResult.rupiah)).where(TargetingResult.period == period)
                     .group_by(TargetingResult.program, TargetingResult.category)).all()
    targeting: dict[str, dict] = {}
    for program, category, n, rupiah in rows:
        entry = targeting.setdefault(program, {})
        entry[category] = int(n)
        entry[f"rupiah_{category}"] = int(rupiah or 0)
    graduation = [p.code for p in programs.programs if p.kind == "graduation"]
    return {
        "period": period,
        "eligible": {k: int(v) for k, v in eligible.items()},
        "graduation_candidates": sum(int(eligible.get(code, 0)) for code in graduation),
        "quota_waiting": int(waiting),
        "targeting": targeting,
    }


def run_period(settings: Settings, period: str) -> dict:
    """Every eligibility step for one period, in order (CLI, demo, tests)."""
    events = derive_events(settings, period)
    computed = compute_eligibility(settings, period)
    final = finalize_eligibility(settings, period)
    return {"events": events, "computed": computed, **final}


__all__ = [
    "EligibilityError", "compute_eligibility", "derive_events", "eligibility_partitions", "finalize_eligibility",
    "run_period",
]
