"""Exceptions of the ingestion stage.

`FileRejected` is internal (a file-level check failed while reading; becomes a critical finding). `BatchRejected`
is what `load_submission` raises after recording a rejected batch: a normal outcome the DAG turns into a failed task
without retry. Its message is an Indonesian summary with personal data masked, safe for task logs and e-mail.
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
