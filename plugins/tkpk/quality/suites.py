"""Write the starting Great Expectations suite of a submission type from its YAML entry.

The suites in `expectations/` are the checked-in source of truth (a steward may tune a severity there); this module
only drafts one for a new type, so adding a type stays "one YAML entry and one suite":

    python -m tkpk.quality.suites disdik_siswa            # print the draft
    python -m tkpk.quality.suites --all --write           # (re)write every suite

What each helper column means is documented in `tkpk.ingest.normalise`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tkpk.config.submissions import SubmissionType


def _exp(type_: str, kwargs: dict, severity: str, **meta) -> dict:
    return {"type": type_, "kwargs": kwargs, "severity": severity, "meta": {k: v for k, v in meta.items() if v}}


def build_suite(stype: SubmissionType) -> dict:
    cols = {c.name: c for c in stype.columns}
    exps = [_exp("expect_table_row_count_to_be_between", {"min_value": 1}, "critical",
                 check="tidak_ada_baris_data")]
    for c in stype.columns:
        if c.required:
            exps.append(_exp("expect_column_to_exist", {"column": c.name}, "critical", column=c.name,
                             check="kolom_wajib_tidak_ada"))
    for c in stype.columns:
        exps.append(_exp("expect_column_values_to_be_null", {"column": f"_{c.name}_problem"}, "critical",
                         column=c.name, note="nilai helper = kode pemeriksaan"))
    exps.append(_exp("expect_column_values_to_be_null", {"column": "_duplicate_of"}, "critical", check="baris_ganda"))
    if stype.require_one_of:
        exps.append(_exp("expect_column_max_to_be_between", {"column": "_one_of_present", "min_value": 1}, "critical",
                         column=stype.require_one_of[0], check="kolom_salah_satu_tidak_ada"))
    if "nik" in cols and stype.nik_optional_when:
        exps.append(_exp("expect_column_values_to_be_null", {"column": "_nik_warning"}, "warning", column="nik",
                         check="nik_kosong_diterima"))
    for c in stype.columns:
        if c.kind == "nik":
            exps.append(_exp("expect_column_values_to_be_in_set",
                             {"column": f"_{c.name}_in_kota_jambi", "value_set": [True]}, "warning", column=c.name,
                             check="nik_luar_kota_jambi"))
    if "nik" in cols and "tanggal_lahir" in cols:
        exps.append(_exp("expect_column_values_to_be_in_set", {"column": "_nik_birth_agrees", "value_set": [True]},
                         "warning", column="tanggal_lahir", check="nik_beda_tanggal_lahir"))
    if "nik" in cols and "jenis_kelamin" in cols:
        exps.append(_exp("expect_column_values_to_be_in_set", {"column": "_nik_sex_agrees", "value_set": [True]},
                         "warning", column="jenis_kelamin", check="nik_beda_jenis_kelamin"))
    if stype.age_range and "tanggal_lahir" in cols:
        exps.append(_exp("expect_column_values_to_be_between",
                         {"column": "_age", "min_value": {"$PARAMETER": "age_min"},
                          "max_value": {"$PARAMETER": "age_max"}},
                         "warning", column="tanggal_lahir", check="usia_tidak_wajar"))
    return {
        "name": stype.code,
        "meta": {
            "description": f"Pemeriksaan mutu {stype.name}. Severity: critical pada tabel = berkas ditolak; critical "
                           "pada baris = baris dikarantina (error); warning = baris dimuat dengan peringatan.",
        },
        "expectations": exps,
    }


def main(argv: list[str] | None = None) -> int:
    from tkpk.config import load_config
    from tkpk.settings import Settings

    parser = argparse.ArgumentParser(description="Draft Great Expectations suites from submission_types.yaml")
    parser.add_argument("types", nargs="*")
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    config = load_config(settings.config_dir)
    codes = [t.code for t in config.types.types] if args.all else args.types
    for code in codes:
        suite = build_suite(config.types.get(code))
        text = json.dumps(suite, indent=2, ensure_ascii=False) + "\n"
        if args.write:
            path = Path(settings.expectations_dir) / f"{code}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"ditulis: {path}")
        else:
            sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
