"""MIME messages that display right in Gmail and Outlook.

    multipart/mixed
      multipart/alternative
        text/plain                      (the whole report as text)
        multipart/related
          text/html                     (CSS inlined, charts as <img src="cid:...">)
          image/png ...                 (Content-ID, inline)
      application/vnd...sheet ...       (XLSX attachments)

Built with the standard library's `email.message.EmailMessage` (the SMTP provider's hook attaches everything as
octet-stream with no text part, so it cannot make this). The Message-ID is given by the caller and deterministic, so a
message sent twice in the crash window is recognised by mail clients as the same message.
"""

from __future__ import annotations

import hashlib
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate


def message_id(*, period: str, report: str, content_hash: str, revision: int, copy: int, recipient: str,
               domain: str) -> str:
    """`<tkpk.2026-10.kota.r0.c0.3f2a...@jambikota.example>`: the same inputs give the same id."""
    slug = report.replace(":", "-")
    who = hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:12]
    return f"<tkpk.{period}.{slug}.r{revision}.c{copy}.{content_hash[:12]}.{who}@{domain}>"


def build_message(*, subject: str, sender: str, sender_name: str, to_email: str, to_name: str | None, html: str,
                  text: str, images: list[tuple[str, str, bytes]] = (),
                  attachments: list[tuple[str, bytes, str]] = (), msg_id: str, references: str | None = None,
                  headers: dict[str, str] | None = None) -> EmailMessage:
    """images: (content_id without brackets, filename, png bytes); attachments: (filename, bytes, content type)."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = Address(display_name=sender_name, addr_spec=sender)
    msg["To"] = Address(display_name=to_name or "", addr_spec=to_email)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = msg_id
    if references:
        msg["In-Reply-To"] = references
        msg["References"] = references
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(text, subtype="plain", charset="utf-8")
    msg.add_alternative(html, subtype="html", charset="utf-8")
    html_part = msg.get_payload()[1]
    html_part.make_related()  # the same shape with or without charts
    if images:
        for cid, filename, png in images:
            html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>", filename=filename,
                                  disposition="inline")
    for filename, blob, content_type in attachments:
        maintype, subtype = content_type.split("/", 1)
        msg.add_attachment(blob, maintype=maintype, subtype=subtype, filename=filename)
    if not attachments:
        # keep the documented shape (mixed > alternative) even without attachments
        msg.make_mixed()
    return msg


# Headers are not folded below RFC 5322's hard limit of 998: the standard library folds a long subject or
# Message-ID by moving the whole value to a continuation line, which parsers then read with a leading space.
_WIRE = SMTP.clone(max_line_length=998)


def as_bytes(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=_WIRE)
