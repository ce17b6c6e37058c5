"""The steward's sign-off before the month's e-mails go out (the approval step between build_reports and
send_reports in tkpk_monthly; configured in include/config/accounts.yaml `approval`).

`approval_body` is what the steward reads in Airflow's "Required actions": the headline figures of the city report
and where to preview every report. `record_decision` writes the answer to the audit log under the person who gave
it; `notify_rejected` tells the stewards that nothing was sent. No personal data in any of them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from tkpk.period import Period

log = logging.getLogger(__name__)


def _kota_figures(settings, period: str, manifest: dict) -> dict:
    for entry in manifest.get("reports", []):
        if entry.get("report") == "kota":
            path = Path(settings.reports_dir) / period / entry["dir"] / "data.json"
            if path.exists():
                return json.loads(path.read_text(encoding="utf-8"))
    return {}


def approval_body(settings, period: str, previews_url: str | None = None) -> str:
    """Markdown, in Indonesian: headline figures and the number of e-mails waiting for approval."""
    from tkpk.reports.build import load_manifest
    from tkpk.reports.format import angka, persen

    period = str(Period.parse(period))
    manifest = load_manifest(settings, period)
    entries = manifest.get("reports", [])
    mails = sum(len(e.get("recipients", [])) for e in entries)
    f = _kota_figures(settings, period, manifest)
    lines = [f"**Laporan TKPK periode {Period.parse(period).label()}** menunggu persetujuan sebelum dikirim.", ""]
    if f:
        reg = f.get("registry", {})
        ext = f.get("extreme_poor", {})
        cov = f.get("coverage_any", {})
        lines += [
            f"- Keluarga di registri: {angka(reg.get('households'))}",
            f"- Keluarga miskin ekstrem: {angka(ext.get('households'))}"
            + (f" (bulan lalu {angka(ext['previous'])})" if ext.get("previous") is not None else ""),
            f"- Miskin ekstrem yang menerima minimal satu program: {persen(cov.get('share'))}",
        ]
        for prog in f.get("programs", [])[:8]:
            lines.append(f"- {prog.get('name')}: {angka(prog.get('eligible'))} {prog.get('unit', '')} layak")
    lines += ["", f"{len(entries)} laporan, {mails} e-mail akan dikirim bila disetujui (Approve). "
                  "Tolak (Reject): tidak ada e-mail yang terkirim; steward diberi tahu."]
    if previews_url:
        lines += ["", f"Pratinjau semua laporan: {previews_url}"]
    return "\n".join(lines)


def record_decision(settings, period: str, *, approved: bool, actor: str, run_id: str | None,
                    automatic: bool = False) -> None:
    from tkpk.warehouse import audit, session_scope

    with session_scope(settings.database_url) as s:
        audit(s, actor=actor, action="approve_send" if approved else "reject_send", period=str(period),
              run_id=run_id, automatic=automatic)


def notify_rejected(settings, smtp, period: str, *, actor: str, run_id: str | None, config=None) -> int:
    """E-mail every steward that the month's reports were not sent; returns how many got it."""
    from tkpk.config import load_config
    from tkpk.notify.mime import as_bytes, build_message
    from tkpk.notify.smtp import RecipientRefused, SmtpClient
    from tkpk.reports.render import SUBJECT_PREFIX

    config = config or load_config(settings.config_dir)
    label = Period.parse(period).label()
    subject = f"{SUBJECT_PREFIX} Laporan {label} tidak dikirim (ditolak oleh {actor})"
    text = (f"Laporan TKPK periode {label} tidak dikirim: persetujuan ditolak oleh {actor} (run {run_id}).\n"
            "Perbaiki datanya, lalu jalankan ulang tkpk_monthly untuk periode ini; laporan akan diminta "
            "persetujuannya lagi.\n")
    html = "<p>" + text.replace("\n", "<br>") + "</p>"
    sender = smtp.sender or str(config.recipients.sender)
    domain = sender.rsplit("@", 1)[-1]
    digest = hashlib.sha256(f"{period}|{run_id}".encode()).hexdigest()[:16]
    sent = 0
    with SmtpClient(smtp) as client:
        for steward in config.opds.stewards:
            who = hashlib.sha256(str(steward.email).lower().encode()).hexdigest()[:12]
            msg = build_message(subject=subject, sender=sender, sender_name=config.recipients.sender_name,
                                to_email=str(steward.email), to_name=steward.name, html=html, text=text,
                                msg_id=f"<tkpk.rejected.{digest}.{who}@{domain}>",
                                headers={"X-TKPK-Report": "approval-rejected"})
            try:
                client.deliver(as_bytes(msg), sender, str(steward.email))
                sent += 1
            except RecipientRefused as exc:
                log.warning("Pemberitahuan penolakan: satu steward ditolak server (%s)", exc.code)
    return sent
