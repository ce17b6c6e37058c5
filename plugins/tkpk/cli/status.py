"""`tkpk status --period YYYY-MM [--json]`: the submission matrix for stewards."""

from __future__ import annotations

import json

from tkpk.cli.options import add_period
from tkpk.settings import Settings


def register(sub) -> None:
    p = sub.add_parser("status", help="matriks kiriman OPD untuk satu periode")
    add_period(p)
    p.add_argument("--json", action="store_true", help="keluaran JSON")
    p.add_argument("--database-url", default=None)
    p.set_defaults(func=run)


def run(args) -> int:
    from tkpk.status import format_matrix, submission_matrix

    period = str(args.period)
    settings = Settings.from_env()
    matrix = submission_matrix(args.database_url or settings.database_url, period, settings=settings)
    print(json.dumps(matrix, ensure_ascii=False, indent=2, default=str) if args.json else format_matrix(matrix))
    return 0
