"""Airflow glue shared by the TKPK DAGs: settings from Airflow connections, default args, the failure alert.

This package and the DAG files are the only places that know Airflow (`tkpk` never imports it); every task body is one call into `tkpk.<stage>`.
"""

from __future__ import annotations

import functools
import logging
import os
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


class LandingConnectionMissing(RuntimeError):
    """The landing zone is remote (s3://, sftp://) but the connection `tkpk_landing` does not exist."""


def _landing_url() -> str:
    from tkpk.settings import Settings

    return Settings.from_env().landing_url


def landing_storage_options(landing_url: str | None = None) -> dict:
    """fsspec storage options for the landing zone from the Airflow connection `tkpk_landing`
    (aws/S3 for MinIO: login = access key, password = secret, extra.endpoint_url / region_name; sftp: host, port,
    login, password, key_file, known_hosts). The domain code receives plain options and never imports Airflow.

    A local landing zone (file://) needs no connection. For a remote one the connection is required: a missing
    connection raises LandingConnectionMissing, and a secrets-backend error propagates, so the task fails (and
    retries) instead of reading the landing zone anonymously.

    Hand-written on purpose: the Amazon and SFTP providers are not installed (their hooks would pull boto3 and
    paramiko for two fields each), and `ObjectStoragePath(conn_id=...)` builds its own filesystem while the domain
    package reads through fsspec with plain options and must not import Airflow. The mapping below therefore
    follows the Amazon provider's field names (`endpoint_url`, `region_name`, `service_config.s3.endpoint_url`) and
    the SFTP provider's (`key_file`, `known_hosts`/`host_key`, `no_host_key_check`)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    url = landing_url if landing_url is not None else _landing_url()
    if url.split("://", 1)[0] in ("file", "local", "memory") or "://" not in url:
        return {}
    try:
        conn = BaseHook.get_connection(LANDING_CONN_ID)
    except AirflowNotFoundException:
        raise LandingConnectionMissing(
            f"Zona landing {url.split('://', 1)[0]}:// membutuhkan koneksi Airflow '{LANDING_CONN_ID}', tetapi "
            "koneksi itu tidak ditemukan (periksa secrets backend atau buat koneksinya).") from None
    extra = conn.extra_dejson or {}
    if conn.conn_type in ("aws", "s3"):
        options = {"key": conn.login, "secret": conn.password}
        s3_config = (extra.get("service_config", {}) or {}).get("s3", {}) or {}
        endpoint = extra.get("endpoint_url") or s3_config.get("endpoint_url")
        client_kwargs = {}
        if endpoint:
            client_kwargs["endpoint_url"] = endpoint
        if extra.get("region_name"):
            client_kwargs["region_name"] = extra["region_name"]
        if client_kwargs:
            options["client_kwargs"] = client_kwargs
        return options
    if conn.conn_type == "sftp":
        options = {"host": conn.host, "port": conn.port or 22, "username": conn.login}
        if conn.password:
            options["password"] = conn.password
        if extra.get("key_file"):
            options["client_keys"] = [extra["key_file"]]
        # Only when given: known_hosts=None would switch asyncssh's host-key check off.
        known = extra.get("known_hosts") or extra.get("host_key_file")
        if known:
            options["known_hosts"] = known
        elif extra.get("host_key"):
            # The SFTP provider's `host_key` field: the server's public key itself ("ssh-ed25519 AAAA...").
            import asyncssh

            options["known_hosts"] = asyncssh.import_known_hosts(f"{conn.host} {extra['host_key']}\n")
        return options
    return dict(extra)


def settings():
    from tkpk.settings import Settings

    return Settings.from_env(storage_options=landing_storage_options())


def _plain_settings():
    """Settings without the landing connection: what callbacks need (they never read the landing zone)."""
    from tkpk.settings import Settings

    return Settings.from_env()


def smtp_settings():
    """SMTP settings from the Airflow connection `smtp_default`, opened through the SMTP provider's SmtpHook.

    The hook opens and logs in (SSL or STARTTLS, `ssl_context`, `auth_type` basic/oauth2, `timeout`, as the
    connection form says). Sending stays ours (`tkpk.notify.smtp.SmtpClient.deliver`): SmtpHook.send_email_smtp
    builds its own MIME (every file as an octet-stream attachment, no text/plain part, no Content-ID images), and
    our client keeps one connection per step, classifies replies (transient / refused / fatal) and never logs the
    password. The host/port/login fields below are only for log lines and the EHLO SIZE check."""
    from airflow.sdk import BaseHook

    from tkpk.notify import SmtpSettings

    conn = BaseHook.get_connection(SMTP_CONN_ID)
    base = SmtpSettings.from_connection(conn)
    from dataclasses import replace

    return replace(base, connect=_hook_connect)


def _hook_connect():
    import smtplib

    from airflow.providers.smtp.hooks.smtp import SmtpHook
    from airflow.sdk.exceptions import AirflowException

    hook = SmtpHook(smtp_conn_id=SMTP_CONN_ID)
    try:
        return hook.get_conn()._smtp_client
    except AirflowException as exc:  # "Unable to connect to smtp server": transient for our retry logic
        raise smtplib.SMTPServerDisconnected(str(exc)) from None


# -- failures --------------------------------------------------------------------------------------------------------
class FileRejected(Exception):
    """Marker base: raised (as AirflowFailException) when an OPD's file is rejected; no retry, the month goes on."""


class InfrastructureFailed(Exception):
    """Marker base: raised by the gates when an earlier step failed for an infrastructure reason."""


@functools.cache
def _fail_types():
    from airflow.sdk.exceptions import AirflowFailException

    class Rejected(AirflowFailException, FileRejected):
        pass

    class Infrastructure(AirflowFailException, InfrastructureFailed):
        pass

    return Rejected, Infrastructure


def rejected(message: str) -> Exception:
    return _fail_types()[0](message)


def infrastructure_failed(message: str) -> Exception:
    return _fail_types()[1](message)


def _masked_line(exc) -> str:
    from tkpk.notify.alert import one_line

    return one_line(exc) if exc else "tidak diketahui"


def record_failure(context) -> None:
    """Every task's failure callback (after its last retry): note what failed in this run, for the run's one alert.
    Sends nothing itself: the DAG's failure callback (`alert_run_failure`) sends one alert per failed run."""
    from tkpk.pipeline import record_failure as record

    ti = context.get("task_instance") or context.get("ti")
    exc = context.get("exception")
    kind = "rejected" if isinstance(exc, FileRejected) else "gate" if isinstance(exc, InfrastructureFailed) \
        else "infrastructure"
    try:
        # A mapped load names its (OPD, type) in its map index ("disnaker/disnaker_bpjstk"); a triggered run its
        # param: the alert's re-run command then names them.
        where = getattr(ti, "rendered_map_index", None)
        opd, submission_type = where.split("/", 1) if isinstance(where, str) and "/" in where else (None, None)
        opd = opd or (context.get("params") or {}).get("opd") or None
        record(_plain_settings(), run_id=ti.run_id, task_id=ti.task_id, map_index=getattr(ti, "map_index", -1),
               error_type=type(exc).__name__ if exc else "", error=_masked_line(exc), kind=kind,
               period=_period_of(context), opd=opd, submission_type=submission_type)
    except Exception:  # noqa: BLE001 - the task has failed already; the run alert still names it
        log.exception("Kegagalan tugas tidak tercatat")


def _period_of(context) -> str | None:
    try:
        return context["ti"].xcom_pull(task_ids="resolve_period")["period"]
    except Exception:  # noqa: BLE001 - the period task itself may be the one that failed, or XCom unreachable
        params = context.get("params") or {}
        return params.get("period") or None


def alert_run_failure(context) -> None:
    """The DAG's failure callback: ONE alert per failed run to the stewards, naming every task that failed for an
    infrastructure reason and the exact step that resumes the run. If SMTP is what is down, the alert is kept and
    delivered when SMTP is back (`tkpk.notify.alert.flush_pending_alerts`)."""
    from tkpk.pipeline import resume_steps, run_failures

    dag_run = context.get("dag_run")
    dag = context.get("dag")
    dag_id = getattr(dag, "dag_id", None) or getattr(dag_run, "dag_id", "tkpk")
    run_id = getattr(dag_run, "run_id", None) or context.get("run_id")
    s = _plain_settings()
    failures = run_failures(s, run_id) if run_id else []
    ti = context.get("task_instance") or context.get("ti")
    if not failures and ti is not None:
        failures = [{"task_id": ti.task_id, "what": "tugas gagal", "error": _masked_line(context.get("exception"))}]
    period = _period_of(context) or next((f.get("period") for f in failures if f.get("period")), None)
    first = failures[0] if failures else {"task_id": "run", "error": str(context.get("reason") or "")}
    try:
        from tkpk.notify import send_failure_alert

        send_failure_alert(s, smtp_settings(), dag_id=dag_id, task_id=first["task_id"], period=period,
                           error=first["error"], run_id=run_id, failures=failures,
                           resume=resume_steps(dag_id, run_id, period, failures))
    except Exception:  # noqa: BLE001 - kept for later delivery (SMTP down) or logged; the run is red either way
        log.exception("Peringatan kegagalan run tidak dapat dikirim sekarang")


def flush_pending_alerts() -> None:
    """Best effort at the start of a run: deliver alerts kept while SMTP was down."""
    try:
        from tkpk.notify.alert import flush_pending_alerts as flush

        flush(_plain_settings(), smtp_settings())
    except Exception:  # noqa: BLE001 - never stops the run; the files stay for the next attempt
        log.exception("Peringatan tertunda belum dapat dikirim")


# execution_timeout per task, sized from the province benchmark (BENCHMARKS.md, "Per task in the Airflow run":
# 1,000,000 households on PostgreSQL) at about 10x the province time, never under 5 minutes (imports, a busy shared
# worker), so a hung SFTP/S3 read or database call fails the task (and retries) instead of holding the run until
# the 6-hour dagrun_timeout. Province seconds in the comments; mapped tasks: the slowest instance.
TASK_TIMEOUTS = {
    "resolve_period": 5,  # 3.3 s
    "discover": 10,  # ~1 s of the 17.8 s discover + loads; a slow remote listing
    "load_submission": 15,  # 18.7 s over 22 instances; the largest file a few seconds
    "check_loads": 5,  # one query
    "prepare_linkage": 10,  # 44.7 s
    "link_partition": 5,  # slowest 10.6 s
    "finalize_linkage": 5,  # 26.2 s
    "derive_events": 5,  # 6.2 s
    "compute_eligibility": 5,  # slowest 12.5 s
    "finalize_eligibility": 5,  # 17.5 s
    "build_reports": 10,  # 24.8 s
    "send_reports": 30,  # 45.4 s, plus SMTP backoff (2+4+8 s per message at worst) on a slow server
    "check_outputs": 5,
    "summarize": 5,
    "next_rebuild": 5,
}
DEFAULT_TIMEOUT_MINUTES = 15  # tasks of the small DAGs (registry load: 55 s province; reminders)


def execution_timeout(task_id: str) -> timedelta:
    """The task's execution_timeout; TKPK_TIMEOUT_FACTOR scales every one (e.g. 2 on slower hardware, a small
    factor in the timeout test). Human-approval tasks (wave/15) are exempt: they set execution_timeout=None."""
    factor = float(os.environ.get("TKPK_TIMEOUT_FACTOR", "1"))
    return timedelta(minutes=TASK_TIMEOUTS.get(task_id, DEFAULT_TIMEOUT_MINUTES) * factor)


def poke_interval() -> float:
    """Seconds between checks of a waiting sensor (TKPK_POKE_SECONDS, default 60; the backfill test uses 5)."""
    return float(os.environ.get("TKPK_POKE_SECONDS", "60"))


def retry_delay() -> timedelta:
    """First retry delay (doubled each retry, at most 15 min). TKPK_RETRY_DELAY_SECONDS overrides the 60 s default
    (a slow network may want more; the failure tests use 1 s)."""
    return timedelta(seconds=float(os.environ.get("TKPK_RETRY_DELAY_SECONDS", "60")))


def default_args(**overrides) -> dict:
    args = {
        "owner": OWNER,
        "retries": 2,
        "retry_delay": retry_delay(),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=15),
        "on_failure_callback": record_failure,
        "execution_timeout": execution_timeout("default"),
    }
    args.update(overrides)
    return args
