"""`tkpk validate FILE --type TYPE [--period YYYY-MM] [--json]`: check a file exactly as the monthly load would,
without touching the warehouse, so an OPD officer or a steward can fix a file before sending it.

Exit codes: 0 the file would be accepted (even with row errors), 2 it would be rejected (the JSON is still printed
with --json), 1 a usage error (unknown type, no such file, bad period; message on stderr, no JSON).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tkpk.cli.options import add_period
from tkpk.quality.findings import SEVERITY_LABEL
from tkpk.quality.messages import column_label

HUMAN_LIMIT = 50


def strict_usage(parser) -> None:
    """argparse exits with 2 on a usage error; these commands reserve 2 for 'rejected', so a usage error (also an
    unknown option, which argparse would leave to the top-level parser) exits 1 with the message on stderr."""
    import argparse

    def error(message: str):
        parser.print_usage(sys.stderr)
        print(f"Kesalahan: {message}", file=sys.stderr)
        sys.exit(1)

    def parse_known_args(args=None, namespace=None):
        namespace, extras = argparse.ArgumentParser.parse_known_args(parser, args, namespace)
        if extras:
            error(f"argumen tidak dikenal: {' '.join(extras)}")
        return namespace, []

    parser.error = error
    parser.parse_known_args = parse_known_args


def register(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="periksa berkas kiriman OPD tanpa memuatnya ke gudang data",
        description="Memeriksa berkas persis seperti pemuatan bulanan. Kode keluar: 0 diterima, 2 ditolak, "
                    "1 salah pemakaian.",
    )
    p.add_argument("file", metavar="BERKAS", help="berkas .xlsx/.xls/.ods/.csv")
    p.add_argument("--type", required=True, dest="type_code", metavar="JENIS", help="jenis kiriman, mis. dinsos_kpm")
    add_period(p, required=False,
               help="periode laporan; tanggal acuan E = hari terakhirnya (bawaan: bulan lalu, periode yang "
                    "diproses run bulanan berikutnya)")
    p.add_argument("--json", action="store_true", help="cetak hasil sebagai satu objek JSON")
    strict_usage(p)
    p.set_defaults(func=run)


def prepare(type_code: str | None, file: str):
    """Resolve the type and file or raise UsageError (exit 1); `--period` is checked by its option type."""
    from tkpk.cli import UsageError
    from tkpk.config import load_config
    from tkpk.settings import Settings

    settings = Settings.from_env()
    config = load_config(settings.config_dir)
    try:
        stype = config.types.get(type_code) if type_code else None
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None
    path = Path(file)
    if not path.exists():
        raise UsageError(f"Berkas '{file}' tidak ditemukan.")
    if not path.is_file():
        raise UsageError(f"'{file}' bukan berkas.")
    return settings, config, stype


def run(args) -> int:
    from tkpk.ingest.validate import validate_file

    settings, config, stype = prepare(args.type_code, args.file)
    period = str(args.period) if args.period else None
    result = validate_file(args.file, stype.code, period, settings=settings, config=config)
    result.file = args.file
    columns = [c.name for c in stype.columns]
    if args.json:
        json.dump(result.to_json(columns), sys.stdout, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
    else:
        print_human(result, stype)
        from tkpk.ingest.sniff import better_type

        other = better_type(Path(args.file).read_bytes(), Path(args.file).name, config, stype.code)
        if other is not None:
            print(f"\nCatatan: berkas ini tampaknya data {other.name} ({other.code}), bukan {stype.name}: kolomnya "
                  f"lebih cocok dengan jenis {other.code}. Periksa --type.")
    return 0 if result.accepted else 2


def print_human(result, stype, out=None) -> None:
    out = out or sys.stdout
    from tkpk.period import Period

    label = Period.parse(result.period).label()
    counts = result.counts()
    w = out.write
    w(f"Berkas   : {result.file}\n")
    w(f"Jenis    : {stype.code} ({stype.name})\n")
    w(f"Periode  : {label}\n")
    status = "DITERIMA" if result.accepted else "DITOLAK"
    w(f"Hasil    : {status}\n")
    if result.accepted:
        w(f"Baris    : {result.rows_total} baris data, {result.rows_valid} akan dipakai, "
          f"{result.rows_total - result.rows_valid} salah (tidak dipakai sampai diperbaiki)\n")
    else:
        w(f"Baris    : {result.rows_total} baris data; tidak ada yang dipakai karena berkas ditolak\n")
    w(f"Temuan   : {counts['critical']} kritis, {counts['error']} galat, {counts['warning']} peringatan\n")
    if result.issues:
        w("\nTemuan:\n")
        for f in result.issues[:HUMAN_LIMIT]:
            where = []
            if f.sheet:
                where.append(f"sheet '{f.sheet}'")
            if f.row is not None:
                where.append(f"baris {f.row}")
            if f.header:
                where.append(f"kolom '{f.header}'")
            elif f.column and f.row is not None:
                where.append(f"kolom '{column_label(f.column)}'")
            place = ", ".join(where) or "berkas"
            value = f" (isi sel: '{f.value}')" if f.value not in (None, "") else ""
            w(f"  [{SEVERITY_LABEL.get(f.severity, f.severity)}] {place}: {f.message}{value}\n")
        if len(result.issues) > HUMAN_LIMIT:
            w(f"  ... dan {len(result.issues) - HUMAN_LIMIT} temuan lain (gunakan --json untuk daftar lengkap).\n")
    if result.accepted:
        if result.rows_total - result.rows_valid:
            w("\nBerkas akan diterima; baris yang salah tidak dimuat sampai diperbaiki dan dikirim ulang.\n")
        else:
            w("\nBerkas akan diterima.\n")
    else:
        w("\nBerkas akan DITOLAK seluruhnya. Perbaiki temuan kritis di atas, lalu periksa ulang.\n")
