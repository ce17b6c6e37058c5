"""The bad-input catalogue (`catalogue.py`) through `tkpk validate --json` and through the real load path
(`load_submission` from a landing folder into SQLite and PostgreSQL).

For every case: nothing crashes (no traceback, no abort), the outcome is the expected one, every rejection says why
in Bahasa Indonesia, the valid rows are all kept (accepted row counts match), and on the load path the raw file is
archived under a sanitised name inside `{archive}/{period}/{opd}/{type}/` with its exact bytes. Cases that could take
the test process down (sheets declaring billions of cells) run only in separate, memory-capped processes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.reliability.catalogue import ACCEPTED, EITHER, REJECTED, Case
from tests.reliability.conftest import (
    ENGLISH,
    INDONESIAN,
    PERIOD,
    SIXTEEN,
    make_settings,
    put,
    run_driver,
    run_tkpk,
)

# Known bugs in other stages' code, found by this catalogue (see docs/reliability.md). A case listed here is
# xfail(strict=True): it starts failing the suite the moment the bug is fixed, so the entry gets removed. None open.
KNOWN_BUGS: dict[str, str] = {}
# Bugs that show on the load path only (`tkpk validate` handles the case).
KNOWN_LOAD_BUGS: dict[str, str] = {}
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
ISOLATED_MEMORY_MB = 3072  # address-space cap of the separate process (the machine must survive the test)


def _params(cases: list[Case], isolated: bool, load: bool = False):
    out = []
    known = {**KNOWN_BUGS, **(KNOWN_LOAD_BUGS if load else {})}
    for c in cases:
        if c.isolate != isolated:
            continue
        marks = [pytest.mark.xfail(strict=True, reason=known[c.id])] if c.id in known else []
        if isolated:
            marks.append(pytest.mark.slow)
        out.append(pytest.param(c.id, marks=marks, id=c.id))
    return out


def _catalogue():
    from tests.reliability.catalogue import build
    from tkpk.config import load_config
    from tkpk.settings import Settings

    return {c.id: c for c in build(load_config(Settings.from_env().config_dir))}


CASES = _catalogue()


def _outcome_ok(case: Case, status: str) -> bool:
    return status in case.outcome.split("|")


def _check_message(text: str, where: str) -> None:
    assert text and text.strip(), f"{where}: empty message"
    assert INDONESIAN.search(text), f"{where}: not Bahasa Indonesia: {text!r}"
    english = ENGLISH.search(text)
    assert not english, f"{where}: English/technical text {english.group(0)!r} in {text!r}"
    assert not SIXTEEN.search(text), f"{where}: unmasked 16-digit number in a message"


def _rows_ok(case: Case, rows_valid: int, rows_total: int) -> None:
    if case.rows_valid is not None:
        assert rows_valid == case.rows_valid, f"valid rows lost or invented: {rows_valid} != {case.rows_valid}"
    if case.rows_valid_min is not None:
        assert rows_valid >= case.rows_valid_min, f"valid rows lost: {rows_valid} < {case.rows_valid_min}"
    if case.rows_total is not None:
        assert rows_total == case.rows_total


def test_catalogue_covers_the_brief():
    catalogue = list(CASES.values())
    ids = [c.id for c in catalogue]
    assert len(ids) == len(set(ids))
    assert len(catalogue) >= 30
    assert len({c.type for c in catalogue}) >= 8, "every submission type should carry hostile files"
    assert {c.group for c in catalogue} == {"encoding", "layout", "type", "size", "content", "name"}
    assert sum(c.outcome == REJECTED for c in catalogue) >= 15
    assert any(".." in c.name for c in catalogue) and any("\n" in c.name for c in catalogue)
    for c in catalogue:
        assert c.outcome in (ACCEPTED, REJECTED, EITHER)
        assert c.outcome != REJECTED or c.checks or c.isolate, f"{c.id}: a rejection must name its check"


# --------------------------------------------------------------------------------------- tkpk validate --json


@pytest.mark.parametrize("case_id", _params(list(CASES.values()), isolated=False))
def test_validate_json(case_id, tmp_path, capsys):
    from tkpk.cli import main

    case = CASES[case_id]
    path = tmp_path / case.name
    path.write_bytes(case.data)
    started = time.perf_counter()
    try:
        code = main(["validate", str(path), "--type", case.type, "--period", PERIOD, "--json"])
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    elapsed = time.perf_counter() - started
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out
    result = json.loads(out)
    assert code == (0 if result["status"] == ACCEPTED else 2)
    assert _outcome_ok(case, result["status"]), f"{case.id}: {result['status']}: {result['issues'][:3]}"
    checks = {i["check"] for i in result["issues"]}
    assert set(case.checks) <= checks, f"{case.id}: expected {case.checks}, got {sorted(checks)}"
    if result["status"] == REJECTED:
        critical = [i for i in result["issues"] if i["severity"] == "critical"]
        assert critical, "a rejection without a critical finding does not say why"
        assert result["records"] == []
    else:
        _rows_ok(case, result["rows_valid"], result["rows_total"])
        assert len(result["records"]) == result["rows_valid"]
    for issue in result["issues"]:
        _check_message(issue["message"], f"{case.id}/{issue['check']}")
    for text in case.forbidden:
        assert text not in out, f"{case.id}: {text!r} leaked into the result"
    for hostile in case.extra.get("kept_as_text", []):
        assert any(hostile in str(v) for r in result["records"] for v in r.values()), \
            f"{case.id}: {hostile!r} not kept as text"
    assert elapsed < case.max_seconds, f"{case.id}: {elapsed:.1f} s"


# --------------------------------------------------------------------------------------- the real load path


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def load_warehouse(request, tmp_path_factory):
    from tests.conftest import PG_ADMIN_URL, _server_database
    from tkpk.warehouse import upgrade

    base = tmp_path_factory.mktemp(f"catalogue-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{base / 'warehouse.db'}"
        upgrade(url)
        yield base, url
        return
    gen = _server_database(PG_ADMIN_URL, "PostgreSQL (127.0.0.1:5432)")
    url = next(gen)
    upgrade(url)
    yield base, url
    gen.close()


def _archive_ok(settings, case: Case, files: list[dict]) -> None:
    root = Path(settings.archive_url.removeprefix("file://")).resolve()
    expected_dir = (root / PERIOD / case.opd / case.type).resolve()
    archived = [f for f in files if f.get("archive_uri")]
    assert archived, f"{case.id}: raw file not archived"
    for f in archived:
        path = Path(f["archive_uri"].removeprefix("file://"))
        real = path.resolve()
        assert real.parent == expected_dir, f"{case.id}: archived outside its folder: {real}"
        assert re.fullmatch(r"[0-9a-f]{16}_[A-Za-z0-9._-]+", real.name), f"{case.id}: unsafe name {real.name!r}"
        assert ".." not in real.name and len(real.name) <= 160
        assert hashlib.sha256(real.read_bytes()).hexdigest() == hashlib.sha256(case.data).hexdigest()
        assert f["sha256"] == hashlib.sha256(case.data).hexdigest()


def _load(case: Case, base: Path, url: str):
    from tkpk.ingest import BatchRejected, load_submission

    settings = make_settings(base / case.id, url)
    put(settings, case.opd, case.name, case.data)
    try:
        counts = load_submission(settings, PERIOD, case.opd, case.type, run_id=f"katalog-{case.id}")
        return settings, counts, None
    except BatchRejected as exc:
        return settings, exc.counts, exc


@pytest.mark.parametrize("case_id", _params(list(CASES.values()), isolated=False, load=True))
def test_load_submission(case_id, load_warehouse):
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import Finding, QuarantinedRow, StagedRow, SubmissionBatch

    case = CASES[case_id]
    base, url = load_warehouse
    settings, counts, rejected = _load(case, base, url)
    status = REJECTED if rejected else counts["status"]
    assert _outcome_ok(case, status), f"{case.id}: {status}: {rejected.message if rejected else counts}"
    batch_id = counts["batch_id"]
    with session_scope(url) as s:
        batch = s.get(SubmissionBatch, batch_id)
        staged = s.scalar(select(func.count()).select_from(StagedRow).where(StagedRow.batch_id == batch_id))
        quarantined = s.scalar(select(func.count()).select_from(QuarantinedRow).where(
            QuarantinedRow.batch_id == batch_id))
        findings = list(s.scalars(select(Finding).where(Finding.batch_id == batch_id)))
        staged_data = [r for (r,) in s.execute(select(StagedRow.data).where(StagedRow.batch_id == batch_id))]
        files = list(batch.files)
        assert batch.status == status and batch.is_current == (status == ACCEPTED)
    checks = {f.check for f in findings}
    wanted = case.load_checks if case.load_checks is not None else case.checks
    if case.load_checks is not None:
        assert checks & set(wanted), f"{case.id}: expected one of {wanted}, got {sorted(checks)}"
    else:
        assert set(wanted) <= checks, f"{case.id}: expected {wanted}, got {sorted(checks)}"
    for f in findings:
        _check_message(f.message, f"{case.id}/{f.check}")
    if rejected:
        _check_message(rejected.message, f"{case.id}/BatchRejected")
        assert staged == 0 and quarantined == 0
        assert any(f.severity == "critical" for f in findings)
    else:
        _rows_ok(case, counts["rows_accepted"], counts["rows_total"])
        assert staged == counts["rows_accepted"], "accepted rows not all staged"
        assert quarantined == counts["rows_total"] - counts["rows_accepted"]
        for hostile in case.extra.get("kept_as_text", []):
            assert any(hostile in json.dumps(d, ensure_ascii=False) for d in staged_data) or any(
                hostile in str(v) for d in staged_data for v in d.values()), f"{hostile!r} not kept as text"
    if case.id != "type_exe" and case.data:  # unsupported extension or 0 bytes: listed, not read nor archived
        _archive_ok(settings, case, files)
    blob = json.dumps([files, [f.message for f in findings], [f.value for f in findings], staged_data],
                      ensure_ascii=False, default=str)
    for text in case.forbidden:
        assert text not in blob
    # Control characters never reach the warehouse, and no cell is stored whole past the cell limit.
    with session_scope(url) as s:
        quarantined_data = [r for (r,) in s.execute(select(QuarantinedRow.data).where(
            QuarantinedRow.batch_id == batch_id))]
    stored = [*(str(v) for d in staged_data + quarantined_data for v in (d or {}).values()),
              *(f.value or "" for f in findings)]
    assert not any(CONTROL.search(v) for v in stored), f"{case.id}: a control character reached the warehouse"
    assert max((len(v) for v in stored), default=0) <= 4_000, f"{case.id}: an over-long cell was stored whole"


def test_tables_survive_hostile_text(load_warehouse):
    """After the SQL-injection case the warehouse still has every table and the rows as text."""
    from sqlalchemy import inspect

    from tkpk.warehouse import get_engine

    _base, url = load_warehouse
    names = set(inspect(get_engine(url)).get_table_names())
    assert {"staged_row", "finding", "submission_batch", "quarantined_row"} <= names


# --------------------------------------------------------------------------------------- memory-capped processes


@pytest.mark.parametrize("case_id", _params(list(CASES.values()), isolated=True))
def test_isolated_validate_process(case_id, tmp_path):
    case = CASES[case_id]
    path = tmp_path / case.name
    path.write_bytes(case.data)
    started = time.perf_counter()
    code, out, err, peak = run_tkpk("validate", str(path), "--type", case.type, "--period", PERIOD, "--json",
                                    memory_mb=ISOLATED_MEMORY_MB, timeout=case.max_seconds * 3)
    elapsed = time.perf_counter() - started
    assert code in (0, 2), f"{case.id}: process ended with {code} (negative = killed by a signal): {err[-400:]}"
    assert "Traceback" not in err and "panicked" not in err
    result = json.loads(out)
    assert _outcome_ok(case, result["status"]), result["issues"][:3]
    if result["status"] == ACCEPTED:
        _rows_ok(case, result["rows_valid"], result["rows_total"])
    for issue in result["issues"]:
        _check_message(issue["message"], f"{case.id}/{issue['check']}")
    assert case.max_rss_mb is None or peak <= case.max_rss_mb, f"{case.id}: peak {peak:.0f} MB"
    assert elapsed < case.max_seconds * 2


@pytest.mark.parametrize("case_id", _params(list(CASES.values()), isolated=True, load=True))
def test_isolated_load_process(case_id, tmp_path):
    from tkpk.warehouse import upgrade

    case = CASES[case_id]
    settings = make_settings(tmp_path, None)
    upgrade(settings.database_url)
    put(settings, case.opd, case.name, case.data)
    code, data, err, peak = run_driver(settings, case.opd, case.type, memory_mb=ISOLATED_MEMORY_MB,
                                       timeout=case.max_seconds * 3)
    assert code in (0, 2), f"{case.id}: load process ended with {code}: {err[-400:]}"
    assert case.max_rss_mb is None or peak <= case.max_rss_mb, f"{case.id}: peak {peak:.0f} MB"
    assert _outcome_ok(case, data["outcome"])
    if data["outcome"] == REJECTED:
        _check_message(data["message"], f"{case.id}/BatchRejected")
    else:
        _rows_ok(case, data["counts"]["rows_accepted"], data["counts"]["rows_total"])


# --------------------------------------------------------------------------------------- the real console script


PROCESS_SAMPLE = ["enc_utf16_tab", "layout_titles_totals_footer", "type_pdf_as_xlsx", "type_zip_bomb",
                  "type_encrypted_xlsx", "content_nik_every_broken_kind", "name_traversal", "name_control_chars"]


@pytest.mark.slow
def test_validate_as_a_process(tmp_path):
    """`tkpk validate --json` as the OPD officer runs it: for a sample of the catalogue in one go (each process
    imports pandas and Great Expectations; `TKPK_CATALOGUE_PROCESS=all` runs every case)."""
    from concurrent.futures import ThreadPoolExecutor

    ids = list(CASES) if os.environ.get("TKPK_CATALOGUE_PROCESS") == "all" else PROCESS_SAMPLE
    ids = [i for i in ids if not CASES[i].isolate and i not in KNOWN_BUGS]

    def one(case_id: str):
        case = CASES[case_id]
        folder = tmp_path / case_id
        folder.mkdir()
        path = folder / case.name
        path.write_bytes(case.data)
        return case, run_tkpk("validate", str(path), "--type", case.type, "--period", PERIOD, "--json")

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(one, ids))
    for case, (code, out, err, _peak) in results:
        assert "Traceback" not in err, f"{case.id}: {err[-600:]}"
        result = json.loads(out)
        assert code == (0 if result["status"] == ACCEPTED else 2)
        assert _outcome_ok(case, result["status"])
        if result["status"] == ACCEPTED:
            _rows_ok(case, result["rows_valid"], result["rows_total"])
