"""Registry snapshot loading (issue 2, item 6b): checks, history kept, the snapshot for a period."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tkpk.cli import main as cli
from tkpk.registry import RegistryError, load_snapshot, snapshot_for_period
from tkpk.warehouse import session_scope
from tkpk.warehouse.models import AuditLog, RegistryHousehold, RegistryPerson, RegistrySnapshot

HOUSEHOLDS = [
    {"id_keluarga": "K1", "no_kk": "1571010101200001", "kode_kelurahan": "1571011001", "alamat": "Jl. Sipin",
     "rt": "3", "rw": "1", "desil": "1", "status_kepemilikan_rumah": "milik_sendiri", "rumah_tidak_layak": "Y",
     "sumber_air_layak": "N", "jamban_sendiri": "N"},
    {"id_keluarga": "K2", "no_kk": "1571020202190002", "kode_kelurahan": "15.71.02.1002", "alamat": "Jl. Kapten",
     "rt": "RT 05", "rw": "02", "desil": "", "status_kepemilikan_rumah": "sewa", "rumah_tidak_layak": "N",
     "sumber_air_layak": "Y", "jamban_sendiri": "Y"},
]
PERSONS = [
    {"id_art": "A1", "id_keluarga": "K1", "nik": "1571011203800001", "no_kk": "1571010101200001",
     "nama": "Kemas Ahmad", "jenis_kelamin": "L", "tanggal_lahir": "1980-03-12", "hubungan_keluarga": "kepala_keluarga",
     "alamat": "Jl. Sipin", "rt": "3", "rw": "1", "kode_kelurahan": "1571011001", "pekerjaan_sektor": "informal",
     "jenjang_sekolah": "", "disabilitas_berat": "N", "hamil": "N"},
    {"id_art": "A2", "id_keluarga": "K1", "nik": "1.57101E+15", "no_kk": "1571010101200001",
     "nama": "Nyimas Siti", "jenis_kelamin": "P", "tanggal_lahir": "1984-07-01", "hubungan_keluarga": "istri",
     "alamat": "Jl. Sipin", "rt": "3", "rw": "1", "kode_kelurahan": "1571011001", "pekerjaan_sektor": "tidak_bekerja",
     "jenjang_sekolah": "", "disabilitas_berat": "N", "hamil": "Y"},
    {"id_art": "A3", "id_keluarga": "K2", "nik": "1571024404150003", "no_kk": "1571020202190002",
     "nama": "Putri", "jenis_kelamin": "P", "tanggal_lahir": "2015-04-04", "hubungan_keluarga": "anak",
     "alamat": "Jl. Kapten", "rt": "5", "rw": "2", "kode_kelurahan": "15.71.02.1002", "pekerjaan_sektor": "pelajar",
     "jenjang_sekolah": "SD", "disabilitas_berat": "N", "hamil": "N"},
]


def write_registry(folder: Path, households=HOUSEHOLDS, persons=PERSONS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (("households", households), ("persons", persons)):
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return folder


def test_load_normalises_and_keeps_history(warehouse, tmp_path):
    src = write_registry(tmp_path / "2026-09-25")
    first = load_snapshot(warehouse, str(src), date(2026, 9, 25))
    assert (first["households"], first["persons"], first["unchanged"]) == (2, 3, False)
    assert any("NIK" in p for p in first["problems"])
    again = load_snapshot(warehouse, str(src), date(2026, 9, 25))
    assert again["unchanged"] and again["snapshot_id"] == first["snapshot_id"]
    load_snapshot(warehouse, str(src), date(2026, 12, 20))
    with session_scope(warehouse) as s:
        assert s.scalar(select(func.count()).select_from(RegistrySnapshot)) == 2
        hh = s.get(RegistryHousehold, (first["snapshot_id"], "K2"))
        assert (hh.kode_kelurahan, hh.kode_kecamatan, hh.rt, hh.desil) == ("15.71.02.1002", "15.71.02", "005", None)
        k1 = s.get(RegistryHousehold, (first["snapshot_id"], "K1"))
        assert k1.rumah_tidak_layak and not k1.jamban_sendiri and k1.desil == 1
        a2 = s.get(RegistryPerson, (first["snapshot_id"], "A2"))
        assert a2.nik is None and a2.hamil and a2.tanggal_lahir == date(1984, 7, 1)
        assert s.get(RegistryPerson, (first["snapshot_id"], "A3")).jenjang_sekolah == "SD"
        # period -> latest snapshot on or before E
        assert snapshot_for_period(s, "2026-08") is None
        assert snapshot_for_period(s, "2026-10").snapshot_date == date(2026, 9, 25)
        assert snapshot_for_period(s, "2026-11").snapshot_date == date(2026, 9, 25)
        assert snapshot_for_period(s, "2026-12").snapshot_date == date(2026, 12, 20)
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "registry_load")) == 2


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda h, p: p.append({**p[0], "id_art": "A1"}), "id_art ganda"),
        (lambda h, p: p.append({**p[0], "id_art": "A9", "id_keluarga": "K9"}), "id_keluarga yang tidak ada"),
        (lambda h, p: h.__setitem__(0, {**h[0], "kode_kelurahan": "3171011001"}), "di luar Kota Jambi"),
    ],
)
def test_broken_snapshot_is_refused_with_reason(sqlite_warehouse, tmp_path, mutate, message):
    households, persons = [dict(r) for r in HOUSEHOLDS], [dict(r) for r in PERSONS]
    mutate(households, persons)
    src = write_registry(tmp_path / "bad", households, persons)
    with pytest.raises(RegistryError, match=message):
        load_snapshot(sqlite_warehouse, str(src), date(2026, 9, 25))
    with session_scope(sqlite_warehouse) as s:
        assert s.scalar(select(func.count()).select_from(RegistrySnapshot)) == 0


def test_cli_registry_load(sqlite_warehouse, tmp_path, capsys):
    src = write_registry(tmp_path / "snap")
    code = cli(["registry", "load", str(src), "--snapshot-date", "2026-09-25", "--database-url", sqlite_warehouse])
    out = capsys.readouterr().out
    assert code == 0 and "2 keluarga" in out and "3 jiwa" in out
    assert cli(["registry", "load", str(src), "--snapshot-date", "25-09-2026",
                "--database-url", sqlite_warehouse]) == 1


def test_pending_snapshots_lists_new_and_changed_folders(sqlite_warehouse, tmp_path):
    from tkpk.registry import pending_snapshots

    landing = tmp_path / "landing"
    write_registry(landing / "registry" / "2026-09-25")
    write_registry(landing / "registry" / "2026-12-20")
    (landing / "registry" / "catatan").mkdir()  # not a date: ignored
    url = landing.as_uri()
    assert pending_snapshots(sqlite_warehouse, url) == ["2026-09-25", "2026-12-20"]
    load_snapshot(sqlite_warehouse, str(landing / "registry" / "2026-09-25"), date(2026, 9, 25))
    assert pending_snapshots(sqlite_warehouse, url) == ["2026-12-20"]
    changed = [dict(r) for r in HOUSEHOLDS]
    changed[1]["desil"] = "2"  # a corrected delivery for the same date
    write_registry(landing / "registry" / "2026-09-25", changed, PERSONS)
    assert pending_snapshots(sqlite_warehouse, url) == ["2026-09-25", "2026-12-20"]
