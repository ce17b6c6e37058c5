"""Kelurahan by Kemendagri code (`15.71.01.1001` or `1571011001`) or by name, case- and space-insensitive.

The index is built from `include/reference/kota_jambi_kelurahan_kepmendagri2025.csv` (11 kecamatan, 68 kelurahan).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tkpk.settings import REFERENCE_FILE  # noqa: F401 - re-exported

_PREFIX_RE = re.compile(r"^(kel(urahan)?|desa/kelurahan|desa)\.?\s+", re.I)
_SPACE_RE = re.compile(r"[\s_\-.]+")


@dataclass(frozen=True)
class Kelurahan:
    kode_kelurahan: str
    kode_kecamatan: str
    kecamatan: str
    kelurahan: str


def dotted_code(digits: str) -> str:
    return f"{digits[0:2]}.{digits[2:4]}.{digits[4:6]}.{digits[6:10]}"


def _name_key(name: str) -> str:
    name = _PREFIX_RE.sub("", name.strip())
    return _SPACE_RE.sub("", name.lower())


_ROMAN = {"1": "i", "2": "ii", "3": "iii", "4": "iv", "5": "v", "6": "vi", "7": "vii", "8": "viii", "9": "ix",
          "10": "x"}


class KelurahanIndex:
    def __init__(self, rows: list[Kelurahan]):
        self.rows = rows
        self.by_code = {r.kode_kelurahan: r for r in rows}
        self.by_name = {_name_key(r.kelurahan): r for r in rows}

    @classmethod
    def from_csv(cls, path: Path) -> KelurahanIndex:
        with open(path, encoding="utf-8") as fh:
            rows = [
                Kelurahan(r["kode_kelurahan"], r["kode_kecamatan"], r["kecamatan"], r["kelurahan"])
                for r in csv.DictReader(fh)
            ]
        return cls(rows)

    @classmethod
    @lru_cache(maxsize=4)
    def load(cls, reference_dir: str | Path | None = None) -> KelurahanIndex:
        if reference_dir is None:
            from tkpk.settings import Settings

            reference_dir = Settings.from_env().reference_dir
        return cls.from_csv(Path(reference_dir) / REFERENCE_FILE)

    def lookup(self, value: object) -> Kelurahan | None:
        """The kelurahan a cell names, or None when it is not in Kota Jambi."""
        if value is None:
            return None
        if isinstance(value, float):
            if value != value:
                return None
            value = str(int(value))
        text = str(value).strip()
        if not text:
            return None
        digits = re.sub(r"[.\s]", "", text)
        if digits.isdigit():
            return self.by_code.get(dotted_code(digits)) if len(digits) == 10 else None
        found = self.by_name.get(_name_key(text))
        if found is None:
            # "Simpang 4 Sipin" is written "Simpang IV Sipin" in the Kepmendagri list.
            roman = re.sub(r"\b(10|[1-9])\b", lambda m: _ROMAN[m.group(1)], text)
            found = self.by_name.get(_name_key(roman)) if roman != text else None
        return found

    def code(self, value: object) -> str | None:
        found = self.lookup(value)
        return found.kode_kelurahan if found else None

    def kecamatan_of(self, kode_kelurahan: str) -> str | None:
        found = self.by_code.get(kode_kelurahan)
        return found.kode_kecamatan if found else None
