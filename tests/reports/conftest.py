"""Fixtures for the report and e-mail tests: a warehouse filled with the synthetic months of `fixtures.py`,
reports built once per session (building draws ~20 charts), and a fresh copy of the warehouse per test so each test
starts with an empty send log."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from .fixtures import Truth, fill_warehouse

ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2026-10"


@dataclass
class Built:
    db: Path
    reports_dir: Path
    truth: Truth
    descriptors: list


def settings_for(url: str, reports_dir: Path, outbox: Path):
    from tkpk.settings import Settings

    return Settings.from_env(database_url=url, reports_dir=reports_dir, outbox_dir=outbox,
                             config_dir=ROOT / "include" / "config", reference_dir=ROOT / "include" / "reference")


def copy_sqlite(src: Path, dst: Path) -> None:
    """A consistent copy of a WAL-mode database (the backup API, not a file copy)."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Built:
    from tkpk.reports import build_reports
    from tkpk.warehouse import get_engine, upgrade

    base = tmp_path_factory.mktemp("built")
    db = base / "warehouse.db"
    url = f"sqlite:///{db}"
    upgrade(url)
    truth = fill_warehouse(url)
    settings = settings_for(url, base / "reports", base / "outbox")
    descriptors = build_reports(settings, PERIOD, run_id="test")
    get_engine(url).dispose()
    return Built(db=db, reports_dir=base / "reports", truth=truth, descriptors=descriptors)


@pytest.fixture
def fresh(built, tmp_path):
    """Settings pointing at a private copy of the built warehouse (empty send log) and the built reports."""
    db = tmp_path / "warehouse.db"
    copy_sqlite(built.db, db)
    return settings_for(f"sqlite:///{db}", built.reports_dir, tmp_path / "outbox")
