"""Registry snapshots (DTKS/DTSEN as delivered by Dinas Sosial): load, check, keep history, pick one for a period.

A snapshot lives at `{landing}/registry/{snapshot_date}/` as households.csv + persons.csv (or .xlsx). Loading keeps
earlier snapshots; period P uses the latest snapshot dated on or before E (the last day of P), so re-running a past
month gives the same answer.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from tkpk.normalize.dates import parse_date_series
from tkpk.normalize.kelurahan import KelurahanIndex
from tkpk.normalize.nik import normalize_nik_series
from tkpk.normalize.text import normalize_rt_rw, normalize_sex, normalize_yn
from tkpk.period import Period
from tkpk.warehouse import audit, session_scope
from tkpk.warehouse.models import RegistryHousehold, RegistryPerson, RegistrySnapshot

log = logging.getLogger(__name__)

HOUSEHOLD_COLUMNS = [
    "id_keluarga", "no_kk", "kode_kelurahan", "alamat", "rt", "rw", "desil", "status_kepemilikan_rumah",
    "rumah_tidak_layak", "sumber_air_layak", "jamban_sendiri",
]
PERSON_COLUMNS = [
    "id_art", "id_keluarga", "nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir", "hubungan_keluarga", "alamat",
    "rt", "rw", "kode_kelurahan", "pekerjaan_sektor", "jenjang_sekolah", "disabilitas_berat", "hamil",
]
KEPEMILIKAN = {"milik_sendiri", "sewa", "menumpang", "lainnya"}
JENJANG = {"PAUD", "SD", "SMP", "SMA", "SMK", "PT"}
CHUNK = 20_000


class RegistryError(ValueError):
    """The snapshot cannot be loaded; the message says why, in Indonesian."""


@dataclass
class RegistryCheck:
    households: pd.DataFrame
    persons: pd.DataFrame
    problems: list[str] = field(default_factory=list)  # Indonesian, counts only (no personal data)
    sha256: str = ""


def _read_table(path_or_url: str, name: str, storage_options: dict | None = None) -> tuple[pd.DataFrame, bytes]:
    import fsspec

    for ext in (".csv", ".xlsx"):
        uri = f"{path_or_url.rstrip('/')}/{name}{ext}"
        fs, p = fsspec.core.url_to_fs(uri, **(storage_options or {}))
        if fs.exists(p):
            raw = fs.cat_file(p)
            import io

            if ext == ".csv":
                df = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False, encoding="utf-8-sig")
            else:
                df = pd.read_excel(io.BytesIO(raw), dtype=str, engine="calamine").fillna("")
            df.columns = [str(c).strip().lower() for c in df.columns]
            return df, raw
    raise RegistryError(f"Berkas {name}.csv atau {name}.xlsx tidak ditemukan di {path_or_url}.")


def _flag(series: pd.Series) -> pd.Series:
    return series.map(lambda v: normalize_yn(v) == "Y").astype(bool)


def check_snapshot(households: pd.DataFrame, persons: pd.DataFrame, *, snapshot_date: date,
                   kelurahan: KelurahanIndex) -> RegistryCheck:
    """Normalise the two tables and list what is wrong. Missing columns or broken keys raise RegistryError; row
    problems (bad NIK, unknown kelurahan) are counted and the affected values blanked, so no person is dropped."""
    problems: list[str] = []
    for table, cols, df in (("households", HOUSEHOLD_COLUMNS, households), ("persons", PERSON_COLUMNS, persons)):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise RegistryError(f"Kolom wajib tidak ditemukan di {table}: {', '.join(missing)}.")
    hh = households[HOUSEHOLD_COLUMNS].copy()
    pp = persons[PERSON_COLUMNS].copy()
    for df, key, label in ((hh, "id_keluarga", "households"), (pp, "id_art", "persons")):
        df[key] = df[key].astype(str).str.strip()
        if (df[key] == "").any():
            raise RegistryError(f"Ada {int((df[key] == '').sum())} baris {label} tanpa {key}.")
        dupes = df[key].duplicated().sum()
        if dupes:
            raise RegistryError(f"{key} ganda di {label}: {int(dupes)} baris.")
    pp["id_keluarga"] = pp["id_keluarga"].astype(str).str.strip()
    orphans = ~pp["id_keluarga"].isin(hh["id_keluarga"])
    if orphans.any():
        raise RegistryError(f"{int(orphans.sum())} anggota keluarga merujuk id_keluarga yang tidak ada di households.")

    codes = {}
    for df, label in ((hh, "households"), (pp, "persons")):
        raw_codes = df["kode_kelurahan"].astype(str)
        uniq = raw_codes.unique()
        mapping = {c: kelurahan.code(c) for c in uniq}
        codes[label] = raw_codes.map(mapping)
        bad = codes[label].isna()
        if bad.any():
            raise RegistryError(f"{int(bad.sum())} baris {label} dengan kode_kelurahan di luar Kota Jambi.")
        df["kode_kelurahan"] = codes[label]
    hh["kode_kecamatan"] = hh["kode_kelurahan"].str[:8]

    hh["no_kk"], kk_problem = normalize_nik_series(hh["no_kk"], kind="kk")
    if kk_problem.notna().any():
        problems.append(f"{int(kk_problem.notna().sum())} No KK keluarga tidak valid (dikosongkan).")
    pp["no_kk"], pkk_problem = normalize_nik_series(pp["no_kk"], kind="kk")
    pp["nik"], nik_problem = normalize_nik_series(pp["nik"])
    if nik_problem.notna().any():
        problems.append(f"{int(nik_problem.notna().sum())} NIK anggota tidak valid atau kosong (dikosongkan).")

    desil = pd.to_numeric(hh["desil"].replace("", None), errors="coerce")
    bad_desil = desil.notna() & ~desil.between(1, 10)
    if bad_desil.any():
        problems.append(f"{int(bad_desil.sum())} desil di luar 1..10 (dikosongkan).")
    hh["desil"] = desil.where(~bad_desil).astype("Int64")
    kep = hh["status_kepemilikan_rumah"].astype(str).str.strip().str.lower()
    hh["status_kepemilikan_rumah"] = kep.where(kep.isin(KEPEMILIKAN), None)
    for col in ("rumah_tidak_layak", "sumber_air_layak", "jamban_sendiri"):
        hh[col] = _flag(hh[col])
    for df in (hh, pp):
        df["rt"] = df["rt"].map(normalize_rt_rw)
        df["rw"] = df["rw"].map(normalize_rt_rw)

    pp["jenis_kelamin"] = pp["jenis_kelamin"].map(normalize_sex)
    born = parse_date_series(pp["tanggal_lahir"])
    future = born.map(lambda d: d is not None and d > snapshot_date)
    if future.any():
        problems.append(f"{int(future.sum())} tanggal lahir setelah tanggal snapshot (dikosongkan).")
    pp["tanggal_lahir"] = born.where(~future, None)
    if pp["tanggal_lahir"].isna().any():
        problems.append(f"{int(pp['tanggal_lahir'].isna().sum())} anggota tanpa tanggal lahir yang valid.")
    pp["hubungan_keluarga"] = pp["hubungan_keluarga"].astype(str).str.strip().str.lower().replace("", None)
    pp["pekerjaan_sektor"] = pp["pekerjaan_sektor"].astype(str).str.strip().str.lower().replace("", None)
    jen = pp["jenjang_sekolah"].astype(str).str.strip().str.upper()
    pp["jenjang_sekolah"] = jen.where(jen.isin(JENJANG), None)
    for col in ("disabilitas_berat", "hamil"):
        pp[col] = _flag(pp[col])
    pp["nama"] = pp["nama"].astype(str).str.strip()
    return RegistryCheck(hh, pp, problems)


def _records(df: pd.DataFrame) -> list[dict]:
    out = df.astype(object).where(df.notna(), None)
    return out.to_dict("records")


def load_snapshot(database_url: str, source: str, snapshot_date: date, *, storage_options: dict | None = None,
                  actor: str = "tkpk", reference_dir=None) -> dict:
    """Load households and persons from `source` (a folder path or URL) as the snapshot of `snapshot_date`.
    Replaces a snapshot of the same date (a corrected delivery), keeps every other. Returns counts."""
    if "://" not in source:
        from pathlib import Path

        source = Path(source).resolve().as_uri()
    households, hh_raw = _read_table(source, "households", storage_options)
    persons, pp_raw = _read_table(source, "persons", storage_options)
    checked = check_snapshot(households, persons, snapshot_date=snapshot_date,
                             kelurahan=KelurahanIndex.load(reference_dir))
    sha = hashlib.sha256(hh_raw + b"\0" + pp_raw).hexdigest()
    with session_scope(database_url) as s:
        old = s.scalar(select(RegistrySnapshot).where(RegistrySnapshot.snapshot_date == snapshot_date))
        if old is not None:
            if old.sha256 == sha:
                return {"snapshot_id": old.snapshot_id, "households": old.households, "persons": old.persons,
                        "unchanged": True, "problems": checked.problems}
            s.execute(delete(RegistryPerson).where(RegistryPerson.snapshot_id == old.snapshot_id))
            s.execute(delete(RegistryHousehold).where(RegistryHousehold.snapshot_id == old.snapshot_id))
            s.delete(old)
            s.flush()
        snap = RegistrySnapshot(snapshot_date=snapshot_date, source_uri=source, sha256=sha,
                                households=len(checked.households), persons=len(checked.persons),
                                loaded_at=datetime.now(UTC), loaded_by=actor)
        s.add(snap)
        s.flush()
        _bulk_insert(s, RegistryHousehold, checked.households.assign(snapshot_id=snap.snapshot_id))
        _bulk_insert(s, RegistryPerson, checked.persons.assign(snapshot_id=snap.snapshot_id))
        audit(s, actor=actor, action="registry_load", snapshot_date=snapshot_date.isoformat(),
              households=len(checked.households), persons=len(checked.persons), problems=checked.problems)
        snapshot_id = snap.snapshot_id
    log.info("registry snapshot %s loaded: %d households, %d persons", snapshot_date, len(checked.households),
             len(checked.persons))
    return {"snapshot_id": snapshot_id, "households": len(checked.households), "persons": len(checked.persons),
            "unchanged": False, "problems": checked.problems}


def _bulk_insert(session: Session, model, df: pd.DataFrame) -> None:
    records = _records(df)
    for start in range(0, len(records), CHUNK):
        session.execute(insert(model), records[start : start + CHUNK])


def snapshot_for_period(session: Session, period: Period | str) -> RegistrySnapshot | None:
    """The latest snapshot dated on or before E (the last day of the period)."""
    if isinstance(period, str):
        period = Period.parse(period)
    return session.scalar(
        select(RegistrySnapshot)
        .where(RegistrySnapshot.snapshot_date <= period.end)
        .order_by(RegistrySnapshot.snapshot_date.desc())
        .limit(1)
    )


def pending_snapshots(database_url: str, landing_url: str, storage_options: dict | None = None) -> list[str]:
    """Snapshot folders under `{landing}/registry/` (named YYYY-MM-DD) that are not loaded yet. A folder whose date is
    already loaded is listed again only if its files changed (load_snapshot compares the sha256)."""
    import fsspec

    fs, root = fsspec.core.url_to_fs(f"{landing_url.rstrip('/')}/registry", **(storage_options or {}))
    if not fs.exists(root):
        return []
    dates = []
    for entry in fs.ls(root, detail=False):
        name = entry.rstrip("/").rsplit("/", 1)[-1]
        try:
            date.fromisoformat(name)
        except ValueError:
            continue
        dates.append(name)
    with session_scope(database_url) as s:
        loaded = {d.isoformat(): sha for d, sha in s.execute(select(RegistrySnapshot.snapshot_date,
                                                                      RegistrySnapshot.sha256))}
    out = []
    for name in sorted(dates):
        if name not in loaded:
            out.append(name)
            continue
        folder = f"{landing_url.rstrip('/')}/registry/{name}"
        try:
            _, hh_raw = _read_table(folder, "households", storage_options)
            _, pp_raw = _read_table(folder, "persons", storage_options)
        except RegistryError:
            continue
        if hashlib.sha256(hh_raw + b"\0" + pp_raw).hexdigest() != loaded[name]:
            out.append(name)
    return out
