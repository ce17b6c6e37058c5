"""The synthetic population of Kota Jambi: households and persons, in and outside the registry.

First step of `tkpk synth`. Everything is drawn with numpy over whole arrays (no per-person Python loop), so city
scale (170,000 households, ~640,000 persons) takes seconds. Besides the registry (DTKS/DTSEN) households, a smaller
set of *outsider* households is drawn the same way: poor families living in the city but not in the registry, and
families that will move in during the simulated months. They are the "people not in the registry" of the OPD files
and of the kelurahan proposals.

NIKs are built as PP RR CC DDMMYY SSSS from the person's birth date and sex (day + 40 for women): ~85% issued in Kota
Jambi with the kecamatan of residence (1571 + kecamatan), ~15% elsewhere (other regencies). Serials are unique per
(region + birth date) prefix, so twins on one KK differ only in the serial. A No KK is region + issue date + serial,
issued after the youngest member's birth. Desil is assigned by ranking households on a poverty score so that the
share of PERSONS per desil hits the targets (desil 1 = 1% of persons, desil 1-4 = 9%).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from tkpk.synth.names import ARAB_FAMILIES, make_names

# Person share per desil among ALL registry persons (the rest, ~22%, has no desil yet: blank).
DESIL_PERSON_SHARE = [0.010, 0.020, 0.030, 0.030, 0.060, 0.080, 0.100, 0.130, 0.150, 0.170]
# NIKs issued outside Kota Jambi: regencies migrants to the city come from (Jambi province first).
OTHER_REGENCIES = [
    1501, 1502, 1503, 1504, 1505, 1505, 1505, 1506, 1507, 1508, 1509, 1572, 1371, 1375, 1471, 1671, 1607,
    1805, 3171, 3172, 3174, 3273, 3374, 3578, 1275, 1207, 3201, 3302, 1306, 1401,
]
# Kecamatan-level tendencies (Seberang Kota: Pelayangan and Danau Teluk are smaller, poorer, and home to the
# Hadhrami and old Malay families).
KECAMATAN_SIZE = {"15.71.05": 0.45, "15.71.06": 0.45, "15.71.04": 0.6}
KECAMATAN_POVERTY = {"15.71.05": 0.6, "15.71.06": 0.5, "15.71.03": 0.3, "15.71.04": 0.25, "15.71.11": 0.2,
                     "15.71.01": -0.3, "15.71.07": -0.3, "15.71.09": -0.1}
KECAMATAN_STYLE = {  # jawa, islam, melayu, arab
    "15.71.05": [0.08, 0.25, 0.45, 0.22], "15.71.06": [0.10, 0.30, 0.52, 0.08],
    "15.71.04": [0.25, 0.35, 0.32, 0.08],
}
DEFAULT_STYLE = [0.35, 0.33, 0.29, 0.03]
STREETS = [
    "SULTAN THAHA", "KAPTEN PATTIMURA", "GATOT SUBROTO", "HAYAM WURUK", "LINGKAR SELATAN", "SUMANTRI BROJONEGORO",
    "KOL. ABUNJANI", "ORANG KAYO HITAM", "ADITYAWARMAN", "SULTAN AGUNG", "MARSDA SURYADARMA", "JEND. SUDIRMAN",
    "P. DIPONEGORO", "SLAMET RIYADI", "KH. AGUS SALIM", "RADEN WIJAYA", "M. YAMIN", "SERSAN ANWAR BAY",
    "YOS SUDARSO", "SUNAN GUNUNG JATI", "LETJEN SUPRAPTO", "H. ADAM MALIK", "KI HAJAR DEWANTARA", "DR. SUTOMO",
]
LORONG = ["IKHLAS", "SEPAKAT", "FAMILI", "MAWAR", "KENANGA", "HARAPAN", "BAKTI", "MANDIRI", "PINANG", "DAMAI",
          "MELATI", "AMAL", "BERSAMA", "SAWO", "KARYA", "SEPAHAM", "SETIA", "MAKMUR", "TALANG", "SEJAHTERA"]
JOBS_INFORMAL = ["PEDAGANG", "BURUH HARIAN LEPAS", "TUKANG OJEK", "NELAYAN", "PETANI", "TUKANG BANGUNAN",
                 "PEMULUNG", "PENJAHIT", "SOPIR", "PEKERJA RUMAH TANGGA", "MONTIR", "PEDAGANG KAKI LIMA"]
ROLE_ORDER = {"kepala_keluarga": 0, "istri": 1, "suami": 1, "anak": 2, "orang_tua": 3, "cucu": 4, "famili_lain": 5,
              "lainnya": 6}


def rng_for(seed: int, *names: object) -> np.random.Generator:
    """An independent, reproducible stream per purpose: changing one part of the generator leaves the others."""
    import zlib

    keys = [zlib.crc32(str(n).encode()) for n in names]
    return np.random.default_rng([seed, *keys])


@dataclass
class Population:
    snapshot: date
    kel: pd.DataFrame  # reference kelurahan with weights (index 0..67)
    hh: pd.DataFrame   # every household (registry + outsiders), index = hh number
    pp: pd.DataFrame   # every person, index = person number (newborns are appended month by month)
    events: pd.DataFrame | None = None  # life events so far (see tkpk.synth.life)
    _cache: dict = field(default_factory=dict, repr=False)

    def P(self, name: str) -> np.ndarray:
        """A person column as a numpy array. Text columns are cached: pandas 3 keeps text in Arrow, and turning
        a 600,000-row Arrow column into numpy objects costs milliseconds every time."""
        return self._col("pp", self.pp, name)

    def H(self, name: str) -> np.ndarray:
        return self._col("hh", self.hh, name)

    def _col(self, table: str, frame: pd.DataFrame, name: str) -> np.ndarray:
        series = frame[name]
        if series.dtype.kind in "biufcmM":  # numbers, booleans, dates: a cheap view, and some of them change
            return series.to_numpy()
        key = (table, name, len(frame))
        if key not in self._cache:
            self._cache[key] = series.to_numpy(dtype=object)
        return self._cache[key]


def load_kelurahan(reference_dir: Path, rng: np.random.Generator) -> pd.DataFrame:
    with open(Path(reference_dir) / "kota_jambi_kelurahan_kepmendagri2025.csv", encoding="utf-8") as fh:
        kel = pd.DataFrame(list(csv.DictReader(fh)))[["kode_kelurahan", "kode_kecamatan", "kecamatan", "kelurahan"]]
    kel["digits"] = kel["kode_kelurahan"].str.replace(".", "", regex=False)
    kel["kec2"] = kel["kode_kecamatan"].str[-2:].astype(int)
    size = kel["kode_kecamatan"].map(KECAMATAN_SIZE).fillna(1.0).to_numpy()
    kel["weight"] = rng.lognormal(0, 0.35, len(kel)) * size
    kel["weight"] /= kel["weight"].sum()
    kel["poverty"] = rng.normal(0, 0.3, len(kel)) + kel["kode_kecamatan"].map(KECAMATAN_POVERTY).fillna(0).to_numpy()
    kel["max_rt"] = rng.integers(12, 45, len(kel))
    return kel


def _days(ages: np.ndarray, ref: np.datetime64) -> np.ndarray:
    """Birth dates for float ages (years) at `ref`; equal ages give equal dates (twins)."""
    return ref - np.floor(ages * 365.25).astype("int64").astype("timedelta64[D]")


def compose(rng: np.random.Generator, n: int, ref: np.datetime64, poor: np.ndarray) -> pd.DataFrame:
    """Members of n households: head, spouse, children (twins included), sometimes grandparents, grandchildren,
    relatives. `poor` (0..1 per household) adds children. Returns one row per person with `hh` = 0..n-1."""
    head_age = np.clip(rng.normal(46, 13, n), 20, 88)
    head_f = rng.random(n) < np.where(head_age >= 65, 0.32, 0.12)
    has_sp = np.where(head_f, rng.random(n) < 0.04, rng.random(n) < np.where(head_age >= 65, 0.7, 0.93))
    sp_age = np.clip(head_age + np.where(head_f, rng.normal(3, 3, n), -rng.gamma(2.0, 2.0, n)), 17, 95)
    mother_age = np.where(head_f, head_age, np.where(has_sp, sp_age, head_age - 4))
    lam = np.select([head_age < 25, head_age < 35, head_age < 50, head_age < 62], [0.8, 1.9, 2.4, 1.5], 0.4) + 0.6 * poor
    n_kids = np.minimum(rng.poisson(lam), 7)
    parts = [
        dict(hh=np.arange(n), rel="kepala_keluarga", age=head_age, female=head_f, twin=False),
    ]
    sp = np.flatnonzero(has_sp)
    parts.append(dict(hh=sp, rel=np.where(head_f[sp], "suami", "istri"), age=sp_age[sp], female=~head_f[sp],
                      twin=False))
    prev = mother_age - rng.uniform(19, 31, n)
    for k in range(7):
        if k == 0:
            age = prev.copy()
            twin = np.zeros(n, bool)
        else:
            twin = rng.random(n) < 0.012
            age = np.where(twin, prev, prev - rng.uniform(1.3, 5.0, n))
        ok = np.flatnonzero((k < n_kids) & (age >= 0.05))
        parts.append(dict(hh=ok, rel="anak", age=age[ok], female=rng.random(len(ok)) < 0.49, twin=twin[ok]))
        prev = age
    gp = np.flatnonzero(rng.random(n) < np.where(head_age < 55, 0.07, 0.02))
    parts.append(dict(hh=gp, rel="orang_tua", age=np.minimum(head_age[gp] + rng.uniform(21, 32, len(gp)), 97),
                      female=rng.random(len(gp)) < 0.65, twin=False))
    for _ in range(2):
        gc = np.flatnonzero((head_age >= 50) & (rng.random(n) < 0.12))
        parts.append(dict(hh=gc, rel="cucu", age=rng.uniform(0.1, np.minimum(12, head_age[gc] - 40)),
                          female=rng.random(len(gc)) < 0.5, twin=False))
    fam = np.flatnonzero(rng.random(n) < 0.03)
    parts.append(dict(hh=fam, rel="famili_lain", age=rng.uniform(12, 60, len(fam)),
                      female=rng.random(len(fam)) < 0.5, twin=False))
    oth = np.flatnonzero(rng.random(n) < 0.006)
    parts.append(dict(hh=oth, rel="lainnya", age=rng.uniform(15, 50, len(oth)),
                      female=rng.random(len(oth)) < 0.5, twin=False))
    frames = []
    for part in parts:
        size = len(part["hh"])
        frames.append(pd.DataFrame({
            "hh": part["hh"],
            "rel": np.broadcast_to(np.asarray(part["rel"], dtype=object), (size,)),
            "age": part["age"],
            "female": np.broadcast_to(part["female"], (size,)),
            "twin": np.broadcast_to(part["twin"], (size,)),
        }))
    pp = pd.concat(frames, ignore_index=True)
    pp["order"] = pp["rel"].map(ROLE_ORDER)
    pp = pp.sort_values(["hh", "order", "age"], ascending=[True, True, False], kind="stable").reset_index(drop=True)
    pp["born"] = _days(pp["age"].to_numpy(), ref)
    return pp


def _assign_kelurahan(rng: np.random.Generator, n: int, kel: pd.DataFrame, poor_tilt: float) -> np.ndarray:
    w = kel["weight"].to_numpy() * np.exp(poor_tilt * kel["poverty"].to_numpy())
    w = w / w.sum()
    out = rng.choice(len(kel), size=n, p=w)
    if n >= len(kel):  # every kelurahan has people at any moderate size
        out[rng.permutation(n)[: len(kel)]] = np.arange(len(kel))
    return out


def build(seed: int, households: int, snapshot: date, reference_dir: Path, months: int) -> Population:
    """The registry households and the outsiders, each drawn from its own random stream, so the registry is the
    same whatever `months` is; NIK and No KK serials are then assigned over everyone (registry first)."""
    ref = np.datetime64(snapshot, "D")
    kel = load_kelurahan(reference_dir, rng_for(seed, "kelurahan"))
    n_out = max(12, int(round(households * 0.035)))      # poor families in the city, not in the registry
    n_in = max(2 * months, int(round(households * 0.0015 * months)))  # families moving in during the months
    groups = [
        _group(rng_for(seed, "population", "registry"), np.array(["registry"] * households, dtype=object), kel, ref),
        _group(rng_for(seed, "population", "outside", months),
               np.array(["outsider"] * n_out + ["incoming"] * n_in, dtype=object), kel, ref),
    ]
    offset = len(groups[0][0])
    groups[1][1]["hh"] += offset
    hh = pd.concat([g[0] for g in groups], ignore_index=True)
    pp = pd.concat([g[1] for g in groups], ignore_index=True)
    _assign_numbers(hh, pp)
    _ids(hh, pp)
    return Population(snapshot=snapshot, kel=kel, hh=hh, pp=pp)


def _group(rng, kind: np.ndarray, kel: pd.DataFrame, ref: np.datetime64):
    n_all = len(kind)
    in_reg = kind == "registry"
    kel_idx = _assign_kelurahan(rng, n_all, kel, 0.0 if in_reg.all() else 0.8)
    # Registry households ordered by area, as DTKS exports are.
    order = np.lexsort((rng.random(n_all), kel_idx))
    kel_idx = kel_idx[order]
    poverty = kel["poverty"].to_numpy()[kel_idx] + rng.normal(0, 1, n_all) + np.where(in_reg, 0.0, 0.8)
    poor = 1 / (1 + np.exp(-(poverty - 1.0) * 1.5))
    pp = compose(rng, n_all, ref, poor)
    hh = pd.DataFrame({"kind": kind, "in_registry": in_reg, "kel": kel_idx, "poverty": poverty})
    size = np.bincount(pp["hh"], minlength=n_all)
    hh["size"] = size
    # Poverty score: area, luck, bigger families, elderly or female heads.
    heads = pp[pp["rel"] == "kepala_keluarga"].set_index("hh")
    hh["head_age"] = heads["age"].reindex(hh.index).to_numpy()
    hh["head_female"] = heads["female"].reindex(hh.index).to_numpy()
    hh["score"] = hh["poverty"] + 0.18 * np.minimum(size, 8) + 0.35 * hh["head_female"] + 0.3 * (hh["head_age"] > 65)
    hh["desil"] = _assign_desil(rng, hh, size)
    _housing(rng, hh)
    _names_and_attributes(rng, hh, pp, kel)
    _identity_draws(rng, hh, pp, kel, ref)
    _pregnancies(rng, pp, ref)
    _addresses(rng, hh, kel)
    return hh, pp


def _assign_desil(rng, hh: pd.DataFrame, size: np.ndarray) -> np.ndarray:
    """Desil by ranking on the poverty score so that the PERSON shares hit DESIL_PERSON_SHARE exactly (up to one
    household at each boundary). Outsiders get a 'true' desil the same way (not published)."""
    desil = np.zeros(len(hh), dtype=np.int8)
    for registry in (True, False):
        idx = np.flatnonzero(hh["in_registry"].to_numpy() == registry)
        if not len(idx):
            continue
        total = size[idx].sum()
        blank = rng.random(len(idx)) < (1 - sum(DESIL_PERSON_SHARE)) * 1.0 if registry else np.zeros(len(idx), bool)
        ranked = idx[~blank][np.argsort(-hh["score"].to_numpy()[idx[~blank]], kind="stable")]
        cum = np.cumsum(size[ranked]) - size[ranked] / 2
        share = np.array(DESIL_PERSON_SHARE) if registry else np.array(DESIL_PERSON_SHARE) / sum(DESIL_PERSON_SHARE)
        bounds = np.cumsum(share) * total if registry else np.cumsum(share) * size[ranked].sum()
        desil[ranked] = np.minimum(np.searchsorted(bounds, cum, side="right") + 1, 10)
    return desil


def _housing(rng, hh: pd.DataFrame) -> None:
    d = hh["desil"].to_numpy().astype(int)
    d_eff = np.where(d == 0, 7, d)  # blank desil: an average household
    r = rng.random((5, len(hh)))
    p_rtlh = np.array([0, 0.45, 0.36, 0.27, 0.19, 0.12, 0.07, 0.04, 0.02, 0.01, 0.005])[d_eff]
    p_air_bad = np.array([0, 0.40, 0.32, 0.25, 0.18, 0.12, 0.08, 0.05, 0.03, 0.02, 0.01])[d_eff]
    p_no_jamban = np.array([0, 0.35, 0.27, 0.20, 0.14, 0.09, 0.06, 0.04, 0.02, 0.01, 0.005])[d_eff]
    hh["rumah_tidak_layak"] = r[0] < p_rtlh
    hh["sumber_air_layak"] = ~(r[1] < p_air_bad)
    hh["jamban_sendiri"] = ~(r[2] < p_no_jamban)
    p_own = np.where(d_eff <= 4, 0.62, 0.74)
    p_rent = np.where(d_eff <= 4, 0.16, 0.15)
    p_stay = np.where(d_eff <= 4, 0.17, 0.07)
    hh["status_kepemilikan_rumah"] = np.select(
        [r[3] < p_own, r[3] < p_own + p_rent, r[3] < p_own + p_rent + p_stay],
        ["milik_sendiri", "sewa", "menumpang"], "lainnya")
    hh.loc[hh["rumah_tidak_layak"] & (r[4] < 0.5), "status_kepemilikan_rumah"] = "milik_sendiri"


def jenjang_for_age(age: np.ndarray, smk: np.ndarray) -> np.ndarray:
    return np.select([age < 4, age < 7, age < 13, age < 16, age < 19, age < 23],
                     ["", "PAUD", "SD", "SMP", np.where(smk, "SMK", "SMA"), "PT"], "").astype(object)


def _names_and_attributes(rng, hh: pd.DataFrame, pp: pd.DataFrame, kel: pd.DataFrame) -> None:
    n_hh = len(hh)
    probs = np.array([KECAMATAN_STYLE.get(k, DEFAULT_STYLE) for k in kel["kode_kecamatan"]])[hh["kel"].to_numpy()]
    u = rng.random(n_hh)
    hh_style = np.array(["jawa", "islam", "melayu", "arab"], dtype=object)[
        (u[:, None] > np.cumsum(probs, axis=1)[:, :3]).sum(axis=1)]
    hh["style"] = hh_style
    hh["noble"] = ((hh_style == "melayu") & (rng.random(n_hh) < 0.08)) | ((hh_style == "jawa") & (rng.random(n_hh) < 0.03))
    hh["family"] = np.array(ARAB_FAMILIES, dtype=object)[rng.integers(0, len(ARAB_FAMILIES), n_hh)]
    h = pp["hh"].to_numpy()
    rel = pp["rel"].to_numpy()
    female = pp["female"].to_numpy()
    age = pp["age"].to_numpy()
    style = hh_style[h].copy()
    own = (rel != "anak") & (rel != "cucu")
    spouse = (rel == "istri") | (rel == "suami")
    own_style = spouse & (rng.random(len(pp)) < 0.5) | (rel == "famili_lain") | (rel == "lainnya")
    alt = np.array(["jawa", "islam", "melayu"], dtype=object)[rng.integers(0, 3, len(pp))]
    style = np.where(own_style, alt, style)
    style = np.where(((rel == "orang_tua") | (rel == "kepala_keluarga")) & ~female, hh_style[h], style)
    noble = hh["noble"].to_numpy()[h] & ((rel == "kepala_keluarga") | (rel == "anak") | (rel == "cucu"))
    noble &= ~((rel == "kepala_keluarga") & female)
    family = hh["family"].to_numpy()[h]
    older = age > 50
    pool_father = np.array(["AHMAD", "ABDULLAH", "HASAN", "ISMAIL", "DAUD", "SULAIMAN", "YUSUF", "RAMLI", "USMAN",
                            "ZAINAL", "MAHMUD", "SALEH", "JAFAR", "IDRUS", "KADIR"], dtype=object)
    father = np.where(rng.random(len(pp)) < 0.5, pool_father[rng.integers(0, len(pool_father), len(pp))], "")
    nama = np.empty(len(pp), dtype=object)
    core = np.empty(len(pp), dtype=object)
    adults = np.flatnonzero(own)
    nama[adults], core[adults] = make_names(rng, female[adults], style[adults], noble[adults], family[adults],
                                            father[adults].astype(object), older[adults])
    # Children and grandchildren: father's core name for bin/binti, father's line for Kemas/Sayid.
    male_parent = pd.Series(core[adults], index=adults)[(~female[adults]) & np.isin(rel[adults], ["kepala_keluarga", "suami"])]
    parent_core = pd.Series(male_parent.to_numpy(), index=h[male_parent.index]).groupby(level=0).first()
    kids = np.flatnonzero(~own)
    kid_father = parent_core.reindex(h[kids]).fillna("").to_numpy().astype(object)
    kid_noble = noble[kids] & (kid_father != "")
    nama[kids], core[kids] = make_names(rng, female[kids], style[kids], kid_noble, family[kids], kid_father,
                                        older[kids])
    # Twins on one KK have different names.
    tw = np.flatnonzero(pp["twin"].to_numpy())
    same = tw[nama[tw] == nama[tw - 1]]
    nama[same] = nama[same] + np.where(female[same], " PUTRI", " PUTRA")
    pp["nama"] = nama
    pp["core"] = core
    pp["jenis_kelamin"] = np.where(female, "P", "L")
    # School, work, disability
    desil = hh["desil"].to_numpy()[h].astype(int)
    low = (desil >= 1) & (desil <= 4)
    r = rng.random((6, len(pp)))
    p_enrol = np.select([age < 4, age < 7, age < 13, age < 16, age < 19, age < 23],
                        [0, 0.45, 0.97, 0.9, 0.75, 0.25], 0.0)
    p_enrol = np.where(low & (age >= 13), p_enrol * np.where(age >= 19, 0.4, 0.88), p_enrol)
    smk = r[1] < 0.4
    enrolled = (r[0] < p_enrol) & (rel != "kepala_keluarga") & (rel != "istri") & (rel != "suami")
    pp["smk"] = smk
    pp["enrolled"] = enrolled
    pp["jenjang_sekolah"] = np.where(enrolled, jenjang_for_age(age, smk), "")
    working = (age >= 15) & (age < 65) & ~enrolled
    mid = (desil >= 5) & (desil <= 6)
    p_inf = np.where(low, 0.66, np.where(mid, 0.45, 0.25))
    p_for = np.where(low, 0.05, np.where(mid, 0.18, 0.42))
    damp = np.where(rel == "istri", 0.45, 1.0)
    p_inf, p_for = p_inf * damp, p_for * damp
    sektor = np.select(
        [enrolled, age < 15, working & (r[2] < p_inf), working & (r[2] < p_inf + p_for),
         working & (r[2] < p_inf + p_for + 0.03), ~working & (age >= 65) & (r[2] < 0.25)],
        ["pelajar", "tidak_bekerja", "informal", "formal", "lainnya", "informal"], "tidak_bekerja")
    pp["pekerjaan_sektor"] = sektor
    jobs = np.array(JOBS_INFORMAL, dtype=object)
    pp["pekerjaan"] = np.where(sektor == "informal", jobs[rng.integers(0, len(jobs), len(pp))], "")
    pp["disabilitas_berat"] = r[3] < 0.009 + 0.0006 * np.maximum(age - 40, 0)
    # Pregnancy: one possible conception per married woman 16-44 over the simulated window; hamil = pregnant at
    # the snapshot. ~2.5% of women are pregnant at any time.
    eligible = female & (age >= 16) & (age < 45) & np.isin(rel, ["istri", "kepala_keluarga"])
    eligible |= female & (age >= 19) & (age < 40) & (rel == "anak") & (r[4] < 0.08)
    pp["may_conceive"] = eligible
    pp["twin"] = pp["twin"].astype(bool)


PREGNANCY_HORIZON_DAYS = 760  # conceptions are drawn up to ~25 months after the snapshot (the longest run)


def _pregnancies(rng, pp: pd.DataFrame, ref: np.datetime64) -> None:
    """At most one conception per woman who may conceive, uniform over [snapshot - 280 days, snapshot + ~25
    months] (fixed, so the snapshot does not depend on --months); delivery ~280 days later. Pregnant at t:
    conception <= t < delivery. The rate makes ~2.5% of all women pregnant at any time."""
    female = pp["female"].to_numpy()
    eligible = pp["may_conceive"].to_numpy()
    n_el = max(int(eligible.sum()), 1)
    window = PREGNANCY_HORIZON_DAYS + 280
    per_year = 0.025 * female.sum() / n_el / (280 / 365)
    p = min(per_year * window / 365, 0.95)
    conceives = eligible & (rng.random(len(pp)) < p)
    start = ref - np.timedelta64(280, "D")
    offset = (rng.random(len(pp)) * window).astype("int64").astype("timedelta64[D]")
    length = np.clip(rng.normal(280, 9, len(pp)), 245, 300).astype("int64").astype("timedelta64[D]")
    never = np.datetime64("2999-12-31")
    conc = np.where(conceives, start + offset, never)
    pp["conception"] = conc
    pp["delivery"] = np.where(conceives, conc + length, never)
    pp["hamil"] = (pp["conception"].to_numpy() <= ref) & (ref < pp["delivery"].to_numpy())


def _identity_draws(rng, hh: pd.DataFrame, pp: pd.DataFrame, kel: pd.DataFrame, ref: np.datetime64) -> None:
    """Where each NIK was issued, who has no papers, when each KK was issued (the numbers come later)."""
    h = pp["hh"].to_numpy()
    rel = pp["rel"].to_numpy()
    kec2 = kel["kec2"].to_numpy()[hh["kel"].to_numpy()]
    city_region = 157100 + kec2  # 1571 + kecamatan of residence
    incoming = (hh["kind"].to_numpy() == "incoming")[h]
    adult = np.isin(rel, ["kepala_keluarga", "istri", "suami", "orang_tua", "famili_lain", "lainnya"])
    p_else = np.where(adult, 0.225, 0.06)
    p_else = np.where(incoming, 0.9, p_else)
    elsewhere = rng.random(len(pp)) < p_else
    other = (np.array(OTHER_REGENCIES)[rng.integers(0, len(OTHER_REGENCIES), len(pp))] * 100
             + rng.integers(1, 16, len(pp)))
    region = np.where(elsewhere, other, city_region[h])
    # Twins: the second twin was registered together with the first (same region).
    tw = np.flatnonzero(pp["twin"].to_numpy())
    region[tw] = region[tw - 1]
    pp["region"] = region
    # Poor families outside the registry: some members have no NIK (no papers), children more often.
    outsider = ~(hh["in_registry"].to_numpy())[h]
    pp["has_nik"] = ~(outsider & (rng.random(len(pp)) < np.where(adult, 0.06, 0.18)))
    # No KK: issued after the youngest member's birth (a KK is re-issued when a child is born).
    youngest = pd.Series(pp["born"].to_numpy()).groupby(h).max().reindex(hh.index).to_numpy()
    issue = youngest + rng.integers(14, 900, len(hh)).astype("timedelta64[D]")
    issue = np.minimum(issue, ref - np.timedelta64(10, "D"))
    issue = np.maximum(issue, np.datetime64("2004-01-05"))
    hh["kk_issue"] = issue
    hh["kk_region"] = city_region


def _assign_numbers(hh: pd.DataFrame, pp: pd.DataFrame) -> None:
    """NIK and No KK over everyone at once, so serials are unique per prefix across registry and outsiders."""
    pp["nik"] = make_nik(pp["region"].to_numpy(), pp["born"].to_numpy(), pp["female"].to_numpy())
    hh["no_kk"] = make_kk(hh["kk_region"].to_numpy(), hh["kk_issue"].to_numpy())
    pp["no_kk"] = hh["no_kk"].to_numpy()[pp["hh"].to_numpy()]


def _serials(key: np.ndarray) -> np.ndarray:
    """Serial numbers unique per key (the 12-digit prefix), starting at 1 plus a small key-dependent offset."""
    counts = pd.Series(key).groupby(key).cumcount().to_numpy()
    return 1 + counts + (key // 10_000) % 13


def _date_parts(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = pd.DatetimeIndex(dates)
    return (d.day.to_numpy().astype(np.int64), d.month.to_numpy().astype(np.int64),
            d.year.to_numpy().astype(np.int64))


def make_nik(region: np.ndarray, born: np.ndarray, female: np.ndarray) -> np.ndarray:
    """16-digit NIK text: region(6) + DDMMYY (day + 40 for women) + serial(4), unique per prefix among the people
    passed in. (Newborns are issued later, for birth dates no earlier person has, so they never collide.)"""
    day, month, year = _date_parts(born)
    day = day + np.where(female, 40, 0)
    key = region.astype(np.int64) * 10**10 + day * 10**8 + month * 10**6 + (year % 100) * 10**4
    return (key + _serials(key)).astype(str).astype(object)


def make_kk(region: np.ndarray, issue: np.ndarray) -> np.ndarray:
    day, month, year = _date_parts(issue)
    key = region.astype(np.int64) * 10**10 + day * 10**8 + month * 10**6 + (year % 100) * 10**4
    return (key + _serials(key)).astype(str).astype(object)


def _addresses(rng, hh: pd.DataFrame, kel: pd.DataFrame) -> None:
    n = len(hh)
    r = rng.random(n)
    street = np.array(STREETS, dtype=object)[rng.integers(0, len(STREETS), n)]
    lorong = np.array(LORONG, dtype=object)[rng.integers(0, len(LORONG), n)]
    number = rng.integers(1, 120, n).astype(str).astype(object)
    hh["alamat"] = np.select(
        [r < 0.45, r < 0.75, r < 0.9],
        ["JL. " + street + " LR. " + lorong + " NO. " + number, "LR. " + lorong + " NO. " + number,
         "JL. " + street + " NO. " + number],
        "JL. " + street + " GG. " + lorong)
    max_rt = kel["max_rt"].to_numpy()[hh["kel"].to_numpy()]
    rt = 1 + (rng.random(n) * max_rt).astype(int)
    hh["rt"] = pd.Series(rt).astype(str).str.zfill(3).to_numpy()
    hh["rw"] = pd.Series(1 + (rt - 1) // 8).astype(str).str.zfill(3).to_numpy()
    hh["kode_kelurahan"] = kel["kode_kelurahan"].to_numpy()[hh["kel"].to_numpy()]


def _ids(hh: pd.DataFrame, pp: pd.DataFrame) -> None:
    reg = hh["in_registry"].to_numpy()
    n_reg = int(reg.sum())
    hh["id_keluarga"] = ""
    hh.loc[reg, "id_keluarga"] = [f"K{i:07d}" for i in range(1, n_reg + 1)]
    hh["true_hh_id"] = hh["id_keluarga"]
    out = np.flatnonzero(~reg)
    hh.loc[out, "true_hh_id"] = [f"XK{i:06d}" for i in range(1, len(out) + 1)]
    h = pp["hh"].to_numpy()
    p_reg = reg[h]
    pp["in_registry"] = p_reg
    pp["id_keluarga"] = hh["id_keluarga"].to_numpy()[h]
    n_pp = int(p_reg.sum())
    pp["id_art"] = ""
    pp.loc[p_reg, "id_art"] = [f"P{i:08d}" for i in range(1, n_pp + 1)]
    pp["true_person_id"] = pp["id_art"]
    outp = np.flatnonzero(~p_reg)
    pp.loc[outp, "true_person_id"] = [f"X{i:07d}" for i in range(1, len(outp) + 1)]


def registry_frames(pop: Population) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The snapshot in the contract of DESIGN.md section 5 (households.csv, persons.csv)."""
    hh = pop.hh[pop.hh["in_registry"]]
    households = pd.DataFrame({
        "id_keluarga": hh["id_keluarga"],
        "no_kk": hh["no_kk"],
        "kode_kelurahan": hh["kode_kelurahan"],
        "alamat": hh["alamat"],
        "rt": hh["rt"],
        "rw": hh["rw"],
        "desil": hh["desil"].astype(int).astype(str).replace("0", ""),
        "status_kepemilikan_rumah": hh["status_kepemilikan_rumah"],
        "rumah_tidak_layak": np.where(hh["rumah_tidak_layak"], "Y", "N"),
        "sumber_air_layak": np.where(hh["sumber_air_layak"], "Y", "N"),
        "jamban_sendiri": np.where(hh["jamban_sendiri"], "Y", "N"),
    })
    pp = pop.pp[pop.pp["in_registry"]]
    h = pp["hh"].to_numpy()
    persons = pd.DataFrame({
        "id_art": pp["id_art"],
        "id_keluarga": pp["id_keluarga"],
        "nik": pp["nik"],
        "no_kk": pp["no_kk"],
        "nama": pp["nama"],
        "jenis_kelamin": pp["jenis_kelamin"],
        "tanggal_lahir": np.datetime_as_string(pp["born"].to_numpy().astype("datetime64[D]"), unit="D"),
        "hubungan_keluarga": pp["rel"],
        "alamat": pop.hh["alamat"].to_numpy()[h],
        "rt": pop.hh["rt"].to_numpy()[h],
        "rw": pop.hh["rw"].to_numpy()[h],
        "kode_kelurahan": pop.hh["kode_kelurahan"].to_numpy()[h],
        "pekerjaan_sektor": pp["pekerjaan_sektor"],
        "jenjang_sekolah": pp["jenjang_sekolah"],
        "disabilitas_berat": np.where(pp["disabilitas_berat"], "Y", "N"),
        "hamil": np.where(pp["hamil"], "Y", "N"),
    })
    return households, persons
