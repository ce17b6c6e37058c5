"""What `make demo` prints after each month: per-OPD results, linkage and eligibility headlines (counts only)."""

from __future__ import annotations

from sqlalchemy import func, select

from tkpk.settings import Settings
from tkpk.status import submission_matrix
from tkpk.warehouse import session_scope
from tkpk.warehouse.models import EligibilityDecision, HouseholdLink, PersonLink, StagedRow, TargetingResult


def _fmt(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def period_lines(settings: Settings, period: str) -> list[str]:
    matrix = submission_matrix(settings.database_url, period)
    lines = []
    for r in matrix["submissions"]:
        if r["state"] == "missing" and not r["required"]:
            continue
        text = f"{r['opd_code']:<16} {r['state_label']:<22} {_fmt(r['rows_accepted'])}/{_fmt(r['rows_total'])} baris"
        if r["rejection_reason"]:
            # the first specific reason ("- file: what is wrong"), not the summary sentence
            reasons = [ln[2:] for ln in r["rejection_reason"].splitlines() if ln.startswith("- ")]
            text += f" - {(reasons or [r['rejection_reason']])[0][:160]}"
        lines.append(text)
    with session_scope(settings.database_url) as s:
        links = dict(s.execute(select(PersonLink.match_status, func.count()).where(PersonLink.period == period)
                               .group_by(PersonLink.match_status)).all())
        households = dict(s.execute(select(HouseholdLink.match_status, func.count())
                                    .where(HouseholdLink.period == period).group_by(HouseholdLink.match_status)).all())
        cross_opd = (
            select(PersonLink.person_key)
            .join(StagedRow, StagedRow.row_id == PersonLink.row_id)
            .where(PersonLink.period == period)
            .group_by(PersonLink.person_key)
            .having(func.count(func.distinct(StagedRow.opd_code)) > 1)
            .subquery()
        )
        cross = s.scalar(select(func.count()).select_from(cross_opd)) or 0
        eligible = dict(s.execute(select(EligibilityDecision.program, func.count())
                                  .where(EligibilityDecision.period == period, EligibilityDecision.eligible.is_(True))
                                  .group_by(EligibilityDecision.program)).all())
        targeting = dict(s.execute(select(TargetingResult.category, func.count())
                                   .where(TargetingResult.period == period).group_by(TargetingResult.category)).all())
    lines.append(
        f"linkage: tertaut {_fmt(links.get('linked', 0))}, tinjauan {_fmt(links.get('review', 0))}, "
        f"baru {_fmt(links.get('new', 0))}; orang yang dilaporkan lebih dari satu OPD: {_fmt(cross)}"
    )
    if households:
        lines.append("keluarga: " + ", ".join(f"{k} {_fmt(v)}" for k, v in sorted(households.items())))
    if eligible:
        lines.append("layak: " + ", ".join(f"{k} {_fmt(v)}" for k, v in sorted(eligible.items())))
    if targeting:
        lines.append(f"ketepatan sasaran: tepat {_fmt(targeting.get('tepat', 0))}, kesalahan eksklusi "
                     f"{_fmt(targeting.get('exclusion', 0))}, kesalahan inklusi {_fmt(targeting.get('inclusion', 0))}")
    return lines
