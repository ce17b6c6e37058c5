"""Field-by-field comparison of candidate pairs: one small integer level per field, the input of the scoring model.

Sits between blocking (which proposes pairs) and the model (which weighs the levels). Level 0 always means "one
side is missing" and carries no weight. Every comparison except names is vectorised with numpy; names go through a
token-aware comparator (rapidfuzz for the edit distances) that tells a typo (`rizky`/`rizki`) from a sibling
(`Muhammad Rizki`/`Muhammad Rizal`): tokens both names share are set aside first, then what is left must agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

# Level labels per field, index = level. They are also the words stewards read in the evidence.
LEVELS: dict[str, list[str]] = {
    "nik": ["kosong", "exact", "typo", "typo_serial", "transpose", "rusak_mirip", "serial_beda", "beda", "keluarga",
            "typo_tgl"],
    "nama": ["kosong", "beda", "lemah", "sebagian", "typo2", "subset", "typo", "fonetik", "exact"],
    "tgl_lahir": ["kosong", "exact", "swap", "mirip", "tahun", "beda"],
    "jk": ["kosong", "sama", "beda"],
    "kel": ["kosong", "sama", "kecamatan", "beda"],
    "kk": ["kosong", "sama", "typo", "beda"],
    "rtrw": ["kosong", "sama", "rw", "beda"],
}
FIELDS = list(LEVELS)

# Very common name tokens (phonetic form): sharing only these says little.
COMMON_TOKENS = frozenset(
    "muhamad siti nur ahmad abdul dewi sri putri putra nurul al bin binti mat".split()
)


def _typo2(t: str, s: str) -> bool:
    """Two tokens that are one word typed with two slips (long enough that it is not another name)."""
    if min(len(t), len(s)) < 6:
        return False
    return OSA.distance(t, s, score_cutoff=2) <= 2 or JaroWinkler.similarity(t, s) >= 0.93


def _slip(t: tuple[str, str], s: tuple[str, str]) -> bool:
    """One token typed with a slip: one edit (two in a long token) in the written or the phonetic form."""
    shortest = min(len(t[0]), len(s[0]))
    if shortest < 3:
        return False
    limit = 1 if shortest < 8 else 2
    return (OSA.distance(t[0], s[0], score_cutoff=limit) <= limit
            or OSA.distance(t[1], s[1], score_cutoff=limit) <= limit)


def _typo2(t: tuple[str, str], s: tuple[str, str]) -> bool:
    """Two tokens that are one word typed with two slips (long enough that it is not another name)."""
    if min(len(t[0]), len(s[0])) < 6:
        return False
    return (OSA.distance(t[0], s[0], score_cutoff=2) <= 2 or OSA.distance(t[1], s[1], score_cutoff=2) <= 2
            or JaroWinkler.similarity(t[0], s[0]) >= 0.93)


def name_level(a: str, b: str, pa: str, pb: str) -> int:
    """Level of two normalised names `a`, `b` with phonetic forms `pa`, `pb` (see LEVELS['nama']).

    8 exact; 7 same sound, order or spacing; 6 every token agrees up to one slip; 5 one name is the other plus
    tokens (a dropped middle name); 4 every token agrees up to two slips in a long token; 3 an informative token
    shared, another different (what relatives look like); 2 only a common token (Muhammad, Siti, Nur) shared;
    1 nothing in common.
    """
    if not a or not b:
        return 0
    if a == b:
        return 8
    if pa == pb or pa.replace(" ", "") == pb.replace(" ", ""):
        return 7
    wa, wb, fa, fb = a.split(" "), b.split(" "), pa.split(" "), pb.split(" ")
    # Token pairs (written, phonetic); the phonetic form has as many tokens as the written one.
    ta = list(zip(wa, fa, strict=True)) if len(wa) == len(fa) else [(x, x) for x in fa]
    tb = list(zip(wb, fb, strict=True)) if len(wb) == len(fb) else [(x, x) for x in fb]
    if sorted(x[1] for x in ta) == sorted(x[1] for x in tb):
        return 7
    ra = list(ta)
    rb = []
    informative = False
    matched = 0
    for t in tb:
        hit = next((k for k, s in enumerate(ra) if s[1] == t[1]), -1)
        if hit >= 0:
            del ra[hit]
            matched += 1
            informative |= t[1] not in COMMON_TOKENS
        else:
            rb.append(t)
    initials = 0
    if ra and rb:
        left = []
        for t in rb:
            hit = -1
            for k, s in enumerate(ra):
                if len(t[0]) == 1 or len(s[0]) == 1:
                    if t[0][0] == s[0][0]:
                        hit = k
                        initials += 1
                        break
                    continue
                if _slip(t, s):
                    hit = k
                    informative |= t[1] not in COMMON_TOKENS
                    break
            if hit >= 0:
                del ra[hit]
                matched += 1
            else:
                left.append(t)
        rb = left
    if not ra and not rb:
        return 6 if not initials else 5
    if not ra or not rb:
        return 5 if informative else 2
    if len(ra) == len(rb) and all(_typo2(t, s) for t, s in zip(sorted(ra), sorted(rb), strict=True)):
        return 4
    # What is left may be one word split differently ("nurhayati" / "nur hayti"): compare it run together.
    ca, cb = "".join(t[0] for t in ra), "".join(t[0] for t in rb)
    if min(len(ca), len(cb)) >= 8 and OSA.distance(ca, cb, score_cutoff=3) <= 2:
        return 4
    if informative:
        return 3
    return 2 if matched else 1


def name_levels(a: np.ndarray, b: np.ndarray, pa: np.ndarray, pb: np.ndarray) -> np.ndarray:
    return np.fromiter((name_level(*t) for t in zip(a, b, pa, pb, strict=True)), dtype=np.int8, count=len(a))


def name_similarity(a: str, b: str) -> float:
    """0..1 similarity of two normalised names, shown in the evidence (`nama=0.96`)."""
    if not a or not b:
        return 0.0
    from rapidfuzz import fuzz

    return round(fuzz.token_sort_ratio(a, b) / 100.0, 2)


_POW10 = 10 ** np.arange(0, 19, dtype=np.int64)


def _single_digit(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For positive integers d: is d = k * 10**p with one non-zero digit k, and p (0 = units)."""
    p = np.floor(np.log10(np.maximum(d, 1).astype(np.float64))).astype(np.int64)
    ok = np.zeros(len(d), dtype=bool)
    found = np.zeros(len(d), dtype=np.int64)
    for shift in (-1, 0, 1):  # float log10 may be off by one near powers of ten
        q = np.clip(p + shift, 0, 18)
        base = _POW10[q]
        hit = ~ok & (d % base == 0) & (d // base >= 1) & (d // base <= 9)
        ok |= hit
        found = np.where(hit, q, found)
    return ok, found


def nik_levels(na: np.ndarray, nb: np.ndarray, near_a: np.ndarray | None = None) -> np.ndarray:
    """NIK level of pairs (int64 NIKs, 0 = none). `near_a`: damaged digit strings of side a (15/17 digits).

    Integer arithmetic instead of digit strings: one substituted digit leaves a difference k * 10**p; two adjacent
    digits swapped leave (x - y) * 9 * 10**p."""
    out = np.zeros(len(na), dtype=np.int8)
    both = (na > 0) & (nb > 0)
    exact = both & (na == nb)
    out[exact] = 1
    rest = np.flatnonzero(both & ~exact)
    if len(rest):
        a_all, b_all = na[rest], nb[rest]
        d = np.abs(a_all - b_all)
        level = np.full(len(rest), 7, dtype=np.int8)
        one, p = _single_digit(d)
        # Confirm: putting b's digit p into a gives b (a numeric difference of 9 may also be a carry: 0001/0010).
        base = _POW10[p]
        one &= a_all + ((b_all // base) % 10 - (a_all // base) % 10) * base == b_all
        level[one & (p >= 4)] = 2
        level[one & (p < 4)] = 3
        # A slip in the birth-date digits (DDMMYY: positions 4..9 from the right) is its own level: there the NIK
        # does not vouch for the birth date, the stated one does.
        level[one & (p >= 4) & (p <= 9)] = 9
        nine = ~one & (d % 9 == 0)
        if nine.any():
            idx = np.flatnonzero(nine)
            two, q = _single_digit(d[idx] // 9)
            # Confirm a real adjacent swap: exchanging digits q and q+1 of one side gives the other.
            a, b = na[rest][idx], nb[rest][idx]
            lo = (a // _POW10[q]) % 10
            hi = (a // _POW10[np.minimum(q + 1, 18)]) % 10
            swapped = a + (hi - lo) * _POW10[q] + (lo - hi) * _POW10[np.minimum(q + 1, 18)]
            is_swap = two & (swapped == b) & (q <= 14)
            level[idx[is_swap]] = np.where((q[is_swap] >= 3) & (q[is_swap] <= 9), 9, 4)
        same12 = (na[rest] // 10000) == (nb[rest] // 10000)
        level[(level == 7) & same12] = 6
        out[rest] = level
    if near_a is not None:
        cand = np.flatnonzero((nb > 0) & (out == 0) & (near_a != ""))
        for i in cand:
            out[i] = 5 if Levenshtein.distance(near_a[i], str(nb[i]), score_cutoff=2) <= 1 else 7
    return out


def dob_levels(da: np.ndarray, db: np.ndarray) -> np.ndarray:
    out = np.zeros(len(da), dtype=np.int8)
    both = (da > 0) & (db > 0)
    ya, ma, dd_a = da // 10000, (da // 100) % 100, da % 100
    yb, mb, dd_b = db // 10000, (db // 100) % 100, db % 100
    exact = both & (da == db)
    swap = both & ~exact & (ya == yb) & (ma == dd_b) & (dd_a == mb)
    dy = np.abs(ya - yb)
    year_digit = ((ya // 10) == (yb // 10)) | ((ya % 10) == (yb % 10))
    near = both & ~exact & ~swap & (
        ((ya == yb) & (ma == mb) & (np.abs(dd_a - dd_b) <= 3))
        | ((ma == mb) & (dd_a == dd_b) & ((dy == 1) | (dy == 10) | year_digit))
        | ((ya == yb) & (dd_a == dd_b))
    )
    year = both & ~exact & ~swap & ~near & (dy <= 1)
    out[both] = 5
    out[year] = 4
    out[near] = 3
    out[swap] = 2
    out[exact] = 1
    return out


def name_levels_fast(na: np.ndarray, nb: np.ndarray, pa: np.ndarray, pb: np.ndarray) -> np.ndarray:
    """`name_levels` with the common cases (missing, identical, same sound) settled without the Python loop."""
    level = np.zeros(len(na), dtype=np.int8)
    present = (na != "") & (nb != "")
    same = present & (na == nb)
    level[same] = 8
    sound = present & ~same & (pa == pb)
    level[sound] = 7
    todo = np.flatnonzero(present & ~same & ~sound)
    if len(todo):
        level[todo] = name_levels(na[todo], nb[todo], pa[todo], pb[todo])
    return level


def compare_pairs(a: pd.DataFrame, b: pd.DataFrame, ia: np.ndarray, ib: np.ndarray,
                  *, names: bool | np.ndarray = True) -> dict[str, np.ndarray]:
    """Levels for pairs (a.iloc[ia], b.iloc[ib]) of prepared records. `names` may be a mask: names are compared
    only where it is True (level 1 'beda' elsewhere), so hopeless pairs skip the costly part."""
    out: dict[str, np.ndarray] = {}
    near = a["nik_near"].to_numpy(dtype=object)[ia] if "nik_near" in a else None
    out["nik"] = nik_levels(a["nik_any"].to_numpy()[ia], b["nik_any"].to_numpy()[ib], near)
    da, db = a["dob"].to_numpy()[ia], b["dob"].to_numpy()[ib]
    out["tgl_lahir"] = dob_levels(da, db)
    # A NIK that differs only in its birth-date digits is no slip when the row's own stated birth date says the
    # same as its NIK and not the registry's: that is another person born on another day (same kecamatan, same
    # serial), common where serials run high.
    own = a["nik_dob"].to_numpy()[ia]
    other_day = (out["nik"] == 9) & (da > 0) & (own == da) & (da != db)
    out["nik"][other_day] = 7
    sa, sb = a["sex"].to_numpy()[ia], b["sex"].to_numpy()[ib]
    out["jk"] = np.where((sa == 0) | (sb == 0), 0, np.where(sa == sb, 1, 2)).astype(np.int8)
    ka, kb = a["kel_i"].to_numpy()[ia], b["kel_i"].to_numpy()[ib]
    out["kel"] = np.where((ka == 0) | (kb == 0), 0,
                          np.where(ka == kb, 1, np.where(ka // 10000 == kb // 10000, 2, 3))).astype(np.int8)
    kka, kkb = a["kk"].to_numpy()[ia], b["kk"].to_numpy()[ib]
    kk = np.where((kka == 0) | (kkb == 0), 0, np.where(kka == kkb, 1, 3)).astype(np.int8)
    maybe = np.flatnonzero(kk == 3)
    if len(maybe):
        one, _ = _single_digit(np.abs(kka[maybe] - kkb[maybe]))
        kk[maybe[one]] = 2
    out["kk"] = kk
    rta, rtb = a["rt"].to_numpy()[ia], b["rt"].to_numpy()[ib]
    rwa, rwb = a["rw"].to_numpy()[ia], b["rw"].to_numpy()[ib]
    rw_known = (rwa > 0) & (rwb > 0)
    rt_same = (rta > 0) & (rta == rtb)
    out["rtrw"] = np.where(~rw_known, 0, np.where(rwa == rwb, np.where(rt_same, 1, 2), 3)).astype(np.int8)
    # RT/RW only mean something inside the same kelurahan.
    out["rtrw"][out["kel"] != 1] = 0
    name_a, name_b = a["name"].to_numpy(dtype=object), b["name"].to_numpy(dtype=object)
    ph_a, ph_b = a["name_ph"].to_numpy(dtype=object), b["name_ph"].to_numpy(dtype=object)
    if names is True:
        out["nama"] = name_levels_fast(name_a[ia], name_b[ib], ph_a[ia], ph_b[ib])
    else:
        level = np.ones(len(ia), dtype=np.int8)
        todo = np.flatnonzero(np.asarray(names))
        if len(todo):
            level[todo] = name_levels_fast(name_a[ia[todo]], name_b[ib[todo]], ph_a[ia[todo]], ph_b[ib[todo]])
        missing = (name_a[ia] == "") | (name_b[ib] == "")
        level[missing] = 0
        out["nama"] = level
    return out


def pack(levels: dict[str, np.ndarray]) -> np.ndarray:
    """All field levels of a pair in one integer (one decimal digit per field, FIELDS order)."""
    code = np.zeros(len(levels[FIELDS[0]]), dtype=np.int64)
    for f in FIELDS:
        code = code * 10 + levels[f]
    return code


def unpack(code: np.ndarray) -> dict[str, np.ndarray]:
    out = {}
    for f in reversed(FIELDS):
        out[f] = (code % 10).astype(np.int8)
        code = code // 10
    return {f: out[f] for f in FIELDS}


def code_text(code: int) -> str:
    """'1811100' style: the level digits in FIELDS order (what evidence strings are built from)."""
    return str(int(code)).zfill(len(FIELDS))
