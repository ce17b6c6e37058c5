"""Input safety (issue 8, item 6): no SQL built by string formatting from file content; file names from the landing
zone sanitised before they become archive paths; limits on file size, unpacked size, rows and cells configurable.

The SQL check reads the code (AST), so it fails the moment someone adds `text(f"... {value} ...")`,
`execute("..." % x)` or `"...".format()` SQL: every dynamic SQL string left is listed in ALLOWED with the reason
its interpolated parts cannot come from a file (identifiers from the SQLAlchemy metadata, generated database names).
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
import yaml

from tests.reliability.conftest import PERIOD, ROOT, make_settings, put
from tests.reliability.rows import RowMaker, csv_bytes, table, xlsx_bytes

CODE_DIRS = [ROOT / "plugins" / "tkpk", ROOT / "plugins" / "tkpk_airflow", ROOT / "dags", ROOT / "bench"]
SQL_CALLS = {"text", "execute", "executemany", "exec_driver_sql", "copy_expert", "copy", "sql", "query",
             "read_sql", "read_sql_query", "executescript"}
# (file relative to the project, enclosing function): why the interpolation is safe. Values never reach these.
ALLOWED = {
    ("plugins/tkpk/warehouse/bulk.py", "_copy"):
        "COPY target table and column names from the SQLAlchemy Table; the rows go through COPY's data stream",
    ("plugins/tkpk/warehouse/__init__.py", "analyze"): "ANALYZE of a table name from the SQLAlchemy models, quoted",
    ("bench/eligibility.py", "_bench_warehouse"):
        "CREATE/DROP DATABASE of a name the benchmark generates",
    ("bench/ingest.py", "_pg_database"): "CREATE/DROP DATABASE of a name the benchmark generates",
    ("bench/ingest.py", "drop"): "DROP DATABASE of a name the benchmark generates",
    ("bench/__main__.py", "scratch"): "CREATE/DROP DATABASE of a name the benchmark generates (uuid)",
    ("bench/__main__.py", "drop"): "DROP DATABASE of a name the benchmark generates (uuid)",
    ("bench/view.py", "main"): "DROP INDEX of the view's index names from the migration (the without-index timing)",
}


def _dynamic(node: ast.AST, assigned: dict[str, ast.AST], depth: int = 0) -> bool:
    """True when `node` builds a string at run time: f-string with fields, % or + on strings, .format(), join."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join",
                                                                                                  "replace"):
        return isinstance(node.func.value, (ast.Constant, ast.JoinedStr, ast.Name, ast.Call)) and (
            node.func.attr != "replace" or _dynamic(node.func.value, assigned, depth + 1))
    if isinstance(node, ast.Name) and node.id in assigned and depth < 3:
        return _dynamic(assigned[node.id], assigned, depth + 1)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "text" and node.args:
        return _dynamic(node.args[0], assigned, depth + 1)
    return False


def dynamic_sql(dirs: list[Path] = CODE_DIRS, root: Path = ROOT) -> list[tuple[str, str, int, str]]:
    """(file, function, line, source) of every SQL-executing call whose SQL is built at run time."""
    found = []
    for folder in dirs:
        for path in sorted(folder.rglob("*.py")):
            if "migrations" in path.parts:
                continue
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
            for fn in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
                assigned = {t.id: n.value for n in ast.walk(fn) if isinstance(n, ast.Assign)
                            for t in n.targets if isinstance(t, ast.Name)}
                for call in [n for n in ast.walk(fn) if isinstance(n, ast.Call)]:
                    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
                    if name not in SQL_CALLS or not call.args:
                        continue
                    arg = call.args[0]
                    looks_sql = name == "text" or not isinstance(arg, ast.Call) or (
                        isinstance(arg.func, ast.Name) and arg.func.id == "text")
                    if looks_sql and _dynamic(arg, assigned):
                        found.append((str(path.relative_to(root)), fn.name, call.lineno,
                                      ast.get_source_segment(source, call)[:160]))
    return found


def test_no_sql_is_built_by_string_formatting():
    found = dynamic_sql()
    offenders = [f for f in found if (f[0], f[1]) not in ALLOWED]
    assert not offenders, "SQL built by string formatting (bind the values, or add a reasoned ALLOWED entry):\n" + \
        "\n".join(f"  {f}:{line} in {fn}: {src}" for f, fn, line, src in offenders)
    stale = set(ALLOWED) - {(f, fn) for f, fn, _l, _s in found}
    assert not stale, f"ALLOWED entries that no longer match any code: {sorted(stale)}"


def test_the_sql_check_catches_what_it_must(tmp_path):
    """The scanner itself: planted SQL built from a file's values is reported, bound parameters are not."""
    (tmp_path / "planted.py").write_text(
        "from sqlalchemy import text\n\n\ndef load(conn, row):\n"
        "    conn.execute(text(f\"SELECT * FROM staged_row WHERE nama = '{row['nama']}'\"))\n"
        "    sql = 'DELETE FROM finding WHERE value = %s' % row['nik']\n    conn.exec_driver_sql(sql)\n"
        "    conn.execute(text('SELECT 1 FROM finding WHERE value = :v'), {'v': row['nik']})\n"
        "    cur.execute('UPDATE t SET a = ' + row['a'])\n"
        "    conn.execute(text('SELECT * FROM {} WHERE x = 1'.format(row['table'])))\n")
    found = dynamic_sql([tmp_path], tmp_path)
    assert sorted({line for _f, _fn, line, _src in found}) == [5, 7, 9, 10], found  # not line 8 (bound)


HOSTILE_NAMES = ["../../etc/passwd.csv", "..\\..\\windows\\win.ini", "/etc/shadow", "C:\\data\\x.xlsx",
                 "....csv", ".hidden.csv", "data\x00.csv", "laporan\n2026\t.xlsx", "\u202excod.csv", "", "..",
                 "%2e%2e%2fetc%2fpasswd.csv", "a" * 300 + ".xlsx", "Data Penerima – Oktober ✓.xlsx", "CON.csv",
                 "file:///etc/passwd", "s3://other-bucket/key.csv"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_safe_name_cannot_escape(name):
    import re

    from tkpk.ingest.load import safe_name

    safe = safe_name(name)
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", safe), safe
    assert ".." not in safe and "/" not in safe and "\\" not in safe and len(safe) <= 120


@pytest.mark.parametrize("store", ["file", "memory"])
def test_archive_paths_stay_inside_the_archive(tmp_path, store):
    import fsspec

    from tkpk.ingest.load import archive_file
    from tkpk.period import Period

    archive = (tmp_path / "archive").as_uri() if store == "file" else "memory://tkpk-archive"
    settings = make_settings(tmp_path, None, archive_url=archive)
    for name in HOSTILE_NAMES:
        uri = archive_file(settings, Period.parse(PERIOD), "../../opd", "..\\type", name, "ab" * 32, b"x")
        fs, path = fsspec.core.url_to_fs(uri)
        root = fsspec.core.url_to_fs(archive)[1].rstrip("/")
        normal = Path(path).resolve() if store == "file" else Path("/" + path.lstrip("/"))
        assert str(normal).startswith(str(Path(root).resolve() if store == "file" else "/" + root.lstrip("/"))), uri
        assert ".." not in Path(path).relative_to(root).parts
        assert fs.cat_file(path) == b"x"


def _config_with_limits(tmp_path: Path, **limits) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(ROOT / "include" / "config", folder)
    path = folder / "submission_types.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["file_limits"].update(limits)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


def test_size_and_unpacked_limits_come_from_config(sqlite_warehouse, tmp_path, config):
    from tkpk.ingest import BatchRejected, load_submission

    rm = RowMaker(config, PERIOD, 4)
    header, rows = table(config, "pertanian_bibit", rm.rows("pertanian_bibit", 3000))
    big_csv = csv_bytes(header, rows)
    xlsx = xlsx_bytes({"Data": [header, *rows]})
    settings = make_settings(tmp_path, sqlite_warehouse,
                             config_dir=_config_with_limits(tmp_path, max_file_mb=0.15, max_uncompressed_mb=0.2))
    put(settings, "pertanian", "bibit.csv", big_csv)
    with pytest.raises(BatchRejected) as exc:
        load_submission(settings, PERIOD, "pertanian", "pertanian_bibit")
    assert exc.value.counts["findings"]["critical"] == 1 and "melebihi batas 0.15 MB" in exc.value.message
    (Path(settings.landing_url.removeprefix("file://")) / PERIOD / "pertanian" / "bibit.csv").unlink()
    assert len(xlsx) < 0.15 * 1024 * 1024 < len(big_csv)
    put(settings, "pertanian", "bibit.xlsx", xlsx)
    with pytest.raises(BatchRejected) as exc:
        load_submission(settings, PERIOD, "pertanian", "pertanian_bibit")
    assert "batas 0.2 MB" in exc.value.message
    from tkpk.warehouse import upgrade

    other = f"sqlite:///{tmp_path / 'other.db'}"  # a warehouse without the earlier rejection (see below)
    upgrade(other)
    relaxed = make_settings(tmp_path, other, config_dir=_config_with_limits(tmp_path / "r"))
    assert load_submission(relaxed, PERIOD, "pertanian", "pertanian_bibit")["rows_accepted"] == 3000


def test_a_rejected_file_is_checked_again_after_the_config_changed(sqlite_warehouse, tmp_path, config):
    from tkpk.ingest import BatchRejected, load_submission

    rm = RowMaker(config, PERIOD, 4)
    header, rows = table(config, "pertanian_bibit", rm.rows("pertanian_bibit", 3000))
    strict = make_settings(tmp_path, sqlite_warehouse,
                           config_dir=_config_with_limits(tmp_path, max_uncompressed_mb=0.2))
    put(strict, "pertanian", "bibit.xlsx", xlsx_bytes({"Data": [header, *rows]}))
    with pytest.raises(BatchRejected):
        load_submission(strict, PERIOD, "pertanian", "pertanian_bibit")
    relaxed = make_settings(tmp_path, sqlite_warehouse, config_dir=_config_with_limits(tmp_path / "r"))
    assert load_submission(relaxed, PERIOD, "pertanian", "pertanian_bibit")["rows_accepted"] == 3000


def test_row_and_cell_limits_come_from_config(sqlite_warehouse, tmp_path, config):
    """`max_rows` / `max_cells` in file_limits (was bug 5: no limit on rows or cells): a CSV over the row limit and
    an xlsx over the cell limit are rejected with `lembar_terlalu_besar` before their cells are built."""
    from tkpk.config.submissions import FileLimits
    from tkpk.ingest import BatchRejected, load_submission
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import Finding

    assert {"max_rows", "max_cells"} <= set(FileLimits.model_fields)
    assert FileLimits().max_rows >= 1_048_576  # a full Excel sheet of rows is not refused by default
    rm = RowMaker(config, PERIOD, 4)
    header, rows = table(config, "pertanian_bibit", rm.rows("pertanian_bibit", 3000))
    strict = make_settings(tmp_path, sqlite_warehouse,
                           config_dir=_config_with_limits(tmp_path, max_rows=2000, max_cells=5_000))
    put(strict, "pertanian", "bibit.csv", csv_bytes(header, rows))
    with pytest.raises(BatchRejected) as exc:
        load_submission(strict, PERIOD, "pertanian", "pertanian_bibit")
    assert "melebihi batas 2.000 baris" in exc.value.message
    with session_scope(sqlite_warehouse) as s:
        assert {f.check for f in s.query(Finding)} == {"lembar_terlalu_besar"}
    (Path(strict.landing_url.removeprefix("file://")) / PERIOD / "pertanian" / "bibit.csv").unlink()
    put(strict, "pertanian", "bibit.xlsx", xlsx_bytes({"Data": [header, *rows[:1500]]}))
    with pytest.raises(BatchRejected) as exc:
        load_submission(strict, PERIOD, "pertanian", "pertanian_bibit")
    assert f"1.501 baris x {len(header)} kolom" in exc.value.message and "batas 5.000 sel" in exc.value.message
    relaxed = make_settings(tmp_path, sqlite_warehouse, config_dir=_config_with_limits(tmp_path / "r"))
    assert load_submission(relaxed, PERIOD, "pertanian", "pertanian_bibit")["rows_accepted"] == 1500
