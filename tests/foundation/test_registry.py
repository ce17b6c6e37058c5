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
    assert code == 0 and "2 keluarga, 3 jiwa." in out
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


def _persons_table(warehouse) -> int:
    with session_scope(warehouse) as s:
        return s.scalar(select(func.count()).select_from(RegistryPerson))


def test_failed_load_leaves_nothing_and_keeps_the_previous_delivery(warehouse, tmp_path, monkeypatch):
    """The snapshot row, households and persons are one transaction: a failure while writing persons leaves no
    trace, and a corrected delivery that fails leaves the earlier one of that date as it was."""
    import tkpk.registry as registry

    src = write_registry(tmp_path / "2026-09-25")
    real = registry.insert_frame

    def failing(session, model, frame, **kwargs):
        if model is RegistryPerson:
            real(session, model, frame.iloc[:1], **kwargs)  # some rows are written, then the connection drops
            raise ConnectionError("koneksi putus")
        return real(session, model, frame, **kwargs)

    monkeypatch.setattr(registry, "insert_frame", failing)
    with pytest.raises(ConnectionError):
        load_snapshot(warehouse, str(src), date(2026, 9, 25))
    with session_scope(warehouse) as s:
        assert s.scalar(select(func.count()).select_from(RegistrySnapshot)) == 0
        assert s.scalar(select(func.count()).select_from(RegistryHousehold)) == 0
    assert _persons_table(warehouse) == 0

    monkeypatch.setattr(registry, "insert_frame", real)
    first = load_snapshot(warehouse, str(src), date(2026, 9, 25))
    changed = [dict(r) for r in HOUSEHOLDS]
    changed[1]["desil"] = "2"
    write_registry(src, changed, PERSONS)
    monkeypatch.setattr(registry, "insert_frame", failing)
    with pytest.raises(ConnectionError):
        load_snapshot(warehouse, str(src), date(2026, 9, 25))
    with session_scope(warehouse) as s:
        snap = s.scalar(select(RegistrySnapshot))
        assert snap.snapshot_id == first["snapshot_id"] and snap.persons == 3
        assert s.get(RegistryHousehold, (first["snapshot_id"], "K2")).desil is None
    assert _persons_table(warehouse) == 3


def test_postgresql_load_analyzes_the_registry_tables(warehouse, tmp_path):
    from sqlalchemy import text

    from tkpk.warehouse import get_engine

    load_snapshot(warehouse, str(write_registry(tmp_path / "snap")), date(2026, 9, 25))
    if get_engine(warehouse).dialect.name != "postgresql":
        pytest.skip("ANALYZE is run on PostgreSQL only")
    with session_scope(warehouse) as s:
        tuples = dict(s.execute(text("SELECT relname, reltuples FROM pg_class WHERE relname IN "
                                     "('registry_household', 'registry_person')")).all())
    assert tuples == {"registry_household": 2, "registry_person": 3}  # -1 (never analyzed) without it


def test_check_maps_each_distinct_value_like_the_row_by_row_normalisers(monkeypatch):
    """The check normalises each distinct value once and NIKs a slice at a time; the result must be what the
    row-by-row normalisers give for every row."""
    import pandas as pd

    import tkpk.registry as registry
    from tkpk.normalize.dates import parse_date
    from tkpk.normalize.kelurahan import KelurahanIndex
    from tkpk.normalize.nik import normalize_kk, normalize_nik
    from tkpk.normalize.text import normalize_rt_rw, normalize_sex, normalize_yn

    flags = ["Y", "ya", "1", "t", "T", "", "tidak", "1.0", "true", "x", "N"]
    dates = ["1980-03-12", "12/03/1980", "31-12-1999", "2030-01-01", "1 Oktober 1990", "30/02/2000", "29000", "",
             "abc", " 2001-02-03 ", "1980-03-12"]
    niks = ["1571011203800001", "1.57101E+15", "123", "", "1571014404150003.0", " 1571011203800001 ", "null",
            "0000000000000000", "1571024404150003", "15.71.01.120380.0001", "1571011203800001"]
    kks = ["1571010101200001", "1571010101200001.0", "", "x", " 1571010101200001", "1.57101E+15"] * 2
    n = 11
    households = pd.DataFrame({
        "id_keluarga": [f"K{i}" for i in range(n)], "no_kk": kks[:n], "kode_kelurahan": ["1571011001"] * n,
        "alamat": "Jl. Sipin", "rt": ["3", "RT 05", "", "abc", "3.0", "3", "1234", "007", "7", "3", "RT 05"],
        "rw": "1", "desil": "1", "status_kepemilikan_rumah": "sewa", "rumah_tidak_layak": flags,
        "sumber_air_layak": flags[::-1], "jamban_sendiri": "Y"})
    persons = pd.DataFrame({
        "id_art": [f"A{i}" for i in range(n)], "id_keluarga": households["id_keluarga"], "nik": niks,
        "no_kk": kks[1:n + 1], "nama": "Siti", "jenis_kelamin": ["l", "Laki-laki", "P.", "2", "", "x", " p ", "L",
                                                                  "P", "l", "perempuan"],
        "tanggal_lahir": dates, "hubungan_keluarga": "anak", "alamat": "Jl. Sipin", "rt": "3", "rw": "1",
        "kode_kelurahan": "15.71.01.1001", "pekerjaan_sektor": "", "jenjang_sekolah": "SD",
        "disabilitas_berat": flags, "hamil": "N"})
    # frames built in code (tkpk.eligibility.files) may hold None and NaN side by side in an object column
    persons["hamil"] = pd.Series(["Y", None, float("nan"), "ya", "N", None, "Y", "", "t", "1", float("nan")],
                                 dtype=object)
    monkeypatch.setattr(registry, "NIK_SLICE", 4)  # several slices
    checked = registry.check_snapshot(households, persons, snapshot_date=date(2026, 9, 25),
                                      kelurahan=KelurahanIndex.load())
    hh, pp = checked.households, checked.persons
    assert hh["rumah_tidak_layak"].tolist() == [normalize_yn(v) == "Y" for v in flags]
    assert hh["sumber_air_layak"].tolist() == [normalize_yn(v) == "Y" for v in flags[::-1]]
    assert pp["disabilitas_berat"].tolist() == [normalize_yn(v) == "Y" for v in flags]
    assert pp["hamil"].tolist() == [normalize_yn(v) == "Y" for v in persons["hamil"]]
    assert [None if pd.isna(v) else v for v in hh["rt"]] == [normalize_rt_rw(v) for v in households["rt"]]
    assert [None if pd.isna(v) else v for v in pp["jenis_kelamin"]] == [normalize_sex(v)
                                                                          for v in persons["jenis_kelamin"]]
    expected_dates = [d if d is not None and d <= date(2026, 9, 25) else None for d in map(parse_date, dates)]
    assert pp["tanggal_lahir"].tolist() == expected_dates
    assert [None if pd.isna(v) else v for v in pp["nik"]] == [normalize_nik(v) for v in niks]
    assert [None if pd.isna(v) else v for v in pp["no_kk"]] == [normalize_kk(v) for v in kks[1:n + 1]]
    assert [None if pd.isna(v) else v for v in hh["no_kk"]] == [normalize_kk(v) for v in kks[:n]]
    assert "1 tanggal lahir setelah tanggal snapshot (dikosongkan)." in checked.problems
    assert "4 anggota tanpa tanggal lahir yang valid." in checked.problems  # 30/02, '', abc, 2030
    # the caller's frames are untouched
    assert persons["nik"].tolist() == niks and households["rt"].iloc[1] == "RT 05"


def test_unreadable_csv_is_refused_without_showing_its_cells(sqlite_warehouse, tmp_path):
    src = write_registry(tmp_path / "ragged")
    with open(src / "persons.csv", "a", encoding="utf-8") as fh:
        fh.write("A9,K1,1571011203800009,1571010101200001,Extra,L,1980-01-01,anak,x,1,1,1571011001,,,N,N,lebih\n")
    with pytest.raises(RegistryError, match="persons.csv tidak bisa dibaca") as err:
        load_snapshot(sqlite_warehouse, str(src), date(2026, 9, 25))
    assert "1571011203800009" not in str(err.value)
    (src / "persons.csv").write_bytes("id_art,nama\nA1,Ren\xe9\n".encode("latin-1"))
    with pytest.raises(RegistryError, match="bukan teks UTF-8"):
        load_snapshot(sqlite_warehouse, str(src), date(2026, 9, 25))


def test_columns_the_registry_does_not_keep_are_not_read(tmp_path):
    """A full DTSEN export carries many more columns than the registry keeps: they are skipped while reading (CSV
    and XLSX), so they cost no memory; header case and spaces do not matter."""
    import pandas as pd

    from tkpk.registry import PERSON_COLUMNS, _parse

    frame = pd.DataFrame({" ID_ART ": ["A1", "A2"], "penghasilan": ["1", "2"], "nik": ["1571011203800001", ""]})
    csv_bytes = frame.to_csv(index=False).encode("utf-8-sig")
    xlsx = tmp_path / "persons.xlsx"
    frame.to_excel(xlsx, index=False)
    for raw, ext in ((csv_bytes, ".csv"), (xlsx.read_bytes(), ".xlsx")):
        got = _parse(raw, ext, "persons", PERSON_COLUMNS)
        assert got.columns.tolist() == ["id_art", "nik"], ext
        assert got.to_dict("records") == [{"id_art": "A1", "nik": "1571011203800001"}, {"id_art": "A2", "nik": ""}]
