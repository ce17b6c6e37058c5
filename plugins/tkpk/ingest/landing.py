"""Discovery (step 1 of the monthly run): list `{landing}/{YYYY-MM}/{opd_code}/` for every expected (OPD,
submission type) from config and record what arrived in `expected_submission`.

The landing zone is a URL read through universal-pathlib / fsspec (what Airflow's ObjectStoragePath is built on):
`file://` by default, `s3://` (MinIO) or `sftp://` in production, with storage options the DAG builds from an
Airflow connection. A required OPD that sent nothing is state `missing` ("belum mengirim"), a normal outcome.

Which files belong to which type: when an OPD sends one type, every file in its folder; when it sends several, the
files whose name contains the type code (`dinsos_kpm_oktober.xlsx`). Only what is certainly not a submission is
left out: lock and temporary files of office programs and uploads (`~$...`, `.~lock...#`, `*.tmp`, `*.part`,
`*.crdownload`), the folder metadata of macOS and Windows (`.DS_Store`, `._*`, `Thumbs.db`, `desktop.ini`) and
sub-folders (such as `_diganti/`, where `tkpk submit --replace` moves older files). Every other file is listed,
whatever its name (`..data.xlsx`, `.rekap.csv`): a file that is not a spreadsheet shows up as a finding, it never
silently vanishes.

Recorded file URIs are built from the configured landing URL (`sftp://host:port/...`, `s3://bucket/...`), not from
what the filesystem's listing returns (which drops the protocol and host), and never carry credentials. A storage
failure (permissions, network) becomes `LandingUnreadable`: still an `OSError` the DAG retries, with an Indonesian
message naming the folder.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlsplit, urlunsplit

from tkpk.config.submissions import header_key
from tkpk.ingest.errors import LandingUnreadable
from tkpk.ingest.safety import SPREADSHEET_EXTS, extension
from tkpk.normalize.nik import mask_text
from tkpk.period import Period

log = logging.getLogger(__name__)


# Names that are certainly not a submission: office lock files, partial downloads/uploads, folder metadata.
_IGNORED_NAME_RE = re.compile(
    r"(?i)^(~\$.*|\.~lock\..*#|\.ds_store|\._.*|thumbs\.db|desktop\.ini|\.directory)$"
    r"|\.(tmp|temp|part|partial|crdownload|filepart|swp)$")


def ignored_name(name: str) -> bool:
    """True for lock, temporary and folder-metadata files, which are never part of a batch."""
    return bool(_IGNORED_NAME_RE.search(name))


def public_url(url: str) -> str:
    """`url` without user name or password (`sftp://user:pw@host:22/x` -> `sftp://host:22/x`): safe to record."""
    if "://" not in url or "@" not in url.split("://", 1)[1].split("/", 1)[0]:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class FileEntry:
    name: str
    url: str  # full URL of the file in the landing zone (protocol, host, path; no credentials)
    path: str  # the path as the filesystem knows it
    size: int
    modified: datetime | None
    kind: str = "file"  # file | symlink | special (FIFO, socket, device): only a plain file is ever read

    @property
    def supported(self) -> bool:
        return extension(self.name) in SPREADSHEET_EXTS


def storage_options_for(settings, storage_options: dict | None) -> dict:
    merged = dict(getattr(settings, "storage_options", None) or {})
    merged.update(storage_options or {})
    return merged


def _mtime(info: dict) -> datetime | None:
    for key in ("mtime", "LastModified", "last_modified", "modified", "created", "time"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(float(value), tz=UTC)
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
            except ValueError:
                continue
    return None


def landing_folder(settings, period: Period | str, opd_code: str | None = None, storage_options: dict | None = None):
    """UPath of `{landing}/{period}[/{opd_code}]`."""
    from upath import UPath

    where = folder_url(settings, period, opd_code)
    try:
        base = UPath(settings.landing_url, **storage_options_for(settings, storage_options)) / str(period)
    except OSError as exc:  # a remote store connects here (sftp)
        raise LandingUnreadable(where, exc) from exc
    return base / opd_code if opd_code else base


def folder_url(settings, period: Period | str, opd_code: str | None = None) -> str:
    """The URL of `{landing}/{period}[/{opd_code}]` as recorded and shown: the configured landing URL (protocol,
    host and port kept) without credentials."""
    base = f"{public_url(settings.landing_url).rstrip('/')}/{period}"
    return f"{base}/{opd_code}" if opd_code else base


def delivered_files(folder, base_url: str | None = None) -> list[FileEntry]:
    """What counts as delivered in one OPD's landing folder (a UPath): THE definition of "received", shared by
    `discover`, the deadline reminders (`tkpk.reminders`) and `tkpk status`.

    Every file counts except sub-folders (`_diganti/`, where `tkpk submit --replace` moves older files) and names
    that are certainly not a submission (`ignored_name`: lock, temporary and folder-metadata files). A missing
    folder is nothing delivered. Sorted by name; `base_url` is the folder's public URL (default: what the UPath
    shows, which loses the host of an sftp URL). Extend the rule here (settle time, a `verval/` sub-folder), never
    in a caller."""
    base_url = (base_url or public_url(str(folder))).rstrip("/")
    try:
        infos = folder.fs.ls(folder.path, detail=True)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise LandingUnreadable(base_url, exc) from exc
    out = []
    for info in infos:
        if info.get("type") == "directory":
            continue
        name = str(info["name"]).rstrip("/").rsplit("/", 1)[-1]
        if not name or ignored_name(name):
            continue
        out.append(FileEntry(name=name, url=f"{base_url}/{name}", path=str(info["name"]),
                             size=int(info.get("size") or 0), modified=_mtime(info), kind=entry_kind(info)))
    return sorted(out, key=lambda e: e.name)


def opd_folders(settings, period: Period | str, storage_options: dict | None = None) -> set[str]:
    """Names of the OPD folders under `{landing}/{period}/`: one listing (one request on S3/SFTP)."""
    month = landing_folder(settings, period, None, storage_options)
    try:
        return {str(i["name"]).rstrip("/").rsplit("/", 1)[-1] for i in month.fs.ls(month.path, detail=True)
                if i.get("type") == "directory"}
    except FileNotFoundError:
        return set()
    except OSError as exc:
        raise LandingUnreadable(folder_url(settings, period), exc) from exc


def received_files(settings, period: Period | str, opd, storage_options: dict | None = None,
                   present: set[str] | None = None) -> dict[str, list[FileEntry]]:
    """For each submission type of `opd` (an `Opd` from config), the delivered files of that type for `period`;
    an empty list means not received. `present` (from `opd_folders`) spares a request per absent folder."""
    if present is not None and opd.code not in present:
        entries = []
    else:
        entries = delivered_files(landing_folder(settings, period, opd.code, storage_options),
                                  folder_url(settings, period, opd.code))
    types = tuple(opd.submissions)
    return {t: files_for_type(entries, types, t) for t in types}


# --- landing safety: links, special files, files still being copied ---------------------------------------------------

SETTLE_PROTOCOLS = ("file", "local", "sftp", "ssh")  # an S3 object is complete once it is listed


def entry_kind(info: dict) -> str:
    """`symlink` for a link (fsspec's local listing says `islink`; the target may lie outside the landing zone),
    `special` for a FIFO, socket or device (reading a FIFO blocks forever), else `file`."""
    if info.get("islink"):
        return "symlink"
    if info.get("type") not in (None, "file"):
        return "special"
    return "file"


def refusal(entry: FileEntry) -> str | None:
    """The check code under which a listed entry is refused without being opened, or None."""
    return {"symlink": "berkas_tautan_ditolak", "special": "berkas_khusus_ditolak"}.get(entry.kind)


def still_copying(entry: FileEntry, settings, now: datetime | None = None) -> bool:
    """True when the file changed less than `settle_seconds` ago on a landing zone where files are written in place
    (file://, SFTP): it may still be being copied, and a cut inside the last field turns 16800 into 168."""
    settle = float(getattr(settings, "settle_seconds", 0) or 0)
    protocol = settings.landing_url.split("://", 1)[0] if "://" in settings.landing_url else "file"
    if settle <= 0 or protocol not in SETTLE_PROTOCOLS or entry.modified is None:
        return False
    return ((now or datetime.now(UTC)) - entry.modified).total_seconds() < settle


def wait_until_settled(settings, list_entries, *, sleep=None, clock=None) -> list[FileEntry]:
    """Re-list until no file is still being copied, for at most `settle_max_wait` seconds; returns the entries
    still being copied when the wait ran out (the run goes on without them and says so). `list_entries()` returns
    the current listing. Sleeps only as long as the youngest file needs to settle."""
    import time

    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    settle = float(getattr(settings, "settle_seconds", 0) or 0)
    max_wait = float(getattr(settings, "settle_max_wait", 0) or 0)
    started = clock()
    while True:
        now = datetime.now(UTC)
        young = [e for e in list_entries() if still_copying(e, settings, now)]
        waited = clock() - started
        if not young or waited >= max_wait:
            return young
        need = max(settle - (now - max(e.modified for e in young)).total_seconds(), 0.05)
        sleep(min(need + 0.05, max_wait - waited))


def read_entry(settings, entry: FileEntry, storage_options: dict | None = None) -> bytes:
    """The bytes of a listed file, read through the landing store's filesystem (credentials from the settings and
    storage options, never from the recorded URL)."""
    import fsspec

    try:
        fs, _root = fsspec.core.url_to_fs(settings.landing_url, **storage_options_for(settings, storage_options))
        return fs.cat_file(entry.path)
    except OSError as exc:
        raise LandingUnreadable(entry.url, exc, file=True) from exc


def files_for_type(entries: list[FileEntry], opd_types: tuple[str, ...], type_code: str) -> list[FileEntry]:
    if len(opd_types) == 1:
        return list(entries) if opd_types[0] == type_code else []
    key = header_key(type_code)
    return [e for e in entries if key in header_key(e.name)]


def type_folder(settings, type_code: str) -> str | None:
    """The sub-folder a type is sent in (`verval` for kelurahan_verval), None for types sent in the OPD's folder."""
    from tkpk.config import load_config

    try:
        return load_config(settings.config_dir).types.get(type_code).folder
    except KeyError:
        return None


def subfolder_files(folder, base_url: str, subfolder: str) -> list[FileEntry]:
    """Every file of `{opd folder}/{subfolder}/` (sheets, photos, zips, stray documents alike): all of them belong
    to the sub-folder's type, and whatever is not usable there becomes a finding of that type's batch."""
    return delivered_files(folder / subfolder, f"{base_url.rstrip('/')}/{subfolder}")


def submission_files(settings, period, opd, type_code: str, storage_options: dict | None = None) -> list[FileEntry]:
    """The files of one (period, OPD, type) in the landing zone, sorted by name."""
    sub = type_folder(settings, type_code)
    if sub:
        folder = landing_folder(settings, period, opd.code, storage_options)
        return subfolder_files(folder, folder_url(settings, period, opd.code), sub)
    return received_files(settings, period, opd, storage_options)[type_code]


def _folder_submissions(config, month, opd, settings, period: Period, folder_present: bool, now) -> list[dict]:
    """Discovery of the sub-folder types an OPD may send (kelurahan_verval in `verval/`): never required, listed
    only when the sub-folder holds a file (every file counts: photos and zips too), so a month without field visits
    adds nothing to the expected submissions."""
    out = []
    for type_code in config.opds.folder_types_for(opd.code):
        sub = config.types.get(type_code).folder
        files = (subfolder_files(month / opd.code, folder_url(settings, period, opd.code), sub)
                 if folder_present else [])
        if not files:
            continue
        times = [f.modified for f in files if f.modified]
        out.append({"opd_code": opd.code, "submission_type": type_code, "state": "received",
                    "files": sum(1 for f in files if f.supported), "required": False,
                    "_first": min(times) if times else now, "_deadline": deadline_for(period, opd.deadline_day)})
    return out


def deadline_for(period: Period, deadline_day: int) -> date:
    nxt = period.next()
    return date(nxt.year, nxt.month, deadline_day)


def discover(settings, period: str | Period, opd: str | None = None, storage_options: dict | None = None) -> list[dict]:
    """List the month's landing folders, record `expected_submission`, return small dicts for XCom (no personal
    data): `{"opd_code", "submission_type", "state", "files", "required"}`."""
    from sqlalchemy import select

    from tkpk.config import load_config
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import ExpectedSubmission

    period = period if isinstance(period, Period) else Period.parse(str(period))
    config = load_config(settings.config_dir)
    opds = config.opds.all_opds()
    if opd:
        opds = [o for o in opds if o.code == opd]
        if not opds:
            raise KeyError(f"OPD '{opd}' tidak ada di konfigurasi opds.yaml.")
    present = opd_folders(settings, period, storage_options)  # then one listing per OPD folder that exists
    month = landing_folder(settings, period, None, storage_options)
    copying = _settle(settings, period, month, [o for o in opds if o.code in present])
    now = datetime.now(UTC)
    found: list[dict] = []
    for o in opds:
        for type_code, files in received_files(settings, period, o, storage_options, present).items():
            files = [f for f in files if (o.code, f.name) not in copying]
            spreadsheets = [f for f in files if f.supported]
            times = [f.modified for f in files if f.modified]
            found.append({
                "opd_code": o.code,
                "submission_type": type_code,
                "state": "received" if files else "missing",
                "files": len(spreadsheets),
                "required": bool(o.required),
                "_first": min(times) if times else (now if files else None),
                "_deadline": deadline_for(period, o.deadline_day),
            })
        found.extend(_folder_submissions(config, month, o, settings, period, o.code in present, now))
    with session_scope(settings.database_url) as s:
        q = select(ExpectedSubmission).where(ExpectedSubmission.period == str(period))
        if opd:
            q = q.where(ExpectedSubmission.opd_code == opd)
        existing = {(e.opd_code, e.submission_type): e for e in s.scalars(q)}
        for item in found:
            row = existing.get((item["opd_code"], item["submission_type"]))
            if row is None:
                row = ExpectedSubmission(period=str(period), opd_code=item["opd_code"],
                                         submission_type=item["submission_type"])
                s.add(row)
            row.required = item["required"]
            row.state = item["state"]
            row.file_count = item["files"]
            row.deadline = item["_deadline"]
            row.discovered_at = now
            first = item["_first"]
            previous = row.first_received_at
            if previous is not None and previous.tzinfo is None:
                previous = previous.replace(tzinfo=UTC)
            # The first arrival counts for "tepat waktu", even after a corrected file replaced it.
            row.first_received_at = min(x for x in (previous, first) if x is not None) if (previous or first) else None
    received = sum(1 for i in found if i["state"] == "received")
    missing_required = sum(1 for i in found if i["state"] == "missing" and i["required"])
    log.info("Periode %s: %d kiriman diterima, %d kiriman wajib belum dikirim.", period, received, missing_required)
    return [{k: v for k, v in item.items() if not k.startswith("_")} for item in found]


def _settle(settings, period: Period, month, opds) -> set[tuple[str, str]]:
    """Wait (bounded) for files still being copied into the month's OPD folders; returns (OPD, file name) of those
    still being copied after the wait, which this run leaves out (a later run picks them up)."""
    def listing():
        return [(o.code, e) for o in opds
                for e in delivered_files(month / o.code, folder_url(settings, period, o.code))]

    pairs: dict[int, str] = {}

    def entries():
        current = listing()
        pairs.clear()
        pairs.update({id(e): code for code, e in current})
        return [e for _code, e in current]

    young = wait_until_settled(settings, entries)
    for e in young:
        log.warning("Berkas %s (OPD %s) masih disalin (berubah kurang dari %s detik lalu) setelah menunggu %s detik; "
                    "run ini berjalan tanpa berkas itu. Jalankan ulang setelah penyalinan selesai.",
                    mask_text(e.name), pairs.get(id(e), "?"), getattr(settings, "settle_seconds", 0),
                    getattr(settings, "settle_max_wait", 0))
    return {(pairs.get(id(e), "?"), e.name) for e in young}
