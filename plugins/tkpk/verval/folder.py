"""What is in a verval folder, checked: the sheet(s) through the ordinary ingest checks, every photo (loose or in a
zip) through `photos`, every row through `checks`; nothing in the folder passes without a finding.

`check_folder` is shared by `tkpk verval check DIR` (a local folder) and the monthly load (`verval/` in the landing
zone, through fsspec): both hand over `Item`s that open their bytes lazily, so 10,000 photos stream through one at a
time and a zip is read member by member (a month's photos never sit in memory together).
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from tkpk.config.submissions import SubmissionType
from tkpk.ingest.safety import SPREADSHEET_EXTS, extension
from tkpk.quality.findings import WARNING, Finding
from tkpk.verval import LENGKAP
from tkpk.verval.checks import KnownPhotos, VervalRow, check_rows, find_photo, photo_key, split_names
from tkpk.verval.photos import PHOTO_EXTS, PhotoInfo, inspect_photo

log = logging.getLogger(__name__)


@dataclass
class Item:
    """One file of the folder: its name, size and how to open it (a binary file object)."""

    name: str
    size: int
    open: Callable
    url: str | None = None

    @classmethod
    def local(cls, path: Path) -> Item:
        return cls(name=path.name, size=path.stat().st_size, open=lambda: open(path, "rb"), url=str(path))


@dataclass
class FolderResult:
    sheets: list = field(default_factory=list)  # ValidationResult per spreadsheet
    photos: dict[str, PhotoInfo] = field(default_factory=dict)
    rows: list[VervalRow] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # folder-level: stray files, unreferenced photos
    photo_files: list[dict] = field(default_factory=list)  # {name, sha256, size, container}: for the archive

    @property
    def accepted(self) -> bool:
        return bool(self.sheets) and all(r.accepted for r in self.sheets)

    @property
    def rows_lengkap(self) -> int:
        return sum(1 for r in self.rows if r.status == LENGKAP)


def _stray(name: str) -> Finding:
    return Finding("berkas_lain_diabaikan", WARNING,
                   f"Berkas '{name}' bukan lembar kerja maupun foto (JPEG/PNG/HEIC); tidak dipakai.", file=name)


PHOTO_THREADS = 3  # libjpeg, zlib and hashlib release the GIL: threads use both cores, in any Airflow executor
_WINDOW = 24  # photos read ahead of the one being recorded: bounds memory (24 x a phone photo)


def scan_photos(items: list[Item], stype: SubmissionType, limits, on_photo: Callable | None = None,
                threads: int = PHOTO_THREADS) -> tuple[dict[str, PhotoInfo], list[Finding], list[dict]]:
    """Inspect every photo of `items` (loose, or members of a zip). `on_photo(name, data, info)` sees each photo's
    bytes once, in order, in the calling thread (the load archives them there). Returns photos by `photo_key`,
    folder findings, photo file records."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    rules = stype.photos
    max_pixels = int(rules.max_megapixels * 1_000_000)
    max_bytes = int(rules.max_photo_mb * 1024 * 1024)
    photos: dict[str, PhotoInfo] = {}
    findings: list[Finding] = []
    records: list[dict] = []
    seen: set[str] = set()
    pending: deque = deque()

    def work(name: str, read: Callable[[], bytes]) -> tuple[bytes, PhotoInfo]:
        data = read()
        return data, inspect_photo(data, name, max_pixels=max_pixels)

    def finish() -> None:
        name, size, container, job = pending.popleft()
        shown = f"{container}/{name}" if container else name
        if isinstance(job, PhotoInfo):
            info = job
        else:
            data, info = job.result()
            if on_photo is not None:
                on_photo(shown, data, info)
        photos[photo_key(name)] = info
        records.append({"name": shown, "sha256": info.sha256, "size": size, "container": container})

    with ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="tkpk-foto") as pool:
        def take(name: str, size: int, read: Callable[[], bytes] | None, container: str | None,
                 refused: PhotoInfo | None = None) -> None:
            key = photo_key(name)
            if key in seen:
                findings.append(Finding("berkas_ganda", WARNING, f"Foto bernama '{name}' dikirim lebih dari sekali; "
                                        "hanya yang pertama dipakai.",
                                        file=f"{container}/{name}" if container else name))
                return
            seen.add(key)
            if refused is None and size > max_bytes:
                refused = PhotoInfo(name=name, sha256="", size=size,
                                    problem=f"ukuran {size / 1048576:.0f} MB melebihi batas {rules.max_photo_mb:g} "
                                            "MB; tidak dibuka")
            if refused is None and container is not None:  # a zip is read in this thread, member by member
                data = read()
                read = lambda data=data: data  # noqa: E731
            pending.append((name, size, container, refused or pool.submit(work, name, read)))
            while len(pending) > _WINDOW:
                finish()

        for item in items:
            ext = extension(item.name)
            if ext in PHOTO_EXTS:
                def read(item=item):
                    with item.open() as fh:
                        return fh.read(max_bytes + 1)
                take(item.name, item.size, read, None)
            elif ext == "zip":
                _scan_zip(item, take, findings, limits)
            elif ext not in SPREADSHEET_EXTS:
                findings.append(_stray(item.name))
        while pending:
            finish()
    return photos, findings, records


def _scan_zip(item: Item, take, findings: list[Finding], limits) -> None:
    """Photos inside one zip, member by member; a member that would unpack far beyond its packed size is refused
    unread (zip bomb), as are members of other kinds (each a finding)."""
    max_ratio = limits.max_compression_ratio
    try:
        with item.open() as fh, zipfile.ZipFile(fh) as zf:
            for member in zf.infolist():
                if member.is_dir():
                    continue
                base = member.filename.replace("\\", "/").rsplit("/", 1)[-1]
                if not base or base.startswith(("._", "~$")) or "__MACOSX/" in member.filename:
                    continue
                shown = f"{item.name}/{member.filename}"
                if extension(base) not in PHOTO_EXTS:
                    findings.append(_stray(shown))
                    continue
                packed = max(member.compress_size, 1)
                if member.file_size / packed > max_ratio:
                    take(base, member.file_size, None, item.name, PhotoInfo(
                        name=base, sha256="", size=member.file_size, bomb=True,
                        problem="isi zip akan mengembang jauh melebihi ukurannya (bom zip); tidak dibuka"))
                    continue
                take(base, member.file_size, lambda m=member: zf.read(m), item.name)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
        findings.append(Finding("berkas_tidak_terbaca", WARNING,
                                f"Zip '{item.name}' tidak dapat dibuka ({type(exc).__name__}); foto di dalamnya "
                                "tidak terbaca. Kirim ulang foto tanpa kata sandi.", file=item.name))



def _text(value) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def rows_of(result) -> list[VervalRow]:
    """VervalRows of one checked sheet file: accepted rows (normalised values) and quarantined rows (as shown, for
    the row list and so the photos they name are not reported as unreferenced)."""
    out: list[VervalRow] = []
    records = result.records if result.records is not None else pd.DataFrame()
    for rec in records.to_dict(orient="records"):
        nik, kk = _text(rec.get("nik")), _text(rec.get("no_kk"))
        visited = rec.get("tanggal_kunjungan")
        out.append(VervalRow(
            file=result.file, sheet=_text(rec.get("_sheet")), row=int(rec["_row"]), household=kk or nik, nik=nik,
            no_kk=kk, kode_kelurahan=_text(rec.get("kode_kelurahan")),
            hasil_verifikasi=_text(rec.get("hasil_verifikasi")),
            tanggal_kunjungan=None if visited is None or pd.isna(visited) else pd.Timestamp(visited).date(),
            foto_rumah=_text(rec.get("foto_rumah")), foto_lain=split_names(_text(rec.get("foto_lain"))),
            petugas=_text(rec.get("petugas")), catatan=_text(rec.get("catatan"))))
    quarantined = result.quarantined if result.quarantined is not None else pd.DataFrame()
    for rec in quarantined.to_dict(orient="records"):
        out.append(VervalRow(
            file=result.file, sheet=_text(rec.get("_sheet")), row=int(rec["_row"]), household=None,
            nik=_text(rec.get("nik")), no_kk=_text(rec.get("no_kk")), kode_kelurahan=None,
            hasil_verifikasi=_text(rec.get("hasil_verifikasi")), tanggal_kunjungan=None,
            foto_rumah=_text(rec.get("foto_rumah")), foto_lain=split_names(_text(rec.get("foto_lain"))),
            quarantined=True))
    out.sort(key=lambda r: (r.sheet or "", r.row))
    return out


def check_folder(items: list[Item], stype: SubmissionType, end: date, *, validate: Callable, limits,
                 reference_dir: Path, known: KnownPhotos | None = None, on_photo: Callable | None = None,
                 kelurahan=None) -> FolderResult:
    """Check every item of a verval folder. `validate(item) -> ValidationResult` checks one spreadsheet exactly as
    the ingest does (the caller decides how bytes are read and how the size limit applies)."""
    from tkpk.verval.geo import Boundaries

    out = FolderResult()
    for item in items:
        if extension(item.name) in SPREADSHEET_EXTS:
            out.sheets.append(validate(item))
    out.photos, out.findings, out.photo_files = scan_photos(items, stype, limits, on_photo)
    for result in out.sheets:
        if result.accepted:
            out.rows.extend(rows_of(result))
    name_of = None
    if kelurahan is not None:
        def name_of(code):
            found = kelurahan.by_code.get(code)
            return found.kelurahan if found else code
    check_rows(out.rows, out.photos, stype.photos, end, Boundaries.load(reference_dir), known, name_of)
    referenced = set()
    for row in out.rows:
        for _column, name in row.photos():
            info = find_photo(out.photos, name)
            if info is not None:
                referenced.add(id(info))
    for record, info in zip(out.photo_files, out.photos.values(), strict=False):
        if id(info) not in referenced:
            out.findings.append(Finding(
                "foto_tidak_dirujuk", WARNING,
                f"Foto '{record['name']}' dikirim tetapi tidak disebut di kolom foto_rumah atau foto_lain mana pun; "
                "tuliskan namanya pada baris keluarga yang difoto.", file=record["name"]))
    for result in out.sheets:  # rows with a photo finding load with a warning
        if result.accepted and result.records is not None and len(result.records):
            flagged = {(r.sheet, r.row) for r in out.rows if r.flags and r.file == result.file}
            if flagged:
                keys = zip(result.records["_sheet"].map(_text), result.records["_row"].astype(int), strict=True)
                mark = [k in flagged for k in keys]
                result.records["has_warning"] = result.records["has_warning"].to_numpy(dtype=bool) | mark
    return out
