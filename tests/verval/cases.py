"""Generated verval folders for the tests: a sheet and photos covering every photo check code."""

from __future__ import annotations

import json
import struct
import zlib
from datetime import datetime
from pathlib import Path

from tkpk.synth.photos import photo_bytes, recompressed
from tkpk.verval.geo import M_PER_DEG_LAT

ROOT = Path(__file__).resolve().parents[2]
KEL = "15.71.01.1001"  # Simpang IV Sipin
HEADER = "NIK;No KK;Kelurahan;Hasil Verifikasi;Tanggal Kunjungan;Foto Rumah;Petugas;Foto Lain;Catatan"


def north_tip(code: str = KEL) -> tuple[float, float]:
    """(lat, lng) of the northernmost vertex of a kelurahan polygon: a point d metres due north of it is exactly d
    metres from the polygon."""
    data = json.loads((ROOT / "include/reference/kota_jambi_kelurahan_boundaries.geojson").read_text())
    feature = next(f for f in data["features"] if f["properties"]["kode"] == code)
    ring = feature["geometry"]["coordinates"][0]
    if feature["geometry"]["type"] == "MultiPolygon":
        ring = [p for poly in feature["geometry"]["coordinates"] for p in poly[0]]
    lng, lat = max(ring, key=lambda p: p[1])
    return lat, lng


def centre(code: str = KEL) -> tuple[float, float]:
    data = json.loads((ROOT / "include/reference/kota_jambi_kelurahan_boundaries.geojson").read_text())
    p = next(f for f in data["features"] if f["properties"]["kode"] == code)["properties"]
    return p["lat"], p["lng"]


def north_of_tip(metres: float) -> tuple[float, float]:
    lat, lng = north_tip()
    return lat + metres / M_PER_DEG_LAT, lng


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (it would unpack to gigabytes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def nik(i: int) -> str:
    return f"157101{(i % 28) + 1:02d}0190{i:04d}"


def kk(i: int) -> str:
    return f"15710101202{i:05d}"


def line(i: int, photo: str, visit: str = "10/10/2026", others: str = "", hasil: str = "layak") -> str:
    return f"{nik(i)};{kk(i)};{KEL};{hasil};{visit};{photo};Petugas A;{others};"


VISIT = datetime(2026, 10, 10, 9, 30)


def every_check(folder: Path) -> dict[str, int]:
    """Write a sheet and photos covering each check; returns the Excel row of each case."""
    folder.mkdir(parents=True, exist_ok=True)
    inside = centre()
    rows: dict[str, int] = {}
    lines = []

    def add(case: str, text: str) -> None:
        lines.append(text)
        rows[case] = len(lines) + 1  # header is row 1

    def write(name: str, data: bytes) -> None:
        (folder / name).write_bytes(data)

    write("ok.jpg", photo_bytes(1, *inside, VISIT))
    write("ok_dapur.jpg", photo_bytes(2, *inside, VISIT))
    add("inside", line(1, "ok.jpg", others="ok_dapur.jpg"))
    write("dekat.jpg", photo_bytes(3, *north_of_tip(100), VISIT))
    add("near", line(2, "dekat.jpg"))
    write("jauh.jpg", photo_bytes(4, *north_of_tip(2000), VISIT))
    add("far", line(3, "jauh.jpg"))
    write("tanpa_gps.jpg", photo_bytes(5, None, None, VISIT))
    add("no_gps", line(4, "tanpa_gps.jpg"))
    write("lama.jpg", photo_bytes(6, *inside, datetime(2026, 9, 1, 8, 0)))
    add("date_far", line(5, "lama.jpg"))
    write("nanti.jpg", photo_bytes(7, *inside, datetime(2026, 11, 5, 8, 0)))
    add("date_after", line(6, "nanti.jpg", visit="30/10/2026"))
    write("dekat_tanggal.jpg", photo_bytes(8, *inside, datetime(2026, 10, 20, 8, 0)))
    add("date_near", line(7, "dekat_tanggal.jpg"))
    add("missing", line(8, "hilang.jpg"))
    write("rusak.jpg", photo_bytes(9, *inside, VISIT)[:2000])
    add("corrupt", line(9, "rusak.jpg"))
    write("bom.png", bomb_png(20000, 20000))
    add("bomb", line(10, "bom.png"))
    write("bom_sedang.png", bomb_png(9000, 8000))  # 72 Mpx: under Pillow's own limit, over the 64 Mpx configured
    add("bomb_medium", line(11, "bom_sedang.png"))
    original = photo_bytes(12, *inside, VISIT)
    write("asli.jpg", original)
    add("reuse_a", line(12, "asli.jpg"))
    write("salinan.jpg", original)
    add("reuse_b", line(13, "salinan.jpg"))
    other = photo_bytes(14, *inside, VISIT, width=640, height=480)
    write("besar.jpg", other)
    add("resize_a", line(14, "besar.jpg"))
    write("kecil.jpg", recompressed(other, 0.5, 55))
    add("resize_b", line(15, "kecil.jpg"))
    write("lebih.jpg", photo_bytes(16, *inside, VISIT))  # sent, named nowhere
    write("catatan.docx", b"PK\x03\x04 not a photo")  # stray document
    (folder / "verval.csv").write_bytes(("\r\n".join([HEADER, *lines]) + "\r\n").encode("cp1252"))
    return rows
