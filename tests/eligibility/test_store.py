"""The warehouse path (what tkpk_monthly runs) on SQLite and PostgreSQL: events from linked rows, decisions replaced
per period and kecamatan, changes since last month, graduation from the latest Dinas Sosial batch, targeting with
recipients not found, and a past month reproduced after a newer snapshot and newer events arrived."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from tkpk.eligibility import (
    compute_eligibility,
    derive_events,
    eligibility_partitions,
    finalize_eligibility,
    run_period,
)
from tkpk.registry import load_snapshot
from tkpk.settings import Settings
from tkpk.warehouse import session_scope
from tkpk.warehouse.models import (
    EligibilityChange,
    EligibilityDecision,
    HouseholdLink,
    PersonLink,
    RegistryEvent,
    RegistrySnapshot,
    StagedRow,
    SubmissionBatch,
    TargetingResult,
)

from .helpers import KEL_A, KEL_C, Builder

OPD = {"disdukcapil_mutasi": "disdukcapil", "dinsos_kpm": "dinsos", "dinkes_ibu_hamil": "dinkes",
       "disnaker_bpjstk": "disnaker", "disdik_siswa": "disdik", "perkim_rumah": "perkim"}


def add_batch(url: str, period: str, type_code: str, rows: list[dict]) -> None:
    """One current accepted batch; each row: data (canonical columns), and optionally
    person=(id_art, id_keluarga, status, decided_by) / household=(id_keluarga, status)."""
    with session_scope(url) as s:
        snapshot_id = s.scalar(select(func.max(RegistrySnapshot.snapshot_id)))
        batch = SubmissionBatch(period=period, opd_code=OPD[type_code], submission_type=type_code, status="accepted",
                                is_current=True, files=[], sha256="0" * 64, loaded_at=datetime.now(UTC),
                                rows_total=len(rows), rows_accepted=len(rows))
        s.add(batch)
        s.flush()
        for i, row in enumerate(rows, start=2):
            data = row["data"]
            staged = StagedRow(batch_id=batch.batch_id, period=period, opd_code=batch.opd_code,
                               submission_type=type_code, source_file="f.csv", row_number=i,
                               nik=data.get("nik") or data.get("nik_pengurus"), no_kk=data.get("no_kk"),
                               nama=data.get("nama"), kode_kelurahan=data.get("kode_kelurahan"), data=data)
            s.add(staged)
            s.flush()
            if "person" in row:
                id_art, kel, status, by = row["person"]
                s.add(PersonLink(period=period, row_id=staged.row_id, snapshot_id=snapshot_id, id_art=id_art,
                                 id_keluarga=kel, match_status=status, person_key=f"pk{staged.row_id}",
                                 decided_by=by, match_probability=1.0))
            if "household" in row:
                kel, status = row["household"]
                s.add(HouseholdLink(period=period, row_id=staged.row_id, snapshot_id=snapshot_id, id_keluarga=kel,
                                    match_status=status, household_key=f"hk{staged.row_id}", via="no_kk"))


def build_registry() -> Builder:
    b = Builder()
    b.household("K1", 1)  # a young family: mother becomes pregnant in October
    b.person("K1a", "K1", "1990-01-01", sektor="informal", hubungan="kepala_keluarga")
    b.person("K1b", "K1", "1994-01-01", sex="P", hubungan="istri")
    b.household("K2", 2)  # grandfather dies in September
    b.person("K2a", "K2", "1950-01-01")
    b.person("K2b", "K2", "1980-01-01", sektor="informal")
    b.household("G", 5)  # PKH aktif in September, desil 5: graduation candidate
    b.person("Ga", "G", "1975-01-01")
    b.household("K3", 1, kel=KEL_C)  # another kecamatan
    b.person("K3a", "K3", "1985-01-01", sektor="informal")
    b.person("K3b", "K3", "2022-01-01")
    return b


def rows_of(url: str, model, period: str) -> set[tuple]:
    with session_scope(url) as s:
        items = s.scalars(select(model).where(model.period == period)).all()
        cols = [c.name for c in model.__table__.columns if not c.primary_key]
        return {tuple(json.dumps(v, sort_keys=True) if isinstance(v, dict) else v
                      for v in (getattr(i, c) for c in cols)) for i in items}


def scenario(url: str, tmp_path) -> tuple[Settings, Builder]:
    b = build_registry()
    registry, _ = b.write(tmp_path / "snap1")
    load_snapshot(url, str(registry), date(2026, 8, 1))
    settings = Settings.from_env(database_url=url)
    # September: the grandfather of K2 dies; Dinas Sosial lists G and K2 as PKH aktif
    add_batch(url, "2026-09", "disdukcapil_mutasi", [
        {"data": {"nik": b.nik("K2a"), "no_kk": b.no_kk("K2"), "nama": "x", "jenis_mutasi": "MENINGGAL",
                  "tanggal_peristiwa": "2026-09-10"}, "person": ("K2a", "K2", "linked", "nik")},
        # a death whose link is only a review candidate: no event
        {"data": {"nik": b.nik("K1a"), "nama": "x", "jenis_mutasi": "MENINGGAL", "tanggal_peristiwa": "2026-09-11"},
         "person": ("K1a", "K1", "review", "model")},
    ])
    add_batch(url, "2026-09", "dinsos_kpm", [
        {"data": {"no_kk": b.no_kk("G"), "nik_pengurus": b.nik("Ga"), "nama_pengurus": "x", "kode_kelurahan": KEL_A,
                  "program": "PKH", "status_kepesertaan": "aktif"}, "household": ("G", "linked")},
        {"data": {"no_kk": b.no_kk("K2"), "nik_pengurus": b.nik("K2b"), "nama_pengurus": "x",
                  "kode_kelurahan": KEL_A, "program": "PKH", "status_kepesertaan": "aktif"},
         "household": ("K2", "linked")},
    ])
    # October: K1's mother pregnant (a steward confirmed the link); a baby born into K3 (not in the registry yet);
    # Disnaker: one linked participant, one nobody could find
    add_batch(url, "2026-10", "dinkes_ibu_hamil", [
        {"data": {"nik": b.nik("K1b"), "nama": "x", "tanggal_lahir": "1994-01-01", "kode_kelurahan": KEL_A,
                  "hpl": "2027-03-01"}, "person": ("K1b", "K1", "review", "steward")},
    ])
    add_batch(url, "2026-10", "disdukcapil_mutasi", [
        {"data": {"nik": "1571014510260001", "no_kk": b.no_kk("K3"), "nama": "bayi", "jenis_mutasi": "LAHIR",
                  "tanggal_peristiwa": "2026-10-05"}, "person": (None, None, "new", "model")},
    ])
    add_batch(url, "2026-10", "disnaker_bpjstk", [
        {"data": {"nik": b.nik("K1a"), "nama": "x", "tanggal_lahir": "1990-01-01", "jenis_kelamin": "L",
                  "kode_kelurahan": KEL_A, "tanggal_mulai": "2026-01-01"}, "person": ("K1a", "K1", "linked", "nik")},
        {"data": {"nik": "1571010101999999", "nama": "x", "tanggal_lahir": "1999-01-01", "jenis_kelamin": "L",
                  "kode_kelurahan": KEL_A, "tanggal_mulai": "2026-01-01"}, "person": (None, None, "new", "model")},
    ])
    return settings, b


def decision(url: str, period: str, program: str, kel: str, art: str = ""):
    with session_scope(url) as s:
        return s.scalar(select(EligibilityDecision).where(
            EligibilityDecision.period == period, EligibilityDecision.program == program,
            EligibilityDecision.id_keluarga == kel, EligibilityDecision.id_art == art))


def test_monthly_eligibility_on_the_warehouse(warehouse, tmp_path):
    url = warehouse
    settings, b = scenario(url, tmp_path)
    sept = run_period(settings, "2026-09")
    assert sept["events"]["meninggal"] == 1 and sept["events"]["events"] == 1  # the review link made no event
    assert sept["changes_baseline"] is False
    oct_ = run_period(settings, "2026-10")
    assert oct_["events"]["events"] == 2  # pregnancy (steward-confirmed) and birth

    # the September death still counts in October; K2 keeps no PKH component, so it graduates
    d = decision(url, "2026-10", "pbi_jk", "K2", "K2a")
    assert d.eligible is False and d.reasons == "meninggal"
    assert d.rule_set_version == "2026.2" and d.snapshot_id is not None
    g = decision(url, "2026-10", "kandidat_graduasi_pkh", "G")
    assert g.eligible is True and g.reasons == "pkh_aktif;desil_di_luar_1_4;tidak_ada_komponen"
    assert decision(url, "2026-10", "kandidat_graduasi_pkh", "K2").reasons == "pkh_aktif;tidak_ada_komponen"
    assert oct_["graduation_candidates"] == 2
    # pregnancy from this month's Dinkes batch: PKH for K1
    pkh = decision(url, "2026-10", "pkh", "K1")
    assert pkh.eligible is True and pkh.benefit_rupiah == 3_000_000 and pkh.reasons == "desil_1;komponen:ibu_hamil"
    # the newborn joined K3 (kecamatan 15.71.03): PKH anak_usia_dini twice now, PBI for the baby
    assert decision(url, "2026-10", "pkh", "K3").benefit_rupiah == 6_000_000
    with session_scope(url) as s:
        baby = s.scalar(select(EligibilityDecision).where(
            EligibilityDecision.period == "2026-10", EligibilityDecision.program == "pbi_jk",
            EligibilityDecision.id_art.like("LAHIR-%")))
        assert baby.id_keluarga == "K3" and baby.eligible and baby.kode_kecamatan == "15.71.03"

    # changes since September, with what changed
    changes = {(c[1], c[2], c[3]): c for c in rows_of(url, EligibilityChange, "2026-10")}
    cols = [c.name for c in EligibilityChange.__table__.columns if not c.primary_key]
    ch = dict(zip(cols, changes[("pkh", "K1", "")], strict=True))
    assert ch["change"] == "baru_layak" and ch["reason_changed"] == "komponen:ibu_hamil"
    assert ch["reasons_before"] == "tidak_ada_komponen" and ch["reasons_after"] == "desil_1;komponen:ibu_hamil"
    assert ("pkh", "K3", "") not in changes  # eligible in both months
    assert ("pbi_jk", "K3", baby.id_art) in changes
    assert oct_["changes"]["baru_layak"] >= 2

    # targeting: bpjs_tk recipients this month; pkh has no Dinas Sosial batch in October
    with session_scope(url) as s:
        t = s.scalars(select(TargetingResult).where(TargetingResult.period == "2026-10",
                                                    TargetingResult.program == "bpjs_tk")).all()
    by = {(r.id_art, r.category) for r in t}
    assert ("K1a", "tepat") in by
    assert ("K2b", "exclusion") in by  # desil 2: eligible for bpjs_tk since rule set 2026.2, not enrolled
    assert ("K3a", "exclusion") in by
    lost = [r for r in t if r.reason == "tidak_ditemukan"]
    assert len(lost) == 1 and lost[0].id_keluarga is None and lost[0].category == "inclusion"
    assert lost[0].kode_kecamatan == "15.71.01" and lost[0].rupiah == 201_600
    assert "pkh" in oct_["programs_without_recipient_data"]
    assert oct_["targeting"]["bpjs_tk"]["tepat"] == 1

    # re-running is safe: same rows, nothing doubled
    before = {m: rows_of(url, m, "2026-10") for m in (EligibilityDecision, EligibilityChange, RegistryEvent)}
    run_period(settings, "2026-10")
    for model, rows in before.items():
        assert rows_of(url, model, "2026-10") == rows, model.__tablename__
    with session_scope(url) as s:
        assert s.scalar(select(func.count()).select_from(TargetingResult).where(
            TargetingResult.period == "2026-10", TargetingResult.reason == "tidak_ditemukan")) == 1


def test_past_month_reproducible_and_partitions_match(warehouse, tmp_path):
    url = warehouse
    settings, b = scenario(url, tmp_path)
    run_period(settings, "2026-09")
    september = rows_of(url, EligibilityDecision, "2026-09")
    assert september

    # a newer snapshot (K1 now desil 6) and newer events arrive; September must not change
    b.households[0]["desil"] = "6"
    registry, _ = b.write(tmp_path / "snap2")
    load_snapshot(url, str(registry), date(2026, 10, 15))
    run_period(settings, "2026-10")
    run_period(settings, "2026-09")
    assert rows_of(url, EligibilityDecision, "2026-09") == september

    # October per kecamatan (mapped tasks) == October for the whole city
    city = rows_of(url, EligibilityDecision, "2026-10")
    city_targeting = rows_of(url, TargetingResult, "2026-10")
    assert decision(url, "2026-10", "miskin_ekstrem", "K1").eligible is False  # the new snapshot counts
    derive_events(settings, "2026-10")
    parts = eligibility_partitions(settings, "2026-10")
    assert parts == ["15.71.01", "15.71.03"]
    for kec in parts:
        result = compute_eligibility(settings, "2026-10", kecamatan=kec)
        assert result["kecamatan"] == kec and result["decisions"] > 0
    finalize_eligibility(settings, "2026-10")
    assert rows_of(url, EligibilityDecision, "2026-10") == city
    assert rows_of(url, TargetingResult, "2026-10") == city_targeting
    assert len(city_targeting) >= 3  # bpjs_tk: tepat, exclusion, not found


def test_no_snapshot_is_a_clear_error(sqlite_warehouse):
    from tkpk.eligibility import EligibilityError

    settings = Settings.from_env(database_url=sqlite_warehouse)
    with pytest.raises(EligibilityError, match="Belum ada snapshot registri"):
        compute_eligibility(settings, "2026-10")


@pytest.mark.mariadb
def test_monthly_eligibility_on_mariadb(mysql_url, tmp_path):
    from tkpk.warehouse import upgrade

    upgrade(mysql_url)
    settings, _ = scenario(mysql_url, tmp_path)
    run_period(settings, "2026-09")
    result = run_period(settings, "2026-10")
    assert result["graduation_candidates"] == 2 and result["changes"]["baru_layak"] >= 2
    pkh = decision(mysql_url, "2026-10", "pkh", "K1")
    assert pkh.eligible and pkh.reasons == "desil_1;komponen:ibu_hamil"


def test_cli_on_the_warehouse(sqlite_warehouse, tmp_path, capsys):
    from tkpk.cli import main

    scenario(sqlite_warehouse, tmp_path)
    assert main(["eligibility", "--period", "2026-09", "--database-url", sqlite_warehouse]) == 0
    assert main(["eligibility", "--period", "2026-10", "--database-url", sqlite_warehouse]) == 0
    out = capsys.readouterr().out
    assert "Kelayakan Oktober 2026 dihitung ulang" in out
    assert "Kandidat graduasi PKH: 2" in out
    assert "Tanpa data penerima bulan ini:" in out and "pkh" in out
    assert "1571" not in out  # no NIK or No KK in what a steward sees
