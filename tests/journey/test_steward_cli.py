"""Steward-facing CLI through the real process: `tkpk status` wraps reasons instead of cutting them, labels audit
entries in Indonesian and says so when a period has no data; review decisions in the guide's words with the row of
every invalid entry, edited IDs refused and the actor recorded; Indonesian help; no traceback for a missing file or
a reader that went away."""

from __future__ import annotations

import getpass
import subprocess
import sys
from datetime import UTC, datetime

import openpyxl
import pytest
from sqlalchemy import select

from tests.journey.conftest import PERIOD
from tests.review_queue import seed_review_queue

pytestmark = pytest.mark.xdist_group("journey")

LONG_REASON = ("Kiriman Dinas Tenaga Kerja (Peserta BPJS Ketenagakerjaan (Disnaker)) periode Oktober 2026 DITOLAK "
               "seluruhnya; belum ada kiriman yang diterima untuk periode ini.\n- bpjs.xlsx: Kolom wajib 'Tanggal "
               "Mulai' tidak ditemukan. Judul kolom yang dikenali: 'Tanggal Mulai', 'Tgl Mulai', 'Mulai "
               "Kepesertaan', 'TMT'. Kolom 'Mulai Kepesertan' di berkas mungkin maksudnya 'Mulai Kepesertaan': "
               "perbaiki judul kolomnya.")


def seed(url: str) -> list[int]:
    """A rejected Disnaker batch with a long reason, an accepted Koperasi batch with three rows queued for review,
    and two audit entries."""
    from tkpk.warehouse import audit, session_scope

    now = datetime(2026, 11, 10, 1, 0, tzinfo=UTC)
    with session_scope(url) as s:
        ids = seed_review_queue(s, period=PERIOD, niks=[f"15710141017000{n:02d}" for n in range(3)],
                                rejection_reason=LONG_REASON, now=now)
        audit(s, actor="scheduled__x", action="load_duplicate", period=PERIOD, opd_code="disnaker")
        audit(s, actor="rina", action="retrigger", period=PERIOD, opd_code="disnaker")
    return ids


def test_status_wraps_reasons_indonesian_audit_and_empty_period(journey):
    p = journey.tkpk("status", "--period", "2026-03")
    assert p.returncode == 0, p.stderr
    assert "Belum ada data untuk periode 2026-03" in p.stdout

    seed(journey.url)
    p = journey.tkpk("status", "--period", PERIOD)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    flat = " ".join(out.split())
    # The whole reason is there, wrapped over lines (never cut mid-word), no line of it wider than the table.
    assert " ".join(LONG_REASON.split()) in flat
    reason_lines = [line for line in out.splitlines() if line.startswith(" " * 18)]
    assert len(reason_lines) >= 4 and max(len(line) for line in reason_lines) <= 110
    assert "muat ulang (berkas sama)" in out and "picu ulang" in out
    assert "load_duplicate" not in out and "retrigger" not in out


def test_review_decisions_in_indonesian_rows_named_edited_ids_refused_actor_recorded(journey, tmp_path):
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import AuditLog, ReviewDecision

    seed(journey.url)
    out = tmp_path / "tinjauan.xlsx"
    p = journey.tkpk("review", "export", "--period", PERIOD, "--out", str(out))
    assert p.returncode == 0, p.stderr
    wb = openpyxl.load_workbook(out)
    ws = wb["Tinjauan"]
    rules = ws.data_validations.dataValidation
    assert len(rules) == 1 and rules[0].formula1 == '"cocok,tidak cocok,lewati"'
    head = [c.value for c in ws[1]]
    col = {name: head.index(name) + 1 for name in ("Keputusan", "ID ART (Registri)")}
    ws.cell(2, col["Keputusan"], "cocok")
    ws.cell(3, col["Keputusan"], "mungkin")
    ws.cell(4, col["Keputusan"], "tidak cocok")
    ws.cell(4, col["ID ART (Registri)"], "ART_LAIN")  # forbidden edit: a person who does not exist
    wb.save(out)

    p = journey.tkpk("review", "import", str(out))
    assert p.returncode == 0, p.stderr
    me = getpass.getuser()
    assert f"atas nama {me}" in p.stdout and "cocok 1" in p.stdout and "tidak disimpan 2" in p.stdout
    assert "baris 3: keputusan 'mungkin' tidak dikenal" in p.stdout
    assert "baris 4: ID Tinjauan, ID ART (Registri) atau Sidik Jari diubah" in p.stdout
    with session_scope(journey.url) as s:
        decisions = [(d.id_art, d.decision, d.decided_by) for d in s.scalars(select(ReviewDecision))]
        actors = s.scalars(select(AuditLog.actor).where(AuditLog.action == "review_decision")).all()
    assert decisions == [("ART0", "match", me)] and actors == [me]


def test_indonesian_help_and_no_tracebacks(journey, tmp_path):
    p = journey.tkpk("submit", "--help")
    assert p.returncode == 0 and "pemakaian:" in p.stdout and "opsi:" in p.stdout and "--replace" in p.stdout
    assert "show this help" not in p.stdout
    p = journey.tkpk("status")
    assert p.returncode != 0 and "wajib diisi: --period" in p.stderr and "required" not in p.stderr
    p = journey.tkpk("review", "import", str(tmp_path / "tidak_ada.xlsx"))
    assert "Traceback" not in p.stdout + p.stderr and "tidak ditemukan" in p.stdout + p.stderr

    # A reader that goes away (`tkpk validate ... | head`): no BrokenPipeError traceback.
    rows = [f"15710141017{n:05d};Orang {n};01/01/1980;X;Legok;Ojek;01/10/2026;16800" for n in range(1500)]
    source = tmp_path / "banyak_salah.csv"
    source.write_text("\n".join(["NIK;Nama;Tgl Lahir;JK;Kelurahan;Pekerjaan;Tanggal Mulai;Iuran", *rows]) + "\n")
    # --json: one issue per row, far more than the pipe holds, so the process is still writing when the pipe closes.
    proc = subprocess.Popen([sys.executable, "-m", "tkpk", "validate", str(source), "--type", "disnaker_bpjstk",
                             "--period", PERIOD, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=journey.env)
    first = proc.stdout.read(20)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=240)
    assert first.startswith(b'{"file"') and "Traceback" not in err and "BrokenPipe" not in err


def test_demo_summary_wraps_reasons_and_speaks_indonesian(journey):
    from tkpk.demo_summary import HOUSEHOLD_LABEL, period_lines
    from tkpk.settings import Settings

    seed(journey.url)
    lines = period_lines(Settings.from_env(database_url=journey.url, var_dir=journey.var), PERIOD)
    text = "\n".join(lines)
    assert "disnaker         ditolak                0 dari 9 baris dipakai" in text
    # The first specific reason, whole (wrapped, not cut at 160 characters).
    first = LONG_REASON.splitlines()[1][2:]
    assert " ".join(first.split()) in " ".join(text.split())
    assert max(len(line) for line in lines) <= 110
    assert set(HOUSEHOLD_LABEL) == {"linked", "duplicate", "new", "review"}
