"""The kelurahan map (`tkpk.reports.charts.choropleth`) in its two scales: counts (the monthly reports) and a
change diverging around zero (the simulation report). The figure is read back before it becomes a PNG: the words
are Indonesian, the numbers of a change are signed, and nothing but the repo's GeoJSON is drawn."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tkpk.reports import charts

REFERENCE = Path(__file__).resolve().parents[2] / "include" / "reference"
CODES = [f["properties"]["kode"] for f in json.loads(
    (REFERENCE / "kota_jambi_kelurahan_boundaries.geojson").read_text(encoding="utf-8"))["features"]]


@pytest.fixture
def drawn(monkeypatch):
    """Keep the matplotlib figure each map draws (and still return its PNG)."""
    figures = []
    real = charts._png

    def keep(fig):
        figures.append(fig)
        return real(fig)

    monkeypatch.setattr(charts, "_png", keep)
    return figures


def _texts(fig) -> tuple[list[str], list[str], list[str]]:
    """(labels on the map, colour-bar tick labels, every other text of the colour bar)."""
    fig.canvas.draw()
    ax, bar = fig.axes
    ticks = [t.get_text() for t in bar.get_xticklabels() if t.get_text()]
    return [t.get_text() for t in ax.texts], ticks, [t.get_text() for t in bar.texts] + [bar.get_xlabel()]


def test_a_count_map_is_unsigned_and_white_at_zero(drawn):
    png = charts.choropleth({CODES[0]: 120, CODES[1]: 7, CODES[2]: 0}, "Keluarga miskin ekstrem per kelurahan",
                            "keluarga miskin ekstrem", REFERENCE, color=charts.COLORS["extreme"])
    assert png.startswith(b"\x89PNG")
    labels, ticks, legend = _texts(drawn[0])
    assert sorted(labels) == ["120", "7"]
    assert ticks[0] == "0" and not any(t.startswith(("+", "\u2212")) for t in ticks)
    assert legend == ["keluarga miskin ekstrem"]
    assert charts.choropleth({CODES[0]: 0}, "t", "l", REFERENCE, color="#000000") is None


def test_a_change_map_diverges_around_zero_with_signed_numbers_and_named_ends(drawn):
    from matplotlib.patches import PathPatch

    png = charts.choropleth({CODES[0]: 40, CODES[1]: -60, CODES[2]: 0, CODES[3]: 1234}, "Keluarga bertambah",
                            "selisih keluarga", REFERENCE, color=charts.COLORS["gained"],
                            negative_color=charts.COLORS["lost"], ends=("berkurang", "bertambah"))
    assert png.startswith(b"\x89PNG")
    fig = drawn[0]
    labels, ticks, legend = _texts(fig)
    assert sorted(labels) == ["+1.234", "+40", "\u221260"]  # Indonesian thousands, a true minus sign
    assert "0" in ticks and any(t.startswith("\u2212") for t in ticks) and any(t.startswith("+") for t in ticks)
    assert legend == ["\u2190 berkurang", "bertambah \u2192", "selisih keluarga"]
    # symmetric: as much blue for the largest gain as orange for a loss of the same size; zero is white
    bar = fig.axes[1]
    low, high = bar.get_xlim()
    assert low == -high == -1234
    faces = {tuple(round(c, 2) for c in p.get_facecolor()[:3]) for p in fig.axes[0].patches
             if isinstance(p, PathPatch)}
    assert (0.97, 0.98, 0.99) in faces  # #f8fafc: no change
    assert not fig.axes[0].images  # polygons only: no tiles, no background picture
