"""Send every built report of a period to every recipient, exactly once, with the send log (DESIGN.md section 8).

Step 6 of the monthly run. The send log is keyed by (period, report, recipient) and records the hash of the
report's DATA (`content_hash` in the manifest; for `pii: true` recipients the hash also covers the by-name lists),
never of the MIME bytes, whose boundaries change on every build. For each (report, recipient):

- a row `sending` with the same hash is a delivery whose outcome is unknown (the task died between the server
  accepting and the log being written): the message is sent again with the SAME Message-ID, the one duplicate a
  mail client recognises, then logged `sent`;
- already `sent` with the same hash: nothing happens (an unchanged re-run or a retried task sends nothing), unless
  `resend=True`, which sends one more copy per run (`resent`, audit_log);
- otherwise the report is new or changed: revision 0 the first time, then 1, 2, ... with `[REVISI] ` before the
  subject and a References header pointing at the previous copy.

Each row is committed before the SMTP transaction (`sending`) and after it (`sent`/`refused`/`failed`), so a crash
anywhere leaves a log the next attempt can act on. A refused recipient is logged and the others continue; a server
that stays unreachable after the retries raises `SendFailed` (the task fails; its retry sends only what is left).
"""

from __future__ import annotations

import logging
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update

from tkpk.normalize.nik import mask_text
from tkpk.notify.mime import as_bytes, build_message, message_id
from tkpk.notify.smtp import RecipientRefused, SendFailed, SmtpClient, SmtpSettings
from tkpk.period import Period
from tkpk.reports.render import subject as make_subject
from tkpk.reports.render import with_lists_too_large, with_revision
from tkpk.warehouse import audit, session_scope
from tkpk.warehouse.models import SendLog

log = logging.getLogger(__name__)

DELIVERED = ("sent", "resent")
UNCONFIRMED = "unconfirmed"  # a `sending` row left behind when the report changed: it may have been delivered


@dataclass
class Plan:
    action: str  # skip | send
    status_after: str = "sent"
    revision: int = 0
    copy: int = 0
    message_id: str | None = None
    references: str | None = None
    row_id: int | None = None  # an existing `sending` row to complete


def _now() -> datetime:
    return datetime.now(UTC)


def plan_delivery(rows: list[SendLog], content_hash: str, *, resend: bool, run_id: str | None) -> Plan:
    """Decide what to do for one (period, report, recipient) from its send-log rows (oldest first)."""
    delivered = [r for r in rows if r.status in DELIVERED]
    pending = [r for r in rows if r.status == "sending" and r.content_hash == content_hash]
    same = [r for r in delivered if r.content_hash == content_hash]
    if pending:
        row = pending[-1]
        return Plan("send", status_after="resent" if same else "sent", revision=row.revision,
                    message_id=row.message_id, row_id=row.send_id,
                    references=delivered[-1].message_id if delivered else None)
    if delivered and delivered[-1].content_hash == content_hash:
        last = delivered[-1]
        if not resend:
            return Plan("skip", revision=last.revision)
        if run_id and any(r.status == "resent" and r.run_id == run_id and r.content_hash == content_hash
                          for r in rows):
            return Plan("skip", revision=last.revision)  # this run already resent it: a task retry
        return Plan("send", status_after="resent", revision=last.revision, copy=len(same),
                    references=last.message_id)
    maybe_delivered = delivered + [r for r in rows if r.status in ("sending", UNCONFIRMED)]
    revision = max((r.revision for r in maybe_delivered), default=-1) + 1
    return Plan("send", status_after="sent", revision=revision,
                references=delivered[-1].message_id if delivered else None)


class _PiiAttachments:
    """By-name XLSX per report, built from the warehouse in the send step, only when a recipient needs it, once for
    all its recipients (the manifest lists a report's recipients together: only the current report is kept). One
    read connection serves every report, so a query repeated per scope runs once (`reuse_results`); no transaction is
    left open on it while messages go out."""

    def __init__(self, settings, period: Period, config):
        self.settings, self.period, self.config = settings, period, config
        self._data = None
        self._conn = None
        self._stack = ExitStack()
        self._key: tuple | None = None
        self._blob: bytes | int | None = None

    def get(self, entry: dict, max_bytes: int | None = None) -> bytes | int:
        """The workbook, or its estimated size (int) when that alone exceeds `max_bytes` (nothing is written)."""
        key = (entry["report"], entry["scope"], max_bytes)
        if key != self._key:
            from tkpk.reports.figures import Scope
            from tkpk.reports.lists import lists_data, pii_workbook
            from tkpk.reports.sql import reuse_results
            from tkpk.warehouse import get_engine

            self._key, self._blob = None, None  # the previous report's list is not kept beside the next one
            if self._conn is None:
                self._conn = self._stack.enter_context(get_engine(self.settings.database_url).connect())
                self._stack.enter_context(reuse_results(self._conn))
            try:
                if self._data is None:
                    self._data = lists_data(self._conn, self.settings.sql_dir, self.period)
                self._blob = pii_workbook(
                    self._conn, self.settings.sql_dir, self._data, self.config, Scope.parse(entry["scope"]),
                    f"Daftar nama {entry['title']} {entry['period_label']}", max_bytes)
            finally:
                self._conn.rollback()
            self._key = key
        return self._blob

    def close(self) -> None:
        self._key, self._blob = None, None
        self._stack.close()


def send_reports(settings, period: str, smtp: SmtpSettings, *, resend: bool = False, actor: str = "tkpk",
                 run_id: str | None = None, config=None, client: SmtpClient | None = None) -> dict:
    """Send every report built for `period` (see the module docstring). Returns counts only (XCom-safe)."""
    from tkpk.config import load_config
    from tkpk.reports.build import load_manifest

    period_obj = Period.parse(period)
    config = config or load_config(settings.config_dir)
    manifest = load_manifest(settings, str(period_obj))
    sender = smtp.sender or str(config.recipients.sender)
    sender_name = config.recipients.sender_name
    domain = sender.rsplit("@", 1)[-1]
    counts: Counter = Counter()
    refused_reports: list[str] = []
    resent_reports: list[str] = []
    pii = _PiiAttachments(settings, period_obj, config)
    own_client = client is None
    client = client or SmtpClient(smtp)
    try:
        for entry in manifest["reports"]:
            folder = Path(settings.reports_dir) / str(period_obj) / entry["dir"]
            for rcpt in entry["recipients"]:
                outcome = _send_one(settings, client, entry, folder, rcpt, period_obj, sender=sender,
                                    sender_name=sender_name, domain=domain, resend=resend, run_id=run_id, pii=pii)
                counts[outcome] += 1
                if outcome == "refused":
                    refused_reports.append(entry["report"])
                if outcome == "resent":
                    resent_reports.append(entry["report"])
    finally:
        pii.close()
        if own_client:
            client.close()
        if resent_reports:
            with session_scope(settings.database_url) as s:
                audit(s, actor=actor, action="resend", period=str(period_obj), run_id=run_id,
                      messages=len(resent_reports), reports=sorted(set(resent_reports)))
    result = {
        "period": str(period_obj),
        "sent": counts["sent"],
        "revisions": counts["revisi"],
        "resent": counts["resent"],
        "skipped": counts["skipped"],
        "refused": counts["refused"],
        "refused_reports": sorted(set(refused_reports)),
    }
    log.info("Kirim laporan %s: %d terkirim, %d revisi, %d dikirim ulang, %d tidak berubah (dilewati), %d ditolak",
             period_obj, result["sent"], result["revisions"], result["resent"], result["skipped"], result["refused"])
    return result


def _send_one(settings, client: SmtpClient, entry: dict, folder: Path, rcpt: dict, period: Period, *, sender: str,
              sender_name: str, domain: str, resend: bool, run_id: str | None, pii: _PiiAttachments) -> str:
    email = rcpt["email"]
    wants_pii = bool(rcpt.get("pii")) and bool(entry.get("content_hash_pii"))
    content_hash = entry["content_hash_pii"] if wants_pii else entry["content_hash"]
    key = (str(period), entry["report"], email)
    with session_scope(settings.database_url) as s:
        rows = list(s.scalars(
            select(SendLog).where(SendLog.period == key[0], SendLog.report == key[1], SendLog.recipient == key[2])
            .order_by(SendLog.send_id)
        ))
        plan = plan_delivery(rows, content_hash, resend=resend, run_id=run_id)
        if plan.action == "skip":
            return "skipped"
        # the figures of the version this reader got last: a REVISI names the headline figures changed since
        from tkpk.reports.figures import headline_changes

        last_sent = [r.headline for r in rows if r.status in DELIVERED and r.content_hash != content_hash]
        changes = (headline_changes(last_sent[-1], entry.get("headline"))
                   if last_sent and last_sent[-1] and entry.get("headline") else None)
        # a `sending` row of an older version may or may not have gone out: remember that it might have
        stale = [r.send_id for r in rows if r.status == "sending" and r.content_hash != content_hash]
        if stale:
            s.execute(update(SendLog).where(SendLog.send_id.in_(stale)).values(status=UNCONFIRMED))
        msg_id = plan.message_id or message_id(period=key[0], report=key[1], content_hash=content_hash,
                                               revision=plan.revision, copy=plan.copy, recipient=email, domain=domain)
        if plan.row_id is None:
            row = SendLog(period=key[0], report=key[1], recipient=email, content_hash=content_hash,
                          revision=plan.revision, message_id=msg_id, status="sending", attempted_at=_now(),
                          run_id=run_id, headline=entry.get("headline"))
            s.add(row)
            s.flush()
            row_id = row.send_id
        else:
            row_id = plan.row_id
            s.execute(update(SendLog).where(SendLog.send_id == row_id).values(attempted_at=_now(), run_id=run_id))

    raw_html = (folder / entry["html"]).read_text(encoding="utf-8")
    raw_text = (folder / entry["text"]).read_text(encoding="utf-8")
    html, text = with_revision(raw_html, raw_text, plan.revision, changes)
    images = [(img["cid"], img["file"], (folder / img["file"]).read_bytes()) for img in entry["images"]]
    attachments = [(a["file"], (folder / a["file"]).read_bytes(), a["content_type"]) for a in entry["attachments"]]

    def message(html: str, text: str, attachments: list) -> bytes:
        return as_bytes(build_message(
            subject=make_subject(entry["title"], entry["period_label"], plan.revision),
            sender=sender, sender_name=sender_name, to_email=email, to_name=rcpt.get("name"), html=html, text=text,
            images=images, attachments=attachments, msg_id=msg_id, references=plan.references,
            headers={"X-TKPK-Report": entry["report"], "X-TKPK-Period": key[0],
                     "X-TKPK-Revision": str(plan.revision), "X-TKPK-Content-Hash": content_hash[:16]},
        ))

    if not wants_pii:
        data = message(html, text, attachments)
    else:
        from tkpk.reports.build import XLSX_TYPE

        limit = client.max_message_bytes()
        # base64 makes an attachment 4/3 larger on the wire: a list whose estimate alone is over is not written
        blob = pii.get(entry, max_bytes=limit * 3 // 4)
        if isinstance(blob, int):  # the estimated size: never written
            size, data = blob, None
        else:
            size = len(blob)
            data = message(html, text, [*attachments, (entry["pii_attachment"], blob, XLSX_TYPE)])
        if data is None or wire_size(data) > limit:
            # Too large for the mail server: the report goes without the by-name list and says so; the steward
            # hands the list over with `tkpk report lists`. A refused 552 would lose the whole report instead.
            mb = 1024 * 1024
            html_n, text_n = with_revision(*with_lists_too_large(raw_html, raw_text, size / mb, limit / mb),
                                           plan.revision, changes)
            data = message(html_n, text_n, attachments)
            log.warning("Laporan %s: daftar nama %.1f MB melebihi batas e-mail %.1f MB; dikirim tanpa lampiran "
                        "daftar nama (serahkan dengan `tkpk report lists --period %s --scope %s`)",
                        entry["report"], size / mb, limit / mb, key[0], entry["scope"])
    try:
        client.deliver(data, sender, email)
    except RecipientRefused as exc:
        _finish(settings, row_id, "refused", error=mask_text(str(exc))[:1000])
        log.warning("Laporan %s: satu penerima ditolak server (%s); penerima lain tetap dikirimi",
                    entry["report"], exc.code)
        return "refused"
    except SendFailed as exc:
        _finish(settings, row_id, "failed", error=mask_text(str(exc))[:1000])
        raise
    _finish(settings, row_id, plan.status_after, sent=True)
    if plan.status_after == "resent":
        return "resent"
    return "revisi" if plan.revision > 0 else "sent"


def wire_size(data: bytes) -> int:
    """Bytes of the message as the server counts them: every line ends in CRLF on the wire (RFC 5321)."""
    return len(data) + data.count(b"\n") - data.count(b"\r\n")


def _finish(settings, row_id: int, status: str, *, error: str | None = None, sent: bool = False) -> None:
    values = {"status": status, "error": error}
    if sent:
        values["sent_at"] = _now()
    with session_scope(settings.database_url) as s:
        s.execute(update(SendLog).where(SendLog.send_id == row_id).values(**values))
