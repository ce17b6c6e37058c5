"""Hand-made registries and submissions for the eligibility tests, written as the CSVs the CLI contract reads."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

KEL_A = "15.71.01.1001"  # Simpang IV Sipin, Telanaipura
KEL_B = "15.71.01.1002"  # Buluran Kenali, Telanaipura
KEL_C = "15.71.03.1003"  # another kecamatan

HOUSEHOLD_FIELDS = ["id_keluarga", "no_kk", "kode_kelurahan", "alamat", "rt", "rw", "desil",
                    "status_kepemilikan_rumah", "rumah_tidak_layak", "sumber_air_layak", "jamban_sendiri"]
PERSON_FIELDS = ["id_art", "id_keluarga", "nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir",
                 "hubungan_keluarga", "alamat", "rt", "rw", "kode_kelurahan", "pekerjaan_sektor", "jenjang_sekolah",
                 "disabilitas_berat", "hamil"]


def make_nik(born: date, sex: str, serial: int) -> str:
    day = born.day + (40 if sex == "P" else 0)
    return f"157101{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


@dataclass
class Builder:
    households: list[dict] = field(default_factory=list)
    persons: list[dict] = field(default_factory=list)
    submissions: dict[str, list[dict]] = field(default_factory=dict)
    serial: int = 0

    def household(self, id_keluarga: str, desil: int | str | None = 1, *, kel: str = KEL_A,
                  kepemilikan: str = "milik_sendiri", tidak_layak: str = "N") -> str:
        self.serial += 1
        self.households.append({
            "id_keluarga": id_keluarga, "no_kk": f"1571010101{20:02d}{self.serial:04d}", "kode_kelurahan": kel,
            "alamat": "Jl. Contoh", "rt": "1", "rw": "2", "desil": "" if desil is None else str(desil),
            "status_kepemilikan_rumah": kepemilikan, "rumah_tidak_layak": tidak_layak, "sumber_air_layak": "Y",
            "jamban_sendiri": "Y",
        })
        return id_keluarga

    def no_kk(self, id_keluarga: str) -> str:
        return next(h["no_kk"] for h in self.households if h["id_keluarga"] == id_keluarga)

    def person(self, id_art: str, id_keluarga: str, born: str = "1980-01-01", *, sex: str = "L",
               sektor: str = "tidak_bekerja", jenjang: str = "", disabilitas: str = "N", hamil: str = "N",
               hubungan: str = "anak") -> str:
        self.serial += 1
        h = next(h for h in self.households if h["id_keluarga"] == id_keluarga)
        self.persons.append({
            "id_art": id_art, "id_keluarga": id_keluarga, "nik": make_nik(date.fromisoformat(born), sex, self.serial),
            "no_kk": h["no_kk"], "nama": f"Warga {id_art}", "jenis_kelamin": sex, "tanggal_lahir": born,
            "hubungan_keluarga": hubungan, "alamat": "Jl. Contoh", "rt": "1", "rw": "2",
            "kode_kelurahan": h["kode_kelurahan"], "pekerjaan_sektor": sektor, "jenjang_sekolah": jenjang,
            "disabilitas_berat": disabilitas, "hamil": hamil,
        })
        return id_art

    def nik(self, id_art: str) -> str:
        return next(p["nik"] for p in self.persons if p["id_art"] == id_art)

    def row(self, type_code: str, **values) -> None:
        self.submissions.setdefault(type_code, []).append(values)

    def write(self, folder: Path) -> tuple[Path, Path]:
        registry, subs = folder / "registry", folder / "submissions"
        registry.mkdir(parents=True, exist_ok=True)
        subs.mkdir(parents=True, exist_ok=True)
        for name, rows, fields in (("households", self.households, HOUSEHOLD_FIELDS),
                                   ("persons", self.persons, PERSON_FIELDS)):
            with open(registry / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
                w = csv.DictWriter(fh, fieldnames=fields)
                w.writeheader()
                w.writerows(rows)
        for type_code, rows in self.submissions.items():
            fields = list(dict.fromkeys(k for r in rows for k in r))
            with open(subs / f"{type_code}.csv", "w", newline="", encoding="utf-8") as fh:
                w = csv.DictWriter(fh, fieldnames=fields)
                w.writeheader()
                w.writerows(rows)
        return registry, subs


def run_cli(tmp_path: Path, b: Builder, period: str = "2026-10", *extra: str) -> dict:
    """Run `tkpk eligibility` on the builder's files; {(program, id_keluarga, id_art): row} of DECISIONS.csv."""
    from tkpk.cli import main

    registry, subs = b.write(tmp_path)
    out = tmp_path / "decisions.csv"
    args = ["eligibility", "--registry", str(registry), "--period", period, "--out", str(out)]
    if b.submissions:
        args += ["--submissions", str(subs)]
    assert main([*args, *extra]) == 0
    with open(out, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    table = {(r["program"], r["id_keluarga"], r["id_art"]): r for r in rows}
    assert len(table) == len(rows), "one row per program and unit"
    return table


def eligible(table: dict, program: str, id_keluarga: str, id_art: str = "") -> bool:
    row = table.get((program, id_keluarga, id_art))
    return row is not None and row["eligible"] == "true"


def reasons(table: dict, program: str, id_keluarga: str, id_art: str = "") -> list[str]:
    return table[(program, id_keluarga, id_art)]["reasons"].split(";")
