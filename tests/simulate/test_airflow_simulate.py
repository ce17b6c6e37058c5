"""tkpk_simulate through Airflow itself (`airflow dags test`, embedded SQLite): the trigger form's values become a
scenario, the requester gets the comparison report; a wrong value stops at validate_request and computes nothing."""

from __future__ import annotations

import email
import json
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.eligibility.test_store import scenario as october

pytestmark = [pytest.mark.airflow, pytest.mark.slow]
AIRFLOW = str(Path(sys.executable).parent / "airflow")


def _airflow(args, env, log: Path) -> int:
    with open(log, "a") as fh:
        return subprocess.run([AIRFLOW, *args], env=env, stdout=fh, stderr=subprocess.STDOUT, timeout=900).returncode


def test_trigger_form_to_comparison_email(sqlite_warehouse, tmp_path):
    from tkpk.demo import airflow_env
    from tkpk.eligibility import run_period
    from tkpk.notify.mailsink import MailSink
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import SimulationScenario

    url = sqlite_warehouse
    settings, _ = october(url, tmp_path)
    run_period(settings, "2026-09")
    run_period(settings, "2026-10")
    var = tmp_path / "var"
    (var / "airflow").mkdir(parents=True)
    log = tmp_path / "airflow.log"
    with MailSink(var / "outbox") as sink:
        env = airflow_env(var, sink.port)
        env.update(TKPK_VAR_DIR=str(var), TKPK_DATABASE_URL=url)
        assert _airflow(["db", "migrate"], env, log) == 0, log.read_text()[-3000:]
        conf = {"period": "2026-10", "program": "bpjs_tk", "desil_max": 2, "kuota_per_wilayah": 60,
                "set_lines": ["bpnt.amount=2700000"], "nama_skenario": "usulan 2027",
                "email_peminta": "data.bappeda@jambikota.example"}
        assert _airflow(["dags", "test", "tkpk_simulate", "-c", json.dumps(conf)], env, log) == 0, \
            log.read_text()[-5000:]
        bad = dict(conf, set_lines=["pkh.desil.max=dua"])
        assert _airflow(["dags", "test", "tkpk_simulate", "-c", json.dumps(bad)], env, log) != 0
        messages = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sink.messages]
    text = log.read_text()
    assert "pkh.desil.max" in text and "harus berupa bilangan bulat" in text
    reports = [m for m in messages if m["X-TKPK-Report"] == "simulasi"]
    assert len(reports) == 1
    assert reports[0]["Subject"] == "[TKPK Kota Jambi] Simulasi Oktober 2026: usulan 2027"
    body = reports[0].get_body(("plain",)).get_content()
    assert "bpjs_tk.desil.max=2, bpjs_tk.quota.size=60, bpnt.amount=2700000" in body
    assert any(p.get_filename() and p.get_filename().endswith(".xlsx") for p in reports[0].walk())
    with session_scope(url) as s:
        assert s.scalar(select(func.count()).select_from(SimulationScenario)) == 1
        stored = s.scalar(select(SimulationScenario))
        assert stored.request_id and stored.requested_by == "data.bappeda@jambikota.example"
