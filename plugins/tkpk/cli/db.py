"""`tkpk db upgrade|downgrade|current`: warehouse migrations."""

from __future__ import annotations

from tkpk.settings import Settings


def register(sub) -> None:
    p = sub.add_parser("db", help="migrasi skema gudang data (warehouse)")
    p.add_argument("action", choices=["upgrade", "downgrade", "current"])
    p.add_argument("revision", nargs="?", default=None)
    p.add_argument("--database-url", default=None, help="bawaan: TKPK_DATABASE_URL")
    p.set_defaults(func=run)


def run(args) -> int:
    from tkpk import warehouse

    url = args.database_url or Settings.from_env().database_url
    if args.action == "upgrade":
        warehouse.upgrade(url, args.revision or "head")
        print("Skema gudang data sudah versi terbaru.")
    elif args.action == "downgrade":
        warehouse.downgrade(url, args.revision or "base")
        print(f"Skema diturunkan ke {args.revision or 'base'}.")
    else:
        from alembic import command

        command.current(warehouse.alembic_config(url))
    return 0
