"""Options shared by several `tkpk` commands, so each is parsed and explained the same way everywhere.

`add_period(parser)` adds `--period YYYY-MM`; `args.period` is then a `tkpk.period.Period`. A bad value is a usage
error (exit code 1) with the same Indonesian message for every command. The type raises `UsageError`, which
argparse does not catch (it handles only ArgumentTypeError, TypeError and ValueError from a type), so the message
reaches `tkpk.cli.main` as it is, without argparse's English prefix and exit code 2.
"""

from __future__ import annotations

from tkpk.period import Period


def period_type(text: str) -> Period:
    """argparse `type=` for a reporting period `YYYY-MM`."""
    from tkpk.cli import UsageError

    try:
        return Period.parse(text)
    except ValueError as exc:
        raise UsageError(f"--period: {exc}") from None


def add_period(parser, *, required: bool = True, help: str = "periode laporan, YYYY-MM (misalnya 2026-10)"):
    """Add `--period YYYY-MM` to a (sub)parser; `args.period` is a `Period` (or None when optional and absent)."""
    return parser.add_argument("--period", type=period_type, required=required, default=None, metavar="YYYY-MM",
                               help=help)
