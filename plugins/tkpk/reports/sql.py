"""Run the report SQL files in `include/sql/` against the warehouse and return pandas DataFrames.

The files are portable SQL (SQLite, PostgreSQL, MariaDB) with bound parameters (`:period`), never formatted strings.
Identifiers that are reserved words (`"check"`, `"rank"`, `"row_number"`) are written with standard double quotes;
on MariaDB/MySQL the session runs with ANSI_QUOTES so the same text works there.

Building or sending a month's reports asks some questions once per report scope with the same parameters (the
verification figures, the families receiving a program): inside `reuse_results(conn)` such a repeated query runs
once and each caller gets its own copy of the result (results up to REUSE_MAX_CELLS; the large by-name lists differ
per scope anyway and are not kept).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, text

REUSE_MAX_CELLS = 250_000
_reuse: ContextVar[tuple[Connection, dict] | None] = ContextVar("tkpk_reports_sql_reuse", default=None)


@contextmanager
def reuse_results(conn: Connection) -> Iterator[None]:
    """Within the block, `query` on `conn` runs each (file, parameters) once. Only for reading: nothing may change the
    warehouse through `conn` meanwhile."""
    token = _reuse.set((conn, {}))
    try:
        yield
    finally:
        _reuse.reset(token)


@lru_cache(maxsize=64)
def _read(path: str, mtime: float) -> str:
    # whole-line comments go: they document the parameters, and `:name` in a comment would be read as a bind
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("--"))


def load_sql(sql_dir: Path, name: str) -> str:
    path = Path(sql_dir) / f"{name}.sql"
    return _read(str(path), path.stat().st_mtime)


def prepare(conn: Connection) -> None:
    """Per-connection settings the SQL files rely on."""
    if conn.dialect.name in ("mysql", "mariadb"):
        conn.exec_driver_sql("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',ANSI_QUOTES')")


def query(conn: Connection, sql_dir: Path, name: str, **params) -> pd.DataFrame:
    """Run `include/sql/{name}.sql` with bound parameters; column names as the SQL gives them (lower case)."""
    reuse = _reuse.get()
    if reuse is None or reuse[0] is not conn:
        return _run(conn, sql_dir, name, params)
    key = (str(sql_dir), name, tuple(sorted(params.items())))
    kept = reuse[1].get(key)
    if kept is None:
        kept = _run(conn, sql_dir, name, params)
        if kept.size > REUSE_MAX_CELLS:
            return kept
        reuse[1][key] = kept
    return kept.copy()


def _run(conn: Connection, sql_dir: Path, name: str, params: dict) -> pd.DataFrame:
    result = conn.execute(text(load_sql(sql_dir, name)), params)
    columns = [c.lower() for c in result.keys()]
    # The driver's own tuples: a text() query has no result types for SQLAlchemy to process, and making a Row of
    # each of half a million by-name rows, then a tuple again for pandas, cost 3 s of a province build.
    try:
        rows = result.cursor.fetchall() if result.returns_rows else []
    finally:
        result.close()
    frame = pd.DataFrame(rows, columns=columns)
    for column in frame.columns:
        # PostgreSQL and MariaDB return SUM() over integers as NUMERIC (Decimal): back to plain numbers
        values = frame[column]
        if values.dtype == object and values.map(lambda v: isinstance(v, Decimal)).any():
            numbers = pd.to_numeric(values.map(lambda v: float(v) if isinstance(v, Decimal) else v))
            integral = numbers.dropna().map(float.is_integer).all()
            frame[column] = numbers.astype("Int64") if integral else numbers
    return frame
