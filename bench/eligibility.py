"""Benchmark of the eligibility engine at city scale (not a test).

    python -m bench.eligibility --households 170000 [--repeat 3] [--warehouse sqlite|postgres] [--seed 1]

Generates a registry with numpy over Kota Jambi's kelurahan codes (about 3.8 persons per household), a month of
events (deaths, moves, births, pregnancies, enrolment), recipients for every program with recipient data, RTLH
history and PKH status; then times each step of the engine (registry state at E, decisions, targeting, changes
against the previous month) and reports the peak memory of the process.

Then, in the same process and on the same data, the engine against a plain pandas implementation of the rules
(`bench.eligibility_baseline`): both after a warm-up run, interleaved, median of --repeat runs of what both do
(registry state at E + decisions + targeting; the engine's reasons are part of its decisions, changes are not
timed here), the ratio engine/baseline, and the agreement: per program, the (unit, program) decisions, benefits,
quota ranks and targeting categories where the two differ (expected: 0). The last stdout line is one JSON object
with these figures (read by `python -m bench`).

With --warehouse it also loads the snapshot into a fresh warehouse and times `run_period` end to end
(derive_events, compute_eligibility, finalize).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from datetime import date

import numpy as np
import pandas as pd

from bench import eligibility_baseline as baseline
from tkpk.config import load_config
from tkpk.eligibility import rules
from tkpk.normalize.kelurahan import KelurahanIndex
from tkpk.period import Period


def synth_registry(n_households: int, seed: int = 1, on: date = date(2026, 10, 31)) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    kel = np.array([k.kode_kelurahan for k in KelurahanIndex.load().rows], dtype=object)
    h = n_households
    hh = pd.DataFrame({
        "id_keluarga": np.char.add("K", np.char.zfill(np.arange(h).astype(str), 7)).astype(object),
        "no_kk": np.char.add("1571", np.char.zfill(np.arange(h).astype(str), 12)).astype(object),
        "kode_kelurahan": kel[rng.integers(0, len(kel), h)],
    })
    hh["kode_kecamatan"] = hh["kode_kelurahan"].str[:8]
    desil = rng.choice(np.arange(1, 11), size=h, p=[0.1] * 10).astype(float)
    desil[rng.random(h) < 0.02] = np.nan
    hh["desil"] = desil
    hh["status_kepemilikan_rumah"] = rng.choice(["milik_sendiri", "sewa", "menumpang", "lainnya"], size=h,
                                                p=[0.7, 0.15, 0.1, 0.05]).astype(object)
    hh["rumah_tidak_layak"] = rng.random(h) < 0.2

    size = np.clip(1 + rng.poisson(2.8, h), 1, 10)
    n = int(size.sum())
    hh_of = np.repeat(np.arange(h), size)
    first = np.r_[0, np.cumsum(size)[:-1]]
    is_head = np.zeros(n, bool)
    is_head[first] = True
    age = np.where(is_head, rng.integers(22, 85, n), rng.integers(0, 90, n))
    born = pd.to_datetime(on) - pd.to_timedelta(age * 365.25 + rng.integers(0, 365, n), unit="D")
    sex = rng.choice(["L", "P"], n)
    sector = np.full(n, "tidak_bekerja", dtype=object)
    working = (age >= 18) & (age <= 64)
    r = rng.random(n)
    sector[working & (r < 0.45)] = "informal"
    sector[working & (r >= 0.45) & (r < 0.65)] = "formal"
    jenjang = np.full(n, None, dtype=object)
    r = rng.random(n)
    jenjang[(age >= 7) & (age <= 12) & (r < 0.9)] = "SD"
    jenjang[(age >= 13) & (age <= 15) & (r < 0.8)] = "SMP"
    jenjang[(age >= 16) & (age <= 18) & (r < 0.4)] = "SMA"
    jenjang[(age >= 16) & (age <= 18) & (r >= 0.4) & (r < 0.65)] = "SMK"
    jenjang[(age >= 19) & (age <= 23) & (r < 0.2)] = "PT"
    sector[jenjang != None] = "pelajar"  # noqa: E711 - elementwise comparison
    pp = pd.DataFrame({
        "id_art": np.char.add("A", np.char.zfill(np.arange(n).astype(str), 8)).astype(object),
        "id_keluarga": hh["id_keluarga"].to_numpy(object)[hh_of],
        "nik": np.char.add("1571", np.char.zfill(np.arange(n).astype(str), 12)).astype(object),
        "tanggal_lahir": born.date,
        "jenis_kelamin": sex,
        "pekerjaan_sektor": sector,
        "jenjang_sekolah": jenjang,
        "disabilitas_berat": rng.random(n) < 0.02,
        "hamil": (sex == "P") & (age >= 18) & (age <= 45) & (rng.random(n) < 0.02),
    })
    return hh, pp


def synth_month(hh: pd.DataFrame, pp: pd.DataFrame, period: Period, seed: int = 2) -> dict:
    """Events, recipients, RTLH history and PKH status for one month, already matched to registry units."""
    rng = np.random.default_rng(seed)
    n, h = len(pp), len(hh)
    P = str(period)
    day = lambda k: pd.Timestamp(period.start) + pd.to_timedelta(rng.integers(0, 28, k), unit="D")  # noqa: E731
    pick = lambda share, k=n: rng.choice(k, int(k * share), replace=False)  # noqa: E731
    frames = []
    for kind, share in (("MENINGGAL", 0.005), ("PINDAH_KELUAR", 0.003), ("PINDAH_DATANG", 0.001)):
        idx = pick(share)
        frames.append(pd.DataFrame({"event_type": kind, "id_art": pp["id_art"].to_numpy(object)[idx],
                                    "event_date": day(len(idx))}))
    births = pick(0.01, h)
    frames.append(pd.DataFrame({"event_type": "LAHIR", "id_art": None,
                                "id_keluarga": hh["id_keluarga"].to_numpy(object)[births],
                                "nik": [f"1571BAYI{i:08d}" for i in range(len(births))],
                                "event_date": day(len(births))}))
    women = np.flatnonzero((pp["jenis_kelamin"] == "P").to_numpy())
    preg = rng.choice(women, int(len(women) * 0.01), replace=False)
    frames.append(pd.DataFrame({"event_type": "HAMIL", "id_art": pp["id_art"].to_numpy(object)[preg],
                                "hpl": pd.Timestamp(period.end) + pd.to_timedelta(rng.integers(1, 250, len(preg)), "D")}))
    kids = pick(0.15)
    frames.append(pd.DataFrame({"event_type": "SEKOLAH", "id_art": pp["id_art"].to_numpy(object)[kids],
                                "jenjang": rng.choice(["SD", "SMP", "SMA", "SMK"], len(kids))}))
    events = pd.concat(frames, ignore_index=True)
    events["period"] = P
    events["seq"] = np.arange(len(events))

    desil = hh["desil"].to_numpy()
    poor = np.flatnonzero(desil <= 4)
    rec = []

    def household_recipients(code: str, pool: np.ndarray, share: float) -> None:
        chosen = rng.choice(pool, int(len(pool) * share), replace=False)
        rec.append(pd.DataFrame({"program": code, "id_keluarga": hh["id_keluarga"].to_numpy(object)[chosen],
                                 "id_art": None, "kode_kelurahan": hh["kode_kelurahan"].to_numpy(object)[chosen]}))

    household_recipients("pkh", np.flatnonzero(desil <= 3), 0.5)
    household_recipients("bpnt", poor, 0.6)
    household_recipients("rtlh", poor, 0.01)
    for code, share in (("pbi_jk", 0.35), ("bpjs_tk", 0.03), ("pip", 0.08)):
        chosen = pick(share)
        rec.append(pd.DataFrame({"program": code, "id_art": pp["id_art"].to_numpy(object)[chosen],
                                 "id_keluarga": pp["id_keluarga"].to_numpy(object)[chosen],
                                 "kode_kelurahan": hh.set_index("id_keluarga").loc[
                                     pp["id_keluarga"].to_numpy(object)[chosen], "kode_kelurahan"].to_numpy(object)}))
    recipients = pd.concat(rec, ignore_index=True)
    lost = recipients.sample(frac=0.01, random_state=seed).assign(id_keluarga=None, id_art=None)
    recipients = pd.concat([recipients, lost], ignore_index=True)
    recipients["row_id"] = np.arange(len(recipients))
    recipients["key"] = [f"k{i}" for i in range(len(recipients))]
    recipients["row_rupiah"] = np.nan

    done = pick(0.02, h)
    inputs = rules.RuleInputs(
        completed={"rtlh": pd.DataFrame({"id_keluarga": hh["id_keluarga"].to_numpy(object)[done],
                                         "tahun_anggaran": rng.integers(2010, period.end.year + 1, len(done))})},
        active_households={"kandidat_graduasi_pkh": pd.Index(
            recipients.loc[recipients["program"] == "pkh", "id_keluarga"].dropna().unique())},
    )
    return {"events": events, "recipients": recipients, "inputs": inputs}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def with_recipient_data(programs) -> set[str]:
    return {p.code for p in programs.programs if p.recipients}


def engine_month(hh, pp, events, period: Period, programs, inputs: rules.RuleInputs, recipients: pd.DataFrame,
                 laps: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the baseline also does, by the engine: registry state at E, decisions, targeting."""
    laps = laps if laps is not None else {}
    t = time.perf_counter()
    state = rules.registry_state(hh, pp, events, period)
    laps["state"] = time.perf_counter() - t
    t = time.perf_counter()
    decisions = rules.decide(state, programs, inputs)
    laps["decide"] = time.perf_counter() - t
    t = time.perf_counter()
    target = rules.targeting(decisions, recipients, programs, with_recipient_data(programs))
    laps["targeting"] = time.perf_counter() - t
    return decisions, target


def baseline_month(hh, pp, events, period: Period, programs, inputs: rules.RuleInputs, recipients: pd.DataFrame,
                   laps: dict | None = None) -> dict:
    """The same month by the plain pandas baseline."""
    return baseline.run(hh, pp, events, period, programs, recipients, inputs.completed, inputs.active_households,
                        with_recipient_data(programs), laps)


def compare_with_baseline(hh, pp, events, period: Period, programs, inputs: rules.RuleInputs,
                          recipients: pd.DataFrame, decisions: pd.DataFrame, target: pd.DataFrame,
                          repeat: int) -> dict:
    """Engine vs baseline on the same data: agreement of the warm-up runs, then `repeat` interleaved timed runs of
    each; medians of wall and CPU seconds (and of each part)."""
    result = baseline_month(hh, pp, events, period, programs, inputs, recipients)  # warm-up
    agree = baseline.agreement(decisions, target, result, programs)
    del result
    runs = {"engine": [], "baseline": []}
    for _ in range(max(repeat, 1)):
        for name, fn in (("engine", engine_month), ("baseline", baseline_month)):
            laps: dict = {}
            t, c = time.perf_counter(), time.process_time()
            out = fn(hh, pp, events, period, programs, inputs, recipients, laps)
            runs[name].append((time.perf_counter() - t, time.process_time() - c, laps))
            del out
    summary: dict = {"repeat": max(repeat, 1)}
    for name, rows in runs.items():
        summary[f"{name}_s"] = round(statistics.median(w for w, _, _ in rows), 3)
        summary[f"{name}_cpu_s"] = round(statistics.median(c for _, c, _ in rows), 3)
        summary[f"{name}_runs_s"] = [round(w, 3) for w, _, _ in rows]
        summary[f"{name}_parts_s"] = {k: round(statistics.median(laps[k] for _, _, laps in rows), 3)
                                      for k in rows[0][2]}
    summary["engine_over_baseline"] = round(summary["engine_s"] / summary["baseline_s"], 2)
    summary["engine_over_baseline_cpu"] = round(summary["engine_cpu_s"] / summary["baseline_cpu_s"], 2)
    summary["disagreements"] = sum(row["disagreements"] for row in agree.values())
    summary["agreement"] = agree
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=170_000)
    parser.add_argument("--period", default="2026-10")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warehouse", choices=["sqlite", "postgres"], default=None)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark warehouse (prints its URL)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed runs of engine and baseline each, after a warm-up (median reported)")
    args = parser.parse_args(argv)
    period = Period.parse(args.period)
    programs = load_config().programs

    t0 = time.perf_counter()
    hh, pp = synth_registry(args.households, args.seed, period.end)
    month = synth_month(hh, pp, period, args.seed + 1)
    prev = synth_month(hh, pp, period.previous(), args.seed + 2)
    t_gen = time.perf_counter() - t0
    print(f"registry: {len(hh):,} households, {len(pp):,} persons; {len(month['events']):,} events, "
          f"{len(month['recipients']):,} recipient rows (generated in {t_gen:.1f} s, peak {_peak_mb():.0f} MB)")

    timings = {}

    def timed(name, fn, *a, **k):
        t, c = time.perf_counter(), time.process_time()
        out = fn(*a, **k)
        timings[name] = (time.perf_counter() - t, time.process_time() - c)
        return out

    prev_state = timed("previous month: registry_state", rules.registry_state, hh, pp, prev["events"],
                       period.previous())
    prev_decisions = timed("previous month: decide", rules.decide, prev_state, programs, prev["inputs"])
    del prev_state

    t_all, c_all = time.perf_counter(), time.process_time()
    events = pd.concat([prev["events"], month["events"]], ignore_index=True)
    state = timed("registry_state", rules.registry_state, hh, pp, events, period)
    rec = month["recipients"]
    inputs = month["inputs"]
    inputs.keep = rules.units_to_keep(programs, rec, prev_decisions[prev_decisions["eligible"]])
    decisions = timed("decide", rules.decide, state, programs, inputs)
    target = timed("targeting", rules.targeting, decisions, rec, programs, with_recipient_data(programs))
    changed = timed("changes", rules.changes, prev_decisions, decisions)
    total, cpu = time.perf_counter() - t_all, time.process_time() - c_all

    for name, (secs, cpu_secs) in timings.items():
        print(f"  {name:<34} {secs:6.2f} s  (cpu {cpu_secs:5.2f} s)")
    print(f"one month (state + decide + targeting + changes): {total:.2f} s (cpu {cpu:.2f} s); "
          f"peak memory {_peak_mb():.0f} MB")
    print(f"  {len(decisions):,} decision rows ({int(decisions['eligible'].sum()):,} eligible), "
          f"{len(target):,} targeting rows, {len(changed):,} changes")
    for code, count in decisions[decisions["eligible"]]["program"].value_counts().items():
        print(f"    {code:<24} {count:>9,}")
    report = {"households": len(hh), "persons": len(pp), "events": len(month["events"]),
              "recipient_rows": len(rec), "decisions": len(decisions), "eligible": int(decisions["eligible"].sum()),
              "one_month_s": round(total, 3), "one_month_cpu_s": round(cpu, 3),
              "steps_s": {name: round(w, 3) for name, (w, _) in timings.items()}}
    del state, changed, prev_decisions

    vs = compare_with_baseline(hh, pp, events, period, programs, inputs, rec, decisions, target, args.repeat)
    report.update(vs)
    print(f"engine vs plain pandas baseline (state + decisions + targeting, median of {vs['repeat']}): "
          f"engine {vs['engine_s']:.2f} s (cpu {vs['engine_cpu_s']:.2f} s), baseline {vs['baseline_s']:.2f} s "
          f"(cpu {vs['baseline_cpu_s']:.2f} s); engine/baseline {vs['engine_over_baseline']:.2f} "
          f"(cpu {vs['engine_over_baseline_cpu']:.2f})")
    print(f"  parts (s): engine {vs['engine_parts_s']}; baseline {vs['baseline_parts_s']}")
    print(f"  disagreements: {vs['disagreements']}")
    for code, row in vs["agreement"].items():
        detail = ", ".join(f"{k} {v}" for k, v in row.items() if k not in ("eligible", "disagreements"))
        print(f"    {code:<24} eligible {row['eligible']:>9,}; differ {row['disagreements']} ({detail})")
    del decisions, target
    if args.warehouse:
        _bench_warehouse(args.warehouse, hh, pp, month, prev, programs, period, keep=args.keep)
    report["peak_mb"] = round(_peak_mb(), 1)
    print(json.dumps(report))
    return 0


def _staged(type_code: str, period: str, rows: pd.DataFrame, batch_id: int, first_row_id: int) -> pd.DataFrame:
    """Staged rows as ingestion writes them: typed columns plus the canonical columns as JSON-able dicts."""
    n = len(rows)
    data = rows.drop(columns=[c for c in ("id_art", "id_keluarga") if c in rows]).astype(object)
    data = data.where(data.notna(), None)
    return pd.DataFrame({
        "row_id": np.arange(first_row_id, first_row_id + n),
        "batch_id": batch_id, "period": period, "opd_code": type_code.split("_")[0], "submission_type": type_code,
        "source_file": f"{type_code}.xlsx", "row_number": np.arange(2, n + 2),
        "nik": rows.get("nik", rows.get("nik_pengurus")), "no_kk": rows.get("no_kk"), "nama": "x",
        "kode_kelurahan": rows.get("kode_kelurahan"), "has_warning": False,
        "data": data.to_dict("records"),
    })


def _submissions(hh: pd.DataFrame, pp: pd.DataFrame, month: dict, period: Period) -> dict[str, pd.DataFrame]:
    """The synthetic month as canonical rows per submission type, with the registry unit each row is linked to."""
    P = str(period)
    kel_of = hh.set_index("id_keluarga")["kode_kelurahan"]
    kk_of = hh.set_index("id_keluarga")["no_kk"]
    nik_of = pp.set_index("id_art")["nik"]
    ev = month["events"]
    out = {}
    mut = ev[ev["event_type"].isin(["MENINGGAL", "PINDAH_KELUAR", "PINDAH_DATANG", "LAHIR"])]
    out["disdukcapil_mutasi"] = pd.DataFrame({
        "nik": np.where(mut["id_art"].notna(), mut["id_art"].map(nik_of), mut["nik"]),
        "no_kk": mut["id_keluarga"].map(kk_of).to_numpy(object), "nama": "x",
        "jenis_mutasi": mut["event_type"].to_numpy(object),
        "tanggal_peristiwa": mut["event_date"].dt.strftime("%Y-%m-%d").to_numpy(object),
        "id_art": mut["id_art"].to_numpy(object), "id_keluarga": None,
    })
    preg = ev[ev["event_type"] == "HAMIL"]
    out["dinkes_ibu_hamil"] = pd.DataFrame({
        "nik": preg["id_art"].map(nik_of).to_numpy(object), "nama": "x", "tanggal_lahir": "1995-01-01",
        "kode_kelurahan": "15.71.01.1001", "hpl": preg["hpl"].dt.strftime("%Y-%m-%d").to_numpy(object),
        "id_art": preg["id_art"].to_numpy(object), "id_keluarga": None,
    })
    school = ev[ev["event_type"] == "SEKOLAH"]
    rec = month["recipients"]
    pip = rec[rec["program"] == "pip"]
    out["disdik_siswa"] = pd.DataFrame({
        "nik": pd.concat([school["id_art"], pip["id_art"]]).map(nik_of).to_numpy(object), "nama": "x",
        "tanggal_lahir": "2012-01-01", "jenis_kelamin": "L",
        "jenjang": np.r_[school["jenjang"].to_numpy(object), np.full(len(pip), "SD", dtype=object)],
        "penerima_pip": np.r_[np.full(len(school), "N", dtype=object), np.full(len(pip), "Y", dtype=object)],
        "id_art": pd.concat([school["id_art"], pip["id_art"]]).to_numpy(object), "id_keluarga": None,
    })
    kpm = rec[rec["program"].isin(["pkh", "bpnt", "pbi_jk"])]
    out["dinsos_kpm"] = pd.DataFrame({
        "no_kk": kpm["id_keluarga"].map(kk_of).to_numpy(object),
        "nik_pengurus": kpm["id_art"].map(nik_of).to_numpy(object), "nama_pengurus": "x",
        "kode_kelurahan": kpm["kode_kelurahan"].to_numpy(object),
        "program": kpm["program"].str.upper().to_numpy(object), "status_kepesertaan": "aktif",
        "id_art": kpm["id_art"].to_numpy(object), "id_keluarga": kpm["id_keluarga"].to_numpy(object),
    })
    bpjs = rec[rec["program"] == "bpjs_tk"]
    out["disnaker_bpjstk"] = pd.DataFrame({
        "nik": bpjs["id_art"].map(nik_of).to_numpy(object), "nama": "x", "tanggal_lahir": "1990-01-01",
        "jenis_kelamin": "L", "kode_kelurahan": bpjs["kode_kelurahan"].to_numpy(object),
        "tanggal_mulai": f"{P}-01", "id_art": bpjs["id_art"].to_numpy(object),
        "id_keluarga": bpjs["id_keluarga"].to_numpy(object),
    })
    done = month["inputs"].completed["rtlh"]
    rtlh = rec[rec["program"] == "rtlh"]
    kels = pd.concat([done["id_keluarga"], rtlh["id_keluarga"]])
    out["perkim_rumah"] = pd.DataFrame({
        "no_kk": kels.map(kk_of).to_numpy(object), "nama_kepala_keluarga": "x",
        "kode_kelurahan": kels.map(kel_of).to_numpy(object), "jenis_bantuan": "RTLH",
        "tahun_anggaran": np.r_[done["tahun_anggaran"].to_numpy(), np.full(len(rtlh), period.end.year)],
        "status": np.r_[np.full(len(done), "selesai", dtype=object), np.full(len(rtlh), "proses", dtype=object)],
        "id_art": None, "id_keluarga": kels.to_numpy(object),
    })
    for frame in out.values():
        known = frame["id_art"].notna() | frame["id_keluarga"].notna()
        frame["id_keluarga"] = np.where(frame["id_keluarga"].notna(), frame["id_keluarga"],
                                        frame["id_art"].map(pp.set_index("id_art")["id_keluarga"]))
        frame["_linked"] = known.to_numpy()
    return out


def _bench_warehouse(kind: str, hh, pp, month, prev, programs, period: Period, keep: bool = False) -> None:
    """Load the synthetic registry and two months of linked submission rows into a fresh warehouse, then time the
    monthly path the DAG runs: derive_events, compute_eligibility (whole city), finalize_eligibility."""
    import tempfile
    import uuid
    from datetime import UTC, datetime

    from sqlalchemy import create_engine, text

    from tkpk.eligibility import store
    from tkpk.settings import Settings
    from tkpk.warehouse import get_engine, session_scope, upgrade
    from tkpk.warehouse.models import (
        HouseholdLink,
        PersonLink,
        RegistryHousehold,
        RegistryPerson,
        RegistrySnapshot,
        StagedRow,
        SubmissionBatch,
    )

    admin = name = None
    if kind == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    else:
        name = f"tkpk_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade(url)
        t = time.perf_counter()
        with session_scope(url) as s:
            snap = RegistrySnapshot(snapshot_date=date(period.year, 1, 1), source_uri="bench", sha256="0" * 64,
                                    households=len(hh), persons=len(pp), loaded_at=datetime.now(UTC))
            s.add(snap)
            s.flush()
            sid = snap.snapshot_id
            store._write(s, RegistryHousehold, hh.assign(snapshot_id=sid, sumber_air_layak=True, jamban_sendiri=True))
            people = pp.assign(snapshot_id=sid, no_kk=None, nama="x", kode_kelurahan=pp["id_keluarga"].map(
                hh.set_index("id_keluarga")["kode_kelurahan"]))
            store._write(s, RegistryPerson, people.drop(columns=["jenis_kelamin"]))
            row_id, batch_id = 1, 1
            for per, m in ((period.previous(), prev), (period, month)):
                for type_code, rows in _submissions(hh, pp, m, per).items():
                    s.add(SubmissionBatch(batch_id=batch_id, period=str(per), opd_code=type_code.split("_")[0],
                                          submission_type=type_code, status="accepted", is_current=True, files=[],
                                          sha256="0" * 64, loaded_at=datetime.now(UTC)))
                    s.flush()
                    staged = _staged(type_code, str(per), rows.drop(columns=["_linked"]), batch_id, row_id)
                    store._write(s, StagedRow, staged)
                    linked = staged[rows["_linked"].to_numpy()]
                    ids = rows[rows["_linked"].to_numpy()]
                    store._write(s, PersonLink, pd.DataFrame({
                        "period": str(per), "row_id": linked["row_id"].to_numpy(), "snapshot_id": sid,
                        "id_art": ids["id_art"].to_numpy(object), "id_keluarga": ids["id_keluarga"].to_numpy(object),
                        "match_status": "linked", "match_probability": 1.0,
                        "person_key": [f"p{i}" for i in linked["row_id"]], "decided_by": "nik"}))
                    if type_code in ("dinsos_kpm", "perkim_rumah"):
                        store._write(s, HouseholdLink, pd.DataFrame({
                            "period": str(per), "row_id": linked["row_id"].to_numpy(), "snapshot_id": sid,
                            "id_keluarga": ids["id_keluarga"].to_numpy(object), "match_status": "linked",
                            "via": "no_kk", "household_key": [f"h{i}" for i in linked["row_id"]]}))
                    row_id += len(staged)
                    batch_id += 1
        print(f"warehouse ({kind}): loaded registry and {row_id - 1:,} staged rows in {time.perf_counter() - t:.1f} s")
        settings = Settings.from_env(database_url=url)
        for per in (period.previous(), period):
            steps = {}
            laps = {}
            for step, fn in (("derive_events", store.derive_events), ("compute_eligibility", store.compute_eligibility),
                             ("finalize_eligibility", store.finalize_eligibility)):
                t, c = time.perf_counter(), time.process_time()
                result = fn(settings, str(per))
                steps[step] = (time.perf_counter() - t, time.process_time() - c)
                laps.update(result.get("seconds", {}))
            total = sum(w for w, _ in steps.values())
            print(f"  {per}: " + ", ".join(f"{k} {w:.1f} s (cpu {c:.1f})" for k, (w, c) in steps.items())
                  + f"; total {total:.1f} s; peak memory {_peak_mb():.0f} MB")
            print(f"    compute_eligibility steps (s): {laps}")
    finally:
        get_engine.cache_clear()
        if keep:
            print(f"kept: {url}")
        elif admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORMAT)".replace("FORMAT", "FORCE")))


if __name__ == "__main__":
    raise SystemExit(main())
