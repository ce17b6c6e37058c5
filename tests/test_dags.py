"""House rules for every DAG (Astronomer / mozilla-telemetry style policy tests): imports cleanly, owner, tags from
the project's vocabulary, doc_md, retries with backoff, the failure alert, cheap parsing, and the monthly schedule."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pendulum
import pytest

ROOT = Path(__file__).resolve().parents[1]
DAG_FILES = sorted(p.name for p in (ROOT / "dags").glob("*.py"))
HEAVY = ["pandas", "great_expectations", "duckdb", "splink", "matplotlib", "openpyxl", "python_calamine", "faker"]


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


@pytest.mark.parametrize("dag_file", DAG_FILES)
def test_dag_file_imports_without_error(dagbag, dag_file):
    errors = {Path(k).name: v for k, v in dagbag.import_errors.items()}
    assert dag_file not in errors, errors.get(dag_file)


def test_every_dag_follows_house_rules(dagbag):
    from tkpk_airflow import OWNER, TAGS, alert_run_failure, record_failure

    assert dagbag.dags, "no DAG loaded"
    for dag_id, dag in dagbag.dags.items():
        assert dag.doc_md and len(dag.doc_md) > 200, f"{dag_id}: doc_md for stewards is missing"
        assert set(dag.tags) <= TAGS and "tkpk" in dag.tags, f"{dag_id}: tags {dag.tags} not in {TAGS}"
        assert dag.max_active_runs == 1, f"{dag_id}: max_active_runs must be 1"
        # one alert per failed run, from the DAG's callback; every task records what failed for it
        dag_callbacks = dag.on_failure_callback if isinstance(dag.on_failure_callback, list) \
            else [dag.on_failure_callback]
        assert alert_run_failure in dag_callbacks, f"{dag_id}: no run failure alert"
        for t in dag.tasks:
            assert t.owner == OWNER, f"{dag_id}.{t.task_id}: owner"
            callbacks = t.on_failure_callback if isinstance(t.on_failure_callback, list) else [t.on_failure_callback]
            assert record_failure in callbacks, f"{dag_id}.{t.task_id}: failure not recorded for the alert"
            # every task has a timeout, except a task waiting for a person (HITL approval: wave/15)
            if "HITL" not in type(t).__name__ and "Approval" not in type(t).__name__:
                assert t.execution_timeout is not None, f"{dag_id}.{t.task_id}: no execution_timeout"


def test_tasks_touching_network_or_database_retry_with_backoff(dagbag):
    dag = dagbag.dags["tkpk_monthly"]
    # A rejected file is not retried (it fails with AirflowFailException); check_outputs only turns the run red.
    # resolve_period writes the run record: it retries like every other task touching the database.
    # The steward's approval is a person's answer: a retry would ask again after it was given.
    no_retry_ok = {"check_outputs", "approve_reports"}
    for t in dag.tasks:
        if t.task_id in no_retry_ok:
            continue
        assert t.retries >= 2, f"{t.task_id}: retries {t.retries}"
        assert t.retry_exponential_backoff, f"{t.task_id}: no exponential backoff"


def test_monthly_dag_wiring(dagbag):
    dag = dagbag.dags["tkpk_monthly"]
    ids = set(dag.task_ids)
    assert {"resolve_period", "discover", "load_submission", "prepare_linkage", "link_partition", "finalize_linkage",
            "derive_events", "compute_eligibility", "finalize_eligibility", "build_reports", "send_reports",
            "summarize"} <= ids
    # the load gate runs whatever the loads did and decides: rejected files go on, infrastructure failures stop
    gate = dag.get_task("check_loads")
    assert gate.trigger_rule == "all_done"
    assert dag.get_task("load_submission").get_direct_relative_ids(upstream=False) == {"check_loads"}
    assert dag.get_task("prepare_linkage").upstream_task_ids == {"check_loads"}
    assert dag.get_task("prepare_linkage").trigger_rule == "all_success"
    assert dag.get_task("summarize").trigger_rule == "all_done"
    # a failure anywhere before sending turns the run red (summarize alone, all_done, would leave it green)
    watcher = dag.get_task("check_outputs")
    assert watcher.trigger_rule == "one_failed"
    assert {"check_loads", "finalize_linkage", "finalize_eligibility", "build_reports", "send_reports"} <= \
        watcher.upstream_task_ids
    # reports are sent only after they are built (wave/15 puts the approval between the two)
    assert "build_reports" in dag.get_task("send_reports").upstream_task_ids
    # months keep their order through a sensor (poke mode: see the DAG's comment), not by burning retries
    waiter = dag.get_task("wait_for_earlier_months")
    assert waiter.mode == "poke" and waiter.retries >= 2
    assert dag.get_task("derive_events").upstream_task_ids == {"wait_for_earlier_months"}
    assert dag.get_task("derive_events").retries == 2
    # the registry asset is an inlet of the eligibility step (the schedule itself stays time-based)
    inlets = dag.get_task("derive_events").inlets
    assert any(getattr(a, "uri", "") == "tkpk://warehouse/registry_snapshot" for a in inlets)


def test_next_run_after_2026_11_28_is_10_december_07_wib(dagbag):
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    timetable = coerce_to_core_timetable(dagbag.dags["tkpk_monthly"].timetable)
    info = timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=pendulum.datetime(2026, 11, 28, tz="UTC"), latest=None, catchup=False),
    )
    run_after = info.run_after.in_tz("Asia/Jakarta")
    assert (run_after.year, run_after.month, run_after.day, run_after.hour) == (2026, 12, 10, 7)
    from tkpk.period import reporting_period

    assert str(reporting_period(info.logical_date)) == "2026-11"


def test_trigger_form_params(dagbag):
    params = dagbag.dags["tkpk_monthly"].params
    schema_period = params.get_param("period").schema
    schema_opd = params.get_param("opd").schema
    assert schema_period["title"] and "YYYY-MM" in schema_period["title"]
    assert "disnaker" in schema_opd["enum"] and "" in schema_opd["enum"]
    assert any(code.startswith("kel-15710") for code in schema_opd["enum"])
    import re

    pattern = re.compile(schema_period["pattern"])
    assert pattern.match("2026-10") and pattern.match("")
    assert not pattern.match("2026-13") and not pattern.match("10-2026")


@pytest.mark.parametrize("dag_file", DAG_FILES)
def test_dag_file_parses_fast_without_heavy_imports(dag_file):
    """Parsing happens in every scheduler loop: no pandas, GX, DuckDB, Splink, matplotlib at import time."""
    code = (
        "import sys, time, json, importlib.util\n"
        "import airflow.sdk\n"
        f"before = set(sys.modules); t = time.process_time()\n"
        f"spec = importlib.util.spec_from_file_location('d', {str(ROOT / 'dags' / dag_file)!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "print(json.dumps({'seconds': time.process_time() - t, 'modules': sorted(set(sys.modules) - before)}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    loaded_heavy = [m for m in result["modules"] if m.split(".")[0] in HEAVY]
    assert not loaded_heavy, f"{dag_file} imports heavy modules at parse time: {loaded_heavy[:5]}"
    # CPU seconds, not wall: the machine may be busy; parsing must stay cheap either way
    assert result["seconds"] < 2.0, f"{dag_file} takes {result['seconds']:.2f} CPU s to parse"


def test_registry_dag_emits_the_asset_the_monthly_dag_reads(dagbag):
    registry = dagbag.dags["tkpk_registry"]
    outlets = registry.get_task("load_snapshots").outlets
    assert [a.uri for a in outlets] == ["tkpk://warehouse/registry_snapshot"]
    # time-based: a registry load must not trigger a monthly run (no mid-month e-mail)
    monthly = dagbag.dags["tkpk_monthly"]
    assert "CronTriggerTimetable" in type(monthly.timetable).__name__


def test_simulate_trigger_form(dagbag):
    """tkpk_simulate: never scheduled; typed, labelled overrides; the request is checked before anything runs."""
    dag = dagbag.dags["tkpk_simulate"]
    assert "Null" in type(dag.timetable).__name__
    params = dag.params
    assert "bpjs_tk" in params.get_param("program").schema["enum"]
    quota = params.get_param("kuota_per_wilayah").schema
    assert quota["type"] == ["null", "integer"] and quota["title"] == "Kuota per kelurahan"
    assert params.get_param("set_lines").schema["type"] == "array"
    assert params.get_param("email_peminta").schema["title"] == "E-mail peminta"
    assert dag.get_task("validate_request").retries == 0
    run = dag.get_task("run_simulation")
    assert run.retries >= 2 and run.retry_exponential_backoff
    assert run.upstream_task_ids == {"validate_request"}
