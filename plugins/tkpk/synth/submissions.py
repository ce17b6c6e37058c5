"""What each OPD would report for one month, as clean canonical rows (before any mess).

Third step of `tkpk synth`, once per month: one builder per submission type picks the people of the right kind from
the city as it stands on E (`life.MonthState`) and the programs' membership (`ProgramState`, carried from month to
month: PKH graduations and new members, BPNT churn, BPJS TK enrolments, Perkim works moving from usulan to selesai).
Rows are mostly registry people, with realistic targeting errors (recipients outside the target desil, eligible
people left out) and people outside the registry. Every row carries `_pid` (the person it really is), `_hh` (their
household), `_facts` (e.g. `not_in_registry`, `stale` for someone who died or moved last month) and `_file` (which
file of the OPD it goes to). Persistent per-person draws (`Ctx.u`) keep lists stable from month to month.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tkpk.synth.life import MonthState
from tkpk.synth.population import Population, rng_for

# Probability of being listed, by desil 0 (blank) .. 10; outsiders (not in the registry) use OUTSIDER.
PKH_P = [0.005, 0.85, 0.70, 0.22, 0.08, 0.03, 0.01, 0.005, 0.002, 0.001, 0.001]
BPNT_P = [0.01, 0.90, 0.85, 0.70, 0.55, 0.12, 0.05, 0.015, 0.008, 0.004, 0.002]
PBI_P = [0.012, 0.60, 0.55, 0.50, 0.35, 0.28, 0.06, 0.015, 0.01, 0.006, 0.004]
BPJSTK_P = [0.02, 0.55, 0.22, 0.18, 0.15, 0.06, 0.04, 0.02, 0.015, 0.01, 0.008]
DISDIK_P = [0.02, 0.85, 0.82, 0.80, 0.75, 0.50, 0.04, 0.015, 0.01, 0.01, 0.01]
PIP_P = [0.12, 0.80, 0.78, 0.72, 0.65, 0.35, 0.15, 0.08, 0.05, 0.04, 0.03]
OUTSIDER = {"pkh": 0.004, "bpnt": 0.01, "pbi": 0.03, "bpjstk": 0.05, "disdik": 0.35, "pip": 0.4}
FARM_KECAMATAN = {"15.71.05", "15.71.06", "15.71.09", "15.71.11"}
MIN_ROWS = 6  # every type yields a file even for a 300-household city


@dataclass
class ProgramState:
    """Program membership carried from month to month."""

    pkh: np.ndarray | None = None          # per household
    pkh_status: np.ndarray | None = None   # this month's status per household ('' = not listed)
    bpnt: np.ndarray | None = None
    bpnt_status: np.ndarray | None = None
    pbi: np.ndarray | None = None          # per person (grows with newborns)
    bpjstk: np.ndarray | None = None       # per person
    bpjstk_start: np.ndarray | None = None
    perkim: pd.DataFrame = field(default_factory=pd.DataFrame)
    proposed: set = field(default_factory=set)  # households proposed by a kelurahan so far


@dataclass
class Ctx:
    pop: Population
    st: MonthState
    seed: int
    ps: ProgramState
    n_months: int

    def rng(self, *names) -> np.random.Generator:
        return rng_for(self.seed, "sub", str(self.st.period), *names)

    def u(self, name: str) -> np.ndarray:
        """A per-person uniform draw that stays the same every month (prefix-stable as newborns are added)."""
        return rng_for(self.seed, "u", name).random(len(self.pop.pp))

    def uh(self, name: str) -> np.ndarray:
        return rng_for(self.seed, "uh", name).random(len(self.pop.hh))

    @property
    def pdesil(self) -> np.ndarray:
        return self.pop.hh["desil"].to_numpy().astype(int)[self.pop.pp["hh"].to_numpy()]

    @property
    def p_in_reg(self) -> np.ndarray:
        return self.pop.pp["in_registry"].to_numpy()


def _by_desil(table: list[float], desil: np.ndarray, in_reg: np.ndarray, outsider: float) -> np.ndarray:
    return np.where(in_reg, np.asarray(table)[desil], outsider)


def _top_up(ctx: Ctx, chosen: np.ndarray, pool: np.ndarray, name: str, minimum: int = MIN_ROWS) -> np.ndarray:
    """Small cities still produce a usable file: add people of the right kind up to `minimum`."""
    chosen = np.unique(chosen)
    if len(chosen) >= minimum:
        return chosen
    rest = np.setdiff1d(pool, chosen)
    extra = ctx.rng("topup", name).permutation(rest)[: minimum - len(chosen)]
    return np.sort(np.concatenate([chosen, extra]))


def person_frame(ctx: Ctx, idx: np.ndarray) -> pd.DataFrame:
    h = ctx.pop.P("hh")[idx]
    in_reg = ctx.pop.P("in_registry")[idx]
    has_nik = ctx.pop.P("has_nik")[idx]
    facts = np.where(in_reg, "", "not_in_registry")
    facts = np.where(has_nik, facts, np.where(facts == "", "no_nik", facts + ";no_nik"))
    stale = ~ctx.st.present[idx]
    facts = np.where(stale, np.where(facts == "", "stale", facts + ";stale"), facts)
    return pd.DataFrame({
        "nik": np.where(has_nik, ctx.pop.P("nik")[idx], ""),
        "no_kk": ctx.pop.H("no_kk")[h],
        "nama": ctx.pop.P("nama")[idx],
        "tanggal_lahir": ctx.pop.P("born")[idx].astype("datetime64[D]"),
        "jenis_kelamin": ctx.pop.P("jenis_kelamin")[idx],
        "kode_kelurahan": ctx.pop.H("kode_kelurahan")[h],
        "_pid": idx, "_hh": h, "_facts": facts,
    })


def _listed(ctx: Ctx, base: np.ndarray, lag_name: str, lag_p: float = 0.4) -> np.ndarray:
    """People on an OPD list: those present on E, plus some who died or moved last month (lists lag)."""
    return base & (ctx.st.present | (ctx.st.left_before & (ctx.u("lag_" + lag_name) < lag_p)))


def _hh_components(ctx: Ctx) -> np.ndarray:
    """PKH components per household among present members (DESIGN.md section 7), for graduation decisions."""
    st = ctx.st
    age = st.age
    comp = st.present & (st.pregnant | (age < 7) | np.isin(st.jenjang, ["SD", "SMP", "SMA", "SMK"]) & (age <= 21)
                         | ctx.pop.P("disabilitas_berat") | (age >= 70))
    return np.bincount(ctx.pop.P("hh")[comp], minlength=len(ctx.pop.hh)) > 0


def step_programs(ctx: Ctx) -> None:
    """Advance program membership to this month."""
    ps, hh, pp = ctx.ps, ctx.pop.hh, ctx.pop.pp
    rng = ctx.rng("programs")
    desil = ctx.pop.H("desil").astype(int)
    reg = ctx.pop.H("in_registry")
    comp = _hh_components(ctx)
    n_hh = len(hh)
    if ps.pkh is None:
        ps.pkh = ctx.uh("pkh") < _by_desil(PKH_P, desil, reg, OUTSIDER["pkh"])
        ps.bpnt = ctx.uh("bpnt") < _by_desil(BPNT_P, desil, reg, OUTSIDER["bpnt"])
        ps.pbi = ctx.u("pbi") < _by_desil(PBI_P, ctx.pdesil, ctx.p_in_reg, OUTSIDER["pbi"])
        informal = (ctx.pop.P("pekerjaan_sektor") == "informal") & (ctx.st.age >= 18) & (ctx.st.age < 66)
        ps.bpjstk = informal & (ctx.u("bpjstk") < _by_desil(BPJSTK_P, ctx.pdesil, ctx.p_in_reg, OUTSIDER["bpjstk"]))
        days = (ctx.u("bpjstk_start") * 1000 + 20).astype("int64")
        ps.bpjstk_start = ctx.st.start.astype("datetime64[D]") - days.astype("timedelta64[D]")
    else:
        # Last month's graduates and leavers are gone; newcomers join.
        ps.pkh = ps.pkh & (ps.pkh_status != "graduasi")
        ps.bpnt = ps.bpnt & (ps.bpnt_status != "nonaktif")
        ps.pkh |= reg & (desil >= 1) & (desil <= 2) & comp & (rng.random(n_hh) < 0.03)
        ps.bpnt |= reg & (desil >= 1) & (desil <= 4) & (rng.random(n_hh) < 0.01)
        n_new = len(pp) - len(ps.pbi)
        if n_new:  # newborns join their family's PBI after birth, half of them within a month
            fam_pbi = np.bincount(ctx.pop.P("hh")[: len(ps.pbi)][ps.pbi], minlength=n_hh) > 0
            newborn_pbi = fam_pbi[ctx.pop.P("hh")[len(ps.pbi):]] & (rng.random(n_new) < 0.5)
            ps.pbi = np.concatenate([ps.pbi, newborn_pbi])
            ps.bpjstk = np.concatenate([ps.bpjstk, np.zeros(n_new, bool)])
            ps.bpjstk_start = np.concatenate([ps.bpjstk_start, np.full(n_new, ps.bpjstk_start[0])])
        informal = (ctx.pop.P("pekerjaan_sektor") == "informal") & (ctx.st.age >= 18) & (ctx.st.age < 65)
        join = informal & ~ps.bpjstk & ctx.st.present & (rng.random(len(pp)) < 0.004 * (1 + 4 * (ctx.pdesil == 1)))
        ps.bpjstk = ps.bpjstk | join
        span = int((ctx.st.end - ctx.st.start) / np.timedelta64(1, "D")) + 1
        ps.bpjstk_start = np.where(join, ctx.st.start.astype("datetime64[D]")
                                   + rng.integers(0, span, len(pp)).astype("timedelta64[D]"), ps.bpjstk_start)
    grad_p = np.where((desil >= 3) | (desil == 0) | ~comp, 0.10, 0.004)
    ps.pkh_status = np.where(ps.pkh, np.where(rng.random(n_hh) < grad_p, "graduasi", "aktif"), "")
    ps.bpnt_status = np.where(ps.bpnt, np.where(rng.random(n_hh) < 0.008, "nonaktif", "aktif"), "")
    _step_perkim(ctx, rng)


def _pengurus(ctx: Ctx, households: np.ndarray) -> np.ndarray:
    """The person who holds the card: the wife when there is one (PKH cards go to mothers), else the head."""
    pp = ctx.pop.pp
    rel = ctx.pop.P("rel")
    h = ctx.pop.P("hh")
    listed = ctx.st.present | ctx.st.left_before
    rank = np.select([rel == "istri", rel == "kepala_keluarga", rel == "suami"], [0, 1, 2], 5)
    rank = np.where(listed, rank, 9)
    cand = pd.DataFrame({"hh": h, "rank": rank, "pid": np.arange(len(pp))})
    cand = cand[cand["hh"].isin(households) & (cand["rank"] < 9)]
    best = cand.sort_values(["hh", "rank", "pid"]).drop_duplicates("hh")
    return best.set_index("hh")["pid"].reindex(households).to_numpy()


def build_dinsos_kpm(ctx: Ctx) -> pd.DataFrame:
    ps, pp = ctx.ps, ctx.pop.pp
    frames = []
    for program, status, nominal in (("PKH", ps.pkh_status, None), ("BPNT", ps.bpnt_status, 200_000)):
        hhs = np.flatnonzero(status != "")
        pid = _pengurus(ctx, hhs)
        keep = ~pd.isna(pid)
        hhs, pid = hhs[keep], pid[keep].astype(int)
        listed = _listed(ctx, np.ones(len(pp), bool), "dinsos", 0.5)[pid]
        hhs, pid = hhs[listed], pid[listed]
        pid = _top_up_hh(ctx, pid, program)
        f = person_frame(ctx, pid)
        f["program"] = program
        f["status_kepesertaan"] = status[f["_hh"].to_numpy()]
        f.loc[f["status_kepesertaan"] == "", "status_kepesertaan"] = "aktif"
        if nominal is None:  # PKH per tahap: a rough sum of components
            rng = ctx.rng("pkh_nominal")
            f["nominal"] = (rng.integers(1, 5, len(f)) * 225_000 + rng.integers(0, 3, len(f)) * 375_000)
        else:
            f["nominal"] = nominal
        f["_file"] = program
        frames.append(f)
    persons = np.flatnonzero(_listed(ctx, ps.pbi[: len(pp)], "pbi", 0.5))
    persons = persons[ctx.pop.P("has_nik")[persons]]
    persons = _top_up(ctx, persons, np.flatnonzero(ctx.st.present & (ctx.pdesil >= 1) & (ctx.pdesil <= 5)
                                                   & ctx.pop.P("has_nik")), "pbi")
    f = person_frame(ctx, persons)
    f["program"] = "PBI_JK"
    f["status_kepesertaan"] = "aktif"
    f["nominal"] = 42_000
    f["_file"] = "PBI_JK"
    frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    out = out.rename(columns={"nik": "nik_pengurus", "nama": "nama_pengurus"})
    return out


def _top_up_hh(ctx: Ctx, pid: np.ndarray, name: str) -> np.ndarray:
    if len(pid) >= MIN_ROWS:
        return pid
    heads = np.flatnonzero(ctx.st.present & (ctx.pop.P("rel") == "kepala_keluarga") & (ctx.pdesil >= 1)
                           & (ctx.pdesil <= 2))
    return _top_up(ctx, pid, heads, "hh_" + name)


def build_disnaker_bpjstk(ctx: Ctx) -> pd.DataFrame:
    ps = ctx.ps
    idx = np.flatnonzero(_listed(ctx, ps.bpjstk & ctx.pop.P("has_nik"), "bpjstk"))
    pool = np.flatnonzero(ctx.st.present & (ctx.pop.P("pekerjaan_sektor") == "informal")
                          & ctx.pop.P("has_nik") & (ctx.st.age >= 18) & (ctx.st.age < 65))
    idx = _top_up(ctx, idx, pool, "bpjstk")
    f = person_frame(ctx, idx)
    f["pekerjaan"] = ctx.pop.P("pekerjaan")[idx]
    f.loc[f["pekerjaan"] == "", "pekerjaan"] = "BURUH HARIAN LEPAS"
    start = ps.bpjstk_start[idx]
    rng = ctx.rng("bpjstk_future")
    ahead = rng.random(len(f)) < 0.02  # registered now, cover starts next month
    f["tanggal_mulai"] = np.where(ahead, ctx.st.end.astype("datetime64[D]")
                                  + rng.integers(1, 45, len(f)).astype("timedelta64[D]"), start)
    f["iuran_bulanan"] = 16_800
    f["_file"] = "main"
    return f


def build_dinkes_ibu_hamil(ctx: Ctx) -> pd.DataFrame:
    st = ctx.st
    reg_week = 6 + (ctx.u("dinkes_week") * 10).astype(int)
    covered = ctx.u("dinkes") < np.where(ctx.p_in_reg, 0.88, 0.75)
    idx = np.flatnonzero(st.pregnant & (st.weeks >= reg_week) & covered)
    idx = _top_up(ctx, idx, np.flatnonzero(st.present & ctx.pop.P("female") & (st.age >= 18) & (st.age < 40)),
                  "dinkes")
    f = person_frame(ctx, idx)
    rng = ctx.rng("dinkes")
    weeks = np.maximum(st.weeks[idx] + rng.integers(-1, 2, len(f)), 4)
    f["usia_kehamilan_minggu"] = np.minimum(weeks, 42)
    conc = ctx.pop.P("conception")[idx].astype("datetime64[D]")
    fallback = st.end.astype("datetime64[D]") + ((40 - weeks) * 7).astype("timedelta64[D]")
    f["hpl"] = np.where(st.pregnant[idx], conc + np.timedelta64(280, "D"), fallback)
    f["_file"] = "main"
    return f


def _school_name(jenjang: np.ndarray, kel: np.ndarray, u: np.ndarray) -> np.ndarray:
    n = (kel * 7 + (u * 9).astype(int)) % 60 + 1
    private = u > 0.85
    ns = n.astype(str).astype(object)
    sd = np.where(private, np.where(u > 0.93, "SD IT NURUL ILMI", "MI AL-HIDAYAH"), "SD NEGERI " + ns + "/IV KOTA JAMBI")
    smp = np.where(private, "SMP MUHAMMADIYAH " + ((n % 3) + 1).astype(str).astype(object),
                   "SMP NEGERI " + ((n % 25) + 1).astype(str).astype(object) + " KOTA JAMBI")
    sma = np.where(private, "SMA ISLAM AL-FALAH", "SMA NEGERI " + ((n % 12) + 1).astype(str).astype(object) + " KOTA JAMBI")
    smk = "SMK NEGERI " + ((n % 7) + 1).astype(str).astype(object) + " KOTA JAMBI"
    return np.select([jenjang == "SD", jenjang == "SMP", jenjang == "SMA"], [sd, smp, sma], smk)


def build_disdik_siswa(ctx: Ctx) -> pd.DataFrame:
    st = ctx.st
    school = np.isin(st.jenjang, ["SD", "SMP", "SMA", "SMK"]) & (st.age >= 6) & (st.age < 22)
    reported = ctx.u("disdik") < _by_desil(DISDIK_P, ctx.pdesil, ctx.p_in_reg, OUTSIDER["disdik"])
    idx = np.flatnonzero(school & st.enrolled & reported & ctx.pop.P("has_nik"))
    idx = _top_up(ctx, idx, np.flatnonzero(school & st.enrolled & ctx.pop.P("has_nik")), "disdik")
    f = person_frame(ctx, idx)
    f["jenjang"] = st.jenjang[idx]
    kel = ctx.pop.H("kel")[f["_hh"].to_numpy()]
    f["nama_sekolah"] = _school_name(f["jenjang"].to_numpy(), kel, ctx.u("school")[idx])
    pip = ctx.u("pip")[idx] < _by_desil(PIP_P, ctx.pdesil[idx], ctx.p_in_reg[idx], OUTSIDER["pip"])
    f["penerima_pip"] = np.where(pip, "Y", "N")
    f["_file"] = "main"
    return f


def _step_perkim(ctx: Ctx, rng: np.random.Generator) -> None:
    """Housing works of the year: proposals become works in progress and then finished; new proposals arrive.
    The first month also carries the finished works of earlier years (the Perkim recap)."""
    hh = ctx.pop.hh
    year = ctx.st.period.year
    desil = ctx.pop.H("desil").astype(int)
    low = (desil >= 1) & (desil <= 5)
    own = ctx.pop.H("status_kepemilikan_rumah") == "milik_sendiri"
    rtlh = ctx.pop.H("rumah_tidak_layak")
    n = len(hh)
    scale = 1.0 if ctx.ps.perkim.empty else 1 / 12
    picks = {
        "RTLH": rng.random(n) < np.where(rtlh & own, np.where(low, 0.06, 0.01), 0.0008) * scale,
        "JAMBAN": rng.random(n) < np.where(~ctx.pop.H("jamban_sendiri"), np.where(low, 0.03, 0.006), 0.0003) * scale,
        "AIR_BERSIH": rng.random(n) < np.where(~ctx.pop.H("sumber_air_layak"), np.where(low, 0.02, 0.004),
                                               0.0002) * scale,
    }
    frames = []
    for jenis, mask in picks.items():
        idx = np.flatnonzero(mask & ctx.pop.H("in_registry"))
        if not len(idx):
            continue
        r = rng.random(len(idx))
        status = np.select([r < 0.4, r < 0.75], ["usulan", "proses"], "selesai") if ctx.ps.perkim.empty else \
            np.full(len(idx), "usulan", dtype=object)
        frames.append(pd.DataFrame({"hh": idx, "jenis_bantuan": jenis, "tahun_anggaran": year, "status": status,
                                    "historic": False}))
    if ctx.ps.perkim.empty:
        hist = np.flatnonzero(ctx.pop.H("in_registry") & own & (rng.random(n) < np.where(rtlh, 0.05, 0.004)))
        frames.append(pd.DataFrame({"hh": hist, "jenis_bantuan": "RTLH",
                                    "tahun_anggaran": year - 1 - rng.integers(0, 12, len(hist)),
                                    "status": "selesai", "historic": True}))
        current = pd.DataFrame(columns=["hh", "jenis_bantuan", "tahun_anggaran", "status", "historic"])
    else:
        current = ctx.ps.perkim[~ctx.ps.perkim["historic"]].copy()
        r = rng.random(len(current))
        st = current["status"].to_numpy()
        current["status"] = np.where((st == "usulan") & (r < 0.3), "proses",
                                     np.where((st == "proses") & (r < 0.35), "selesai", st))
    new = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else None
    table = pd.concat([current, new], ignore_index=True) if new is not None and len(current) else (
        new if new is not None else current)
    table = table.drop_duplicates(["hh", "jenis_bantuan", "tahun_anggaran"], keep="first")
    ctx.ps.perkim = table.reset_index(drop=True)


def build_perkim_rumah(ctx: Ctx) -> pd.DataFrame:
    table = ctx.ps.perkim
    if ctx.st.m > 0:
        table = table[~table["historic"]]
    if len(table) < MIN_ROWS:
        cand = np.flatnonzero(ctx.pop.H("in_registry") & ctx.pop.H("rumah_tidak_layak"))
        if len(cand) < MIN_ROWS:
            cand = np.flatnonzero(ctx.pop.H("in_registry"))
        extra = ctx.rng("perkim_topup").permutation(np.setdiff1d(cand, table["hh"].to_numpy()))[: MIN_ROWS - len(table)]
        table = pd.concat([table, pd.DataFrame({"hh": extra, "jenis_bantuan": "RTLH",
                                                "tahun_anggaran": ctx.st.period.year, "status": "usulan",
                                                "historic": False})], ignore_index=True)
        ctx.ps.perkim = pd.concat([ctx.ps.perkim, table.tail(len(extra))], ignore_index=True)
    hhs = table["hh"].to_numpy().astype(int)
    pp = ctx.pop.pp
    heads = pd.Series(np.arange(len(pp)), index=ctx.pop.P("hh"))[ctx.pop.P("rel") == "kepala_keluarga"]
    heads = heads[~heads.index.duplicated()]
    pid = heads.reindex(hhs).to_numpy().astype(int)
    f = person_frame(ctx, pid)
    f = f.rename(columns={"nama": "nama_kepala_keluarga"})
    f["jenis_bantuan"] = table["jenis_bantuan"].to_numpy()
    f["tahun_anggaran"] = table["tahun_anggaran"].to_numpy().astype(int)
    f["status"] = table["status"].to_numpy()
    f["_file"] = "main"
    return f.sort_values(["tahun_anggaran", "kode_kelurahan"], kind="stable").reset_index(drop=True)


def _sample_people(ctx: Ctx, weight: np.ndarray, share: float, name: str) -> np.ndarray:
    rng = ctx.rng(name)
    eligible = np.flatnonzero(weight > 0)
    k = max(MIN_ROWS, int(round(share * ctx.st.present.sum())))
    k = min(k, len(eligible))
    if not k:
        return eligible
    p = weight[eligible] / weight[eligible].sum()
    return np.sort(rng.choice(eligible, size=k, replace=False, p=p))


def _event_dates(ctx: Ctx, n: int, name: str, k: int = 4) -> np.ndarray:
    rng = ctx.rng(name + "_dates")
    span = int((ctx.st.end - ctx.st.start) / np.timedelta64(1, "D")) + 1
    days = np.sort(rng.choice(span, size=min(k, span), replace=False))
    return ctx.st.start.astype("datetime64[D]") + days[rng.integers(0, len(days), n)].astype("timedelta64[D]")


def build_koperasi_pemberdayaan(ctx: Ctx) -> pd.DataFrame:
    st = ctx.st
    d = ctx.pdesil
    w = (st.present & ctx.pop.P("has_nik") & (st.age >= 20) & (st.age < 60)).astype(float)
    w *= np.where((d >= 1) & (d <= 4), 4.0, 1.0) * np.where(ctx.pop.P("pekerjaan_sektor") == "informal", 2.5, 1)
    w *= np.where(ctx.pop.P("female"), 1.5, 1.0)
    idx = _sample_people(ctx, w, 0.0012, "koperasi")
    f = person_frame(ctx, idx)
    r = ctx.rng("koperasi_kind").random(len(f))
    f["jenis_kegiatan"] = np.where(r < 0.7, "PELATIHAN", "BANTUAN_USAHA")
    f["tanggal_kegiatan"] = _event_dates(ctx, len(f), "koperasi")
    f["_file"] = "main"
    return f


def build_pertanian_bibit(ctx: Ctx) -> pd.DataFrame:
    st = ctx.st
    d = ctx.pdesil
    kec = ctx.pop.kel["kode_kecamatan"].to_numpy()[ctx.pop.H("kel")][ctx.pop.P("hh")]
    w = (st.present & ctx.pop.P("has_nik") & (st.age >= 25) & (st.age < 66)).astype(float)
    w *= np.where(np.isin(kec, list(FARM_KECAMATAN)), 4.0, 0.5) * np.where((d >= 1) & (d <= 4), 3.0, 1.0)
    w *= np.where(ctx.pop.P("pekerjaan_sektor") == "informal", 2.0, 1.0)
    idx = _sample_people(ctx, w, 0.0008, "pertanian")
    f = person_frame(ctx, idx)
    rng = ctx.rng("pertanian_kind")
    cabai = rng.random(len(f)) < 0.6
    f["jenis_bibit"] = np.where(cabai, "CABAI", "BAWANG_MERAH")
    f["jumlah"] = np.where(cabai, rng.integers(5, 31, len(f)) * 10, rng.integers(5, 21, len(f)))
    f["_file"] = "main"
    return f


def build_disdukcapil_mutasi(ctx: Ctx) -> pd.DataFrame:
    ev = ctx.st.events
    pid = ev["pid"].to_numpy().astype(int)
    f = person_frame(ctx, pid)
    f["_facts"] = np.where(ctx.pop.P("in_registry")[pid], "",
                           np.where(ev["jenis_mutasi"].to_numpy() == "LAHIR", "newborn", "not_in_registry"))
    f["nik"] = ctx.pop.P("nik")[pid]  # Disdukcapil always has the NIK
    f["jenis_mutasi"] = ev["jenis_mutasi"].to_numpy()
    f["tanggal_peristiwa"] = ev["tanggal"].to_numpy().astype("datetime64[D]")
    if len(f) < MIN_ROWS:  # a tiny city may have a quiet month: Disdukcapil still reports late registrations
        rng = ctx.rng("capil_topup")
        pool = np.flatnonzero(ctx.st.present & ctx.p_in_reg & (ctx.st.age < 1.5))
        if len(pool) < MIN_ROWS:
            pool = np.flatnonzero(ctx.st.present & ctx.p_in_reg)
        extra = rng.permutation(pool)[: MIN_ROWS - len(f)]
        g = person_frame(ctx, extra)
        g["jenis_mutasi"] = "PINDAH_DATANG"
        g["tanggal_peristiwa"] = _event_dates(ctx, len(g), "capil_topup")
        g["_facts"] = "late_registration"
        f = pd.concat([f, g], ignore_index=True)
    f["_file"] = "main"
    return f.sort_values("tanggal_peristiwa", kind="stable").reset_index(drop=True)


ALASAN = ["Keluarga miskin belum terdata", "Kepala keluarga tidak bekerja", "Rumah tidak layak huni",
          "Lansia tinggal sendiri", "Penghasilan tidak tetap", "Korban banjir", "Ibu tunggal dengan anak kecil",
          "Penyandang disabilitas", ""]


def build_kelurahan_usulan(ctx: Ctx) -> pd.DataFrame:
    """Proposals of new poor households by a few kelurahan: mostly families outside the registry, some of them
    proposed again (earlier month or a second kelurahan), and some registry households (duplicates to detect)."""
    pop, st = ctx.pop, ctx.st
    hh = pop.hh
    rng = ctx.rng("usulan")
    n_reg = int(hh["in_registry"].sum())
    h_present = np.bincount(ctx.pop.P("hh")[st.present], minlength=len(hh)) > 0
    outsiders = np.flatnonzero(~ctx.pop.H("in_registry") & h_present)
    k_kel = int(np.clip(n_reg // 15_000 + 3, 3, 14))
    n_prop = max(2 * k_kel, int(round(n_reg * 0.0012)))
    kel_of = ctx.pop.H("kel")
    # Kelurahan with outsider families propose; pick k of them (weighted by how many they have).
    counts = np.bincount(kel_of[outsiders], minlength=len(pop.kel)).astype(float)
    counts += 0.05
    kels = rng.choice(len(pop.kel), size=k_kel, replace=False, p=counts / counts.sum())
    chosen: list[tuple[int, int, str]] = []  # (household, kelurahan folder, fact)
    fresh = [h for h in outsiders if h not in ctx.ps.proposed]
    fresh_arr = np.array(fresh, dtype=int)
    for j, k in enumerate(kels):
        quota = max(2, n_prop // k_kel + int(rng.integers(-2, 3)))
        local = fresh_arr[kel_of[fresh_arr] == k] if len(fresh_arr) else fresh_arr
        take = list(rng.permutation(local)[: int(quota * 0.7)])
        if len(take) < int(quota * 0.7) and len(fresh_arr):  # a kelurahan proposes families from next door too
            take += list(rng.permutation(np.setdiff1d(fresh_arr, take))[: int(quota * 0.7) - len(take)])
        chosen += [(int(h), int(k), "") for h in take]
        n_dup = max(1, quota - len(take) - 1) if j % 2 == 0 else max(0, quota - len(take) - 1)
        reg_local = np.flatnonzero(ctx.pop.H("in_registry") & (kel_of == k) & h_present
                                   & np.isin(ctx.pop.H("desil"), [0, 1, 2, 3, 4, 5, 6]))
        chosen += [(int(h), int(k), "registry_duplicate") for h in rng.permutation(reg_local)[:n_dup]]
    if ctx.ps.proposed:  # proposed again because nothing happened last month
        again = rng.permutation(sorted(ctx.ps.proposed))[: max(1, len(ctx.ps.proposed) // 5)]
        chosen += [(int(h), int(kel_of[h]), "proposed_again") for h in again if h_present[h]]
    taken = [c[0] for c in chosen]
    if len(taken) > 2:  # one family proposed by two kelurahan in the same month
        h = taken[0]
        other = int(kels[1]) if int(kels[0]) == chosen[0][1] and len(kels) > 1 else int(kels[0])
        chosen.append((h, other, "two_kelurahan"))
    frames = []
    rel_all = ctx.pop.P("rel")
    present = np.flatnonzero(st.present)
    present = present[np.isin(ctx.pop.P("hh")[present], [c[0] for c in chosen])]
    members_of = pd.Series(present).groupby(ctx.pop.P("hh")[present]).indices
    for h, k, fact in chosen:
        members = present[members_of[h]] if h in members_of else np.array([], dtype=int)
        if not len(members):
            continue
        f = person_frame(ctx, members)
        f["hubungan_keluarga"] = rel_all[members]
        f["alamat"] = hh["alamat"].iat[h]
        f["rt"] = hh["rt"].iat[h]
        f["rw"] = hh["rw"].iat[h]
        f["alasan_usulan"] = ALASAN[int(rng.integers(0, len(ALASAN)))]
        f["_file"] = pop.kel["digits"].iat[k]
        if fact:
            f["_facts"] = np.where(f["_facts"] == "", fact, f["_facts"] + ";" + fact)
        frames.append(f)
        if not hh["in_registry"].iat[h]:
            ctx.ps.proposed.add(h)
    return pd.concat(frames, ignore_index=True)


BUILDERS = {
    "dinsos_kpm": build_dinsos_kpm,
    "disnaker_bpjstk": build_disnaker_bpjstk,
    "dinkes_ibu_hamil": build_dinkes_ibu_hamil,
    "disdik_siswa": build_disdik_siswa,
    "perkim_rumah": build_perkim_rumah,
    "koperasi_pemberdayaan": build_koperasi_pemberdayaan,
    "pertanian_bibit": build_pertanian_bibit,
    "disdukcapil_mutasi": build_disdukcapil_mutasi,
    "kelurahan_usulan": build_kelurahan_usulan,
}


def build_generic(ctx: Ctx, type_cfg) -> pd.DataFrame:
    """A type added in submission_types.yaml without a builder here: people of the poorer desil, every column
    filled by its kind, so the new type still gets a file to test the pipeline with."""
    st = ctx.st
    d = ctx.pdesil
    w = (st.present & ctx.pop.P("has_nik") & (st.age >= 18)).astype(float) * np.where((d >= 1) & (d <= 4), 3, 1)
    f = person_frame(ctx, _sample_people(ctx, w, 0.0005, "generic_" + type_cfg.code))
    f["_file"] = "main"
    return fill_missing_columns(ctx, f, type_cfg)


def fill_missing_columns(ctx: Ctx, f: pd.DataFrame, type_cfg) -> pd.DataFrame:
    """Columns the YAML has but the builder does not know (a column added later) get plausible values by kind."""
    missing = [c for c in type_cfg.columns if c.name not in f.columns]
    if not missing:
        return f
    f = f.copy()
    rng = ctx.rng("generic_values", type_cfg.code)
    end = ctx.st.end.astype("datetime64[D]")
    for col in missing:
        if col.kind == "enum":
            f[col.name] = np.asarray(col.values, dtype=object)[rng.integers(0, len(col.values), len(f))]
        elif col.kind in ("int", "amount"):
            lo = max(int(col.min if col.min is not None else 1), 1)
            f[col.name] = rng.integers(lo, lo + 10, len(f))
        elif col.kind == "date":
            f[col.name] = end - rng.integers(0, 28, len(f)).astype("timedelta64[D]")
        elif col.kind == "yn":
            f[col.name] = np.where(rng.random(len(f)) < 0.5, "Y", "N")
        elif col.kind == "rtrw":
            f[col.name] = ctx.pop.H(col.name)[f["_hh"].to_numpy()] if col.name in ("rt", "rw") else "001"
        elif col.kind == "nik":
            f[col.name] = f["nik"]
        elif col.kind == "kk":
            f[col.name] = f["no_kk"]
        elif col.kind == "name":
            f[col.name] = f["nama"] if "nama" in f else ctx.pop.P("nama")[f["_pid"].to_numpy()]
        elif col.kind == "sex":
            f[col.name] = ctx.pop.P("jenis_kelamin")[f["_pid"].to_numpy()]
        elif col.kind == "kelurahan":
            f[col.name] = ctx.pop.H("kode_kelurahan")[f["_hh"].to_numpy()]
        else:
            f[col.name] = "-"
    return f
