"""Run bookkeeping for `tkpk_monthly`: which period a run reports on, who re-triggered it with which filters,
which rule-set and config versions were in force, and a summary of counts when it ends (no personal data).

Also the line between the two kinds of failure (DESIGN: a rejected file is the OPD's problem, everything else is
infrastructure): `check_loads` is the gate before linkage and reports, and `record_failure` / `run_failures` keep
what failed in a run (in `{var_dir}/runs/`, readable when the warehouse is what failed) for the run's one alert.

A partial month: reports are built and sent only when every received submission has an outcome recorded by this run
(accepted, unchanged or rejected). Rejected files and OPDs that did not send are part of a complete month (the
reports and the OPD feedback say so). A load that failed for an infrastructure reason makes the month incomplete:
no report goes out until it is cleared, so a report never silently leaves out an OPD's data.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from tkpk.config import load_config
from tkpk.period import reporting_period
from tkpk.registry import snapshot_for_period
from tkpk.settings import Settings
from tkpk.warehouse import audit, session_scope
from tkpk.warehouse.models import (
    EligibilityDecision,
    ExpectedSubmission,
    PeriodRebuild,
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
        first = run is None  # a retry of this task updates the same record and audits nothing twice
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
        if first and (period or opd or resend or triggered_by):
            audit(s, actor=actor, action="retrigger" if (period or opd) else "trigger", period=str(target),
                  opd_code=opd, run_id=run_id, resend=resend)
    return {"period": str(target), "opd": opd, "resend": resend, "run_id": run_id, "actor": actor,
            "snapshot_id": snap.snapshot_id if snap else None}


def earlier_runs_active(settings: Settings, period: str, run_id: str, *,
                        within: timedelta = timedelta(hours=6)) -> list[str]:
    """The earlier periods with a run still going (marked running, started less than `within` ago, the DAG's run
    timeout, so a run killed without closing its record does not block later months for ever). The DAG's
    `wait_for_earlier_months` sensor waits until this is empty."""
    since = datetime.now(UTC) - within
    with session_scope(settings.database_url) as s:
        return sorted(set(s.scalars(select(PipelineRun.period).where(
            PipelineRun.period < str(period), PipelineRun.state == "running", PipelineRun.run_id != run_id,
            PipelineRun.started_at >= since))))


class EarlierRunActive(RuntimeError):
    """A run of an earlier period is still going; the task should be retried later (not a data problem)."""


def ensure_earlier_runs_finished(settings: Settings, period: str, run_id: str, *,
                                 within: timedelta = timedelta(hours=6)) -> None:
    """Eligibility of a month reads the month before it (who keeps a quota place, what changed since last month), so
    it must not start while a run of an earlier period is still going: that happens when a backfill runs several
    months at once (Airflow's backfill ignores the DAG's max_active_runs unless told otherwise). A run counts as
    going if it is marked running and started less than `within` ago (the DAG's run timeout), so a run killed
    without closing its record does not block later months for ever. Raises EarlierRunActive (retriable)."""
    busy = earlier_runs_active(settings, period, run_id, within=within)
    if busy:
        raise EarlierRunActive(
            f"Run periode {', '.join(busy)} masih berjalan; kelayakan periode {period} dihitung setelah run itu "
            f"selesai (dicoba lagi otomatis). Untuk backfill beberapa bulan, jalankan satu per satu "
            f"(--max-active-runs 1).")


def finish_run(settings: Settings, run_id: str, *, complete: bool = False) -> dict:
    """Close the run record and return the summary lines (Indonesian) and counts for the last task's log.
    `complete`: the run sent its reports. Then a revision propagates (`mark_later_months`) and this month's own
    rebuild mark, if any, is closed."""
    rebuild = {"marked": [], "rebuilt": False}
    if complete:
        rebuild["marked"] = mark_later_months(settings, run_id)
        rebuild["rebuilt"] = close_rebuild(settings, run_id)
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
    if rebuild["marked"]:
        lines.append(f"  bulan sesudahnya ditandai untuk dihitung ulang: {', '.join(rebuild['marked'])}")
    if rebuild["rebuilt"]:
        lines.append("  bulan ini dihitung ulang karena bulan sebelumnya direvisi")
    counts["rebuild_marked"] = rebuild["marked"]
    return {"counts": counts, "lines": lines}


def mark_later_months(settings: Settings, run_id: str) -> list[str]:
    """A run that accepted new data for its month revises it; every later month that already ran depends on it
    twice (its eligibility reads events of every earlier period, its report compares with the month before), so
    those months are marked for rebuild (events, eligibility, reports; linkage does not depend on other months).
    A month already marked and not yet rebuilt is not marked twice. Returns the months marked."""
    now = datetime.now(UTC)
    with session_scope(settings.database_url) as s:
        run = s.get(PipelineRun, run_id)
        if run is None:
            return []
        revised = s.scalar(select(func.count()).select_from(SubmissionBatch).where(
            SubmissionBatch.period == run.period, SubmissionBatch.run_id == run_id,
            SubmissionBatch.status == "accepted")) or 0
        if not revised:
            return []
        later = set(s.scalars(select(PipelineRun.period).where(
            PipelineRun.period > run.period, PipelineRun.state == "finished")))
        open_ = set(s.scalars(select(PeriodRebuild.period).where(PeriodRebuild.rebuilt_at.is_(None))))
        marked = sorted(later - open_)
        for period in marked:
            s.add(PeriodRebuild(period=period, because_of=run.period, requested_at=now, requested_by=run_id))
        if marked:
            audit(s, actor=run_id, action="mark_rebuild", period=run.period, months=marked)
    return marked


def close_rebuild(settings: Settings, run_id: str) -> bool:
    """This run rebuilt its month (reports sent): close the month's open rebuild marks. Returns whether any."""
    now = datetime.now(UTC)
    with session_scope(settings.database_url) as s:
        run = s.get(PipelineRun, run_id)
        if run is None:
            return False
        marks = s.scalars(select(PeriodRebuild).where(PeriodRebuild.period == run.period,
                                                      PeriodRebuild.rebuilt_at.is_(None))).all()
        for mark in marks:
            mark.rebuilt_at, mark.rebuilt_by = now, run_id
        return bool(marks)


def next_rebuild(settings: Settings) -> str | None:
    """The earliest month still marked for rebuild (the DAG triggers a run of it), or None."""
    with session_scope(settings.database_url) as s:
        return s.scalar(select(func.min(PeriodRebuild.period)).where(PeriodRebuild.rebuilt_at.is_(None)))


class LoadsIncomplete(RuntimeError):
    """Some received submissions have no outcome from this run: their loads failed for an infrastructure reason."""


def check_loads(settings: Settings, period: str, run_id: str, expected: list[dict]) -> dict:
    """The gate before linkage and reports. Every submission `discover` found must have a batch recorded by this run
    (accepted, duplicate = unchanged, or rejected: a rejected file is an outcome). A submission without one failed
    for an infrastructure reason (landing zone, database, timeout): raise LoadsIncomplete naming it (Indonesian).
    Returns the outcome counts."""
    with session_scope(settings.database_url) as s:
        rows = s.execute(select(SubmissionBatch.opd_code, SubmissionBatch.submission_type, SubmissionBatch.status)
                         .where(SubmissionBatch.period == str(period), SubmissionBatch.run_id == run_id)).all()
    outcome: dict[tuple[str, str], str] = {}
    for opd, stype, status in rows:
        # a later attempt of the same key in this run (a cleared task) wins; any recorded outcome counts
        outcome[(opd, stype)] = status
    missing = sorted({(e["opd_code"], e["submission_type"]) for e in expected} - set(outcome))
    if missing:
        names = ", ".join(f"{o}/{t}" for o, t in missing)
        raise LoadsIncomplete(
            f"Pemuatan {names} periode {period} gagal karena gangguan (bukan karena berkasnya ditolak); laporan "
            f"bulan ini menunggu sampai pemuatan itu berhasil.")
    counts: dict[str, int] = {}
    for status in outcome.values():
        counts[status] = counts.get(status, 0) + 1
    return counts


# What failed, in words a steward understands, from the task and the exception type (no message text: it may
# carry a path or a host, never personal data, but the type is enough to say which service).
_WHAT = [
    (r"Timeout", "waktu tugas habis (execution_timeout): proses tergantung, misalnya baca SFTP/S3 tidak menjawab"),
    (r"SendFailed|SMTP", "server e-mail (SMTP, koneksi smtp_default)"),
    (r"Connection.*NotFound|NotFound.*Conn|Secrets|LandingConnection",
     "koneksi tkpk_landing tidak terbaca (secrets backend atau koneksi belum dibuat)"),
    (r"OperationalError|DBAPIError|InterfaceError|DatabaseError|psycopg|sqlite3",
     "database warehouse (TKPK_DATABASE_URL) tidak dapat dihubungi"),
    (r"LoadsIncomplete", "pemuatan kiriman OPD belum selesai karena gangguan di atas"),
]
_WHAT_BY_TASK = {
    "discover": "zona landing (folder/S3/SFTP kiriman OPD) tidak dapat dibaca",
    "load_submission": "pemuatan berkas OPD (zona landing atau database)",
    "send_reports": "pengiriman e-mail laporan (server SMTP)",
}


def describe_failure(task_id: str, error_type: str) -> str:
    for pattern, what in _WHAT:
        if re.search(pattern, error_type or ""):
            return what
    return _WHAT_BY_TASK.get(task_id, "gangguan teknis pada tugas ini")


def _runs_dir(settings: Settings, run_id: str):
    safe = re.sub(r"[^A-Za-z0-9_.+-]", "_", run_id)[:120] + "-" + hashlib.sha256(run_id.encode()).hexdigest()[:8]
    return settings.var_dir / "runs" / safe


def record_failure(settings: Settings, *, run_id: str, task_id: str, map_index: int = -1, error_type: str,
                   error: str, kind: str = "infrastructure", period: str | None = None, opd: str | None = None,
                   submission_type: str | None = None) -> None:
    """Note that a task of this run failed for good (after its retries). `kind`: infrastructure | rejected | gate.
    `error` must already be one masked line. Kept on disk: the warehouse may be what failed."""
    folder = _runs_dir(settings, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    entry = dict(task_id=task_id, map_index=map_index, kind=kind, error_type=error_type, error=error, period=period,
                 what=describe_failure(task_id, error_type), at=datetime.now(UTC).isoformat(), opd=opd,
                 submission_type=submission_type)
    with open(folder / "failures.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")


def run_failures(settings: Settings, run_id: str) -> list[dict]:
    """The infrastructure failures recorded for this run, oldest first, one per task (the last error wins);
    rejected files and the gate that only repeats an earlier failure are left out."""
    path = _runs_dir(settings, run_id) / "failures.jsonl"
    if not path.exists():
        return []
    latest: dict[tuple[str, int], dict] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            latest.pop((entry["task_id"], entry["map_index"]), None)
            latest[(entry["task_id"], entry["map_index"])] = entry
    found = [e for e in latest.values() if e["kind"] == "infrastructure"]
    return found or [e for e in latest.values() if e["kind"] == "gate"]


def resume_steps(dag_id: str, run_id: str, period: str | None, failures: list[dict]) -> list[str]:
    """How a steward resumes this run once the fault is fixed (Indonesian), naming the first failed task."""
    first = failures[0]["task_id"] if failures else None
    when = period or "YYYY-MM"
    steps = ["Perbaiki penyebabnya (lihat di atas; tanyakan ke admin server bila zona landing, database, e-mail "
             "atau secrets yang bermasalah)."]
    if first:
        steps.append(f"Airflow UI: DAG {dag_id} > run {run_id} > tugas {first} yang merah > Clear, centang "
                     "'Downstream' (dan 'Only failed'), lalu konfirmasi. Run dilanjutkan dari tugas itu.")
    opds = sorted({f["opd"] for f in failures if f.get("opd")})
    if len(opds) == 1:  # one OPD's load failed: re-run only that OPD (its other batches are untouched)
        kinds = sorted({f["submission_type"] for f in failures if f.get("submission_type")})
        what = f" ({', '.join(kinds)})" if kinds else ""
        steps.append(f"Atau muat ulang kiriman {opds[0]}{what} saja dari baris perintah: airflow dags trigger "
                     f"{dag_id} --conf '{{\"period\": \"{when}\", \"opd\": \"{opds[0]}\"}}'")
    else:
        steps.append(f"Atau jalankan ulang seluruh bulan dari baris perintah: airflow dags trigger {dag_id} "
                     f"--conf '{{\"period\": \"{when}\"}}'")
    steps.append(f"Periksa hasilnya: tkpk status --period {when}")
    return steps


def overdue_alert(settings: Settings, smtp, *, period: str, finish_by_hour: int, dag_id: str = "tkpk_monthly",
                  config=None, airflow_status=None, airflow_url: str | None = None) -> bool:
    """The day-10 deadline: alert the stewards (once: the alert's identity is the period and the message) when no
    run of `period` has finished by `finish_by_hour` WIB: none started, the latest is still running, or it waits
    for the steward's sign-off. A run that ended (sent, or failed and already alerted by its failure callback)
    needs no deadline alert. Returns whether an alert was sent.

    The warehouse only knows a run as running until it finishes; whether it failed (and so has alerted already) or
    waits for the sign-off (the `approve_reports` task, awaiting input) is Airflow's to say:
    `airflow_status(run_id) -> "failed" | "awaiting_approval" | None`, asked by the DAG (None: running, or Airflow
    could not say). `airflow_url` (the api-server's base URL) makes the preview link absolute."""
    from tkpk.notify.alert import send_failure_alert

    with session_scope(settings.database_url) as s:
        latest = s.scalars(select(PipelineRun).where(PipelineRun.period == str(period))
                           .order_by(PipelineRun.started_at.desc()).limit(1)).first()
        state = latest.state if latest else None
        run_id = latest.run_id if latest else None
    if state not in (None, "running"):
        return False
    status = airflow_status(run_id) if state == "running" and airflow_status is not None else None
    if status == "failed":  # its failure callback has sent the run's one alert, with the steps that resume it
        return False
    if status == "awaiting_approval":
        message, resume = _approval_wait(settings, period, run_id, finish_by_hour, dag_id, airflow_url)
        send_failure_alert(settings, smtp, dag_id=dag_id, task_id="menunggu_persetujuan", period=str(period),
                           error=message, run_id=run_id, config=config, resume=resume,
                           verdict="Menunggu persetujuan", lead=message)
        return True
    why = "belum dimulai" if state is None else "masih berjalan"
    message = (f"Run {dag_id} periode {period} belum selesai pada pukul {finish_by_hour:02d}.00 WIB ({why}); laporan "
               "belum terkirim.")
    send_failure_alert(settings, smtp, dag_id=dag_id, task_id="belum_selesai", period=str(period), error=message,
                       run_id=run_id, config=config, verdict="Terlambat", lead=message,
                       resume=[f"Airflow UI: DAG {dag_id}: lihat run periode {period}, tugas yang masih berjalan atau "
                               "menunggu (kuning/abu-abu) dan lognya; bila belum ada run, picu DAG dengan period.",
                               "Bila sebuah tugas tergantung: tandai gagal (Mark Failed), lalu Clear tugas itu "
                               "dengan 'Downstream'.",
                               f"Periksa hasilnya: tkpk status --period {period}"])
    return True


def _approval_wait(settings: Settings, period: str, run_id: str, finish_by_hour: int, dag_id: str,
                   airflow_url: str | None) -> tuple[str, list[str]]:
    """(message, steps) of a month whose reports are built and wait for the steward's sign-off. The wait began when
    this run's reports were saved (the manifest), just before the sign-off task started."""
    from tkpk.config.accounts import load_accounts
    from tkpk.reports.build import MANIFEST

    since = None
    manifest = Path(settings.reports_dir) / str(period) / MANIFEST
    if manifest.exists() and json.loads(manifest.read_text(encoding="utf-8")).get("run_id") == run_id:
        since = datetime.fromtimestamp(manifest.stat().st_mtime, UTC)
    approval = load_accounts(settings.config_dir).approval
    message = (f"Laporan periode {period} sudah dibuat tetapi belum terkirim pada pukul {finish_by_hour:02d}.00 WIB: "
               f"run {dag_id} menunggu persetujuan pengiriman oleh steward"
               + (f" sejak {_wib(since)}." if since else "."))
    previews = f"{(airflow_url or '').rstrip('/')}/tkpk/laporan?period={period}"
    outcome = ("Approve: laporan dikirim" if approval.default == "approve" else
               "Reject: tidak ada laporan yang terkirim")
    until = (f"sampai {_wib(since + timedelta(hours=approval.timeout_hours))}" if since else
             f"dalam {approval.timeout_hours:g} jam")
    resume = [f"Periksa pratinjau laporan di halaman TKPK > Laporan: {previews}",
              f"Airflow UI: Required actions (atau DAG {dag_id} > run {run_id} > tugas approve_reports): setujui "
              "(Approve) agar laporan dikirim, atau tolak (Reject) bila datanya perlu diperbaiki dulu.",
              f"Tanpa jawaban {until}, berlaku pilihan bawaan ({outcome}; accounts.yaml, approval).",
              f"Periksa hasilnya: tkpk status --period {period}"]
    return message, resume


def _wib(moment: datetime) -> str:
    """`10 November 2026 pukul 09.12 WIB`."""
    from zoneinfo import ZoneInfo

    from tkpk.reports.format import tanggal
    from tkpk.schedule import TIMEZONE

    local = moment.astimezone(ZoneInfo(TIMEZONE))
    return f"{tanggal(local)} pukul {local:%H.%M} WIB"
