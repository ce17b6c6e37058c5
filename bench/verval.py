"""Benchmark of the verval photo checks: a large month for the city, 10,000 phone-sized photos (JPEG 1600x1200,
about 300 KB each, EXIF GPS and date) with their sheet, checked by `tkpk verval check` exactly as a steward runs it.

    python -m bench.verval generate --photos 10000 --out DIR   # once; cached by bench
    python -m tkpk verval check DIR --period 2026-10           # what `make bench` measures (wall, CPU, RSS)

Every picture is different (its own coarse pattern, so no pHash collides), the GPS points lie inside the row's
kelurahan, and the dates agree with the visit: the run measures the checks, not a pile of findings.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from datetime import datetime
from pathlib import Path

import numpy as np

PERIOD = "2026-10"
WIDTH, HEIGHT = 1600, 1200
_TEXTURE = None


def _texture():
    """Fine grain shared by every picture (what makes a phone JPEG ~300 KB); built once per process."""
    global _TEXTURE
    if _TEXTURE is None:
        from PIL import Image

        rng = np.random.default_rng(7)
        grain = rng.integers(0, 256, size=(HEIGHT // 2, WIDTH // 2, 3), dtype=np.uint8)
        _TEXTURE = Image.fromarray(grain, "RGB").resize((WIDTH, HEIGHT), Image.Resampling.NEAREST)
    return _TEXTURE


def _one(args) -> tuple[str, int]:
    from PIL import Image

    from tkpk.synth.photos import exif_for

    i, out, lat, lng = args
    rng = np.random.default_rng(1000 + i)
    coarse = Image.fromarray(rng.integers(0, 256, size=(6, 8, 3), dtype=np.uint8), "RGB")
    im = Image.blend(coarse.resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR), _texture(), 0.12)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=82, exif=exif_for(lat, lng, datetime(2026, 10, 1 + i % 28, 10, 0)))
    name = f"rumah_{i:05d}.jpg"
    (out / name).write_bytes(buf.getvalue())
    return name, len(buf.getvalue())


def generate(photos: int, out: Path, processes: int = 2) -> dict:
    """Write `photos` JPEGs and one verval sheet (CSV) into `out`."""
    from multiprocessing import Pool

    from tkpk.settings import PROJECT_ROOT
    from tkpk.verval.geo import Boundaries

    out.mkdir(parents=True, exist_ok=True)
    boundaries = Boundaries.load(PROJECT_ROOT / "include" / "reference")
    data = json.loads((PROJECT_ROOT / "include" / "reference" / "kota_jambi_kelurahan_boundaries.geojson")
                      .read_text(encoding="utf-8"))
    centres = [(f["properties"]["kode"], f["properties"]["lat"], f["properties"]["lng"]) for f in data["features"]
               if boundaries.distance_m(f["properties"]["kode"], f["properties"]["lat"], f["properties"]["lng"]) == 0]
    jobs = []
    lines = ["NIK;No KK;Kelurahan;Hasil Verifikasi;Tanggal Kunjungan;Foto Rumah;Petugas"]
    for i in range(photos):
        code, lat, lng = centres[i % len(centres)]
        jobs.append((i, out, lat, lng))
        lines.append(f"157101{(i % 28) + 1:02d}0190{i % 9000 + 1:04d};157101{(i % 28) + 1:02d}1020{i % 9000 + 1:04d};"
                     f"{code};layak;"
                     f"{1 + i % 28:02d}/10/2026;rumah_{i:05d}.jpg;Petugas {i % 50}")
    with Pool(processes) as pool:
        sizes = [size for _name, size in pool.imap(_one, jobs, chunksize=32)]
    (out / "verval.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    info = {"photos": photos, "mean_kb": round(sum(sizes) / len(sizes) / 1024, 1), "width": WIDTH, "height": HEIGHT}
    (out / "manifest.json").write_text(json.dumps(info))
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.verval")
    sub = parser.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--photos", type=int, default=10_000)
    g.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    out = Path(args.out)
    manifest = out / "manifest.json"
    if manifest.exists() and json.loads(manifest.read_text()).get("photos") == args.photos:
        print(manifest.read_text())
        return 0
    print(json.dumps(generate(args.photos, out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
