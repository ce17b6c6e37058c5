"""The steward's and the OPD clerk's journey through the real `tkpk` process: a fresh warehouse, landing zone,
archive and reports folder per test, and a helper that runs `python -m tkpk ...` with them."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = ROOT / "tests" / "ingest" / "files"
PERIOD = "2026-10"


@dataclass
class Journey:
    env: dict
    var: Path
    landing: Path
    url: str

    def tkpk(self, *args: str, timeout: int = 240) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tkpk", *args], capture_output=True, text=True, env=self.env,
                              timeout=timeout, cwd=self.var)

    def folder(self, opd: str, period: str = PERIOD) -> Path:
        return self.landing / period / opd


@pytest.fixture
def journey(tmp_path) -> Journey:
    var = tmp_path / "var"
    var.mkdir()
    landing = tmp_path / "landing"
    url = f"sqlite:///{var / 'warehouse.db'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "plugins"), "TKPK_HOME": str(ROOT), "TKPK_VAR_DIR": str(var),
           "TKPK_DATABASE_URL": url, "TKPK_LANDING_URL": landing.as_uri(),
           "TKPK_ARCHIVE_URL": (var / "archive").as_uri(), "PYTHONWARNINGS": "ignore"}
    j = Journey(env=env, var=var, landing=landing, url=url)
    proc = j.tkpk("db", "upgrade")
    assert proc.returncode == 0, proc.stderr
    return j
