"""One bulk insert for the whole warehouse: a pandas DataFrame, a pyarrow Table or a dict of columns into a table,
inside the caller's transaction (a Session or a Connection: nothing is committed here, a rollback leaves nothing).

PostgreSQL: `COPY ... FROM STDIN (FORMAT csv)` in chunks of `COPY_CHUNK` rows; each chunk is converted to Arrow and
written as CSV by pyarrow in a helper thread while the previous chunk is being sent (pyarrow's CSV writer releases
the GIL, so client and server work overlap). pyarrow quotes every string, so an empty string is `""` and a NULL is an
empty unquoted field: the two stay apart, and a text `\\N` is just text.
SQLite, MariaDB/MySQL (and PostgreSQL through a driver other than psycopg 3 / psycopg2): SQLAlchemy Core
`insert(table)` executemany in chunks of `INSERT_CHUNK` rows; each chunk's parameters are built from its Arrow
columns only when it is sent.

Either way at most one or two chunks exist as Python objects or CSV text at a time: the caller's frame is never turned
into a list of per-row dicts.

Values are converted by the SQL type of the target column, the same way on every database:
- JSON: a `str` is taken as JSON text already serialised (what `json_objects` builds); dicts, lists, numbers and
  booleans are serialised with `json.dumps`; None/NaN/NA is SQL NULL.
- Date: `datetime.date`, datetime64 / Timestamps (the time part dropped) or ISO `YYYY-MM-DD` text.
- Boolean: bool, pandas `boolean`, 0/1.
- Integer / BigInteger: int64 kept exact (Python ints, numpy ints, pandas `Int64`); floats only when integral
  (pandas turns ints with NaN into floats); a fractional value raises.
- String / Text: strings, categoricals; other values are cast to text.
Missing values of any kind (None, NaN, NaT, pd.NA) become SQL NULL. Table columns absent from the frame get their
Python-side `default=` (once per call) when they have one, else the server default / NULL, on every database.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from sqlalchemy import JSON, Boolean, Date, DateTime, Float, Integer, String, Table, bindparam, insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

COPY_CHUNK = 100_000
INSERT_CHUNK = 10_000

__all__ = ["COPY_CHUNK", "INSERT_CHUNK", "bulk_insert", "insert_frame", "json_objects", "pa_null"]


# --- building Arrow columns ------------------------------------------------------------------------------------------


def _arrow(values, n: int):
    """A pyarrow array from a Series, ndarray, list or scalar (broadcast to `n` rows)."""
    import pyarrow as pa

    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    if isinstance(values, pd.Series):
        if pd.api.types.is_datetime64_any_dtype(values):
            return pa.array(values).cast(pa.date32())
        if isinstance(values.dtype, pd.StringDtype):
            return pa.array(values.array)
        return pa.array(values, from_pandas=True)
    if isinstance(values, (list, tuple)) or hasattr(values, "__array__"):
        return pa.array(values, from_pandas=True)
    return pa.repeat(values, n)


def _json_literal(values: pd.Series, plain: bool = False):
    """Each value as a JSON literal (text): strings quoted and escaped, numbers as digits, dates as ISO, null.
    `plain`: the values cannot hold a quote, backslash or control character (digits, codes, ISO dates), so the
    escaping passes are skipped."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = _arrow(values, len(values))
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type) or pa.types.is_boolean(arr.type):
        lit = pc.cast(arr, pa.string())
        if pa.types.is_boolean(arr.type):
            lit = pc.if_else(arr, "true", "false")
    else:
        if pa.types.is_null(arr.type):
            arr = arr.cast(pa.string())
        text = pc.cast(arr, pa.string())
        if not plain:
            text = pc.replace_substring(text, "\\", "\\\\")
            text = pc.replace_substring(text, '"', '\\"')
            text = pc.replace_substring_regex(text, "[\x00-\x1f]", " ")
        lit = pc.binary_join_element_wise('"', text, '"', "")
    return pc.fill_null(lit, "null")


def json_objects(frame: pd.DataFrame, columns: list[str], plain: frozenset[str] = frozenset()):
    """One JSON object per row over `columns` (Arrow string array); `plain` columns need no escaping."""
    import pyarrow.compute as pc

    parts: list = ["{"]
    for i, c in enumerate(columns):
        parts.append(("," if i else "") + json.dumps(c) + ":")
        parts.append(_json_literal(frame[c], plain=c in plain))
    parts.append("}")
    return pc.binary_join_element_wise(*parts, "")


def pa_null(n: int, column: str):
    """An all-NULL column of `n` rows (date-typed for `tanggal_lahir`, text otherwise)."""
    import pyarrow as pa

    return pa.nulls(n, type=pa.date32() if column == "tanggal_lahir" else pa.string())


def _target_type(sqltype):
    """The Arrow type a column of this SQL type is sent as (None: as the values come)."""
    import pyarrow as pa

    if isinstance(sqltype, JSON):
        return pa.large_string()
    if isinstance(sqltype, Boolean):
        return pa.bool_()
    if isinstance(sqltype, Integer):
        return pa.int64()
    if isinstance(sqltype, Float):
        return pa.float64()
    if isinstance(sqltype, DateTime):
        return None
    if isinstance(sqltype, Date):
        return pa.date32()
    if isinstance(sqltype, String):  # Text, Unicode, Enum too
        return pa.large_string()
    return None


def _json_text(values) -> list:
    """JSON text per value: str as given (already JSON), other values serialised, missing as None."""
    out = []
    for v in values:
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
            out.append(None)
        elif isinstance(v, str):
            out.append(v)
        else:
            out.append(json.dumps(v, default=_json_default))
    return out


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be written as JSON")


def _pandas_column(values: pd.Series, sqltype):
    """One chunk of a pandas column as an Arrow array, before the cast to the target type."""
    import pyarrow as pa

    if isinstance(sqltype, JSON) and values.dtype == object:
        return pa.array(_json_text(values.to_numpy()), type=pa.large_string())
    if isinstance(values.dtype, pd.CategoricalDtype):
        return pa.array(values, from_pandas=True).dictionary_decode()
    if isinstance(values.dtype, pd.StringDtype):
        return pa.array(values.array)
    try:
        return pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        if not isinstance(sqltype, String):
            raise
        # mixed Python values in a text column: their str()
        arr = values.to_numpy(object)
        missing = pd.isna(arr)
        return pa.array([None if m else str(v) for v, m in zip(arr, missing, strict=True)], type=pa.large_string())


def _coerce(arr, sqltype, name: str):
    """Cast an Arrow array to what the SQL column takes (see the module docstring)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    target = _target_type(sqltype)
    if target is None or arr.type == target:
        return arr
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), type=target)
    try:
        if pa.types.is_date32(target) and pa.types.is_timestamp(arr.type):
            if arr.type.tz is not None:
                arr = arr.cast(pa.timestamp(arr.type.unit))
        if pa.types.is_large_string(target) and pa.types.is_boolean(arr.type):
            return pc.if_else(arr, "true", "false").cast(target)
        return pc.cast(arr, target)  # safe cast: 1.5 -> int64 raises instead of truncating
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(f"column {name}: cannot write {arr.type} values as {sqltype}: {exc}") from exc


# --- the frame, chunk by chunk ------------------------------------------------------------------------------------------


class _Source:
    """The rows to insert (pandas or Arrow), the column list, an optional row order; yields Arrow record batches."""

    def __init__(self, table: Table, data, sort_by: str | None):
        import pyarrow as pa
        import pyarrow.compute as pc

        if isinstance(data, pa.RecordBatch):
            data = pa.Table.from_batches([data])
        if isinstance(data, pd.DataFrame):
            self.pandas, self.arrow = data, None
            names = [str(c) for c in data.columns]
            self.n = len(data)
        elif isinstance(data, pa.Table):
            self.pandas, self.arrow = None, data
            names = list(data.column_names)
            self.n = data.num_rows
        else:
            raise TypeError(f"insert_frame takes a pandas DataFrame or a pyarrow Table, not {type(data).__name__}")
        unknown = [c for c in names if c not in table.c]
        if unknown:
            raise ValueError(f"{table.name} has no column(s) {', '.join(unknown)}")
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate column names for {table.name}: {names}")
        self.table = table
        self.names = names
        self.types = {c: table.c[c].type for c in names}
        # Python-side scalar/callable defaults of absent columns: filled in the same way on every database
        self.defaults: dict = {}
        for col in table.columns:
            if col.name in names or col.default is None or not (col.default.is_scalar or col.default.is_callable):
                continue
            self.defaults[col.name] = col.default.arg if col.default.is_scalar else col.default.arg(None)
        self.columns = names + list(self.defaults)
        self.order = None
        if sort_by is not None and self.n:
            key = self.arrow[sort_by] if self.arrow is not None else pa.array(self.pandas[sort_by], from_pandas=True)
            self.order = pc.sort_indices(key)  # taken chunk by chunk: no sorted copy of the whole frame

    def batch(self, start: int, size: int):
        """Rows [start, start+size) (in `sort_by` order when given) as an Arrow RecordBatch of target types."""
        import pyarrow as pa

        idx = None if self.order is None else self.order.slice(start, size)
        if self.arrow is not None:
            part = self.arrow.slice(start, size) if idx is None else self.arrow.take(idx)
            arrays = [part[c] for c in self.names]
        else:
            part = (self.pandas.iloc[start:start + size] if idx is None
                    else self.pandas.take(idx.to_numpy(zero_copy_only=False)))
            arrays = [_pandas_column(part.iloc[:, i], self.types[c]) for i, c in enumerate(self.names)]
        rows = len(arrays[0]) if arrays else min(size, self.n - start)
        out = [_coerce(a, self.types[c], c) for a, c in zip(arrays, self.names, strict=True)]
        for c, value in self.defaults.items():
            sqltype = self.table.c[c].type
            if isinstance(sqltype, JSON):
                value = json.dumps(value)
            out.append(_coerce(pa.repeat(value, rows) if value is not None else pa.nulls(rows), sqltype, c))
        return pa.RecordBatch.from_arrays(out, names=self.columns)

    def batches(self, size: int) -> Iterator:
        for start in range(0, self.n, size):
            yield self.batch(start, size)


# --- public API ------------------------------------------------------------------------------------------------------


def insert_frame(target: Session | Connection, table, data, *, sort_by: str | None = None,
                 chunk_rows: int | None = None) -> int:
    """Insert every row of `data` (pandas DataFrame or pyarrow Table, columns named as the table's) into `table`
    (a Table or a mapped class) inside the transaction of `target` (Session or Connection). `sort_by`: a column to
    insert in order of (PostgreSQL index pages then fill in order). Returns the number of rows."""
    if len(data) == 0:  # DataFrame, Table and RecordBatch all have len(); an empty frame's columns are not checked
        return 0
    table = getattr(table, "__table__", table)
    conn = target.connection() if isinstance(target, Session) else target
    source = _Source(table, data, sort_by)
    if conn.dialect.name == "postgresql" and conn.dialect.driver in ("psycopg", "psycopg2"):
        _copy(conn, source, chunk_rows or COPY_CHUNK)
    else:
        _executemany(conn, source, chunk_rows or INSERT_CHUNK)
    return source.n


def bulk_insert(session, table, columns: dict, n: int, *, sort_by: str | None = None) -> int:
    """Insert `n` rows given as `columns` (name -> Series / array / list / pyarrow array / scalar broadcast) into
    `table` inside the session's transaction; see `insert_frame`."""
    import pyarrow as pa

    if n == 0:
        return 0
    data = pa.table({name: _arrow(values, n) for name, values in columns.items()})
    return insert_frame(session, table, data, sort_by=sort_by)


def _copy(conn: Connection, source: _Source, chunk_rows: int) -> None:
    """COPY in chunks of CSV; the next chunk is converted and written by a helper thread while the server ingests
    the current one."""
    import pyarrow.csv as pcsv

    prep = conn.dialect.identifier_preparer
    cols = ", ".join(prep.quote(c) for c in source.columns)
    sql = f"COPY {prep.format_table(source.table)} ({cols}) FROM STDIN WITH (FORMAT csv)"
    options = pcsv.WriteOptions(include_header=False)
    dbapi = conn.connection.dbapi_connection
    driver = conn.dialect.driver

    def render(start: int) -> bytes:
        buf = io.BytesIO()
        pcsv.write_csv(source.batch(start, chunk_rows), buf, write_options=options)
        payload = buf.getvalue()
        # PostgreSQL text cannot hold NUL and COPY would fail the whole batch; the reader already removed NULs from
        # the values (with a finding), this is the last line of defence.
        return payload.replace(b"\x00", b"") if b"\x00" in payload else payload

    starts = list(range(0, source.n, chunk_rows))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tkpk-copy") as pool:
        pending = pool.submit(render, starts[0])
        for i in range(len(starts)):
            payload = pending.result()
            pending = pool.submit(render, starts[i + 1]) if i + 1 < len(starts) else None
            cur = dbapi.cursor()
            try:
                if driver == "psycopg":
                    with cur.copy(sql) as copy:
                        copy.write(payload)
                else:
                    cur.copy_expert(sql, io.BytesIO(payload))
            finally:
                cur.close()
            del payload


def _executemany(conn: Connection, source: _Source, chunk_rows: int) -> None:
    """Core insert() executemany, one chunk's parameters at a time. JSON columns are bound as text (they are
    already serialised; PostgreSQL drivers other than psycopg get an explicit cast), every other column with its
    own type (dates, booleans as the dialect wants them)."""
    from sqlalchemy import Text, cast

    def param(c: str, key: str):
        sqltype = source.table.c[c].type
        if not isinstance(sqltype, JSON):
            return bindparam(key, type_=sqltype)
        text = bindparam(key, type_=Text())
        return cast(text, sqltype) if conn.dialect.name == "postgresql" else text

    keys = {c: f"p{i}" for i, c in enumerate(source.columns)}
    stmt = insert(source.table).values({c: param(c, keys[c]) for c in source.columns})
    names = [keys[c] for c in source.columns]
    for batch in source.batches(chunk_rows):
        values = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        conn.execute(stmt, [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)])
