"""One `--period` option type for every `tkpk` command (tkpk.cli.options)."""

from __future__ import annotations

import argparse

import pytest

from tkpk.cli import build_parser, main
from tkpk.cli.options import period_type
from tkpk.period import Period


def _period_options(parser: argparse.ArgumentParser, path=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _period_options(sub, (*path, name))
        elif "--period" in action.option_strings:
            yield path, action


def test_every_period_option_uses_the_one_type():
    found = list(_period_options(build_parser()))
    commands = {" ".join(path) for path, _ in found}
    assert {"eligibility", "link period", "report build", "report send", "report lists", "review export", "status",
            "submit", "synth", "validate"} <= commands
    assert [" ".join(p) for p, a in found if a.type is not period_type] == []


@pytest.mark.parametrize("argv", [
    ["status", "--period", "2026-13"],
    ["report", "build", "--period", "10-2026"],
    ["review", "export", "--period", "2026-1", "--out", "x.xlsx"],
    ["link", "period", "--period", "Oktober"],
    ["validate", "berkas.xlsx", "--type", "dinsos_kpm", "--period", "2026/10"],
])
def test_a_bad_period_is_the_same_indonesian_usage_error_everywhere(argv, capsys):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("Kesalahan: --period: Periode '") and "gunakan format YYYY-MM, misalnya 2026-10" in err


def test_the_option_gives_a_period():
    args = build_parser().parse_args(["status", "--period", " 2026-10 "])
    assert args.period == Period(2026, 10)
