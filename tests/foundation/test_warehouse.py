"""Migrations on SQLite, PostgreSQL and MariaDB (up, down, up), a single Alembic head, models == migrations."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, select

from tkpk.warehouse import alembic_config, downgrade, get_engine, session_scope, upgrade
from tkpk.warehouse.models import Base, Kecamatan, Kelurahan


def test_single_alembic_head():
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, heads


def _roundtrip(url: str) -> None:
    upgrade(url)
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with session_scope(url) as s:
        assert s.scalar(select(Kecamatan).limit(1)) is not None
        assert len(s.scalars(select(Kelurahan)).all()) == 68
    upgrade(url)  # idempotent
    downgrade(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()
    get_engine.cache_clear()


def test_migrations_sqlite(sqlite_url):
    _roundtrip(sqlite_url)


@pytest.mark.postgres
def test_migrations_postgres(pg_url):
    _roundtrip(pg_url)


@pytest.mark.mariadb
def test_migrations_mariadb(mysql_url):
    _roundtrip(mysql_url)


def test_models_match_migrations(sqlite_url):
    """Autogenerate against the migrated database finds nothing to do: models.py and 0001 agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    upgrade(sqlite_url)
    with create_engine(sqlite_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], diff


@pytest.mark.postgres
def test_models_match_migrations_postgres(pg_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    upgrade(pg_url)
    with create_engine(pg_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], diff
