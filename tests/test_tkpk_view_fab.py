"""The TKPK view under the FAB auth manager, as docker-compose.yaml runs it in production (issue #15).

A real `airflow api-server` (plus a dag-processor, so tkpk_monthly can be triggered) with
`AIRFLOW__CORE__AUTH_MANAGER=...FabAuthManager`, its own AIRFLOW_HOME and SQLite metadata DB, on a free port. The
accounts come from the product's own path (`python -m tkpk_airflow.fab_users`, what airflow-init runs), people log in
through FAB's login form (the `_token` cookie the UI uses) or FAB's token endpoint (Bearer), and everything is
checked at HTTP level, no browser: pages for steward and anggota, masked NIKs and no buttons for anggota, the
steward's actions allowed and recorded under the person's name, anggota's refused, no session refused.

One account is given `Viewer` by "the directory" although accounts.yaml calls it a steward (what a city's LDAP group
mapping can do): the view lets it read only. The same code runs under the simple auth manager in
tests/test_tkpk_view.py. `sync_accounts` (role changes, people who left) is checked without Airflow at the end.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from tests.conftest import IN_CI
from tests.review_queue import seed_review_queue

ROOT = Path(__file__).resolve().parents[1]
PERIOD = "2026-10"
FAB = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
NIKS = [f"15710141017000{n:02d}" for n in range(3)]
ACTION = 'method="post"'  # every action of the view is a POST form (Muat ulang, cocok / tidak cocok / lewati)
NIK_CELL = re.compile(r'<td class="usulan nik">([^<]*)</td>')


def _seed(url: str) -> list[int]:
    """A rejected Disnaker batch (so Kiriman offers Muat ulang) and an accepted Koperasi batch with three rows in the
    review queue (so Tinjauan shows NIKs and decision buttons)."""
    from tkpk.warehouse import session_scope

    with session_scope(url) as s:
        return seed_review_queue(s, period=PERIOD, niks=NIKS, now=datetime(2026, 11, 10, 1, 0, tzinfo=UTC),
                                 rejection_reason="Kolom wajib 'Tanggal Mulai' tidak ditemukan.")


def _directory_config(work: Path) -> Path:
    """include/config as the city's directory sees it: steward.dinsos is in the Viewer group."""
    config = work / "directory-config"
    shutil.copytree(ROOT / "include" / "config", config)
    data = yaml.safe_load((config / "accounts.yaml").read_text())
    for a in data["accounts"]:
        if a["username"] == "steward.dinsos":
            a["role"] = "anggota"
    (config / "accounts.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return config


@pytest.fixture(scope="module")
def fab(tmp_path_factory):
    from tkpk_airflow.local import LocalAirflow

    from tkpk.notify.mailsink import free_port
    from tkpk.warehouse import get_engine, upgrade

    if importlib.util.find_spec("airflow.providers.fab") is None:
        message = "apache-airflow-providers-fab is not installed (requirements.lock, bench / dev section)"
        pytest.fail(f"CI=true: {message}") if IN_CI else pytest.skip(message)
    started = time.monotonic()
    work = tmp_path_factory.mktemp("tkpk_view_fab")
    home, dags, var = work / "airflow", work / "dags", work / "var"
    for d in (home, dags, var):
        d.mkdir()
    # Only the DAG the view triggers: the dag-processor serializes it in a few seconds.
    (dags / "tkpk_monthly.py").symlink_to(ROOT / "dags" / "tkpk_monthly.py")
    url = f"sqlite:///{var / 'warehouse.db'}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__AUTH_MANAGER": FAB,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base,
        "AIRFLOW__API__SECRET_KEY": os.urandom(16).hex(),
        "AIRFLOW__API_AUTH__JWT_SECRET": os.urandom(32).hex(),
        "AIRFLOW__API_AUTH__JWT_ISSUER": "tkpk-test",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "plugins"), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "TKPK_HOME": str(ROOT),
        "TKPK_CONFIG_DIR": str(ROOT / "include" / "config"),
        "TKPK_DATABASE_URL": url,
        "TKPK_VAR_DIR": str(var),
    })
    airflow = LocalAirflow(env, work / "logs", port, processes=("api-server", "dag-processor"))
    # Airflow's metadata DB (with FAB as auth manager this creates FAB's tables too: ab_user, ab_role, ...) while
    # this process builds the warehouse: two databases, so the two can overlap.
    migrate = subprocess.Popen([str(Path(sys.executable).parent / "airflow"), "db", "migrate"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    upgrade(url)
    review_ids = _seed(url)
    out, _ = migrate.communicate(timeout=300)
    assert migrate.returncode == 0, out[-3000:]
    # The product's path to the accounts (airflow-init in docker-compose.yaml), fed by the directory's roles.
    made = subprocess.run([sys.executable, "-m", "tkpk_airflow.fab_users"], capture_output=True, text=True,
                          timeout=300, env=env | {"TKPK_CONFIG_DIR": str(_directory_config(work))})
    assert made.returncode == 0, made.stderr[-3000:]
    assert "akun steward dibuat (steward -> Op)" in made.stdout
    assert "akun anggota dibuat (anggota -> Viewer)" in made.stdout
    passwords_file = home / "config" / "initial-passwords.json"
    assert passwords_file.stat().st_mode & 0o777 == 0o600
    passwords = json.loads(passwords_file.read_text())
    os.environ.update({"TKPK_DATABASE_URL": url, "TKPK_VAR_DIR": str(var)})  # the test reads the warehouse too
    airflow.start()
    try:
        airflow.wait_ready()
        yield {"base": base, "passwords": passwords, "url": url, "airflow": airflow, "reviews": review_ids,
               "started": started, "work": work}
    finally:
        airflow.stop()
        get_engine.cache_clear()
        for key in ("TKPK_DATABASE_URL", "TKPK_VAR_DIR"):
            os.environ.pop(key, None)


def _form_login(base: str, username: str, password: str):
    """FAB's login form, as a person uses it: the CSRF token from the form, then the redirect that sets `_token`."""
    import httpx

    client = httpx.Client(base_url=base, timeout=60)
    form = client.get("/auth/login/", params={"next": f"{base}/tkpk/"})
    assert form.status_code == 200, form.text[:500]
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form.text).group(1)
    done = client.post("/auth/login/", params={"next": f"{base}/tkpk/"},
                       data={"username": username, "password": password, "csrf_token": csrf})
    assert done.status_code == 302 and done.headers["location"] == f"{base}/tkpk/", (done.status_code, done.headers)
    assert client.cookies.get("_token"), "FAB sets the UI's token cookie at login"
    return client


def _token_login(base: str, username: str, password: str):
    """FAB's token endpoint (scripts, the REST API): the view takes the token as a Bearer header."""
    import httpx

    resp = httpx.post(f"{base}/auth/token", json={"username": username, "password": password}, timeout=60)
    assert resp.status_code == 201, resp.text
    token = resp.json()["access_token"]
    return httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}), token


def _pages(client) -> dict[str, str]:
    """Every page of the view; each must load."""
    home = client.get("/tkpk/")
    assert home.status_code == 303 and home.headers["location"] == "kiriman"
    pages = {}
    for name in ("kiriman", "karantina", "tinjauan", "laporan"):
        resp = client.get(f"/tkpk/{name}", params={"period": PERIOD})
        assert resp.status_code == 200, (name, resp.status_code, resp.text[:500])
        pages[name] = resp.text
    return pages


@pytest.mark.airflow
@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.xdist_group("tkpk_view_fab")
def test_view_under_fab_auth_manager(fab):
    import httpx
    from sqlalchemy import select

    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import AuditLog, ReviewDecision

    base, pw, first = fab["base"], fab["passwords"], fab["reviews"][0]

    # --- no session: pages and actions refused; the error page's login link reaches FAB's login form ---
    refused = httpx.get(f"{base}/tkpk/kiriman")
    assert refused.status_code == 401
    link = re.search(r'href="([^"]*auth/login[^"]*)"', refused.text).group(1)
    login_page = httpx.get(httpx.URL(f"{base}/tkpk/kiriman").join(link), follow_redirects=True)
    assert login_page.status_code == 200 and 'name="csrf_token"' in login_page.text
    assert httpx.post(f"{base}/tkpk/kiriman/muat-ulang", data={"period": PERIOD, "opd": "disnaker"}).status_code == 401
    assert httpx.post(f"{base}/tkpk/tinjauan/putuskan",
                      data={"period": PERIOD, "review_id": first, "keputusan": "cocok"}).status_code == 401
    assert httpx.get(f"{base}/tkpk/kiriman", cookies={"_token": "forged"}).status_code == 401
    assert httpx.get(f"{base}/tkpk/kiriman", headers={"Authorization": "Bearer forged"}).status_code == 401

    # --- anggota (Viewer, pii false): every page, NIK masked, no buttons, actions refused ---
    anggota = _form_login(base, "anggota", pw["anggota"])
    pages = _pages(anggota)
    shown = NIK_CELL.findall(pages["tinjauan"])
    assert len(shown) == 3 and all("*" in n for n in shown), shown
    assert not any(nik in page for nik in NIKS for page in pages.values()), "an unmasked NIK reached anggota"
    assert not any(ACTION in page for page in pages.values()), "an action form reached anggota"
    assert "(anggota, anggota)" in pages["kiriman"]
    assert anggota.post("/tkpk/tinjauan/putuskan",
                        data={"period": PERIOD, "review_id": first, "keputusan": "cocok"}).status_code == 403
    assert anggota.post("/tkpk/kiriman/muat-ulang", data={"period": PERIOD, "opd": "disnaker"}).status_code == 403

    # --- bappeda (Viewer, pii true), by token: NIK visible within scope, still read only ---
    bappeda, _ = _token_login(base, "bappeda", pw["bappeda"])
    pages = _pages(bappeda)
    assert sorted(NIK_CELL.findall(pages["tinjauan"])) == NIKS
    assert not any(ACTION in page for page in pages.values())
    assert bappeda.post("/tkpk/tinjauan/putuskan",
                        data={"period": PERIOD, "review_id": first, "keputusan": "cocok"}).status_code == 403

    # --- steward.dinsos: steward in accounts.yaml, Viewer in the directory -> the lesser right: read only ---
    dinsos = _form_login(base, "steward.dinsos", pw["steward.dinsos"])
    pages = _pages(dinsos)
    assert "(steward.dinsos, anggota)" in pages["kiriman"]
    assert not any(ACTION in page for page in pages.values())
    assert dinsos.post("/tkpk/tinjauan/putuskan",
                       data={"period": PERIOD, "review_id": first, "keputusan": "cocok"}).status_code == 403

    # --- steward (Op): every page with NIK and buttons; a review decision recorded under the name ---
    steward = _form_login(base, "steward", pw["steward"])
    pages = _pages(steward)
    assert sorted(NIK_CELL.findall(pages["tinjauan"])) == NIKS
    assert 'class="cocok"' in pages["tinjauan"] and 'class="muat-ulang"' in pages["kiriman"]
    assert "Tim Data Bappeda" in pages["kiriman"] and "(steward, steward)" in pages["kiriman"]
    decided = steward.post("/tkpk/tinjauan/putuskan", data={"period": PERIOD, "review_id": first,
                                                            "keputusan": "cocok", "halaman": "1"})
    assert decided.status_code == 303 and "dicatat+atas+nama+steward" in decided.headers["location"]
    with session_scope(fab["url"]) as s:
        assert [(d.decision, d.decided_by) for d in s.scalars(select(ReviewDecision))] == [("match", "steward")]
        assert [a.actor for a in s.scalars(select(AuditLog).where(AuditLog.action == "review_decision"))] == [
            "steward"]

    # --- steward's Muat ulang: Airflow (FAB) accepts the steward's own token; the run carries the name ---
    api, _ = _token_login(base, "steward", pw["steward"])
    deadline = time.monotonic() + 180
    while api.get("/api/v2/dags/tkpk_monthly").status_code != 200:  # the dag-processor serializes it
        fab["airflow"].check_alive()
        assert time.monotonic() < deadline, "tkpk_monthly not serialized"
        time.sleep(1)
    again = steward.post("/tkpk/kiriman/muat-ulang", data={"period": PERIOD, "opd": "disnaker"})
    assert again.status_code == 303 and "dimulai" in again.headers["location"], again.headers.get("location")
    runs = api.get("/api/v2/dags/tkpk_monthly/dagRuns").json()["dag_runs"]
    run = next(r for r in runs if r["conf"] == {"period": PERIOD, "opd": "disnaker"})
    assert run["triggering_user_name"] == "steward"
    assert "oleh steward" in (run.get("note") or "")
    # Viewer may not trigger in Airflow either: the same refusal as the view's.
    viewer, _ = _token_login(base, "anggota", pw["anggota"])
    assert viewer.post("/api/v2/dags/tkpk_monthly/dagRuns",
                       json={"logical_date": None, "conf": {"period": PERIOD}}).status_code == 403
    for client in (anggota, bappeda, dinsos, steward, api, viewer):
        client.close()
    print(f"\nFAB view test: {time.monotonic() - fab['started']:.1f} s from setup to here")


# --- sync_accounts without Airflow: what a second airflow-init run does to existing accounts ---------------------


class _Role:
    def __init__(self, name: str):
        self.name = name


class _User:
    def __init__(self, username: str, email: str, roles: list, active: bool = True):
        self.username, self.email, self.roles, self.active = username, email, roles, active


class _SecurityManager:
    """The four calls fab_users makes on FAB's security manager, in memory."""

    def __init__(self):
        self.roles = {n: _Role(n) for n in ("Admin", "Op", "Viewer", "User", "Public")}
        self.users: list[_User] = []

    def find_role(self, name):
        return self.roles.get(name)

    def find_user(self, username=None, email=None):
        return next((u for u in self.users if (username and u.username.lower() == username.lower())
                     or (email and u.email == email)), None)

    def add_user(self, username, first_name, last_name, email, role, password):
        self.users.append(_User(username, email, [role]))
        return self.users[-1]

    def update_user(self, user):
        return True

    def get_all_users(self):
        return list(self.users)


def _accounts(*entries):
    """accounts.yaml with these people besides the one steward every file needs (`tim`)."""
    from tkpk.config.accounts import AccountsConfig

    return AccountsConfig.model_validate({"accounts": [
        {"username": u, "name": f"Orang {u}", "email": f"{u}@jambikota.example", "role": r}
        for u, r in (("tim", "steward"), *entries)]})


def test_sync_accounts_replaces_roles_and_deactivates_people_who_left():
    from tkpk_airflow.fab_users import sync_accounts

    sm = _SecurityManager()
    sm.users.append(_User("admin", "admin@jambikota.example", [sm.roles["Admin"]]))
    created, _ = sync_accounts(sm, _accounts(("rina", "steward"), ("budi", "anggota")))
    assert set(created) == {"tim", "rina", "budi"}
    roles = lambda name: sorted(r.name for r in sm.find_user(name).roles)  # noqa: E731

    # Rina becomes anggota: Op is replaced, not kept beside Viewer; Budi leaves: deactivated, not deleted.
    sm.find_user("rina").roles.append(sm.roles["User"])  # a role the administrator gave by hand stays
    created, said = sync_accounts(sm, _accounts(("rina", "anggota")))
    assert created == {} and roles("rina") == ["User", "Viewer"]
    assert sm.find_user("budi").active is False and sm.find_user("admin").active is True
    assert "akun budi dinonaktifkan: tidak lagi tercantum di accounts.yaml" in said

    # Budi is listed again: reactivated, with his password unchanged (no new one handed out).
    created, said = sync_accounts(sm, _accounts(("rina", "anggota"), ("budi", "steward")))
    assert created == {} and sm.find_user("budi").active and roles("budi") == ["Op"]
    assert "akun budi diaktifkan kembali" in said
    assert sync_accounts(sm, _accounts(("rina", "anggota"), ("budi", "steward"))) == ({}, [])

    # Two people with one e-mail: FAB needs one per account; the administrator is told which.
    sm.users.append(_User("lama", "sari@jambikota.example", [sm.roles["Viewer"]]))
    with pytest.raises(SystemExit, match="sari@jambikota.example sudah dipakai"):
        sync_accounts(sm, _accounts(("rina", "anggota"), ("budi", "steward"), ("sari", "anggota")))
