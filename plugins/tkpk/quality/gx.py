"""Great Expectations runner: one suite per submission type (`expectations/<type>.json`), run in-process through an
ephemeral context on the checked pandas frame (step 2 of the monthly run, and `tkpk validate`).

GX stays cheap here: the normaliser computes helper columns (`_nik_problem`, `_age`, `_nik_birth_agrees`, ...) and
the suite checks them with cheap expectations (`expect_column_values_to_be_null`, `..._be_in_set`,
`..._be_between`). Failing rows come back as GX's unexpected index list (result format COMPLETE); the frame has a
RangeIndex, so an index is a position in the frame. (`unexpected_index_column_names` gives the same rows as dicts and
costs 20x more on a file with many failures.)

Severity mapping (GX -> DESIGN.md section 5): `critical` on a table-level expectation = `critical` (file rejected);
`critical` on a row-level expectation = `error` (row quarantined); `warning` = `warning` (row loaded); `info` is not
reported. Each expectation's `meta.column` names the canonical column a finding is reported on, `meta.check` the check
code (for problem-code helper columns the code is the helper's value itself).

GX is imported lazily (about 4-6 s) and the context and parsed suites are cached per process. The context, its
dataframe asset and batch definition are shared, so one validation runs at a time per process (`_RUN_LOCK`):
threads that validate files at once take turns instead of checking each other's frames.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

_LOCK = threading.Lock()  # the caches below
_RUN_LOCK = threading.Lock()  # one run of the shared context at a time (its dataframe asset and batch definition)
_STATE: dict = {}
_SUITES: dict[tuple[str, float], tuple[object, dict]] = {}


class SuiteError(RuntimeError):
    """A suite file is missing or broken (a configuration error, not a data problem)."""


@dataclass
class Failure:
    """One failed expectation."""

    expectation: str
    severity: str  # GX severity word: critical | warning | info
    column: str | None  # canonical column to report on (meta.column)
    helper: str | None  # the checked column (kwargs.column)
    check: str | None  # meta.check
    row_level: bool
    indices: list[int] = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)


def _gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    # GX logs its own start-up at INFO (dozens of lines per task); keep task logs to what a steward needs.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx

    return gx


def _batch_definition():
    """The cached ephemeral context's whole-dataframe batch definition."""
    with _LOCK:
        if "batch_definition" not in _STATE:
            gx = _gx()
            from great_expectations.data_context.types.base import (
                DataContextConfig,
                InMemoryStoreBackendDefaults,
            )

            # No data-docs site: nothing is rendered, and no temporary directory is made per process.
            config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False))
            context = gx.get_context(mode="ephemeral", project_config=config)
            try:
                from great_expectations.data_context.types.base import ProgressBarsConfig

                context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
            except Exception:  # noqa: BLE001 - progress bars are cosmetic
                pass
            source = context.data_sources.add_pandas("tkpk_submissions")
            asset = source.add_dataframe_asset("submission")
            _STATE["context"] = context
            _STATE["batch_definition"] = asset.add_batch_definition_whole_dataframe("whole")
        return _STATE["batch_definition"]


def suite_path(expectations_dir: Path, type_code: str) -> Path:
    return Path(expectations_dir) / f"{type_code}.json"


def load_suite(expectations_dir: Path, type_code: str):
    """Parse `expectations/<type>.json` into a GX ExpectationSuite; raise SuiteError when an expectation was dropped
    (GX silently ignores unknown expectation types) or the file is missing. Cached per (file, mtime)."""
    path = suite_path(expectations_dir, type_code)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError as exc:
        raise SuiteError(f"Suite pemeriksaan {path} tidak ditemukan (satu suite per jenis kiriman).") from exc
    key = (str(path), mtime)
    with _LOCK:
        cached = _SUITES.get(key)
    if cached:
        return cached[0]
    raw = json.loads(path.read_text(encoding="utf-8"))
    _gx()
    from great_expectations.core import ExpectationSuite

    suite = ExpectationSuite(**raw)
    expected = len(raw.get("expectations", []))
    if len(suite.expectations) != expected:
        loaded = {e.expectation_type if hasattr(e, "expectation_type") else e.type for e in suite.expectations}
        dropped = [e.get("type") for e in raw.get("expectations", []) if e.get("type") not in loaded]
        raise SuiteError(
            f"Suite {path.name}: {len(suite.expectations)} dari {expected} expectation termuat; "
            f"tidak dikenal Great Expectations: {', '.join(map(str, dropped)) or '?'}."
        )
    with _LOCK:
        _SUITES[key] = (suite, raw)
    return suite


def suite_parameters(raw_suite: dict) -> set[str]:
    """Names of `$PARAMETER` references in a suite JSON."""
    names: set[str] = set()

    def walk(value):
        if isinstance(value, dict):
            if "$PARAMETER" in value:
                names.add(value["$PARAMETER"])
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(raw_suite.get("expectations", []))
    return names


def run_suite(frame, expectations_dir: Path, type_code: str, parameters: dict | None = None) -> list[Failure]:
    """Validate `frame` (RangeIndex) against the type's suite; return the failed expectations with failing rows."""
    suite = load_suite(expectations_dir, type_code)
    with _RUN_LOCK:
        # `Batch.validate`, not a ValidationDefinition: the definition's run also serialises the whole result
        # into the context's results store (0.4 s on a million-row file with many failing rows), which nothing
        # here reads.
        batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(
            suite,
            result_format={"result_format": "COMPLETE", "return_unexpected_index_query": False},
            expectation_parameters=parameters or {},
        )
    failures: list[Failure] = []
    for r in result.results:
        cfg = r.expectation_config
        exc = r.exception_info or {}
        raised = exc.get("raised_exception") if isinstance(exc, dict) else False
        if raised:
            raise SuiteError(
                f"Suite {type_code}: expectation {cfg.type} pada kolom {cfg.kwargs.get('column')} gagal dijalankan: "
                f"{exc.get('exception_message')}"
            )
        if r.success:
            continue
        severity = getattr(cfg.severity, "value", cfg.severity) or "critical"
        res = r.result or {}
        row_level = "unexpected_index_list" in res or cfg.type.startswith("expect_column_values_")
        failures.append(
            Failure(
                expectation=cfg.type,
                severity=str(severity),
                column=(cfg.meta or {}).get("column"),
                helper=cfg.kwargs.get("column"),
                check=(cfg.meta or {}).get("check"),
                row_level=row_level,
                indices=[int(i) for i in res.get("unexpected_index_list") or []],
                kwargs=dict(cfg.kwargs),
            )
        )
    return failures


def warm_up(expectations_dir: Path | None = None, type_codes: list[str] | None = None) -> None:
    """Import GX and parse suites ahead of time (benchmarks report the import separately)."""
    _batch_definition()
    for code in type_codes or []:
        load_suite(expectations_dir, code)
