"""`tkpk purge --before YYYY-MM-DD [--dry-run] [--json]`: remove archived raw files, quarantined rows and findings
whose retention period (TKPK_RETENTION_YEARS, default 5 years) ended before the date; recorded in audit_log.

Exit codes: 0 done (or nothing to do), 1 a usage error (bad date, bad retention setting).
"""

from __future__ import annotations

import json
from datetime import date

from tkpk.settings import Settings


def register(sub) -> None:
    p = sub.add_parser(
        "purge",
        help="hapus arsip berkas asli dan data karantina yang masa simpannya habis",
        description="Menghapus berkas asli di arsip, baris karantina dan temuan yang masa simpannya (TKPK_RETENTION_"
                    "YEARS, bawaan 5 tahun) berakhir sebelum TANGGAL. Setiap penghapusan dicatat di audit_log.",
    )
    p.add_argument("--before", required=True, metavar="TANGGAL", help="YYYY-MM-DD, mis. tanggal hari ini")
    p.add_argument("--dry-run", action="store_true", help="hanya tampilkan apa yang akan dihapus")
    p.add_argument("--years", type=int, default=None, metavar="N",
                   help="masa simpan dalam tahun untuk data yang belum bertanggal (bawaan: TKPK_RETENTION_YEARS atau 5)")
    p.add_argument("--json", action="store_true", help="keluaran JSON")
    p.add_argument("--actor", default="tkpk-purge", help="nama yang dicatat di audit_log")
    p.set_defaults(func=run)


def run(args) -> int:
    from tkpk.cli import UsageError
    from tkpk.retention import RetentionError, purge, retention_years

    try:
        before = date.fromisoformat(args.before.strip())
    except ValueError:
        raise UsageError(f"Tanggal '{args.before}' tidak valid: gunakan format YYYY-MM-DD, mis. 2031-11-01.") from None
    try:
        years = retention_years(args.years)
        summary = purge(Settings.from_env(), before, dry_run=args.dry_run, years=years, actor=args.actor)
    except RetentionError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print(format_summary(summary))
    return 0


def format_summary(summary: dict) -> str:
    from tkpk.quality.messages import tanggal

    mb = summary["bytes_removed"] / (1024 * 1024)
    verb = "akan dihapus" if summary["dry_run"] else "dihapus"
    lines = [
        f"Pembersihan data yang masa simpannya ({summary['retention_years']} tahun) berakhir sebelum "
        f"{tanggal(date.fromisoformat(summary['before']))}:",
        f"  batch kedaluwarsa        : {summary['expired_batches']}",
        f"  berkas arsip {verb:<12}: {summary['files_removed']} ({mb:.1f} MB; {summary['orphan_files_removed']} "
        "tanpa batch)",
        f"  baris karantina {verb:<9}: {summary['quarantined_rows_removed']}",
        f"  temuan {verb:<18}: {summary['findings_removed']}",
    ]
    if summary["files_kept_shared"]:
        lines.append(f"  berkas tetap disimpan    : {summary['files_kept_shared']} (masih dipakai batch yang belum "
                     "kedaluwarsa)")
    if summary["dry_run"]:
        lines.append("Uji coba (--dry-run): tidak ada yang dihapus.")
    elif any(summary[k] for k in ("files_removed", "quarantined_rows_removed", "findings_removed")):
        lines.append("Dicatat di audit_log (aksi 'purge').")
    else:
        lines.append("Tidak ada data yang kedaluwarsa.")
    return "\n".join(lines)
