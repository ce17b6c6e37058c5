"""The simulation report's map is the reports' kelurahan map with a scale diverging around zero: net families
gained minus lost per kelurahan for the first scenario with area rows; no map when nothing moves."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from tkpk.reports import charts
from tkpk.simulate import report

REFERENCE = Path(__file__).resolve().parents[2] / "include" / "reference"


def _simulation(rows: list[tuple[str, str, int, int]], name: str = "desil 1"):
    areas = pd.DataFrame([{"program": p, "kode_kelurahan": k, "kode_kecamatan": k[:8], "families_gained": g,
                           "families_lost": lost, "persons_gained": g, "persons_lost": lost, "rupiah_before": 0,
                           "rupiah_after": 0} for p, k, g, lost in rows])
    empty = SimpleNamespace(areas=None, scenario=SimpleNamespace(name="tanpa wilayah"))
    return SimpleNamespace(results=[empty, SimpleNamespace(areas=areas, scenario=SimpleNamespace(name=name))])


def test_the_map_shows_net_families_per_kelurahan_on_the_reports_map(monkeypatch):
    calls = []
    real = charts.choropleth

    def spy(values, title, legend, reference_dir, **kw):
        calls.append((values, title, legend, kw))
        return real(values, title, legend, reference_dir, **kw)

    monkeypatch.setattr(charts, "choropleth", spy)
    sim = _simulation([("pkh", "15.71.01.1001", 5, 0), ("bpjs_tk", "15.71.01.1001", 1, 2),
                       ("pkh", "15.71.01.1002", 0, 3), ("pkh", "15.71.01.1003", 2, 2)])
    png = report.choropleth(sim, REFERENCE)
    assert png.startswith(b"\x89PNG")
    [(values, title, legend, kw)] = calls
    assert values == {"15.71.01.1001": 4, "15.71.01.1002": -3, "15.71.01.1003": 0}
    assert title.endswith("skenario 'desil 1'") and legend == "selisih keluarga (bertambah \u2212 berkurang)"
    assert kw == {"color": charts.COLORS["gained"], "negative_color": charts.COLORS["lost"],
                  "ends": ("berkurang", "bertambah")}


def test_no_map_when_nothing_moves():
    assert report.choropleth(_simulation([("pkh", "15.71.01.1001", 2, 2)]), REFERENCE) is None
    assert report.choropleth(SimpleNamespace(results=[]), REFERENCE) is None
