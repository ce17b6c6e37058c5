"""Discovery and loading on SQLite and PostgreSQL (fixture `warehouse`): batches replace, never add; a rejected
reload keeps the previous batch; a byte-identical reload is recognised; raw files are archived with their sha256."""

from __future__ import annotations

import hashlib
import os
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.ingest.conftest import PERIOD, make_settings, put

HEADER = "No KK;NIK Pengurus;Nama Pengurus;Kelurahan;Program;Status;Nominal"
ROWS = [
    "1571010101200001;1571014505900003;Siti Aminah;Legok;PKH;aktif;3.000.000",
    "1571010101200002;1571010101850002;Budi Santoso;Murni;BPNT;aktif;2.400.000",
    "1571010101200003;1571010101850003;Agus;Selamat;PBI_JK;aktif;504.000",
    "1571010101200004;1571010101850004;Maryam;Sungai Putri;PKH;aktif;3.000.000",
]


def csv_bytes(rows: list[str], header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode("cp1252")


def count(url, model, **filters) -> int:
    from tkpk.warehouse import session_scope

    with session_scope(url) as s:
        q = select(func.count()).select_from(model)
        for k, v in filters.items():
            q = q.where(getattr(model, k) == v)
        return int(s.scalar(q))


def batches(url) -> list:
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import SubmissionBatch

    with session_scope(url) as s:
        return [(b.batch_id, b.status, b.is_current, b.rows_accepted) for b in
                s.scalars(select(SubmissionBatch).order_by(SubmissionBatch.batch_id))]


def test_reload_replaces_rejected_keeps_identical_is_recognised(warehouse, tmp_path):
    from tkpk.ingest import BatchRejected, load_submission
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import AuditLog, Finding, QuarantinedRow, StagedRow

    settings = make_settings(tmp_path, warehouse)
    first = ROWS[:3] + ["1571010101200004;1571010101850004;Maryam;Sungai Putri;BLT;aktif;3.000.000"]
    target = put(settings, "dinsos", csv_bytes(first), "kpm_oktober.csv")

    c1 = load_submission(settings, PERIOD, "dinsos", "dinsos_kpm", run_id="run-1")
    assert (c1["status"], c1["rows_total"], c1["rows_accepted"], c1["rows_quarantined"]) == ("accepted", 4, 3, 1)
    assert count(warehouse, StagedRow) == 3 and count(warehouse, QuarantinedRow) == 1
    with session_scope(warehouse) as s:
        row = s.scalars(select(StagedRow).where(StagedRow.row_number == 2)).one()
        assert (row.nik, row.no_kk, row.nama, row.kode_kelurahan) == (
            "1571014505900003", "1571010101200001", "Siti Aminah", "15.71.10.1003")
        assert row.data["nominal"] == 3_000_000 and row.data["program"] == "PKH"
        assert row.source_file == "kpm_oktober.csv"
        q = s.scalars(select(QuarantinedRow)).one()
        assert (q.row_number, q.data["program"]) == (5, "BLT")
        finding = s.scalars(select(Finding).where(Finding.batch_id == c1["batch_id"])).one()
        assert (finding.row_number, finding.column, finding.check, finding.severity, finding.value) == (
            5, "program", "nilai_tidak_dikenal", "error", "BLT")

    # The OPD sends a corrected file: counts are replaced, not added.
    target.write_bytes(csv_bytes(ROWS))
    c2 = load_submission(settings, PERIOD, "dinsos", "dinsos_kpm", run_id="run-2")
    assert (c2["status"], c2["rows_accepted"], c2["rows_quarantined"]) == ("accepted", 4, 0)
    assert count(warehouse, StagedRow) == 4
    assert count(warehouse, StagedRow, batch_id=c1["batch_id"]) == 0
    assert batches(warehouse) == [(c1["batch_id"], "superseded", False, 3), (c2["batch_id"], "accepted", True, 4)]

    # A broken file: recorded as rejected, the previous batch stays current with its rows.
    target.write_bytes(csv_bytes([r.rsplit(";", 4)[0] for r in ROWS], header="No KK;NIK Pengurus;Nama Pengurus"))
    with pytest.raises(BatchRejected) as exc:
        load_submission(settings, PERIOD, "dinsos", "dinsos_kpm", run_id="run-3")
    message = str(exc.value)
    # The missing columns are named as a clerk writes them, not by their canonical names.
    assert "DITOLAK" in message and "Kolom wajib 'Kelurahan'" in message and "Kolom wajib 'Program'" in message
    assert not re.search(r"\d{16}", message)  # no full NIK / No KK in what reaches the task log
    assert exc.value.counts["status"] == "rejected"
    rejected_id = exc.value.counts["batch_id"]
    assert batches(warehouse)[-1] == (rejected_id, "rejected", False, 0)
    assert count(warehouse, StagedRow) == 4 and count(warehouse, StagedRow, batch_id=c2["batch_id"]) == 4
    assert count(warehouse, Finding, batch_id=rejected_id, severity="critical") == 2

    # The steward puts the accepted file back: byte-identical to the current batch, recorded, not reprocessed.
    target.write_bytes(csv_bytes(ROWS))
    c4 = load_submission(settings, PERIOD, "dinsos", "dinsos_kpm", run_id="run-4")
    assert c4["status"] == "duplicate" and c4["rows_accepted"] == 4
    assert count(warehouse, StagedRow) == 4
    assert batches(warehouse)[-1] == (c4["batch_id"], "duplicate", False, 4)
    assert batches(warehouse)[1][1:3] == ("accepted", True)
    with session_scope(warehouse) as s:
        actions = [a.action for a in s.scalars(select(AuditLog).order_by(AuditLog.audit_id))]
    assert actions.count("load_duplicate") == 1 and actions.count("load_submission") == 3


def test_archive_keeps_raw_files_with_their_sha256(tmp_path):
    from tkpk.ingest import load_submission
    from tkpk.warehouse import session_scope, upgrade
    from tkpk.warehouse.models import SubmissionBatch

    settings = make_settings(tmp_path)
    upgrade(settings.database_url)
    data = csv_bytes(ROWS)
    put(settings, "dinsos", data, "KPM Oktober (final).csv")
    counts = load_submission(settings, PERIOD, "dinsos", "dinsos_kpm")
    digest = hashlib.sha256(data).hexdigest()
    archived = tmp_path / "archive" / PERIOD / "dinsos" / "dinsos_kpm" / f"{digest[:16]}_KPM_Oktober_final_.csv"
    assert archived.read_bytes() == data
    with session_scope(settings.database_url) as s:
        batch = s.get(SubmissionBatch, counts["batch_id"])
        assert batch.files[0]["sha256"] == digest
        assert batch.files[0]["archive_uri"] == archived.as_uri()
        assert batch.sha256 == hashlib.sha256(digest.encode()).hexdigest()


def test_several_files_form_one_batch_and_an_identical_copy_is_ignored(tmp_path, files_dir):
    from tkpk.ingest import load_submission
    from tkpk.warehouse import session_scope, upgrade
    from tkpk.warehouse.models import Finding, StagedRow

    settings = make_settings(tmp_path)
    upgrade(settings.database_url)
    put(settings, "dinsos", csv_bytes(ROWS[:2]), "kpm_bagian1.csv")
    put(settings, "dinsos", csv_bytes(ROWS[2:]), "kpm_bagian2.csv")
    put(settings, "dinsos", csv_bytes(ROWS[2:]), "kpm_bagian2 (1).csv")  # WhatsApp sent it twice
    put(settings, "dinsos", b"%PDF-1.4 surat pengantar", "surat_pengantar.pdf")
    counts = load_submission(settings, PERIOD, "dinsos", "dinsos_kpm")
    assert (counts["status"], counts["rows_accepted"], counts["files"]) == ("accepted", 4, 3)
    assert count(settings.database_url, StagedRow) == 4
    with session_scope(settings.database_url) as s:
        checks = sorted(f.check for f in s.scalars(select(Finding)))
        files = sorted({r.source_file for r in s.scalars(select(StagedRow))})
    assert checks == ["berkas_ganda", "berkas_lain_diabaikan"]
    assert files == ["kpm_bagian1.csv", "kpm_bagian2 (1).csv"] or files == ["kpm_bagian1.csv", "kpm_bagian2.csv"]


def test_no_spreadsheet_at_all_is_a_rejected_batch(tmp_path):
    from tkpk.ingest import BatchRejected, load_submission
    from tkpk.warehouse import upgrade

    settings = make_settings(tmp_path)
    upgrade(settings.database_url)
    put(settings, "dinkes", b"%PDF-1.4", "data_bumil.pdf")
    with pytest.raises(BatchRejected, match="Tidak ada berkas lembar kerja"):
        load_submission(settings, PERIOD, "dinkes", "dinkes_ibu_hamil")


def test_discover_records_received_and_missing(warehouse, tmp_path):
    from tkpk.ingest import discover
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import ExpectedSubmission

    settings = make_settings(tmp_path, warehouse)
    first = put(settings, "dinsos", csv_bytes(ROWS), "kpm.csv")
    put(settings, "kel-1571011001", b"x", "usulan.xlsx")
    (Path(first).parent.parent / "dinkes").mkdir()  # folder made, nothing sent
    put(settings, "dinsos", b"lama", "._kpm.csv")  # macOS metadata: not a submission
    put(settings, "dinsos", b"lock", "~$kpm.xlsx")  # Excel lock file
    stamp = datetime(2026, 11, 3, 8, 0, tzinfo=UTC).timestamp()
    os.utime(first, (stamp, stamp))

    found = discover(settings, PERIOD)
    by = {(f["opd_code"], f["submission_type"]): f for f in found}
    assert by[("dinsos", "dinsos_kpm")] == {"opd_code": "dinsos", "submission_type": "dinsos_kpm",
                                            "state": "received", "files": 1, "required": True}
    assert by[("dinkes", "dinkes_ibu_hamil")]["state"] == "missing"
    assert by[("disnaker", "disnaker_bpjstk")] == {"opd_code": "disnaker", "submission_type": "disnaker_bpjstk",
                                                   "state": "missing", "files": 0, "required": True}
    assert by[("kel-1571011001", "kelurahan_usulan")]["state"] == "received"
    assert by[("kel-1571011001", "kelurahan_usulan")]["required"] is False
    assert len(found) == 8 + 68
    with session_scope(warehouse) as s:
        row = s.get(ExpectedSubmission, (PERIOD, "dinsos", "dinsos_kpm"))
        assert row.state == "received" and row.file_count == 1 and row.deadline == date(2026, 11, 5)
        assert row.first_received_at.replace(tzinfo=UTC) == datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
        assert s.get(ExpectedSubmission, (PERIOD, "perkim", "perkim_rumah")).deadline == date(2026, 11, 7)

    # A corrected file arrives later: the first arrival still counts for "tepat waktu".
    later = datetime(2026, 11, 9, 8, 0, tzinfo=UTC).timestamp()
    os.utime(first, (later, later))
    assert discover(settings, PERIOD, opd="dinsos") == [by[("dinsos", "dinsos_kpm")]]
    with session_scope(warehouse) as s:
        row = s.get(ExpectedSubmission, (PERIOD, "dinsos", "dinsos_kpm"))
        assert row.first_received_at.replace(tzinfo=UTC) == datetime(2026, 11, 3, 8, 0, tzinfo=UTC)


def test_discover_with_nothing_in_the_landing_zone(tmp_path):
    from tkpk.ingest import discover
    from tkpk.warehouse import upgrade

    settings = make_settings(tmp_path)
    upgrade(settings.database_url)
    found = discover(settings, "2027-01")
    assert {f["state"] for f in found} == {"missing"}
    assert sum(f["required"] for f in found) == 8


def test_files_of_an_opd_that_sends_several_types_go_by_name():
    from tkpk.ingest.landing import FileEntry, files_for_type

    entries = [FileEntry(n, f"file:///x/{n}", f"/x/{n}", 1, None)
               for n in ("Dinsos_KPM_Oktober.xlsx", "dinsos-bansos-lain.xlsx", "rekap.csv")]
    assert [e.name for e in files_for_type(entries, ("dinsos_kpm", "dinsos_lain"), "dinsos_kpm")] == [
        "Dinsos_KPM_Oktober.xlsx"]
    assert len(files_for_type(entries, ("dinsos_kpm",), "dinsos_kpm")) == 3


def test_landing_and_archive_through_fsspec_memory(tmp_path):
    """Any fsspec URL works the same (S3/MinIO and SFTP are tested against real servers in tests/ops)."""
    import fsspec

    from tkpk.ingest import discover, load_submission
    from tkpk.warehouse import upgrade

    fs = fsspec.filesystem("memory")
    fs.pipe(f"/tkpk-landing/{PERIOD}/dinsos/kpm.csv", csv_bytes(ROWS))
    settings = make_settings(tmp_path, landing_url="memory://tkpk-landing", archive_url="memory://tkpk-archive")
    upgrade(settings.database_url)
    found = [f for f in discover(settings, PERIOD) if f["state"] == "received"]
    assert found == [{"opd_code": "dinsos", "submission_type": "dinsos_kpm", "state": "received", "files": 1,
                      "required": True}]
    counts = load_submission(settings, PERIOD, "dinsos", "dinsos_kpm")
    assert counts["rows_accepted"] == 4
    assert len(fs.find("/tkpk-archive")) == 1


@pytest.mark.mariadb
def test_load_and_reload_on_mariadb(mysql_url, tmp_path):
    """MariaDB is supported as far as the tests run the pipeline on it: executemany path, JSON and reserved words."""
    from tkpk.ingest import load_submission
    from tkpk.warehouse import upgrade
    from tkpk.warehouse.models import Finding, StagedRow

    upgrade(mysql_url)
    settings = make_settings(tmp_path, mysql_url)
    target = put(settings, "dinsos", csv_bytes(ROWS[:3] + [ROWS[3].replace(";PKH;", ";BLT;")]), "kpm.csv")
    assert load_submission(settings, PERIOD, "dinsos", "dinsos_kpm")["rows_accepted"] == 3
    target.write_bytes(csv_bytes(ROWS))
    assert load_submission(settings, PERIOD, "dinsos", "dinsos_kpm")["rows_accepted"] == 4
    assert count(mysql_url, StagedRow) == 4 and count(mysql_url, Finding) == 1


def test_awkward_text_survives_the_copy_as_valid_json(warehouse, tmp_path):
    from tkpk.ingest import load_submission
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import StagedRow

    settings = make_settings(tmp_path, warehouse)
    rows = [ROWS[0].replace("Siti Aminah", 'Siti "Ani" \\ Aminah\x01; =1+1'.replace(";", ",")), ROWS[1]]
    put(settings, "dinsos", csv_bytes(rows), "kpm.csv")
    assert load_submission(settings, PERIOD, "dinsos", "dinsos_kpm")["rows_accepted"] == 2
    with session_scope(warehouse) as s:
        row = s.scalars(select(StagedRow).where(StagedRow.row_number == 2)).one()
        # the control character is removed by the reader (issue #11; it used to become a space)
        assert row.data["nama_pengurus"] == 'Siti "Ani" \\ Aminah, =1+1'
        assert row.nama == row.data["nama_pengurus"]  # control characters tidied in both


def test_every_file_is_listed_except_lock_and_temporary_files(tmp_path):
    """Only lock, temporary and folder-metadata files are left out (was: every name starting with '.', so a valid
    '..kpm.csv' silently vanished); a file that is not a spreadsheet is recorded with a finding."""
    from tkpk.ingest import discover, load_submission
    from tkpk.ingest.landing import ignored_name
    from tkpk.warehouse import session_scope, upgrade
    from tkpk.warehouse.models import Finding, StagedRow, SubmissionBatch

    settings = make_settings(tmp_path)
    upgrade(settings.database_url)
    put(settings, "dinsos", csv_bytes(ROWS[:2]), "..kpm_bagian1.csv")
    put(settings, "dinsos", csv_bytes(ROWS[2:]), ".kpm bagian2 [final].csv")
    put(settings, "dinsos", b"%PDF-1.4 surat", "surat.pdf")
    ignored = ["~$kpm.xlsx", ".~lock.kpm.xlsx#", ".DS_Store", "._kpm.csv", "Thumbs.db", "desktop.ini",
               "kpm.csv.part", "kpm.tmp", "kpm.xlsx.crdownload"]
    for name in ignored:
        put(settings, "dinsos", csv_bytes(ROWS), name)
    assert all(ignored_name(n) for n in ignored)
    assert not any(ignored_name(n) for n in ("..kpm.csv", ".kpm.csv", "kpm.csv", "temp_kpm.csv", "partai.xlsx"))
    found = [f for f in discover(settings, PERIOD, opd="dinsos") if f["submission_type"] == "dinsos_kpm"]
    assert found[0]["files"] == 2
    counts = load_submission(settings, PERIOD, "dinsos", "dinsos_kpm")
    assert (counts["status"], counts["rows_accepted"], counts["files"]) == ("accepted", 4, 2)
    with session_scope(settings.database_url) as s:
        files = sorted(f["name"] for f in s.get(SubmissionBatch, counts["batch_id"]).files)
        sources = sorted({r.source_file for r in s.scalars(select(StagedRow))})
        checks = [(f.check, f.source_file) for f in s.scalars(select(Finding))]
    assert files == ["..kpm_bagian1.csv", ".kpm bagian2 [final].csv", "surat.pdf"]
    assert sources == ["..kpm_bagian1.csv", ".kpm bagian2 [final].csv"]
    assert checks == [("berkas_lain_diabaikan", "surat.pdf")]


def test_archive_replaces_a_partial_file_and_keeps_an_intact_one(tmp_path, monkeypatch):
    """The archive write goes to a temporary name and is renamed (was bug 1: written in place, and whatever was at
    the path was trusted): a truncated file left by a killed load is replaced, an intact one is not rewritten."""
    from fsspec.implementations.local import LocalFileSystem

    from tkpk.ingest.load import archive_file
    from tkpk.period import Period

    settings = make_settings(tmp_path)
    data = csv_bytes(ROWS)
    digest = hashlib.sha256(data).hexdigest()
    folder = tmp_path / "archive" / PERIOD / "dinsos" / "dinsos_kpm"
    folder.mkdir(parents=True)
    target = folder / f"{digest[:16]}_kpm.csv"
    target.write_bytes(data[: len(data) // 2])  # what a load killed mid-write left
    uri = archive_file(settings, Period.parse(PERIOD), "dinsos", "dinsos_kpm", "kpm.csv", digest, data)
    assert uri == target.as_uri() and target.read_bytes() == data
    assert sorted(p.name for p in folder.iterdir()) == [target.name], "a temporary file was left behind"

    writes = []
    original = LocalFileSystem.pipe_file

    def pipe_file(self, path, value, *args, **kwargs):
        writes.append(path)
        return original(self, path, value, *args, **kwargs)

    monkeypatch.setattr(LocalFileSystem, "pipe_file", pipe_file)
    assert archive_file(settings, Period.parse(PERIOD), "dinsos", "dinsos_kpm", "kpm.csv", digest, data) == uri
    assert writes == []  # intact: checked by its sha256, not written again

    def crash(self, path, value, *args, **kwargs):
        original(self, path, value[:10])
        raise OSError("disk full")

    target.unlink()
    monkeypatch.setattr(LocalFileSystem, "pipe_file", crash)
    with pytest.raises(OSError):
        archive_file(settings, Period.parse(PERIOD), "dinsos", "dinsos_kpm", "kpm.csv", digest, data)
    assert list(folder.iterdir()) == [], "nothing may appear under the real name, nor a temporary file"


def test_recorded_uris_never_carry_credentials():
    from tkpk.ingest.landing import public_url
    from tkpk.settings import mask_url

    assert public_url("sftp://tkpk:rahasia@sftp.jambikota.example:2222/landing/x.csv") == \
        "sftp://sftp.jambikota.example:2222/landing/x.csv"
    assert public_url("s3://tkpk-landing/2026-10/dinsos/x.csv") == "s3://tkpk-landing/2026-10/dinsos/x.csv"
    assert public_url("file:///srv/landing/x.csv") == "file:///srv/landing/x.csv"
    assert mask_url("sftp://tkpk:rahasia@h:22/landing") == "sftp://tkpk:***@h:22/landing"
