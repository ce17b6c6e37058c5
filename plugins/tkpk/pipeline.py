"""Run bookkeeping for `tkpk_monthly`: which period a run reports on, who re-triggered it with which filters,
which rule-set and config versions were in force, and a summary of counts when it ends (no personal data)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from tkpk.config import load_config
from tkpk.period import reporting_period
from tkpk.registry import snapshot_for_period
from tkpk.settings import Settings
from tkpk.warehouse import audit, session_scope
from tkpk.warehouse.models import (
    EligibilityDecision,
    ExpectedSubmission,
    PersonLink,
    PipelineRun,
    SubmissionBatch,
)


def start_run(settings: Settings, *, run_id: str, dag_id: str, logical_date, period: str | None, opd: str | None,
              resend: bool = False, triggered_by: str | None = None) -> dict:
    """Resolve the period (an explicit `period` wins; otherwise the month before `logical_date` in Jakarta time),
    record the run, and audit a steward's re-trigger. Returns the small dict every later task reads from XCom."""
    target = reporting_period(logical_date, override=period)
    config = load_config(settings.config_dir)
    if opd:
        config.opds.get(opd)  # raises KeyError with an Indonesian message for an unknown OPD
    actor = triggered_by or "scheduler"
    with session_scope(settings.database_url) as s:
        snap = snapshot_for_period(s, target)
        run = s.get(PipelineRun, run_id)
        if run is None:
            run = PipelineRun(run_id=run_id, dag_id=dag_id, period=str(target), started_at=datetime.now(UTC),
                              state="running")
            s.add(run)
        run.state = "running"
        run.finished_at = None
        run.opd_filter = opd
        run.rule_set_version = config.programs.rule_set_version
        run.config_version = config.version
        run.snapshot_id = snap.snapshot_id if snap else None
        if period or opd or resend or triggered_by:
            audit(s, actor=actor, action="retrigger" if (period or opd) else "trigger", period=str(target),
                  opd_code=opd, run_id=run_id, resend=resend)
    return {"period": str(target), "opd": opd, "resend": resend, "run_id": run_id, "actor": actor,
            "snapshot_id": snap.snapshot_id if snap else None}


class EarlierRunActive(RuntimeError):
    """A run of an earlier period is still going; the task should be retried later (not a data problem)."""


def ensure_earlier_runs_finished(settings: Settings, period: str, run_id: str, *,
                                 within: timedelta = timedelta(hours=6)) -> None:
    """Eligibility of a month reads the month before it (who keeps a quota place, what changed since last month), so
    it must not start while a run of an earlier period is still going: that happens when a backfill runs several
    months at once (Airflow's backfill ignores the DAG's max_active_runs unless told otherwise). A run counts as
    going if it is marked running and started less than `within` ago (the DAG's run timeout), so a run killed
    without closing its record does not block later months for ever. Raises EarlierRunActive (retriable)."""
    since = datetime.now(UTC) - within
    with session_scope(settings.database_url) as s:
        busy = sorted(set(s.scalars(select(PipelineRun.period).where(
            PipelineRun.period < str(period), PipelineRun.state == "running", PipelineRun.run_id != run_id,
            PipelineRun.started_at >= since))))
    if busy:
        raise EarlierRunActive(
            f"Run periode {', '.join(busy)} masih berjalan; kelayakan periode {period} dihitung setelah run itu "
            f"selesai (dicoba lagi otomatis). Untuk backfill beberapa bulan, jalankan satu per satu "
            f"(--max-active-runs 1).")


def finish_run(settings: Settings, run_id: str) -> dict:
    """Close the run record and return the summary lines (Indonesian) and counts for the last task's log."""
    with session_scope(settings.database_url) as s:
        run = s.get(PipelineRun, run_id)
        if run is None:
            return {"counts": {}, "lines": ["Catatan run tidak ditemukan."]}
        period = run.period
        batches = dict(
            s.execute(
                select(SubmissionBatch.status, func.count())
                .where(SubmissionBatch.period == period, SubmissionBatch.run_id == run_id)
                .group_by(SubmissionBatch.status)
            ).all()
        )
        missing = s.scalar(
            select(func.count()).select_from(ExpectedSubmission).where(
                ExpectedSubmission.period == period, ExpectedSubmission.state == "missing",
                ExpectedSubmission.required.is_(True),
            )
        ) or 0
        links = dict(
            s.execute(
                select(PersonLink.match_status, func.count()).where(PersonLink.period == period)
                .group_by(PersonLink.match_status)
            ).all()
        )
        eligible = dict(
            s.execute(
                select(EligibilityDecision.program, func.count())
                .where(EligibilityDecision.period == period, EligibilityDecision.eligible.is_(True))
                .group_by(EligibilityDecision.program)
            ).all()
        )
        counts = {
            "batches": {k: int(v) for k, v in batches.items()},
            "missing_required": int(missing),
            "links": {k: int(v) for k, v in links.items()},
            "eligible": {k: int(v) for k, v in eligible.items()},
        }
        run.summary = counts
        run.state = "finished"
        run.finished_at = datetime.now(UTC)
    lines = [
        f"Ringkasan run periode {period}:",
        f"  batch: diterima {counts['batches'].get('accepted', 0)}, ditolak {counts['batches'].get('rejected', 0)}, "
        f"tidak berubah {counts['batches'].get('duplicate', 0)}; OPD wajib belum mengirim: {counts['missing_required']}",
        f"  linkage: tertaut {counts['links'].get('linked', 0)}, tinjauan {counts['links'].get('review', 0)}, "
        f"baru {counts['links'].get('new', 0)}",
        "  layak: " + (", ".join(f"{k} {v}" for k, v in sorted(counts["eligible"].items())) or "-"),
    ]
    return {"counts": counts, "lines": lines}
