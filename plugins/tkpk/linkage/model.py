"""The scoring model: Fellegi-Sunter match weights per field level, saved as a versioned JSON file in the repo.

A pair's score is log2 prior odds plus, per field, log2(m/u) of its level (m: how often a true match shows that
level, u: how often a non-match among blocked candidates does). The per-field weights are what a steward sees in the
evidence. `tkpk link train` estimates m and u (from labelled pairs when a truth file is given, by
expectation-maximisation otherwise) and writes a new version; a monthly run only loads the file, so the same input
always gives the same output. Decision thresholds live in the same file, next to the weights they belong to.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from tkpk.linkage.compare import FIELDS, LEVELS

MODEL_DIR = Path(__file__).parent / "model"
_VERSION_RE = re.compile(r"^person_v(\d+)\.json$")

DEFAULT_THRESHOLDS = {
    "link_probability": 0.95,  # best candidate at least this probable ...
    "margin_bits": 6.0,  # ... and this many bits above the runner-up (another registry person)
    "review_probability": 0.5,  # below link, at least this probable: a steward decides
    "family_slack_bits": 0.0,  # family guard: a relative whose non-NIK evidence beats the best by more -> review
    "dedupe_probability": 0.995,  # two submitted rows are one person
    "deterministic_name_level": 6,  # exact-NIK pass: name at least 'typo' ...
    "deterministic_name_level_with_dob": 4,  # ... or at least 'typo2' with an agreeing birth date
    "link_min_name_level_dob": 3,  # relative guard (engine.name_ok): 'sebagian' with an agreeing birth date,
    "link_min_name_level": 4,  # 'typo2' without a birth date,
    "link_min_name_level_other_dob": 6,  # 'typo' against a different one
}
# Name levels whose u is the frequency of the registry person's name (term-frequency adjustment, as in Splink):
# agreeing on "KARTA" says less than agreeing on "MUHAMMAD RIZKI SAPUTRA".
TF_LEVELS = (6, 7, 8)
# NIK levels whose agreeing birth-date digits already count the birth date and sex (as against a random person):
# those fields then add no positive weight of their own. Not for an exact NIK: there the alternative is a relative
# typed with this person's NIK, and the stated birth date is what tells them apart. Not for a slip inside the
# birth-date digits ('typo_tgl'). Likewise an agreeing No KK carries the kelurahan and RT/RW.
NIK_CARRIES_DOB = (2, 3, 4, 5, 6)
KK_CARRIES_PLACE = (1, 2)


@dataclass
class Model:
    version: int
    m: dict[str, list[float]]
    u: dict[str, list[float]]
    match_share: float = 0.85  # share of submitted rows whose person is in the registry
    thresholds: dict = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    trained: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._w = {f: self._weights(f) for f in FIELDS}
        self._m_name = np.clip(np.asarray(self.m["nama"], dtype=float), 1e-9, None)

    def _weights(self, name: str) -> np.ndarray:
        m = np.asarray(self.m[name], dtype=float)
        u = np.asarray(self.u[name], dtype=float)
        w = np.log2(np.clip(m, 1e-9, None) / np.clip(u, 1e-9, None))
        w[0] = 0.0  # level 0: a side is missing
        return w

    @property
    def weights(self) -> dict[str, np.ndarray]:
        return self._w

    def prior_bits(self, n_registry: int) -> float:
        """log2 odds that a random (row, registry person) pair is a match."""
        p = self.match_share / max(n_registry, 1)
        return math.log2(p / (1.0 - p))

    def field_weights(self, levels: dict[str, np.ndarray], name_u: np.ndarray | None = None
                      ) -> dict[str, np.ndarray]:
        """Weight (bits) of each field for each pair, after the term-frequency and carried-field adjustments."""
        w = {f: self._w[f][levels[f]] for f in FIELDS}
        if name_u is not None:
            lvl = levels["nama"]
            tf = np.isin(lvl, TF_LEVELS)
            if tf.any():
                w["nama"] = w["nama"].copy()
                w["nama"][tf] = np.log2(self._m_name[lvl[tf]] / np.clip(name_u[tf], 1e-9, None))
        carried = np.isin(levels["nik"], NIK_CARRIES_DOB)
        for f in ("tgl_lahir", "jk"):
            w[f] = np.where(carried, np.minimum(w[f], 0.0), w[f])
        place = np.isin(levels["kk"], KK_CARRIES_PLACE)
        for f in ("kel", "rtrw"):
            w[f] = np.where(place, np.minimum(w[f], 0.0), w[f])
        return w

    def personal_bits(self, levels: dict[str, np.ndarray], name_u: np.ndarray | None = None) -> np.ndarray:
        """What name, birth date and sex say by themselves (the NIK's copy of the birth date not discounted): the
        evidence that tells a person from a relative, who shares the household, the address and most of the NIK."""
        w = self.field_weights({**levels, "nik": np.zeros_like(levels["nik"])}, name_u)
        return w["nama"] + w["tgl_lahir"] + w["jk"]

    def score(self, levels: dict[str, np.ndarray], *, prior_bits: float, name_u: np.ndarray | None = None
              ) -> np.ndarray:
        w = self.field_weights(levels, name_u)
        total = np.full(len(levels[FIELDS[0]]), prior_bits, dtype=float)
        for f in FIELDS:
            total += w[f]
        return total

    def upper_bound_without_name(self, levels: dict[str, np.ndarray], *, prior_bits: float,
                                 name_u: np.ndarray) -> np.ndarray:
        """Best score the pair could reach whatever its names (term-frequency adjusted for the registry person's
        name): decides whether the name comparison is worth it."""
        tf_best = np.log2(self._m_name[list(TF_LEVELS)].max() / np.clip(name_u, 1e-9, None))
        best_name = np.maximum(tf_best, float(self._w["nama"].max()))
        w = self.field_weights(levels)
        total = prior_bits + best_name
        for f in FIELDS:
            if f != "nama":
                total = total + w[f]
        return total

    @staticmethod
    def probability(score: np.ndarray | float) -> np.ndarray | float:
        return 1.0 / (1.0 + np.power(2.0, -np.clip(score, -60, 60)))

    @staticmethod
    def bits(probability: float) -> float:
        return math.log2(probability / (1.0 - probability))

    def to_json(self) -> dict:
        out = asdict(self)
        out["levels"] = LEVELS
        out["weights_bits"] = {f: [round(float(x), 3) for x in self._w[f]] for f in FIELDS}
        return out

    def save(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_json(cls, data: dict) -> Model:
        saved_levels = data.get("levels", LEVELS)
        for f in FIELDS:
            if len(saved_levels.get(f, [])) != len(LEVELS[f]) or len(data["m"][f]) != len(LEVELS[f]):
                raise ValueError(f"Model file does not fit this code: field {f} has other levels; retrain it.")
        thresholds = dict(DEFAULT_THRESHOLDS)
        thresholds.update(data.get("thresholds", {}))
        return cls(version=int(data["version"]), m=data["m"], u=data["u"],
                   match_share=float(data.get("match_share", 0.85)), thresholds=thresholds,
                   trained=data.get("trained", {}))


def model_files(directory: Path = MODEL_DIR) -> list[tuple[int, Path]]:
    found = []
    for p in Path(directory).glob("person_v*.json"):
        m = _VERSION_RE.match(p.name)
        if m:
            found.append((int(m.group(1)), p))
    return sorted(found)


def load_model(path: str | Path | None = None) -> Model:
    """The given model file, or the highest version in `linkage/model/` (the one the monthly run uses)."""
    if path is None:
        files = model_files()
        if not files:
            raise FileNotFoundError("Tidak ada berkas model linkage (linkage/model/person_v*.json); "
                                    "jalankan `tkpk link train`.")
        path = files[-1][1]
    return Model.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def next_model_path(directory: Path = MODEL_DIR) -> tuple[int, Path]:
    files = model_files(directory)
    version = files[-1][0] + 1 if files else 1
    return version, Path(directory) / f"person_v{version}.json"


# --- training ----------------------------------------------------------------------------------------------------


def _normalise(counts: np.ndarray, smoothing: float) -> list[float]:
    c = counts.astype(float).copy()
    c[0] = 0.0
    c[1:] += smoothing
    total = c[1:].sum()
    out = c / total if total > 0 else np.full_like(c, 1.0 / max(len(c) - 1, 1))
    out[0] = 1.0
    return [float(x) for x in out]


def level_frequencies(levels: dict[str, np.ndarray], weight: np.ndarray | None = None, *,
                      smoothing: float = 0.5) -> dict[str, list[float]]:
    """Share of each non-missing level per field (m for true pairs, u for random pairs)."""
    return {f: _normalise(np.bincount(levels[f], weights=weight, minlength=len(LEVELS[f])), smoothing)
            for f in FIELDS}


def estimate_m_em(levels: dict[str, np.ndarray], start: Model, *, prior_bits: float, iterations: int = 20
                  ) -> tuple[dict[str, list[float]], float]:
    """m by expectation-maximisation over blocked pairs with u held fixed (Splink's recipe); returns (m, share of
    blocked pairs that are matches)."""
    patterns = np.stack([levels[f].astype(np.int64) for f in FIELDS], axis=1)
    uniq, counts = np.unique(patterns, axis=0, return_counts=True)
    pat = {f: uniq[:, i].astype(np.int8) for i, f in enumerate(FIELDS)}
    model = start
    lam_bits = prior_bits
    for _ in range(iterations):
        p = model.probability(model.score(pat, prior_bits=lam_bits))
        wm = counts * p
        lam = wm.sum() / counts.sum()
        lam_bits = math.log2(max(lam, 1e-9) / max(1 - lam, 1e-9))
        model = Model(version=start.version, m=level_frequencies(pat, wm, smoothing=0.1), u=start.u,
                      match_share=start.match_share, thresholds=start.thresholds)
    return model.m, float(lam)
