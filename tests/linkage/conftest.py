"""Fixtures of the linkage tests: a small synthetic registry written as a snapshot, and OPD rows staged straight into
the warehouse (as an accepted, current batch), so the link step runs on exactly the rows a test chose."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from bench.linkage_evaluate import make_registry
from tkpk.linkage.model import load_model

SNAPSHOT_DATE = date(2026, 9, 25)


@pytest.fixture(scope="session")
def model():
    return load_model()


@pytest.fixture(scope="session")
def registry_persons() -> pd.DataFrame:
    """4,000 registry persons (about 1,200 households) with twins, siblings and BIN/BINTI names."""
    return make_registry(4_000, seed=11).drop(columns=["nik_true"])


def households_of(persons: pd.DataFrame) -> pd.DataFrame:
    first = persons.drop_duplicates("id_keluarga")
    return pd.DataFrame({
        "id_keluarga": first["id_keluarga"], "no_kk": first["no_kk"], "kode_kelurahan": first["kode_kelurahan"],
        "alamat": first["alamat"], "rt": first["rt"], "rw": first["rw"], "desil": "1",
        "status_kepemilikan_rumah": "milik_sendiri", "rumah_tidak_layak": "N", "sumber_air_layak": "Y",
        "jamban_sendiri": "Y",
    })


def write_snapshot(folder: Path, persons: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    full = persons.assign(pekerjaan_sektor="informal", jenjang_sekolah="", disabilitas_berat="N", hamil="N")
    full.to_csv(folder / "persons.csv", index=False)
    households_of(persons).to_csv(folder / "households.csv", index=False)
    return folder


def load_world(url: str, tmp_path: Path, persons: pd.DataFrame, snapshot_date: date = SNAPSHOT_DATE) -> int:
    from tkpk.registry import load_snapshot

    src = write_snapshot(tmp_path / f"registry-{snapshot_date}", persons)
    return load_snapshot(url, str(src), snapshot_date)["snapshot_id"]


def stage(url: str, period: str, opd: str, submission_type: str, rows: list[dict]) -> list[int]:
    """Insert `rows` (canonical column names, values as an OPD file gives them after ingestion) as the current
    accepted batch of (period, opd, type); returns the staged row ids in order."""
    from tkpk.linkage.prepare import prepare_persons
    from tkpk.normalize.dates import parse_date
    from tkpk.normalize.text import normalize_sex
    from tkpk.warehouse import session_scope
    from tkpk.warehouse.models import StagedRow, SubmissionBatch

    frame = pd.DataFrame(rows).fillna("")
    for col in ("nik", "no_kk"):
        if col not in frame:
            frame[col] = ""
    prepared = prepare_persons(frame[[c for c in ("nik", "no_kk") if c in frame]], reference=date(2026, 12, 31))
    now = datetime.now(UTC)
    ids = []
    with session_scope(url) as s:
        batch = SubmissionBatch(period=period, opd_code=opd, submission_type=submission_type, status="accepted",
                                is_current=True, files=[], sha256="0" * 64, loaded_at=now, rows_total=len(rows),
                                rows_accepted=len(rows))
        s.add(batch)
        s.flush()
        for i, r in enumerate(rows):
            nik = int(prepared["nik"].iat[i])
            kk = int(prepared["kk"].iat[i])
            born = parse_date(r.get("tanggal_lahir")) if r.get("tanggal_lahir") else None
            row = StagedRow(batch_id=batch.batch_id, period=period, opd_code=opd, submission_type=submission_type,
                            source_file="test.csv", row_number=i + 2, nik=str(nik) if nik else None,
                            no_kk=str(kk) if kk else None, nama=r.get("nama") or None,
                            jenis_kelamin=normalize_sex(r.get("jenis_kelamin")) if r.get("jenis_kelamin") else None,
                            tanggal_lahir=born, kode_kelurahan=r.get("kode_kelurahan") or None,
                            data={k: v for k, v in r.items() if v not in (None, "")})
            s.add(row)
            s.flush()
            ids.append(row.row_id)
    return ids


def person_row(p: pd.Series, **changes) -> dict:
    """A submitted row for registry person `p` (a Series of persons.csv), with `changes` applied."""
    row = {"nik": p["nik"], "no_kk": p["no_kk"], "nama": p["nama"], "jenis_kelamin": p["jenis_kelamin"],
           "tanggal_lahir": p["tanggal_lahir"], "kode_kelurahan": p["kode_kelurahan"]}
    row.update(changes)
    return row
