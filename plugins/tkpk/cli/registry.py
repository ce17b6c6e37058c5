"""`tkpk registry load DIR --snapshot-date YYYY-MM-DD` and `tkpk registry list`."""

from __future__ import annotations

from datetime import date

from tkpk.cli import UsageError
from tkpk.settings import Settings


def register(sub) -> None:
    p = sub.add_parser("registry", help="muat atau lihat snapshot registri (DTKS/DTSEN)")
    ps = p.add_subparsers(dest="action", required=True)
    load = ps.add_parser("load", help="muat snapshot dari folder berisi households.csv dan persons.csv")
    load.add_argument("source", help="folder atau URL (file://, s3://, sftp://)")
    load.add_argument("--snapshot-date", required=True, help="tanggal snapshot, YYYY-MM-DD")
    load.add_argument("--database-url", default=None)
    load.set_defaults(func=run_load)
    ls = ps.add_parser("list", help="daftar snapshot yang sudah dimuat")
    ls.add_argument("--database-url", default=None)
    ls.set_defaults(func=run_list)


def run_load(args) -> int:
    from tkpk.registry import RegistryError, load_snapshot

    try:
        snapshot_date = date.fromisoformat(args.snapshot_date)
    except ValueError as exc:
        raise UsageError(f"--snapshot-date '{args.snapshot_date}' bukan tanggal YYYY-MM-DD.") from exc
    url = args.database_url or Settings.from_env().database_url
    try:
        result = load_snapshot(url, args.source, snapshot_date, actor="cli")
    except RegistryError as exc:
        print(f"Snapshot DITOLAK: {exc}")
        return 2
    state = "tidak berubah (berkas sama)" if result["unchanged"] else "dimuat"
    print(f"Snapshot {snapshot_date} {state}: {_count(result['households'])} keluarga, "
          f"{_count(result['persons'])} jiwa.")
    for problem in result["problems"]:
        print(f"  - {problem}")
    return 0


def _count(n: int) -> str:
    """1.234.567: the Indonesian thousands separator."""
    from tkpk.reports.format import angka

    return angka(n)


def run_list(args) -> int:
    from sqlalchemy import select

    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import RegistrySnapshot

    url = args.database_url or Settings.from_env().database_url
    with session_scope(url) as s:
        rows = s.scalars(select(RegistrySnapshot).order_by(RegistrySnapshot.snapshot_date)).all()
        if not rows:
            print("Belum ada snapshot registri.")
        for r in rows:
            print(f"{r.snapshot_date}  {_count(r.households):>9} keluarga  {_count(r.persons):>10} jiwa  "
                  f"dimuat {r.loaded_at:%Y-%m-%d %H:%M}")
    return 0
