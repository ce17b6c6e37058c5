"""The steward's workspace in a real local Airflow (issue #15): `LocalAirflow` (what `make airflow` runs) with the
accounts of include/config/accounts.yaml, a synthetic month through tkpk_monthly up to the steward's approval, the
TKPK view in headless Chromium (Debian's, driven by Playwright) as steward and as anggota, and the approval task
answered through Airflow's REST API (approve: the reports go out; reject: nothing is sent, stewards are told).

Screenshots of every page are kept in var/test-artifacts/tkpk-view/ (TKPK_TEST_ARTIFACTS overrides it).
"""

from __future__ import annotations

import email
import json
import os
import shutil
import time
from datetime import date
from email import policy
from pathlib import Path

import pytest

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.xdist_group("tkpk_view")]

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("TKPK_TEST_ARTIFACTS", ROOT / "var" / "test-artifacts")) / "tkpk-view"
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]
PERIOD = "2026-10"


def _free_port() -> int:
    from tkpk.notify.mailsink import free_port

    return free_port()


class Api:
    """Airflow's REST API as one user (token from the simple auth manager's /auth/token)."""

    def __init__(self, base: str, username: str, password: str):
        import httpx

        self.base = base
        self.username = username
        resp = httpx.post(f"{base}/auth/token", json={"username": username, "password": password}, timeout=30)
        resp.raise_for_status()
        self.token = resp.json()["access_token"]
        self.client = httpx.Client(base_url=f"{base}/api/v2", timeout=60,
                                   headers={"Authorization": f"Bearer {self.token}"})

    def get(self, path: str, **params) -> dict:
        resp = self.client.get(path, params=params)
        resp.raise_for_status()
        return resp.json()

    def trigger(self, conf: dict) -> str:
        resp = self.client.post("/dags/tkpk_monthly/dagRuns", json={"logical_date": None, "conf": conf})
        assert resp.status_code == 200, resp.text
        return resp.json()["dag_run_id"]

    def task_state(self, run_id: str, task_id: str) -> str | None:
        resp = self.client.get(f"/dags/tkpk_monthly/dagRuns/{run_id}/taskInstances/{task_id}")
        return resp.json().get("state") if resp.status_code == 200 else None

    def answer(self, run_id: str, option: str):
        return self.client.patch(f"/dags/tkpk_monthly/dagRuns/{run_id}/taskInstances/approve_reports/-1/hitlDetails",
                                 json={"chosen_options": [option]})


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from tkpk_airflow.local import LocalAirflow, ensure_passwords, local_env

    from tests.airflow_month import two_kecamatan_reference
    from tests.warm_airflow import TASK_MODULES
    from tkpk.config.accounts import load_accounts
    from tkpk.notify.mailsink import MailSink
    from tkpk.registry import load_snapshot
    from tkpk.synth import generate
    from tkpk.warehouse import get_engine, upgrade

    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed") if not os.environ.get("CI") else pytest.fail("chromium missing")
    work = tmp_path_factory.mktemp("tkpk_view")
    data = work / "data"
    generate(data, PERIOD, households=400, seed=5, months=1, reference_dir=two_kecamatan_reference(work / "reference"))
    _add_doubtful_rows(data)
    var = work / "var"
    (var / "airflow").mkdir(parents=True)
    url = f"sqlite:///{var / 'warehouse.db'}"
    upgrade(url)
    manifest = json.loads((data / "truth" / "manifest.json").read_text())
    snap = manifest["snapshot_date"]
    load_snapshot(url, str(data / "landing" / "registry" / snap), date.fromisoformat(snap))
    accounts = load_accounts(ROOT / "include" / "config")
    passwords = ensure_passwords(var, [a.username for a in accounts.accounts])
    port = _free_port()
    outbox = var / "outbox"
    with MailSink(outbox) as sink:
        env = local_env(var, smtp_port=sink.port, api_port=port, accounts=accounts)
        env.update({
            "TKPK_VAR_DIR": str(var), "TKPK_DATABASE_URL": url, "TKPK_LANDING_URL": (data / "landing").as_uri(),
            "TKPK_ARCHIVE_URL": (var / "archive").as_uri(), "TKPK_APPROVAL_REQUIRED": "true",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "1",
        })
        # The view reads the warehouse in the api-server; the test process reads it too.
        os.environ.update({k: env[k] for k in ("TKPK_VAR_DIR", "TKPK_DATABASE_URL")})
        # The scheduler imports the tasks' libraries before its LocalExecutor forks (see tests/warm_airflow.py).
        airflow = LocalAirflow(env, work / "logs", port, preload=TASK_MODULES)
        airflow.migrate()
        airflow.start()
        try:
            airflow.wait_ready()
            base = airflow.base_url
            yield {"base": base, "passwords": passwords, "url": url, "outbox": outbox, "airflow": airflow,
                   "work": work, "steward": Api(base, "steward", passwords["steward"])}
        finally:
            airflow.stop()
            get_engine.cache_clear()
            for key in ("TKPK_VAR_DIR", "TKPK_DATABASE_URL"):
                os.environ.pop(key, None)


def _add_doubtful_rows(data: Path) -> None:
    """Three registry people's NIKs under other names in a second Dinas Pertanian file: pairs the linkage cannot
    decide alone, so the month has a review queue."""
    import csv

    snap = next((data / "landing" / "registry").iterdir())
    with open(snap / "persons.csv", newline="", encoding="utf-8") as fh:
        people = list(csv.DictReader(fh))[40:43]
    names = ["Zaenuddin Pranoto", "Wahyuningsih Rahmadani", "Bonifasius Siregar"]
    with open(data / "landing" / PERIOD / "pertanian" / "tambahan.csv", "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["nik", "nama", "kode_kelurahan", "jenis_bibit", "jumlah"])
        for person, name in zip(people, names, strict=True):
            out.writerow([person["nik"], name, person["kode_kelurahan"], "CABAI", 10])


def _wait(stack, what, check, timeout: float = 1500, every: float = 3):
    deadline = time.monotonic() + timeout
    while True:
        stack["airflow"].check_alive()
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in (stack["work"] / "logs").glob("*.log"))
            raise TimeoutError(f"{what} not reached after {timeout:.0f} s\n{logs}")
        time.sleep(every)


def _wait_awaiting(stack, api: Api, run_id: str) -> None:
    def check():
        state = api.task_state(run_id, "approve_reports")
        if state in ("failed", "upstream_failed", "skipped"):
            tis = api.get(f"/dags/tkpk_monthly/dagRuns/{run_id}/taskInstances")["task_instances"]
            raise AssertionError(f"approve_reports {state}: {[(t['task_id'], t['state']) for t in tis]}")
        return state == "awaiting_input"

    _wait(stack, f"{run_id} awaiting approval", check)
    # The worker process that parked the task reports its exit to the scheduler a few seconds later (longer under
    # load). An answer that resumes the task before that report arrives makes the scheduler mark the resumed
    # task failed ("executor reported success but the state is running", seen here with LocalExecutor on Airflow
    # 3.3.2). A person answers minutes later; the test waits until the scheduler has logged that report.
    finished = f"TaskInstance Finished: dag_id=tkpk_monthly, task_id=approve_reports, run_id={run_id},"
    _wait(stack, f"{run_id}: the scheduler has the parked approval's exit",
          lambda: finished in stack["airflow"].tail("scheduler", 2_000_000), timeout=300, every=1)


def _wait_run(stack, api: Api, run_id: str) -> str:
    def check():
        state = api.get(f"/dags/tkpk_monthly/dagRuns/{run_id}")["state"]
        return state if state in ("success", "failed") else None

    return _wait(stack, f"{run_id} finished", check, timeout=600)


def _messages(outbox: Path, kind: str = "report") -> list:
    """The e-mails in the sink's outbox: `report` (the month's reports), `alert` (failure alerts, e.g. the rejected
    OPD file), `approval-rejected` (the stewards told that nothing was sent)."""
    found = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(outbox.glob("*.eml"))]
    notices = {"alert", "approval-rejected"}
    return [m for m in found if (m["X-TKPK-Report"] in notices and m["X-TKPK-Report"] == kind)
            or (m["X-TKPK-Report"] not in notices and kind == "report")]


def _login(browser, base: str, username: str, password: str):
    """Log in through Airflow's own login form, as a person would."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="id-ID")
    page = context.new_page()
    page.goto(f"{base}/auth/login?next={base}/tkpk/", wait_until="networkidle")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/tkpk/**", timeout=60_000)
    return context, page


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_view_as_steward_and_anggota_and_approval(stack):
    import httpx
    from playwright.sync_api import sync_playwright
    from sqlalchemy import select

    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import AuditLog, ReviewDecision, SendLog

    base, api = stack["base"], stack["steward"]

    # A request without a session is refused, pages and actions alike.
    assert httpx.get(f"{base}/tkpk/kiriman").status_code == 401
    assert httpx.post(f"{base}/tkpk/kiriman/muat-ulang", data={"period": PERIOD, "opd": "dinsos"}).status_code == 401
    assert httpx.get(f"{base}/tkpk/kiriman", cookies={"_token": "forged"}).status_code == 401

    # The month runs up to the steward's approval.
    first = api.trigger({"period": PERIOD})
    _wait_awaiting(stack, api, first)
    detail = api.get(f"/dags/tkpk_monthly/dagRuns/{first}/taskInstances/approve_reports/-1/hitlDetails")
    assert "Keluarga miskin ekstrem" in detail["body"] and "/tkpk/laporan?period=2026-10" in detail["body"]
    assert {u["id"] for u in detail["assigned_users"]} == {"steward", "steward.dinsos"}
    assert not _messages(stack["outbox"]), "nothing is sent before the approval"

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROME_FLAGS)
        try:
            # --- steward ---
            ctx, page = _login(browser, base, "steward", stack["passwords"]["steward"])
            page.goto(f"{base}/tkpk/kiriman?period={PERIOD}")
            rejected = page.locator("#matriks tr[data-state=rejected]").first
            rejected_opd = rejected.get_attribute("data-opd")
            reason = rejected.locator("td.alasan").inner_text().strip()
            assert rejected_opd and len(reason) > 20, reason
            assert "Tim Data Bappeda" in page.locator("#pengguna").inner_text()
            _shot(page, "1-kiriman-steward")

            with page.expect_navigation():
                rejected.locator("button.muat-ulang").click()
            assert "dimulai" in page.locator(".pesan").inner_text()
            runs = api.get("/dags/tkpk_monthly/dagRuns")["dag_runs"]
            again = next(r for r in runs if r["conf"] == {"period": PERIOD, "opd": rejected_opd})
            assert again["triggering_user_name"] == "steward"

            page.goto(f"{base}/tkpk/karantina?period={PERIOD}")
            assert page.locator("#karantina tbody tr").count() > 0
            _shot(page, "2-karantina")

            page.goto(f"{base}/tkpk/tinjauan?period={PERIOD}")
            _shot(page, "3-tinjauan-steward")
            first_item = page.locator("#tinjauan tbody tr").first
            review_id = int(first_item.get_attribute("data-review"))
            assert "*" not in first_item.locator("td.nik").first.inner_text(), "the steward has pii: true"
            with page.expect_navigation():
                first_item.locator("button.cocok").click()
            assert "cocok" in page.locator(".pesan").inner_text()
            with session_scope(stack["url"]) as s:
                decided = s.scalars(select(ReviewDecision)).all()
                assert [(d.decision, d.decided_by) for d in decided] == [("match", "steward")]
                assert s.scalar(select(AuditLog).where(AuditLog.action == "review_decision")).actor == "steward"
            assert page.locator(f"#tinjauan tr[data-review='{review_id}']").count() == 0

            page.goto(f"{base}/tkpk/laporan?period={PERIOD}")
            assert page.locator("#laporan tbody tr").count() > 0
            _shot(page, "4-laporan")
            ctx.close()

            # --- anggota: read only, NIK masked ---
            ctx, page = _login(browser, base, "anggota", stack["passwords"]["anggota"])
            page.goto(f"{base}/tkpk/tinjauan?period={PERIOD}")
            niks = page.locator("#tinjauan td.nik").all_inner_texts()
            assert niks and all("*" in n for n in niks if n), niks
            assert page.locator("#tinjauan button").count() == 0
            _shot(page, "5-tinjauan-anggota")
            page.goto(f"{base}/tkpk/kiriman?period={PERIOD}")
            assert page.locator("button.muat-ulang").count() == 0
            token = next(c["value"] for c in ctx.cookies() if c["name"] == "_token")
            refused = httpx.post(f"{base}/tkpk/tinjauan/putuskan", cookies={"_token": token},
                                 data={"period": PERIOD, "review_id": review_id, "keputusan": "cocok"})
            assert refused.status_code == 403
            ctx.close()
        finally:
            browser.close()

    # --- approval through the REST API: anggota may not answer; the steward approves -> the reports go out ---
    anggota = Api(base, "anggota", stack["passwords"]["anggota"])
    assert anggota.answer(first, "Approve").status_code == 403
    assert api.answer(first, "Approve").status_code == 200, "approve"
    assert _wait_run(stack, api, first) == "success"
    sent = _messages(stack["outbox"])
    assert sent and api.task_state(first, "send_reports") == "success"
    with session_scope(stack["url"]) as s:
        assert s.scalar(select(AuditLog).where(AuditLog.action == "approve_send")).actor == "steward"
        assert s.query(SendLog).filter(SendLog.status == "sent").count() >= len(sent)

    # --- the steward's Muat ulang run: rejected -> nothing sent, stewards told, run successful ---
    other = Api(base, "steward.dinsos", stack["passwords"]["steward.dinsos"])
    _wait_awaiting(stack, api, again["dag_run_id"])
    assert other.answer(again["dag_run_id"], "Reject").status_code == 200
    assert _wait_run(stack, api, again["dag_run_id"]) == "success"
    assert api.task_state(again["dag_run_id"], "send_reports") == "skipped"
    assert len(_messages(stack["outbox"])) == len(sent), "a rejected month sends no report"
    new = _messages(stack["outbox"], "approval-rejected")
    assert new and all("tidak dikirim" in m["Subject"] and "steward.dinsos" in m["Subject"] for m in new)
    assert {m["To"].addresses[0].addr_spec for m in new} == {"data.bappeda@jambikota.example",
                                                             "data.dinsos@jambikota.example"}
    with session_scope(stack["url"]) as s:
        assert s.scalar(select(AuditLog).where(AuditLog.action == "reject_send")).actor == "steward.dinsos"
