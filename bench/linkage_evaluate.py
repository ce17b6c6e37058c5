"""A labelled test bed for the matcher: a synthetic registry, a messy month of submitted rows with the truth, and
the metrics the targets are stated in (precision of `linked`, recall per row, within-month duplicate pairs, review
share). Used by `bench.linkage`, by `tkpk link train` during development, and (small) by the tests.

The registry has what makes linkage hard in Kota Jambi: households on one No KK whose NIKs differ only in the serial,
twins (same birth date, names sharing tokens), siblings named after one pattern (`Muhammad Rizki`/`Muhammad Rizal`),
and common names. Submitted rows carry the mess OPD files carry (see `make_submission`). New persons include
relatives of registry households (a newborn, a new spouse on the same KK): the look-alikes a matcher must not link.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from tkpk.period import BULAN

REFERENCE_DATE = date(2026, 10, 31)

MALE = """AHMAD ABDULLAH HASAN HUSIN ISMAIL YUSUF ZAINAL SYAMSUL FAUZI RAHMAT ARIFIN ZULKIFLI HARUN IDRUS JAFAR KADIR
LUKMAN MAHMUD NASIR RIDWAN SALIM UMAR USMAN YAHYA ZAKARIA HAMZAH ILYAS IBRAHIM ISHAK MUSTAFA RASYID SULAIMAN TAUFIK
HAMID FAISAL FIKRI HAFIZ RIZKI RIZAL FAJAR ALI AMIR ANWAR BAHRUN HASYIM JAMALUDDIN NURDIN SAIFUDDIN SYAHRUL ZULFIKAR
YASIN SALEH SOFYAN HUSAINI MUKHLIS ARSYAD IMRAN AZHAR SYAHRIAL DARMAWAN HENDRI RUSLI NASRUDDIN SYAFRIZAL HERMAN ROZALI
RAMLI DAUD HASBI BAKAR SAMAN ZULHELMI AFRIZAL ASWANDI BUSTAMI EFENDI FIRDAUS HAIRUL IRWANSYAH JUNAIDI KHAIRUL MASRUL
NAZARUDDIN YUSRIZAL ZULKARNAIN SUDIRMAN JUFRI TARMIZI DAHLAN JOHAN ASRUL BAHARUDDIN ROSLAN JAMIL AMRAN MUCHTAR""".split()
FEMALE = """AISYAH FATIMAH KHADIJAH ZAINAB HALIMAH MAIMUNAH ZUBAIDAH RUKIAH SALMAH MARYAM HAFSAH ROHANI RAHMAH SAFIAH
ZULAIKHA AMINAH HABIBAH JAMILAH KHAIRUNNISA LATIFAH MUNIRAH NAFISAH RAHMAWATI UMMI ZAHRA NABILA AZIZAH FITRIANI
HUSNUL MARDIAH HUSNA NURHAYATI NURJANAH NURLAILA NURHASANAH NURBAYA NURMAWATI ROSMALA ROSMIATI NURLELA YUSNIDAR
ERMAWATI ZURAIDAH ROHAYA ASNIDAR DELIMA ERNAWATI FAUZIAH HAYATI JUWITA KAMSIAH LASMINI MARLINA NURMALA ROSNAH SAMSIAH
YUSNIAR ASIAH RATNA MELATI DEWI KARTINI YULIANA ROSDIANA JUMIATI SURYANI MASNAH""".split()
MALE_PREFIX = ["MUHAMMAD", "MUHAMMAD", "MUHAMMAD", "AHMAD", "ABDUL", "KEMAS", "RADEN", "SAYID"]
FEMALE_PREFIX = ["SITI", "SITI", "SITI", "NUR", "NYIMAS", "SYARIFAH", "DEWI"]
STREETS = """SUDIRMAN GATOT SUBROTO KAPTEN PATTIMURA SLAMET RIYADI HOS COKROAMINOTO SULTAN THAHA ORANG KAYO HITAM
PANGERAN DIPONEGORO YOS SUDARSO KOL ABUNJANI HAYAM WURUK GAJAH MADA""".split()



def _pools():
    from faker.providers.person.id_ID import Provider

    male = sorted({s.upper() for s in Provider.first_names_male} | set(MALE))
    female = sorted({s.upper() for s in Provider.first_names_female} | set(FEMALE))
    last = sorted({s.upper() for s in Provider.last_names})
    return np.array(male), np.array(female), np.array(last)


def _kelurahan_codes() -> np.ndarray:
    from tkpk.normalize.kelurahan import KelurahanIndex

    return np.array(sorted(KelurahanIndex.load().by_code))


def _dates(days: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(days, unit="D", origin="1970-01-01"))


def make_registry(n_persons: int, seed: int = 1) -> pd.DataFrame:
    """Registry persons (persons.csv columns), with households on one No KK and NIKs serialled per birth date."""
    rng = np.random.default_rng(seed)
    male, female, last = _pools()
    kel = _kelurahan_codes()
    sizes = rng.choice(np.arange(1, 9), size=int(n_persons / 3.2) + 10,
                       p=[0.08, 0.14, 0.22, 0.24, 0.16, 0.09, 0.05, 0.02])
    cum = np.cumsum(sizes)
    n_hh = int(np.searchsorted(cum, n_persons) + 1)
    sizes = sizes[:n_hh]
    sizes[-1] -= cum[n_hh - 1] - n_persons
    hh = np.repeat(np.arange(n_hh), sizes)
    pos = np.arange(n_persons) - np.repeat(np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
    size_of = sizes[hh]

    hh_kel = kel[rng.integers(0, len(kel), n_hh)]
    ref = (REFERENCE_DATE - date(1970, 1, 1)).days
    head_age = rng.uniform(22, 78, n_hh)
    head_male = rng.random(n_hh) < 0.85
    has_spouse = (sizes >= 2) & (rng.random(n_hh) < 0.85) & (head_age < 75)
    has_parent = (sizes >= 3) & (rng.random(n_hh) < 0.06) & (head_age < 50)
    role = np.full(n_persons, "anak", dtype=object)
    role[pos == 0] = "kepala_keluarga"
    sp = (pos == 1) & has_spouse[hh]
    last_member = pos == size_of - 1
    par = last_member & has_parent[hh] & (pos >= 2)
    role[sp] = np.where(head_male[hh][sp], "istri", "suami")
    role[par] = "orang_tua"

    male_p = np.empty(n_persons, dtype=bool)
    male_p[pos == 0] = head_male[hh][pos == 0]
    male_p[sp] = ~head_male[hh][sp]
    other = ~((pos == 0) | sp)
    male_p[other] = rng.random(other.sum()) < 0.5

    age = np.empty(n_persons)
    age[pos == 0] = head_age[hh][pos == 0]
    age[sp] = np.clip(head_age[hh][sp] + rng.normal(-2, 4, sp.sum()), 18, 90)
    kids = role == "anak"
    age[kids] = np.clip(head_age[hh][kids] - rng.uniform(18, 42, kids.sum()), 0, 60)
    age[par] = np.clip(head_age[hh][par] + rng.uniform(20, 32, par.sum()), 40, 99)
    dob = (ref - age * 365.25 - rng.integers(0, 365, n_persons)).astype(np.int64)
    dob = np.minimum(dob, ref - 1)

    # Twins: the second child gets the first child's birth date (same-sex twins half the time).
    twin_hh = (sizes >= 4) & (rng.random(n_hh) < 0.05)
    first_kid = kids & (pos == 2) & twin_hh[hh] & (pos + 1 < size_of)
    idx = np.flatnonzero(first_kid)
    nxt = idx + 1
    ok = role[nxt] == "anak"
    idx, nxt = idx[ok], nxt[ok]
    dob[nxt] = dob[idx]
    same_sex = rng.random(len(idx)) < 0.5
    male_p[nxt[same_sex]] = male_p[idx[same_sex]]

    # Names: given (+ prefix) (+ family token, shared by a household's children half the time).
    given = np.where(male_p, male[rng.integers(0, len(male), n_persons)],
                     female[rng.integers(0, len(female), n_persons)])
    prefix = np.where(male_p, np.array(MALE_PREFIX)[rng.integers(0, len(MALE_PREFIX), n_persons)],
                      np.array(FEMALE_PREFIX)[rng.integers(0, len(FEMALE_PREFIX), n_persons)])
    use_prefix = rng.random(n_persons) < 0.3
    hh_family = last[rng.integers(0, len(last), n_hh)]
    hh_kid_prefix = rng.random(n_hh) < 0.4
    use_prefix = np.where(kids & hh_kid_prefix[hh], True, use_prefix)
    prefix = np.where(kids & hh_kid_prefix[hh], np.where(male_p, "MUHAMMAD", "SITI"), prefix)
    own_last = last[rng.integers(0, len(last), n_persons)]
    family_kid = kids & (rng.random(n_hh) < 0.5)[hh]
    lastname = np.where(family_kid, hh_family[hh], np.where(rng.random(n_persons) < 0.45, own_last, ""))
    second = np.where(rng.random(n_persons) < 0.15, np.where(male_p, male[rng.integers(0, len(male), n_persons)],
                                                             female[rng.integers(0, len(female), n_persons)]), "")
    # Twins' names differ in the given name only.
    given[nxt] = np.where(male_p[nxt], male[rng.integers(0, len(male), len(nxt))],
                          female[rng.integers(0, len(female), len(nxt))])
    prefix[nxt], use_prefix[nxt], lastname[nxt], second[nxt] = prefix[idx], use_prefix[idx], lastname[idx], second[idx]
    parts = np.char.add(np.where(use_prefix, np.char.add(prefix.astype(str), " "), ""), given.astype(str))
    parts = np.char.add(parts, np.where(second != "", np.char.add(" ", second.astype(str)), ""))
    nama = np.char.add(parts, np.where(lastname != "", np.char.add(" ", lastname.astype(str)), ""))

    # NIK: kecamatan of issue (mostly the household's) + birth date (day + 40 for women) + serial per prefix.
    kec6 = np.char.replace(np.array([c[:8] for c in hh_kel]), ".", "")[hh]
    elsewhere = rng.random(n_persons) < 0.06
    other_kec = np.array(["150501", "150801", "167101", "157102", "157105", "140101"])
    kec6 = np.where(elsewhere, other_kec[rng.integers(0, len(other_kec), n_persons)], kec6)
    d = _dates(dob)
    day = d.dt.day.to_numpy() + np.where(male_p, 0, 40)
    dob6 = pd.Series(day).map("{:02d}".format).str.cat([d.dt.strftime("%m%y")])
    prefix12 = pd.Series(kec6).str.cat(dob6)
    serial = prefix12.groupby(prefix12).cumcount() + 1
    nik = prefix12.str.cat(serial.map("{:04d}".format))

    kk_issue = _dates(rng.integers(ref - 20 * 365, ref - 30, n_hh)).dt.strftime("%d%m%y")
    kk_prefix = pd.Series(np.char.replace(np.array([c[:8] for c in hh_kel]), ".", "")).str.cat(kk_issue)
    kk = kk_prefix.str.cat((kk_prefix.groupby(kk_prefix).cumcount() + 1).map("{:04d}".format)).to_numpy()

    rt = rng.integers(1, 40, n_hh)
    rw = rng.integers(1, 12, n_hh)
    street = np.array(STREETS)[rng.integers(0, len(STREETS), n_hh)]
    alamat = pd.Series(street).radd("JL. ").str.cat(pd.Series(rng.integers(1, 200, n_hh)).astype(str), sep=" NO. ")
    persons = pd.DataFrame({
        "id_art": pd.Series(np.arange(n_persons) + 1).map("ART{:08d}".format),
        "id_keluarga": pd.Series(hh + 1).map("KEL{:07d}".format),
        "nik": nik,
        "no_kk": kk[hh],
        "nama": nama,
        "jenis_kelamin": np.where(male_p, "L", "P"),
        "tanggal_lahir": d.dt.strftime("%Y-%m-%d"),
        "hubungan_keluarga": role,
        "alamat": alamat.to_numpy()[hh],
        "rt": pd.Series(rt[hh]).map("{:03d}".format),
        "rw": pd.Series(rw[hh]).map("{:03d}".format),
        "kode_kelurahan": hh_kel[hh],
    })
    # The registry is not perfect either: a few members have no NIK recorded, a few a mistyped one (the truth, which
    # the OPDs type, stays in `nik_true`).
    persons["nik_true"] = persons["nik"]
    blank = rng.random(n_persons) < 0.01
    persons.loc[blank, "nik"] = ""
    slip = np.flatnonzero(~blank & (rng.random(n_persons) < 0.01))
    pos = rng.integers(0, 16, len(slip))
    niks = persons["nik"].to_numpy(dtype=object)
    for i, p in zip(slip, pos, strict=True):
        v = niks[i]
        niks[i] = v[:p] + str((int(v[p]) + 1 + int(rng.integers(0, 8))) % 10) + v[p + 1:]
    persons["nik"] = niks
    # Older Muslim and Malay registry names carry "BIN/BINTI" and the father's name.
    heads = persons.groupby("id_keluarga")["nama"].transform("first").str.split().str[0]
    older = (persons["tanggal_lahir"] < "1975") & (persons["hubungan_keluarga"] != "kepala_keluarga")
    binform = older & (rng.random(n_persons) < 0.3)
    persons.loc[binform, "nama"] = persons.loc[binform, "nama"] + np.where(
        persons.loc[binform, "jenis_kelamin"] == "L", " BIN ", " BINTI ") + heads[binform]
    return persons


# --- the submitted month -------------------------------------------------------------------------------------------


@dataclass
class Noise:
    """Shares of rows carrying each kind of mess (defaults: a realistic, hard month)."""

    nik_blank: float = 0.06
    nik_scientific: float = 0.03
    nik_typo: float = 0.04
    nik_transpose: float = 0.01
    nik_short: float = 0.015
    nik_relative: float = 0.01
    nik_format: float = 0.15
    name_variant: float = 0.35
    name_typo: float = 0.12
    name_drop_token: float = 0.05
    name_swap: float = 0.02
    dob_blank: float = 0.05
    dob_swap: float = 0.03
    dob_typo: float = 0.03
    dob_other: float = 0.01
    dob_placeholder: float = 0.01
    sex_blank: float = 0.04
    sex_wrong: float = 0.01
    kel_moved: float = 0.07
    kel_blank: float = 0.03
    kk_present: float = 0.5
    kk_typo: float = 0.03
    kk_changed: float = 0.03
    rtrw_changed: float = 0.05
    name_other: float = 0.01
    new_share: float = 0.12
    new_relative_share: float = 0.4
    dup_share: float = 0.08


def _typo(rng, s: str) -> str:
    letters = [i for i, c in enumerate(s) if c.isalpha()]
    if len(letters) < 3:
        return s
    i = letters[rng.integers(1, len(letters))]
    op = rng.integers(0, 4)
    alpha = "AIUEONRSTKLMHDGBJY"
    if op == 0:
        return s[:i] + alpha[rng.integers(0, len(alpha))] + s[i + 1:]
    if op == 1:
        return s[:i] + s[i + 1:]
    if op == 2:
        return s[:i] + alpha[rng.integers(0, len(alpha))] + s[i:]
    if i + 1 < len(s) and s[i + 1].isalpha():
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    return s


_SPELLING_BACK = [("J", "DJ"), ("C", "TJ"), ("U", "OE"), ("KH", "CH"), ("SY", "SJ"), ("NY", "NJ")]
_PHONETIC_VARIANTS = [("Y", "I"), ("I", "Y"), ("F", "P"), ("AH", "A"), ("Z", "S"), ("KH", "H"), ("SY", "S"),
                      ("LL", "L"), ("MM", "M"), ("DD", "D"), ("TT", "T")]


def _name_variant(rng, name: str, male: bool, father: str) -> str:
    tokens = name.split()
    kind = rng.integers(0, 10)
    if kind == 0 and tokens[0] == "MUHAMMAD" and len(tokens) > 1:
        tokens[0] = ["M.", "MHD", "MOH.", "MUHAMAD", "MOHAMMAD", "MOCH.", "Muh."][rng.integers(0, 7)]
    elif kind == 1:
        tokens = [["H.", "DRS.", "IR.", "USTADZ"][rng.integers(0, 4)] if male else ["HJ.", "DRA.", "NY."][
            rng.integers(0, 3)]] + tokens
    elif kind == 2:
        tokens[-1] = tokens[-1] + [", S.PD", ", S.E.", " S.H", ", A.MD.KEB", ", S.KOM", " SPd.I"][rng.integers(0, 6)]
    elif kind == 3:
        old, new = _SPELLING_BACK[rng.integers(0, len(_SPELLING_BACK))]
        return " ".join(tokens).replace(old, new, 1)
    elif kind == 4:
        old, new = _PHONETIC_VARIANTS[rng.integers(0, len(_PHONETIC_VARIANTS))]
        return " ".join(tokens).replace(old, new, 1)
    elif kind == 5 and father:
        tokens = tokens + ["BIN" if male else "BINTI", father.split()[-1]]
    elif kind == 6 and tokens[0] in ("KEMAS", "NYIMAS", "RADEN", "SAYID", "SYARIFAH"):
        abbrev = {"KEMAS": ["KMS.", ""], "NYIMAS": ["NYS.", ""], "RADEN": ["R.", ""], "SAYID": ["SAID", ""],
                  "SYARIFAH": ["SY.", ""]}[tokens[0]][rng.integers(0, 2)]
        tokens = ([abbrev] if abbrev else []) + tokens[1:]
    elif kind == 7 and tokens[0] == "AHMAD":
        tokens[0] = ["ACHMAD", "AHMAT", "AKHMAD"][rng.integers(0, 3)]
    elif kind == 8 and tokens[0] == "ABDUL":
        tokens[0] = "ABD."
    else:
        return name.title()
    return " ".join(t for t in tokens if t)


def _format_nik(rng, nik: str) -> str:
    k = rng.integers(0, 4)
    if k == 0:
        return "'" + nik
    if k == 1:
        return f"{nik[:6]}.{nik[6:12]}.{nik[12:]}"
    if k == 2:
        return f"{nik[:4]} {nik[4:8]} {nik[8:12]} {nik[12:]}"
    return nik + ".0"


def _format_date(rng, d: date) -> str:
    k = rng.integers(0, 10)
    if k < 4:
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    if k < 6:
        return f"{d.day:02d}-{d.month:02d}-{d.year}"
    if k < 8:
        return f"{d.day} {BULAN[d.month - 1]} {d.year}"
    return d.isoformat()


def _format_sex(rng, sex: str) -> str:
    forms = {"L": ["L", "L", "LAKI-LAKI", "Laki-laki", "1", "l"], "P": ["P", "P", "PEREMPUAN", "Perempuan", "2", "p"]}
    return forms[sex][rng.integers(0, 6)]


def _new_persons(rng, registry: pd.DataFrame, n: int, noise: Noise) -> pd.DataFrame:
    """Persons not in the registry: relatives of registry households (newborns, spouses) and new households."""
    male, female, last = _pools()
    kel = _kelurahan_codes()
    n_rel = int(n * noise.new_relative_share)
    out = []
    heads = registry[registry["hubungan_keluarga"] == "kepala_keluarga"].sample(n_rel, random_state=int(rng.integers(1e9)))
    ref = (REFERENCE_DATE - date(1970, 1, 1)).days
    for i, h in enumerate(heads.itertuples(index=False)):
        male_p = bool(rng.random() < 0.5)
        family = h.nama.split()[-1] if len(h.nama.split()) > 1 else ""
        given = (male if male_p else female)[rng.integers(0, len(male if male_p else female))]
        pref = ("MUHAMMAD " if male_p else "SITI ") if rng.random() < 0.4 else ""
        nama = f"{pref}{given} {family}".strip()
        dob = date(1970, 1, 1) + timedelta(days=int(ref - rng.integers(10, 900)))
        out.append(dict(nama=nama, male=male_p, dob=dob, no_kk=h.no_kk, kode_kelurahan=h.kode_kelurahan,
                        alamat=h.alamat, rt=h.rt, rw=h.rw, kec6=h.kode_kelurahan[:8].replace(".", ""),
                        serial=7000 + i % 2000, father=h.nama))
    for i in range(n - n_rel):
        male_p = bool(rng.random() < 0.5)
        given = (male if male_p else female)[rng.integers(0, len(male if male_p else female))]
        tail = f" {last[rng.integers(0, len(last))]}" if rng.random() < 0.5 else ""
        pref = ("MUHAMMAD " if male_p else "SITI ") if rng.random() < 0.25 else ""
        k = kel[rng.integers(0, len(kel))]
        dob = date(1970, 1, 1) + timedelta(days=int(ref - rng.uniform(1, 80) * 365.25))
        kk = k[:8].replace(".", "") + f"{rng.integers(1, 28):02d}{rng.integers(1, 12):02d}{rng.integers(10, 26):02d}" \
            + f"{8000 + i % 1999:04d}"
        out.append(dict(nama=f"{pref}{given}{tail}", male=male_p, dob=dob, no_kk=kk, kode_kelurahan=k,
                        alamat=f"JL. {STREETS[rng.integers(0, len(STREETS))]} NO. {rng.integers(1, 200)}",
                        rt=f"{rng.integers(1, 40):03d}", rw=f"{rng.integers(1, 12):03d}",
                        kec6=k[:8].replace(".", ""), serial=8000 + i % 1999, father=""))
    df = pd.DataFrame(out)
    day = df["dob"].map(lambda d: d.day) + np.where(df["male"], 0, 40)
    df["nik"] = df["kec6"] + day.map("{:02d}".format) + df["dob"].map(lambda d: d.strftime("%m%y")) \
        + df["serial"].map("{:04d}".format)
    df["jenis_kelamin"] = np.where(df["male"], "L", "P")
    df["tanggal_lahir"] = df["dob"].map(date.isoformat)
    df["id_art"] = ""
    df["person_id"] = [f"NEW{i:07d}" for i in range(len(df))]
    return df


def make_submission(registry: pd.DataFrame, n_rows: int, seed: int = 2, noise: Noise | None = None
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ROWS.csv columns (row_id, nik, no_kk, nama, jenis_kelamin, tanggal_lahir, alamat, rt, rw, kode_kelurahan)
    and the truth (row_id, id_art blank for persons not in the registry, person_id)."""
    noise = noise or Noise()
    rng = np.random.default_rng(seed)
    n_persons = int(n_rows / (1 + noise.dup_share * 1.1))
    n_new = int(n_persons * noise.new_share)
    picked = registry.sample(n_persons - n_new, random_state=seed).copy()
    picked["person_id"] = picked["id_art"]
    if "nik_true" in picked:
        picked["nik"] = picked["nik_true"]
    heads = registry[registry["hubungan_keluarga"] == "kepala_keluarga"].set_index("id_keluarga")["nama"]
    picked["father"] = picked["id_keluarga"].map(heads).fillna("")
    new = _new_persons(rng, registry, n_new, noise)
    people = pd.concat([picked, new], ignore_index=True)
    people["male"] = people["jenis_kelamin"] == "L"
    reps = np.ones(len(people), dtype=int)
    dup = rng.random(len(people)) < noise.dup_share
    reps[dup] = np.where(rng.random(dup.sum()) < 0.88, 2, 3)
    rows = people.loc[people.index.repeat(reps)].reset_index(drop=True)
    rows = rows.iloc[:n_rows] if len(rows) > n_rows else rows
    kel = _kelurahan_codes()
    family_nik = registry.groupby("no_kk")["nik"].first()

    out = []
    for r in rows.itertuples(index=False):
        nik = r.nik or ""
        u = rng.random()
        acc = np.cumsum([noise.nik_blank, noise.nik_scientific, noise.nik_typo, noise.nik_transpose, noise.nik_short,
                         noise.nik_relative])
        if not nik or u < acc[0]:
            nik_out = "" if rng.random() < 0.8 else "-"
        elif u < acc[1]:
            nik_out = f"{int(nik[0])}.{nik[1:6]}E+15"
        elif u < acc[2]:
            p = int(rng.integers(0, 16))
            nik_out = nik[:p] + str((int(nik[p]) + int(rng.integers(1, 10))) % 10) + nik[p + 1:]
        elif u < acc[3]:
            p = int(rng.integers(0, 15))
            nik_out = nik[:p] + nik[p + 1] + nik[p] + nik[p + 2:]
        elif u < acc[4]:
            p = int(rng.integers(0, 16))
            nik_out = nik[:p] + nik[p + 1:]
        elif u < acc[5]:
            rel = family_nik.get(r.no_kk, "")
            nik_out = rel if rel and rel != nik else nik
        else:
            nik_out = nik
        if nik_out and nik_out.isdigit() and len(nik_out) == 16 and rng.random() < noise.nik_format:
            nik_out = _format_nik(rng, nik_out)

        nama = r.nama
        if rng.random() < noise.name_variant:
            nama = _name_variant(rng, nama, bool(r.male), r.father)
        if rng.random() < noise.name_drop_token and len(nama.split()) > 2:
            toks = nama.split()
            del toks[int(rng.integers(1, len(toks)))]
            nama = " ".join(toks)
        if rng.random() < noise.name_swap and len(nama.split()) > 1:
            toks = nama.split()
            nama = " ".join(toks[1:] + toks[:1])
        if rng.random() < noise.name_other:
            pool = _pools()[0 if r.male else 1]
            toks = nama.split()
            toks[-1 if len(toks) == 1 else int(rng.integers(0, len(toks)))] = pool[rng.integers(0, len(pool))]
            nama = " ".join(toks)
        if rng.random() < noise.name_typo:
            nama = _typo(rng, nama)
            if rng.random() < 0.2:
                nama = _typo(rng, nama)

        d = date.fromisoformat(r.tanggal_lahir)
        u = rng.random()
        if u < noise.dob_blank:
            dob_out = ""
        else:
            base = noise.dob_blank + noise.dob_swap + noise.dob_typo
            if u < noise.dob_blank + noise.dob_swap and d.day <= 12 and d.day != d.month:
                d = date(d.year, d.day, d.month)
            elif base <= u < base + noise.dob_other:
                d = date(1970, 1, 1) + timedelta(days=int(rng.integers(0, 20000)))
            elif base + noise.dob_other <= u < base + noise.dob_other + noise.dob_placeholder:
                d = date(d.year, 1, 1)
            elif u < noise.dob_blank + noise.dob_swap + noise.dob_typo:
                k = rng.integers(0, 3)
                try:
                    if k == 0:
                        d = d.replace(day=max(1, min(28, d.day + int(rng.choice([-2, -1, 1, 2])))))
                    elif k == 1:
                        d = d.replace(year=d.year + int(rng.choice([-1, 1, -10, 10])))
                    else:
                        d = d.replace(month=int(rng.integers(1, 13)))
                except ValueError:
                    pass
            dob_out = _format_date(rng, d)

        u = rng.random()
        sex = r.jenis_kelamin
        if u < noise.sex_blank:
            sex_out = ""
        else:
            if u < noise.sex_blank + noise.sex_wrong:
                sex = "P" if sex == "L" else "L"
            sex_out = _format_sex(rng, sex)

        u = rng.random()
        code = r.kode_kelurahan
        if u < noise.kel_blank:
            kel_out = ""
        else:
            if u < noise.kel_blank + noise.kel_moved:
                code = kel[rng.integers(0, len(kel))]
            kel_out = code if rng.random() < 0.6 else code.replace(".", "")

        kk_out = ""
        if rng.random() < noise.kk_present and r.no_kk:
            kk_out = r.no_kk
            if rng.random() < noise.kk_changed:  # a new KK (the family split): same region, new date and serial
                kk_out = kk_out[:6] + f"{rng.integers(1, 28):02d}{rng.integers(1, 12):02d}25{rng.integers(1, 9999):04d}"
            elif rng.random() < noise.kk_typo:
                p = int(rng.integers(0, 16))
                kk_out = kk_out[:p] + str((int(kk_out[p]) + 1) % 10) + kk_out[p + 1:]
        out.append(dict(nik=nik_out, no_kk=kk_out, nama=nama, jenis_kelamin=sex_out, tanggal_lahir=dob_out,
                        alamat=r.alamat if rng.random() < 0.6 else "",
                        rt=(r.rt if rng.random() > noise.rtrw_changed else f"{rng.integers(1, 40):03d}")
                        if rng.random() < 0.5 else "",
                        rw=(r.rw if rng.random() > noise.rtrw_changed else f"{rng.integers(1, 12):03d}")
                        if rng.random() < 0.5 else "", kode_kelurahan=kel_out,
                        id_art=r.id_art, person_id=r.person_id))
    df = pd.DataFrame(out)
    order = rng.permutation(len(df))
    df = df.iloc[order].reset_index(drop=True)
    df.insert(0, "row_id", [f"R{i:07d}" for i in range(1, len(df) + 1)])
    truth = df[["row_id", "id_art", "person_id"]].copy()
    rows_out = df.drop(columns=["id_art", "person_id"])
    return rows_out, truth


# --- metrics ---------------------------------------------------------------------------------------------------------


def _pairs(counts: pd.Series) -> int:
    c = counts.to_numpy(dtype=np.int64)
    return int((c * (c - 1) // 2).sum())


def score(links: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """The target metrics of LINKS.csv against the truth (both keyed by row_id)."""
    df = truth.merge(links, on="row_id", how="left", suffixes=("_true", ""))
    df["id_art"] = df["id_art"].fillna("").astype(str)
    df["id_art_true"] = df["id_art_true"].fillna("").astype(str)
    linked = df["match_status"] == "linked"
    correct = linked & (df["id_art"] == df["id_art_true"])
    in_registry = df["id_art_true"] != ""
    truth_pairs = _pairs(df.groupby("person_id").size())
    key = df["person_key"].fillna("").astype(str)
    keyed = df[key != ""]
    pred_pairs = _pairs(keyed.groupby("person_key").size())
    both = _pairs(keyed.groupby(["person_key", "person_id"]).size())
    return {
        "rows": int(len(df)),
        "linked": int(linked.sum()),
        "review": int((df["match_status"] == "review").sum()),
        "new": int((df["match_status"] == "new").sum()),
        "precision": float(correct.sum() / linked.sum()) if linked.any() else math.nan,
        "recall": float((correct & in_registry).sum() / in_registry.sum()) if in_registry.any() else math.nan,
        "false_links": int((linked & ~correct).sum()),
        "false_links_new_person": int((linked & ~in_registry).sum()),
        "review_share": float((df["match_status"] == "review").mean()),
        "dup_pairs_true": truth_pairs,
        "dup_pairs_pred": pred_pairs,
        "dup_precision": float(both / pred_pairs) if pred_pairs else math.nan,
        "dup_recall": float(both / truth_pairs) if truth_pairs else math.nan,
    }
