"""Load one OPD's files of one submission type for a month as one batch (step 2 of the monthly run; one mapped
task per (OPD, type)).

Order of work: list the files, reject oversized ones before reading, hash them (a byte-identical reload of the
current batch is recorded as `duplicate` and not reprocessed), validate each file exactly as `tkpk validate` does,
archive the raw files under `{archive}/{period}/{opd}/{type}/` with their sha256, then in ONE transaction write the
new `submission_batch` row, its findings, staged and quarantined rows, and make it current (the previous current
batch becomes `superseded` and its staged rows are deleted). A rejected batch is recorded too (status `rejected`,
not current, previous accepted batch untouched) and then `BatchRejected` is raised with an Indonesian summary in
which NIK/KK are masked. Database and storage errors propagate unchanged so the DAG retries them.

PostgreSQL gets the rows through COPY (a million rows in seconds); SQLite and MariaDB through executemany.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import unicodedata
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from tkpk.ingest.errors import BatchRejected, FileRejected
from tkpk.ingest.landing import (
    FileEntry,
    public_url,
    read_entry,
    refusal,
    still_copying,
    storage_options_for,
    submission_files,
)
from tkpk.ingest.safety import check_size
from tkpk.ingest.validate import ValidationResult, validate_bytes
from tkpk.normalize.nik import mask_text
from tkpk.period import Period
from tkpk.quality.findings import CRITICAL, ERROR, WARNING, Finding
from tkpk.quality.messages import describe
from tkpk.retention import retention_until
from tkpk.warehouse.bulk import bulk_insert, json_objects, pa_null

log = logging.getLogger(__name__)

LOCK_WAIT_SECONDS = 600  # MariaDB: how long a load waits for another load of the same key

# Normalised values of these kinds are digits, codes or ISO dates: nothing to escape in JSON.
PLAIN_KINDS = frozenset({"nik", "kk", "date", "enum", "int", "amount", "kelurahan", "sex", "yn", "rtrw"})
# Typed columns of staged_row and the canonical columns that feed them (first present wins).
TYPED = {
    "nik": ("nik", "nik_pengurus"),
    "no_kk": ("no_kk",),
    "nama": ("nama", "nama_pengurus", "nama_kepala_keluarga"),
    "jenis_kelamin": ("jenis_kelamin",),
    "tanggal_lahir": ("tanggal_lahir",),
    "kode_kelurahan": ("kode_kelurahan",),
}


def safe_name(name: str, max_length: int = 120) -> str:
    """A file name safe on every store: the last path component, ASCII letters, digits, '.', '_' and '-' only, no
    leading dot (no hidden files, no '..')."""
    base = re.split(r"[\\/]", str(name))[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._-") or "berkas"
    base = re.sub(r"\.{2,}", ".", base)
    if len(base) > max_length:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: max_length - len(ext) - 1] + "." + ext) if dot and len(ext) <= 8 else base[:max_length]
    return base


# Object stores write an object whole or not at all: no temporary name needed there.
_ATOMIC_PUT_PROTOCOLS = frozenset({"s3", "s3a", "gs", "gcs", "abfs", "abfss", "az", "adl", "memory"})


def archive_file(settings, period: Period, opd_code: str, type_code: str, name: str, sha256: str, data: bytes,
                 storage_options: dict | None = None) -> str:
    """Store the raw bytes at `{archive}/{period}/{opd}/{type}/{sha256[:16]}_{safe name}`; idempotent.

    The bytes go to a temporary name in the same folder and are renamed into place, so a load killed mid-write
    never leaves a partial file under the real name. A file already at the path is kept only when its sha256 is
    the file's (a retried task writes nothing); anything else there (a partial file from an older version, a
    damaged copy) is replaced."""
    import uuid

    import fsspec

    rel = f"{period}/{safe_name(opd_code)}/{safe_name(type_code)}/{sha256[:16]}_{safe_name(name)}"
    url = f"{settings.archive_url.rstrip('/')}/{rel}"
    fs, path = fsspec.core.url_to_fs(url, **(storage_options or {}))
    if fs.exists(path):
        if _stored_sha256(fs, path, len(data)) == sha256:
            return public_url(url)
        log.warning("Arsip %s tidak sama dengan berkas yang dimuat (sisa penulisan yang terputus?); ditulis ulang.",
                    mask_text(rel))
    folder = path.rsplit("/", 1)[0]
    fs.makedirs(folder, exist_ok=True)
    protocols = {fs.protocol} if isinstance(fs.protocol, str) else set(fs.protocol)
    if protocols & _ATOMIC_PUT_PROTOCOLS:
        fs.pipe_file(path, data)
        return public_url(url)
    tmp = f"{folder}/.{path.rsplit('/', 1)[-1][:80]}.{uuid.uuid4().hex[:12]}.part"
    try:
        fs.pipe_file(tmp, data)
        if fs.exists(path):  # the damaged copy found above (a rename over it is not atomic on every store)
            fs.rm_file(path)
        fs.mv(tmp, path)
    except BaseException:
        try:
            if fs.exists(tmp):
                fs.rm_file(tmp)
        except Exception:  # noqa: BLE001 - cleaning up is best effort; the original error matters
            pass
        raise
    return public_url(url)


def _stored_sha256(fs, path: str, expected_size: int) -> str | None:
    """sha256 of a stored file (streamed); None when its size already shows it is not the expected file."""
    try:
        if int(fs.size(path)) != expected_size:
            return None
    except (OSError, TypeError, ValueError):
        pass
    digest = hashlib.sha256()
    with fs.open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _archive_options(settings, landing_options: dict) -> dict:
    """Landing storage options apply to the archive only when both live on the same kind of store."""
    landing_proto = settings.landing_url.split("://", 1)[0] if "://" in settings.landing_url else "file"
    archive_proto = settings.archive_url.split("://", 1)[0] if "://" in settings.archive_url else "file"
    return landing_options if landing_proto == archive_proto else dict(getattr(settings, "storage_options", {}) or {})


def load_submission(settings, period, opd_code: str, submission_type: str, *, run_id: str | None = None,
                    storage_options: dict | None = None) -> dict:
    """Read, check, archive and stage one (period, OPD, type) batch. Returns counts (no personal data); raises
    `BatchRejected` after recording a rejected batch."""
    from sqlalchemy import select

    from tkpk.config import load_config
    from tkpk.normalize.kelurahan import KelurahanIndex
    from tkpk.warehouse import audit, session_scope
    from tkpk.warehouse.models import SubmissionBatch

    started = time.perf_counter()
    period = period if isinstance(period, Period) else Period.parse(str(period))
    config = load_config(settings.config_dir)
    stype = config.types.get(submission_type)
    opd = config.opds.get(opd_code)
    options = storage_options_for(settings, storage_options)
    limits = config.types.file_limits
    entries = submission_files(settings, period, opd, submission_type, options)
    # Links, special files and files still being copied are never opened (nor archived): a finding says why.
    refused = [(e, refusal(e) or "berkas_masih_disalin") for e in entries
               if refusal(e) or still_copying(e, settings)]
    entries = [e for e in entries if not any(e is r for r, _ in refused)]

    # Read and hash (size checked before reading).
    loaded: list[tuple[FileEntry, bytes | None, FileRejected | None]] = []
    photo_entries = [e for e in entries if not e.supported] if stype.photos else []  # verval: see tkpk.verval
    for entry in entries:
        if not entry.supported and stype.photos:
            continue
        if not entry.supported:
            loaded.append((entry, None, None))
            continue
        try:
            check_size(entry.size, limits)
        except FileRejected as exc:
            loaded.append((entry, None, exc))
            continue
        loaded.append((entry, read_entry(settings, entry, options), None))
    hashes = {e.name: hashlib.sha256(d).hexdigest() for e, d, _ in loaded if d is not None}
    batch_sha = hashlib.sha256("\n".join(sorted(hashes.values())).encode()).hexdigest()
    received_at = max((e.modified for e in entries if e.modified), default=None)
    key = dict(period=str(period), opd_code=opd_code, submission_type=submission_type)
    url = settings.database_url

    check_version = _check_version(settings, config, submission_type)
    with session_scope(url) as s:
        current = s.scalars(select(SubmissionBatch).filter_by(is_current=True, **key)).first()
        if current is not None and current.sha256 == batch_sha and hashes and not photo_entries:
            return _record_duplicate(s, key, current, received_at, run_id, len(hashes))
        # The same files as the latest attempt, which was rejected: the outcome cannot change, so record the
        # attempt and say so again without re-checking (a re-run of the month stays identical, and the OPD's
        # feedback does not count a new attempt).
        latest = s.scalars(select(SubmissionBatch).filter(SubmissionBatch.status != "duplicate")
                           .filter_by(**key).order_by(SubmissionBatch.batch_id.desc()).limit(1)).first()
        if (latest is not None and latest.status == "rejected" and latest.sha256 == batch_sha and hashes
                and latest.check_version == check_version and not photo_entries):
            now = datetime.now(UTC)
            dup = SubmissionBatch(**key, status="duplicate", is_current=False, files=latest.files, sha256=batch_sha,
                                  received_at=received_at, loaded_at=now, retention_until=retention_until(now),
                                  run_id=run_id, rows_total=latest.rows_total,
                                  rejection_reason=latest.rejection_reason)
            s.add(dup)
            s.flush()
            audit(s, actor=run_id or "tkpk", action="load_duplicate", period=str(period), opd_code=opd_code,
                  submission_type=submission_type, batch_id=dup.batch_id, same_as=latest.batch_id)
            counts = _counts(key, dup.batch_id, "duplicate", len(hashes), latest.rows_total, 0, 0, 0, {})
            message = latest.rejection_reason or "Berkas yang sama sudah pernah ditolak."
            dup_id = dup.batch_id
        else:
            dup_id = None
    if dup_id is not None:
        log.warning("%s", message)
        raise BatchRejected(message, counts=counts)

    # Validate every file exactly as `tkpk validate` would.
    kelurahan = KelurahanIndex.load(settings.reference_dir)
    results: list[ValidationResult] = []
    extra: list[Finding] = []
    seen: dict[str, str] = {}
    for entry, check in refused:
        extra.append(Finding(check, WARNING, describe(check, seconds=getattr(settings, "settle_seconds", 0)),
                             file=entry.name))
    for entry, data, rejected in loaded:
        if data is None and rejected is None:
            extra.append(Finding("berkas_lain_diabaikan", WARNING, describe("berkas_lain_diabaikan"), file=entry.name))
            continue
        if rejected is not None:
            r = ValidationResult(file=entry.name, type=submission_type, period=str(period), status="rejected",
                                 size=entry.size)
            r.issues.append(Finding(rejected.check, CRITICAL, rejected.message, file=entry.name))
            results.append(r)
            continue
        sha = hashes[entry.name]
        if sha in seen:
            extra.append(Finding("berkas_ganda", WARNING, describe("berkas_ganda", same_as=seen[sha]),
                                 file=entry.name))
            continue
        seen[sha] = entry.name
        results.append(validate_bytes(data, entry.name, stype, period, config=config,
                                      expectations_dir=settings.expectations_dir, kelurahan=kelurahan))
    if not results:
        names = ", ".join(e.name for e in entries) or "tidak ada"
        extra.append(Finding("berkas_tidak_terbaca", CRITICAL,
                             f"Tidak ada berkas lembar kerja (.xlsx/.xls/.ods/.csv) untuk jenis ini (ditemukan: "
                             f"{names}).", file=None))
    archive_opts = _archive_options(settings, options)
    verval, photo_meta = _check_verval(settings, period, opd_code, stype, photo_entries, results, options,
                                       archive_opts, kelurahan, limits) if stype.photos else (None, [])
    if verval is not None:
        extra.extend(verval.findings + [f for r in verval.rows for f in r.findings()])
        batch_sha = hashlib.sha256("\n".join(sorted([*hashes.values(), *(m["sha256"] or m["name"] for m in
                                                                            photo_meta)])).encode()).hexdigest()
    accepted = bool(results) and all(r.accepted for r in results) and not any(
        f.severity == CRITICAL for f in extra)
    if accepted and len(results) > 1:
        arrival = {e.name: (e.modified.timestamp() if e.modified else 0.0, e.name) for e in entries}
        extra.extend(_drop_cross_file_repeats(sorted(results, key=lambda r: arrival.get(r.file, (0.0, r.file))),
                                              stype))

    checked = time.perf_counter()
    # Archive the raw files (content-addressed, so a retried task writes nothing new).
    file_meta = []
    for entry, data, _rej in loaded:
        meta = {"name": entry.name, "uri": entry.url, "size": entry.size,
                "received_at": entry.modified.isoformat() if entry.modified else None}
        if data is not None:
            meta["sha256"] = hashes[entry.name]
            meta["archive_uri"] = archive_file(settings, period, opd_code, submission_type, entry.name,
                                               hashes[entry.name], data, archive_opts)
        file_meta.append(meta)
    file_meta.extend(photo_meta)

    findings = [f for r in results for f in r.issues] + extra
    rows_total = sum(r.rows_total for r in results)
    rows_valid = sum(r.rows_valid for r in results) if accepted else 0
    rows_quarantined = sum(r.rows_quarantined for r in results) if accepted else 0
    rows_warning = sum(r.rows_warning for r in results) if accepted else 0
    status = "accepted" if accepted else "rejected"

    archived = time.perf_counter()
    # One writer per (period, OPD, type) at a time: two loads of the same key (a re-trigger while the scheduled run
    # still loads, two workers after a retry) would otherwise both see the same current batch and both become
    # current. The lock is taken before the current batch is read.
    with _key_lock(url, key), session_scope(url) as s:
        _lock_key(s, key)
        current = s.scalars(select(SubmissionBatch).filter_by(is_current=True, **key).with_for_update()).first()
        if accepted and current is not None and current.sha256 == batch_sha and hashes:
            # Another load of the very same files became current while this one was checking them.
            return _record_duplicate(s, key, current, received_at, run_id, len(hashes))
        loaded_at = datetime.now(UTC)
        keep_until = retention_until(loaded_at)
        summary = None if accepted else _summary(opd.name, stype.name, period, findings, results,
                                                  in_force=current.rows_accepted if current is not None else None)
        batch = SubmissionBatch(
            **key, status=status, is_current=False, files=file_meta, sha256=batch_sha, received_at=received_at,
            loaded_at=loaded_at, retention_until=keep_until, check_version=check_version, rows_total=rows_total,
            rows_accepted=rows_valid, rows_quarantined=rows_quarantined, rows_warning=rows_warning, run_id=run_id,
            rejection_reason=summary[:4000] if summary else None,
        )
        s.add(batch)
        s.flush()
        _write_findings(s, batch.batch_id, key, findings, keep_until)
        if accepted:
            if current is not None:
                _retire(s, current)
            for r in results:
                _write_staged(s, batch.batch_id, key, r, stype)
                _write_quarantined(s, batch.batch_id, key, r, keep_until)
            if verval is not None:
                from tkpk.verval.store import write_verval

                write_verval(s, batch.batch_id, key, verval, keep_until)
            batch.is_current = True
        audit(s, actor=run_id or "tkpk", action="load_submission", period=str(period), opd_code=opd_code,
              submission_type=submission_type, batch_id=batch.batch_id, status=status, rows_total=rows_total,
              rows_accepted=rows_valid, superseded=current.batch_id if (accepted and current) else None)
        batch_id = batch.batch_id
    written = time.perf_counter()

    by_sev = {CRITICAL: 0, ERROR: 0, WARNING: 0}
    for f in findings:
        by_sev[f.severity] = by_sev.get(f.severity, 0) + 1
    counts = _counts(key, batch_id, status, len(hashes), rows_total, rows_valid, rows_quarantined, rows_warning,
                     by_sev)
    counts["seconds"] = {"read_check": round(checked - started, 3), "archive": round(archived - checked, 3),
                         "write": round(written - archived, 3)}
    if not accepted:
        log.warning("%s", summary)
        raise BatchRejected(summary, counts=counts)
    log.info("%s/%s %s: %d baris diterima, %d dikarantina, %d dengan peringatan.", opd_code, submission_type,
             period, rows_valid, rows_quarantined, rows_warning)
    return counts


def _drop_cross_file_repeats(results: list[ValidationResult], stype) -> list[Finding]:
    """`results` in arrival order. A row that an earlier file of the same batch already holds (the same
    normalised values) is loaded once: it
    is dropped from the later file, which gets a warning naming the other file and its row. The later file's
    counts no longer include it, so `rows_total = rows_accepted + rows_quarantined` stays true for the batch."""
    from tkpk.ingest.sniff import row_keys

    columns = [c.name for c in stype.columns]
    first: dict[int, tuple[str, int]] = {}
    out: list[Finding] = []
    for r in results:
        if r.records is None or r.records.empty:
            continue
        keys = row_keys(r.records, columns).to_numpy()
        drop = []
        for i, k in enumerate(keys.tolist()):
            seen = first.get(k)
            if seen is None:
                first[k] = (r.file, int(r.records["_row"].iat[i]))
            elif seen[0] != r.file:
                drop.append(i)
                sheet = r.records["_sheet"].iat[i]
                out.append(Finding("baris_ada_di_berkas_lain", WARNING,
                                   describe("baris_ada_di_berkas_lain", same_file=seen[0], same_row=seen[1]),
                                   file=r.file, sheet=sheet if isinstance(sheet, str) else None,
                                   row=int(r.records["_row"].iat[i])))
        if drop:
            r.records = r.records.drop(index=r.records.index[drop]).reset_index(drop=True)
            r.rows_total -= len(drop)
            r.rows_valid -= len(drop)
    return out


def _check_verval(settings, period, opd_code, stype, photo_entries, results, options, archive_opts, kelurahan,
                  limits):
    """kelurahan_verval: photo checks on the validated sheets' rows (`tkpk.verval`); photos archived as read."""
    from tkpk.verval.landing import check_landing
    from tkpk.verval.store import known_photos
    from tkpk.warehouse import session_scope

    with session_scope(settings.database_url) as s:
        known = known_photos(s, period, opd_code)
    return check_landing(settings, period, opd_code, stype, photo_entries, results, options, archive_opts,
                         kelurahan, limits, known)


def _record_duplicate(s, key: dict, current, received_at, run_id: str | None, files: int) -> dict:
    """Record a load of exactly the current batch's files as `duplicate` (nothing reprocessed) and return counts."""
    from tkpk.warehouse import audit
    from tkpk.warehouse.models import SubmissionBatch

    now = datetime.now(UTC)
    dup = SubmissionBatch(**key, status="duplicate", is_current=False, files=current.files, sha256=current.sha256,
                          received_at=received_at, loaded_at=now, retention_until=retention_until(now), run_id=run_id,
                          rows_total=current.rows_total, rows_accepted=current.rows_accepted,
                          rows_quarantined=current.rows_quarantined, rows_warning=current.rows_warning)
    s.add(dup)
    s.flush()
    audit(s, actor=run_id or "tkpk", action="load_duplicate", **key, batch_id=dup.batch_id,
          same_as=current.batch_id)
    log.info("%s/%s %s: berkas sama persis dengan batch %s; tidak diproses ulang.", key["opd_code"],
             key["submission_type"], key["period"], current.batch_id)
    return _counts(key, dup.batch_id, "duplicate", files, current.rows_total, current.rows_accepted,
                   current.rows_quarantined, current.rows_warning, {})


def _lock_name(key: dict) -> str:
    digest = hashlib.sha256(f"{key['period']}|{key['opd_code']}|{key['submission_type']}".encode()).hexdigest()
    return f"tkpk-load:{digest[:40]}"


@contextmanager
def _key_lock(url: str, key: dict):
    """MariaDB/MySQL: a named lock (GET_LOCK) on a connection of its own, held until the load's transaction has
    committed. Elsewhere nothing: `_lock_key` locks inside the transaction."""
    from sqlalchemy import text

    from tkpk.warehouse import get_engine

    engine = get_engine(url)
    if engine.dialect.name not in ("mysql", "mariadb"):
        yield
        return
    name = _lock_name(key)
    with engine.connect() as conn:
        got = conn.execute(text("SELECT GET_LOCK(:name, :seconds)"), {"name": name, "seconds": LOCK_WAIT_SECONDS})
        if got.scalar() != 1:
            raise TimeoutError(f"Muatan lain untuk {key['opd_code']}/{key['submission_type']} periode "
                               f"{key['period']} masih berjalan setelah {LOCK_WAIT_SECONDS} detik; dicoba ulang.")
        try:
            yield
        finally:
            conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": name})


def _lock_key(session, key: dict) -> None:
    """Serialise loads of one (period, OPD, type) inside the write transaction. PostgreSQL: a transaction-scoped
    advisory lock on the key. SQLite: take the database's writer lock now (a write that changes nothing), so the
    current batch is read after any other load's commit. MariaDB: see `_key_lock`."""
    from sqlalchemy import text, update

    from tkpk.warehouse.models import SubmissionBatch

    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": _lock_name(key)})
    elif dialect == "sqlite":
        session.execute(update(SubmissionBatch).where(SubmissionBatch.batch_id.is_(None))
                        .values(is_current=SubmissionBatch.is_current).execution_options(synchronize_session=False))


def _check_version(settings, config, submission_type: str) -> str:
    """What a batch was checked with: the config YAML version and the type's expectation suite."""
    suite = Path(settings.expectations_dir) / f"{submission_type}.json"
    digest = hashlib.sha256(config.version.encode())
    if suite.exists():
        digest.update(suite.read_bytes())
    return digest.hexdigest()[:32]


def _counts(key, batch_id, status, files, total, accepted, quarantined, warning, by_sev) -> dict:
    return {**key, "batch_id": batch_id, "status": status, "files": files, "rows_total": int(total),
            "rows_accepted": int(accepted), "rows_quarantined": int(quarantined), "rows_warning": int(warning),
            "findings": {k: int(v) for k, v in by_sev.items()}}


def _summary(opd_name: str, type_name: str, period: Period, findings: list[Finding], results,
             in_force: int | None = None) -> str:
    """Indonesian summary of a rejection, NIK/KK masked: safe for task logs and e-mail. `in_force`: rows of the
    accepted batch that stays in use (None: this is the first file for the period, nothing stays)."""
    critical = [f for f in findings if f.severity == CRITICAL]
    head = f"Kiriman {opd_name} ({type_name}) periode {period.label()} DITOLAK seluruhnya"
    if in_force is None:
        head += "; belum ada kiriman yang diterima untuk periode ini."
    else:
        head += f"; kiriman sebelumnya yang sudah diterima ({in_force} baris) tetap dipakai."
    lines = [head]
    for f in critical[:8]:
        where = f"{f.file}: " if f.file else ""
        lines.append(f"- {where}{f.message}")
    if len(critical) > 8:
        lines.append(f"- ... dan {len(critical) - 8} temuan kritis lain.")
    errors = sum(1 for f in findings if f.severity == ERROR)
    if errors:
        lines.append(f"Selain itu ada {errors} galat baris (daftar per baris: lampiran XLSX umpan balik).")
    return mask_text("\n".join(lines))


def _retire(session, current) -> None:
    from sqlalchemy import delete

    from tkpk.warehouse.models import StagedRow

    session.execute(delete(StagedRow).where(StagedRow.batch_id == current.batch_id))
    current.status = "superseded"
    current.is_current = False
    session.flush()


# --- bulk writes -----------------------------------------------------------------------------------------------------------
# Rows are assembled as Arrow arrays (JSON text built column-wise in C++, no Python object per cell) and written by
# the warehouse's one bulk insert (`tkpk.warehouse.bulk`: COPY on PostgreSQL, Core executemany elsewhere).


def _write_findings(session, batch_id: int, key: dict, findings: list[Finding], keep_until: date | None = None
                    ) -> None:
    from tkpk.warehouse.models import Finding as FindingRow

    if not findings:
        return
    bulk_insert(session, FindingRow.__table__, {
        "batch_id": batch_id,
        "period": key["period"],
        "opd_code": key["opd_code"],
        "submission_type": key["submission_type"],
        "source_file": [(f.file or "")[:255] or None for f in findings],
        "sheet": [(f.sheet or "")[:100] or None for f in findings],
        "row_number": pd.array([f.row for f in findings], dtype="Int64"),
        "column": [f.column for f in findings],
        "header": [(f.header or "")[:200] or None for f in findings],
        "check": [f.check for f in findings],
        "severity": [f.severity for f in findings],
        "message": [f.message for f in findings],
        "value": [f.value for f in findings],
        **({"retention_until": keep_until} if keep_until else {}),
    }, len(findings))


def _write_staged(session, batch_id: int, key: dict, result: ValidationResult, stype) -> None:
    from tkpk.warehouse.models import StagedRow

    records = result.records
    if records is None or records.empty:
        return
    columns = [c.name for c in stype.columns]
    n = len(records)
    cols: dict = {
        "batch_id": batch_id,
        "period": key["period"],
        "opd_code": key["opd_code"],
        "submission_type": key["submission_type"],
        "source_file": result.file[:255],
        "sheet": records["_sheet"].astype(object).where(records["_sheet"].notna(), None).tolist(),
        "row_number": records["_row"].astype("int64").to_numpy(),
    }
    for typed, sources in TYPED.items():
        source = next((c for c in sources if c in columns), None)
        if source is None:
            cols[typed] = pa_null(n, typed)
        elif typed == "nama":
            cols[typed] = records[source].str.slice(0, 200)
        else:
            cols[typed] = records[source]
    cols["has_warning"] = records["has_warning"].astype(bool).to_numpy()
    cols["data"] = json_objects(records, columns, plain=frozenset(c.name for c in stype.columns
                                                                 if c.kind in PLAIN_KINDS))
    bulk_insert(session, StagedRow.__table__, cols, n, sort_by="nik")


def _write_quarantined(session, batch_id: int, key: dict, result: ValidationResult, keep_until: date | None = None
                       ) -> None:
    from tkpk.warehouse.models import QuarantinedRow

    q = result.quarantined
    if q is None or q.empty:
        return
    cells = [c for c in q.columns if not c.startswith("_")]
    shown = q[cells].astype("str").where(q[cells] != "", None)
    bulk_insert(session, QuarantinedRow.__table__, {
        "batch_id": batch_id,
        "period": key["period"],
        "opd_code": key["opd_code"],
        "submission_type": key["submission_type"],
        "source_file": result.file[:255],
        "sheet": q["_sheet"].astype(object).where(q["_sheet"].notna(), None).tolist(),
        "row_number": q["_row"].astype("int64").to_numpy(),
        "data": json_objects(shown, cells),
        **({"retention_until": keep_until} if keep_until else {}),
    }, len(q))
