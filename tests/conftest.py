"""Shared fixtures: a fresh warehouse per test on SQLite, PostgreSQL or MariaDB.

PostgreSQL and MariaDB tests use the real servers on 127.0.0.1, each test in its own database. Without the server
(a newcomer's laptop) they skip with the reason; under CI (CI=true) they fail instead, so a broken service never
hides behind a green run.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW_HOME", str(ROOT / "var" / "airflow-test"))
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(ROOT / "plugins"))
os.environ.setdefault("TKPK_HOME", str(ROOT))
# Test files are complete when written: no settle wait (tests of the wait pass settle_seconds themselves).
os.environ.setdefault("TKPK_SETTLE_SECONDS", "0")
# Runs in tests are unattended: no steward's sign-off before sending (tests/test_tkpk_view.py switches it on).
os.environ.setdefault("TKPK_APPROVAL_REQUIRED", "false")

PG_ADMIN_URL = os.environ.get("TKPK_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
MYSQL_ADMIN_URL = os.environ.get("TKPK_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Longest work first: the tests that run Airflow itself (marker `airflow`, minutes each), then the xdist groups
    (tests that must share one worker, handed out as one unit), then the rest, each in collection order. With
    `-n 2 --dist loadgroup` and `--no-loadscope-reorder` (pyproject addopts) xdist hands out work in this order, so
    both workers start on the long units and the many short tests fill in behind them, instead of a long test
    starting last on one worker while the other has nothing left to do."""

    def rank(item) -> int:
        if item.get_closest_marker("airflow"):
            return 0
        return 1 if item.get_closest_marker("xdist_group") else 2

    items.sort(key=rank)


def _unavailable(what: str, exc: Exception):
    message = f"{what} tidak tersedia di mesin ini ({type(exc).__name__}: {exc})"
    if IN_CI:
        pytest.fail(f"CI=true: {message}; tes ini wajib berjalan di CI", pytrace=False)
    pytest.skip(message)


def _server_database(admin_url: str, what: str):
    """Create a throwaway database on a real server; yield its URL; drop it afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"tkpk_t_{uuid.uuid4().hex[:12]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means the server is absent
        _unavailable(what, exc)
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        from tkpk.warehouse import get_engine

        get_engine.cache_clear()
        with admin.connect() as conn:
            if admin.dialect.name == "postgresql":
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'warehouse.db'}"


@pytest.fixture
def pg_url():
    yield from _server_database(PG_ADMIN_URL, "PostgreSQL (127.0.0.1:5432)")


@pytest.fixture
def mysql_url():
    yield from _server_database(MYSQL_ADMIN_URL, "MariaDB (127.0.0.1:3306)")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_url(request, tmp_path):
    """An empty database on SQLite and again on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'warehouse.db'}"
    else:
        yield from _server_database(PG_ADMIN_URL, "PostgreSQL (127.0.0.1:5432)")


@pytest.fixture
def warehouse(any_url) -> str:
    """A migrated warehouse (SQLite and PostgreSQL), reference data loaded."""
    from tkpk.warehouse import upgrade

    upgrade(any_url)
    return any_url


@pytest.fixture
def sqlite_warehouse(sqlite_url) -> str:
    from tkpk.warehouse import upgrade

    upgrade(sqlite_url)
    return sqlite_url


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    return ROOT / "include" / "reference"


@pytest.fixture(scope="session")
def config():
    from tkpk.config import load_config

    return load_config(ROOT / "include" / "config")
