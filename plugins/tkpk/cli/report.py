"""`tkpk report build|send --period YYYY-MM`: build the monthly reports, or send the built ones.

`send` uses the SMTP settings of the environment (TKPK_SMTP_HOST, TKPK_SMTP_PORT, ...; see
`tkpk.notify.SmtpSettings.from_env`) or `--smtp-host/--smtp-port`; the Airflow DAG uses the connection smtp_default.
"""

from __future__ import annotations

import dataclasses

from tkpk.cli import UsageError
from tkpk.cli.options import add_period
from tkpk.settings import Settings


def register(sub) -> None:
    p = sub.add_parser("report", help="buat atau kirim laporan bulanan (HTML, XLSX, e-mail)")
    ps = p.add_subparsers(dest="action", required=True)
    build = ps.add_parser("build", help="hitung angka dan buat semua laporan periode ini di var/reports/PERIODE/")
    add_period(build)
    build.add_argument("--database-url", default=None)
    build.set_defaults(func=run_build)
    send = ps.add_parser("send", help="kirim laporan yang sudah dibuat (sekali per penerima dan isi)")
    add_period(send)
    send.add_argument("--resend", action="store_true",
                      help="kirim sekali lagi laporan yang tidak berubah (dicatat di audit log)")
    send.add_argument("--smtp-host", default=None, help="bawaan: TKPK_SMTP_HOST atau 127.0.0.1")
    send.add_argument("--smtp-port", type=int, default=None, help="bawaan: TKPK_SMTP_PORT atau 25")
    send.add_argument("--database-url", default=None)
    send.set_defaults(func=run_send)
    lists = ps.add_parser("lists", help="tulis daftar nama (data pribadi, NIK lengkap) satu wilayah ke berkas XLSX, "
                                        "untuk diserahkan lewat jalur aman bila terlalu besar untuk e-mail")
    add_period(lists)
    lists.add_argument("--scope", default="kota",
                       help="kota (bawaan), kecamatan:15.71.01 atau kelurahan:15.71.01.1001")
    lists.add_argument("--out", required=True, help="berkas XLSX tujuan")
    lists.add_argument("--actor", default=None, help="nama petugas yang mengekspor (dicatat di audit log)")
    lists.add_argument("--database-url", default=None)
    lists.set_defaults(func=run_lists)


def _settings(args) -> Settings:
    overrides = {"database_url": args.database_url} if args.database_url else {}
    return Settings.from_env(**overrides)


def run_build(args) -> int:
    from tkpk.reports import build_reports

    settings = _settings(args)
    reports = build_reports(settings, str(args.period), run_id="cli")
    print(f"{len(reports)} laporan dibuat di {settings.reports_dir / str(args.period)}:")
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
        result = send_reports(settings, str(args.period), smtp, resend=args.resend, actor="cli")
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


def run_lists(args) -> int:
    """Export one scope's by-name lists (what a pii recipient's e-mail carries), recorded in the audit log."""
    import getpass
    from pathlib import Path

    from tkpk.config import load_config
    from tkpk.reports.figures import Scope, load_period_data
    from tkpk.reports.lists import pii_workbook
    from tkpk.warehouse import audit, get_engine, session_scope

    settings = _settings(args)
    scope = Scope.parse(args.scope)
    if scope.kind not in ("kota", "kecamatan", "kelurahan") or (scope.kind != "kota") != bool(scope.code):
        raise UsageError(f"--scope tidak dikenal: {args.scope!r}; pakai kota, kecamatan:KODE atau kelurahan:KODE")
    period = args.period
    config = load_config(settings.config_dir)
    with get_engine(settings.database_url).connect() as conn:
        data = load_period_data(conn, settings.sql_dir, period)
        blob = pii_workbook(conn, settings.sql_dir, data, config, scope,
                            f"Daftar nama {scope.name(data.areas)} {period.label()}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(blob)
    with session_scope(settings.database_url) as s:
        audit(s, actor=args.actor or getpass.getuser(), action="export_lists", period=str(period),
              scope=scope.key, bytes=len(blob))
    print(f"Daftar nama {scope.key} periode {period} ditulis ke {out} ({len(blob) / 1024 / 1024:.1f} MB). "
          "RAHASIA: berisi NIK dan No KK lengkap (UU 27/2022); serahkan hanya lewat jalur aman.")
    return 0
