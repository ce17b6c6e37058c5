"""tkpk_monthly through Airflow itself (`airflow dags test`, embedded SQLite + LocalExecutor), issues 7 and 13: a
re-run of the same period changes nothing and sends no e-mail; a steward's trigger with period + opd reloads only that
OPD's batch and re-sends only the reports that changed, marked [REVISI]; when the revised month is earlier than one
that already ran, the later month is marked for rebuild, the run queued for it recomputes it and sends its changed
reports once.

The `airflow dags test` runs of a test are forked from one warm process (tests/warm_airflow.py); the synthetic
months, warehouse and environment are tests/airflow_month.py's.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter

import pytest
from sqlalchemy import select, text

from tests.airflow_month import drop_last_rows, messages, month_env, synthetic_landing, warehouse
from tests.warm_airflow import WarmAirflow

pytestmark = [pytest.mark.airflow, pytest.mark.slow]


def _batches(url: str, period: str) -> dict:
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import SubmissionBatch

    with session_scope(url) as s:
        rows = s.scalars(select(SubmissionBatch).where(SubmissionBatch.is_current.is_(True),
                                                       SubmissionBatch.period == period)).all()
        return {(b.opd_code, b.submission_type): (b.batch_id, b.rows_total) for b in rows}


def _verval_rows(url: str) -> int:
    from sqlalchemy import func

    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import VervalRow

    with session_scope(url) as s:
        return int(s.scalar(select(func.count()).select_from(VervalRow)))


def _table_digest(url: str, period: str) -> dict:
    """Order-independent content of the period's results, ids and timestamps left out."""
    import hashlib

    from tkpk.warehouse import get_engine

    queries = {
        "eligibility": "SELECT program, id_keluarga, id_art, eligible, benefit_rupiah, reasons, rank "
                       "FROM eligibility_decision WHERE period = :p",
        "targeting": "SELECT program, id_keluarga, id_art, category, rupiah, reason FROM targeting_result "
                     "WHERE period = :p",
        "links": "SELECT s.source_file, s.row_number, l.id_art, l.match_status, l.person_key FROM person_link l "
                 "JOIN staged_row s ON s.row_id = l.row_id WHERE l.period = :p",
    }
    out = {}
    with get_engine(url).connect() as conn:
        for name, sql in queries.items():
            rows = sorted(repr(tuple(r)) for r in conn.execute(text(sql), {"p": period}))
            out[name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return out


def _rebuild_marks(url: str) -> list[tuple]:
    from tkpk.warehouse import get_engine

    with get_engine(url).connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT period, because_of, rebuilt_at IS NOT NULL FROM period_rebuild ORDER BY rebuild_id"))]


def test_rerun_opd_retrigger_and_revision_of_an_earlier_month(tmp_path):
    from tkpk.notify.mailsink import MailSink
    from tkpk.warehouse import get_engine

    landing = synthetic_landing(tmp_path / "data", "2026-10", months=2)
    var = tmp_path / "var"
    url = warehouse(f"sqlite:///{tmp_path / 'warehouse.db'}", landing)
    outbox = tmp_path / "sink"
    log = tmp_path / "airflow.log"
    metadata = var / "airflow" / "airflow.db"
    with MailSink(outbox) as sink, WarmAirflow(month_env(var, landing, url, sink.port), tmp_path / "warm.log") \
            as airflow:
        airflow.migrate(log)

        def run(logical: str, conf: dict | None = None) -> list:
            """One `airflow dags test` of tkpk_monthly; it must succeed. The e-mails it sent."""
            before = len(messages(outbox))
            args = ["dags", "test", "tkpk_monthly", logical] + (["-c", json.dumps(conf)] if conf else [])
            airflow.run(args, log)
            with sqlite3.connect(metadata) as conn:
                state = conn.execute("SELECT state FROM dag_run WHERE state != 'queued' ORDER BY id DESC "
                                     "LIMIT 1").fetchone()[0]
            assert state == "success", log.read_text()[-5000:]
            return messages(outbox)[before:]

        # 1. the scheduled runs of October and November (logical dates 10 November and 10 December, 07:00 WIB)
        october = run("2026-11-10T00:00:00+00:00")
        batches, digest = _batches(url, "2026-10"), _table_digest(url, "2026-10")
        assert october and digest["eligibility"][0] > 0 and ("disnaker", "disnaker_bpjstk") in batches
        assert not any(m["Subject"].startswith("[REVISI]") for m in october)
        # the synthetic month's verval folder (issue 16) loads through the same mapped task, photos checked
        assert [k for k in batches if k[1] == "kelurahan_verval"], batches
        assert _verval_rows(url) > 0
        november = run("2026-12-10T00:00:00+00:00")
        assert november and _rebuild_marks(url) == []

        # 2. October again, after November ran: identical tables, no e-mail, nothing to rebuild
        assert run("2026-12-11T00:00:00+00:00", {"period": "2026-10"}) == [], "an unchanged re-run sends nothing"
        assert _batches(url, "2026-10") == batches
        assert _table_digest(url, "2026-10") == digest
        assert _rebuild_marks(url) == []

        # 3. Disnaker sends a corrected October file (two rows fewer); the steward triggers period + opd: only that
        #    batch is reloaded, only the changed October reports go out again, as [REVISI], and November (which
        #    compares with October and reads its events) is marked for rebuild, its run queued by the trigger
        folder = landing / "2026-10" / "disnaker"
        (old,) = [p for p in folder.iterdir() if p.is_file()]
        corrected = drop_last_rows(old, 2, folder / "Peserta BPJS TK perbaikan.csv")
        old.unlink()
        revised = run("2026-12-12T00:00:00+00:00", {"period": "2026-10", "opd": "disnaker"})
        assert corrected.exists()
        after = _batches(url, "2026-10")
        changed = {k for k in after if after[k] != batches.get(k)}
        assert changed == {("disnaker", "disnaker_bpjstk")}, changed
        assert after[("disnaker", "disnaker_bpjstk")][1] == batches[("disnaker", "disnaker_bpjstk")][1] - 2
        assert revised, "a changed report must go out again"
        assert all(m["Subject"].startswith("[REVISI] [TKPK Kota Jambi]") and "Oktober 2026" in m["Subject"]
                   for m in revised), [m["Subject"] for m in revised]
        assert len(revised) < len(october), "only the reports whose data changed are re-sent"
        assert _rebuild_marks(url) == [("2026-11", "2026-10", False)]
        with sqlite3.connect(metadata) as conn:
            queued = [json.loads(c) if isinstance(c, str) else c for (c,) in conn.execute(
                "SELECT conf FROM dag_run WHERE state = 'queued'")]
        assert any(str(c).find("2026-11") >= 0 for c in queued), queued

        # 4. what the queued run does: November's events, eligibility and reports recomputed, the changed reports
        #    sent once as [REVISI], the mark closed; one more run sends nothing
        rebuilt = run("2026-12-13T00:00:00+00:00", {"period": "2026-11"})
        assert rebuilt, "November's reports compare with October: some must change"
        assert all(m["Subject"].startswith("[REVISI]") and "November 2026" in m["Subject"] for m in rebuilt), \
            [m["Subject"] for m in rebuilt]
        assert max(Counter((m["Subject"], m["Delivered-To"]) for m in rebuilt).values()) == 1
        assert _rebuild_marks(url) == [("2026-11", "2026-10", True)]
        assert run("2026-12-14T00:00:00+00:00", {"period": "2026-11"}) == []  # once, not again
    get_engine.cache_clear()
