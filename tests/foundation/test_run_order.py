"""A month's eligibility waits while a run of an earlier month is still going (backfill of several months at once)."""

from datetime import UTC, datetime, timedelta

import pytest

from tkpk.pipeline import EarlierRunActive, ensure_earlier_runs_finished, start_run
from tkpk.settings import Settings
from tkpk.warehouse import session_scope
from tkpk.warehouse.models import PipelineRun


@pytest.fixture
def settings(warehouse, tmp_path) -> Settings:
    return Settings.from_env(database_url=warehouse, var_dir=tmp_path / "var")


def _start(settings, run_id: str, logical_date: datetime) -> dict:
    return start_run(settings, run_id=run_id, dag_id="tkpk_monthly", logical_date=logical_date, period=None,
                     opd=None)


def test_a_later_month_waits_for_an_earlier_running_month(settings):
    sep = _start(settings, "backfill__2026-10-10", datetime(2026, 10, 10, 0, 0, tzinfo=UTC))
    oct_ = _start(settings, "backfill__2026-11-10", datetime(2026, 11, 10, 0, 0, tzinfo=UTC))
    assert (sep["period"], oct_["period"]) == ("2026-09", "2026-10")

    with pytest.raises(EarlierRunActive) as exc:
        ensure_earlier_runs_finished(settings, oct_["period"], oct_["run_id"])
    assert "2026-09 masih berjalan" in str(exc.value)
    assert "--max-active-runs 1" in str(exc.value)
    # The earlier month itself goes ahead (a later month running does not hold it up).
    ensure_earlier_runs_finished(settings, sep["period"], sep["run_id"])

    with session_scope(settings.database_url) as s:
        s.get(PipelineRun, sep["run_id"]).state = "success"
    ensure_earlier_runs_finished(settings, oct_["period"], oct_["run_id"])


def test_a_run_killed_long_ago_does_not_block_later_months(settings):
    sep = _start(settings, "scheduled__2026-10-10", datetime(2026, 10, 10, 0, 0, tzinfo=UTC))
    with session_scope(settings.database_url) as s:
        s.get(PipelineRun, sep["run_id"]).started_at = datetime.now(UTC) - timedelta(hours=7)
    ensure_earlier_runs_finished(settings, "2026-10", "scheduled__2026-11-10")
    with pytest.raises(EarlierRunActive):
        ensure_earlier_runs_finished(settings, "2026-10", "scheduled__2026-11-10", within=timedelta(hours=8))
