"""File safety before parsing (step 2 of the monthly run, and `tkpk validate`): size limit, content sniffing,
bounded decompression of XLSX/ODS (zip bombs), encrypted workbooks.

Each check raises `FileRejected` with a check code and an Indonesian message; nothing here parses a sheet. The zip
checks look at the member table first (declared sizes and ratios: a bomb is refused in milliseconds) and then
stream-decompress every member with a byte budget, so a forged size cannot make the parser unpack more than the
limit.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

from tkpk.config.submissions import FileLimits
from tkpk.ingest.errors import FileRejected
from tkpk.quality.messages import describe

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
SPREADSHEET_EXTS = {"xlsx": "xlsx", "xlsm": "xlsx", "xls": "xls", "ods": "ods", "csv": "csv", "txt": "csv",
                    "tsv": "csv"}
_CHUNK = 1 << 20
_MB = 1024 * 1024

_KNOWN = {  # what a mislabelled file really is, for the message
    "pdf": "dokumen PDF",
    "png": "gambar PNG",
    "jpg": "gambar JPEG",
    "gif": "gambar GIF",
    "docx": "dokumen Word (.docx)",
    "doc": "dokumen Word lama (.doc)",
    "pptx": "presentasi PowerPoint",
    "zip": "arsip ZIP",
    "rar": "arsip RAR",
    "7z": "arsip 7z",
    "gz": "arsip gzip",
}


def extension(name: str) -> str:
    return PurePosixPath(name).suffix.lower().lstrip(".")


def reject(check: str, **ctx) -> FileRejected:
    return FileRejected(check, describe(check, **ctx))


def check_size(size: int, limits: FileLimits) -> None:
    """Reject before reading when the file is empty or over the size limit."""
    if size == 0:
        raise reject("berkas_kosong")
    if size > limits.max_file_mb * _MB:
        raise reject("berkas_terlalu_besar", size_mb=round(size / _MB, 1), limit_mb=limits.max_file_mb)


def _guess(data: bytes) -> str:
    head = data[:8192]
    if head.startswith(b"%PDF"):
        return _KNOWN["pdf"]
    try:
        import filetype

        kind = filetype.guess(head)
    except Exception:  # noqa: BLE001 - sniffing is best effort
        kind = None
    if kind is not None:
        return _KNOWN.get(kind.extension, f"berkas {kind.mime}")
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html", b"<table")):
        return "halaman HTML"
    if stripped.startswith(b"<?xml"):
        return "berkas XML"
    if b"\x00" in head:
        return "data biner"
    return "teks biasa"


def inspect(data: bytes, name: str, limits: FileLimits) -> str:
    """Check a file's bytes and return its format ('xlsx', 'xls', 'ods' or 'csv'), or raise FileRejected."""
    check_size(len(data), limits)
    ext = extension(name)
    fmt = SPREADSHEET_EXTS.get(ext)
    if fmt is None:
        raise reject("format_tidak_didukung", ext=ext or "(tanpa ekstensi)")
    if data.startswith(OLE_MAGIC):
        _check_ole(data, ext)
        if fmt != "xls":
            actual = "Excel 97-2003 (.xls)" if fmt == "xlsx" else "berkas Office lama (OLE)"
            raise reject("bukan_spreadsheet", ext=ext, actual=actual)
        return fmt
    if data.startswith(ZIP_MAGICS):
        kind = _check_zip(data, limits)
        if fmt == "csv" or kind != fmt:
            actual = {"xlsx": "Excel (.xlsx)", "ods": "OpenDocument (.ods)"}.get(kind, _guess(data))
            raise reject("bukan_spreadsheet", ext=ext, actual=actual)
        return fmt
    if fmt in ("xlsx", "ods", "xls"):
        raise reject("bukan_spreadsheet", ext=ext, actual=_guess(data))
    # csv / txt / tsv: text, not a binary that happens to be named .csv
    if not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = data[:8192]
        if b"\x00" in head or _guess(data) not in ("teks biasa", "halaman HTML", "berkas XML"):
            raise reject("bukan_spreadsheet", ext=ext, actual=_guess(data))
    return "csv"


def _check_ole(data: bytes, ext: str) -> None:
    """OLE/CFB container: an encrypted OOXML workbook (EncryptionInfo) or an XLS with a password (FILEPASS)."""
    try:
        import msoffcrypto

        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        encrypted = office.is_encrypted()
    except Exception:  # noqa: BLE001 - not an Office container msoffcrypto understands
        encrypted = _ole_has_encryption_info(data)
    if encrypted:
        raise reject("berkas_terkunci")


def _ole_has_encryption_info(data: bytes) -> bool:
    try:
        import olefile

        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            return ole.exists("EncryptionInfo")
    except Exception:  # noqa: BLE001
        return False


def _check_zip(data: bytes, limits: FileLimits) -> str:
    """Bounded look inside a zip container; returns 'xlsx', 'ods' or 'zip' (something else)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise reject("berkas_tidak_terbaca", detail="arsip ZIP rusak") from exc
    max_total = limits.max_uncompressed_mb * _MB
    declared = sum(i.file_size for i in infos)
    if declared > max_total:
        raise reject("dekompresi_berlebih",
                     detail=f"{round(declared / _MB)} MB setelah dibuka, batas {limits.max_uncompressed_mb:g} MB")
    for info in infos:
        if info.file_size > _MB and info.file_size > limits.max_compression_ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise reject("dekompresi_berlebih",
                         detail=f"rasio kompresi {ratio:.0f}:1, batas {limits.max_compression_ratio:g}:1")
    names = {i.filename for i in infos}
    kind = "zip"
    if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        kind = "xlsx"
    elif "content.xml" in names and _ods_mimetype(zf, names):
        kind = "ods"
        if "META-INF/manifest.xml" in names and b"encryption-data" in zf.read("META-INF/manifest.xml"):
            raise reject("berkas_terkunci")
    if kind == "zip":
        return kind
    # Stream every member with a byte budget: zipfile stops at the declared size and checks the CRC, so a member
    # that lies about its size fails here instead of inflating inside the parser.
    budget = max_total
    try:
        for info in infos:
            with zf.open(info) as fh:
                while True:
                    chunk = fh.read(_CHUNK)
                    if not chunk:
                        break
                    budget -= len(chunk)
                    if budget < 0:
                        raise reject("dekompresi_berlebih", detail=f"lebih dari {limits.max_uncompressed_mb:g} MB")
    except zipfile.BadZipFile as exc:
        raise reject("berkas_tidak_terbaca", detail="arsip ZIP rusak") from exc
    except (RuntimeError, NotImplementedError) as exc:  # encrypted zip members, unknown compression
        raise reject("berkas_tidak_terbaca", detail="isi arsip tidak dapat dibuka") from exc
    return kind


def _ods_mimetype(zf: zipfile.ZipFile, names: set[str]) -> bool:
    if "mimetype" not in names:
        return True
    try:
        return b"spreadsheet" in zf.read("mimetype")[:200]
    except Exception:  # noqa: BLE001
        return False
