"""tkpk_monthly through Airflow itself (`airflow dags test`, embedded SQLite + LocalExecutor), issue 7 acceptance:
a re-run of the same period changes nothing and sends no e-mail; a steward's trigger with period + opd reloads only
that OPD's batch and re-sends only the reports that changed, marked [REVISI]."""

from __future__ import annotations

import email
import json
import subprocess
import sys
from datetime import date
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW = str(Path(sys.executable).parent / "airflow")


def _airflow(args, env, log: Path) -> int:
    with open(log, "a") as fh:
        return subprocess.run([AIRFLOW, *args], env=env, stdout=fh, stderr=subprocess.STDOUT, timeout=900).returncode


def _messages(outbox: Path) -> list:
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(outbox.glob("*.eml"))]


def _batches(url: str) -> dict:
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import SubmissionBatch

    with session_scope(url) as s:
        rows = s.scalars(select(SubmissionBatch).where(SubmissionBatch.is_current.is_(True))).all()
        return {(b.opd_code, b.submission_type): (b.batch_id, b.rows_total) for b in rows}


def _verval_rows(url: str) -> int:
    from sqlalchemy import func

    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import VervalRow

    with session_scope(url) as s:
        return int(s.scalar(select(func.count()).select_from(VervalRow)))


def _table_digest(url: str) -> dict:
    """Order-independent content of the period's results, ids and timestamps left out."""
    import hashlib

    from sqlalchemy import text

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
            rows = sorted(repr(tuple(r)) for r in conn.execute(text(sql), {"p": "2026-10"}))
            out[name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return out


def test_rerun_is_idempotent_and_opd_retrigger_reloads_only_that_batch(tmp_path):
    from tkpk.demo import airflow_env
    from tkpk.notify.mailsink import MailSink
    from tkpk.registry import load_snapshot
    from tkpk.synth import generate
    from tkpk.warehouse import get_engine, upgrade

    data = tmp_path / "data"
    generate(data, "2026-10", households=400, seed=5, months=1)
    var = tmp_path / "var"
    (var / "airflow").mkdir(parents=True)
    url = f"sqlite:///{var / 'warehouse.db'}"
    upgrade(url)
    manifest = json.loads((data / "truth" / "manifest.json").read_text())
    snap = manifest["snapshot_date"]
    load_snapshot(url, str(data / "landing" / "registry" / snap), date.fromisoformat(snap))
    log = tmp_path / "airflow.log"
    outbox = var / "outbox"
    with MailSink(outbox) as sink:
        env = airflow_env(var, sink.port)
        env.update(TKPK_VAR_DIR=str(var), TKPK_DATABASE_URL=url, TKPK_LANDING_URL=(data / "landing").as_uri(),
                   TKPK_ARCHIVE_URL=(var / "archive").as_uri())
        assert _airflow(["db", "migrate"], env, log) == 0, log.read_text()[-3000:]

        # 1. the scheduled run for October (logical date 10 November 07:00 WIB)
        assert _airflow(["dags", "test", "tkpk_monthly", "2026-11-10T00:00:00+00:00"], env, log) == 0, \
            log.read_text()[-5000:]
        first = _messages(outbox)
        batches = _batches(url)
        digest = _table_digest(url)
        assert first and digest["eligibility"][0] > 0 and ("disnaker", "disnaker_bpjstk") in batches
        assert not any(m["Subject"].startswith("[REVISI]") for m in first)
        # the synthetic month's verval folders (issue 16) load through the same mapped task, photos checked
        assert [k for k in batches if k[1] == "kelurahan_verval"], batches
        assert _verval_rows(url) > 0

        # 2. the same period again: identical tables, no e-mail
        assert _airflow(["dags", "test", "tkpk_monthly", "2026-11-11T00:00:00+00:00",
                         "-c", json.dumps({"period": "2026-10"})], env, log) == 0, log.read_text()[-5000:]
        assert len(_messages(outbox)) == len(first), "an unchanged re-run must send nothing"
        assert _batches(url) == batches
        assert _table_digest(url) == digest

        # 3. Disnaker sends a corrected file (two rows fewer); the steward triggers period + opd
        folder = data / "landing" / "2026-10" / "disnaker"
        (old,) = [p for p in folder.iterdir() if p.is_file()]
        corrected = _drop_last_rows(old, 2, folder / "Peserta BPJS TK perbaikan.csv")
        old.unlink()
        assert _airflow(["dags", "test", "tkpk_monthly", "2026-11-12T00:00:00+00:00",
                         "-c", json.dumps({"period": "2026-10", "opd": "disnaker"})], env, log) == 0, \
            log.read_text()[-5000:]
        assert corrected.exists()
        after = _batches(url)
        changed = {k for k in after if after[k] != batches.get(k)}
        assert changed == {("disnaker", "disnaker_bpjstk")}, changed
        assert after[("disnaker", "disnaker_bpjstk")][1] == batches[("disnaker", "disnaker_bpjstk")][1] - 2
        new = _messages(outbox)[len(first):]
        assert new, "a changed report must go out again"
        assert all(m["Subject"].startswith("[REVISI] [TKPK Kota Jambi]") for m in new)
        assert len(new) < len(first), "only the reports whose data changed are re-sent"
    get_engine.cache_clear()


def _drop_last_rows(path: Path, n: int, target: Path) -> Path:
    """Write the file's data rows minus the last n data rows as a plain UTF-8 CSV (what a corrected upload is)."""
    import pandas as pd

    if path.suffix.lower() == ".csv":
        raw = path.read_bytes()
        enc = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "cp1252"
        sep = ";" if raw.count(b";") > raw.count(b",") else ","
        frame = pd.read_csv(path, sep=sep, encoding=enc, dtype=str, header=None, keep_default_na=False)
    else:
        frame = pd.read_excel(path, header=None, dtype=str, engine="calamine").fillna("")
    # keep everything up to the last data row; a trailing total row ("JUMLAH") stays out of the count
    is_total = frame.apply(lambda r: any(str(v).strip().upper() in ("JUMLAH", "TOTAL") for v in r), axis=1)
    blank = frame.apply(lambda r: all(str(v).strip() == "" for v in r), axis=1)
    body = frame[~is_total & ~blank]
    body = body.iloc[: len(body) - n]
    body.to_csv(target, index=False, header=False, encoding="utf-8")
    return target

