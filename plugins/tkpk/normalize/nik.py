"""NIK and No KK: cleaning, validation, damage detection and decoding.

A NIK is PP RR CC DDMMYY SSSS: province, regency/city, kecamatan of issue, birth date (day + 40 for women), serial.
A No KK has the same region prefix, the issue date, and a serial. Both must be exactly 16 digits of text.

Damage seen in real files: Excel scientific notation (`1.57101E+15`, digits lost for good), numbers typed into
Excel cells (kept exactly when < 2^53; we read them back as integers), apostrophes and dots typed to force text,
placeholders (`0000000000000000`, serial `0000`, a digit repeated).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

KOTA_JAMBI_PREFIX = "1571"
_DAYS_IN_MONTH = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_SCI_RE = re.compile(r"^\s*[0-9](?:[.,][0-9]+)?\s*[eE]\s*\+?\s*[0-9]+\s*$")
_STRIP_RE = re.compile(r"[\s'`\".\-_/]")
# Province codes in use (Kemendagri); anything else cannot be a real NIK.
PROVINCES = frozenset(
    "11 12 13 14 15 16 17 18 19 21 31 32 33 34 35 36 51 52 53 61 62 63 64 65 71 72 73 74 75 76 81 82 91 92 93 94 95 96 97".split()
)

# Short problem codes; quality turns them into Indonesian messages.
NIK_EMPTY = "kosong"
NIK_SCIENTIFIC = "notasi_ilmiah"
NIK_NOT_DIGITS = "bukan_angka"
NIK_LENGTH = "panjang_salah"
NIK_PLACEHOLDER = "placeholder"
NIK_REGION = "kode_wilayah_salah"
NIK_DATE = "tanggal_salah"


def _clean(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text


def nik_problem(value: object, *, kind: str = "nik") -> str | None:
    """Why `value` is not a usable NIK (or No KK with kind='kk'); None when it is fine."""
    text = _clean(value)
    if not text or text.lower() in {"nan", "none", "-", "null"}:
        return NIK_EMPTY
    if _SCI_RE.match(text):
        return NIK_SCIENTIFIC
    digits = _STRIP_RE.sub("", text)
    if not digits.isdigit():
        return NIK_NOT_DIGITS
    if len(digits) != 16:
        return NIK_LENGTH
    if len(set(digits)) == 1 or digits[-4:] == "0000" or digits.startswith("0000"):
        return NIK_PLACEHOLDER
    if digits[:2] not in PROVINCES or digits[2:4] == "00":
        return NIK_REGION
    if kind == "nik" and _birth_parts(digits) is None:
        return NIK_DATE
    return None


def normalize_nik(value: object, *, kind: str = "nik") -> str | None:
    """16-digit text, or None when the value cannot be a NIK (see `nik_problem`)."""
    if nik_problem(value, kind=kind) is not None:
        return None
    return _STRIP_RE.sub("", _clean(value))


def normalize_kk(value: object) -> str | None:
    return normalize_nik(value, kind="kk")


def valid_dates(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Whether (year, month, day) is a calendar date, element-wise."""
    month_ok = (month >= 1) & (month <= 12)
    dim = _DAYS_IN_MONTH[np.where(month_ok, month, 0)]
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    dim = np.where((month == 2) & ~leap, 28, dim)
    return month_ok & (day >= 1) & (day <= dim)


def birth_years(yy: np.ndarray, month: np.ndarray, day: np.ndarray, reference: date) -> np.ndarray:
    """The one century rule of a NIK's two-digit birth year, for every path (scalar `decode_nik`, ingest, linkage,
    the registry): 20yy when that is a real date on or before `reference` (E), else 19yy (a baby born in 2025 is
    not 1925; a grandmother born 12 December 1926 is not born after E in 2026)."""
    yy, month, day = (np.asarray(a, dtype=np.int64) for a in (yy, month, day))
    key = reference.year * 10000 + reference.month * 100 + reference.day
    y2000 = 2000 + yy
    recent = valid_dates(y2000, month, day) & (y2000 * 10000 + month * 100 + day <= key)
    return np.where(recent, y2000, 1900 + yy)


def _birth_parts(digits: str) -> tuple[int, int, int, str] | None:
    day, month, yy = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    sex = "L"
    if day > 40:
        day, sex = day - 40, "P"
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    for century in (2000, 1900):
        try:
            date(century + yy, month, day)
            return day, month, yy, sex
        except ValueError:
            continue
    return None


@dataclass(frozen=True)
class NikInfo:
    nik: str
    kode_provinsi: str
    kode_kabkota: str
    kode_kecamatan: str  # dotted, e.g. 15.71.01
    birth_date: date
    jenis_kelamin: str  # L/P
    serial: str

    @property
    def issued_in_kota_jambi(self) -> bool:
        return self.nik.startswith(KOTA_JAMBI_PREFIX)


def decode_nik(value: object, *, reference: date | None = None) -> NikInfo | None:
    """Decode region, birth date and sex. The two-digit year takes the century that puts the date on or before
    `reference` (E), so a baby born in 2025 is not read as 1925 and a grandmother born in 1950 not as 2050."""
    nik = normalize_nik(value)
    if nik is None:
        return None
    day, month, yy, sex = _birth_parts(nik)  # type: ignore[misc]
    reference = reference or date.today()
    year = int(birth_years(np.array([yy]), np.array([month]), np.array([day]), reference)[0])
    if not valid_dates(np.array([year]), np.array([month]), np.array([day]))[0]:
        year = 2000 + yy  # 29 February valid only in 2000 (1900 was no leap year)
    born = date(year, month, day)
    return NikInfo(
        nik=nik,
        kode_provinsi=nik[:2],
        kode_kabkota=nik[:4],
        kode_kecamatan=f"{nik[:2]}.{nik[2:4]}.{nik[4:6]}",
        birth_date=born,
        jenis_kelamin=sex,
        serial=nik[12:],
    )


def normalize_nik_series(values: pd.Series, *, kind: str = "nik") -> tuple[pd.Series, pd.Series]:
    """Vectorised `normalize_nik` / `nik_problem`: returns (normalised or NA, problem code or NA)."""
    raw = values.astype("object")
    is_float = raw.map(lambda v: isinstance(v, float))
    text = raw.where(~is_float, raw.map(_clean)).astype("string").fillna("").str.strip()
    text = text.str.replace(r"\.0$", "", regex=True)
    problem = pd.Series(pd.NA, index=values.index, dtype="string")
    empty = text.str.lower().isin(["", "nan", "none", "-", "null", "<na>"])
    problem[empty] = NIK_EMPTY
    sci = ~empty & text.str.match(_SCI_RE.pattern)
    problem[sci] = NIK_SCIENTIFIC
    digits = text.str.replace(_STRIP_RE.pattern, "", regex=True)
    pending = problem.isna()
    not_digits = pending & ~digits.str.fullmatch(r"\d+").fillna(False)
    problem[not_digits] = NIK_NOT_DIGITS
    pending = problem.isna()
    bad_len = pending & (digits.str.len() != 16)
    problem[bad_len] = NIK_LENGTH
    pending = problem.isna()
    placeholder = pending & (
        digits.str.fullmatch(r"(\d)\1{15}").fillna(False)
        | digits.str.endswith("0000")
        | digits.str.startswith("0000")
    )
    problem[placeholder] = NIK_PLACEHOLDER
    pending = problem.isna()
    region = pending & (~digits.str[:2].isin(PROVINCES) | (digits.str[2:4] == "00"))
    problem[region] = NIK_REGION
    pending = problem.isna()
    if kind == "nik" and pending.any():
        sub = digits[pending]
        bad_date = sub.map(lambda d: _birth_parts(d) is None).astype(bool)
        problem[bad_date[bad_date].index] = NIK_DATE
    ok = problem.isna()
    normalised = digits.where(ok, pd.NA).astype("string")
    return normalised, problem


def mask(value: object) -> str:
    """Mask a NIK/No KK for e-mail, logs and messages: `157101******0001`. Other text passes unchanged."""
    text = _clean(value)
    digits = _STRIP_RE.sub("", text)
    if len(digits) >= 10 and digits.isdigit():
        return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]
    return text


# A run of digits, possibly split by separators people and programs write inside a NIK: spaces, dots, dashes,
# underscores, slashes (`1571 0199 0997 0045`, `1571.0924.0689.0049`, `PESERTA_1571_0199...csv`). Up to three
# separator characters between two digit groups ("1571 - 0199"); letters end a run, so a NIK glued to a name or a
# date is still found.
_DIGIT_CHAIN = re.compile(r"\d+(?:[ \t.\-_/]{1,3}\d+)*")
_GROUP = re.compile(r"\d+")


def _nik_prefix(digits: str) -> bool:
    return digits[:2] in PROVINCES and digits[2:4] != "00"


def _mask_span(text: str, keep_head: int = 6, keep_tail: int = 4) -> str:
    """Stars for every digit of `text` but the first `keep_head` and last `keep_tail`; separators stay."""
    total = sum(ch.isdigit() for ch in text)
    out, k = [], 0
    for ch in text:
        if ch.isdigit():
            out.append(ch if k < keep_head or k >= total - keep_tail else "*")
            k += 1
        else:
            out.append(ch)
    return "".join(out)


def _mask_chain(m: re.Match) -> str:
    chain = m.group(0)
    groups = [(g.start(), g.end()) for g in _GROUP.finditer(chain)]
    if len(groups) == 1:
        n = len(chain)
        # Any 16 digits in a row (whatever the prefix: a NIK with a wrong region code is still someone's NIK), and
        # 15-18 digits after a real region prefix (a digit lost or added by a typist, or Excel).
        if n == 16 or (15 <= n <= 18 and _nik_prefix(chain)):
            return _mask_span(chain)
        return chain
    # Separated groups: every span of consecutive groups holding 15-18 digits that starts on a region prefix
    # ("2026-10 1571 0199 0997 0045" masks the last four groups, not the period).
    if sum(b - a for a, b in groups) == 16:  # sixteen digits in all: masked whatever the prefix, as above
        return _mask_span(chain)
    out = chain
    i = 0
    while i < len(groups):
        digits = ""
        for j in range(i, len(groups)):
            digits += chain[groups[j][0]:groups[j][1]]
            if len(digits) > 18:
                break
            if len(digits) >= 15 and _nik_prefix(digits) and (
                    j + 1 == len(groups) or len(digits) + groups[j + 1][1] - groups[j + 1][0] > 18
                    or len(digits) == 16):
                a, b = groups[i][0], groups[j][1]
                out = out[:a] + _mask_span(chain[a:b]) + out[b:]
                i = j
                break
        i += 1
    return out


def mask_text(text: str) -> str:
    """Mask every NIK or No KK in free text however it is written (log lines, messages, file names, report cells,
    alert bodies): 16 digits in a row, or 15-18 digits after a valid region prefix, plain or split by spaces, dots,
    dashes, underscores or slashes, glued to letters or not. The first six digits (the kecamatan) and the last four
    stay: `157101******0045`, `1571 01** **** 0045`. The one masking function of the project."""
    if not text:
        return text
    return _DIGIT_CHAIN.sub(_mask_chain, text)
