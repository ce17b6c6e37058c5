"""Airflow glue shared by the TKPK DAGs: settings from Airflow connections, default args, the failure alert.

This package and the DAG files are the only places that know Airflow (`tkpk` never imports it); every task body is one call into `tkpk.<stage>`.
"""

from __future__ import annotations

import logging
from datetime import timedelta

log = logging.getLogger(__name__)

OWNER = "tkpk-data"
TAGS = {"tkpk", "monthly", "registry", "reminder", "simulation"}  # the house vocabulary (tests check every DAG against it)
LANDING_CONN_ID = "tkpk_landing"
SMTP_CONN_ID = "smtp_default"
# Announced by tkpk_registry when a snapshot loads; an inlet of tkpk_monthly's eligibility step. One definition, so
# the producer and the consumer cannot drift apart.
REGISTRY_ASSET_URI = "tkpk://warehouse/registry_snapshot"


def registry_asset():
    from airflow.sdk import Asset

    return Asset(REGISTRY_ASSET_URI)


def landing_storage_options() -> dict:
    """fsspec storage options for the landing zone from the Airflow connection `tkpk_landing`, if it exists
    (aws/S3 for MinIO: login = access key, password = secret, extra.endpoint_url; sftp: host, port, login, password).
    The domain code receives plain options and never imports Airflow."""
    from airflow.sdk import BaseHook

    try:
        conn = BaseHook.get_connection(LANDING_CONN_ID)
    except Exception:  # noqa: BLE001 - no connection configured: local file:// landing zone
        return {}
    extra = conn.extra_dejson or {}
    if conn.conn_type in ("aws", "s3"):
        options = {"key": conn.login, "secret": conn.password}
        endpoint = extra.get("endpoint_url") or (extra.get("service_config", {}).get("s3", {}) or {}).get("endpoint_url")
        if endpoint:
            options["client_kwargs"] = {"endpoint_url": endpoint}
        return options
    if conn.conn_type == "sftp":
        options = {"host": conn.host, "port": conn.port or 22, "username": conn.login}
        if conn.password:
            options["password"] = conn.password
        if extra.get("key_file"):
            options["client_keys"] = [extra["key_file"]]
        # Only when given: known_hosts=None would switch asyncssh's host-key check off.
        if extra.get("known_hosts"):
            options["known_hosts"] = extra["known_hosts"]
        return options
    return dict(extra)


def settings():
    from tkpk.settings import Settings

    return Settings.from_env(storage_options=landing_storage_options())


def smtp_settings():
    """SMTP settings from the Airflow connection `smtp_default` (TLS as its extras say, like the SMTP provider)."""
    from airflow.sdk import BaseHook

    from tkpk.notify import SmtpSettings

    return SmtpSettings.from_connection(BaseHook.get_connection(SMTP_CONN_ID))


def notify_failure(context) -> None:
    """The one failure callback: an alert to the stewards with the error in one line, personal data masked."""
    from tkpk.normalize.nik import mask_text

    ti = context.get("task_instance") or context.get("ti")
    exc = context.get("exception")
    error = mask_text(" ".join(str(exc).split()))[:500] if exc else "tidak diketahui"
    period = None
    try:
        period = ti.xcom_pull(task_ids="resolve_period")["period"]
    except Exception:  # noqa: BLE001 - the period task itself may be the one that failed
        period = (context.get("params") or {}).get("period") or None
    # A mapped load names its (OPD, type) in its map index ("disnaker/disnaker_bpjstk"); a triggered run its param.
    where = getattr(ti, "rendered_map_index", None)
    opd, submission_type = where.split("/", 1) if isinstance(where, str) and "/" in where else (None, None)
    opd = opd or (context.get("params") or {}).get("opd") or None
    try:
        from tkpk.notify import send_failure_alert

        send_failure_alert(
            settings(), smtp_settings(), dag_id=ti.dag_id, task_id=ti.task_id, period=period, error=error,
            run_id=getattr(ti, "run_id", None), log_url=getattr(ti, "log_url", None), opd=opd,
            submission_type=submission_type,
        )
    except Exception:  # noqa: BLE001 - an alert that cannot be sent must not mask the task failure
        log.exception("Peringatan kegagalan tidak dapat dikirim")


def default_args(**overrides) -> dict:
    args = {
        "owner": OWNER,
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=15),
        "on_failure_callback": notify_failure,
    }
    args.update(overrides)
    return args
