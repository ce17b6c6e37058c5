"""The warehouse: engine, sessions, migrations and reference data.

SQLite is the embedded default (`var/warehouse.db`), PostgreSQL is production, MariaDB/MySQL is supported as far as
the tests run the pipeline on it. Schema changes go through Alembic (`tkpk db upgrade`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def __getattr__(name: str):
    """`from tkpk.warehouse import insert_frame`: the bulk insert (tkpk.warehouse.bulk), imported on first use so
    that importing the warehouse (DAG files, CLI start-up) does not import pandas and pyarrow."""
    if name in ("insert_frame", "bulk_insert"):
        from tkpk.warehouse import bulk

        return getattr(bulk, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=60000")  # concurrent loads wait their turn instead of failing
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


@lru_cache(maxsize=16)
def get_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_recycle=1800)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    factory = sessionmaker(get_engine(url), expire_on_commit=False)
    with factory() as session, session.begin():
        yield session


def analyze(session: Session, *tables) -> None:
    """Refresh PostgreSQL's planner statistics of `tables` (models or Tables) after a bulk write, inside the
    session's transaction. Without it the next stage plans against "empty" tables until autovacuum gets to them:
    a report query on a freshly written province month chose a nested loop and ran for minutes. Other databases:
    nothing (SQLite plans without statistics unless ANALYZE was ever run, and our queries are written for that)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    conn = session.connection()
    for table in tables:
        name = getattr(table, "__tablename__", None) or table.name
        conn.exec_driver_sql(f"ANALYZE {conn.dialect.identifier_preparer.quote(name)}")


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["tkpk_url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)
    load_reference(url)


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def load_reference(url: str, reference_dir: Path | None = None) -> int:
    """Kecamatan and kelurahan from the Kepmendagri reference file; idempotent."""
    from tkpk.normalize.kelurahan import REFERENCE_FILE
    from tkpk.settings import Settings
    from tkpk.warehouse.models import Kecamatan, Kelurahan

    reference_dir = reference_dir or Settings.from_env().reference_dir
    with open(Path(reference_dir) / REFERENCE_FILE, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with session_scope(url) as s:
        have = set(s.scalars(select(Kelurahan.kode_kelurahan)))
        kec_have = set(s.scalars(select(Kecamatan.kode_kecamatan)))
        for r in rows:
            if r["kode_kecamatan"] not in kec_have:
                s.add(Kecamatan(kode_kecamatan=r["kode_kecamatan"], nama=r["kecamatan"]))
                kec_have.add(r["kode_kecamatan"])
        s.flush()
        for r in rows:
            if r["kode_kelurahan"] not in have:
                s.add(Kelurahan(kode_kelurahan=r["kode_kelurahan"], kode_kecamatan=r["kode_kecamatan"], nama=r["kelurahan"]))
    return len(rows)


def audit(session: Session, *, actor: str, action: str, period: str | None = None, opd_code: str | None = None,
          **details) -> None:
    """Record who did what (no personal data in details)."""
    from datetime import UTC, datetime

    from tkpk.warehouse.models import AuditLog

    session.add(AuditLog(at=datetime.now(UTC), actor=actor, action=action, period=period, opd_code=opd_code,
                         details=details))
