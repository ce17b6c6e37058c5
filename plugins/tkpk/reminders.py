"""Deadline reminders: three days (configurable) before an OPD's deadline, OPDs that have not sent their monthly file
get a reminder in Indonesian, with a copy to the stewards. Sent once per (period, OPD, recipient) through the send log.

The files for period P are due on the OPD's `deadline_day` of the month after P (opds.yaml). A daily run sends on any
day from the reminder day up to the deadline, so a missed day catches up, and the send log keeps it to one message.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from tkpk.config import load_config
from tkpk.ingest.landing import deadline_for, received_files
from tkpk.notify.mime import as_bytes, build_message
from tkpk.notify.smtp import RecipientRefused, SmtpClient, SmtpSettings
from tkpk.period import Period
from tkpk.quality.messages import tanggal
from tkpk.reports.render import SUBJECT_PREFIX, render_html, render_text
from tkpk.settings import Settings
from tkpk.warehouse import session_scope
from tkpk.warehouse.models import SendLog

log = logging.getLogger(__name__)


def due_reminders(settings: Settings, today: date, config=None) -> list[dict]:
    """OPDs (required, with contacts) whose reminder window includes `today` and that have not delivered every
    submission type for the period, by the same rule as `discover` (`received_files`): a lock file or an older file
    moved to `_diganti/` is not a delivery."""
    config = config or load_config(settings.config_dir)
    period = Period(today.year, today.month).previous()
    out = []
    for opd in config.opds.opds:
        if not opd.required or not opd.contacts:
            continue
        deadline = deadline_for(period, opd.deadline_day)
        if not deadline - timedelta(days=config.opds.reminder_days_before) <= today <= deadline:
            continue
        if all(received_files(settings, period, opd).values()):
            continue
        out.append({"opd_code": opd.code, "period": str(period), "deadline": deadline.isoformat(),
                    "days_left": (deadline - today).days})
    return out


def send_reminders(settings: Settings, smtp: SmtpSettings, today: date, *, config=None) -> dict:
    """Send the due reminders; returns counts (no personal data)."""
    config = config or load_config(settings.config_dir)
    due = due_reminders(settings, today, config)
    sender = smtp.sender or str(config.recipients.sender)
    domain = sender.rsplit("@", 1)[-1]
    sent = skipped = refused = 0
    with SmtpClient(smtp) as client:
        for item in due:
            opd = config.opds.get(item["opd_code"])
            period = Period.parse(item["period"])
            deadline = date.fromisoformat(item["deadline"])
            types = [config.types.get(code) for code in opd.submissions]
            context = dict(
                opd_name=opd.name, opd_code=opd.code, period=str(period), period_label=period.label(),
                deadline_label=tanggal(deadline),
                days_left=item["days_left"], submission_names=[t.name for t in types],
                submission_codes=[t.code for t in types],
                landing_folder=f"{settings.landing_url.rstrip('/')}/{period}/{opd.code}/",
                subject=f"{SUBJECT_PREFIX} Pengingat Data {opd.name} {period.label()}",
                heading="Pengingat pengiriman data", subheading=f"{opd.name} - {period.label()}",
            )
            html = render_html(settings.templates_dir, "reminder.html", **context).replace("<!--tkpk:revisi-->", "")
            text = render_text(settings.templates_dir, "reminder.txt", **context)
            report = f"pengingat:{opd.code}"
            digest = hashlib.sha256(f"{period}|{opd.code}|{deadline}".encode()).hexdigest()
            cc = ", ".join(str(s.email) for s in config.opds.stewards)
            recipients = [(c.email, c.name) for c in opd.contacts] + [(s.email, s.name) for s in config.opds.stewards]
            for email, name in recipients:
                email = str(email)
                with session_scope(settings.database_url) as s:
                    done = s.scalar(select(SendLog.send_id).where(
                        SendLog.period == str(period), SendLog.report == report, SendLog.recipient == email,
                        SendLog.status == "sent"))
                if done:
                    skipped += 1
                    continue
                who = hashlib.sha256(email.lower().encode()).hexdigest()[:12]
                msg_id = f"<tkpk.{period}.pengingat-{opd.code}.{digest[:12]}.{who}@{domain}>"
                msg = build_message(subject=context["subject"], sender=sender,
                                    sender_name=config.recipients.sender_name, to_email=email, to_name=name,
                                    html=html, text=text, msg_id=msg_id,
                                    headers={"X-TKPK-Report": report, **({"Cc": cc} if cc else {})})
                status = "sent"
                try:
                    client.deliver(as_bytes(msg), sender, email)
                    sent += 1
                except RecipientRefused:
                    status = "refused"
                    refused += 1
                now = datetime.now(UTC)
                with session_scope(settings.database_url) as s:
                    s.add(SendLog(period=str(period), report=report, recipient=email, content_hash=digest,
                                  revision=0, message_id=msg_id, status=status, attempted_at=now,
                                  sent_at=now if status == "sent" else None))
    log.info("Pengingat: %d OPD belum mengirim, %d e-mail terkirim, %d sudah pernah dikirim, %d ditolak server",
             len(due), sent, skipped, refused)
    return {"due": len(due), "sent": sent, "skipped": skipped, "refused": refused}
