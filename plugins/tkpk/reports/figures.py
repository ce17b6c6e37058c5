"""The report figures: every number in the monthly summaries and the OPD feedback, computed from the warehouse.

Step 5 of the monthly run (DESIGN.md section 8). `load_period_data` runs the SQL files in `include/sql/` once for a
period (grouped by kelurahan, over a 12-month window for the trends); `summary_figures` and `opd_figures` slice and
sum those small frames for one scope (city, kecamatan, kelurahan, OPD). The result is a plain, JSON-serialisable
dict: it feeds the templates, the charts and the XLSX, and its hash is the report's content hash in the send log.
Nothing here holds personal data; the by-name lists live in `tkpk.reports.lists`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from tkpk.normalize.nik import mask_text
from tkpk.period import JAKARTA, Period
from tkpk.quality.messages import column_label
from tkpk.reports.format import share
from tkpk.reports.reasons import reason_words

EXTREME_PROGRAM = "miskin_ekstrem"
GRADUATION_PROGRAM = "kandidat_graduasi_pkh"
BPJS_PROGRAM = "bpjs_tk"
PROPOSAL_TYPE = "kelurahan_usulan"
TREND_MONTHS = 12
KOTA_NAME = "Kota Jambi"

# Display names for OPD codes (subjects: "Umpan Balik Data Disnaker Oktober 2026").
OPD_SHORT_NAMES = {
    "dinsos": "Dinsos",
    "disnaker": "Disnaker",
    "dinkes": "Dinkes",
    "disdik": "Disdik",
    "perkim": "Perkim",
    "koperasi": "Koperasi",
    "pertanian": "Pertanian",
    "disdukcapil": "Disdukcapil",
}

STATUS_LABELS = {
    "diterima": "Diterima",
    "ditolak": "Ditolak",
    "ditolak_pakai_sebelumnya": "Ditolak (memakai kiriman sebelumnya)",
    "belum_mengirim": "Belum mengirim",
}
SEVERITY_LABELS = {"critical": "Kritis (berkas ditolak)", "error": "Galat (baris dikarantina)", "warning": "Peringatan"}
CHANGE_LABELS = {"baru_layak": "Baru layak", "tidak_layak_lagi": "Tidak layak lagi"}
NO_KELURAHAN = "Tanpa kelurahan"
ONE_OFF_KINDS = ("rtlh",)  # one-off benefits: a backlog, apart from the yearly rupiah
# the city's three strategies for the extreme poor (DESIGN.md section 8) and where each is measured
STRATEGY_ROWS = (
    ("bansos", "Mengurangi beban pengeluaran", "Bantuan sosial (program mana pun)"),
    ("pemberdayaan", "Meningkatkan pendapatan", "Pemberdayaan usaha (Dinas Koperasi dan UKM)"),
    ("bibit", "Meningkatkan pendapatan", "Bantuan bibit (Dinas Pertanian)"),
    ("air_bersih", "Lingkungan lebih baik", "Air bersih (Dinas Perkim)"),
    ("jamban", "Lingkungan lebih baik", "Jamban (Dinas Perkim)"),
)


def opd_short_name(code: str, name: str | None = None) -> str:
    if code in OPD_SHORT_NAMES:
        return OPD_SHORT_NAMES[code]
    if code.startswith("kel-") and name:
        return name
    return code.replace("-", " ").title()


def canonical_json(data: object) -> str:
    """A report's data as canonical JSON (sorted keys, no spaces): what `content_hash` hashes and `data.json` holds."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def content_hash(data: object) -> str:
    """sha256 of the canonical JSON of a report's data: stable across runs, independent of MIME bytes."""
    return text_hash(canonical_json(data))


def text_hash(blob: str) -> str:
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class PeriodData:
    """The SQL results for one period, small frames keyed by kelurahan (no personal data)."""

    period: Period
    snapshot_id: int | None
    snapshot_date: date | None
    areas: pd.DataFrame
    registry: pd.DataFrame
    eligibility: pd.DataFrame
    targeting: pd.DataFrame
    coverage: pd.DataFrame
    changes: pd.DataFrame
    proposals: pd.DataFrame
    review: pd.DataFrame
    submissions: pd.DataFrame
    expected: pd.DataFrame
    families: pd.DataFrame = None  # families in error per kelurahan and category (report_targeting_families)
    extreme: pd.DataFrame = None  # extreme-poor households, jiwa, water and latrine per kelurahan
    strategies: pd.DataFrame = None  # extreme-poor households reached per kelurahan and strategy

    @property
    def periods_with_data(self) -> list[str]:
        found = set(self.eligibility["period"]) | set(self.targeting["period"])
        return sorted(str(p) for p in found)


def _trend_start(period: Period) -> Period:
    p = period
    for _ in range(TREND_MONTHS - 1):
        p = p.previous()
    return p


def load_period_data(conn, sql_dir: Path, period: Period | str) -> PeriodData:
    """Run every figure query for `period` on an open connection (one transaction, consistent numbers)."""
    from tkpk.registry import snapshot_for_period
    from tkpk.reports.sql import prepare, query

    period = Period.parse(period) if isinstance(period, str) else period
    prepare(conn)
    from sqlalchemy.orm import Session

    with Session(bind=conn) as session:
        snap = snapshot_for_period(session, period)
        snapshot_id = snap.snapshot_id if snap else None
        snapshot_date = snap.snapshot_date if snap else None
    p, start = str(period), str(_trend_start(period))
    frames = dict(
        areas=query(conn, sql_dir, "report_areas"),
        registry=query(conn, sql_dir, "report_registry", snapshot_id=snapshot_id or -1),
        eligibility=query(conn, sql_dir, "report_eligibility", from_period=start, to_period=p),
        targeting=query(conn, sql_dir, "report_targeting", from_period=start, to_period=p),
        coverage=query(conn, sql_dir, "report_coverage", period=p, extreme_program=EXTREME_PROGRAM),
        changes=query(conn, sql_dir, "report_changes", period=p),
        proposals=query(conn, sql_dir, "report_proposals", period=p, proposal_type=PROPOSAL_TYPE),
        review=query(conn, sql_dir, "report_review", period=p),
        submissions=query(conn, sql_dir, "report_submissions", period=p),
        expected=query(conn, sql_dir, "report_expected", period=p),
        families=query(conn, sql_dir, "report_targeting_families", from_period=start, to_period=p,
                       one_off_program=_one_off_code()),
        extreme=query(conn, sql_dir, "report_extreme", period=p, snapshot_id=snapshot_id or -1,
                      extreme_program=EXTREME_PROGRAM),
        strategies=_strategies(query(conn, sql_dir, "report_strategies", period=p, extreme_program=EXTREME_PROGRAM),
                               query(conn, sql_dir, "report_extreme_households", period=p,
                                     extreme_program=EXTREME_PROGRAM)),
    )
    empty_cols = {
        "registry": ["kode_kelurahan", "households", "desil1_households", "no_desil_households", "persons"],
        "families": ["period", "kode_kelurahan", "category", "households", "not_found"],
        "extreme": ["kode_kelurahan", "households", "persons", "no_safe_water", "no_latrine"],
        "strategies": ["kode_kelurahan", "strategy", "households"],
        "eligibility": ["period", "kode_kelurahan", "program", "eligible_units", "benefit_rupiah", "waiting_units"],
        "targeting": ["period", "kode_kelurahan", "program", "category", "units", "rupiah", "not_found"],
        "coverage": ["kode_kelurahan", "program", "eligible_households", "households"],
        "changes": ["kode_kelurahan", "program", "change_kind", "reasons_after", "units"],
        "proposals": ["kode_kelurahan", "match_status", "households", "persons"],
        "review": ["kode_kelurahan", "open_items"],
    }
    areas = frames["areas"]
    kec_of = dict(zip(areas["kode_kelurahan"], areas["kode_kecamatan"], strict=False))
    for name, cols in empty_cols.items():
        frame = frames[name]
        if frame.empty:
            frame = pd.DataFrame(columns=cols)
        # every per-kelurahan frame knows its kecamatan, so a scope is one filter
        frame["kode_kecamatan"] = frame["kode_kelurahan"].map(kec_of)
        for col in ("households", "desil1_households", "no_desil_households", "persons", "eligible_units",
                    "benefit_rupiah", "waiting_units", "units", "rupiah", "not_found", "open_items",
                    "eligible_households", "no_safe_water", "no_latrine", "by_rule"):
            if col in frame.columns:
                frame[col] = pd.to_numeric(frame[col]).fillna(0).astype("int64")
        frames[name] = frame
    return PeriodData(period=period, snapshot_id=snapshot_id, snapshot_date=snapshot_date, **frames)


def _one_off_code() -> str:
    """The program code whose benefit is one-off (RTLH), from the rule set; '' when there is none."""
    from tkpk.config import load_config

    try:
        programs = load_config().programs.programs
    except Exception:  # noqa: BLE001 - a report without the config still renders; the SQL then leaves nothing out
        return "rtlh"
    return next((p.code for p in programs if p.kind in ONE_OFF_KINDS), "")


def _strategies(rows: pd.DataFrame, households: pd.DataFrame) -> pd.DataFrame:
    """Extreme-poor households reached per kelurahan and strategy (each household once per strategy)."""
    cols = ["kode_kelurahan", "strategy", "households"]
    if rows.empty or households.empty:
        return pd.DataFrame(columns=cols)
    kel_of = dict(zip(households["id_keluarga"], households["kode_kelurahan"], strict=False))
    found = []
    for stype, data, id_keluarga in rows[["submission_type", "data", "id_keluarga"]].itertuples(index=False):
        if id_keluarga not in kel_of:
            continue
        if stype == "koperasi_pemberdayaan":
            strategy = "pemberdayaan"
        elif stype == "pertanian_bibit":
            strategy = "bibit"
        else:
            if isinstance(data, (str, bytes)):
                data = json.loads(data)
            jenis = str((data or {}).get("jenis_bantuan") or "").upper()
            strategy = {"AIR_BERSIH": "air_bersih", "JAMBAN": "jamban"}.get(jenis)
            if strategy is None:
                continue
        found.append((kel_of[id_keluarga], strategy, id_keluarga))
    if not found:
        return pd.DataFrame(columns=cols)
    frame = pd.DataFrame(found, columns=["kode_kelurahan", "strategy", "id_keluarga"]).drop_duplicates()
    return frame.groupby(["kode_kelurahan", "strategy"], as_index=False)["id_keluarga"].count().rename(
        columns={"id_keluarga": "households"})


# --- scopes ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    kind: str  # kota | kecamatan | kelurahan
    code: str | None = None

    @classmethod
    def parse(cls, text: str) -> Scope:
        kind, _, code = text.partition(":")
        return cls(kind, code or None)

    @property
    def key(self) -> str:
        return self.kind if self.code is None else f"{self.kind}:{self.code}"

    def select(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.kind == "kota":
            return frame
        column = "kode_kecamatan" if self.kind == "kecamatan" else "kode_kelurahan"
        return frame[frame[column] == self.code]

    def name(self, areas: pd.DataFrame) -> str:
        if self.kind == "kota":
            return KOTA_NAME
        if self.kind == "kecamatan":
            found = areas.loc[areas["kode_kecamatan"] == self.code, "kecamatan"]
            return f"Kecamatan {found.iloc[0] if len(found) else self.code}"
        found = areas.loc[areas["kode_kelurahan"] == self.code, "kelurahan"]
        return f"Kelurahan {found.iloc[0] if len(found) else self.code}"


def _has_recipients(program) -> bool:
    """Whether the rule set names where recipient data for this program comes from (targeting is measured)."""
    return bool(getattr(program, "recipients", None) or getattr(program, "recipients_from", None))


class Sums:
    """`sums("units", period=p, category="exclusion")`: sums over a small frame, grouped once per set of keys."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self._groups: dict[tuple, pd.DataFrame] = {}

    def __call__(self, column: str, **where) -> int:
        keys = tuple(sorted(where))
        if not keys:
            return int(self.frame[column].sum()) if len(self.frame) else 0
        if keys not in self._groups:
            self._groups[keys] = self.frame.groupby(list(keys)).sum(numeric_only=True)
        group = self._groups[keys]
        label = tuple(where[k] for k in keys) if len(keys) > 1 else where[keys[0]]
        try:
            return int(group.at[label, column])
        except KeyError:
            return 0


# --- summaries (kota, kecamatan, kelurahan) --------------------------------------------------------------------------


def summary_figures(data: PeriodData, config, scope: Scope) -> dict:
    """Every figure of one summary report (DESIGN.md section 8), for one scope."""
    period, prev = data.period, data.period.previous()
    p, pp = str(period), str(prev)
    has_prev = pp in data.periods_with_data
    reg = scope.select(data.registry)
    elig = scope.select(data.eligibility)
    tgt = scope.select(data.targeting)
    e_sum, t_sum = Sums(elig), Sums(tgt)
    programs = {prog.code: prog for prog in config.programs.programs}

    extreme = e_sum("eligible_units", period=p, program=EXTREME_PROGRAM)
    extreme_prev = e_sum("eligible_units", period=pp, program=EXTREME_PROGRAM) if has_prev else None

    program_rows = []
    for code, prog in programs.items():
        if code in (EXTREME_PROGRAM, GRADUATION_PROGRAM):
            continue
        row = {
            "code": code,
            "name": prog.name,
            "unit": "keluarga" if prog.unit == "household" else "orang",
            "has_recipients": _has_recipients(prog) or bool(len(tgt[tgt["program"] == code])),
            "eligible": e_sum("eligible_units", period=p, program=code),
            "eligible_prev": e_sum("eligible_units", period=pp, program=code) if has_prev else None,
            "benefit_rupiah": e_sum("benefit_rupiah", period=p, program=code),
            "waiting": e_sum("waiting_units", period=p, program=code),
            "one_off": prog.kind in ONE_OFF_KINDS,
        }
        for category in ("tepat", "exclusion", "inclusion"):
            row[category] = t_sum("units", period=p, program=code, category=category)
            row[f"{category}_rupiah"] = t_sum("rupiah", period=p, program=code, category=category)
            row[f"{category}_prev"] = (
                t_sum("units", period=pp, program=code, category=category) if has_prev else None
            )
        row["not_found"] = t_sum("not_found", period=p, program=code, category="inclusion")
        row["receiving"] = row["tepat"] + row["inclusion"]
        # eligible as targeting judges it (RTLH: this year's recipients by their state before this year's works), so
        # that eligible = tepat sasaran + kesalahan eksklusi in every row
        row["eligible_targeted"] = row["tepat"] + row["exclusion"]
        row["precision"] = share(row["tepat"], row["receiving"])
        row["reach"] = share(row["tepat"], row["tepat"] + row["exclusion"])
        program_rows.append(row)
    with_recipients = [r for r in program_rows if r["has_recipients"]]
    totals = {
        key: sum(r[key] for r in with_recipients)
        for key in ("tepat", "exclusion", "inclusion", "exclusion_rupiah", "inclusion_rupiah", "not_found")
    }
    totals["exclusion_prev"] = sum(r["exclusion_prev"] for r in with_recipients) if has_prev else None
    totals["inclusion_prev"] = sum(r["inclusion_prev"] for r in with_recipients) if has_prev else None
    # the headline: families (each once, whatever the number of programs or members) and yearly rupiah; one-off
    # programs (RTLH) are a backlog apart; recipients not found in the registry are persons/KK without a family
    yearly = [r for r in with_recipients if not r["one_off"]]
    fam = Sums(scope.select(data.families[data.families["period"] == p]))
    totals.update({
        "exclusion_households": fam("households", category="exclusion"),
        "inclusion_households": fam("households", category="inclusion"),
        "tepat_households": fam("households", category="tepat"),
        "inclusion_not_found": fam("not_found", category="inclusion"),
        "exclusion_rupiah_yearly": sum(r["exclusion_rupiah"] for r in yearly),
        "inclusion_rupiah_yearly": sum(r["inclusion_rupiah"] for r in yearly),
        "households_units": {
            k: sum(r[k] for r in yearly if r["unit"] == "keluarga") for k in ("tepat", "exclusion", "inclusion")},
        "persons_units": {
            k: sum(r[k] for r in yearly if r["unit"] == "orang") for k in ("tepat", "exclusion", "inclusion")},
    })
    one_off = [r for r in with_recipients if r["one_off"]]
    backlog = {
        "programs": [{"code": r["code"], "name": r["name"], "eligible": r["eligible"], "receiving": r["receiving"],
                      "backlog": r["exclusion"], "backlog_rupiah": r["exclusion_rupiah"],
                      "this_year": r["tepat"], "inclusion": r["inclusion"]} for r in one_off],
    }
    backlog["households"] = sum(b["backlog"] for b in backlog["programs"])
    backlog["rupiah"] = sum(b["backlog_rupiah"] for b in backlog["programs"])

    cov = Sums(scope.select(data.coverage))
    # cakupan: of the extreme-poor families eligible for a program, the share receiving it
    coverage = [
        {
            "code": r["code"],
            "name": r["name"],
            "eligible_households": cov("eligible_households", program=r["code"]),
            "households": cov("households", program=r["code"]),
            "share": share(cov("households", program=r["code"]), cov("eligible_households", program=r["code"])),
        }
        for r in with_recipients
    ]
    any_program = cov("households", program="_any")
    ext = scope.select(data.extreme)
    strat = Sums(scope.select(data.strategies))
    reached = {"bansos": any_program, **{k: strat("households", strategy=k) for k, _, _ in STRATEGY_ROWS[1:]}}
    registry_households = int(reg["households"].sum())
    extreme_section = {
        "households": extreme,
        "persons": int(ext["persons"].sum()),
        "share_of_city": share(extreme, registry_households),
        "strategies": [{"code": code, "strategy": group, "name": name, "households": reached[code],
                        "share": share(reached[code], extreme)} for code, group, name in STRATEGY_ROWS],
        "no_safe_water": int(ext["no_safe_water"].sum()),
        "no_latrine": int(ext["no_latrine"].sum()),
        "no_desil_households": int(reg["no_desil_households"].sum()),
    }

    ch = scope.select(data.changes)
    if "by_rule" not in ch:
        ch = ch.assign(by_rule=0)
    ch_sum = Sums(ch)
    changes = []
    for code, prog in programs.items():
        # a change the new rule set made is "perubahan aturan", not a family who became (in)eligible
        up = ch_sum("units", program=code, change_kind="baru_layak", by_rule=0)
        down = ch_sum("units", program=code, change_kind="tidak_layak_lagi", by_rule=0)
        rule_up = ch_sum("units", program=code, change_kind="baru_layak", by_rule=1)
        rule_down = ch_sum("units", program=code, change_kind="tidak_layak_lagi", by_rule=1)
        if up or down or rule_up or rule_down:
            changes.append({"code": code, "name": prog.name, "baru_layak": up, "tidak_layak_lagi": down,
                            "aturan_layak": rule_up, "aturan_tidak_layak": rule_down,
                            "unit": "keluarga" if prog.unit == "household" else "orang"})
    reasons = (
        ch.groupby(["program", "change_kind", "by_rule", "reasons_after"], as_index=False)["units"].sum()
        .sort_values(["program", "change_kind", "by_rule", "units", "reasons_after"],
                     ascending=[True, True, True, False, True])
    )
    change_reasons = [
        {"program": r.program, "program_name": programs[r.program].name if r.program in programs else r.program,
         "change": CHANGE_LABELS.get(r.change_kind, r.change_kind)
         + (" (perubahan aturan)" if int(r.by_rule) else ""),
         "reasons": r.reasons_after, "reasons_words": reason_words(r.reasons_after), "units": int(r.units)}
        for r in reasons.itertuples()
    ]

    props = scope.select(data.proposals)
    props_sum = Sums(props)
    proposals = {
        "households": int(props["households"].sum()),
        "persons": int(props["persons"].sum()),
        "new": props_sum("households", match_status="new"),
        "duplicate": props_sum("households", match_status="duplicate"),
        "linked": props_sum("households", match_status="linked"),
    }

    figures = {
        "period": p,
        "period_label": period.label(),
        "previous_label": prev.label(),
        "has_previous": has_prev,
        "scope": {"kind": scope.kind, "code": scope.code, "key": scope.key, "name": scope.name(data.areas)},
        "registry": {
            "households": int(reg["households"].sum()),
            "persons": int(reg["persons"].sum()),
            "snapshot_date": data.snapshot_date.isoformat() if data.snapshot_date else None,
        },
        "extreme_poor": {
            "households": extreme,
            "previous": extreme_prev,
            "delta": None if extreme_prev is None else extreme - extreme_prev,
            "share_of_households": share(extreme, int(reg["households"].sum())),
        },
        "coverage": coverage,
        "extreme_section": extreme_section,
        "rtlh_backlog": backlog,
        "coverage_any": {"households": any_program, "share": share(any_program, extreme),
                         "none": max(extreme - any_program, 0)},
        "programs": program_rows,
        "targeting_total": totals,
        "changes": changes,
        "change_reasons": change_reasons,
        "changes_total": {"baru_layak": sum(c["baru_layak"] for c in changes),
                          "tidak_layak_lagi": sum(c["tidak_layak_lagi"] for c in changes),
                          # keluarga and orang are never added together in what a reader sees
                          **{f"{k}_{u}": sum(c[k] for c in changes if c["unit"] == u)
                             for k in ("baru_layak", "tidak_layak_lagi", "aturan_layak", "aturan_tidak_layak")
                             for u in ("keluarga", "orang")}},
        "graduation": {
            "households": e_sum("eligible_units", period=p, program=GRADUATION_PROGRAM),
            "previous": e_sum("eligible_units", period=pp, program=GRADUATION_PROGRAM) if has_prev else None,
        },
        "bpjs_quota": {
            "recommended": e_sum("eligible_units", period=p, program=BPJS_PROGRAM),
            "waiting": e_sum("waiting_units", period=p, program=BPJS_PROGRAM),
            "enrolled_eligible": t_sum("units", period=p, program=BPJS_PROGRAM, category="tepat"),
            "not_enrolled": t_sum("units", period=p, program=BPJS_PROGRAM, category="exclusion"),
        },
        "proposals": proposals,
        "review_open": int(scope.select(data.review)["open_items"].sum()),
        "areas": _area_rows(data, scope, has_prev),
        "kelurahan_rows": _area_rows(data, scope, has_prev, by="kelurahan"),
        "no_kelurahan_label": NO_KELURAHAN,
        "rule_set_version": config.programs.rule_set_version,
        "trend": _trend(data, scope),
    }
    from tkpk.reports.budget import budget_figures

    figures["budget"] = budget_figures(data, config, scope)
    figures["areas_total"] = area_total(figures["areas"])
    figures["kelurahan_total"] = area_total(figures["kelurahan_rows"])
    if scope.kind == "kota":
        figures["scorecard"] = scorecard(data, config)
        figures["scorecard_summary"] = _scorecard_summary(figures["scorecard"])
    return figures


def _area_rows(data: PeriodData, scope: Scope, has_prev: bool, *, by: str | None = None) -> list[dict]:
    """Per-kecamatan rows (city report) or per-kelurahan rows (kecamatan report; and the XLSX detail)."""
    if by is None:
        if scope.kind == "kota":
            by = "kecamatan"
        elif scope.kind == "kecamatan":
            by = "kelurahan"
        else:
            return []
    key = "kode_kecamatan" if by == "kecamatan" else "kode_kelurahan"
    name_col = "kecamatan" if by == "kecamatan" else "kelurahan"
    areas = scope.select(data.areas)
    areas = areas[[key, name_col] + (["kecamatan"] if by == "kelurahan" else [])].drop_duplicates(key)
    p, pp = str(data.period), str(data.period.previous())

    lost: dict[str, int] = {}  # what has no (known) kelurahan: the `tanpa kelurahan` row

    def by_area(frame: pd.DataFrame, column: str, **where) -> pd.Series:
        for k, v in where.items():
            frame = frame[frame[k] == v]
        frame = scope.select(frame)
        known = frame[key].isin(areas[key])
        lost[column + repr(sorted(where.items()))] = int(frame.loc[~known, column].sum()) if len(frame) else 0
        return frame[known].groupby(key)[column].sum()

    table = areas.set_index(key)
    table["households"] = by_area(data.registry, "households")
    table["persons"] = by_area(data.registry, "persons")
    table["extreme_poor"] = by_area(data.eligibility, "eligible_units", period=p, program=EXTREME_PROGRAM)
    table["extreme_poor_prev"] = by_area(data.eligibility, "eligible_units", period=pp, program=EXTREME_PROGRAM)
    table["exclusion"] = by_area(data.targeting, "units", period=p, category="exclusion")
    table["exclusion_rupiah"] = by_area(data.targeting, "rupiah", period=p, category="exclusion")
    table["inclusion"] = by_area(data.targeting, "units", period=p, category="inclusion")
    table["inclusion_rupiah"] = by_area(data.targeting, "rupiah", period=p, category="inclusion")
    table["baru_layak"] = by_area(data.changes, "units", change_kind="baru_layak")
    table["tidak_layak_lagi"] = by_area(data.changes, "units", change_kind="tidak_layak_lagi")
    table["proposals"] = by_area(data.proposals, "households")
    table["graduation"] = by_area(data.eligibility, "eligible_units", period=p, program=GRADUATION_PROGRAM)
    families = data.families if data.families is not None else pd.DataFrame(
        columns=["kode_kelurahan", "kode_kecamatan", "category", "households", "not_found"])
    table["exclusion_households"] = by_area(families, "households", category="exclusion", period=p)
    table["inclusion_households"] = by_area(families, "households", category="inclusion", period=p)
    table["not_found"] = by_area(families, "not_found", category="inclusion", period=p)
    extreme = data.extreme if data.extreme is not None else pd.DataFrame(
        columns=["kode_kelurahan", "kode_kecamatan", "persons"])
    table["extreme_persons"] = by_area(extreme, "persons")
    table = table.fillna(0)
    rows = []
    for code, r in table.sort_index().iterrows():
        row = {"code": code, "name": r[name_col]}
        if by == "kelurahan":
            row["kecamatan"] = r["kecamatan"]
        for col in AREA_COLUMNS:
            row[col] = int(r[col])
        row["extreme_poor_delta"] = int(r["extreme_poor"] - r["extreme_poor_prev"]) if has_prev else None
        rows.append(row)
    tanpa = {"code": None, "name": NO_KELURAHAN, "extreme_poor_delta": None}
    if by == "kelurahan":
        tanpa["kecamatan"] = None
    names = {"households": ("households", []), "persons": ("persons", []),
             "extreme_poor": ("eligible_units", [("period", p), ("program", EXTREME_PROGRAM)]),
             "exclusion": ("units", [("category", "exclusion"), ("period", p)]),
             "exclusion_rupiah": ("rupiah", [("category", "exclusion"), ("period", p)]),
             "inclusion": ("units", [("category", "inclusion"), ("period", p)]),
             "inclusion_rupiah": ("rupiah", [("category", "inclusion"), ("period", p)]),
             "baru_layak": ("units", [("change_kind", "baru_layak")]),
             "tidak_layak_lagi": ("units", [("change_kind", "tidak_layak_lagi")]),
             "proposals": ("households", []),
             "graduation": ("eligible_units", [("period", p), ("program", GRADUATION_PROGRAM)]),
             "exclusion_households": ("households", [("category", "exclusion"), ("period", p)]),
             "inclusion_households": ("households", [("category", "inclusion"), ("period", p)]),
             "not_found": ("not_found", [("category", "inclusion"), ("period", p)]),
             "extreme_persons": ("persons", [])}
    for col, (source, where) in names.items():
        tanpa[col] = lost.get(source + repr(sorted(where)), 0) if col not in ("households", "persons",
                                                                               "proposals", "extreme_persons") else 0
    if any(tanpa[c] for c in AREA_COLUMNS):
        rows.append(tanpa)
    return rows


AREA_COLUMNS = ("households", "persons", "extreme_poor", "exclusion", "exclusion_rupiah", "inclusion",
                "inclusion_rupiah", "baru_layak", "tidak_layak_lagi", "proposals", "graduation",
                "exclusion_households", "inclusion_households", "not_found", "extreme_persons")


def area_total(rows: list[dict]) -> dict:
    """The total row of an area table (the `tanpa kelurahan` row included): equal to the report's headline."""
    return {"code": None, "name": "Jumlah", **{c: sum(r[c] for r in rows) for c in AREA_COLUMNS}}


def _trend(data: PeriodData, scope: Scope) -> list[dict]:
    elig, tgt = Sums(scope.select(data.eligibility)), Sums(scope.select(data.targeting))
    fam = Sums(scope.select(data.families)) if data.families is not None and "period" in data.families else None
    out = []
    for p in data.periods_with_data:
        out.append({
            "period": p,
            "label": Period.parse(p).label(),
            "extreme_poor": elig("eligible_units", period=p, program=EXTREME_PROGRAM),
            "exclusion": tgt("units", period=p, category="exclusion"),
            "inclusion": tgt("units", period=p, category="inclusion"),
            "exclusion_rupiah": tgt("rupiah", period=p, category="exclusion"),
            "inclusion_rupiah": tgt("rupiah", period=p, category="inclusion"),
            # families (each once), as the headline counts them
            "exclusion_households": fam("households", period=p, category="exclusion") if fam else None,
            "inclusion_households": fam("households", period=p, category="inclusion") if fam else None,
        })
    return out


# --- data-quality scorecard ------------------------------------------------------------------------------------------


def _as_utc(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, errors="coerce", format="mixed")


def _jakarta_date(value) -> date | None:
    if value is None or pd.isna(value):
        return None
    return value.tz_convert(JAKARTA).date()


def _deadline(period: Period, day: int) -> date:
    due = period.next()
    return date(due.year, due.month, day)


def _submission_rows(data: PeriodData) -> pd.DataFrame:
    subs = data.submissions.copy()
    if subs.empty:
        subs = pd.DataFrame(columns=["opd_code", "submission_type", "status", "received_at", "rows_total",
                                     "rows_accepted", "rows_quarantined", "rows_warning", "rejection_reason",
                                     "critical", "errors", "warnings", "current_batch_id", "attempts", "sha256",
                                     "current_rows_accepted"])
    subs["received_at"] = _as_utc(subs["received_at"])
    return subs


def _expected_rows(data: PeriodData) -> pd.DataFrame:
    expected = data.expected.copy()
    if not expected.empty:
        expected["first_received_at"] = _as_utc(expected["first_received_at"])
        expected["deadline"] = pd.to_datetime(expected["deadline"], errors="coerce").dt.date
    return expected


def scorecard(data: PeriodData, config) -> list[dict]:
    """One row per configured OPD submission, plus one for all kelurahan proposals together."""
    subs = _submission_rows(data)
    expected = _expected_rows(data)
    rows = []
    for opd in config.opds.opds:
        for stype in opd.submissions:
            rows.append(_scorecard_row(data, config, opd.code, opd.name, stype, opd.deadline_day, opd.required,
                                       subs, expected))
    kel = subs[subs["opd_code"].astype(str).str.startswith("kel-")]
    if config.opds.kelurahan.enabled:
        sent = int(kel["opd_code"].nunique())
        total = int(pd.to_numeric(kel["rows_total"]).sum()) if sent else 0
        accepted = int(pd.to_numeric(kel["rows_accepted"]).sum()) if sent else 0
        rows.append({
            "opd": "kelurahan", "name": "Kelurahan (usulan warga baru)", "short": "Kelurahan",
            "submission_type": PROPOSAL_TYPE, "required": config.opds.kelurahan.required,
            "status": "diterima" if sent else "belum_mengirim",
            "status_label": f"{sent} kelurahan mengirim" if sent else "Tidak ada usulan",
            "received_date": None, "deadline": None, "on_time": None,
            "rows_total": total, "rows_accepted": accepted, "accepted_share": share(accepted, total),
            "rows_quarantined": int(pd.to_numeric(kel["rows_quarantined"]).sum()) if sent else 0,
            "errors": int(pd.to_numeric(kel["errors"]).sum()) if sent else 0,
            "warnings": int(pd.to_numeric(kel["warnings"]).sum()) if sent else 0,
            "rejection_reason": None, "kelurahan_sent": sent,
        })
    return rows


def _scorecard_row(data, config, code, name, stype, deadline_day, required, subs, expected) -> dict:
    sub = subs[(subs["opd_code"] == code) & (subs["submission_type"] == stype)]
    exp = expected[(expected["opd_code"] == code) & (expected["submission_type"] == stype)] if len(expected) else expected
    deadline = None
    received = None
    if len(exp):
        deadline = exp["deadline"].iloc[0] if pd.notna(exp["deadline"].iloc[0]) else None
        received = _jakarta_date(exp["first_received_at"].iloc[0])
    deadline = deadline or _deadline(data.period, deadline_day)
    row = {"opd": code, "name": name, "short": opd_short_name(code, name), "submission_type": stype,
           "submission_name": _type_name(config, stype), "required": bool(required),
           "deadline": deadline.isoformat(), "rejection_reason": None}
    if sub.empty:
        row.update(status="belum_mengirim", received_date=None, on_time=False if required else None, rows_total=0,
                   rows_accepted=0, accepted_share=None, rows_quarantined=0, errors=0, warnings=0)
    else:
        s = sub.iloc[0]
        received = received or _jakarta_date(s["received_at"])
        rejected = s["status"] == "rejected"
        has_previous = rejected and pd.notna(s["current_batch_id"])
        status = "ditolak_pakai_sebelumnya" if has_previous else "ditolak" if rejected else "diterima"
        total, accepted = int(s["rows_total"] or 0), int(s["rows_accepted"] or 0)
        row.update(
            status=status,
            received_date=received.isoformat() if received else None,
            on_time=(received <= deadline) if received else None,
            rows_total=total, rows_accepted=accepted, accepted_share=share(accepted, total),
            # A rejected file has no row-level split: nothing of it is used, so "baris ditolak" stays empty
            # rather than a 0 beside "7 dari 9 baris mengandung kesalahan".
            rows_quarantined=None if rejected else int(s["rows_quarantined"] or 0),
            errors=int(s["errors"] or 0) + int(s["critical"] or 0), warnings=int(s["warnings"] or 0),
            rejection_reason=mask_text(str(s["rejection_reason"])) if rejected and s["rejection_reason"] else None,
        )
    row["status_label"] = STATUS_LABELS[row["status"]]
    return row


def _scorecard_summary(rows: list[dict]) -> dict:
    opd_rows = [r for r in rows if r["opd"] != "kelurahan"]
    return {
        "expected": len(opd_rows),
        "received": sum(1 for r in opd_rows if r["status"] != "belum_mengirim"),
        "accepted": sum(1 for r in opd_rows if r["status"] == "diterima"),
        "rejected": sum(1 for r in opd_rows if r["status"].startswith("ditolak")),
        "missing": [r["short"] for r in opd_rows if r["status"] == "belum_mengirim"],
        "rejected_names": [r["short"] for r in opd_rows if r["status"].startswith("ditolak")],
        "late": [r["short"] for r in opd_rows if r["on_time"] is False and r["status"] != "belum_mengirim"],
        "on_time": sum(1 for r in opd_rows if r["on_time"]),
    }


def _type_name(config, stype: str) -> str:
    try:
        return config.types.get(stype).name
    except KeyError:
        return stype


# --- OPD feedback ----------------------------------------------------------------------------------------------------


def opd_figures(data: PeriodData, config, opd, findings: pd.DataFrame) -> dict | None:
    """The feedback for one OPD: per submission type, accepted or rejected, counts, and its row-level findings
    (values masked). None when the OPD sent nothing this period (it gets the reminder instead)."""
    subs = _submission_rows(data)
    mine = subs[subs["opd_code"] == opd.code]
    if mine.empty:
        return None
    expected = _expected_rows(data)
    submissions = [
        _scorecard_row(data, config, opd.code, opd.name, stype, opd.deadline_day, opd.required, subs, expected)
        for stype in opd.submissions
    ]
    for row, stype in zip(submissions, opd.submissions, strict=True):
        match = mine[mine["submission_type"] == stype]
        row["batch_sha256"] = str(match["sha256"].iloc[0]) if len(match) else None
        row["attempts"] = int(match["attempts"].iloc[0]) if len(match) else 0
        row["rows_in_force"] = (
            int(match["current_rows_accepted"].iloc[0])
            if len(match) and pd.notna(match["current_rows_accepted"].iloc[0]) else 0
        )
    rows = []
    if not findings.empty:
        f = findings.copy()
        f["excel_row"] = pd.to_numeric(f["excel_row"], errors="coerce").astype("Int64")
        f = f.sort_values(["submission_type", "source_file", "excel_row", "column_name", "check_name"],
                          na_position="first", kind="stable")
        f = f.astype(object).where(f.notna(), None)  # NaN/NA -> None: plain values for JSON, sorting, templates
        masked: dict[str, str] = {}  # file names, sheets and messages repeat over thousands of findings

        def masked_text(text: str) -> str:
            if text not in masked:
                masked[text] = mask_text(text)
            return masked[text]

        for r in f.itertuples(index=False):
            rows.append({
                "submission_type": r.submission_type,
                "file": None if r.source_file is None else masked_text(str(r.source_file)),
                "sheet": None if r.sheet is None else masked_text(str(r.sheet)),
                "row": None if r.excel_row is None else int(r.excel_row),
                # the column as the OPD's file wrote it ("Kode Kel"), else in words; never the canonical name
                "column": (getattr(r, "header", None) or column_label(r.column_name)) if r.column_name else None,
                "check": r.check_name,
                "severity": r.severity,
                "severity_label": SEVERITY_LABELS.get(r.severity, r.severity),
                "message": masked_text(str(r.message)),
                "value": None if r.value is None else masked_text(str(r.value)),
            })
    by_check: dict[tuple, dict] = {}
    for r in rows:
        key = (r["submission_type"], r["severity"], r["column"] or "", r["message"])
        entry = by_check.setdefault(key, {"submission_type": r["submission_type"], "severity": r["severity"],
                                          "severity_label": r["severity_label"], "column": r["column"],
                                          "message": r["message"], "count": 0, "example_rows": []})
        entry["count"] += 1
        entry["file_level"] = r["row"] is None  # about the whole file: no row count, no "kolom -"
        if r["row"] is not None and len(entry["example_rows"]) < 5:
            entry["example_rows"].append(r["row"])
    severity_order = {"critical": 0, "error": 1, "warning": 2}
    grouped = sorted(by_check.values(), key=lambda e: (severity_order.get(e["severity"], 9), -e["count"],
                                                       e["submission_type"], e["column"] or "", e["message"]))
    return {
        "period": str(data.period),
        "period_label": data.period.label(),
        "opd": opd.code,
        "name": opd.name,
        "short": opd_short_name(opd.code, opd.name),
        "submissions": submissions,
        "findings": rows,
        "findings_grouped": grouped,
        "totals": {
            "critical": sum(1 for r in rows if r["severity"] == "critical"),
            "errors": sum(1 for r in rows if r["severity"] == "error"),
            "warnings": sum(1 for r in rows if r["severity"] == "warning"),
        },
        "all_accepted": all(s["status"] == "diterima" for s in submissions),
    }


# --- headline figures (kept per sent version; a REVISI names the ones that changed) ----------------------------------

HEADLINE_LABELS = {
    "extreme_poor": "Keluarga miskin ekstrem",
    "extreme_persons": "Jiwa dalam keluarga miskin ekstrem",
    "exclusion_households": "Keluarga dengan kesalahan eksklusi",
    "exclusion_rupiah": "Nilai kesalahan eksklusi per tahun",
    "inclusion_households": "Keluarga dengan kesalahan inklusi",
    "inclusion_rupiah": "Nilai kesalahan inklusi per tahun",
    "not_found": "Penerima tidak ditemukan di registri",
    "rtlh_backlog": "Antrean RTLH (rumah)",
    "graduation": "Kandidat graduasi PKH",
    "proposals": "Usulan keluarga baru",
    "rows_total": "Baris dikirim",
    "rows_accepted": "Baris diterima",
    "findings": "Temuan kualitas data",
}


def headline_figures(figures: dict) -> dict[str, int]:
    """The few figures a reader takes from a report, by code (summaries and OPD feedback)."""
    if "targeting_total" in figures:
        t = figures["targeting_total"]
        return {
            "extreme_poor": figures["extreme_poor"]["households"],
            "extreme_persons": figures["extreme_section"]["persons"],
            "exclusion_households": t["exclusion_households"], "exclusion_rupiah": t["exclusion_rupiah_yearly"],
            "inclusion_households": t["inclusion_households"], "inclusion_rupiah": t["inclusion_rupiah_yearly"],
            "not_found": t["inclusion_not_found"], "rtlh_backlog": figures["rtlh_backlog"]["households"],
            "graduation": figures["graduation"]["households"], "proposals": figures["proposals"]["households"],
        }
    subs = figures.get("submissions", [])
    totals = figures.get("totals", {})
    return {
        "rows_total": sum(int(s.get("rows_total") or 0) for s in subs),
        "rows_accepted": sum(int(s.get("rows_accepted") or 0) for s in subs),
        "findings": sum(int(v or 0) for v in totals.values()),
    }


def headline_changes(before: dict | None, after: dict | None) -> list[dict]:
    """[{label, old, new, rupiah}] for the headline figures that differ between two sent versions."""
    if not before or not after:
        return []
    out = []
    for code, label in HEADLINE_LABELS.items():
        if code in after and code in before and before[code] != after[code]:
            out.append({"code": code, "label": label, "old": before[code], "new": after[code],
                        "rupiah": code.endswith("_rupiah")})
    return out
