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
import io
import json
import logging
import re
import time
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from tkpk.ingest.errors import BatchRejected, FileRejected
from tkpk.ingest.landing import FileEntry, storage_options_for, submission_files
from tkpk.ingest.safety import check_size
from tkpk.ingest.validate import ValidationResult, validate_bytes
from tkpk.normalize.nik import mask_text
from tkpk.period import Period
from tkpk.quality.findings import CRITICAL, ERROR, WARNING, Finding
from tkpk.quality.messages import describe

log = logging.getLogger(__name__)

COPY_CHUNK = 100_000
# Normalised values of these kinds are digits, codes or ISO dates: nothing to escape in JSON.
PLAIN_KINDS = frozenset({"nik", "kk", "date", "enum", "int", "amount", "kelurahan", "sex", "yn", "rtrw"})
INSERT_CHUNK = 5_000
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


def archive_file(settings, period: Period, opd_code: str, type_code: str, name: str, sha256: str, data: bytes,
                 storage_options: dict | None = None) -> str:
    """Store the raw bytes at `{archive}/{period}/{opd}/{type}/{sha256[:16]}_{safe name}`; idempotent."""
    import fsspec

    rel = f"{period}/{safe_name(opd_code)}/{safe_name(type_code)}/{sha256[:16]}_{safe_name(name)}"
    url = f"{settings.archive_url.rstrip('/')}/{rel}"
    fs, path = fsspec.core.url_to_fs(url, **(storage_options or {}))
    if not fs.exists(path):
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        fs.pipe_file(path, data)
    return url


def _archive_options(settings, landing_options: dict) -> dict:
    """Landing storage options apply to the archive only when both live on the same kind of store."""
    landing_proto = settings.landing_url.split("://", 1)[0] if "://" in settings.landing_url else "file"
    archive_proto = settings.archive_url.split("://", 1)[0] if "://" in settings.archive_url else "file"
    return landing_options if landing_proto == archive_proto else dict(getattr(settings, "storage_options", {}) or {})


def load_submission(settings, period, opd_code: str, submission_type: str, *, run_id: str | None = None,
                    storage_options: dict | None = None) -> dict:
    """Read, check, archive and stage one (period, OPD, type) batch. Returns counts (no personal data); raises
    `BatchRejected` after recording a rejected batch."""
    import fsspec
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

    # Read and hash (size checked before reading).
    loaded: list[tuple[FileEntry, bytes | None, FileRejected | None]] = []
    for entry in entries:
        if not entry.supported:
            loaded.append((entry, None, None))
            continue
        try:
            check_size(entry.size, limits)
        except FileRejected as exc:
            loaded.append((entry, None, exc))
            continue
        fs, path = fsspec.core.url_to_fs(entry.url, **options)
        loaded.append((entry, fs.cat_file(path), None))
    hashes = {e.name: hashlib.sha256(d).hexdigest() for e, d, _ in loaded if d is not None}
    batch_sha = hashlib.sha256("\n".join(sorted(hashes.values())).encode()).hexdigest()
    received_at = max((e.modified for e in entries if e.modified), default=None)
    key = dict(period=str(period), opd_code=opd_code, submission_type=submission_type)
    url = settings.database_url

    check_version = _check_version(settings, config, submission_type)
    with session_scope(url) as s:
        current = s.scalars(select(SubmissionBatch).filter_by(is_current=True, **key)).first()
        if current is not None and current.sha256 == batch_sha and hashes:
            dup = SubmissionBatch(**key, status="duplicate", is_current=False, files=current.files, sha256=batch_sha,
                                  received_at=received_at, loaded_at=datetime.now(UTC), run_id=run_id,
                                  rows_total=current.rows_total, rows_accepted=current.rows_accepted,
                                  rows_quarantined=current.rows_quarantined, rows_warning=current.rows_warning)
            s.add(dup)
            s.flush()
            audit(s, actor=run_id or "tkpk", action="load_duplicate", period=str(period), opd_code=opd_code,
                  submission_type=submission_type, batch_id=dup.batch_id, same_as=current.batch_id)
            log.info("%s/%s %s: berkas sama persis dengan batch %s; tidak diproses ulang.", opd_code,
                     submission_type, period, current.batch_id)
            return _counts(key, dup.batch_id, "duplicate", len(hashes), current.rows_total, current.rows_accepted,
                           current.rows_quarantined, current.rows_warning, {})
        # The same files as the latest attempt, which was rejected: the outcome cannot change, so record the
        # attempt and say so again without re-checking (a re-run of the month stays identical, and the OPD's
        # feedback does not count a new attempt).
        latest = s.scalars(select(SubmissionBatch).filter(SubmissionBatch.status != "duplicate")
                           .filter_by(**key).order_by(SubmissionBatch.batch_id.desc()).limit(1)).first()
        if (latest is not None and latest.status == "rejected" and latest.sha256 == batch_sha and hashes
                and latest.check_version == check_version):
            dup = SubmissionBatch(**key, status="duplicate", is_current=False, files=latest.files, sha256=batch_sha,
                                  received_at=received_at, loaded_at=datetime.now(UTC), run_id=run_id,
                                  rows_total=latest.rows_total, rejection_reason=latest.rejection_reason)
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
    accepted = bool(results) and all(r.accepted for r in results) and not any(
        f.severity == CRITICAL for f in extra)

    checked = time.perf_counter()
    # Archive the raw files (content-addressed, so a retried task writes nothing new).
    archive_opts = _archive_options(settings, options)
    file_meta = []
    for entry, data, _rej in loaded:
        meta = {"name": entry.name, "uri": entry.url, "size": entry.size,
                "received_at": entry.modified.isoformat() if entry.modified else None}
        if data is not None:
            meta["sha256"] = hashes[entry.name]
            meta["archive_uri"] = archive_file(settings, period, opd_code, submission_type, entry.name,
                                               hashes[entry.name], data, archive_opts)
        file_meta.append(meta)

    findings = [f for r in results for f in r.issues] + extra
    rows_total = sum(r.rows_total for r in results)
    rows_valid = sum(r.rows_valid for r in results) if accepted else 0
    rows_quarantined = sum(r.rows_quarantined for r in results) if accepted else 0
    rows_warning = sum(r.rows_warning for r in results) if accepted else 0
    status = "accepted" if accepted else "rejected"

    archived = time.perf_counter()
    with session_scope(url) as s:
        current = s.scalars(select(SubmissionBatch).filter_by(is_current=True, **key).with_for_update()).first()
        batch = SubmissionBatch(
            **key, status=status, is_current=False, files=file_meta, sha256=batch_sha, received_at=received_at,
            loaded_at=datetime.now(UTC), check_version=check_version, rows_total=rows_total, rows_accepted=rows_valid,
            rows_quarantined=rows_quarantined, rows_warning=rows_warning, run_id=run_id,
            rejection_reason=None if accepted else _summary(opd.name, stype.name, period, findings, results)[:4000],
        )
        s.add(batch)
        s.flush()
        _write_findings(s, batch.batch_id, key, findings)
        if accepted:
            if current is not None:
                _retire(s, current)
            for r in results:
                _write_staged(s, batch.batch_id, key, r, stype)
                _write_quarantined(s, batch.batch_id, key, r)
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
        message = _summary(opd.name, stype.name, period, findings, results)
        log.warning("%s", message)
        raise BatchRejected(message, counts=counts)
    log.info("%s/%s %s: %d baris diterima, %d dikarantina, %d dengan peringatan.", opd_code, submission_type,
             period, rows_valid, rows_quarantined, rows_warning)
    return counts


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


def _summary(opd_name: str, type_name: str, period: Period, findings: list[Finding], results) -> str:
    """Indonesian summary of a rejection, NIK/KK masked: safe for task logs and e-mail."""
    critical = [f for f in findings if f.severity == CRITICAL]
    lines = [f"Kiriman {opd_name} ({type_name}) periode {period.label()} DITOLAK; batch sebelumnya tetap dipakai."]
    for f in critical[:8]:
        where = f"{f.file}: " if f.file else ""
        lines.append(f"- {where}{f.message}")
    if len(critical) > 8:
        lines.append(f"- ... dan {len(critical) - 8} temuan kritis lain.")
    errors = sum(1 for f in findings if f.severity == ERROR)
    if errors:
        lines.append(f"Selain itu {errors} galat baris; rinciannya ada di umpan balik untuk OPD.")
    return mask_text("\n".join(lines))


def _retire(session, current) -> None:
    from sqlalchemy import delete

    from tkpk.warehouse.models import StagedRow

    session.execute(delete(StagedRow).where(StagedRow.batch_id == current.batch_id))
    current.status = "superseded"
    current.is_current = False
    session.flush()


# --- bulk writes -----------------------------------------------------------------------------------------------------------
# Rows are assembled as Arrow arrays (JSON text built column-wise in C++, no Python object per cell) and written with
# COPY on PostgreSQL; SQLite and MariaDB get executemany with the same values as Python objects.


def _arrow(values, n: int):
    """A pyarrow array from a Series, ndarray, list or scalar (broadcast)."""
    import pyarrow as pa

    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    if isinstance(values, pd.Series):
        if pd.api.types.is_datetime64_any_dtype(values):
            return pa.array(values).cast(pa.date32())
        if isinstance(values.dtype, pd.StringDtype):
            return pa.array(values.array)
        return pa.array(values, from_pandas=True)
    if isinstance(values, (list, tuple)) or hasattr(values, "__array__"):
        return pa.array(values, from_pandas=True)
    return pa.array([values] * n)


def _json_literal(values: pd.Series, plain: bool = False):
    """Each value as a JSON literal (text): strings quoted and escaped, numbers as digits, dates as ISO, null.
    `plain`: the values cannot hold a quote, backslash or control character (digits, codes, ISO dates), so the
    escaping passes are skipped."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = _arrow(values, len(values))
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type) or pa.types.is_boolean(arr.type):
        lit = pc.cast(arr, pa.string())
        if pa.types.is_boolean(arr.type):
            lit = pc.if_else(arr, "true", "false")
    else:
        if pa.types.is_null(arr.type):
            arr = arr.cast(pa.string())
        text = pc.cast(arr, pa.string())
        if not plain:
            text = pc.replace_substring(text, "\\", "\\\\")
            text = pc.replace_substring(text, '"', '\\"')
            text = pc.replace_substring_regex(text, "[\x00-\x1f]", " ")
        lit = pc.binary_join_element_wise('"', text, '"', "")
    return pc.fill_null(lit, "null")


def json_objects(frame: pd.DataFrame, columns: list[str], plain: frozenset[str] = frozenset()):
    """One JSON object per row over `columns` (Arrow string array); `plain` columns need no escaping."""
    import pyarrow.compute as pc

    parts: list = ["{"]
    for i, c in enumerate(columns):
        parts.append(("," if i else "") + json.dumps(c) + ":")
        parts.append(_json_literal(frame[c], plain=c in plain))
    parts.append("}")
    return pc.binary_join_element_wise(*parts, "")


def bulk_insert(session, table, columns: dict, n: int, *, json_columns: tuple[str, ...] = (),
                date_columns: tuple[str, ...] = (), sort_by: str | None = None) -> int:
    """Insert `n` rows into `table` inside the session's transaction. `columns` maps column name -> Series / array /
    scalar. PostgreSQL: COPY from Arrow-written CSV (sorted by `sort_by` so index pages fill in order);
    elsewhere: executemany with JSON parsed back to dicts and ISO dates to `date`."""
    import pyarrow as pa

    if n == 0:
        return 0
    data = pa.table({name: _arrow(values, n) for name, values in columns.items()})
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        order = None
        if sort_by:
            import pyarrow.compute as pc

            order = pc.sort_indices(data[sort_by])  # taken chunk by chunk: no sorted copy of the whole table
        _copy(conn, table.name, data, order)
        return n
    from sqlalchemy import insert

    records = data.to_pylist()
    for rec in records:
        for k in json_columns:
            if isinstance(rec.get(k), str):
                rec[k] = json.loads(rec[k])
        for k in date_columns:
            if isinstance(rec.get(k), str):
                rec[k] = date.fromisoformat(rec[k])
    for i in range(0, len(records), INSERT_CHUNK):
        conn.execute(insert(table), records[i:i + INSERT_CHUNK])
    return n


def _copy(conn, table_name: str, data, order=None) -> None:
    """COPY the table in chunks of CSV; the next chunk is written by a helper thread (pyarrow releases the GIL)
    while the server ingests the current one, so client and server work overlap."""
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow.csv as pcsv

    dbapi = conn.connection.dbapi_connection
    cols = ", ".join(f'"{c}"' for c in data.column_names)
    sql = f"COPY {table_name} ({cols}) FROM STDIN WITH (FORMAT csv)"
    driver = conn.dialect.driver
    options = pcsv.WriteOptions(include_header=False)

    def render(start: int) -> bytes:
        chunk = data.slice(start, COPY_CHUNK) if order is None else data.take(order.slice(start, COPY_CHUNK))
        buf = io.BytesIO()
        pcsv.write_csv(chunk, buf, write_options=options)
        return buf.getvalue()

    starts = list(range(0, data.num_rows, COPY_CHUNK))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tkpk-copy") as pool:
        pending = pool.submit(render, starts[0]) if starts else None
        for i in range(len(starts)):
            payload = pending.result()
            pending = pool.submit(render, starts[i + 1]) if i + 1 < len(starts) else None
            cur = dbapi.cursor()
            try:
                if driver == "psycopg":
                    with cur.copy(sql) as copy:
                        copy.write(payload)
                else:
                    cur.copy_expert(sql, io.BytesIO(payload))
            finally:
                cur.close()


def _write_findings(session, batch_id: int, key: dict, findings: list[Finding]) -> None:
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
        "check": [f.check for f in findings],
        "severity": [f.severity for f in findings],
        "message": [f.message for f in findings],
        "value": [f.value for f in findings],
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
    bulk_insert(session, StagedRow.__table__, cols, n, json_columns=("data",), date_columns=("tanggal_lahir",),
                sort_by="nik")


def pa_null(n: int, column: str):
    import pyarrow as pa

    return pa.nulls(n, type=pa.date32() if column == "tanggal_lahir" else pa.string())


def _write_quarantined(session, batch_id: int, key: dict, result: ValidationResult) -> None:
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
    }, len(q), json_columns=("data",))
