"""The failure alert to the data stewards (opds.yaml `stewards`), wired by the DAG as its one failure callback.

Says which DAG and task failed, for which period, the error in one line with every NIK/No KK masked, and how to
re-run (clear the failed task, or trigger with `period` and `opd`). Subject:
`[TKPK Kota Jambi] Gagal: tkpk_monthly / load Oktober 2026`.

The alert must go out even when the warehouse is what failed: the send log entry is best effort, and the
Message-ID is derived from the failure itself, so a callback that fires twice for one failure is recognisable.

A failed run of `tkpk_monthly` sends ONE alert (the DAG's failure callback) listing every task that failed for an
infrastructure reason (`failures`) and the step that resumes the run. If the mail server itself is what failed, the
alert is kept as a file under `{var_dir}/alerts/pending/` and `flush_pending_alerts` delivers it once when SMTP is
back (the next run's first task, or the next alert), so it is neither dropped nor sent twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import UTC, datetime

from tkpk.normalize.nik import mask_text
from tkpk.notify.mime import as_bytes, build_message
from tkpk.notify.smtp import RecipientRefused, SendFailed, SmtpClient, SmtpSettings
from tkpk.period import Period
from tkpk.reports.render import REVISION_MARKER, SUBJECT_PREFIX, render_html, render_text

log = logging.getLogger(__name__)
MAX_ERROR = 400


def one_line(error: object) -> str:
    """The error as one masked line: the last non-empty line of a traceback, whitespace collapsed, cut at 400."""
    text = str(error or "").strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith("Traceback"):
        text = lines[-1]
    text = re.sub(r"\s+", " ", text)
    text = mask_text(text)
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


def alert_subject(dag_id: str, task_id: str, period: str | None, verdict: str = "Gagal") -> str:
    label = _label(period)
    return f"{SUBJECT_PREFIX} {verdict}: {dag_id} / {task_id}" + (f" {label}" if label else "")


def _label(period: str | None) -> str:
    try:
        return Period.parse(period).label() if period else ""
    except ValueError:
        return str(period)


def send_failure_alert(settings, smtp: SmtpSettings, *, dag_id: str, task_id: str, period: str | None, error: str,
                       run_id: str | None = None, log_url: str | None = None, config=None,
                       client: SmtpClient | None = None, failures: list[dict] | None = None,
                       resume: list[str] | None = None, verdict: str = "Gagal", lead: str | None = None) -> None:
    """E-mail the stewards that a task (or, with `failures`, a run) failed. `failures`: one dict per failed task
    (task_id, what, error); `resume`: the steps that resume the run, in Indonesian. `verdict` and `lead` word an
    alert that is not a failure (the day-10 deadline: "Terlambat", "Menunggu persetujuan"): the subject's word
    and the opening sentence; `error` is then the state, not an error. If the mail server cannot be reached, the
    messages not delivered are kept for `flush_pending_alerts` and `SendFailed` is raised."""
    from tkpk.config import load_config

    config = config or load_config(settings.config_dir)
    stewards = list(config.opds.stewards)
    if not stewards:
        log.warning("Tidak ada steward di opds.yaml: peringatan kegagalan %s/%s tidak dikirim", dag_id, task_id)
        return
    line = one_line(error)
    label = _label(period)
    failures = [dict(f, error=one_line(f.get("error"))) for f in failures or []]
    opds = sorted({f["opd"] for f in failures if f.get("opd")})  # one failed load: name it in the re-run command
    kinds = sorted({f["submission_type"] for f in failures if f.get("submission_type")})
    context = dict(opd=opds[0] if len(opds) == 1 else None, submission_type=kinds[0] if len(kinds) == 1 else None)
    context |= dict(dag_id=dag_id, task_id=task_id, period=period, period_label=label, error=line, run_id=run_id,
                   log_url=log_url, subject=alert_subject(dag_id, task_id, period, verdict), failures=failures,
                   resume=resume or [], verdict=verdict, lead=lead,
                   error_label="Kesalahan" if lead is None else "Keadaan",
                   heading=f"{verdict}: {dag_id} / {task_id}", subheading=f"Periode {label}" if label else "")
    html = render_html(settings.templates_dir, "failure_alert.html", **context).replace(REVISION_MARKER, "")
    text = render_text(settings.templates_dir, "failure_alert.txt", **context)
    sender = smtp.sender or str(config.recipients.sender)
    domain = sender.rsplit("@", 1)[-1]
    # The same failure (DAG, task, period, error) is one alert: a re-run that fails the same way, e.g. the same
    # rejected file, does not alert the stewards again. The run is not part of the identity for that reason.
    identity = [dag_id, task_id, str(period), line] + [f"{f.get('task_id')}:{f['error']}" for f in failures]
    digest = hashlib.sha256("|".join(identity).encode()).hexdigest()
    flush_pending_alerts(settings, smtp)
    already = _already_sent(settings, period, task_id, digest)
    own_client = client is None
    client = client or SmtpClient(smtp)
    delivered = 0
    undelivered: list[tuple[str, str, bytes]] = []
    try:
        for steward in stewards:
            if str(steward.email) in already:
                continue
            who = hashlib.sha256(str(steward.email).lower().encode()).hexdigest()[:12]
            msg_id = f"<tkpk.alert.{digest[:16]}.{who}@{domain}>"
            msg = build_message(subject=context["subject"], sender=sender, sender_name=config.recipients.sender_name,
                                to_email=str(steward.email), to_name=steward.name, html=html, text=text,
                                msg_id=msg_id, headers={"X-TKPK-Report": "alert", "X-Priority": "2"})
            data = as_bytes(msg)
            try:
                client.deliver(data, sender, str(steward.email))
            except RecipientRefused as exc:
                log.warning("Peringatan kegagalan: satu steward ditolak server (%s)", exc.code)
                _log_send(settings, period, task_id, str(steward.email), digest, msg_id, "refused")
                continue
            except SendFailed:
                # The mail server is down: keep this and every remaining steward's alert for later delivery.
                undelivered.append((str(steward.email), msg_id, data))
                for rest in stewards[stewards.index(steward) + 1:]:
                    if str(rest.email) in already:
                        continue
                    who = hashlib.sha256(str(rest.email).lower().encode()).hexdigest()[:12]
                    rest_id = f"<tkpk.alert.{digest[:16]}.{who}@{domain}>"
                    undelivered.append((str(rest.email), rest_id, as_bytes(build_message(
                        subject=context["subject"], sender=sender, sender_name=config.recipients.sender_name,
                        to_email=str(rest.email), to_name=rest.name, html=html, text=text, msg_id=rest_id,
                        headers={"X-TKPK-Report": "alert", "X-Priority": "2"}))))
                _keep_pending(settings, period, task_id, digest, sender, undelivered)
                raise
            delivered += 1
            _log_send(settings, period, task_id, str(steward.email), digest, msg_id, "sent")
    finally:
        if own_client:
            client.close()
    log.info("Peringatan kegagalan %s/%s dikirim ke %d steward", dag_id, task_id, delivered)


def _already_sent(settings, period, task_id, digest) -> set[str]:
    """Stewards who already received this very alert (best effort: if the warehouse is down, alert anyway)."""
    try:
        from sqlalchemy import select

        from tkpk.warehouse import session_scope
        from tkpk.warehouse.models import SendLog

        with session_scope(settings.database_url) as s:
            return set(s.scalars(select(SendLog.recipient).where(
                SendLog.period == (period or "")[:7], SendLog.report == f"alert:{task_id}"[:64],
                SendLog.content_hash == digest, SendLog.status == "sent")))
    except Exception as exc:  # noqa: BLE001 - the alert matters more than its de-duplication
        log.warning("Log kirim tidak terbaca (%s); peringatan tetap dikirim", type(exc).__name__)
        return set()


def _log_send(settings, period, task_id, recipient, digest, msg_id, status) -> None:
    """Best effort: the alert matters more than its log line (the warehouse may be what failed)."""
    try:
        from tkpk.warehouse import session_scope
        from tkpk.warehouse.models import SendLog

        now = datetime.now(UTC)
        with session_scope(settings.database_url) as s:
            s.add(SendLog(period=(period or "")[:7], report=f"alert:{task_id}"[:64], recipient=recipient,
                          content_hash=digest, revision=0, message_id=msg_id, status=status, attempted_at=now,
                          sent_at=now if status == "sent" else None))
    except Exception as exc:  # noqa: BLE001 - logging the alert must never stop the alert
        log.warning("Catatan kirim peringatan tidak tersimpan (%s)", type(exc).__name__)


def _pending_dir(settings):
    return settings.var_dir / "alerts" / "pending"


def _keep_pending(settings, period, task_id, digest, sender, undelivered) -> None:
    """One file per undelivered message, named by its Message-ID (writing it twice keeps one copy)."""
    folder = _pending_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    for recipient, msg_id, data in undelivered:
        name = hashlib.sha256(msg_id.encode()).hexdigest()[:24]
        (folder / f"{name}.eml").write_bytes(data)
        meta = dict(period=period, task_id=task_id, digest=digest, sender=sender, recipient=recipient, msg_id=msg_id)
        (folder / f"{name}.json").write_text(json.dumps(meta))
    log.warning("Server SMTP tidak dapat dihubungi: %d peringatan disimpan dan dikirim saat server kembali",
                len(undelivered))


def flush_pending_alerts(settings, smtp: SmtpSettings, *, client: SmtpClient | None = None) -> int:
    """Deliver the alerts kept while the mail server was down, each once (its file is removed after delivery).
    Never raises: a server still down leaves the files for the next attempt. Returns how many were delivered."""
    folder = _pending_dir(settings)
    metas = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not metas:
        return 0
    own_client = client is None
    client = client or SmtpClient(smtp)
    delivered = 0
    try:
        for meta_path in metas:
            eml = meta_path.with_suffix(".eml")
            meta = json.loads(meta_path.read_text())
            try:
                client.deliver(eml.read_bytes(), meta["sender"], meta["recipient"])
                status = "sent"
            except RecipientRefused:
                status = "refused"
            except (SendFailed, OSError) as exc:
                log.warning("Peringatan tertunda belum terkirim (%s); dicoba lagi nanti", type(exc).__name__)
                break
            _log_send(settings, meta["period"], meta["task_id"], meta["recipient"], meta["digest"], meta["msg_id"],
                      status)
            eml.unlink(missing_ok=True)
            meta_path.unlink(missing_ok=True)
            delivered += status == "sent"
    finally:
        if own_client:
            client.close()
    if delivered:
        log.info("%d peringatan kegagalan yang tertunda sudah terkirim", delivered)
    return delivered
