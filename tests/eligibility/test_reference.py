"""The vectorised engine against the plain row-by-row reference (reference.py) on random registries: every unit,
every program, eligibility, benefit and quota rank must agree."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
import yaml

from tkpk.config.programs import ProgramsConfig
from tkpk.eligibility import rules
from tkpk.period import Period

from .reference import reference_decisions

KELS = ["15.71.01.1001", "15.71.01.1002", "15.71.03.1003"]


def random_case(seed: int, n_households: int = 250):
    rng = np.random.default_rng(seed)
    E = date(2026, 10, 31)
    households, persons, events = [], [], []
    serial = 0
    for h in range(n_households):
        kid = f"H{h:04d}"
        desil = None if rng.random() < 0.05 else int(rng.integers(1, 8))
        households.append({
            "id_keluarga": kid, "kode_kelurahan": KELS[int(rng.integers(0, len(KELS)))], "desil": desil,
            "status_kepemilikan_rumah": str(rng.choice(["milik_sendiri", "sewa", "menumpang", None])),
            "rumah_tidak_layak": bool(rng.random() < 0.4),
        })
        for _ in range(int(rng.integers(1, 7))):
            serial += 1
            # birth dates cluster around the age boundaries
            boundary = int(rng.choice([0, 6, 7, 17, 18, 21, 22, 64, 65, 69, 70, 40]))
            born = E - timedelta(days=int(boundary * 365.25 + rng.integers(-3, 4)))
            born = None if rng.random() < 0.02 else born
            persons.append({
                "id_art": f"P{serial:05d}", "id_keluarga": kid, "nik": f"N{serial:05d}", "tanggal_lahir": born,
                "pekerjaan_sektor": str(rng.choice(["informal", "formal", "tidak_bekerja"])),
                "jenjang_sekolah": rng.choice([None, "SD", "SMP", "SMA", "SMK", "PT", "PAUD"]),
                "disabilitas_berat": bool(rng.random() < 0.08), "hamil": bool(rng.random() < 0.05),
            })
    seq = 0
    for p in persons:
        for period in ("2026-08", "2026-09", "2026-10", "2026-11"):
            r = rng.random()
            seq += 1
            if r < 0.05:
                kind = str(rng.choice(["MENINGGAL", "PINDAH_KELUAR", "PINDAH_DATANG"]))
                day = date(int(period[:4]), int(period[5:]), int(rng.integers(1, 29)))
                events.append({"period": period, "seq": seq, "event_type": kind, "id_art": p["id_art"],
                               "id_keluarga": None, "nik": None, "event_date": day, "hpl": None, "jenjang": None})
            elif r < 0.08:
                hpl = E + timedelta(days=int(rng.integers(-60, 60)))
                events.append({"period": period, "seq": seq, "event_type": "HAMIL", "id_art": p["id_art"],
                               "id_keluarga": None, "nik": None, "event_date": None, "hpl": hpl, "jenjang": None})
            elif r < 0.12:
                events.append({"period": period, "seq": seq, "event_type": "SEKOLAH", "id_art": p["id_art"],
                               "id_keluarga": None, "nik": None, "event_date": None, "hpl": None,
                               "jenjang": str(rng.choice(["SD", "SMP", "SMA", "SMK"]))})
    for i, h in enumerate(households[: n_households // 10]):
        seq += 1
        day = date(2026, 10, int(rng.integers(1, 31))) if i % 3 else date(2026, 9, 3)
        events.append({"period": day.strftime("%Y-%m"), "seq": seq, "event_type": "LAHIR",
                       "id_art": rules.newborn_id(f"B{i}"), "id_keluarga": h["id_keluarga"], "nik": f"B{i}",
                       "event_date": day, "hpl": None, "jenjang": None})
    completed = [(h["id_keluarga"], int(rng.integers(2010, 2027))) for h in households if rng.random() < 0.15]
    pkh_active = {h["id_keluarga"] for h in households if rng.random() < 0.3}
    return households, persons, events, completed, pkh_active


@pytest.fixture(scope="module")
def small_quota_programs(config) -> ProgramsConfig:
    raw = yaml.safe_load(open(config_path(), encoding="utf-8"))
    for p in raw["programs"]:
        if p["code"] == "bpjs_tk":
            p["quota"]["size"] = 3
    return ProgramsConfig.model_validate(raw)


def config_path():
    from pathlib import Path

    return Path(__file__).resolve().parents[2] / "include" / "config" / "programs.yaml"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_engine_matches_reference(seed, small_quota_programs):
    programs = small_quota_programs
    households, persons, events, completed, pkh_active = random_case(seed)
    period = Period.parse("2026-10")
    expected = reference_decisions(households, persons, events, "2026-10", period.end, programs,
                                   {"rtlh": completed}, pkh_active)
    state = rules.registry_state(pd.DataFrame(households), pd.DataFrame(persons), pd.DataFrame(events), period)
    inputs = rules.RuleInputs(
        completed={"rtlh": pd.DataFrame(completed, columns=["id_keluarga", "tahun_anggaran"])},
        active_households={"kandidat_graduasi_pkh": pd.Index(sorted(pkh_active))},
    )
    got = rules.decide(state, programs, inputs)
    table = {(r.program, r.id_keluarga, r.id_art): r for r in got.itertuples(index=False)}
    assert len(table) == len(got), "one decision per program and unit"
    checked = 0
    for key, (ok, amount, rank) in expected.items():
        row = table.get(key)
        if ok:
            assert row is not None and bool(row.eligible), key
            assert int(row.benefit_rupiah) == amount, key
        else:
            assert row is None or not bool(row.eligible), key
            if row is not None:
                assert int(row.benefit_rupiah) == 0 and row.reasons, key
        if rank is not None:
            assert row is not None and int(row.rank) == rank, key
        elif row is not None:
            assert pd.isna(row.rank), key
        checked += 1
    assert set(table) <= set(expected), "no decision for a unit the reference does not know"
    waiting = got[(got["program"] == "bpjs_tk") & got["rank"].notna() & ~got["eligible"]]
    assert len(waiting) > 0, "the random case exercises the quota"
    assert (got["program"] == "kandidat_graduasi_pkh").any() and got["eligible"].any()
    assert checked > 1000
