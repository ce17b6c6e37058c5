"""`tkpk`: the command line for stewards, OPD officers and developers.

Each command group lives in its own module with a `register(subparsers)` function; output for people is in
Bahasa Indonesia. Exit codes: 0 success, 1 usage error, 2 a file or check was rejected (where a command says so).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# One module per command group, in the order `tkpk --help` lists them.
COMMAND_MODULES = [
    "db", "registry", "synth", "validate", "template", "submit", "link", "review", "eligibility",
    "status", "report", "mailsink", "purge", "verval",
]


class UsageError(Exception):
    """A mistake in how the command was called (exit code 1, message on stderr)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tkpk", description="Pipeline data TKPK Kota Jambi")
    sub = parser.add_subparsers(dest="command", metavar="PERINTAH")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"tkpk.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"tkpk.cli.{name}":
                continue  # command group not built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"Kesalahan: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
