"""Small coded values: sex, Y/N flags, RT/RW."""

from __future__ import annotations

import re

_SEX = {
    "l": "L", "lk": "L", "laki": "L", "laki-laki": "L", "laki laki": "L", "pria": "L", "1": "L", "m": "L",
    "male": "L", "p": "P", "pr": "P", "perempuan": "P", "wanita": "P", "2": "P", "f": "P", "female": "P",
}
_YES = {"y", "ya", "yes", "1", "true", "t", "ada", "benar"}
_NO = {"n", "t", "tidak", "no", "0", "false", "tdk", "bukan", "-"}


def normalize_sex(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip().lower().rstrip(".")
    if text.endswith(".0"):
        text = text[:-2]
    return _SEX.get(text)


def normalize_yn(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    if text.endswith(".0"):
        text = text[:-2]
    if text in _YES - {"t"}:
        return "Y"
    if text in _NO:
        return "N"
    return None


_RT_RE = re.compile(r"(\d{1,3})")


def normalize_rt_rw(value: object) -> str | None:
    """RT/RW as three digits ('3', 'RT 03', '003', 3.0 -> '003')."""
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:
            return None
        value = int(value)
    m = _RT_RE.search(str(value))
    return f"{int(m.group(1)):03d}" if m else None
