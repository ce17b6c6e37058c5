"""Reason codes (`tkpk.eligibility` docstring) in words, for DIFF.csv and the comparison report.

`desil_di_luar_1_2;tidak_ada_komponen` -> `desil di luar 1-2; tidak ada komponen PKH`. A code this module does not
know is shown as it is, so a new rule never makes a reason disappear.
"""

from __future__ import annotations

import re

import pandas as pd

_FIXED = {
    "desil_kosong": "desil kosong",
    "tidak_ada_anggota_aktif": "tidak ada anggota keluarga yang aktif",
    "meninggal": "meninggal",
    "pindah_keluar": "pindah keluar",
    "tanggal_lahir_kosong": "tanggal lahir kosong",
    "tidak_bersekolah": "tidak bersekolah",
    "jenjang_tidak_sesuai": "jenjang sekolah tidak sesuai",
    "tidak_ada_komponen": "tidak ada komponen PKH",
    "dalam_kuota": "dalam kuota",
    "kuota_penuh": "kuota penuh (daftar tunggu)",
    "rumah_tidak_layak": "rumah tidak layak huni",
    "rumah_layak": "rumah layak huni",
    "rumah_milik_sendiri": "rumah milik sendiri",
    "rumah_bukan_milik_sendiri": "rumah bukan milik sendiri",
    "tidak_ada_di_registri": "tidak ada di registri",
    "tidak_ditemukan": "tidak ditemukan di registri",
    "program_tidak_ada": "program tidak ada dalam aturan ini",
}
_COMPONENTS = {
    "ibu_hamil": "ibu hamil", "anak_usia_dini": "anak usia dini", "anak_sd": "anak SD", "anak_smp": "anak SMP",
    "anak_sma": "anak SMA/SMK", "disabilitas_berat": "disabilitas berat", "lansia": "lanjut usia",
}


def _range(label: str) -> str:
    if label.endswith("_ke_atas"):
        return f"{label[: -len('_ke_atas')]} tahun ke atas"
    return label.replace("_", "-")


def word(code: str) -> str:
    if code in _FIXED:
        return _FIXED[code]
    if m := re.fullmatch(r"desil_(\d+)", code):
        return f"desil {m.group(1)}"
    if m := re.fullmatch(r"desil_di_luar_(.+)", code):
        return f"desil di luar {m.group(1).replace('_', '-')}"
    if m := re.fullmatch(r"usia_di_luar_(.+)", code):
        return f"usia di luar {_range(m.group(1))}"
    if m := re.fullmatch(r"usia_(.+)", code):
        return f"usia {_range(m.group(1))}"
    if m := re.fullmatch(r"sektor_bukan_(.+)", code):
        return f"sektor pekerjaan bukan {m.group(1).replace('_', ' ')}"
    if m := re.fullmatch(r"sektor_(.+)", code):
        return f"sektor pekerjaan {m.group(1).replace('_', ' ')}"
    if m := re.fullmatch(r"sekolah_(.+)", code):
        return f"bersekolah {m.group(1).upper()}"
    if m := re.fullmatch(r"komponen:(.+)", code):
        return f"komponen {_COMPONENTS.get(m.group(1), m.group(1).replace('_', ' '))}"
    if m := re.fullmatch(r"batas_komponen_(\d+)", code):
        return f"dibatasi {m.group(1)} komponen"
    if m := re.fullmatch(r"rtlh_sudah_selesai_(\d+)", code):
        return f"RTLH sudah selesai ({m.group(1)})"
    if m := re.fullmatch(r"([a-z0-9_]+)_aktif", code):
        return f"peserta {m.group(1).upper()} aktif"
    return code


def reasons_in_words(codes: object, rank: object = None) -> str:
    """';'-separated codes -> '; '-separated words; a quota rank is shown with the quota reason."""
    if not isinstance(codes, str) or not codes:
        return ""
    out = []
    for code in codes.split(";"):
        if not code:
            continue
        text = word(code)
        if code in ("dalam_kuota", "kuota_penuh") and rank is not None and not pd.isna(rank):
            text += f", peringkat {int(rank)}"
        out.append(text)
    return "; ".join(out)
