"""The photo checks of verval rows: one warning per photo and check, the row's status.

Every `foto_*` finding is a warning (the row loads); a row is `lengkap` when its required photo (`foto_rumah`) has
no finding, `perlu_perbaikan` otherwise. Check codes and what they mean (docs/panduan-opd.md explains them to a
kelurahan operator):
- foto_tidak_ada: the sheet names a photo that was not sent;
- foto_rusak: not a decodable JPEG/PNG/HEIC, or refused unopened because it would unpack to too many pixels;
- foto_tanpa_gps: no GPS position in the photo's EXIF;
- foto_di_luar_kelurahan: the GPS point is farther than the tolerance from the household's kelurahan polygon;
- foto_tanggal_tidak_sesuai: EXIF DateTimeOriginal missing, more than N days from tanggal_kunjungan, or after the
  end of the period;
- foto_dipakai_ulang: the same picture (byte-identical, or a perceptual hash within a few bits: resized or
  re-compressed) is used for another household in this batch, or was in an earlier month or by another sender.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from tkpk.config.submissions import PhotoRules
from tkpk.quality.findings import WARNING, Finding
from tkpk.quality.messages import tanggal
from tkpk.verval import LENGKAP, PERLU_PERBAIKAN
from tkpk.verval.photos import PhotoInfo


def photo_key(name: str) -> str:
    """How a photo named in a cell is matched to a delivered file: the last path component, case-insensitive."""
    return re.split(r"[\\/]", str(name).strip())[-1].strip().lower()


def split_names(cell: str | None) -> list[str]:
    """`foto_lain`: several names separated by ';' (',' and new lines are accepted too)."""
    if not cell:
        return []
    return [p.strip() for p in re.split(r"[;\n,]", str(cell)) if p.strip()]


@dataclass
class VervalRow:
    file: str
    sheet: str | None
    row: int
    household: str | None  # no_kk when given, else nik: what "another household" compares
    nik: str | None
    no_kk: str | None
    kode_kelurahan: str | None
    hasil_verifikasi: str | None
    tanggal_kunjungan: date | None
    foto_rumah: str | None
    foto_lain: list[str] = field(default_factory=list)
    petugas: str | None = None
    catatan: str | None = None
    status: str = PERLU_PERBAIKAN
    flags: list[dict] = field(default_factory=list)
    quarantined: bool = False

    def photos(self) -> list[tuple[str, str]]:
        """(column, name) of every photo the row names."""
        out = [("foto_rumah", self.foto_rumah)] if self.foto_rumah else []
        return out + [("foto_lain", n) for n in self.foto_lain]

    def findings(self) -> list[Finding]:
        return [Finding(f["check"], WARNING, f["message"], file=self.file, sheet=self.sheet, row=self.row,
                        column=f["column"], value=f["photo"]) for f in self.flags]


@dataclass
class KnownPhotos:
    """Photos already in the warehouse (earlier months, other senders): pHash, household and where it was used."""

    phash: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    sha256: list[str] = field(default_factory=list)
    household: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)  # e.g. "periode 2026-09, kel-1571011001"


def find_photo(photos: dict[str, PhotoInfo], name: str) -> PhotoInfo | None:
    key = photo_key(name)
    if key in photos:
        return photos[key]
    if "." not in key:  # "rumah_01" for rumah_01.jpg
        for ext in ("jpg", "jpeg", "png", "heic", "heif"):
            if f"{key}.{ext}" in photos:
                return photos[f"{key}.{ext}"]
    return None


def _flag(row: VervalRow, column: str, photo: str, check: str, message: str, **extra) -> None:
    row.flags.append({"photo": photo, "column": column, "check": check, "severity": WARNING, "message": message,
                      **extra})


def check_rows(rows: list[VervalRow], photos: dict[str, PhotoInfo], rules: PhotoRules, end: date, boundaries,
               known: KnownPhotos | None = None, kelurahan_name=None) -> None:
    """Fill each row's flags and status. `photos` maps `photo_key(name)` to what the photo told."""
    name_of = kelurahan_name or (lambda code: code)
    hashed: list[tuple[int, str, str, PhotoInfo]] = []  # (row index, column, photo name, info)
    for i, row in enumerate(rows):
        if row.quarantined:
            continue
        for column, name in row.photos():
            info = find_photo(photos, name)
            if info is None:
                _flag(row, column, name, "foto_tidak_ada",
                      f"Foto '{name}' disebut di lembar kerja tetapi tidak ada di antara berkas yang dikirim.")
                continue
            if not info.ok:
                _flag(row, column, name, "foto_rusak", f"Foto '{name}' tidak dapat dibuka: {info.problem}.",
                      bomb=info.bomb)
                continue
            _check_gps(row, column, name, info, rules, boundaries, name_of)
            _check_date(row, column, name, info, rules, end)
            if info.phash:
                hashed.append((i, column, name, info))
    _check_reuse(rows, hashed, rules, known or KnownPhotos())
    for row in rows:
        required = [f for f in row.flags if f["column"] == rules.required_photo]
        row.status = LENGKAP if (not row.quarantined and row.foto_rumah and not required) else PERLU_PERBAIKAN


def _check_gps(row, column, name, info: PhotoInfo, rules: PhotoRules, boundaries, name_of) -> None:
    if info.lat is None:
        _flag(row, column, name, "foto_tanpa_gps",
              f"Foto '{name}' tidak memuat lokasi GPS. Aktifkan lokasi/geotag pada kamera lalu foto ulang.")
        return
    if not row.kode_kelurahan:
        return
    distance = boundaries.distance_m(row.kode_kelurahan, info.lat, info.lng)
    if distance is None or distance <= rules.tolerance_m:
        return
    inside = boundaries.containing(info.lat, info.lng)
    where = f" (titiknya berada di Kelurahan {name_of(inside)})" if inside else ""
    _flag(row, column, name, "foto_di_luar_kelurahan",
          f"Lokasi GPS foto '{name}' berjarak {_metres(distance)} dari batas Kelurahan {name_of(row.kode_kelurahan)}"
          f"{where}; toleransi {_metres(rules.tolerance_m)}.",
          distance_m=round(distance), lat=round(info.lat, 6), lng=round(info.lng, 6))


def _metres(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.1f} km".replace(".", ",")
    return f"{round(value):,} m".replace(",", ".")


def _check_date(row, column, name, info: PhotoInfo, rules: PhotoRules, end: date) -> None:
    if info.taken is None:
        _flag(row, column, name, "foto_tanggal_tidak_sesuai",
              f"Foto '{name}' tidak memuat tanggal pengambilan (EXIF); bukan foto asli kamera ponsel?")
        return
    taken = info.taken.date()
    if taken > end:
        _flag(row, column, name, "foto_tanggal_tidak_sesuai",
              f"Foto '{name}' diambil {tanggal(taken)}, sesudah akhir periode ({tanggal(end)}).",
              taken=taken.isoformat())
        return
    visited = row.tanggal_kunjungan
    if visited is not None and abs((taken - visited).days) > rules.max_days:
        _flag(row, column, name, "foto_tanggal_tidak_sesuai",
              f"Foto '{name}' diambil {tanggal(taken)}, {abs((taken - visited).days)} hari dari tanggal kunjungan "
              f"{tanggal(visited)} (paling jauh {rules.max_days} hari).",
              taken=taken.isoformat(), days=abs((taken - visited).days))


def _check_reuse(rows: list[VervalRow], hashed, rules: PhotoRules, known: KnownPhotos) -> None:
    """foto_dipakai_ulang: compare every photo's 64-bit pHash with every other (XOR and popcount in numpy blocks)."""
    if not hashed:
        return
    cur = np.array([int(info.phash, 16) for _i, _c, _n, info in hashed], dtype=np.uint64)
    cur_house = [rows[i].household or f"baris:{rows[i].file}:{rows[i].row}" for i, _c, _n, _info in hashed]
    all_hash = np.concatenate([cur, known.phash.astype(np.uint64)])
    all_house = cur_house + list(known.household)
    codes = {h: k for k, h in enumerate(dict.fromkeys(all_house))}
    house = np.array([codes[h] for h in all_house], dtype=np.int64)
    all_sha = [info.sha256 for _i, _c, _n, info in hashed] + list(known.sha256)
    m = len(cur)
    limit = rules.reuse_max_distance
    block = max(1, 4_000_000 // max(len(all_hash), 1))
    for start in range(0, m, block):
        stop = min(m, start + block)
        dist = np.bitwise_count(cur[start:stop, None] ^ all_hash[None, :])
        other = house[start:stop, None] != house[None, :]
        hits = (dist <= limit) & other
        for k in np.flatnonzero(hits.any(axis=1)):
            a = start + int(k)
            j = int(np.flatnonzero(hits[k])[np.argmin(dist[k][hits[k]])])
            i, column, name, info = hashed[a]
            same = all_sha[j] == info.sha256
            how = "sama persis" if same else f"hampir sama (beda {int(dist[k, j])} dari 64 bit hash)"
            if j < m:
                oi, _oc, oname, _oinfo = hashed[j]
                other_row = rows[oi]
                place = (f"baris {other_row.row}" if other_row.file == rows[i].file
                         else f"berkas {other_row.file} baris {other_row.row}")
                where = f"foto '{oname}' untuk keluarga lain ({place})"
            else:
                where = f"foto keluarga lain ({known.where[j - m]})"
            _flag(rows[i], column, name, "foto_dipakai_ulang",
                  f"Foto '{name}' {how} dengan {where}. Setiap rumah harus difoto sendiri.",
                  same_bytes=same, distance_bits=int(dist[k, j]))
