"""The Great Expectations suites in expectations/: one per type, fully loaded, consistent with the helper columns,
and actually deciding (a severity changed in the JSON changes the outcome)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.ingest.conftest import PERIOD, make_settings

ROOT = Path(__file__).resolve().parents[2]


def _types():
    from tkpk.config import load_config

    return [t.code for t in load_config(ROOT / "include" / "config").types.types]


@pytest.mark.parametrize("type_code", _types())
def test_every_type_has_a_suite_that_loads_completely(type_code, config):
    from tkpk.quality.check import suite_parameters_for
    from tkpk.quality.gx import load_suite, suite_parameters

    raw = json.loads((ROOT / "expectations" / f"{type_code}.json").read_text())
    suite = load_suite(ROOT / "expectations", type_code)
    assert len(suite.expectations) == len(raw["expectations"]) > 5
    assert {e["severity"] for e in raw["expectations"]} <= {"critical", "warning", "info"}
    # Every $PARAMETER the suite uses is supplied from the YAML (e.g. the plausible ages).
    assert suite_parameters(raw) <= set(suite_parameters_for(config.types.get(type_code)))


def test_an_unknown_expectation_type_is_an_error_not_silently_dropped(tmp_path):
    from tkpk.quality.gx import SuiteError, load_suite

    raw = json.loads((ROOT / "expectations" / "pertanian_bibit.json").read_text())
    raw["expectations"].append({"type": "expect_column_values_to_be_nik", "kwargs": {"column": "nik"}})
    (tmp_path / "pertanian_bibit.json").write_text(json.dumps(raw))
    with pytest.raises(SuiteError, match="expect_column_values_to_be_nik"):
        load_suite(tmp_path, "pertanian_bibit")


def _clean_file(stype) -> bytes:
    """Two correct rows for any type, written from the YAML (so the test follows the config)."""
    lo, hi = stype.age_range or (20, 60)
    age = (lo + hi) // 2
    year = 2026 - age - 1
    born = f"15/05/{year}"
    nik = f"15710155{5:02d}{year % 100:02d}0001"  # 15 May (day + 40: a woman) of `year`
    example = {"nik": nik, "kk": "1571010101200001", "name": "Siti Aminah", "text": "Jl. Sipin",
               "kelurahan": "Legok", "sex": "P", "yn": "Y", "rtrw": "003", "amount": "16800"}
    header, rows = [], [[], []]
    for col in stype.columns:
        header.append(col.name)
        for k, row in enumerate(rows):
            if col.kind == "date":
                value = born if col.name == "tanggal_lahir" else "01/10/2026"
            elif col.kind == "enum":
                value = col.values[0]
            elif col.kind == "int":
                value = "2026" if col.min_year else str(int(col.min or 0) + 1)
            elif col.kind in ("nik",):
                value = nik[:-1] + str(k + 1)
            elif col.kind == "name":
                value = f"{example['name']} {k}"
            else:
                value = example.get(col.kind, "x")
            row.append(value)
    lines = [",".join(header)] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("type_code", _types())
def test_a_clean_file_of_every_type_passes_with_no_finding(tmp_path, type_code, config):
    from tkpk.ingest import validate_file

    path = tmp_path / f"{type_code}.csv"
    path.write_bytes(_clean_file(config.types.get(type_code)))
    result = validate_file(path, type_code, PERIOD)
    assert result.accepted, [f.as_dict() for f in result.issues]
    assert result.issues == []
    assert (result.rows_total, result.rows_valid) == (2, 2)


def test_the_suite_decides_severity(tmp_path, files_dir):
    """Downgrading a check to GX `info` in the suite JSON removes its findings: the suite, not code, decides."""
    from tkpk.ingest import validate_file

    expectations = tmp_path / "expectations"
    shutil.copytree(ROOT / "expectations", expectations)
    path = expectations / "disnaker_bpjstk.json"
    raw = json.loads(path.read_text())
    for e in raw["expectations"]:
        if e.get("meta", {}).get("check") == "nik_luar_kota_jambi":
            e["severity"] = "info"
    path.write_text(json.dumps(raw))
    settings = make_settings(tmp_path, expectations_dir=expectations)
    before = validate_file(files_dir / "disnaker_bpjstk_oktober.xlsx", "disnaker_bpjstk", PERIOD)
    after = validate_file(files_dir / "disnaker_bpjstk_oktober.xlsx", "disnaker_bpjstk", PERIOD, settings=settings)
    assert any(f.check == "nik_luar_kota_jambi" for f in before.issues)
    assert not any(f.check == "nik_luar_kota_jambi" for f in after.issues)
    assert len(after.issues) == len(before.issues) - 1
