"""Exceptions of the ingestion stage.

`FileRejected` is internal (a file-level check failed while reading; becomes a critical finding). `BatchRejected`
is what `load_submission` raises after recording a rejected batch: a normal outcome the DAG turns into a failed task
without retry. Its message is an Indonesian summary with personal data masked, safe for task logs and e-mail.
`LandingUnreadable` is a storage failure of the landing zone (permissions, network, credentials): an `OSError`,
retried by the DAG like any other error, whose message says in Indonesian what could not be read and what to check.
"""

from __future__ import annotations


class FileRejected(Exception):
    """A file-level check failed: the file cannot be read as a submission."""

    def __init__(self, check: str, message: str):
        super().__init__(message)
        self.check = check
        self.message = message


class BatchRejected(Exception):
    """The batch for (period, OPD, type) was rejected and recorded; the previous accepted batch stays current."""

    def __init__(self, message: str, *, counts: dict | None = None):
        super().__init__(message)
        self.message = message
        self.counts = counts or {}


class LandingUnreadable(OSError):
    """The landing zone (or a file in it) could not be read. Retriable: the store may come back."""

    REASONS = (  # most specific first
        (PermissionError, "akses ditolak"),
        (FileNotFoundError, "berkas atau folder hilang saat dibaca"),
        (TimeoutError, "waktu tunggu habis"),
        (ConnectionError, "sambungan ke penyimpanan terputus"),
    )

    def __init__(self, where: str, cause: BaseException | None = None, *, file: bool = False):
        reason = next((text for kind, text in self.REASONS if isinstance(cause, kind)), "gangguan penyimpanan")
        what = "Berkas di landing zone" if file else "Folder landing"
        message = (f"{what} {where} tidak dapat dibaca ({reason}). Periksa koneksi Airflow 'tkpk_landing' (alamat, "
                   "pengguna, kata sandi atau kunci) dan hak baca folder tersebut; tugas ini dicoba ulang otomatis.")
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return self.message
