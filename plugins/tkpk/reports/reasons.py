"""Reason codes written out in words for the people who read the reports and the by-name lists.

Eligibility stores `;`-separated codes (`desil_2;usia_6_21;sekolah_sma`, docs/eligibility.md); a lurah or an OPD
clerk reads `Desil 2; usia 6–21 tahun; bersekolah di SMA`. Codes that carry a value (`desil_<n>`,
`desil_di_luar_<a>_<b>`, `usia_<a>_<b>`, `komponen:<code>`, `rtlh_sudah_selesai_<year>`) are parsed; an unknown code
is shown as it is, so nothing is lost.
"""

from __future__ import annotations

import re

FIXED = {
    "desil_kosong": "belum punya desil (perlu diusulkan ke DTSEN)",
    "tidak_ada_anggota_aktif": "tidak ada anggota keluarga yang masih aktif",
    "meninggal": "meninggal",
    "pindah_keluar": "pindah keluar",
    "tanggal_lahir_kosong": "tanggal lahir kosong",
    "sektor_informal": "pekerja sektor informal",
    "sektor_bukan_informal": "bukan pekerja sektor informal",
    "tidak_bersekolah": "tidak bersekolah",
    "jenjang_tidak_sesuai": "jenjang sekolah tidak sesuai",
    "tidak_ada_komponen": "tidak ada anggota yang memenuhi komponen PKH",
    "dalam_kuota": "masuk kuota",
    "kuota_penuh": "kuota penuh (daftar tunggu)",
    "rumah_tidak_layak": "rumah tidak layak huni",
    "rumah_layak": "rumah sudah layak huni",
    "rumah_milik_sendiri": "rumah milik sendiri",
    "rumah_bukan_milik_sendiri": "rumah bukan milik sendiri",
    "pkh_aktif": "tercatat aktif sebagai penerima PKH",
    "pkh_tidak_aktif": "tidak lagi tercatat aktif di PKH",
    "tidak_ada_di_registri": "tidak ada lagi di registri",
    "tidak_ditemukan": "tidak ditemukan di registri (DTSEN)",
    "perubahan_aturan": "karena perubahan aturan",
    "program_tidak_ada": "program tidak ada dalam aturan ini",
}
COMPONENTS = {
    "ibu_hamil": "ibu hamil",
    "anak_usia_dini": "anak usia dini (0–6 tahun)",
    "anak_sd": "anak SD",
    "anak_smp": "anak SMP",
    "anak_sma": "anak SMA/SMK",
    "disabilitas_berat": "penyandang disabilitas berat",
    "lansia": "lansia",
}


def _range(label: str) -> str:
    """`1_4` -> `1–4`; `60_ke_atas` -> `60 ke atas`."""
    if label.endswith("_ke_atas"):
        return label[: -len("_ke_atas")] + " ke atas"
    return label.replace("_", "–")


def code_words(code: str) -> str:
    if code in FIXED:
        return FIXED[code]
    if m := re.fullmatch(r"desil_(\d+)", code):
        return f"desil {m.group(1)}"
    if m := re.fullmatch(r"desil_di_luar_(\w+)", code):
        return f"desil di luar {_range(m.group(1))}"
    if m := re.fullmatch(r"usia_di_luar_(\w+)", code):
        return f"usia di luar {_range(m.group(1))} tahun"
    if m := re.fullmatch(r"usia_(\d+)_ke_atas", code):
        return f"usia {m.group(1)} tahun ke atas"
    if m := re.fullmatch(r"usia_(\w+)", code):
        return f"usia {_range(m.group(1))} tahun"
    if m := re.fullmatch(r"sekolah_(\w+)", code):
        return f"bersekolah di {m.group(1).upper()}"
    if code.startswith("komponen:"):
        comp = code.split(":", 1)[1]
        return f"komponen {COMPONENTS.get(comp, comp.replace('_', ' '))}"
    if m := re.fullmatch(r"batas_komponen_(\d+)", code):
        return f"lebih dari {m.group(1)} komponen (diambil {m.group(1)} tertinggi)"
    if m := re.fullmatch(r"rtlh_sudah_selesai_(\d{4})", code):
        return f"RTLH sudah selesai tahun {m.group(1)}"
    if m := re.fullmatch(r"sektor_bukan_(\w+)", code):
        return f"bukan pekerja sektor {m.group(1).replace('_', ' ')}"
    if m := re.fullmatch(r"sektor_(\w+)", code):
        return f"pekerja sektor {m.group(1).replace('_', ' ')}"
    if m := re.fullmatch(r"([a-z0-9_]+)_aktif", code):
        return f"tercatat aktif sebagai penerima {m.group(1).upper()}"
    return code


def reason_words(codes: object) -> str:
    """`desil_2;komponen:anak_sd;komponen:anak_sd` -> `Desil 2; komponen anak SD (2 orang)`; '' for nothing."""
    if not isinstance(codes, str) or not codes:
        return ""
    parts: list[str] = []
    counts: dict[str, int] = {}
    for code in codes.split(";"):
        if not code:
            continue
        words = code_words(code)
        if words not in counts:
            parts.append(words)
        counts[words] = counts.get(words, 0) + 1
    text = "; ".join(f"{w} ({counts[w]} orang)" if counts[w] > 1 else w for w in parts)
    return text[:1].upper() + text[1:]
