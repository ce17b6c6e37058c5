"""`tkpk link train`: estimate the model's m/u probabilities and save them as the next versioned model file.

Never part of the monthly run. Recipe as Splink documents it: u (how often a level occurs between two different
people) from random (row, registry person) pairs; m (how often it occurs for the same person) from labelled pairs
when a truth file is given (row_id, id_art; blank id_art for persons not in the registry), otherwise by
expectation-maximisation over the blocked pairs with u held fixed. Names are term-frequency adjusted at run time,
so the stored u of the agreeing name levels is only a fallback.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from tkpk.linkage import engine
from tkpk.linkage.compare import FIELDS, LEVELS, compare_pairs
from tkpk.linkage.model import (
    DEFAULT_THRESHOLDS,
    Model,
    estimate_m_em,
    level_frequencies,
    load_model,
    next_model_path,
)
from tkpk.linkage.prepare import prepare_persons

RANDOM_PAIRS = 2_000_000


def random_pairs(n_rows: int, n_reg: int, size: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_rows, size), rng.integers(0, n_reg, size)


def true_pairs(reg: pd.DataFrame, rows: pd.DataFrame, truth: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    pos = pd.Series(np.arange(len(reg)), index=reg["id_art"].astype(str).to_numpy())
    true_art = rows[["row_id"]].astype(str).merge(truth[["row_id", "id_art"]].astype(str), on="row_id",
                                                  how="left")["id_art"].fillna("")
    gi = pos.reindex(true_art.to_numpy()).to_numpy()
    has = ~np.isnan(gi)
    return np.flatnonzero(has), gi[has].astype(np.int64)


def _digest(*frames: pd.DataFrame) -> str:
    h = hashlib.sha256()
    for f in frames:
        h.update(pd.util.hash_pandas_object(f, index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def train(persons: pd.DataFrame, rows: pd.DataFrame, truth: pd.DataFrame | None = None, *,
          out: str | Path | None = None, reference: date | None = None, thresholds: dict | None = None,
          start: Model | None = None, random_pairs_n: int = RANDOM_PAIRS) -> tuple[Model, Path]:
    """Train on raw registry persons and submitted rows; write the model file; return (model, path)."""
    from tkpk.linkage.files import _kelurahan_index

    reference = reference or date.today()
    kel = _kelurahan_index()
    reg = prepare_persons(persons, reference=reference, kelurahan=kel)
    rp = prepare_persons(rows, reference=reference, kelurahan=kel)
    version, default_path = next_model_path()
    path = Path(out) if out else default_path
    if start is None:
        try:
            start = load_model()
        except FileNotFoundError:
            start = None
    th = dict(thresholds or (start.thresholds if start else DEFAULT_THRESHOLDS))

    ri, gi = random_pairs(len(rp), len(reg), random_pairs_n)
    if truth is not None:
        tr, tg = true_pairs(reg, rp, truth)
        gold = np.full(len(rp), -1, dtype=np.int64)
        gold[tr] = tg
        keep = gold[ri] != gi
        ri, gi = ri[keep], gi[keep]
    def levels_of(a, b):
        lv = compare_pairs(rp, reg, a, b)
        engine.mark_family_nik(lv, rp, reg, a, b)
        return lv

    u = level_frequencies(levels_of(ri, gi), smoothing=0.5)
    meta = {"trained_at": datetime.now(UTC).strftime("%Y-%m-%d"), "registry_persons": int(len(reg)),
            "rows": int(len(rp)), "inputs_sha256": _digest(persons, rows), "random_pairs": int(len(ri))}
    if truth is not None:
        m = level_frequencies(levels_of(tr, tg), smoothing=0.5)
        share = len(tr) / max(len(rp), 1)
        meta.update(method="supervised", true_pairs=int(len(tr)))
    else:
        if start is None:
            raise ValueError("Tanpa berkas truth, pelatihan EM butuh model awal (linkage/model/person_v*.json).")
        seed = Model(version=version, m=start.m, u=u, match_share=start.match_share, thresholds=th)
        ctx = engine.Context.build(seed, reg["name_ph"])
        bi, bg = engine.candidate_pairs(engine.block_keys(rp, "row"), engine.block_keys(reg, "reg"))
        blocked = levels_of(bi, bg)
        prior = float(np.log2(len(rp) * seed.match_share / max(len(bi), 1)))
        m, lam = estimate_m_em(blocked, seed, prior_bits=prior)
        share = min(0.99, lam * len(bi) / max(len(rp), 1))
        meta.update(method="em", blocked_pairs=int(len(bi)))
        del ctx
    model = Model(version=version, m=m, u=u, match_share=float(share), thresholds=th, trained=meta)
    model.save(path)
    return model, path


def describe(model: Model) -> list[str]:
    """The weights, one line per field (for the CLI)."""
    lines = [f"Model v{model.version}: bagian baris yang ada di registri {model.match_share:.2f}"]
    for f in FIELDS:
        w = model.weights[f]
        lines.append(f"  {f:10s} " + "  ".join(f"{LEVELS[f][i]}={w[i]:+.1f}" for i in range(1, len(w))))
    return lines
