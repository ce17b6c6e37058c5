"""Fixtures of the ingestion tests: the hand-made messy files, settings pointing at a temporary landing zone and
archive, and a helper that runs the `tkpk` CLI in-process."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

FILES = Path(__file__).resolve().parent / "files"
PERIOD = "2026-10"


@pytest.fixture(scope="session")
def files_dir() -> Path:
    return FILES


def make_settings(tmp_path: Path, database_url: str | None = None, **overrides):
    from tkpk.settings import Settings

    values = dict(
        database_url=database_url or f"sqlite:///{tmp_path / 'warehouse.db'}",
        landing_url=(tmp_path / "landing").as_uri(),
        archive_url=(tmp_path / "archive").as_uri(),
        var_dir=tmp_path / "var",
    )
    values.update(overrides)
    return Settings.from_env(**values)


def put(settings, opd: str, source: Path | bytes, name: str | None = None, period: str = PERIOD) -> Path:
    """Drop a file in {landing}/{period}/{opd}/ as an OPD (or a steward) would."""
    folder = Path(settings.landing_url.removeprefix("file://")) / period / opd
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (name or (source.name if isinstance(source, Path) else "data.csv"))
    if isinstance(source, Path):
        shutil.copyfile(source, target)
    else:
        target.write_bytes(source)
    return target


@pytest.fixture
def cli(capsys):
    """Run `tkpk ARGS...` in-process: (exit code, stdout, stderr, parsed JSON or None)."""
    from tkpk.cli import main

    def run(*args: str):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
        out, err = capsys.readouterr()
        data = None
        if out.strip().startswith("{"):
            data = json.loads(out)
        return code, out, err, data

    return run
