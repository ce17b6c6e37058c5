"""Synthetic field verification (verval) for `tkpk synth`: per month, in a few kelurahan, a sheet of visited
households and one small JPEG of each house with EXIF GPS and date, in `{landing}/{YYYY-MM}/kel-<code>/verval/`.

The photo faults come in known proportions (FAULT_CYCLE, one slot per visited household in order) and are written
to `truth/verval.csv`, so a test or `make demo` can check what the checks find. Kept small (320x240 JPEGs, a few
households per kelurahan) so the demo stays fast.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from tkpk.period import BULAN, Period
from tkpk.synth.photos import photo_bytes, recompressed
from tkpk.synth.population import rng_for

# One slot per visited household, repeated: 11 of 20 photos are fine, the rest carry one fault each.
FAULT_CYCLE = (["ok"] * 11 + ["foto_tanpa_gps"] * 2 + ["foto_di_luar_kelurahan"] * 2
               + ["foto_tanggal_tidak_sesuai"] * 2 + ["foto_dipakai_ulang", "foto_tidak_ada", "foto_rusak"])
HASIL = (["layak"] * 5 + ["tidak_layak"] * 2 + ["pindah", "meninggal", "tidak_ditemui"])
KELURAHAN = 8  # kelurahan that send verval each month (the first is Simpang IV Sipin, which has a lurah recipient)
PER_KELURAHAN = 5
HEADER = ["NIK", "No KK", "Kelurahan", "Hasil Verifikasi", "Tanggal Kunjungan", "Foto Rumah", "Petugas", "Foto Lain",
          "Catatan"]


def _points(boundaries, code: str, rng) -> tuple[tuple[float, float], tuple[float, float]]:
    """(a point inside the kelurahan, a point ~2 km north of it) as (lat, lng)."""
    from tkpk.verval.geo import from_metres

    geom = boundaries.polygons[code]
    inside = geom.representative_point()
    _minx, _miny, _maxx, maxy = geom.bounds
    return from_metres(inside.x, inside.y), from_metres(inside.x, maxy + 1800 + float(rng.integers(0, 400)))


def write_verval(out: Path, pop, period: Period, seed: int, reference_dir: Path, counter: list[int]) -> list[dict]:
    """Write one month's verval folders; returns the truth rows: period, opd_code, row, the fault planted on the row
    (`fault`), every check code the row should get (`faults`, `;`-separated: a re-used photo flags both rows) and
    hasil_verifikasi."""
    from tkpk.verval.geo import Boundaries

    boundaries = Boundaries.load(reference_dir)
    kel = pop.kel.sort_values("digits")
    first = kel[kel["digits"] == "1571011001"]
    chosen = pd.concat([first, kel[kel["digits"] != "1571011001"].iloc[:: max(1, len(kel) // KELURAHAN)]])
    chosen = chosen.drop_duplicates("digits").head(KELURAHAN)
    hh = pop.hh[pop.hh["in_registry"]]
    heads = pop.pp[(pop.pp["rel"] == "kepala_keluarga") & pop.pp["in_registry"]].drop_duplicates("hh")
    head_nik = dict(zip(heads["hh"], heads["nik"], strict=False))
    truth: list[dict] = []
    month = BULAN[period.month - 1]
    for _, k in chosen.iterrows():
        code = k["kode_kelurahan"]
        rng = rng_for(seed, "verval", str(period), code)
        pool = hh[hh["kode_kelurahan"] == code]
        pool = pool[pool["desil"].astype(int).between(0, 4)] if len(pool) > PER_KELURAHAN else pool
        if pool.empty:
            continue
        picked = pool.iloc[rng.choice(len(pool), size=min(PER_KELURAHAN, len(pool)), replace=False)]
        folder = out / "landing" / str(period) / f"kel-{k['digits']}" / "verval"
        folder.mkdir(parents=True, exist_ok=True)
        inside, outside = _points(boundaries, code, rng)
        lines, previous = [], None
        for i, (idx, house) in enumerate(picked.iterrows()):
            fault = FAULT_CYCLE[counter[0] % len(FAULT_CYCLE)]
            counter[0] += 1
            visit = date(period.year, period.month, int(rng.integers(3, 26)))
            taken = datetime(visit.year, visit.month, visit.day, int(rng.integers(8, 16)), int(rng.integers(0, 60)))
            name = f"rumah_{k['digits']}_{i + 1:02d}.jpg"
            where = outside if fault == "foto_di_luar_kelurahan" else inside
            if fault == "foto_tanpa_gps":
                where = (None, None)
            if fault == "foto_tanggal_tidak_sesuai":
                taken -= timedelta(days=40)
            data = photo_bytes(int(rng.integers(0, 2**31)), *where, taken)
            if fault == "foto_dipakai_ulang" and previous is None:
                fault = "ok"  # nothing earlier in this folder to re-use
            if fault == "foto_dipakai_ulang":
                data = recompressed(previous[0], 0.75, 70)  # the earlier house again, resized: both rows flagged
                visit = previous[2]  # same day, so the re-use is the only fault
                truth[previous[1]]["faults"] += ";foto_dipakai_ulang"
            elif fault == "foto_rusak":
                data = data[: len(data) // 3]
            if fault != "foto_tidak_ada":
                (folder / name).write_bytes(data)
            if fault == "ok":
                previous = (data, len(truth), visit)
            hasil = HASIL[int(rng.integers(0, len(HASIL)))]
            lines.append([head_nik.get(idx, ""), house["no_kk"], k["kelurahan"], hasil.replace("_", " ").title(),
                          visit.strftime("%d/%m/%Y"), name, f"Petugas {k['kelurahan']}", "",
                          "" if hasil == "layak" else "hasil kunjungan rumah"])
            truth.append({"period": str(period), "opd_code": f"kel-{k['digits']}", "row": i + 2, "fault": fault,
                          "faults": "" if fault == "ok" else fault, "hasil_verifikasi": hasil})
        sheet = pd.DataFrame(lines, columns=HEADER)
        sheet.to_csv(folder / f"Hasil Verval {k['kelurahan']} {month} {period.year}.csv", sep=";", index=False,
                     encoding="utf-8")
    return truth
