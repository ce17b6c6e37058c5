"""The matcher itself, on prepared frames and without a database: the part the monthly run, the CLI contract
(`tkpk link --registry ... --submission ...`) and the benchmark share.

1. `exact_nik_pass`: a valid NIK found in the registry, with an agreeing name (or a partly agreeing name and birth
   date), and no relative in that household whose name fits the row better (the family guard) -> linked.
2. `score_candidates`: for the other rows, candidate registry persons from several blocking keys (NIK pieces, birth
   date with kelurahan or a name token, No KK, phonetic name with kecamatan, ...), field levels
   (`tkpk.linkage.compare`), a Fellegi-Sunter score (`tkpk.linkage.model`); keeps each row's best few candidates.
   Runs per partition (kecamatan of the registry household) or on the whole registry: the kept candidates are the
   same either way, because no step looks at anything beyond the pair and its household.
3. `decide`: the best candidate across partitions; `linked` when probable enough, a margin above the runner-up and
   no relative in the household beating it once the NIK is set aside; `review` when uncertain; else `new`.
   A steward's stored decision wins.
4. `cluster_rows`: the same person within the month and across OPDs gets one `person_key`: the registry id_art for
   linked rows, a stable key derived from a fingerprint otherwise.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tkpk.linkage.compare import (
    COMMON_TOKENS,
    FIELDS,
    LEVELS,
    code_text,
    compare_pairs,
    name_levels_fast,
    pack,
    unpack,
)
from tkpk.linkage.model import Model

TOP_K = 3
_MIX = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class Context:
    """What scoring needs to know about the whole registry (not just a partition): its size, for the prior, and
    how often each (phonetic) name occurs, for the term-frequency adjustment."""

    n_registry: int
    name_counts: pd.Series  # index: phonetic name, value: persons with that name
    prior_bits: float

    @classmethod
    def build(cls, model: Model, name_ph: pd.Series, n_registry: int | None = None,
              registry: pd.DataFrame | None = None) -> Context:
        """From the registry's phonetic names; with `registry` (the frame those names came from) its name_u
        column is filled on the way."""
        values = name_ph.to_numpy(dtype=object)
        codes, uniques = pd.factorize(values)
        per_code = np.bincount(codes[codes >= 0], minlength=len(uniques))
        counts = pd.Series(per_code, index=uniques)
        counts = counts[counts.index != ""]
        n = int(n_registry if n_registry is not None else len(name_ph))
        if registry is not None:
            c = np.where(codes >= 0, per_code[np.maximum(codes, 0)] if len(per_code) else 1, 1)
            registry["name_u"] = np.maximum(c, 1) / max(n, 1)
        return cls(n_registry=n, name_counts=counts, prior_bits=model.prior_bits(n))

    @property
    def min_name_u(self) -> float:
        return 1.0 / max(self.n_registry, 1)

    def name_u(self, name_ph: pd.Series) -> np.ndarray:
        """Share of registry persons carrying each name (at least one person's share)."""
        pos = self.name_counts.index.get_indexer(name_ph.to_numpy(dtype=object))
        values = self.name_counts.to_numpy(dtype=float)
        c = np.where(pos >= 0, values[np.maximum(pos, 0)] if len(values) else 1.0, 1.0)
        return np.maximum(c, 1.0) / max(self.n_registry, 1)


def with_name_u(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    df["name_u"] = ctx.name_u(df["name_ph"])
    return df


# --- blocking ----------------------------------------------------------------------------------------------------


def _hash(values: pd.Series) -> np.ndarray:
    """A 64-bit hash per value (0 for ''), equal values equal hashes across frames; each distinct value hashed once."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = getattr(values.array, "_pa_array", None)
    if arr is None:
        arr = pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    enc = pc.dictionary_encode(arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr)
    uniq = enc.dictionary.to_numpy(zero_copy_only=False)
    hashed = pd.util.hash_array(uniq.astype(object)).astype(np.uint64) if len(uniq) else np.zeros(0, np.uint64)
    hashed[uniq == ""] = 0
    idx = enc.indices.to_numpy(zero_copy_only=False)
    out = hashed[np.nan_to_num(idx, nan=0).astype(np.int64)] if len(hashed) else np.zeros(len(idx), np.uint64)
    if enc.indices.null_count:
        out[pc.is_null(enc.indices).to_numpy(zero_copy_only=False)] = 0
    return out


def _comb(*parts: np.ndarray) -> np.ndarray:
    """Combine key parts; 0 (no key) when any part is 0."""
    out = np.zeros(len(parts[0]), dtype=np.uint64)
    ok = np.ones(len(parts[0]), dtype=bool)
    with np.errstate(over="ignore"):
        for p in parts:
            p = p.astype(np.uint64)
            ok &= p != 0
            out = out * _MIX + p + np.uint64(1)
    out[~ok] = 0
    out[out == 0] = 1
    out[~ok] = 0
    return out


def _swap_dob(dob: np.ndarray) -> np.ndarray:
    y, m, d = dob // 10000, (dob // 100) % 100, dob % 100
    ok = (dob > 0) & (d <= 12) & (d != m)
    return np.where(ok, y * 10000 + d * 100 + m, 0)


def _near(near: pd.Series, head: bool) -> np.ndarray:
    s = near.where(near.str.len().isin([15, 17]), "")
    part = s.str.slice(0, 12) if head else s.str.slice(-10)
    return pd.to_numeric(part.where(part != "", None), errors="coerce").fillna(0).to_numpy(dtype=np.uint64)


def mark_family_nik(levels: dict[str, np.ndarray], rows: pd.DataFrame, reg: pd.DataFrame, ri: np.ndarray,
                    gi: np.ndarray) -> None:
    """NIK level 'keluarga': the row's NIK is not the candidate's but another member's of the candidate's household
    (the head's NIK typed for the whole family is a common slip)."""
    todo = np.flatnonzero(levels["nik"] == 7)
    if not len(todo):
        return
    # Who in this registry (partition) owns each row's NIK, and in which household.
    owner_r, owner_g = _join(rows["nik_any"].to_numpy().astype(np.uint64), reg["nik_any"].to_numpy().astype(np.uint64))
    if not len(owner_r):
        return
    fam = reg["id_keluarga"].array
    both = np.concatenate([owner_g, gi[todo]])
    codes, _ = pd.factorize(np.asarray(fam.take(both), dtype=object))
    owned = owner_r.astype(np.int64) * np.int64(1 << 32) + codes[:len(owner_g)]
    asked = ri[todo].astype(np.int64) * np.int64(1 << 32) + codes[len(owner_g):]
    hit = pd.Series(asked).isin(owned).to_numpy()
    levels["nik"][todo[hit]] = 8


def block_keys(df: pd.DataFrame, side: str) -> dict[str, np.ndarray]:
    """Blocking keys of prepared records; `side` is 'row' (submitted) or 'reg' (registry).

    A pair is a candidate when it shares any key. Every key is narrow (a NIK piece, a birth date or a name with a
    place), so no block is large and no key needs a size cap that would depend on the partition."""
    nik = df["nik_any"].to_numpy().astype(np.uint64)
    dob = df["dob"].to_numpy().astype(np.uint64)
    f1, fl, full = _hash(df["f1"]), _hash(df["fl"]), _hash(df["name_ph"])
    f12 = _hash(df["f12"])
    skel = _hash(df["skel"])
    two_tokens = (df["f1"] != df["fl"]).to_numpy()
    kel = df["kel_i"].to_numpy().astype(np.uint64)
    kec = kel // np.uint64(10000)
    year = dob // np.uint64(10000)
    has = nik > 0
    head8 = np.where(has, nik // np.uint64(10**8), 0).astype(np.uint64)
    tail8 = np.where(has, nik % np.uint64(10**8) + np.uint64(1), 0).astype(np.uint64)
    keys = {
        "nik": df["nik"].to_numpy().astype(np.uint64),
        "nik12": nik // np.uint64(10000),
        "niktail": np.where(has, nik % np.uint64(10**10), 0).astype(np.uint64),
        # One slip anywhere in a NIK leaves one half intact; with a name token the block stays small.
        "head8_full": _comb(head8, full),
        "tail8_full": _comb(tail8, full),
        "head8_fl": _comb(head8, fl),
        "tail8_fl": _comb(tail8, fl),
        "dob_kel": _comb(dob, kel),
        "dob_f1": _comb(dob, f1),
        "dob_fl": _comb(dob, fl),
        "kk": df["kk"].to_numpy().astype(np.uint64),
        "name_kec": _comb(full, kec),
        "f12_kec": _comb(f12, kec),
        "skel_kel": _comb(skel, kel),
        "f1fl_year": np.where(two_tokens, _comb(f1, fl, year), 0).astype(np.uint64),
    }
    keys["dob_skel"] = _comb(dob, skel)
    # Rows with neither NIK nor birth date: the first or last name (when not a common one) within the kelurahan.
    sparse = (nik == 0) & (dob == 0)
    rare_f1 = ~df["f1"].isin(COMMON_TOKENS).to_numpy()
    rare_fl = ~df["fl"].isin(COMMON_TOKENS).to_numpy()
    if side == "row":
        keys["f1_kel"] = np.where(sparse & rare_f1, _comb(f1, kel), 0).astype(np.uint64)
        keys["fl_kel"] = np.where(sparse & rare_fl, _comb(fl, kel), 0).astype(np.uint64)
        swapped = _swap_dob(df["dob"].to_numpy()).astype(np.uint64)
        keys["swap_kel"] = _comb(swapped, kel)
        keys["swap_fl"] = _comb(swapped, fl)
        keys["swap_f1"] = _comb(swapped, f1)
        nik_dob = df["nik_dob"].to_numpy()
        keys["nikdob_f1"] = _comb(np.where(nik_dob != df["dob"].to_numpy(), nik_dob, 0).astype(np.uint64), f1)
        keys["near12"] = _near(df["nik_near"], head=True)
        keys["neartail"] = _near(df["nik_near"], head=False)
    else:
        keys["f1_kel"] = _comb(f1, kel)
        keys["fl_kel"] = _comb(fl, kel)
        keys["swap_kel"] = keys["dob_kel"]
        keys["swap_fl"] = keys["dob_fl"]
        keys["swap_f1"] = keys["dob_f1"]
        keys["nikdob_f1"] = keys["dob_f1"]
        keys["near12"] = keys["nik12"]
        keys["neartail"] = keys["niktail"]
    return keys


def _join(rk: np.ndarray, gk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j) with rk[i] == gk[j] != 0: keep the registry keys that occur among the rows (hash lookup), sort
    those few, and expand each row's range."""
    ri = np.flatnonzero(rk)
    if not len(ri):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    wanted = pd.unique(rk[ri])
    gi = np.flatnonzero(pd.Series(gk, copy=False).isin(wanted).to_numpy() & (gk != 0))
    if not len(gi):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    order = np.argsort(gk[gi], kind="stable")
    g_sorted = gi[order]
    keys = gk[g_sorted]
    lo = np.searchsorted(keys, rk[ri], "left")
    hi = np.searchsorted(keys, rk[ri], "right")
    counts = hi - lo
    total = int(counts.sum())
    rows = np.repeat(ri, counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    return rows.astype(np.int64), g_sorted[np.repeat(lo, counts) + offsets].astype(np.int64)


def candidate_pairs(row_keys: dict[str, np.ndarray], reg_keys: dict[str, np.ndarray], *,
                    skip: tuple[str, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (row index, registry index) pairs sharing at least one blocking key. Row keys that meet the same
    registry key array (a swapped birth date looks up the registry's plain one) are joined in one pass."""
    groups: dict[int, tuple[np.ndarray, list[np.ndarray]]] = {}
    for name in row_keys:
        if name in skip or not row_keys[name].any():
            continue
        target = reg_keys[name]
        groups.setdefault(id(target), (target, []))[1].append(row_keys[name])
    parts_r, parts_g = [], []
    for target, sources in groups.values():
        n = len(sources[0])
        rk = np.concatenate(sources)
        r, g = _join(rk, target)
        parts_r.append(r % n)
        parts_g.append(g)
    if not parts_r:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    r = np.concatenate(parts_r)
    g = np.concatenate(parts_g)
    pair = np.unique(r.astype(np.int64) * np.int64(1 << 31) + g)
    return pair // np.int64(1 << 31), pair % np.int64(1 << 31)


# --- 1. the exact-NIK pass -------------------------------------------------------------------------------------------


def _members(reg: pd.DataFrame, gi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each index in `gi`, the other members of its registry household: (position in gi, member index)."""
    fam = reg["id_keluarga"].to_numpy(dtype=object)
    wanted = pd.DataFrame({"pos": np.arange(len(gi)), "fam": fam[gi], "self": gi})
    everyone = pd.DataFrame({"fam": fam, "member": np.arange(len(reg))})
    everyone = everyone[everyone["fam"].isin(wanted["fam"])]
    m = wanted.merge(everyone, on="fam")
    m = m[m["member"] != m["self"]]
    return m["pos"].to_numpy(np.int64), m["member"].to_numpy(np.int64)


def exact_nik_pass(rows: pd.DataFrame, reg: pd.DataFrame, model: Model, ctx: Context) -> pd.DataFrame:
    """Rows linked by a valid NIK found in the registry (columns as `score_candidates`)."""
    ri, gi = _join(rows["nik"].to_numpy().astype(np.uint64), reg["nik"].to_numpy().astype(np.uint64))
    if not len(ri):
        return _empty_candidates()
    levels = compare_pairs(rows, reg, ri, gi)
    th = model.thresholds
    name_l, dob_l = levels["nama"], levels["tgl_lahir"]
    ok = (name_l >= th["deterministic_name_level"]) | (
        (name_l >= th["deterministic_name_level_with_dob"]) & np.isin(dob_l, (1, 2, 3))
    ) | ((name_l == 0) & (dob_l == 1))
    # Family guard: another member of that household whose name fits the row better blocks the shortcut (nobody
    # can fit better than an identical name, so those need no look).
    check = np.flatnonzero(ok & (name_l < 8))
    if len(check):
        pos, member = _members(reg, gi[check])
        if len(pos):
            mlevel = name_levels_fast(rows["name"].to_numpy(dtype=object)[ri[check][pos]],
                                      reg["name"].to_numpy(dtype=object)[member],
                                      rows["name_ph"].to_numpy(dtype=object)[ri[check][pos]],
                                      reg["name_ph"].to_numpy(dtype=object)[member])
            best_other = np.zeros(len(check), dtype=np.int8)
            np.maximum.at(best_other, pos, mlevel)
            ok[check[best_other > name_l[check]]] = False
    keep = np.flatnonzero(ok)
    frame = _candidate_frame(reg, ri[keep], gi[keep], {f: v[keep] for f, v in levels.items()}, model, ctx)
    # A NIK held by two registry persons (it happens): only a unique best name decides.
    frame = frame.sort_values(["ri", "name_level", "score"], ascending=[True, False, False], kind="stable")
    dup = frame.duplicated("ri", keep=False)
    if dup.any():
        g = frame[dup].groupby("ri")["name_level"]
        tie = g.transform(lambda s: (s == s.max()).sum() > 1)
        frame = frame.drop(index=tie[tie].index)
    return frame.drop_duplicates("ri", keep="first").reset_index(drop=True)


# --- 2. probabilistic candidates ---------------------------------------------------------------------------------


def _empty_candidates() -> pd.DataFrame:
    return pd.DataFrame({"ri": pd.Series([], dtype=np.int64), "gi": pd.Series([], dtype=np.int64),
                         "id_art": pd.Series([], dtype=object), "id_keluarga": pd.Series([], dtype=object),
                         "score": pd.Series([], dtype=float), "nik_weight": pd.Series([], dtype=float),
                         "personal": pd.Series([], dtype=float), "name_level": pd.Series([], dtype=np.int8),
                         "code": pd.Series([], dtype=np.int64)})


def _candidate_frame(reg, ri, gi, levels, model: Model, ctx: Context, score: np.ndarray | None = None,
                     weights: dict | None = None) -> pd.DataFrame:
    name_u = reg["name_u"].to_numpy()[gi]
    w = weights if weights is not None else model.field_weights(levels, name_u)
    if score is None:
        score = ctx.prior_bits + sum(w[f] for f in FIELDS)
    return pd.DataFrame({
        "ri": ri, "gi": gi,
        "id_art": reg["id_art"].to_numpy(dtype=object)[gi],
        "id_keluarga": reg["id_keluarga"].to_numpy(dtype=object)[gi],
        "score": np.round(score, 6),
        "nik_weight": np.round(w["nik"], 6),
        "personal": np.round(model.personal_bits(levels, name_u), 6),
        "name_level": levels["nama"],
        "code": pack(levels),
    })


def decision_floor(model: Model) -> float:
    """Score below which a candidate changes no decision: it is neither a best candidate in the review band nor a
    runner-up within the margin of a link."""
    th = model.thresholds
    return min(model.bits(th["review_probability"]), model.bits(th["link_probability"]) - th["margin_bits"])


def score_candidates(rows: pd.DataFrame, reg: pd.DataFrame, model: Model, ctx: Context, *,
                     row_mask: np.ndarray | None = None, top_k: int = TOP_K, row_keys: dict | None = None,
                     reg_keys: dict | None = None) -> pd.DataFrame:
    """The best `top_k` registry candidates of each row (restricted to `row_mask`) within `reg`."""
    if not len(reg) or not len(rows):
        return _empty_candidates()
    row_keys = row_keys or block_keys(rows, "row")
    if row_mask is not None:
        row_keys = {k: np.where(row_mask, v, 0).astype(np.uint64) for k, v in row_keys.items()}
    reg_keys = reg_keys or block_keys(reg, "reg")
    ri, gi = candidate_pairs(row_keys, reg_keys)
    if not len(ri):
        return _empty_candidates()
    levels = compare_pairs(rows, reg, ri, gi, names=False)
    mark_family_nik(levels, rows, reg, ri, gi)
    # Names are costly: compare them only where the pair could still reach the decision floor.
    floor = decision_floor(model)
    name_u = reg["name_u"].to_numpy()[gi]
    worth = model.upper_bound_without_name(levels, prior_bits=ctx.prior_bits, name_u=name_u) >= floor
    todo = np.flatnonzero(worth & (levels["nama"] == 1))
    if len(todo):
        levels["nama"][todo] = name_levels_fast(
            rows["name"].to_numpy(dtype=object)[ri[todo]], reg["name"].to_numpy(dtype=object)[gi[todo]],
            rows["name_ph"].to_numpy(dtype=object)[ri[todo]], reg["name_ph"].to_numpy(dtype=object)[gi[todo]])
    w = model.field_weights(levels, name_u)
    score = ctx.prior_bits + sum(w[f] for f in FIELDS)
    keep = np.flatnonzero(score >= floor)
    frame = _candidate_frame(reg, ri[keep], gi[keep], {f: v[keep] for f, v in levels.items()}, model, ctx,
                             score=score[keep], weights={f: v[keep] for f, v in w.items()})
    return top_candidates(frame, top_k)


def top_candidates(frame: pd.DataFrame, top_k: int = TOP_K) -> pd.DataFrame:
    """Each row's best `top_k` candidates, ties broken by id_art (so partitions merge to the same answer)."""
    frame = frame.sort_values(["ri", "score", "id_art"], ascending=[True, False, True], kind="stable")
    frame = frame.drop_duplicates(["ri", "id_art"])
    return frame.groupby("ri", sort=False).head(top_k).reset_index(drop=True)


# --- 3. decisions -------------------------------------------------------------------------------------------------


def evidence(levels: str, name_sim: float | None = None) -> str:
    """`nik=exact;nama=0.96;tgl_lahir=swap;jk=sama;kel=kecamatan;kk=sama` (fields with a missing side left out)."""
    parts = []
    for f, ch in zip(FIELDS, levels, strict=True):
        lvl = int(ch)
        if lvl == 0:
            continue
        if f == "nama" and name_sim is not None:
            parts.append(f"nama={name_sim:.2f}")
        else:
            parts.append(f"{f}={LEVELS[f][lvl]}")
    return ";".join(parts)


def name_ok(lv: dict[str, np.ndarray], th: dict) -> np.ndarray:
    """The relative guard. Relatives share the household, the address and most of the NIK (a relative's NIK, or a
    slip in the serial that hits someone born the same day, is a common error), so a link also needs the name to
    agree, the more so when the birth date does not: with an agreeing birth date (exact, day/month swapped, one
    slip) at least 'sebagian'; without one at least 'typo2'; against a different birth date at least 'typo'. A
    name that agrees less (written quite differently, or a nickname) still links when NIK and birth date agree
    exactly and so does the household: the No KK, or kelurahan and RT/RW. A row without a name links only on an
    exact NIK and birth date."""
    name_l, nik_l, dob_l = lv["nama"], lv["nik"], lv["tgl_lahir"]
    dob_agrees = np.isin(dob_l, (1, 2, 3))
    same_home = np.isin(lv["kk"], (1, 2)) | ((lv["kel"] == 1) & (lv["rtrw"] == 1))
    vouched = (nik_l == 1) & (dob_l == 1) & (lv["jk"] != 2) & same_home
    dob_missing = dob_l == 0
    return (((name_l >= th["link_min_name_level_dob"]) & dob_agrees)
            | ((name_l >= th["link_min_name_level"]) & dob_missing)
            | ((name_l >= th["link_min_name_level_other_dob"]) & ~dob_agrees & ~dob_missing)
            | ((name_l == 0) & (nik_l == 1) & (dob_l == 1))
            | vouched)


def decide(n_rows: int, exact: pd.DataFrame, candidates: pd.DataFrame, model: Model,
           decisions: pd.DataFrame | None = None) -> pd.DataFrame:
    """One decision per row index 0..n_rows-1.

    `exact`: output of `exact_nik_pass`. `candidates`: output of `score_candidates` (possibly from several
    partitions). `decisions`: steward decisions for these rows: columns ri, id_art, decision (match|non_match).
    Returns ri, match_status, id_art, id_keluarga, candidate_id_art, match_probability, score, levels, decided_by.
    """
    th = model.thresholds
    link_bits = model.bits(th["link_probability"])
    review_bits = model.bits(th["review_probability"])
    out = pd.DataFrame({"ri": np.arange(n_rows), "match_status": "new", "id_art": None, "id_keluarga": None,
                        "candidate_id_art": None, "match_probability": 0.0, "score": np.nan, "levels": None,
                        "decided_by": "model", "why": ""})
    out = out.astype({"id_art": object, "id_keluarga": object, "candidate_id_art": object, "levels": object})
    cands = candidates[~candidates["ri"].isin(exact["ri"])] if len(exact) else candidates
    if decisions is not None and len(decisions):
        non = decisions[decisions["decision"] == "non_match"][["ri", "id_art"]]
        if len(non):
            drop = cands.merge(non.assign(_x=1), on=["ri", "id_art"], how="left")["_x"].notna().to_numpy()
            cands = cands[~drop]
    cands = top_candidates(cands, TOP_K)
    if len(cands):
        first = cands.groupby("ri", sort=False).head(1).set_index("ri")
        rank = cands.groupby("ri", sort=False).cumcount()
        second = cands[rank == 1].set_index("ri")["score"]
        runner = second.reindex(first.index).fillna(-np.inf)
        # Family guard: a relative (same household) among the kept candidates whose name, birth date and sex fit
        # the row better than the best's means the NIK may point at the wrong sibling (twins' NIKs differ in the
        # serial only; the head's NIK is often typed for the whole family).
        fam = cands.merge(first[["id_keluarga", "id_art", "personal"]].reset_index(), on="ri", suffixes=("", "_best"))
        fam = fam[(fam["id_keluarga"] == fam["id_keluarga_best"]) & (fam["id_art"] != fam["id_art_best"])]
        conflict = fam["personal"] > fam["personal_best"] + th["family_slack_bits"]
        guarded = set(fam.loc[conflict, "ri"])
        idx = first.index.to_numpy()
        s1 = first["score"].to_numpy()
        margin = s1 - runner.to_numpy()
        guard = np.isin(idx, list(guarded))
        lv = unpack(first["code"].to_numpy())
        named = name_ok(lv, th)
        linked = (s1 >= link_bits) & (margin >= th["margin_bits"]) & ~guard & named
        review = ~linked & (s1 >= review_bits)
        status = np.where(linked, "linked", np.where(review, "review", "new"))
        why = np.where(s1 < link_bits, "p", np.where(margin < th["margin_bits"], "margin",
                                                    np.where(guard, "family", np.where(~named, "name", ""))))
        out.loc[idx, "why"] = why
        out.loc[idx, "match_status"] = status
        out.loc[idx, "id_art"] = np.where(linked, first["id_art"].to_numpy(), None)
        out.loc[idx, "id_keluarga"] = np.where(linked, first["id_keluarga"].to_numpy(), None)
        out.loc[idx, "candidate_id_art"] = first["id_art"].to_numpy()
        out.loc[idx, "match_probability"] = np.round(Model.probability(s1), 6)
        out.loc[idx, "score"] = s1
        out.loc[idx, "levels"] = [code_text(c) for c in first["code"].to_numpy()]
    if len(exact):
        idx = exact["ri"].to_numpy()
        out.loc[idx, "match_status"] = "linked"
        out.loc[idx, "id_art"] = exact["id_art"].to_numpy()
        out.loc[idx, "id_keluarga"] = exact["id_keluarga"].to_numpy()
        out.loc[idx, "candidate_id_art"] = exact["id_art"].to_numpy()
        out.loc[idx, "match_probability"] = np.round(Model.probability(exact["score"].to_numpy()), 6)
        out.loc[idx, "score"] = exact["score"].to_numpy()
        out.loc[idx, "levels"] = [code_text(c) for c in exact["code"].to_numpy()]
        out.loc[idx, "decided_by"] = "nik"
    if decisions is not None and len(decisions):
        match = decisions[decisions["decision"] == "match"]
        if len(match):
            idx = match["ri"].to_numpy()
            out.loc[idx, "match_status"] = "linked"
            out.loc[idx, "id_art"] = match["id_art"].to_numpy()
            out.loc[idx, "id_keluarga"] = match["id_keluarga"].to_numpy() if "id_keluarga" in match else None
            out.loc[idx, "candidate_id_art"] = match["id_art"].to_numpy()
            out.loc[idx, "match_probability"] = 1.0
            out.loc[idx, "decided_by"] = "steward"
        non = decisions[decisions["decision"] == "non_match"]
        # A rejected best candidate with nothing else above the review band: the row is new, by the steward's word.
        if len(non):
            idx = non["ri"].to_numpy()
            still = out.loc[idx]
            rejected = still[(still["match_status"] != "linked") & (still["score"].isna())]
            out.loc[rejected.index, "decided_by"] = "steward"
    return out


# --- 4. clusters and person keys -------------------------------------------------------------------------------------


def fingerprints(rows: pd.DataFrame) -> np.ndarray:
    """Identity fingerprint of each row: its NIK when valid, else normalised name + birth date + kelurahan."""
    nik = rows["nik"].to_numpy()
    text = np.where(nik > 0, "nik:" + rows["nik"].astype(str).to_numpy(dtype=object),
                    "nd:" + rows["name"].to_numpy(dtype=object) + "|" + rows["dob"].astype(str).to_numpy(dtype=object)
                    + "|" + rows["kel"].to_numpy(dtype=object))
    return np.array([hashlib.sha256(t.encode()).hexdigest() for t in text], dtype=object)


def review_fingerprint(rows: pd.DataFrame) -> np.ndarray:
    """Fingerprint of the normalised NIK, name and birth date: the key of a steward's decision (with id_art)."""
    text = (rows["nik"].astype(str) + "|" + rows["name"].astype(str) + "|" + rows["dob"].astype(str)).to_numpy(
        dtype=object)
    return np.array([hashlib.sha256(t.encode()).hexdigest()[:40] for t in text], dtype=object)


class _DSU:
    def __init__(self, n: int):
        self.parent = np.arange(n)

    def find(self, x: int) -> int:
        p = self.parent
        root = x
        while p[root] != root:
            root = p[root]
        while p[x] != root:
            p[x], x = root, p[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if ra < rb:
                self.parent[rb] = ra
            else:
                self.parent[ra] = rb


def cluster_rows(rows: pd.DataFrame, decided: pd.DataFrame, model: Model, ctx: Context,
                 known_keys: dict[str, str] | None = None) -> tuple[np.ndarray, pd.DataFrame]:
    """person_key per row, and the row-row pairs judged the same person (for counting cross-OPD duplicates).

    Linked rows carry their id_art. Rows that are not linked are compared with every other row sharing a blocking
    key; pairs at or above `dedupe_probability` form clusters. A cluster that strongly matches linked rows of one
    registry person only (and whose own best candidate is that person, if any) takes that id_art; otherwise its key
    comes from `known_keys` (fingerprint -> key of an earlier month) or from the smallest fingerprint in it.
    """
    n = len(rows)
    status = decided["match_status"].to_numpy()
    id_art = decided["id_art"].to_numpy(dtype=object)
    cand = decided["candidate_id_art"].to_numpy(dtype=object)
    keys = block_keys(rows, "row")
    same_keys = block_keys(rows, "reg")
    open_rows = status != "linked"
    # Pairs (a, b): a not linked, b any row, a != b.
    masked = {k: np.where(open_rows, v, 0).astype(np.uint64) for k, v in keys.items()}
    ra, rb = candidate_pairs(masked, same_keys)
    keep = ra != rb
    ra, rb = ra[keep], rb[keep]
    # Both not linked: keep each unordered pair once, as (smaller, larger) (a key may match one way only).
    both_open = open_rows[rb]
    lo, hi = np.minimum(ra, rb), np.maximum(ra, rb)
    ra, rb = np.where(both_open, lo, ra), np.where(both_open, hi, rb)
    pair = np.unique(ra.astype(np.int64) * np.int64(1 << 31) + rb)
    ra, rb = pair // np.int64(1 << 31), pair % np.int64(1 << 31)
    pairs = pd.DataFrame({"a": ra, "b": rb})
    if len(ra):
        levels = compare_pairs(rows, rows, ra, rb, names=False)
        # Prior for two rows of one month: about one row in ten repeats a person already submitted.
        prior = float(np.log2(0.1 / max(n, 2)))
        name_u = rows["name_u"].to_numpy()[rb]
        need = model.bits(model.thresholds["dedupe_probability"])
        worth = np.flatnonzero((model.upper_bound_without_name(levels, prior_bits=prior, name_u=name_u) >= need)
                               & (levels["nama"] == 1))
        if len(worth):
            levels["nama"][worth] = name_levels_fast(
                rows["name"].to_numpy(dtype=object)[ra[worth]], rows["name"].to_numpy(dtype=object)[rb[worth]],
                rows["name_ph"].to_numpy(dtype=object)[ra[worth]], rows["name_ph"].to_numpy(dtype=object)[rb[worth]])
        score = model.score(levels, prior_bits=prior, name_u=name_u)
        strong = score >= model.bits(model.thresholds["dedupe_probability"])
        pairs = pairs[strong].reset_index(drop=True)
    dsu = _DSU(n)
    linked_pairs = pairs[status[pairs["b"].to_numpy()] == "linked"] if len(pairs) else pairs
    open_pairs = pairs[status[pairs["b"].to_numpy()] != "linked"] if len(pairs) else pairs
    for a, b in zip(open_pairs["a"].to_numpy(), open_pairs["b"].to_numpy(), strict=True):
        dsu.union(int(a), int(b))
    roots = np.array([dsu.find(i) for i in range(n)])
    person_key = np.where(status == "linked", id_art, None).astype(object)
    # Clusters of open rows: adopt a registry person when all the evidence points at that one person.
    attach: dict[int, set] = {}
    for a, b in zip(linked_pairs["a"].to_numpy() if len(linked_pairs) else [],
                    linked_pairs["b"].to_numpy() if len(linked_pairs) else [], strict=True):
        attach.setdefault(int(roots[a]), set()).add(id_art[b])
    fps = fingerprints(rows)
    known_keys = known_keys or {}
    open_idx = np.flatnonzero(open_rows)
    groups: dict[int, list[int]] = {}
    for i in open_idx:
        groups.setdefault(int(roots[i]), []).append(int(i))
    for root, members in groups.items():
        targets = attach.get(root, set())
        cands = {cand[i] for i in members if cand[i]}
        if len(targets) == 1 and (not cands or cands == targets):
            key = next(iter(targets))
        else:
            found = sorted({known_keys[fps[i]] for i in members if fps[i] in known_keys})
            key = found[0] if found else "N" + min(fps[i] for i in members)[:15].upper()
        for i in members:
            person_key[i] = key
    return person_key, pairs
