"""The tkpk_simulate request end to end without Airflow: validate the form, simulate on the warehouse, e-mail the
comparison report through a real local SMTP server; by-name XLSX only for a pii:true requester."""

from __future__ import annotations

import email
import io
from email import policy

import pytest

from tests.eligibility.test_store import scenario as october
from tkpk.config import ConfigError
from tkpk.eligibility import run_period
from tkpk.notify.mailsink import MailSink
from tkpk.notify.smtp import SmtpSettings
from tkpk.simulate.request import request_sets, run_request, validate_request

PII = "data.bappeda@jambikota.example"  # recipients.yaml: pii: true
NO_PII = "wawako@jambikota.example"  # recipients.yaml: no pii


def test_form_fields_become_set_lines():
    assert request_sets("bpjs_tk", {"kuota_per_wilayah": 60, "desil_max": None, "pagu_per_kelurahan": 12000000},
                        ["pkh.desil.max=1", " ", "# komentar"]) == [
        "bpjs_tk.quota.size=60", "pagu.bpjs_tk.per_kelurahan=12000000", "pkh.desil.max=1"]
    with pytest.raises(ConfigError, match="Pilih program"):
        request_sets(None, {"desil_max": 2}, [])


def test_a_wrong_form_value_is_refused_before_computing(sqlite_warehouse):
    from tkpk.settings import Settings

    settings = Settings.from_env(database_url=sqlite_warehouse)
    with pytest.raises(ConfigError) as exc:
        validate_request(settings, "2026-10", "pkh", {"desil_max": 11}, [], PII)
    assert "pkh.desil.max" in str(exc.value) and "batasnya 10" in str(exc.value)
    with pytest.raises(ConfigError, match="e-mail"):
        validate_request(settings, "2026-10", "pkh", {"desil_max": 1}, [], "bukan-email")
    with pytest.raises(ConfigError, match="Tidak ada perubahan"):
        validate_request(settings, "2026-10", "pkh", {}, [], PII)


def _read(path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


@pytest.mark.parametrize(("requester", "with_names"), [(PII, True), (NO_PII, False)])
def test_the_requester_gets_the_comparison_report(sqlite_warehouse, tmp_path, requester, with_names):
    url = sqlite_warehouse
    settings, b = october(url, tmp_path)
    run_period(settings, "2026-09")
    run_period(settings, "2026-10")
    request = validate_request(settings, "2026-10", "bpjs_tk", {"desil_max": 1, "pagu_per_kelurahan": 100000},
                               [], requester, name="desil 1")
    assert request["sets"] == ["bpjs_tk.desil.max=1", "pagu.bpjs_tk.per_kelurahan=100000"]
    with MailSink(tmp_path / "outbox") as sink:
        smtp = SmtpSettings(host="127.0.0.1", port=sink.port, retries=0)
        first = run_request(settings, smtp, request, request_id="manual__1")
        again = run_request(settings, smtp, request, request_id="manual__1")  # a retry replaces, not doubles
        messages = sink.messages
    assert first["differences"] == 1 and first["programs_recomputed"] == ["bpjs_tk"]
    from sqlalchemy import func, select

    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import SimulationScenario

    with session_scope(url) as s:
        assert s.scalar(select(func.count()).select_from(SimulationScenario)) == 1
        assert s.scalar(select(SimulationScenario.scenario_id)) == again["scenario_ids"][0]

    msg = _read(messages[-1])
    assert msg["To"] == requester and msg["Subject"] == "[TKPK Kota Jambi] Simulasi Oktober 2026: desil 1"
    text = msg.get_body(("plain",)).get_content()
    assert 'SKENARIO "desil 1": bpjs_tk.desil.max=1, pagu.bpjs_tk.per_kelurahan=100000' in text
    assert "0 keluarga bertambah, 1 keluarga berkurang; biaya setahun −201.600 rupiah" in text
    assert "BPJS Ketenagakerjaan pekerja informal: keluarga 3 -> 2 (+0 / -1)" in text
    assert "Simpang IV Sipin (desil 1, BPJS Ketenagakerjaan pekerja informal): keluarga +0 / -1" in text
    assert "Telanaipura (desil 1" in text
    html = msg.get_body(("html",)).get_content()
    assert "cid:peta-simulasi" in html and "kelurahan melebihi pagu" in html
    images = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0]["Content-ID"] == "<peta-simulasi>"
    sheets = [p for p in msg.walk() if p.get_filename() and p.get_filename().endswith(".xlsx")]
    nik = b.nik("K2b")
    assert nik not in text and nik not in html
    if with_names:
        import openpyxl

        assert len(sheets) == 1
        ws = openpyxl.load_workbook(io.BytesIO(sheets[0].get_content())).active
        values = [c for row in ws.iter_rows(values_only=True) for c in row if c is not None]
        assert nik in values and "Warga K2b" in values and "berkurang" in values
    else:
        assert sheets == []
        assert "Daftar nama tidak dilampirkan" in text
