"""Eligibility from files, without a warehouse: the `tkpk eligibility --registry DIR` contract.

DIR holds households.csv and persons.csv (DESIGN.md section 5); the optional submissions folder holds that month's
canonical CSVs named `<type>.csv`, matched to the registry by NIK and No KK. Same rules, same code as the monthly run
(`tkpk.eligibility.rules`); only the way rows find their registry unit differs (exact keys instead of linkage).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tkpk.config.programs import ProgramsConfig
from tkpk.config.submissions import SubmissionTypesConfig
from tkpk.eligibility import rules
from tkpk.eligibility.sources import (
    EVENT_SOURCES,
    DirectMatcher,
    active_from_rows,
    completed_from_rows,
    events_from_rows,
    read_csv_table,
    read_submission,
    recipients_from_rows,
)
from tkpk.normalize.kelurahan import KelurahanIndex
from tkpk.period import Period

log = logging.getLogger(__name__)

CSV_COLUMNS = ["period", "program", "id_keluarga", "id_art", "eligible", "benefit_rupiah_per_year", "reasons", "rank"]


@dataclass
class FileResult:
    period: Period
    decisions: pd.DataFrame
    targeting: pd.DataFrame
    state: rules.RegistryState
    submissions: dict[str, int] = field(default_factory=dict)  # rows read per type
    matched: dict[str, int] = field(default_factory=dict)  # rows that found a registry unit per type
    problems: list[str] = field(default_factory=list)  # registry problems (Indonesian, counts only)


def _read_registry_table(folder: Path, name: str) -> pd.DataFrame:
    path = folder / f"{name}.csv"
    if not path.exists():
        raise FileNotFoundError(f"Berkas {name}.csv tidak ditemukan di {folder}.")
    table = read_csv_table(path)
    header = [str(c).strip().lower().lstrip("\ufeff") for c in table.iloc[0]]
    out = table.iloc[1:].reset_index(drop=True)
    out.columns = header
    return out


@dataclass
class FileInputs:
    """What the rules read from the files of one period (`tkpk simulate` reuses it for every scenario)."""

    period: Period
    state: rules.RegistryState
    inputs: rules.RuleInputs
    recipients: pd.DataFrame
    with_data: set[str]
    submissions: dict[str, int]
    matched: dict[str, int]
    problems: list[str]


def evaluate_files(registry_dir: str | Path, period: str | Period, submissions_dir: str | Path | None,
                   programs: ProgramsConfig, types: SubmissionTypesConfig,
                   reference_dir: str | Path | None = None) -> FileResult:
    """Decisions (and targeting, where recipient files are given) for one period from CSV files."""
    f = file_inputs(registry_dir, period, submissions_dir, programs, types, reference_dir)
    decisions = rules.decide(f.state, programs, f.inputs)
    target = rules.targeting(decisions, f.recipients, programs, f.with_data)
    return FileResult(f.period, decisions, target, f.state, f.submissions, f.matched, f.problems)


def file_inputs(registry_dir: str | Path, period: str | Period, submissions_dir: str | Path | None,
                programs: ProgramsConfig, types: SubmissionTypesConfig,
                reference_dir: str | Path | None = None) -> FileInputs:
    """The registry state at E and the rule inputs (recipients, RTLH history, PKH status) from CSV files."""
    from tkpk.registry import check_snapshot

    period = period if isinstance(period, Period) else Period.parse(period)
    P, year = str(period), period.end.year
    kelurahan = KelurahanIndex.load(reference_dir)
    folder = Path(registry_dir)
    checked = check_snapshot(_read_registry_table(folder, "households"), _read_registry_table(folder, "persons"),
                             snapshot_date=period.end, kelurahan=kelurahan)
    households, persons = checked.households, checked.persons
    matcher = DirectMatcher(households, persons)

    rows: dict[str, pd.DataFrame] = {}
    if submissions_dir is not None:
        known = {t.code for t in types.types}
        for path in sorted(Path(submissions_dir).glob("*.csv")):
            if path.stem in known:
                rows[path.stem] = read_submission(path, types.get(path.stem), types, kelurahan)
            else:
                log.warning("berkas %s dilewati: bukan jenis kiriman yang dikenal", path.name)
    result_counts = {t: len(r) for t, r in rows.items()}

    matched: dict[str, int] = {}
    frames = []
    for type_code in EVENT_SOURCES:
        if type_code in rows:
            ev = events_from_rows(type_code, rows[type_code], matcher.resolve(rows[type_code], "nik"), P,
                                  matcher.by_kk)
            matched[type_code] = len(ev)
            frames.append(ev)
    events = pd.concat(frames, ignore_index=True) if frames else None

    inputs = rules.RuleInputs()
    recipients, with_data = [], set()
    for program in programs.programs:
        src = program.recipients
        if src is not None and src.type in rows:
            r = rows[src.type]
            recipients.append(recipients_from_rows(program, r, matcher.resolve(r, src.match), year))
            with_data.add(program.code)
        if program.completed_from is not None and program.completed_from.type in rows:
            r = rows[program.completed_from.type]
            inputs.completed[program.code] = completed_from_rows(
                r, matcher.resolve(r, program.completed_from.match), program.completed_from, year)
        if program.active_from is not None and program.active_from.type in rows:
            r = rows[program.active_from.type]
            inputs.active_households[program.code] = active_from_rows(
                r, matcher.resolve(r, program.active_from.match), program.active_from, year)
    recipients = pd.concat(recipients, ignore_index=True) if recipients else pd.DataFrame(
        columns=["program", "row_id", "id_keluarga", "id_art", "kode_kelurahan", "key", "row_rupiah"])
    inputs.keep.update(rules.units_to_keep(programs, recipients))
    for program in programs.programs:
        if program.code in with_data:
            sub = recipients[recipients["program"] == program.code]
            unit = "id_art" if program.unit == "person" else "id_keluarga"
            matched[f"penerima_{program.code}"] = int(sub[unit].notna().sum())

    state = rules.registry_state(households, persons, events, period)
    return FileInputs(period, state, inputs, recipients, with_data, result_counts, matched, checked.problems)


def decisions_csv(result: FileResult) -> pd.DataFrame:
    """DECISIONS.csv: period, program, id_keluarga, id_art, eligible, benefit_rupiah_per_year, reasons, rank."""
    d = result.decisions
    order = {code: i for i, code in enumerate(dict.fromkeys(d["program"]))}
    d = d.assign(_order=d["program"].map(order).astype(int)).sort_values(
        ["_order", "id_keluarga", "id_art"], kind="stable")
    return pd.DataFrame({
        "period": str(result.period),
        "program": d["program"].to_numpy(object),
        "id_keluarga": d["id_keluarga"].to_numpy(object),
        "id_art": d["id_art"].fillna("").to_numpy(object),
        "eligible": d["eligible"].map({True: "true", False: "false"}).to_numpy(object),
        "benefit_rupiah_per_year": d["benefit_rupiah"].astype("int64").to_numpy(),
        "reasons": d["reasons"].fillna("").to_numpy(object),
        "rank": d["rank"].astype("Int64").astype(object).where(d["rank"].notna(), "").to_numpy(object),
    }, columns=CSV_COLUMNS)


def write_decisions(result: FileResult, out: str | Path) -> int:
    frame = decisions_csv(result)
    frame.to_csv(out, index=False, encoding="utf-8")
    return len(frame)
