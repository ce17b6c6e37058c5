"""Retention of raw submissions and quarantined data (UU 27/2022: keep personal data no longer than needed).

Archived raw files (`submission_batch.files[].archive_uri`), quarantined rows and findings (whose `value` may hold a
full NIK) carry a retention date: `retention_until` = the day the batch was loaded + N years (default 5, env
`TKPK_RETENTION_YEARS`). Where a row has no `retention_until` yet, the date is computed from its batch's `loaded_at`
with the current setting, so nothing escapes retention because a column was left empty.

`tkpk purge --before DATE` (outside the monthly run, by a steward or a yearly schedule) removes what expired before
DATE: the archived raw files no unexpired batch still references, the quarantined rows and the findings of expired
batches, and archive files no batch references at all (left by a load killed after archiving) once they are as old
as the retention period. Batch rows stay as history (counts, masked rejection reason) with each purged file marked
`archive_purged_at`. What was removed is recorded in `audit_log` (action `purge`: counts and file names with any
16-digit number masked, no personal data). Staged rows and registry snapshots are the warehouse itself and are not
touched here.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

log = logging.getLogger(__name__)

DEFAULT_YEARS = 5
ENV_YEARS = "TKPK_RETENTION_YEARS"
MAX_YEARS = 100
PURGED_KEY = "archive_purged_at"


class RetentionError(ValueError):
    """A retention setting or argument a steward must correct (message in Indonesian)."""


def retention_years(value: str | int | None = None) -> int:
    """The retention period in whole years: `value`, else env `TKPK_RETENTION_YEARS`, else 5."""
    raw = value if value is not None else os.environ.get(ENV_YEARS, "").strip()
    if raw in ("", None):
        return DEFAULT_YEARS
    try:
        years = int(str(raw).strip())
    except ValueError:
        raise RetentionError(f"{ENV_YEARS} harus bilangan bulat tahun (1-{MAX_YEARS}), bukan '{raw}'.") from None
    if not 1 <= years <= MAX_YEARS:
        raise RetentionError(f"{ENV_YEARS} harus antara 1 dan {MAX_YEARS} tahun, bukan {years}.")
    return years


def _as_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).date()
    return value


def retention_until(loaded: date | datetime, years: int | None = None) -> date:
    """The last day to keep data loaded on `loaded`: the same day `years` later (29 February -> 28 February)."""
    years = retention_years(years)
    d = _as_date(loaded)
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February in a year that has none
        return d.replace(year=d.year + years, day=28)


def stamp_retention(database_url: str, years: int | None = None) -> dict:
    """Fill every empty `retention_until` (batches, quarantined rows, findings) from the batch's `loaded_at`.
    Idempotent; dates already set are never moved. Returns counts."""
    from sqlalchemy import select, update

    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import Finding, QuarantinedRow, SubmissionBatch

    years = retention_years(years)
    counts = {"batches": 0, "quarantined_rows": 0, "findings": 0}
    with session_scope(database_url) as s:
        batches = s.execute(select(SubmissionBatch.batch_id, SubmissionBatch.loaded_at, SubmissionBatch.retention_until)
                            ).all()
        by_date: dict[date, list[int]] = defaultdict(list)
        for batch_id, loaded_at, until in batches:
            if until is None:
                by_date[retention_until(loaded_at, years)].append(batch_id)
        for model, key in ((SubmissionBatch, "batches"), (QuarantinedRow, "quarantined_rows"), (Finding, "findings")):
            for until, ids in by_date.items():
                for i in range(0, len(ids), 500):
                    result = s.execute(update(model).where(model.batch_id.in_(ids[i:i + 500]),
                                                           model.retention_until.is_(None))
                                       .values(retention_until=until).execution_options(synchronize_session=False))
                    counts[key] += int(result.rowcount or 0)
        # rows of batches that already had a date but were written without one
        dated = [(b, u) for b, _l, u in batches if u is not None]
        for model, key in ((QuarantinedRow, "quarantined_rows"), (Finding, "findings")):
            for batch_id, until in dated:
                result = s.execute(update(model).where(model.batch_id == batch_id, model.retention_until.is_(None))
                                   .values(retention_until=until).execution_options(synchronize_session=False))
                counts[key] += int(result.rowcount or 0)
    return counts


@dataclass
class ArchiveFile:
    uri: str
    name: str
    size: int | None
    batch_ids: list[int] = field(default_factory=list)
    orphan: bool = False


@dataclass
class PurgePlan:
    """What `purge` removes (or would remove, with `dry_run`)."""

    before: date
    years: int
    expired_batches: list[int] = field(default_factory=list)
    files: list[ArchiveFile] = field(default_factory=list)
    files_kept_shared: int = 0  # archive files of expired batches still referenced by an unexpired batch
    quarantined_rows: int = 0
    findings: int = 0

    @property
    def bytes(self) -> int:
        return sum(f.size or 0 for f in self.files)

    def summary(self) -> dict:
        """Counts and file names (16-digit numbers masked): safe for audit_log, logs and XCom."""
        from tkpk.normalize.nik import mask_text

        return {
            "before": self.before.isoformat(),
            "retention_years": self.years,
            "expired_batches": len(self.expired_batches),
            "files_removed": len(self.files),
            "orphan_files_removed": sum(1 for f in self.files if f.orphan),
            "files_kept_shared": self.files_kept_shared,
            "bytes_removed": self.bytes,
            "quarantined_rows_removed": self.quarantined_rows,
            "findings_removed": self.findings,
            "file_names": sorted(mask_text(f.name) for f in self.files),
        }


def _mtime(info: dict) -> datetime | None:
    """Modification time of an fsspec listing entry (local: float `mtime`; S3: `LastModified`)."""
    for key in ("mtime", "LastModified", "last_modified", "modified", "created"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(float(value), tz=UTC)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
    return None


def _effective(until: date | None, loaded_at, years: int) -> date:
    return until if until is not None else retention_until(loaded_at, years)


def _archive_fs(settings, storage_options: dict | None):
    import fsspec

    options = dict(storage_options if storage_options is not None else (getattr(settings, "storage_options", None)
                                                                         or {}))
    archive = settings.archive_url
    if "://" not in archive:
        return fsspec.core.url_to_fs(archive, **options)
    landing_proto = settings.landing_url.split("://", 1)[0] if "://" in settings.landing_url else "file"
    if archive.split("://", 1)[0] != landing_proto and storage_options is None:
        options = {}
    return fsspec.core.url_to_fs(archive, **options)


def _relative(uri: str, archive_url: str) -> str | None:
    from tkpk.ingest.landing import public_url

    for base in (archive_url, public_url(archive_url)):  # ingest records archive URIs without credentials
        root = base.rstrip("/") + "/"
        if uri.startswith(root):
            return uri[len(root):]
    return None


def plan_purge(settings, before: date, *, years: int | None = None, storage_options: dict | None = None,
               include_orphans: bool = True) -> PurgePlan:
    """Work out what expired before `before` without changing anything."""
    from sqlalchemy import func, select

    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import Finding, QuarantinedRow, SubmissionBatch

    years = retention_years(years)
    plan = PurgePlan(before=before, years=years)
    referenced: dict[str, list[tuple[int, bool]]] = defaultdict(list)  # archive uri -> [(batch, expired)]
    names: dict[str, tuple[str, int | None]] = {}
    with session_scope(settings.database_url) as s:
        rows = s.execute(select(SubmissionBatch.batch_id, SubmissionBatch.loaded_at, SubmissionBatch.retention_until,
                                SubmissionBatch.files)).all()
        for batch_id, loaded_at, until, files in rows:
            expired = _effective(until, loaded_at, years) < before
            if expired:
                plan.expired_batches.append(batch_id)
            for f in files or []:
                uri = f.get("archive_uri")
                if not uri:
                    continue
                referenced[uri].append((batch_id, expired and not f.get(PURGED_KEY)))
                names.setdefault(uri, (f.get("name") or uri.rsplit("/", 1)[-1], f.get("size")))
        expired_ids = set(plan.expired_batches)
        ids = sorted(expired_ids)
        for model in (QuarantinedRow, Finding):
            # a row expires on its own date, or on its batch's when it has none: two disjoint counts
            n = int(s.scalar(select(func.count()).select_from(model).where(model.retention_until < before)) or 0)
            for i in range(0, len(ids), 500):
                n += int(s.scalar(select(func.count()).select_from(model).where(
                    model.batch_id.in_(ids[i:i + 500]), model.retention_until.is_(None))) or 0)
            if model is QuarantinedRow:
                plan.quarantined_rows = n
            else:
                plan.findings = n
    fs, root = _archive_fs(settings, storage_options)
    for uri, refs in sorted(referenced.items()):
        purgeable = [b for b, exp in refs if exp]
        if not purgeable:
            continue
        if any(b not in expired_ids for b, _exp in refs):
            plan.files_kept_shared += 1
            continue
        name, size = names[uri]
        plan.files.append(ArchiveFile(uri=uri, name=name, size=size, batch_ids=sorted(set(purgeable))))
    if include_orphans:
        plan.files.extend(_orphans(fs, root, settings.archive_url, set(referenced), before, years))
    return plan


def _orphans(fs, root: str, archive_url: str, referenced: set[str], before: date, years: int) -> list[ArchiveFile]:
    """Archive files no batch references (a load killed between archiving and its commit), once their age
    reaches the retention period."""
    known = {r for r in (_relative(u, archive_url) for u in referenced) if r is not None}
    try:
        found = fs.find(root, detail=True)
    except FileNotFoundError:
        return []
    out = []
    base = root.rstrip("/") + "/"
    for path, info in sorted(found.items()):
        if info.get("type") == "directory" or not path.startswith(base):
            continue
        rel = path[len(base):]
        if rel in known:
            continue
        modified = _mtime(info)
        if modified is None or retention_until(modified, years) >= before:
            continue
        uri = archive_url.rstrip("/") + "/" + rel
        out.append(ArchiveFile(uri=uri, name=rel.rsplit("/", 1)[-1], size=info.get("size"), orphan=True))
    return out


def purge(settings, before: date, *, dry_run: bool = False, years: int | None = None, actor: str = "tkpk",
          storage_options: dict | None = None) -> dict:
    """Remove what expired before `before` (see the module docstring) and record it in audit_log. Idempotent: a
    second run finds nothing. Returns the summary (counts and masked file names), with `dry_run`."""
    from sqlalchemy import delete, select

    from tkpk.warehouse import audit, session_scope
    from tkpk.warehouse.models import Finding, QuarantinedRow, SubmissionBatch

    if not isinstance(before, date):
        raise RetentionError("Tanggal batas harus berupa tanggal (YYYY-MM-DD).")
    plan = plan_purge(settings, before, years=years, storage_options=storage_options)
    summary = plan.summary()
    summary["dry_run"] = dry_run
    if dry_run:
        return summary
    if not (plan.files or plan.quarantined_rows or plan.findings):  # expired batches stay as history: nothing to do
        summary["already_missing"] = 0
        return summary
    stamp_retention(settings.database_url, plan.years)
    fs, root = _archive_fs(settings, storage_options)
    missing = 0
    # Files first, then the database in one transaction: a purge interrupted in between leaves references to files
    # that are gone, which the next run records as purged (already_missing), never a file nobody tracks.
    for f in plan.files:
        _fs, path = _path_of(f.uri, fs, root, settings, storage_options)
        try:
            _fs.rm_file(path)
        except FileNotFoundError:
            missing += 1
    purged_uris = {f.uri for f in plan.files if not f.orphan}
    stamp = datetime.now(UTC).date().isoformat()
    expired = sorted(plan.expired_batches)
    with session_scope(settings.database_url) as s:
        for model in (QuarantinedRow, Finding):
            s.execute(delete(model).where(model.retention_until < before).execution_options(synchronize_session=False))
            for i in range(0, len(expired), 500):  # nothing left undated after stamp_retention; kept for safety
                s.execute(delete(model).where(model.batch_id.in_(expired[i:i + 500]), model.retention_until.is_(None))
                          .execution_options(synchronize_session=False))
        if purged_uris:
            for batch in s.scalars(select(SubmissionBatch).where(SubmissionBatch.batch_id.in_(
                    sorted({b for f in plan.files for b in f.batch_ids})))):
                files = [dict(f) for f in (batch.files or [])]
                changed = False
                for f in files:
                    if f.get("archive_uri") in purged_uris and not f.get(PURGED_KEY):
                        f[PURGED_KEY] = stamp
                        changed = True
                if changed:
                    batch.files = files
        summary["already_missing"] = missing
        audit(s, actor=actor, action="purge", **{k: v for k, v in summary.items() if k != "dry_run"})
    log.info("Purge sebelum %s: %d berkas arsip, %d baris karantina, %d temuan dihapus.", before.isoformat(),
             summary["files_removed"], summary["quarantined_rows_removed"], summary["findings_removed"])
    return summary


def _path_of(uri: str, fs, root: str, settings, storage_options):
    rel = _relative(uri, settings.archive_url)
    if rel is not None:
        return fs, root.rstrip("/") + "/" + rel
    import fsspec

    return fsspec.core.url_to_fs(uri, **(storage_options or {}))
