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

import numpy as np
import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tkpk.normalize.dates import parse_date_series
from tkpk.normalize.kelurahan import KelurahanIndex
from tkpk.normalize.nik import normalize_nik_series
from tkpk.normalize.text import normalize_rt_rw, normalize_sex, normalize_yn
from tkpk.period import Period
from tkpk.warehouse import analyze, audit, session_scope
from tkpk.warehouse.bulk import insert_frame
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
NIK_SLICE = 250_000


class RegistryError(ValueError):
    """The snapshot cannot be loaded; the message says why, in Indonesian."""


@dataclass
class RegistryCheck:
    households: pd.DataFrame
    persons: pd.DataFrame
    problems: list[str] = field(default_factory=list)  # Indonesian, counts only (no personal data)
    sha256: str = ""


def _fetch(path_or_url: str, name: str, storage_options: dict | None = None) -> tuple[bytes, str]:
    """The raw bytes of `{name}.csv` (or `.xlsx`) in the snapshot folder, and the extension found."""
    import fsspec

    for ext in (".csv", ".xlsx"):
        uri = f"{path_or_url.rstrip('/')}/{name}{ext}"
        fs, p = fsspec.core.url_to_fs(uri, **(storage_options or {}))
        if fs.exists(p):
            return fs.cat_file(p), ext
    raise RegistryError(f"Berkas {name}.csv atau {name}.xlsx tidak ditemukan di {path_or_url}.")


def _parse(raw: bytes, ext: str, name: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Every cell as text (pandas' Arrow-backed `str`), '' for an empty cell; column names trimmed, lower case.
    `columns`: read only these (after trimming and lower-casing the header): a full DTSEN export has many more
    columns than the registry keeps, and they would only cost memory.
    CSV goes through pyarrow's reader (multi-threaded, ~10x pandas' C parser, less memory); a file it refuses is
    read again with the C parser, whose error messages carry no cell values (pyarrow's quote the offending row,
    which may hold a NIK)."""
    import io

    keep = None if columns is None else set(columns)

    def wanted(column) -> bool:
        return keep is None or str(column).strip().lower() in keep

    if ext == ".csv":
        options = dict(dtype=str, keep_default_na=False, encoding="utf-8-sig")
        try:
            # the header by the C parser, then only the wanted columns by pyarrow (which still refuses a row with
            # too many fields, e.g. an unquoted comma in an address; the C parser with usecols would not)
            header = pd.read_csv(io.BytesIO(raw), nrows=0, usecols=wanted, **options).columns
            df = pd.read_csv(io.BytesIO(raw), engine="pyarrow", usecols=list(header), **options)
        except ValueError:
            try:
                df = pd.read_csv(io.BytesIO(raw), **options)
            except UnicodeDecodeError as exc:
                raise RegistryError(f"Berkas {name}.csv bukan teks UTF-8 (simpan ulang sebagai CSV UTF-8).") from exc
            except pd.errors.ParserError as exc:
                raise RegistryError(f"Berkas {name}.csv tidak bisa dibaca sebagai CSV: {exc}") from exc
            df = df[[c for c in df.columns if wanted(c)]]
    else:
        df = pd.read_excel(io.BytesIO(raw), dtype=str, engine="calamine", usecols=wanted).fillna("")
    df.columns = [str(c).strip().lower() for c in df.columns]
    return df


def _read_snapshot(source: str, storage_options: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Households, persons and the sha256 of both files (households bytes, NUL, persons bytes). The raw bytes are
    dropped as soon as each file is parsed."""
    digest = hashlib.sha256()
    frames = []
    for i, (name, columns) in enumerate((("households", HOUSEHOLD_COLUMNS), ("persons", PERSON_COLUMNS))):
        raw, ext = _fetch(source, name, storage_options)
        if i:
            digest.update(b"\0")
        digest.update(raw)
        frames.append(_parse(raw, ext, name, columns))
        del raw
    return frames[0], frames[1], digest.hexdigest()


def _snapshot_sha256(source: str, storage_options: dict | None = None) -> str:
    digest = hashlib.sha256()
    for i, name in enumerate(("households", "persons")):
        if i:
            digest.update(b"\0")
        digest.update(_fetch(source, name, storage_options)[0])
    return digest.hexdigest()


def _by_value(series: pd.Series, fn) -> pd.Series:
    """`series.map(fn)` with `fn` called once per distinct value: registry columns repeat a few values (flags, RT,
    sex, kelurahan codes) over millions of rows. Every kind of missing value counts as one value."""
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    mapped = pd.Series([fn(v) for v in uniques])  # dtype inferred as `map` would: str, bool or object
    return pd.Series(mapped.array.take(codes), index=series.index, dtype=mapped.dtype)


def _flag(series: pd.Series) -> pd.Series:
    return _by_value(series, lambda v: normalize_yn(v) == "Y").astype(bool)


def _nik_by_value(series: pd.Series, kind: str) -> tuple[pd.Series, pd.Series]:
    """`normalize_nik_series` over the distinct values only (a KK number repeats once per family member)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    norm, problem = _nik_in_slices(pd.Series(uniques), kind)
    return (pd.Series(norm.array.take(codes), index=series.index, dtype=norm.dtype),
            pd.Series(problem.array.take(codes), index=series.index, dtype=problem.dtype))


def _nik_in_slices(series: pd.Series, kind: str = "nik") -> tuple[pd.Series, pd.Series]:
    """`normalize_nik_series` a slice at a time: it holds several Python-object copies of its input, so its
    temporaries stay bounded however many NIKs there are."""
    rows = NIK_SLICE
    if len(series) <= rows:
        return normalize_nik_series(series, kind=kind)
    parts = [normalize_nik_series(series.iloc[i:i + rows], kind=kind) for i in range(0, len(series), rows)]
    return pd.concat([p[0] for p in parts]), pd.concat([p[1] for p in parts])


def check_snapshot(households: pd.DataFrame, persons: pd.DataFrame, *, snapshot_date: date,
                   kelurahan: KelurahanIndex) -> RegistryCheck:
    """Normalise the two tables and list what is wrong. Missing columns or broken keys raise RegistryError; row
    problems (bad NIK, unknown kelurahan) are counted and the affected values blanked, so no person is dropped.
    The caller's frames are not modified (copy-on-write: untouched columns are shared, not copied)."""
    problems: list[str] = []
    for table, cols, df in (("households", HOUSEHOLD_COLUMNS, households), ("persons", PERSON_COLUMNS, persons)):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise RegistryError(f"Kolom wajib tidak ditemukan di {table}: {', '.join(missing)}.")
    hh = households[HOUSEHOLD_COLUMNS]
    pp = persons[PERSON_COLUMNS]
    for df, key, label in ((hh, "id_keluarga", "households"), (pp, "id_art", "persons")):
        df[key] = df[key].astype(str).str.strip()
        if (df[key] == "").any():
            raise RegistryError(f"Ada {int((df[key] == '').sum())} baris {label} tanpa {key}.")
        dupes = df[key].duplicated().sum()
        if dupes:
            raise RegistryError(f"{key} ganda di {label}: {int(dupes)} baris.")
    pp["id_keluarga"] = pp["id_keluarga"].astype(str).str.strip()
    orphans = pd.Index(hh["id_keluarga"]).get_indexer(pp["id_keluarga"]) < 0  # ids are unique (checked above)
    if orphans.any():
        raise RegistryError(f"{int(orphans.sum())} anggota keluarga merujuk id_keluarga yang tidak ada di households.")

    for df, label in ((hh, "households"), (pp, "persons")):
        codes = _by_value(df["kode_kelurahan"].astype(str), kelurahan.code)
        bad = codes.isna()
        if bad.any():
            raise RegistryError(f"{int(bad.sum())} baris {label} dengan kode_kelurahan di luar Kota Jambi.")
        df["kode_kelurahan"] = codes
    hh["kode_kecamatan"] = hh["kode_kelurahan"].str[:8]

    hh["no_kk"], kk_problem = _nik_by_value(hh["no_kk"], "kk")
    if kk_problem.notna().any():
        problems.append(f"{int(kk_problem.notna().sum())} No KK keluarga tidak valid (dikosongkan).")
    pp["no_kk"], _ = _nik_by_value(pp["no_kk"], "kk")
    pp["nik"], nik_problem = _nik_in_slices(pp["nik"])
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
        df["rt"] = _by_value(df["rt"], normalize_rt_rw)
        df["rw"] = _by_value(df["rw"], normalize_rt_rw)

    pp["jenis_kelamin"] = _by_value(pp["jenis_kelamin"], normalize_sex)
    codes, distinct = pd.factorize(pp["tanggal_lahir"], use_na_sentinel=False)  # a birth date repeats a lot
    born = parse_date_series(pd.Series(distinct)).to_numpy(object, copy=True)
    future = np.array([d is not None and d > snapshot_date for d in born], dtype=bool)
    if future.any():
        problems.append(f"{int(future[codes].sum())} tanggal lahir setelah tanggal snapshot (dikosongkan).")
        born[future] = None
    pp["tanggal_lahir"] = pd.Series(born.take(codes), index=pp.index, dtype=object)
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


def load_snapshot(database_url: str, source: str, snapshot_date: date, *, storage_options: dict | None = None,
                  actor: str = "tkpk", reference_dir=None) -> dict:
    """Load households and persons from `source` (a folder path or URL) as the snapshot of `snapshot_date`.
    Replaces a snapshot of the same date (a corrected delivery), keeps every other. Returns counts.

    One transaction: the snapshot row, its households and persons (COPY on PostgreSQL, Core executemany elsewhere,
    `tkpk.warehouse.bulk`) and the audit entry are committed together, or nothing is. On PostgreSQL the two
    registry tables are ANALYZEd before the commit, so the month's queries plan with the new row counts."""
    if "://" not in source:
        from pathlib import Path

        source = Path(source).resolve().as_uri()
    households, persons, sha = _read_snapshot(source, storage_options)
    checked = check_snapshot(households, persons, snapshot_date=snapshot_date,
                             kelurahan=KelurahanIndex.load(reference_dir))
    del households, persons  # the checked frames share what they did not change
    n_households, n_persons = len(checked.households), len(checked.persons)
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
                                households=n_households, persons=n_persons,
                                loaded_at=datetime.now(UTC), loaded_by=actor)
        s.add(snap)
        s.flush()
        insert_frame(s, RegistryHousehold, checked.households.assign(snapshot_id=snap.snapshot_id))
        insert_frame(s, RegistryPerson, checked.persons.assign(snapshot_id=snap.snapshot_id))
        analyze(s, RegistryHousehold, RegistryPerson)
        audit(s, actor=actor, action="registry_load", snapshot_date=snapshot_date.isoformat(),
              households=n_households, persons=n_persons, problems=checked.problems)
        snapshot_id = snap.snapshot_id
    log.info("registry snapshot %s loaded: %d households, %d persons", snapshot_date, n_households, n_persons)
    return {"snapshot_id": snapshot_id, "households": n_households, "persons": n_persons,
            "unchanged": False, "problems": checked.problems}


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
            sha = _snapshot_sha256(folder, storage_options)
        except RegistryError:
            continue
        if sha != loaded[name]:
            out.append(name)
    return out
