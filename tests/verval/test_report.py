"""The verification section of the summaries and the two SIKS-NG lists (usul nonaktif, usulan DTSEN), on the
report tests' synthetic warehouse plus a verval batch."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import select

from tests.reports.conftest import PERIOD, settings_for
from tests.reports.fixtures import fill_warehouse

KEL = "15.71.01.1001"


def _add_verval(url: str) -> dict:
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import RegistryHousehold, SubmissionBatch, TargetingResult, VervalRow

    with session_scope(url) as s:
        # a family receiving a program without being eligible: on this month's follow-up list (inclusion error)
        receiving = s.scalars(select(TargetingResult.id_keluarga).filter_by(
            period=PERIOD, kode_kelurahan=KEL, receiving=True, category="inclusion")
            .where(TargetingResult.id_keluarga.is_not(None))).first()
        assert receiving is not None
        recipient_kk = s.scalars(select(RegistryHousehold.no_kk).filter_by(id_keluarga=receiving)).first()
        batch = SubmissionBatch(period=PERIOD, opd_code="kel-1571011001", submission_type="kelurahan_verval",
                                status="accepted", is_current=True, files=[], sha256="x" * 64,
                                loaded_at=datetime(2026, 11, 5, tzinfo=UTC))
        s.add(batch)
        s.flush()
        common = dict(batch_id=batch.batch_id, period=PERIOD, opd_code="kel-1571011001", source_file="verval.xlsx",
                      kode_kelurahan=KEL, tanggal_kunjungan=date(2026, 10, 12), petugas="Petugas A")
        s.add_all([
            VervalRow(row_number=2, no_kk=recipient_kk, hasil_verifikasi="meninggal", status="lengkap",
                      foto_rumah="r2.jpg", **common),
            VervalRow(row_number=3, no_kk="1571010101209999", nik="1571014101900099", hasil_verifikasi="layak",
                      status="lengkap", foto_rumah="r3.jpg", **common),
            VervalRow(row_number=4, no_kk="1571010101209998", hasil_verifikasi="layak", status="perlu_perbaikan",
                      checks="foto_tanpa_gps,foto_tanggal_tidak_sesuai", foto_rumah="r4.jpg", **common),
        ])
    return {"recipient_kk": recipient_kk}


def test_verval_section_and_siks_ng_lists(tmp_path):
    from tkpk.config import load_config
    from tkpk.reports import build_reports
    from tkpk.reports.figures import Scope, load_period_data
    from tkpk.reports.lists import pii_sheets
    from tkpk.warehouse import get_engine, upgrade

    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    upgrade(url)
    fill_warehouse(url)
    info = _add_verval(url)
    settings = settings_for(url, tmp_path / "reports", tmp_path / "outbox")
    build_reports(settings, PERIOD)
    kel_dir = next(p for p in (tmp_path / "reports" / PERIOD).iterdir() if p.name.startswith("kelurahan-")
               and "1571011001" in p.name.replace(".", ""))
    figures = json.loads((kel_dir / "data.json").read_text())["verval"]
    assert figures["rows"] == 3 and figures["lengkap"] == 2 and abs(figures["lengkap_pct"] - 2 / 3) < 1e-9
    assert {x["check"]: x["rows"] for x in figures["findings"]} == {"foto_tanpa_gps": 1,
                                                                   "foto_tanggal_tidak_sesuai": 1}
    assert figures["requested"] >= 1 and figures["visited"] >= 1  # the recipient family was on a follow-up list
    html = (kel_dir / "email.html").read_text()
    assert "Verifikasi lapangan (verval)" in html and "Foto tanpa lokasi GPS" in html
    assert "VERIFIKASI LAPANGAN" in (kel_dir / "email.txt").read_text()
    kota = json.loads((tmp_path / "reports" / PERIOD / "kota" / "data.json").read_text())["verval"]
    assert kota["rows"] == 3
    assert not [p for p in (tmp_path / "reports" / PERIOD).rglob("*") if p.suffix.lower() in (".jpg", ".png")
                and not p.name.startswith("grafik-")]  # photos never go with a report

    config = load_config(settings.config_dir)
    with get_engine(url).connect() as conn:
        data = load_period_data(conn, settings.sql_dir, PERIOD)
        sheets = {s.name: s for s in pii_sheets(conn, settings.sql_dir, data, config, Scope("kelurahan", KEL))}
        kec = {s.name for s in pii_sheets(conn, settings.sql_dir, data, config, Scope("kecamatan", "15.71.01"))}
    nonaktif, dtsen = sheets["Usul nonaktif"].rows, sheets["Usulan DTSEN"].rows
    assert [(r["no_kk"], r["alasan"]) for r in nonaktif] == [(info["recipient_kk"], "Meninggal")]
    assert nonaktif[0]["programs"] and nonaktif[0]["foto_rumah"] == "r2.jpg"
    assert [(r["no_kk"], r["status_registri"]) for r in dtsen] == [("1571010101209999",
                                                                     "Belum terdaftar (usulan baru)")]
    assert "Usul nonaktif" not in kec  # kelurahan and city reports only
