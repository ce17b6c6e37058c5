"""What the DAG files need at parse time, read cheaply (plain YAML and CSV, no pydantic, no pandas): the monthly
cron expression and the OPD codes for the trigger form's drop-down."""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

from tkpk.settings import REFERENCE_FILE, Settings

TIMEZONE = "Asia/Jakarta"


def _opds_yaml(config_dir: Path | None) -> dict:
    config_dir = config_dir or Settings.from_env().config_dir
    return yaml.safe_load((Path(config_dir) / "opds.yaml").read_text(encoding="utf-8")) or {}


def monthly_cron(config_dir: Path | None = None) -> str:
    """07:00 (Asia/Jakarta) on the configured day of every month."""
    day = int(_opds_yaml(config_dir).get("schedule_day", 10))
    return f"0 7 {day} * *"


def deadline_cron(config_dir: Path | None = None) -> str:
    """`finish_by_hour` (Asia/Jakarta) on the monthly run's day: when tkpk_monthly_deadline checks that run."""
    data = _opds_yaml(config_dir)
    return f"0 {int(data.get('finish_by_hour', 17))} {int(data.get('schedule_day', 10))} * *"


def finish_by_hour(config_dir: Path | None = None) -> int:
    return int(_opds_yaml(config_dir).get("finish_by_hour", 17))


def opd_codes(config_dir: Path | None = None, reference_dir: Path | None = None) -> list[str]:
    """Configured OPD codes, then one `kel-<code>` per kelurahan when kelurahan submissions are enabled."""
    data = _opds_yaml(config_dir)
    codes = [o["code"] for o in data.get("opds", [])]
    if (data.get("kelurahan") or {}).get("enabled", True):
        reference_dir = reference_dir or Settings.from_env().reference_dir
        with open(Path(reference_dir) / REFERENCE_FILE, encoding="utf-8") as fh:
            codes += [f"kel-{r['kode_kelurahan'].replace('.', '')}" for r in csv.DictReader(fh)]
    return codes
