"""Names for synthetic Kota Jambi: who people are called, and how OPD officers type those names.

Registry names are upper case, as DTKS/DTSEN delivers them. Pools: Faker's `id_ID` provider (Javanese, Sundanese and
Batak names, common across Sumatra), Jambi Malay names (the `Mat` diminutive, the Kemas/Nyimas and Raden lines of the
old Jambi sultanate), Arabic-derived names (Muhammad, Ahmad, Abdul ..., Siti, Nur ...) and the Hadhrami families of
Seberang Kota (Sayid/Syarifah Al-Jufri, Assegaf ...). `bin`/`binti` + the father's name appear as in real records.

`make_names` builds a whole population at once with numpy; `name_variant` and `name_typo` are the row-level mess the
submission files carry (Muhammad/M./Mhd, Kemas/Kms., titles H./Hj./Drs., bin/binti dropped, old spelling dj/j, oe/u).
"""

from __future__ import annotations

import re

import numpy as np

STYLES = ("jawa", "islam", "melayu", "arab")

MALE_ARABIC = """AHMAD ABDULLAH HASAN HUSIN ISMAIL YUSUF ZAINAL SYAMSUL FAUZI RAHMAT ARIFIN ZULKIFLI HARUN IDRUS
JAFAR KADIR LUKMAN MAHMUD NASIR RIDWAN SALIM SYAFII UMAR USMAN YAHYA ZAKARIA HAMZAH ILYAS IBRAHIM ISHAK MUSTAFA
RASYID SULAIMAN TAUFIK HAMID FAISAL FIKRI HAFIZ RIZKI FAJAR ALI AMIR ANWAR BAHRUN HASYIM JAMALUDDIN KAMALUDDIN
NURDIN SAIFUDDIN SYAHRUL ZULFIKAR MA'RUF SYARIFUDDIN YASIN SALEH SOFYAN HUSAINI MUKHLIS ARSYAD IMRAN""".split()
ABDUL_SUFFIX = "RAHMAN RAHIM MANAF HALIM KARIM AZIZ GANI MALIK HAMID JALIL LATIF WAHAB ROZAK SOMAD MUIS".split()
FEMALE_ARABIC = """AISYAH FATIMAH KHADIJAH ZAINAB HALIMAH MAIMUNAH ZUBAIDAH RUKIAH SALMAH MARYAM HAFSAH ROHANI RAHMAH
SAFIAH ZULAIKHA NUR'AINI AMINAH HABIBAH JAMILAH KHAIRUNNISA LATIFAH MUNIRAH NAFISAH RAHMAWATI SA'DIAH UMMI ZAHRA
NABILA AZIZAH FITRIANI HUSNUL MARDIAH SYAHIDAH HUSNA""".split()
NUR_FORMS = """NURHAYATI NURJANAH NURLAILA NURAZIZAH NURHASANAH NURBAYA NURMAWATI NURHALIMAH NURFADILAH""".split()
NURUL_SUFFIX = "HUDA AINI FITRI HIDAYAH JANNAH KHOTIMAH".split()
MALAY_MALE = """AZHAR SYAHRIAL DARMAWAN HENDRI RUSLI NASRUDDIN SYAFRIZAL HERMAN ROZALI RAMLI DAUD HASBI BAKAR SAMAN
ZULHELMI AFRIZAL ASWANDI BUSTAMI EFENDI FIRDAUS HAIRUL IRWANSYAH JUNAIDI KHAIRUL MASRUL NAZARUDDIN YUSRIZAL
ZULKARNAIN SUDIRMAN JUFRI TARMIZI UJANG DAHLAN JOHAN ASRUL BAHARUDDIN HASAN ROSLAN JAMIL AMRAN MUCHTAR""".split()
MAT_NAMES = "DAUD SAMAN ALI YASIN SALEH ROSLI JUSOH AMIN DIN ISA NOH SUPIAN".split()
MALAY_FEMALE = """ROSMALA ROSMIATI NURLELA YUSNIDAR ERMAWATI ZURAIDAH ROHAYA ASNIDAR DELIMA ERNAWATI FAUZIAH HAYATI
JUWITA KAMSIAH LASMINI MARLINA NURMALA ROSNAH SAMSIAH YUSNIAR ZUBAEDAH ASIAH RATNA MELATI DEWI KARTINI YULIANA NELLY
ROSDIANA JUMIATI SURYANI MASNAH SITI""".split()
ARAB_FAMILIES = "AL-JUFRI AL-HABSYI ASSEGAF AL-KAFF BARAQBAH AL-HADDAD ALAYDRUS BAFADHAL AL-MASYHUR ALATAS".split()


def _faker_pools() -> tuple[list[str], list[str], list[str], list[str]]:
    from faker.providers.person.id_ID import Provider

    up = lambda seq: sorted({s.upper() for s in seq})  # noqa: E731 - sorted: stable across Faker releases' order
    return (up(Provider.first_names_male), up(Provider.first_names_female),
            up(Provider.last_names_male), up(Provider.last_names_female))


_POOLS: dict | None = None


def pools() -> dict:
    global _POOLS
    if _POOLS is None:
        fm, ff, lm, lf = _faker_pools()
        _POOLS = {
            "faker_m": np.array(fm), "faker_f": np.array(ff), "last_m": np.array(lm), "last_f": np.array(lf),
            "ar_m": np.array(MALE_ARABIC), "abdul": np.array(ABDUL_SUFFIX), "ar_f": np.array(FEMALE_ARABIC),
            "nur": np.array(NUR_FORMS), "nurul": np.array(NURUL_SUFFIX), "my_m": np.array(MALAY_MALE),
            "mat": np.array(MAT_NAMES), "my_f": np.array(MALAY_FEMALE), "fam": np.array(ARAB_FAMILIES),
        }
    return _POOLS


def _pick(rng: np.random.Generator, pool: np.ndarray, n: int) -> np.ndarray:
    return pool[rng.integers(0, len(pool), n)].astype(object)


def make_names(rng: np.random.Generator, female: np.ndarray, style: np.ndarray, noble: np.ndarray,
               family: np.ndarray, father: np.ndarray, older: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Names for n people at once. `style` in STYLES; `noble` marks Kemas/Nyimas (melayu), Raden (jawa) lines;
    `family` is the Hadhrami family name (arab); `father` a male given name for the bin/binti form ('' = none);
    `older` (born before ~1975) makes `Mat` and bin/binti more frequent.
    Returns (full name, core given name) where the core is what children use after bin/binti."""
    n = len(female)
    full = np.empty(n, dtype=object)
    core = np.empty(n, dtype=object)
    for sty in STYLES:
        for fem in (False, True):
            idx = np.flatnonzero((style == sty) & (female == fem))
            if len(idx):
                full[idx], core[idx] = _names_of(rng, sty, fem, len(idx), noble[idx], family[idx], older[idx])
    # bin / binti + father's name (Malay and Muslim records)
    binform = ((style == "islam") | (style == "melayu")) & (father != "") & (
        rng.random(n) < np.where(older, 0.3, 0.15))
    idx = np.flatnonzero(binform)
    full[idx] = full[idx] + np.where(female[idx], " BINTI ", " BIN ") + father[idx]
    return full, core


def _names_of(rng, style: str, female: bool, n: int, noble, family, older) -> tuple[np.ndarray, np.ndarray]:
    p = pools()
    r = rng.random((3, n))
    if style == "jawa":
        core = _pick(rng, p["faker_f" if female else "faker_m"], n)
        last = _pick(rng, p["last_f" if female else "last_m"], n)
        full = np.where(r[0] < 0.55, core + " " + last, core)
        if female:
            full = np.where(r[1] < 0.15, "SRI " + full, full)
        else:
            full = np.where(noble, "RADEN " + full, full)
        return full, core
    if style == "islam":
        core = _pick(rng, p["ar_f" if female else "ar_m"], n)
        if female:
            full = np.select([r[0] < 0.33, r[0] < 0.48, r[0] < 0.58],
                             ["SITI " + core, _pick(rng, p["nur"], n), "NURUL " + _pick(rng, p["nurul"], n)], core)
            return full, core
        abdul = "ABDUL " + _pick(rng, p["abdul"], n)
        full = np.select([r[0] < 0.35, r[0] < 0.47, r[0] < 0.60, r[0] < 0.80],
                         ["MUHAMMAD " + core, "AHMAD " + core, abdul, core + " " + _pick(rng, p["ar_m"], n)], core)
        return full, np.where((r[0] >= 0.47) & (r[0] < 0.60), abdul, core)
    if style == "melayu":
        core = _pick(rng, p["my_f" if female else "my_m"], n)
        if female:
            full = np.where((r[0] < 0.25) & (core != "SITI"), "SITI " + core, core)
            return np.where(noble, "NYIMAS " + full, full), core
        mat = "MAT " + _pick(rng, p["mat"], n)
        full = np.where(r[0] < np.where(older, 0.22, 0.06), mat, np.where(r[1] < 0.3, "MUHAMMAD " + core, core))
        return np.where(noble, "KEMAS " + full, full), core
    # Hadhrami families (Seberang Kota: Arab Melayu, Tahtul Yaman ...)
    core = _pick(rng, p["ar_f" if female else "ar_m"], n)
    return ("SYARIFAH " if female else "SAYID ") + core + " " + family, core


# --- Row-level variants: how names come back in OPD files ------------------------------------------------------

_MUHAMMAD = ["M.", "MHD", "MHD.", "MUHAMAD", "MOHAMMAD", "MOH.", "MUH.", "M"]
_SWAPS = [
    (r"\bMUHAMMAD\b", _MUHAMMAD),
    (r"\bKEMAS\b", ["KMS.", "KMS", "KM."]),
    (r"\bNYIMAS\b", ["NYI.", "NY.", "NYIMAS."]),
    (r"\bSAYID\b", ["SAID", "SYED", "SY.", "SAYYID"]),
    (r"\bSYARIFAH\b", ["SY.", "SYARIFA", "SYARIFAH."]),
    (r"\bRADEN\b", ["R.", "RD."]),
    (r"\bABDUL\b", ["ABD.", "ABD", "ABDUL."]),
    (r"\bAHMAD\b", ["ACHMAD", "AHMAD.", "AKHMAD"]),
    (r"\bSITI\b", ["STI", "ST."]),
    (r"\bNUR", ["NOER", "NOR"]),
    (r"\bBIN\b", ["B.", "BN"]),
    (r"\bBINTI\b", ["BT.", "BINTI."]),
]
_OLD_SPELLING = [(r"\bJ(?=[AIUEO])", "DJ"), (r"U", "OE"), (r"\bY(?=[AIUEO])", "J"), (r"C(?=[AIUEO])", "TJ")]
_TITLES_M = ["H. ", "DRS. ", "IR. ", "HAJI "]
_TITLES_F = ["HJ. ", "DRA. ", "HJ "]
_SUFFIX_TITLES = [", S.PD", ", S.E", ", S.H", " S.SOS", ", A.MD"]


def name_variant(name: str, female: bool, rng: np.random.Generator) -> str:
    """One believable rewrite of `name`: an abbreviation, a title, bin/binti dropped, old spelling, a middle name
    dropped. Falls back to a typo when nothing applies."""
    options = []
    for pattern, repl in _SWAPS:
        if re.search(pattern, name):
            options.append(("swap", pattern, repl))
    if re.search(r"\s(BIN|BINTI)\s", name):
        options.append(("drop_bin", None, None))
    for pattern, repl in _OLD_SPELLING:
        if re.search(pattern, name):
            options.append(("old", pattern, repl))
    options.append(("title", None, None))
    if name.count(" ") >= 2 and " BIN" not in name:
        options.append(("drop_last", None, None))
    kind, pattern, repl = options[int(rng.integers(0, len(options)))]
    if kind == "swap":
        return re.sub(pattern, repl[int(rng.integers(0, len(repl)))], name, count=1)
    if kind == "drop_bin":
        return re.split(r"\s(?:BIN|BINTI)\s", name)[0]
    if kind == "old":
        return re.sub(pattern, repl, name, count=1)
    if kind == "drop_last":
        return name.rsplit(" ", 1)[0]
    if rng.random() < 0.7:
        titles = _TITLES_F if female else _TITLES_M
        return titles[int(rng.integers(0, len(titles)))] + name
    return name + _SUFFIX_TITLES[int(rng.integers(0, len(_SUFFIX_TITLES)))]


def name_typo(name: str, rng: np.random.Generator) -> str:
    """A keyboard slip: two letters swapped, one dropped, doubled or replaced by its neighbour."""
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    if len(letters) < 4:
        return name + name[-1:]
    i = letters[int(rng.integers(1, len(letters) - 1))]
    kind = int(rng.integers(0, 4))
    if kind == 0 and i + 1 < len(name) and name[i + 1].isalpha():
        return name[:i] + name[i + 1] + name[i] + name[i + 2:]
    if kind == 1:
        return name[:i] + name[i + 1:]
    if kind == 2:
        return name[:i] + name[i] + name[i:]
    near = {"A": "S", "I": "U", "U": "Y", "E": "R", "O": "P", "N": "M", "M": "N", "H": "J", "S": "A", "R": "T"}
    return name[:i] + near.get(name[i], "A") + name[i + 1:]


