"""The house rules of the layout (issue #10): the product (plugins/, dags/) never imports the benchmark package, the
runtime requirement set has no Splink or DuckDB, and the production image installs only that set."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = "# ==== bench / dev"
BENCH_ONLY = {"splink", "duckdb"}
# What only benchmarks and tests may import; the product never does.
NOT_RUNTIME = {"bench", "tests", "splink", "duckdb", "pytest", "playwright", "moto"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _sections() -> tuple[list[str], list[str]]:
    lines = (ROOT / "requirements.in").read_text().splitlines()
    assert [ln for ln in lines if ln.startswith(MARKER)] and sum(ln.startswith(MARKER) for ln in lines) == 1
    cut = next(i for i, ln in enumerate(lines) if ln.startswith(MARKER))

    def reqs(part):
        return [_name(ln) for ln in part if ln.strip() and not ln.lstrip().startswith("#")]

    return reqs(lines[:cut]), reqs(lines[cut:])


def test_nothing_in_the_product_imports_the_bench_package_or_bench_only_libraries():
    offenders = {}
    for folder in ("plugins", "dags"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            bad = _imports(path) & NOT_RUNTIME
            if bad:
                offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}
    assert not (ROOT / "plugins" / "tkpk" / "bench").exists()


def test_the_runtime_requirement_set_has_no_splink_or_duckdb():
    runtime, bench_dev = _sections()
    assert "apache-airflow" in runtime and "pandas" in runtime
    assert BENCH_ONLY & set(runtime) == set()
    assert BENCH_ONLY <= set(bench_dev), "the benchmark still needs Splink and DuckDB, in the bench / dev section"
    assert {"pytest", "ruff"} <= set(bench_dev)
    dependencies = re.search(r"(?ms)^dependencies = \[(.*?)^\]", (ROOT / "pyproject.toml").read_text()).group(1)
    declared = {_name(d.strip().strip('",')) for d in dependencies.splitlines() if d.strip().startswith('"')}
    assert declared and declared & BENCH_ONLY == set()
    assert declared <= set(runtime), declared - set(runtime)


def test_the_dockerfile_installs_only_the_runtime_section(tmp_path):
    dockerfile = (ROOT / "Dockerfile").read_text()
    run = re.search(r"RUN (sed .*?requirements-runtime\.in)", dockerfile).group(1)
    assert "bench" in run and "dev" in run
    assert "-r /opt/tkpk/requirements-runtime.in" in dockerfile
    assert not re.search(r"-r \S*requirements\.(in|lock)\b", dockerfile), "the image must not install the whole set"
    assert "COPY --chown=airflow:0 bench" not in dockerfile and not re.search(r"^COPY .*\bbench\b", dockerfile, re.M)
    # The image's own sed command, run on the real file, gives exactly the runtime section.
    (tmp_path / "requirements.in").write_text((ROOT / "requirements.in").read_text())
    command = run.replace("/opt/tkpk/", f"{tmp_path}/")
    subprocess.run(["sh", "-c", command], check=True)
    installed = [_name(ln) for ln in (tmp_path / "requirements-runtime.in").read_text().splitlines()
                 if ln.strip() and not ln.lstrip().startswith("#")]
    assert installed == _sections()[0]
    assert BENCH_ONLY & set(installed) == set()
