"""Every photo check code with generated photos, through `tkpk verval check --json` and through the monthly load
(`load_submission`, what the DAG's mapped load task calls), across households and across months."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.verval.cases import HEADER, KEL, VISIT, centre, every_check, kk, line
from tkpk.synth.photos import photo_bytes, recompressed

PERIOD = "2026-10"


@pytest.fixture
def run_cli(capsys, monkeypatch, tmp_path):
    from tkpk.cli import main

    monkeypatch.setenv("TKPK_DATABASE_URL", f"sqlite:///{tmp_path / 'kosong.db'}")

    def run(*args: str):
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err, (json.loads(out) if out.strip().startswith("{") else None)
    return run


def _flags(data: dict) -> dict[int, list[str]]:
    return {r["row"]: [f["check"] for f in r["flags"]] for r in data["rows"]}


def test_every_check_code_through_the_cli(run_cli, tmp_path):
    folder = tmp_path / "verval"
    rows = every_check(folder)
    code, _out, _err, data = run_cli("verval", "check", str(folder), "--period", PERIOD, "--json")
    assert code == 0 and data["status"] == "accepted"
    assert data["rows_total"] == data["rows_valid"] == len(rows) == len(data["rows"])
    flags = _flags(data)
    assert flags[rows["inside"]] == [] and flags[rows["near"]] == [] and flags[rows["date_near"]] == []
    assert flags[rows["far"]] == ["foto_di_luar_kelurahan"]
    far = next(f for r in data["rows"] if r["row"] == rows["far"] for f in r["flags"])
    assert 1990 <= far["distance_m"] <= 2010 and "2.000 m" in far["message"] and far["severity"] == "warning"
    assert far["photo"] == "jauh.jpg"
    assert flags[rows["no_gps"]] == ["foto_tanpa_gps"]
    assert flags[rows["date_far"]] == ["foto_tanggal_tidak_sesuai"]
    assert flags[rows["date_after"]] == ["foto_tanggal_tidak_sesuai"]
    assert flags[rows["missing"]] == ["foto_tidak_ada"]
    assert flags[rows["corrupt"]] == ["foto_rusak"]
    assert flags[rows["bomb"]] == ["foto_rusak"] and flags[rows["bomb_medium"]] == ["foto_rusak"]
    for case in ("reuse_a", "reuse_b", "resize_a", "resize_b"):
        assert flags[rows[case]] == ["foto_dipakai_ulang"], case
    same = {r["row"]: r["flags"][0]["same_bytes"] for r in data["rows"] if r["flags"] and
            r["flags"][0]["check"] == "foto_dipakai_ulang"}
    assert same[rows["reuse_a"]] is True and same[rows["resize_b"]] is False
    status = {r["row"]: r["status"] for r in data["rows"]}
    assert {row for row, s in status.items() if s == "lengkap"} == {rows["inside"], rows["near"], rows["date_near"]}
    assert data["rows_lengkap"] == 3
    folder_checks = {(i["check"], i["file"]) for i in data["issues"]}
    assert ("foto_tidak_dirujuk", "lebih.jpg") in folder_checks
    assert ("berkas_lain_diabaikan", "catatan.docx") in folder_checks
    assert all(r["nik"].count("*") == 6 for r in data["rows"])  # NIK masked
    assert "1571010" not in json.dumps(data["rows"]).replace(KEL, "")


def test_photos_in_one_zip_and_a_zip_bomb(run_cli, tmp_path):
    import zipfile

    folder = tmp_path / "verval"
    folder.mkdir()
    inside = centre()
    lines = [line(1, "a.jpg"), line(2, "b.jpg"), line(3, "bom.jpg")]
    (folder / "daftar.csv").write_bytes(("\r\n".join([HEADER, *lines]) + "\r\n").encode())
    with zipfile.ZipFile(folder / "foto.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("foto/a.jpg", photo_bytes(1, *inside, VISIT))
        zf.writestr("foto/b.jpg", photo_bytes(2, None, None, VISIT))
        zf.writestr("foto/bom.jpg", b"\x00" * 5_000_000)  # unpacks ~5000x its packed size
        zf.writestr("foto/surat.pdf", b"%PDF-1.4")
    code, _o, _e, data = run_cli("verval", "check", str(folder), "--period", PERIOD, "--json")
    assert code == 0
    assert _flags(data) == {2: [], 3: ["foto_tanpa_gps"], 4: ["foto_rusak"]}
    assert "bom zip" in data["rows"][2]["flags"][0]["message"]
    assert any(i["check"] == "berkas_lain_diabaikan" and i["file"].endswith("surat.pdf") for i in data["issues"])


def test_sheet_rules_still_apply(run_cli, tmp_path):
    folder = tmp_path / "verval"
    folder.mkdir()
    (folder / "foto.jpg").write_bytes(photo_bytes(1, *centre(), VISIT))
    no_id = f";;{KEL};layak;10/10/2026;foto.jpg;;;"
    bad = f"{kk(2)};{kk(2)};{KEL};entah;10/10/2026;foto.jpg;;;"
    (folder / "dua.jpg").write_bytes(photo_bytes(2, *centre(), VISIT))
    good = [line(1, "foto.jpg"), line(1, "foto.jpg", hasil="Tidak Layak", visit="11/10/2026"), line(1, "dua.jpg")]
    (folder / "a.csv").write_bytes(("\r\n".join([HEADER, *good, no_id, bad]) + "\r\n").encode())
    code, _o, _e, data = run_cli("verval", "check", str(folder), "--period", PERIOD, "--json")
    assert code == 0 and data["rows_valid"] == 3
    checks = {(i["row"], i["check"]) for i in data["issues"]}
    assert (5, "salah_satu_wajib_diisi") in checks and (6, "nilai_tidak_dikenal") in checks
    assert {r["row"]: r["status"] for r in data["rows"]} == {2: "lengkap", 3: "lengkap", 4: "lengkap",
                                                              5: "perlu_perbaikan", 6: "perlu_perbaikan"}
    assert data["rows"][1]["hasil_verifikasi"] == "tidak_layak"
    assert data["rows"][4]["quarantined"] is True
    # Neither NIK nor No KK column: the file is rejected (exit 2).
    (folder / "a.csv").write_bytes(("Kelurahan;Hasil;Tanggal Kunjungan;Foto Rumah\r\n"
                                    f"{KEL};layak;10/10/2026;foto.jpg\r\n").encode())
    code, _o, _e, data = run_cli("verval", "check", str(folder), "--period", PERIOD, "--json")
    assert code == 2 and data["status"] == "rejected"
    assert any(i["check"] == "kolom_salah_satu_tidak_ada" and i["severity"] == "critical" for i in data["issues"])


def test_photos_only_is_rejected_and_usage_errors_exit_1(run_cli, tmp_path):
    folder = tmp_path / "verval"
    folder.mkdir()
    (folder / "foto.jpg").write_bytes(photo_bytes(1, *centre(), VISIT))
    code, _o, _e, data = run_cli("verval", "check", str(folder), "--period", PERIOD, "--json")
    assert code == 2 and data["status"] == "rejected"
    code, out, err, _d = run_cli("verval", "check", str(tmp_path / "tidak-ada"), "--period", PERIOD)
    assert code == 1 and "tidak ditemukan" in err and out == ""
    code, _o, err, _d = run_cli("verval", "check", str(folder), "--period", "2026-13")
    assert code == 1


def _put(settings, opd: str, folder: Path, period: str) -> None:
    import shutil

    target = Path(settings.landing_url.removeprefix("file://")) / period / opd / "verval"
    shutil.copytree(folder, target)


def test_monthly_load_path_and_reuse_across_months(warehouse, tmp_path, run_cli, monkeypatch):
    from sqlalchemy import select

    from tests.ingest.conftest import make_settings, put
    from tkpk.ingest import discover, load_submission
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import Finding, StagedRow, SubmissionBatch, VervalPhoto, VervalRow

    settings = make_settings(tmp_path, warehouse)
    inside = centre()
    # September: household 1 photographed; the kelurahan also sends its usulan in the folder above, as before.
    sept = tmp_path / "sept"
    sept.mkdir()
    first = photo_bytes(41, *inside, VISIT.replace(month=9))
    (sept / "rumah1.jpg").write_bytes(first)
    (sept / "verval.csv").write_bytes(("\r\n".join([HEADER, line(1, "rumah1.jpg", visit="10/09/2026")])
                                       + "\r\n").encode())
    _put(settings, "kel-1571011001", sept, "2026-09")
    usulan = Path(__file__).resolve().parents[1] / "ingest" / "files"
    sample = next(iter(sorted(usulan.glob("*usulan*"))), None)
    if sample is not None:
        put(settings, "kel-1571011001", sample, sample.name, period="2026-09")
    found = {(f["opd_code"], f["submission_type"]): f for f in discover(settings, "2026-09", opd="kel-1571011001")}
    assert found[("kel-1571011001", "kelurahan_verval")]["state"] == "received"
    assert found[("kel-1571011001", "kelurahan_verval")]["required"] is False
    if sample is not None:
        assert found[("kel-1571011001", "kelurahan_usulan")]["files"] == 1  # verval/ does not change the rest
    counts = load_submission(settings, "2026-09", "kel-1571011001", "kelurahan_verval")
    assert counts["status"] == "accepted" and counts["rows_accepted"] == 1

    # October: the same picture, resized, for household 2; a new photo for household 3; one stray file.
    octo = tmp_path / "okt"
    octo.mkdir()
    (octo / "rumah2.jpg").write_bytes(recompressed(first, 0.5, 60))
    (octo / "rumah3.jpg").write_bytes(photo_bytes(43, *inside, VISIT))
    (octo / "catatan.pdf").write_bytes(b"%PDF-1.4 catatan petugas")
    (octo / "verval.csv").write_bytes(("\r\n".join([HEADER, line(2, "rumah2.jpg"), line(3, "rumah3.jpg")])
                                       + "\r\n").encode())
    _put(settings, "kel-1571011001", octo, PERIOD)
    counts = load_submission(settings, PERIOD, "kel-1571011001", "kelurahan_verval")
    assert counts["status"] == "accepted" and counts["rows_accepted"] == 2 and counts["rows_warning"] == 1
    with session_scope(warehouse) as s:
        batch = s.scalars(select(SubmissionBatch).filter_by(period=PERIOD, is_current=True)).one()
        found = {(f.row_number, f.check) for f in s.scalars(select(Finding).filter_by(batch_id=batch.batch_id))}
        assert (2, "foto_dipakai_ulang") in found and (None, "berkas_lain_diabaikan") in found
        message = s.scalars(select(Finding.message).filter_by(batch_id=batch.batch_id, check="foto_dipakai_ulang")
                            ).one()
        assert "periode 2026-09" in message
        status = dict(s.execute(select(VervalRow.row_number, VervalRow.status).filter_by(batch_id=batch.batch_id)
                                ).all())
        assert status == {2: "perlu_perbaikan", 3: "lengkap"}
        assert s.scalar(select(VervalPhoto.household).filter_by(batch_id=batch.batch_id, photo_name="rumah3.jpg")
                        ) == kk(3)
        staged = s.scalars(select(StagedRow).filter_by(batch_id=batch.batch_id)).all()
        assert sorted(r.has_warning for r in staged) == [False, True]
        photos = [f for f in batch.files if f.get("photo")]
        assert len(photos) == 2 and all(Path(f["archive_uri"].removeprefix("file://")).exists() for f in photos)

    # Photos are raw files under retention: purged with their batch.
    from datetime import date

    from tkpk.retention import purge

    archived = [Path(f["archive_uri"].removeprefix("file://")) for f in photos]
    purge(settings, date(2100, 1, 1))
    assert not any(p.exists() for p in archived)

    # The same check through the CLI, with the warehouse as history.
    monkeypatch.setenv("TKPK_DATABASE_URL", warehouse)
    code, _o, _e, data = run_cli("verval", "check", str(octo), "--period", PERIOD, "--json")
    assert code == 0 and _flags(data) == {2: ["foto_tanggal_tidak_sesuai", "foto_dipakai_ulang"], 3: []}
