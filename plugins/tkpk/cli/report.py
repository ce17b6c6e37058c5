"""`tkpk report build|send --period YYYY-MM`: build the monthly reports, or send the built ones.

`send` uses the SMTP settings of the environment (TKPK_SMTP_HOST, TKPK_SMTP_PORT, ...; see
`tkpk.notify.SmtpSettings.from_env`) or `--smtp-host/--smtp-port`; the Airflow DAG uses the connection smtp_default.
"""

from __future__ import annotations

import dataclasses

from tkpk.cli import UsageError
from tkpk.settings import Settings


def register(sub) -> None:
    p = sub.add_parser("report", help="buat atau kirim laporan bulanan (HTML, XLSX, e-mail)")
    ps = p.add_subparsers(dest="action", required=True)
    build = ps.add_parser("build", help="hitung angka dan buat semua laporan periode ini di var/reports/PERIODE/")
    build.add_argument("--period", required=True, help="periode laporan, YYYY-MM")
    build.add_argument("--database-url", default=None)
    build.set_defaults(func=run_build)
    send = ps.add_parser("send", help="kirim laporan yang sudah dibuat (sekali per penerima dan isi)")
    send.add_argument("--period", required=True, help="periode laporan, YYYY-MM")
    send.add_argument("--resend", action="store_true",
                      help="kirim sekali lagi laporan yang tidak berubah (dicatat di audit log)")
    send.add_argument("--smtp-host", default=None, help="bawaan: TKPK_SMTP_HOST atau 127.0.0.1")
    send.add_argument("--smtp-port", type=int, default=None, help="bawaan: TKPK_SMTP_PORT atau 25")
    send.add_argument("--database-url", default=None)
    send.set_defaults(func=run_send)


def _settings(args) -> Settings:
    from tkpk.period import Period

    try:
        Period.parse(args.period)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    overrides = {"database_url": args.database_url} if args.database_url else {}
    return Settings.from_env(**overrides)


def run_build(args) -> int:
    from tkpk.reports import build_reports

    settings = _settings(args)
    reports = build_reports(settings, args.period, run_id="cli")
    print(f"{len(reports)} laporan dibuat di {settings.reports_dir / args.period}:")
    for r in reports:
        print(f"  {r['report']:<28} {r['recipients']:>3} penerima")
    return 0


def run_send(args) -> int:
    from tkpk.notify import SendFailed, SmtpSettings, send_reports

    settings = _settings(args)
    smtp = SmtpSettings.from_env()
    if args.smtp_host:
        smtp = dataclasses.replace(smtp, host=args.smtp_host)
    if args.smtp_port:
        smtp = dataclasses.replace(smtp, port=args.smtp_port)
    try:
        result = send_reports(settings, args.period, smtp, resend=args.resend, actor="cli")
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from exc
    except SendFailed as exc:
        print(f"Pengiriman berhenti: {exc}")
        return 2
    print(f"Periode {result['period']}: {result['sent']} terkirim, {result['revisions']} revisi, "
          f"{result['resent']} dikirim ulang, {result['skipped']} tidak berubah (tidak dikirim), "
          f"{result['refused']} ditolak server.")
    if result["refused_reports"]:
        print(f"  Ditolak server untuk laporan: {', '.join(result['refused_reports'])} (lihat send_log).")
    return 0
