"""The one bulk insert of the warehouse (tkpk.warehouse.bulk): the same values come back on SQLite, PostgreSQL (COPY,
psycopg2 and psycopg 3) and MariaDB (executemany), inside the caller's transaction."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    func,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tkpk.warehouse import bulk
from tkpk.warehouse.bulk import bulk_insert, insert_frame

metadata = MetaData()
THINGS = Table(
    "bulk_thing", metadata,
    Column("thing_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("pos", Integer, nullable=False),
    Column("label", String(100)),
    Column("body", Text),
    Column("flag", Boolean),
    Column("born", Date),
    Column("at", DateTime),
    Column("small", Integer),
    Column("big", BigInteger),
    Column("ratio", Float),
    Column("data", JSON),
    Column("kind", String(10), default="biasa"),  # absent from the frames: Python default on every database
)

BIG = 9_007_199_254_740_993  # 2**53 + 1: not representable as a float64
TRICKY_TEXT = ['a,b', 'kata "kutip"', "baris\nbaru", "\\N", "", "Ñoño — 漢字", "\r\n\t", "NULL"]
TRICKY_JSON = [{"q": 'dia bilang "ya"', "nl": "a\nb", "u": "Dési ✓ 漢"}, {"list": [1, None, True], "n": BIG},
               {}, [], 3, None]


def _url(request, kind: str) -> str:
    if kind == "psycopg3":
        return make_url(request.getfixturevalue("pg_url")).set(drivername="postgresql+psycopg").render_as_string(
            hide_password=False)
    return request.getfixturevalue(kind)


@pytest.fixture(params=["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres),
                        pytest.param("psycopg3", marks=pytest.mark.postgres), "mysql_url"])
def engine(request):
    eng = create_engine(_url(request, request.param))
    metadata.create_all(eng)
    yield eng
    eng.dispose()


def _frame(n: int) -> pd.DataFrame:
    """n rows; every column has NULLs (every 7th row is all-NULL)."""
    i = np.arange(n)
    null = i % 7 == 3
    text = pd.Series([TRICKY_TEXT[k % len(TRICKY_TEXT)] for k in i], dtype=object)
    df = pd.DataFrame({
        "pos": i,
        "label": pd.Series([f"L{k}" for k in i], dtype="str").where(~null),
        "body": text.where(~null, None),
        "flag": pd.array([bool(k % 2) for k in i], dtype="boolean"),
        "born": pd.Series([date(1950 + k % 70, 1 + k % 12, 1 + k % 28) for k in i], dtype=object),
        "at": pd.Series(pd.to_datetime("2026-10-01 08:30:00") + pd.to_timedelta(i, unit="min")),
        "small": pd.array(i % 1000, dtype="Int64"),
        "big": pd.Series([BIG + k for k in i], dtype=object),
        "ratio": (i / 4).astype(float),
        "data": pd.Series([TRICKY_JSON[k % len(TRICKY_JSON)] for k in i], dtype=object),
    })
    for col in ("flag", "small"):
        df.loc[null, col] = pd.NA
    df.loc[null, "born"] = None
    df.loc[null, "at"] = pd.NaT
    df.loc[null, "big"] = None
    df.loc[null, "ratio"] = np.nan
    df.loc[null, "data"] = None
    return df


def _read(eng) -> list[dict]:
    with eng.connect() as conn:
        return [dict(r) for r in conn.execute(select(THINGS).order_by(THINGS.c.pos)).mappings()]


def _col(rows: list[dict], name: str) -> list:
    return [r[name] for r in rows]


def _expected(df: pd.DataFrame, k: int) -> dict:
    row = df.iloc[k]
    return {c: (None if (not isinstance(row[c], (dict, list)) and pd.isna(row[c])) else row[c]) for c in df.columns}


def test_round_trip_of_every_type_with_nulls(engine):
    df = _frame(30)
    with Session(engine) as s, s.begin():
        assert insert_frame(s, THINGS, df) == 30
    got = _read(engine)
    assert len(got) == 30 and all(r["thing_id"] is not None for r in got)
    for k in range(30):
        want, have = _expected(df, k), got[k]
        if k % 7 == 3:  # the all-NULL row: SQL NULL in every column, nothing turned into '' or 0 or 'null'
            assert all(have[c] is None for c in df.columns if c != "pos"), have
            assert have["kind"] == "biasa"
            continue
        assert have["label"] == want["label"]
        assert have["body"] == want["body"]  # '' stays '' (not NULL); '\N' and 'NULL' stay text
        assert bool(have["flag"]) is bool(want["flag"])
        assert have["born"] == want["born"]
        assert pd.Timestamp(have["at"]) == want["at"]
        assert have["small"] == int(want["small"])
        assert have["big"] == want["big"]  # exact: no float on the way
        assert have["ratio"] == pytest.approx(want["ratio"])
        assert have["data"] == want["data"]
        assert have["kind"] == "biasa"


def test_json_text_and_iso_dates_as_ingest_builds_them(engine):
    """A JSON column given as text (json_objects) is stored as that JSON, not as a JSON string; ISO date text and
    datetime64 become dates; a scalar is broadcast."""
    source = pd.DataFrame({"nama": ['Siti "Ani"', "baris\nbaru", None], "nik": ["1571011203800001", None, "2"]})
    with Session(engine) as s, s.begin():
        n = bulk_insert(s, THINGS, {
            "pos": np.arange(3),
            "label": "sama",
            "born": pd.Series(["2026-01-31", None, "1999-12-01"], dtype="str"),
            "at": pd.Series(pd.to_datetime(["2026-10-01", None, "2026-10-03"])),
            "data": bulk.json_objects(source, ["nama", "nik"], plain=frozenset({"nik"})),
        }, 3, sort_by="pos")
    assert n == 3
    got = _read(engine)
    assert _col(got, "label") == ["sama"] * 3
    assert _col(got, "born") == [date(2026, 1, 31), None, date(1999, 12, 1)]
    assert [None if v is None else pd.Timestamp(v).day for v in _col(got, "at")] == [1, None, 3]
    assert _col(got, "data") == [{"nama": 'Siti "Ani"', "nik": "1571011203800001"},
                                    {"nama": "baris baru", "nik": None}, {"nama": None, "nik": "2"}]


@pytest.mark.parametrize("n", [0, 1, 4, 5, 9])
def test_chunk_boundaries(engine, monkeypatch, n):
    """Chunks of 4 rows: every row arrives once, in the requested order, on both paths (COPY and executemany)."""
    df = _frame(n).iloc[::-1].reset_index(drop=True)
    with Session(engine) as s, s.begin():
        assert insert_frame(s, THINGS, df, chunk_rows=4, sort_by="pos") == n
    got = _read(engine)
    assert _col(got, "pos") == list(range(n))
    # inserted in `pos` order: the autoincrement ids follow it
    assert _col(got, "thing_id") == sorted(_col(got, "thing_id"))
    assert _col(got, "body") == [_expected(_frame(n), k)["body"] for k in range(n)]


def test_arrow_table_and_categoricals(engine):
    df = pd.DataFrame({"pos": [1, 2, 3], "label": pd.Categorical(["x", None, "x"]),
                       "small": [1.0, np.nan, 3.0], "flag": [1, 0, 1]})
    with Session(engine) as s, s.begin():
        insert_frame(s, THINGS, df)
        insert_frame(s, THINGS, pa.table({"pos": [4], "label": ["y"], "big": pa.array([BIG], pa.int64())}))
    got = _read(engine)
    assert _col(got, "label") == ["x", None, "x", "y"]
    assert _col(got, "small") == [1, None, 3, None]
    assert [bool(v) for v in _col(got, "flag")[:3]] == [True, False, True]
    assert _col(got, "big")[3] == BIG


def test_fractional_value_in_integer_column_is_refused(engine):
    with Session(engine) as s, s.begin(), pytest.raises(ValueError, match="small"):
        insert_frame(s, THINGS, pd.DataFrame({"pos": [1], "small": [1.5]}))


def test_unknown_column_is_refused(engine):
    with Session(engine) as s, s.begin(), pytest.raises(ValueError, match="tidak_ada"):
        insert_frame(s, THINGS, pd.DataFrame({"pos": [1], "tidak_ada": [1]}))


def test_writes_inside_the_callers_transaction(engine):
    df = _frame(12)
    with pytest.raises(RuntimeError, match="gagal"), Session(engine) as s, s.begin():
        insert_frame(s, THINGS, df, chunk_rows=5)
        assert s.scalar(select(func.count()).select_from(THINGS)) == 12  # visible inside the transaction
        raise RuntimeError("gagal setelah insert")
    assert _read(engine) == []
    with engine.connect() as conn, conn.begin() as tx:  # a Connection as the target
        insert_frame(conn, THINGS, df)
        assert conn.scalar(select(func.count()).select_from(THINGS)) == 12
        tx.rollback()
    assert _read(engine) == []


def test_timezone_aware_timestamps_for_dates_and_datetimes():
    """Conversions that need no database: tz-aware timestamps to date, bools to text."""
    from tkpk.warehouse.bulk import _coerce

    at = pa.array([datetime(2026, 10, 1, 23, 0, tzinfo=UTC), None])
    assert _coerce(at, Date(), "d").to_pylist() == [date(2026, 10, 1), None]
    assert _coerce(pa.array([True, None]), Text(), "t").to_pylist() == ["true", None]


def test_empty_frame_writes_nothing_whatever_its_columns(engine):
    with Session(engine) as s, s.begin():
        assert insert_frame(s, THINGS, pd.DataFrame(columns=["pos", "not_a_column"])) == 0
        assert insert_frame(s, THINGS, pa.table({"pos": pa.array([], pa.int64())})) == 0
        assert bulk_insert(s, THINGS, {"pos": []}, 0) == 0
    assert _read(engine) == []


def test_exported_from_the_warehouse_package():
    from tkpk.warehouse import insert_frame as exported

    assert exported is insert_frame


@pytest.mark.postgres
def test_postgresql_without_copy_takes_the_executemany_path(pg_url):
    """A PostgreSQL driver without COPY support gets Core executemany, with JSON text cast to json."""
    eng = create_engine(pg_url)
    metadata.create_all(eng)
    df = _frame(9)
    with eng.begin() as conn:
        bulk._executemany(conn, bulk._Source(THINGS, df, None), 4)
    got = _read(eng)
    eng.dispose()
    assert _col(got, "data") == [_expected(df, k)["data"] for k in range(9)]
    assert _col(got, "body") == [_expected(df, k)["body"] for k in range(9)]
    assert _col(got, "big") == [_expected(df, k)["big"] for k in range(9)]
