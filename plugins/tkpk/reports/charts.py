"""PNG charts for the monthly reports (matplotlib, headless), labelled in Indonesian.

Drawn at 6 inches x 200 dpi (1200 px) and shown 600 px wide in the e-mail, so they stay sharp on phones and readable
at e-mail width. Each function takes the figures dict slice it shows and returns PNG bytes, or None when there is
nothing to draw (a chart of zeros helps nobody). matplotlib is imported inside the functions: the DAG file may import
this package at parse time.
"""

from __future__ import annotations

import io

from tkpk.reports.format import angka, persen, selisih

WIDTH_IN = 6.0
DPI = 200
COLORS = {
    "extreme": "#0f766e",
    "exclusion": "#d97706",
    "inclusion": "#7c3aed",
    "ok": "#15803d",
    "late": "#ca8a04",
    "rejected": "#b91c1c",
    "missing": "#9ca3af",
    "gained": "#1d4ed8",  # simulation map: families gained / lost (blue / orange, told apart without red-green)
    "lost": "#c2410c",
    "text": "#1f2937",
    "grid": "#e5e7eb",
}


def _figure(height_in: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI)
    fig.patch.set_facecolor("white")
    return fig


def _style(ax, title: str) -> None:
    ax.set_title(title, loc="left", fontsize=12.5, fontweight="bold", color=COLORS["text"], pad=10)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color(COLORS["grid"])
    ax.spines["bottom"].set_color(COLORS["grid"])
    ax.tick_params(colors=COLORS["text"], labelsize=10)
    ax.set_axisbelow(True)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", pad_inches=0.15, facecolor="white",
                metadata={"Software": None})
    return buf.getvalue()


def _int_axis(axis, number=angka) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: number(v)))


def extreme_poor_by_area(rows: list[dict], area_label: str) -> bytes | None:
    """Horizontal bars: extreme-poor households per kecamatan (city report) or kelurahan (kecamatan report)."""
    rows = [r for r in rows if r["extreme_poor"] or r.get("households")]
    if not rows or not any(r["extreme_poor"] for r in rows):
        return None
    rows = sorted(rows, key=lambda r: (r["extreme_poor"], r["name"]))
    fig = _figure(0.7 + 0.34 * len(rows))
    ax = fig.add_subplot()
    values = [r["extreme_poor"] for r in rows]
    bars = ax.barh([r["name"] for r in rows], values, color=COLORS["extreme"], height=0.62)
    ax.bar_label(bars, labels=[angka(v) for v in values], padding=3, fontsize=9.5, color=COLORS["text"])
    _style(ax, f"Keluarga miskin ekstrem per {area_label}")
    ax.grid(axis="x", color=COLORS["grid"], linewidth=0.8)
    _int_axis(ax.xaxis)
    ax.set_xlim(0, max(values) * 1.15)
    return _png(fig)


def targeting_errors(programs: list[dict]) -> bytes | None:
    """Grouped bars per program: exclusion errors (eligible, not receiving) and inclusion errors (receiving, not
    eligible)."""
    rows = [p for p in programs if p["has_recipients"] and (p["exclusion"] or p["inclusion"])]
    if not rows:
        return None
    import numpy as np

    rows = rows[::-1]
    names = [_short_program(p["name"]) for p in rows]
    y = np.arange(len(rows))
    fig = _figure(1.0 + 0.62 * len(rows))
    ax = fig.add_subplot()
    h = 0.38
    exc = ax.barh(y + h / 2, [p["exclusion"] for p in rows], height=h, color=COLORS["exclusion"],
                  label="Layak tetapi belum menerima (kesalahan eksklusi)")
    inc = ax.barh(y - h / 2, [p["inclusion"] for p in rows], height=h, color=COLORS["inclusion"],
                  label="Menerima tetapi tidak layak (kesalahan inklusi)")
    ax.bar_label(exc, labels=[angka(p["exclusion"]) for p in rows], padding=3, fontsize=9.5)
    ax.bar_label(inc, labels=[angka(p["inclusion"]) for p in rows], padding=3, fontsize=9.5)
    ax.set_yticks(y, names)
    _style(ax, "Salah sasaran per program")
    ax.grid(axis="x", color=COLORS["grid"], linewidth=0.8)
    _int_axis(ax.xaxis)
    top = max(max(p["exclusion"], p["inclusion"]) for p in rows)
    ax.set_xlim(0, top * 1.18 or 1)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08 - 0.3 / len(rows)), ncol=1, fontsize=9.5,
              frameon=False)
    return _png(fig)


def trend(points: list[dict]) -> bytes | None:
    """12-month trend: extreme-poor households, exclusion and inclusion errors; needs two months or more."""
    if len(points) < 2:
        return None
    fig = _figure(3.2)
    ax = fig.add_subplot()
    labels = [_month_short(p["period"]) for p in points]
    x = list(range(len(points)))
    series = [
        ("extreme_poor", "Keluarga miskin ekstrem", COLORS["extreme"]),
        ("exclusion_households", "Keluarga dengan kesalahan eksklusi", COLORS["exclusion"]),
        ("inclusion_households", "Keluarga dengan kesalahan inklusi", COLORS["inclusion"]),
    ]
    for key, label, color in series:
        values = [p[key] for p in points]
        ax.plot(x, values, marker="o", markersize=4, linewidth=2, color=color, label=label)
        ax.annotate(angka(values[-1]), (x[-1], values[-1]), textcoords="offset points", xytext=(6, 0),
                    va="center", fontsize=9.5, color=color, fontweight="bold")
    ax.set_xticks(x, labels)
    ax.set_xlim(-0.3, len(points) - 0.4)
    _style(ax, "Tren 12 bulan terakhir")
    ax.grid(axis="y", color=COLORS["grid"], linewidth=0.8)
    _int_axis(ax.yaxis)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=9.5, frameon=False)
    return _png(fig)


def scorecard(rows: list[dict]) -> bytes | None:
    """Data quality per OPD: share of rows accepted, coloured by status (accepted, late, rejected, missing)."""
    rows = [r for r in rows if r["opd"] != "kelurahan"]
    if not rows:
        return None
    rows = rows[::-1]
    fig = _figure(0.9 + 0.38 * len(rows))
    ax = fig.add_subplot()
    colors, values, labels = [], [], []
    for r in rows:
        if r["status"] == "belum_mengirim":
            colors.append(COLORS["missing"])
            values.append(0)
            labels.append("belum mengirim")
        elif r["status"].startswith("ditolak"):
            colors.append(COLORS["rejected"])
            values.append((r["accepted_share"] or 0) * 100)
            labels.append("berkas ditolak")
        else:
            colors.append(COLORS["late"] if r["on_time"] is False else COLORS["ok"])
            values.append((r["accepted_share"] or 0) * 100)
            late = " (terlambat)" if r["on_time"] is False else ""
            labels.append(persen(r["accepted_share"], 1) + late)
    bars = ax.barh([r["short"] for r in rows], values, color=colors, height=0.62)
    ax.bar_label(bars, labels=labels, padding=3, fontsize=9.5)
    ax.set_xlim(0, 135)
    ax.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
    _style(ax, "Kualitas data OPD: baris diterima")
    ax.grid(axis="x", color=COLORS["grid"], linewidth=0.8)
    return _png(fig)


def _short_program(name: str) -> str:
    """`Program Keluarga Harapan (PKH)` -> `PKH`; names without an acronym are wrapped."""
    if name.endswith(")") and "(" in name:
        return name[name.rindex("(") + 1:-1]
    import textwrap

    return "\n".join(textwrap.wrap(name, 22))


def _month_short(period: str) -> str:
    from tkpk.period import BULAN

    year, month = period.split("-")
    return f"{BULAN[int(month) - 1][:3]} {year[2:]}"


# --- choropleth maps ---------------------------------------------------------------------------------------------


def _boundaries(reference_dir) -> list[tuple[str, object]]:
    """(kode_kelurahan, shapely geometry) for every kelurahan of Kota Jambi, from the GeoJSON in the repo (MIT,
    include/reference/LICENSE-wilayah_boundaries.txt); no tiles, no network."""
    from pathlib import Path

    path = Path(reference_dir) / "kota_jambi_kelurahan_boundaries.geojson"
    return _load_boundaries(str(path), path.stat().st_mtime)


def _load_boundaries(path: str, _mtime: float):
    import json

    from shapely.geometry import shape

    cached = _BOUNDARY_CACHE.get((path, _mtime))
    if cached is None:
        with open(path, encoding="utf-8") as fh:
            features = json.load(fh)["features"]
        cached = [(f["properties"]["kode"], shape(f["geometry"])) for f in features]
        _BOUNDARY_CACHE[(path, _mtime)] = cached
    return cached


_BOUNDARY_CACHE: dict = {}


def choropleth(values: dict[str, int], title: str, legend: str, reference_dir, *, color: str,
               focus: set[str] | None = None, negative_color: str | None = None,
               ends: tuple[str, str] | None = None) -> bytes | None:
    """A map of Kota Jambi's kelurahan shaded by `values` (kode_kelurahan -> count): darker = more. `focus` (a
    kecamatan's kelurahan) is drawn in colour and the rest of the city in light grey around it. None when every
    value is zero.

    With `negative_color` the scale diverges around zero (a change, e.g. families gained minus lost in a
    simulation): negative values shade towards `negative_color`, positive ones towards `color`, zero stays white,
    and the numbers on the map and the legend are signed (`+12`, `−3`). `ends` names the two ends of the colour
    bar (negative end first), e.g. ("berkurang", "bertambah")."""
    shown = {k: v for k, v in values.items() if focus is None or k in focus}
    if not any(shown.values()):
        return None
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import LinearSegmentedColormap, Normalize
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath
    from shapely.geometry import MultiPolygon

    shapes = _boundaries(reference_dir)
    diverging = negative_color is not None
    top = max(abs(v) for v in shown.values())
    cmap = LinearSegmentedColormap.from_list(
        "tkpk", [negative_color, "#f8fafc", color] if diverging else ["#f8fafc", color])
    norm = Normalize(vmin=-top if diverging else 0, vmax=top)
    number = selisih if diverging else angka

    def strength(value) -> float:  # 0 (white) .. 1 (full colour)
        return abs(2 * norm(value) - 1) if diverging else norm(value)

    # A change map is mostly white (no change): grey borders keep the city's outline; shades separate by white.
    edge = "#cbd5e1" if diverging else "#ffffff"
    fig = _figure(5.2)
    ax = fig.add_subplot()
    bounds = []
    for code, geom in shapes:
        inside = focus is None or code in focus
        face = cmap(norm(shown.get(code, 0))) if inside else "#f3f4f6"
        polygons = geom.geoms if isinstance(geom, MultiPolygon) else [geom]
        for poly in polygons:
            rings = [poly.exterior, *poly.interiors]
            verts, codes = [], []
            for ring in rings:
                xy = list(ring.coords)
                verts += xy
                codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(xy) - 2) + [MplPath.CLOSEPOLY]
            ax.add_patch(PathPatch(MplPath(verts, codes), facecolor=face, edgecolor=edge if inside else "#d1d5db",
                                   linewidth=0.6))
        if inside:
            bounds.append(geom.bounds)
            value = shown.get(code, 0)
            if value:
                point = geom.representative_point()
                ax.text(point.x, point.y, number(value), ha="center", va="center", fontsize=6.5,
                        color="#ffffff" if strength(value) > 0.55 else COLORS["text"])
    minx = min(b[0] for b in bounds)
    miny = min(b[1] for b in bounds)
    maxx = max(b[2] for b in bounds)
    maxy = max(b[3] for b in bounds)
    pad = 0.04 * max(maxx - minx, maxy - miny)
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title, loc="left", fontsize=12.5, fontweight="bold", color=COLORS["text"], pad=10)
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, orientation="horizontal", fraction=0.04,
                       pad=0.02, shrink=0.7)
    bar.set_label(legend, fontsize=9.5, color=COLORS["text"])
    bar.ax.tick_params(labelsize=8.5)
    _int_axis(bar.ax.xaxis, number)
    if ends:
        for x, text, align, tint in ((0, f"\u2190 {ends[0]}", "left", negative_color or COLORS["text"]),
                                     (1, f"{ends[1]} \u2192", "right", color)):
            bar.ax.text(x, 1.35, text, transform=bar.ax.transAxes, ha=align, va="bottom", fontsize=9,
                        fontweight="bold", color=tint)
    return _png(fig)
