"""Ingestion of monthly OPD submissions (DESIGN.md section 3, steps 1-2): discover the month's files in the landing
zone, read and check each OPD's files of one type as one batch, archive the raw files and replace the batch in the
warehouse in one transaction. `tkpk validate` runs the same checks without the warehouse.

The DAG calls `discover`, `load_submission` (catching `BatchRejected`) and nothing else; the CLI calls
`validate_file`. No Airflow imports here.
"""

from tkpk.ingest.errors import BatchRejected, FileRejected


def discover(settings, period, opd=None, storage_options=None):
    from tkpk.ingest.landing import discover as _discover

    return _discover(settings, period, opd=opd, storage_options=storage_options)


def load_submission(settings, period, opd_code, submission_type, *, run_id=None, storage_options=None):
    from tkpk.ingest.load import load_submission as _load

    return _load(settings, period, opd_code, submission_type, run_id=run_id, storage_options=storage_options)


def validate_file(path, submission_type, period=None, **kwargs):
    from tkpk.ingest.validate import validate_file as _validate

    return _validate(path, submission_type, period, **kwargs)


__all__ = ["BatchRejected", "FileRejected", "discover", "load_submission", "validate_file"]
