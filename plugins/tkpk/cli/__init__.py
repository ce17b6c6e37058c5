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
    "status", "report", "mailsink", "purge", "simulate", "verval",
]


# argparse's own words (usage, errors, the help flag) in Indonesian: argparse looks every message up through
# `argparse._` (gettext), so a table of translations is all it takes.
_ARGPARSE_ID = {
    "usage: ": "pemakaian: ",
    "positional arguments": "argumen",
    "options": "opsi",
    "show this help message and exit": "tampilkan bantuan ini lalu keluar",
    "%(prog)s: error: %(message)s\n": "%(prog)s: kesalahan: %(message)s\n",
    "the following arguments are required: %s": "argumen berikut wajib diisi: %s",
    "unrecognized arguments: %s": "argumen tidak dikenal: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "pilihan tidak valid: %(value)r (pilih salah satu: "
                                                           "%(choices)s)",
    "argument %(argument_name)s: %(message)s": "argumen %(argument_name)s: %(message)s",
    "expected one argument": "butuh satu nilai",
    "not allowed with argument %s": "tidak boleh dipakai bersama %s",
    "ambiguous option: %(option)s could match %(matches)s": "opsi %(option)s ambigu, bisa berarti %(matches)s",
    "invalid %(type)s value: %(value)r": "nilai %(type)s tidak valid: %(value)r",
    "one of the arguments %s is required": "salah satu argumen ini wajib: %s",
}


def _indonesian_argparse() -> None:
    import argparse

    original = getattr(argparse, "_tkpk_original_gettext", argparse._)
    argparse._tkpk_original_gettext = original
    argparse._ = lambda text: _ARGPARSE_ID.get(text, original(text))


class UsageError(Exception):
    """A mistake in how the command was called (exit code 1, message on stderr)."""


def build_parser() -> argparse.ArgumentParser:
    _indonesian_argparse()
    parser = argparse.ArgumentParser(prog="tkpk", description="Pipeline data TKPK Kota Jambi. Bantuan tiap "
                                     "perintah: tkpk PERINTAH --help.")
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
    try:
        args = parser.parse_args(argv)  # an option type may raise UsageError (tkpk.cli.options)
        if not getattr(args, "func", None):
            parser.print_help()
            return 1
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # inside the try: a reader that went away shows up here, not as a traceback at exit
        return code
    except UsageError as exc:
        print(f"Kesalahan: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"Kesalahan: berkas atau folder tidak ditemukan: {exc.filename or exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`tkpk validate ... | head`): nothing to report. Point stdout at /dev/null so the
        # interpreter's final flush does not raise again.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
