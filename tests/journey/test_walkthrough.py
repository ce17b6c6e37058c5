"""The guides' steps in order for one OPD (Disnaker), as a clerk and a steward perform them, asserting that every
message shown agrees with the warehouse: validate a broken file, read the feedback e-mail and its XLSX, fix, submit,
re-trigger, check status, export and import a review decision.

CLI steps run the real `tkpk` process. The monthly run and the re-trigger are the calls the DAG's tasks make
(`start_run` with the `opd` param, `discover`, `load_submission`, `build_reports`, `send_reports` to a real SMTP
sink); Airflow itself is exercised in tests/test_airflow_run.py. Linkage is not run (no registry here): the review
step queues the uncertain pair the way linkage records one.
"""

from __future__ import annotations

import email
import io
import re
from datetime import UTC, datetime
from email import policy

import openpyxl
import pytest
from sqlalchemy import select

from tests.journey.conftest import PERIOD

pytestmark = pytest.mark.xdist_group("journey")

HEADER = "NIK;Nama;Tgl Lahir;JK;Kode Kel;Pekerjaan;Mulai Kepesertaan;Iuran"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def rows(sexes: str) -> list[str]:
    out = []
    for n, sex in enumerate(sexes):
        day = 1 + n + (40 if sex == "P" else 0)
        out.append(f"157101{day:02d}0185{n + 1:04d};Orang {n};{1 + n:02d}/01/1985;{sex};Legok;Ojek;01/10/2026;16800")
    return out


def settings_of(journey):
    from tkpk.settings import Settings

    return Settings.from_env(database_url=journey.url, landing_url=journey.landing.as_uri(),
                             archive_url=(journey.var / "archive").as_uri(), var_dir=journey.var)


def monthly_run(settings, port: int, *, opd: str | None = None, actor: str | None = None) -> dict:
    """What tkpk_monthly's tasks do for the period (load, report, send), without linkage and eligibility."""
    from tkpk.ingest import BatchRejected, discover, load_submission
    from tkpk.notify import SmtpSettings, send_reports
    from tkpk.pipeline import start_run
    from tkpk.reports import build_reports

    run_id = f"manual__{datetime.now(UTC).isoformat()}"
    start_run(settings, run_id=run_id, dag_id="tkpk_monthly", logical_date=datetime(2026, 11, 10, tzinfo=UTC),
              period=PERIOD if opd else None, opd=opd, triggered_by=actor)
    discover(settings, PERIOD, opd="disnaker")
    try:
        counts = load_submission(settings, PERIOD, "disnaker", "disnaker_bpjstk", run_id=run_id)
    except BatchRejected as exc:
        counts = exc.counts
    build_reports(settings, PERIOD, run_id=run_id)
    send_reports(settings, PERIOD, SmtpSettings(host="127.0.0.1", port=port, timeout=10, backoff=0.01),
                 run_id=run_id)
    return counts


def feedback(outbox) -> list:
    msgs = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(outbox.glob("*.eml"))]
    return [m for m in msgs if "Umpan Balik Data Disnaker" in m["Subject"]]


def status_sheet(msg, name: str = "Status kiriman", first_header: str = "Jenis data") -> list[dict]:
    part = next(p for p in msg.iter_attachments() if p.get_content_type() == XLSX)
    ws = openpyxl.load_workbook(io.BytesIO(part.get_content()))[name]
    values = [[c.value for c in r] for r in ws.iter_rows()]
    head_i = next(i for i, r in enumerate(values) if first_header in r)
    head = values[head_i]
    return [dict(zip(head, r, strict=True)) for r in values[head_i + 1:] if any(v is not None for v in r)]


def batch(url):
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import SubmissionBatch

    with session_scope(url) as s:
        b = s.scalars(select(SubmissionBatch).where(SubmissionBatch.opd_code == "disnaker",
                                                    SubmissionBatch.status != "duplicate")
                      .order_by(SubmissionBatch.batch_id.desc())).first()
        return {k: getattr(b, k) for k in ("batch_id", "status", "rows_total", "rows_accepted", "rows_quarantined",
                                           "rejection_reason", "is_current")}


def test_guide_walkthrough_for_disnaker(journey, tmp_path):
    from tkpk.notify.mailsink import MailSink
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import ReviewDecision, ReviewItem, StagedRow

    settings = settings_of(journey)
    outbox = journey.var / "outbox"
    broken = tmp_path / "clerk" / "bpjs_oktober.csv"
    broken.parent.mkdir()
    broken.write_text("\n".join([HEADER, *rows("LPXXXXXXX")]) + "\n", encoding="utf-8")

    # 1. The clerk checks the file (panduan-opd: "Memeriksa berkas sebelum mengirim").
    p = journey.tkpk("validate", str(broken), "--type", "disnaker_bpjstk", "--period", PERIOD)
    assert p.returncode == 2, p.stderr
    assert "Hasil    : DITOLAK" in p.stdout
    assert "Baris    : 9 baris data; tidak ada yang dipakai karena berkas ditolak" in p.stdout
    assert "7 dari 9 baris (78%) mengandung kesalahan" in p.stdout
    assert "kolom 'JK': JK harus L (laki-laki) atau P (perempuan)." in p.stdout

    # ... sends it anyway; it is in the Disnaker folder when the monthly run comes.
    folder = journey.folder("disnaker")
    folder.mkdir(parents=True)
    (folder / "bpjs_oktober.csv").write_bytes(broken.read_bytes())
    with MailSink(outbox) as sink:
        first = monthly_run(settings, sink.port)
    b1 = batch(journey.url)
    assert first["status"] == b1["status"] == "rejected" and b1["rows_total"] == 9 and b1["rows_accepted"] == 0

    # 2. The clerk reads the feedback e-mail and its XLSX: counts agree with the warehouse, wording fits a first
    # submission that was rejected.
    [msg] = feedback(outbox)
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "9 baris, tidak ada yang dipakai karena berkas ditolak seluruhnya" in text
    assert "belum ada kiriman yang diterima untuk periode ini" in text
    for body in (text, html):
        assert "batch sebelumnya tetap dipakai" not in body and "umpan balik untuk OPD" not in body
        assert "0 ditolak" not in body and "kolom -" not in body
    assert "[Kritis (berkas ditolak)] seluruh berkas: 7 dari 9 baris (78%) mengandung kesalahan" in text
    [sheet_row] = status_sheet(msg)
    assert sheet_row["Status"] == "Ditolak" and "Diterima" not in sheet_row
    assert sheet_row["Baris"] == b1["rows_total"] and sheet_row["Baris dipakai"] == b1["rows_accepted"]
    assert sheet_row["Baris ditolak"] is None  # no row-level split for a rejected file
    problems = status_sheet(msg, "Baris bermasalah", "Baris Excel")
    assert {r["Kolom"] for r in problems if r["Baris Excel"] is not None} == {"JK"}  # the clerk's own header
    assert sorted(r["Baris Excel"] for r in problems if r["Baris Excel"] is not None) == list(range(4, 11))

    # 3. The clerk fixes the file and checks it again.
    fixed = tmp_path / "clerk2" / "bpjs_oktober.csv"
    fixed.parent.mkdir()
    fixed.write_text("\n".join([HEADER, *rows("LPLPLPLPL")]) + "\n", encoding="utf-8")
    p = journey.tkpk("validate", str(fixed), "--type", "disnaker_bpjstk", "--period", PERIOD)
    assert p.returncode == 0 and "Baris    : 9 baris data, 9 akan dipakai, 0 salah" in p.stdout

    # 4. The steward submits it (panduan-steward: "Setelah OPD mengirim berkas perbaikan", step 2): without a
    # choice it is not placed beside the broken one; --replace moves the broken one away.
    p = journey.tkpk("submit", str(fixed), "--opd", "disnaker", "--period", PERIOD)
    assert p.returncode == 1 and "--replace" in p.stderr and "bpjs_oktober.csv" in p.stderr
    p = journey.tkpk("submit", str(fixed), "--opd", "disnaker", "--period", PERIOD, "--replace", "--by", "rina")
    assert p.returncode == 0, p.stderr
    assert sorted(x.name for x in folder.iterdir()) == ["_diganti", "bpjs_oktober.csv"]
    assert (folder / "bpjs_oktober.csv").read_bytes() == fixed.read_bytes()

    # 5. Re-trigger with period and opd (step 3).
    with MailSink(outbox) as sink:
        second = monthly_run(settings, sink.port, opd="disnaker", actor="rina")
    b2 = batch(journey.url)
    assert second["status"] == b2["status"] == "accepted" and b2["is_current"]
    assert (b2["rows_total"], b2["rows_accepted"], b2["rows_quarantined"]) == (9, 9, 0)
    msgs = feedback(outbox)
    assert len(msgs) == 2
    revised = next(m for m in msgs if m["Subject"].startswith("[REVISI]"))
    text = revised.get_body(("plain",)).get_content()
    assert "9 baris, 9 dipakai, 0 tidak dipakai (salah)" in text and "DITERIMA" in text
    [sheet_row] = status_sheet(revised)
    assert (sheet_row["Status"], sheet_row["Baris"], sheet_row["Baris dipakai"], sheet_row["Baris ditolak"]) == (
        "Diterima", 9, 9, 0)

    # 6. Status (panduan-steward: "Melihat status kiriman").
    p = journey.tkpk("status", "--period", PERIOD)
    assert p.returncode == 0, p.stderr
    line = next(ln for ln in p.stdout.splitlines() if ln.startswith("disnaker "))
    assert re.search(r"diterima\s+9\s+9\s+0\s+0", line), line
    assert "ganti berkas" in p.stdout and "picu ulang" in p.stdout and "rina" in p.stdout

    # 7. Review (panduan-steward: "Antrean tinjauan pencocokan"): one uncertain pair, as linkage queues it.
    with session_scope(journey.url) as s:
        row = s.scalars(select(StagedRow).where(StagedRow.batch_id == b2["batch_id"])
                        .order_by(StagedRow.row_number)).first()
        s.add(ReviewItem(period=PERIOD, row_id=row.row_id, candidate_id_art="ART-77", match_probability=0.71,
                         evidence="nama=0.93", fingerprint="fp-77", status="open", created_at=datetime.now(UTC)))
    review = tmp_path / "tinjauan.xlsx"
    p = journey.tkpk("review", "export", "--period", PERIOD, "--out", str(review))
    assert p.returncode == 0 and p.stdout.startswith("1 pasangan")
    wb = openpyxl.load_workbook(review)
    ws = wb["Tinjauan"]
    head = [c.value for c in ws[1]]
    assert ws.cell(2, head.index("Baris") + 1).value == str(row.row_number)
    ws.cell(2, head.index("Keputusan") + 1, "cocok")
    wb.save(review)
    p = journey.tkpk("review", "import", str(review), "--by", "rina")
    assert p.returncode == 0 and "atas nama rina: cocok 1, tidak cocok 0, dilewati 0, tidak disimpan 0" in p.stdout
    with session_scope(journey.url) as s:
        d = s.scalars(select(ReviewDecision)).one()
        assert (d.id_art, d.decision, d.decided_by) == ("ART-77", "match", "rina")
