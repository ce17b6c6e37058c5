"""The production-like stack (issue 7 item 5), checked without a Docker engine: `docker-compose.yaml` against the
Compose Specification schema, the services, images and environment Airflow's official compose file has, secrets
only from `.env`, the Dockerfile against the pinned versions, and the PostgreSQL init script on a real server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
INIT_SCRIPT = ROOT / "deploy" / "postgres" / "init-databases.sh"
SCHEMA = Path(__file__).with_name("compose-spec.json")

AIRFLOW_SERVICES = ["airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker",
                    "airflow-triggerer", "airflow-init"]
LONG_RUNNING = ["postgres", "redis", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                "airflow-worker", "airflow-triggerer", "mailpit", "minio"]
ONE_SHOT = ["airflow-init", "minio-init"]
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|_KEY|_AUTH)$")  # a variable or setting that holds a secret
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; `$$` is a literal dollar.
VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def interpolate(node, env: dict[str, str]):
    """Compose's variable substitution, as `docker compose config` applies it (missing required -> KeyError)."""
    if isinstance(node, dict):
        return {k: interpolate(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, env) for v in node]
    if not isinstance(node, str):
        return node

    def substitute(m: re.Match) -> str:
        name, op, arg = m.group("name"), m.group("op"), m.group("arg")
        value = env.get(name)
        if op in (":-", "-"):
            return value if value or (op == "-" and value is not None) else arg
        if op in (":?", "?") and not value:
            raise KeyError(f"{name}: {arg}")
        return value or ""

    parts = node.split("$$")
    return "$".join(VARIABLE.sub(substitute, part) for part in parts)


def variables(node) -> list[tuple[str, str | None, str | None]]:
    """Every ${...} reference in the file: (name, operator, argument)."""
    text = node if isinstance(node, str) else json.dumps(node)
    text = text.replace("$$", "")
    return [(m.group("name"), m.group("op"), m.group("arg")) for m in VARIABLE.finditer(text)]


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def compose(raw) -> dict:
    """The file as Compose sees it with `.env` copied from `.env.example`."""
    return interpolate(raw, env_example())


def environment(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return env


def test_compose_file_is_valid_against_the_compose_specification(raw, compose):
    from jsonschema import validators

    schema = json.loads(SCHEMA.read_text())
    validator_cls = validators.validator_for(schema)
    validator_cls.check_schema(schema)
    for label, document in (("raw", raw), ("with .env.example", compose)):
        errors = sorted(validator_cls(schema).iter_errors(document), key=lambda e: list(e.absolute_path))
        assert not errors, f"{label}: " + "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def test_schema_really_rejects_a_broken_file(compose):
    """Guard against a schema copy that accepts anything: a typo'd key and a bad condition must fail."""
    from jsonschema import validators

    schema = json.loads(SCHEMA.read_text())
    validator = validators.validator_for(schema)(schema)
    broken = json.loads(json.dumps(compose))
    broken["services"]["airflow-worker"]["helthcheck"] = {"test": ["CMD", "true"]}
    broken["services"]["airflow-scheduler"]["depends_on"]["postgres"]["condition"] = "service_ready"
    messages = [e.message for e in validator.iter_errors(broken)]
    assert any("helthcheck" in m for m in messages), messages
    assert len(messages) >= 2, messages


def test_services_are_airflows_official_set_plus_mailpit_and_minio(compose):
    services = set(compose["services"])
    assert {"postgres", "redis", *AIRFLOW_SERVICES, "mailpit", "minio", "minio-init"} <= services
    assert compose["services"]["airflow-apiserver"]["command"] == "api-server"
    assert compose["services"]["airflow-scheduler"]["command"] == "scheduler"
    assert compose["services"]["airflow-dag-processor"]["command"] == "dag-processor"
    assert compose["services"]["airflow-worker"]["command"] == "celery worker"
    assert compose["services"]["airflow-triggerer"]["command"] == "triggerer"
    assert "8080:8080" in compose["services"]["airflow-apiserver"]["ports"]
    assert compose["services"]["postgres"]["image"].startswith("postgres:16")
    assert compose["services"]["redis"]["image"].startswith("redis:7.2")
    for name in ("mailpit", "minio", "minio-init"):
        image = compose["services"][name]["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin the image tag ({image})"


def test_airflow_services_run_the_project_image_built_from_the_official_one(compose):
    images = {compose["services"][s]["image"] for s in AIRFLOW_SERVICES}
    assert len(images) == 1, images
    for name in AIRFLOW_SERVICES:
        assert compose["services"][name]["build"] == ".", f"{name} must build ./Dockerfile"
    from_lines = [ln.split() for ln in DOCKERFILE.read_text().splitlines() if ln.upper().startswith("FROM ")]
    assert len(from_lines) == 1, from_lines
    image = from_lines[0][1]
    locked = re.search(r"^apache-airflow==(\S+)$", (ROOT / "requirements.lock").read_text(), re.M).group(1)
    pinned = re.search(r"apache-airflow==([\w.]+)", (ROOT / "pyproject.toml").read_text()).group(1)
    assert image == f"apache/airflow:{locked}-python3.11", f"Dockerfile {image} vs requirements.lock {locked}"
    assert locked == pinned
    assert locked.startswith("3.3.")


def test_dockerfile_installs_the_lock_as_constraints_then_the_project(compose):
    text = DOCKERFILE.read_text()
    assert "-c /opt/tkpk/requirements.lock" in text
    assert '"apache-airflow==${AIRFLOW_VERSION}"' in text
    assert re.search(r"pip install --no-cache-dir --no-deps /opt/tkpk/src", text)
    for folder in ("dags", "plugins", "include", "expectations"):
        assert re.search(rf"^COPY .*\b{folder} /opt/airflow/{folder}$", text, re.M), folder
    assert "USER airflow" in text and "USER root" not in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", ".venv", "var", ".git"):
        assert entry in ignored, f".dockerignore: {entry}"
    # The runtime part of requirements.in that the Dockerfile cuts out must exist and hold Airflow and the providers.
    runtime = (ROOT / "requirements.in").read_text().split("\n# ==== bench / dev")[0]
    assert "# ==== bench / dev" in (ROOT / "requirements.in").read_text()
    for package in ("apache-airflow==", "apache-airflow-providers-celery", "s3fs", "sshfs", "psycopg2-binary"):
        assert package in runtime, package
    assert "pytest" not in runtime


def test_every_airflow_service_shares_jwt_secret_issuer_and_execution_api(raw, compose):
    raw_envs = {s: environment(raw["services"][s]) for s in AIRFLOW_SERVICES}
    envs = {s: environment(compose["services"][s]) for s in AIRFLOW_SERVICES}
    for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API_AUTH__JWT_ISSUER", "AIRFLOW__CORE__FERNET_KEY",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
                "AIRFLOW__CELERY__BROKER_URL", "AIRFLOW__CELERY__RESULT_BACKEND", "TKPK_DATABASE_URL"):
        values = {s: envs[s].get(key) for s in AIRFLOW_SERVICES}
        assert None not in values.values(), f"{key} missing in {[s for s, v in values.items() if v is None]}"
        assert len(set(values.values())) == 1, f"{key} differs between services: {values}"
    assert raw_envs["airflow-worker"]["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${AIRFLOW_JWT_SECRET:?")
    env = envs["airflow-worker"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://") and "@redis:6379/" in env["AIRFLOW__CELERY__BROKER_URL"]
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
    assert env["TKPK_LANDING_URL"] == "s3://tkpk-landing/"
    assert env["TKPK_HOME"] == "/opt/airflow"


def test_healthchecks_on_every_long_running_service(compose):
    for name in LONG_RUNNING:
        check = compose["services"][name].get("healthcheck")
        assert check and check.get("test"), f"{name}: no healthcheck"
        assert not check.get("disable"), name
    tests = {n: " ".join(compose["services"][n]["healthcheck"]["test"]) for n in LONG_RUNNING}
    assert "http://localhost:8080/api/v2/version" in tests["airflow-apiserver"]
    assert "http://localhost:8974/health" in tests["airflow-scheduler"]
    assert "DagProcessorJob" in tests["airflow-dag-processor"]
    assert "TriggererJob" in tests["airflow-triggerer"]
    assert "inspect ping" in tests["airflow-worker"]
    assert compose["services"]["airflow-scheduler"]["environment"]["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"
    for name in ONE_SHOT:
        assert compose["services"][name].get("restart", "no") == "no", f"{name} is one-shot: must not restart"


def test_depends_on_conditions(compose):
    services = compose["services"]
    for name, service in services.items():
        for target, spec in (service.get("depends_on") or {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            expected = "service_completed_successfully" if target in ONE_SHOT else "service_healthy"
            assert spec["condition"] == expected, f"{name} -> {target}: {spec['condition']}"
    for name in AIRFLOW_SERVICES:
        deps = services[name]["depends_on"]
        assert {"postgres", "redis"} <= set(deps), name
        if name != "airflow-init":
            assert "airflow-init" in deps, f"{name} must wait for airflow-init"
    worker = services["airflow-worker"]["depends_on"]
    assert {"airflow-apiserver", "mailpit", "minio-init"} <= set(worker)
    assert services["minio-init"]["depends_on"] == {"minio": {"condition": "service_healthy"}}

    def visit(node, path):
        assert node not in path, f"dependency cycle: {' -> '.join([*path, node])}"
        for target in services[node].get("depends_on") or {}:
            visit(target, [*path, node])

    for name in services:
        visit(name, [])


def test_worker_can_be_scaled(raw):
    worker = raw["services"]["airflow-worker"]
    assert "container_name" not in worker and "hostname" not in worker
    assert "ports" not in worker, "a published port would clash between replicas"


def test_separate_database_users_and_databases(compose):
    from sqlalchemy.engine import make_url

    env = environment(compose["services"]["airflow-scheduler"])
    airflow = make_url(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    warehouse = make_url(env["TKPK_DATABASE_URL"])
    backend = make_url(env["AIRFLOW__CELERY__RESULT_BACKEND"].removeprefix("db+"))
    assert airflow.host == warehouse.host == "postgres"
    assert airflow.username != warehouse.username and airflow.database != warehouse.database
    assert airflow.password != warehouse.password
    assert (backend.username, backend.database) == (airflow.username, airflow.database)
    assert "postgres" not in (airflow.username, warehouse.username), "applications must not use the superuser"
    postgres = compose["services"]["postgres"]
    assert any(v.startswith("./deploy/postgres/init-databases.sh:/docker-entrypoint-initdb.d/") for v in
               postgres["volumes"])
    # Every variable the init script reads reaches the postgres container, with the values the apps use.
    script_vars = set(re.findall(r"\$([A-Z_]+)", INIT_SCRIPT.read_text())) - {"POSTGRES_USER"}
    pg_env = environment(postgres)
    assert script_vars <= set(pg_env), script_vars - set(pg_env)
    assert (pg_env["AIRFLOW_DB_USER"], pg_env["AIRFLOW_DB_PASSWORD"], pg_env["AIRFLOW_DB_NAME"]) == (
        airflow.username, airflow.password, airflow.database)
    assert (pg_env["TKPK_WAREHOUSE_DB_USER"], pg_env["TKPK_WAREHOUSE_DB_PASSWORD"],
            pg_env["TKPK_WAREHOUSE_DB_NAME"]) == (warehouse.username, warehouse.password, warehouse.database)


def test_no_real_secrets_only_required_variables(raw):
    """Every secret-looking value is a `${NAME:?...}` reference with no default; `.env.example` defines every
    required variable, with an obvious placeholder for each secret."""
    example = env_example()
    required = {name for name, op, _ in variables(raw) if op in (":?", "?") or op is None}
    assert required <= set(example), f"not in .env.example: {sorted(required - set(example))}"
    for name, op, arg in variables(raw):
        if SECRET_NAME.search(name):
            assert op == ":?", f"${{{name}}} must be required (:?), not defaulted ({op}{arg})"
    for name, service in raw["services"].items():
        for key, value in environment(service).items():
            text = str(value)
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]*\}", text), f"{name}.{key} = {text!r} is not a ${{VAR:?}}"
            for m in re.finditer(r"://([^:/@\s]*):([^@\s]*)@", text):  # credentials inside URLs
                assert m.group(2).startswith("${") and ":?" in m.group(2), f"{name}.{key}: password in URL"
            for field_name in ("password", "login"):  # credentials inside AIRFLOW_CONN_* JSON
                for m in re.finditer(rf'"{field_name}": "([^"]*)"', text):
                    assert m.group(1).startswith("${") and ":?" in m.group(1), f"{name}.{key}: {field_name}"
    for name, value in example.items():
        if SECRET_NAME.search(name):
            assert value.startswith("change-me"), f".env.example {name} must be a change-me placeholder"


def test_connections_point_at_mailpit_and_minio(compose):
    env = environment(compose["services"]["airflow-worker"])
    smtp = json.loads(env["AIRFLOW_CONN_SMTP_DEFAULT"])
    assert (smtp["conn_type"], smtp["host"], smtp["port"]) == ("smtp", "mailpit", 1025)
    assert smtp["extra"]["disable_ssl"] is True and smtp["extra"]["disable_tls"] is True
    landing = json.loads(env["AIRFLOW_CONN_TKPK_LANDING"])
    assert landing["conn_type"] == "aws" and landing["extra"]["endpoint_url"] == "http://minio:9000"
    assert landing["login"] == env_example()["TKPK_LANDING_ACCESS_KEY"]
    assert "1025" in [str(p) for p in compose["services"]["mailpit"]["expose"]]
    script = "\n".join(compose["services"]["minio-init"]["command"])
    bucket = env["TKPK_LANDING_URL"].removeprefix("s3://").strip("/")
    assert f"local/{bucket}" in script and "local/tkpk-archive" in script
    assert env["TKPK_ARCHIVE_URL"] == "s3://tkpk-archive/"


@pytest.mark.airflow
def test_landing_connection_becomes_s3fs_storage_options(compose):
    """tkpk_airflow turns the compose file's AIRFLOW_CONN_TKPK_LANDING into s3fs options (in a subprocess:
    Airflow reads connections from the environment)."""
    import sys

    env = dict(os.environ)
    worker = environment(compose["services"]["airflow-worker"])
    env["AIRFLOW_CONN_TKPK_LANDING"] = worker["AIRFLOW_CONN_TKPK_LANDING"]
    env["TKPK_LANDING_URL"] = worker["TKPK_LANDING_URL"]  # remote: the connection is read (file:// needs none)
    env["PYTHONPATH"] = str(ROOT / "plugins")
    code = "import json, tkpk_airflow; print(json.dumps(tkpk_airflow.landing_storage_options()))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    options = json.loads(done.stdout.strip().splitlines()[-1])
    example = env_example()
    assert options == {"key": example["TKPK_LANDING_ACCESS_KEY"], "secret": example["TKPK_LANDING_SECRET_KEY"],
                       "client_kwargs": {"endpoint_url": "http://minio:9000", "region_name": "us-east-1"}}


def test_volumes_for_dags_plugins_include_expectations(compose):
    declared = set(compose.get("volumes") or {})
    for name in AIRFLOW_SERVICES:
        mounts = {v.split(":")[1]: v.split(":")[0] for v in compose["services"][name]["volumes"]}
        for folder in ("dags", "plugins", "include", "expectations"):
            assert mounts.get(f"/opt/airflow/{folder}") == f"./{folder}", f"{name}: /opt/airflow/{folder}"
        assert mounts.get("/opt/airflow/var") == "tkpk-var", f"{name}: reports must be on the shared volume"
        for source in mounts.values():
            assert source.startswith(("./", "/")) or source in declared, f"{name}: volume {source} not declared"
    env = environment(compose["services"]["airflow-worker"])
    assert env["TKPK_VAR_DIR"] == "/opt/airflow/var"
    assert env["PYTHONPATH"] == "/opt/airflow/plugins"


@pytest.mark.postgres
def test_postgres_init_script_gives_each_user_only_its_own_database(pg_url):
    """Run deploy/postgres/init-databases.sh against the real server (as the postgres image would) with throwaway
    names; each owner can create tables in its database and cannot connect to the other one."""
    import shutil

    from sqlalchemy.engine import make_url

    if not shutil.which("psql"):
        pytest.skip("psql tidak tersedia")
    url = make_url(pg_url)
    tag = uuid.uuid4().hex[:8]
    names = {"AIRFLOW_DB_USER": f"af_{tag}", "AIRFLOW_DB_NAME": f"afdb_{tag}", "AIRFLOW_DB_PASSWORD": "p'w\"1 x",
             "TKPK_WAREHOUSE_DB_USER": f"wh_{tag}", "TKPK_WAREHOUSE_DB_NAME": f"whdb_{tag}",
             "TKPK_WAREHOUSE_DB_PASSWORD": "a;b c"}
    env = dict(os.environ, PGHOST=url.host or "127.0.0.1", PGPORT=str(url.port or 5432),
               POSTGRES_USER=url.username or "postgres", **names)

    def psql(user, db, sql):
        return subprocess.run(["psql", "-X", "-At", "-U", user, "-d", db, "-c", sql], env=env, capture_output=True,
                              text=True, timeout=60)

    try:
        done = subprocess.run(["bash", str(INIT_SCRIPT)], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        for user, own, other in ((names["AIRFLOW_DB_USER"], names["AIRFLOW_DB_NAME"], names["TKPK_WAREHOUSE_DB_NAME"]),
                                 (names["TKPK_WAREHOUSE_DB_USER"], names["TKPK_WAREHOUSE_DB_NAME"],
                                  names["AIRFLOW_DB_NAME"])):
            mine = psql(user, own, "CREATE TABLE t (x int); SELECT current_user")
            assert mine.returncode == 0 and mine.stdout.strip().endswith(user), mine.stderr
            theirs = psql(user, other, "SELECT 1")
            assert theirs.returncode != 0 and "CONNECT" in theirs.stderr, theirs.stderr
        owners = psql(env["POSTGRES_USER"], "postgres",
                      "SELECT datname || '=' || pg_get_userbyid(datdba) FROM pg_database ORDER BY 1")
        assert [o for o in owners.stdout.split() if o.endswith(tag) or f"_{tag}=" in o] == [f"{names['AIRFLOW_DB_NAME']}={names['AIRFLOW_DB_USER']}",
                                         f"{names['TKPK_WAREHOUSE_DB_NAME']}={names['TKPK_WAREHOUSE_DB_USER']}"]
    finally:
        for db in (names["AIRFLOW_DB_NAME"], names["TKPK_WAREHOUSE_DB_NAME"]):
            psql(env["POSTGRES_USER"], "postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        for role in (names["AIRFLOW_DB_USER"], names["TKPK_WAREHOUSE_DB_USER"]):
            psql(env["POSTGRES_USER"], "postgres", f"DROP ROLE IF EXISTS {role}")
