"""Kelurahan polygons in metres, for `foto_di_luar_kelurahan`.

The boundaries are `include/reference/kota_jambi_kelurahan_boundaries.geojson` ([lng, lat], MIT, see the LICENSE file
beside it). They are projected once onto a local equirectangular plane centred on Kota Jambi (x = east, y = north,
metres): over the city's 20 km the scale error stays under 0.1 %, well inside the 250 m tolerance, and distances
come straight from shapely in metres.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

BOUNDARIES_FILE = "kota_jambi_kelurahan_boundaries.geojson"
# Centre of Kota Jambi (the origin of the local plane).
LAT0, LNG0 = -1.61, 103.60
# Metres per degree at LAT0 on the WGS84 ellipsoid (meridian and parallel).
_A, _E2 = 6378137.0, 0.00669437999014
_PHI = math.radians(LAT0)
M_PER_DEG_LAT = math.pi / 180 * _A * (1 - _E2) / (1 - _E2 * math.sin(_PHI) ** 2) ** 1.5
M_PER_DEG_LNG = math.pi / 180 * _A * math.cos(_PHI) / math.sqrt(1 - _E2 * math.sin(_PHI) ** 2)


def to_metres(coords: np.ndarray) -> np.ndarray:
    """[[lng, lat], ...] -> [[x, y], ...] in metres on the local plane."""
    coords = np.asarray(coords, dtype=float)
    return np.column_stack(((coords[:, 0] - LNG0) * M_PER_DEG_LNG, (coords[:, 1] - LAT0) * M_PER_DEG_LAT))


class Boundaries:
    """Projected kelurahan polygons by code (`15.71.01.1001`)."""

    def __init__(self, polygons: dict):
        import shapely

        self.polygons = polygons
        for geom in polygons.values():
            shapely.prepare(geom)

    @classmethod
    def load(cls, reference_dir: str | Path) -> Boundaries:
        return _load(str(Path(reference_dir) / BOUNDARIES_FILE))

    def distance_m(self, kode_kelurahan: str, lat: float, lng: float) -> float | None:
        """Metres from the point to the kelurahan polygon (0 inside); None for an unknown kelurahan."""
        import shapely

        geom = self.polygons.get(kode_kelurahan)
        if geom is None:
            return None
        x, y = to_metres(np.array([[lng, lat]]))[0]
        return float(shapely.distance(geom, shapely.Point(x, y)))

    def containing(self, lat: float, lng: float) -> str | None:
        """The kelurahan whose polygon holds the point (for messages), None outside the city."""
        import shapely

        point = shapely.Point(*to_metres(np.array([[lng, lat]]))[0])
        for code, geom in self.polygons.items():
            if shapely.contains(geom, point):
                return code
        return None


@lru_cache(maxsize=4)
def _load(path: str) -> Boundaries:
    import shapely
    from shapely.geometry import shape

    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    polygons = {}
    for feature in data["features"]:
        geom = shapely.transform(shape(feature["geometry"]), to_metres)
        polygons[feature["properties"]["kode"]] = geom if geom.is_valid else geom.buffer(0)
    return Boundaries(polygons)


def from_metres(x: float, y: float) -> tuple[float, float]:
    """(lat, lng) of a point of the local plane."""
    return LAT0 + y / M_PER_DEG_LAT, LNG0 + x / M_PER_DEG_LNG
