"""Person names as OPD files and the registry write them, reduced to one comparable form (linkage, step 1).

What varies for one person: case and punctuation; religious and academic titles (`H.`, `Hj.`, `Drs.`, `Ir.`,
`S.Pd`, `A.Md.Keb`); Jambi noble titles (`Kemas`/`Kms.`, `Nyimas`/`Nys.`, `Sayid`/`Said`, `Syarifah`/`Sy.`,
`Raden`/`R.`, `Masagus`/`Mgs.`, `Kiagus`/`Kgs.`, `Nyayu`); `bin`/`binti`; `Muhammad`/`Muhamad`/`Mohammad`/`M.`/
`Mhd`/`Moh`; old spelling (`dj`->`j`, `tj`->`c`, `sj`->`sy`, `nj`->`ny`, `oe`->`u`, `ch`->`kh`).

`normalize_name` removes titles (they are often omitted), drops `bin`/`binti` with the father's name after it,
writes the variants of Muhammad and Ahmad one way, and converts old spelling. `phonetic_name` goes further for
comparison and blocking (`rizky`/`riski`, `fatimah`/`fatima`, `khairul`/`hairul`, `arif`/`arip`).

Both work on whole columns through pyarrow (a million names in about a second); the scalar functions run the same
code on one value, so they can never disagree with the vectorised ones.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd

# Academic degrees that trail a name, after punctuation became spaces: `s pd`, `spd`, `s pd i`, `a md keb`, `m kes`.
_DEGREE_SPLIT = (
    r"(?:[sm] (?:pd|ag|h|e|t|kom|sos|si|km|kep|ked|farm|ip|psi|pt|p|ik|gz|st|tr|sc|hum|m|kes|th|hi|ei|ak|ds|sn|tp|"
    r"pi|kg|fil|stat|ars|ab|an|ikom|hut|pdi|pd i|h i|e i|ap|mb|kp)(?: i)?|a (?:md|ma)(?: (?:keb|kep|kes|ak|kom|ft|"
    r"rad|farm|gz|ip|par|t|pd))?)"
)
_DEGREE_FUSED = (
    r"(?:spd|spdi|sag|sh|shi|se|sei|st|sth|stp|skom|ssos|ssi|skm|skep|sked|sfarm|sip|spsi|spt|sik|sgz|sst|ssit|"
    r"sikom|sak|shum|stat|mpd|mpdi|msi|mm|mh|mkes|mkom|mag|msc|mt|msos|mba|mhum|amd|amdkeb|amdkep|amdkes|amk|amd"
    r"kom|apt|ners|bsc|phd|sp|sps|ssn|sds|ama|amapd|dipl|bba|se ak|mmpd|ns)"
)
_DEGREE_TRAIL_RE = rf"(?: (?:{_DEGREE_SPLIT}|{_DEGREE_FUSED}(?: i)?))+$"

# Titles in front of a name: religious, civil and Jambi (Melayu Jambi / Palembang) nobility. Each must be followed by
# another token (the pattern needs the space), so a name is never reduced to nothing.
_TITLES = (
    "h", "hj", "haji", "hajah", "hajjah", "hajah", "dr", "drs", "dra", "ir", "prof", "ust", "ustad", "ustadz", "ustaz",
    "ustadzah", "ustazah", "ustadzh", "kh", "tn", "tuan", "ny", "nyonya", "nn", "nona", "bpk", "bapak", "pak", "ibu",
    "ibuk", "bu", "sdr", "sdri", "sdra", "alm", "almh", "almarhum", "almarhumah", "kemas", "kms", "nyimas", "nys",
    "sayid", "sayyid", "said", "syed", "sayed", "sy", "syarifah", "syarifa", "sarifah", "raden", "rd", "r",
    "masagus", "mgs", "kiagus", "kgs", "nyayu", "nyy", "ratu", "kyai", "kiai", "habib", "nyi",
)
_TITLE_LEAD_RE = r"^(?:(?:" + "|".join(sorted(set(_TITLES), key=len, reverse=True)) + r") )+"
# "bin"/"binti" (also written B., BN, BT.) and the father's name after it: dropped, as OPD files often drop them.
_BIN_RE = r" (?:bin|binti|bt|bte|bint|binte|bn|b) .*$"

_MUHAMMAD_RE = re.compile(
    r"^(?:m(?:u|o|ou)(?:c|k)?h?am{1,2}[ae]d|muh?am{1,2}ad|mohd|muhd|mhd|moh|moch|mokh|muh|mhmd|mochd|mukh|mh)$"
)
_AHMAD_RE = re.compile(r"^a(?:c|k)?hm[ae][dt]$")
_CANONICAL = {"abd": "abdul", "sitti": "siti", "sity": "siti", "sti": "siti", "moehamad": "muhammad"}
_OLD_MARK_RE = re.compile(r"dj|tj|sj|^nj|oe")
_OLD_J_RE = re.compile(r"(?<![dtsn])j")
# nj -> ny only at the start (Njoman / Nyoman): inside a word it is today's spelling too (Tanjung, Panji).
_OLD_SPELLING = (("dj", "j"), ("tj", "c"), ("sj", "sy"), ("oe", "u"), ("ch", "kh"))


@lru_cache(maxsize=200_000)
def canonical_token(token: str) -> str:
    """One token in modern spelling, with the usual variants of Muhammad and Ahmad written one way."""
    if _OLD_MARK_RE.search(token):
        token = _OLD_J_RE.sub("y", token)  # in old spelling a lone j is today's y: Tjahjo -> Cahyo
    for old, new in _OLD_SPELLING:
        token = token.replace(old, new)
    if token.startswith("nj"):
        token = "ny" + token[2:]
    if _MUHAMMAD_RE.match(token):
        return "muhammad"
    if _AHMAD_RE.match(token):
        return "ahmad"
    return _CANONICAL.get(token, token)


_PHONETIC_STEPS = (
    ("dh", "d"), ("th", "t"), ("kh", "h"), ("sy", "s"), ("sh", "s"), ("ph", "f"), ("dz", "s"), ("ts", "s"),
    ("v", "f"), ("f", "p"), ("q", "k"), ("x", "ks"), ("z", "s"), ("y", "i"), ("ck", "k"), ("w", "u"), ("o", "u"),
)
_DOUBLE_RE = re.compile(r"(.)\1+")


@lru_cache(maxsize=200_000)
def phonetic_token(token: str) -> str:
    """A coarse sound-alike key for one normalised token (Indonesian spelling habits)."""
    for old, new in _PHONETIC_STEPS:
        token = token.replace(old, new)
    token = _DOUBLE_RE.sub(r"\1", token)
    if token.startswith("j"):
        token = "i" + token[1:]  # old spelling J for today's Y at the start: Jusuf / Yusuf
    if len(token) > 3 and token.endswith("h"):
        token = token[:-1]
    return token


def _map_tokens(arr, fn):
    """Apply `fn` to every space-separated token of a pyarrow string array, computing each distinct token once."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    tokens = pc.split_pattern(arr, " ")
    flat = pc.list_flatten(tokens)
    if len(flat) == 0:
        return arr
    encoded = pc.dictionary_encode(flat)
    mapped = pa.array([fn(t) for t in encoded.dictionary.to_pylist()], type=pa.string())
    new_flat = pc.take(mapped, encoded.indices)
    rebuilt = pa.ListArray.from_arrays(tokens.offsets, new_flat, mask=pc.is_null(tokens))
    return pc.binary_join(rebuilt, " ")


def _trim(arr):
    import pyarrow.compute as pc

    return pc.utf8_trim_whitespace(arr)


def _when(arr, literal: str, pattern: str, replacement: str):
    """Regex replace, skipped when no value contains `literal` (most columns are clean)."""
    import pyarrow.compute as pc

    if not pc.any(pc.match_substring(arr, literal)).as_py():
        return arr
    return pc.replace_substring_regex(arr, pattern, replacement)


def _normalize_array(arr):
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = pc.cast(arr, pa.string())
    if not pc.all(pc.string_is_ascii(arr)).as_py():
        arr = pc.replace_substring_regex(pc.utf8_normalize(arr, "NFKD"), r"[^\x00-\x7f]", "")
    arr = pc.utf8_lower(arr)
    for mark in ("'", "`", '"'):
        arr = _when(arr, mark, "['`\"]", "")
    # Degrees usually follow a comma: "Siti Aminah, S.Pd., M.Pd".
    cut = _when(arr, ",", ",.*$", "")
    arr = pc.if_else(pc.equal(_trim(cut), ""), arr, cut)
    arr = _trim(pc.replace_substring_regex(arr, r"[^a-z]+", " "))
    for _ in range(2):
        arr = pc.replace_substring_regex(arr, _DEGREE_TRAIL_RE, "")
    arr = _map_tokens(arr, canonical_token)
    arr = pc.replace_substring_regex(arr, _TITLE_LEAD_RE, "")
    arr = _when(arr, "m ", r"^m ", "muhammad ")
    arr = _when(arr, "st ", r"^st ", "siti ")
    arr = pc.replace_substring_regex(arr, _BIN_RE, "")
    arr = _trim(arr)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def normalize_name_array(arr):
    """`normalize_name` on a pyarrow string array (null where nothing usable remains)."""
    return _normalize_array(arr)


def phonetic_array(normalized):
    """Phonetic form of a pyarrow array of normalised names."""
    import pyarrow.compute as pc

    return pc.if_else(pc.equal(normalized, ""), "", _map_tokens(normalized, phonetic_token))


def _to_arrow(values: pd.Series):
    import pyarrow as pa

    clean = values.astype("object").where(values.notna(), None)
    return pa.array([None if v is None else str(v) for v in clean], type=pa.string())


def normalize_name_series(values: pd.Series) -> pd.Series:
    """Vectorised `normalize_name`: a string Series (missing where nothing usable remains)."""
    if len(values) == 0:
        return pd.Series([], index=values.index, dtype="str")
    out = _normalize_array(_to_arrow(values))
    return pd.Series(out.to_pandas(), index=values.index, dtype="str")


def phonetic_series(normalized: pd.Series) -> pd.Series:
    """Phonetic form of already normalised names (token by token)."""
    if len(normalized) == 0:
        return pd.Series([], index=normalized.index, dtype="str")
    out = _map_tokens(_to_arrow(normalized), phonetic_token)
    return pd.Series(out.to_pandas(), index=normalized.index, dtype="str")


def normalize_name(value: object) -> str | None:
    """'Hj. SITI AMINAH binti Djamal, S.Pd' -> 'siti aminah jamal'; None when nothing usable remains."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    out = normalize_name_series(pd.Series([str(value)]))
    result = out.iloc[0]
    return None if pd.isna(result) else result


def phonetic_name(value: object) -> str | None:
    """Phonetic key of a raw or normalised name: 'Rizky Fatimah' and 'Riski Fatima' give the same key."""
    name = normalize_name(value)
    if name is None:
        return None
    return " ".join(phonetic_token(t) for t in name.split(" "))
