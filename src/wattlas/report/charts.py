"""Charts as inline SVG strings: pure functions from plain dicts/lists to ``<svg>`` text.

Each function takes numbers in SI units and converts to display units (GiB, MW, days, ms) only
for its axis labels. A chart with no data returns a short "no data in the plan" note (a
``<p>``), never an empty SVG; a value the plan lacks is drawn as missing (unfilled, listed),
never as zero. No scripts, no external fonts: the output opens offline in any browser.

References
----------
Equirectangular projection (plate carrée): x ∝ longitude, y ∝ latitude; Snyder, J. P. (1987),
*Map Projections — A Working Manual*, USGS Professional Paper 1395, pp. 90–91.
"Nice" axis ticks (1, 2, 5 × 10^k): Heckbert, P. S. (1990), "Nice numbers for graph labels",
*Graphics Gems*, pp. 61–63.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import cache
from html import escape
from typing import Any

from ..units import J_PER_MWH, SECONDS_PER_DAY, W_PER_MW

#: Colour-blind-safe categorical palette (Okabe & Ito 2008).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#000000", "#999999", "#882255", "#44AA99")
FONT = "font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif"
GIB = 2.0**30


def not_asked(title: str, why: str = "no data in the plan") -> str:
    """The note shown instead of a chart that has no data (a stage the scenario does not use
    gets no section at all)."""
    return f'<p class="not-asked"><strong>{escape(title)}</strong>: {escape(why)}.</p>'


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About `n` round tick values (1, 2, 5 × 10^k steps) covering [lo, hi] (Heckbert 1990)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi <= lo:
        hi = lo + (abs(lo) if lo else 1.0)
    raw = (hi - lo) / max(n, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step + 1e-9) * step
    count = math.ceil((hi - start) / step - 1e-9)
    ticks = [start + i * step for i in range(count + 1)]
    if ticks[-1] < hi:  # floating-point shortfall: one more step covers hi
        ticks.append(ticks[-1] + step)
    decimals = max(0, 2 - math.floor(math.log10(step)))  # strip float noise, keep the step
    return [round(t, decimals) for t in ticks]


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e4 or a < 1e-2:
        return f"{v:.2g}"
    if a >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{escape(title)}" style="{FONT};font-size:12px">'
            f'<title>{escape(title)}</title>'
            f'<text x="{width / 2:.1f}" y="18" text-anchor="middle" font-size="14" '
            f'font-weight="600">{escape(title)}</text>' + "".join(body) + "</svg>")


def _text(x: float, y: float, s: str, anchor: str = "start", size: int = 11,
          extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}"'
            f'{extra}>{escape(s)}</text>')


def _legend(items: Sequence[tuple[str, str]], x: float, y: float, dy: float = 16) -> list[str]:
    out = []
    for i, (label, colour) in enumerate(items):
        yy = y + i * dy
        out.append(f'<rect x="{x:.1f}" y="{yy - 9:.1f}" width="10" height="10" '
                   f'fill="{colour}"/>')
        out.append(_text(x + 14, yy, label))
    return out


def _x_axis(x0: float, x1: float, y: float, ticks: Sequence[float], scale, label: str,
            grid_top: float | None = None) -> list[str]:
    out = [f'<line x1="{x0:.1f}" y1="{y:.1f}" x2="{x1:.1f}" y2="{y:.1f}" stroke="#333"/>']
    for t in ticks:
        xx = scale(t)
        if grid_top is not None:
            out.append(f'<line x1="{xx:.1f}" y1="{grid_top:.1f}" x2="{xx:.1f}" y2="{y:.1f}" '
                       f'stroke="#ddd"/>')
        out.append(f'<line x1="{xx:.1f}" y1="{y:.1f}" x2="{xx:.1f}" y2="{y + 4:.1f}" '
                   f'stroke="#333"/>')
        out.append(_text(xx, y + 16, _fmt(t), "middle"))
    out.append(_text((x0 + x1) / 2, y + 32, label, "middle", 12))
    return out


def _y_axis(y0: float, y1: float, x: float, ticks: Sequence[float], scale, label: str,
            grid_right: float | None = None) -> list[str]:
    """Vertical axis from y0 (bottom) to y1 (top) at x."""
    out = [f'<line x1="{x:.1f}" y1="{y0:.1f}" x2="{x:.1f}" y2="{y1:.1f}" stroke="#333"/>']
    for t in ticks:
        yy = scale(t)
        if grid_right is not None:
            out.append(f'<line x1="{x:.1f}" y1="{yy:.1f}" x2="{grid_right:.1f}" y2="{yy:.1f}" '
                       f'stroke="#ddd"/>')
        out.append(f'<line x1="{x - 4:.1f}" y1="{yy:.1f}" x2="{x:.1f}" y2="{yy:.1f}" '
                   f'stroke="#333"/>')
        out.append(_text(x - 6, yy + 4, _fmt(t), "end"))
    cy = (y0 + y1) / 2
    out.append(f'<text x="{x - 44:.1f}" y="{cy:.1f}" text-anchor="middle" font-size="12" '
               f'transform="rotate(-90 {x - 44:.1f} {cy:.1f})">{escape(label)}</text>')
    return out


def _positive(parts: Mapping[str, float | None]) -> dict[str, float]:
    return {k: float(v) for k, v in parts.items()
            if v is not None and math.isfinite(float(v)) and float(v) > 0}


def stacked_bar(title: str, parts: Mapping[str, float | None], unit: str, scale: float = 1.0,
                capacity: float | None = None, capacity_label: str = "capacity",
                width: int = 720) -> str:
    """One horizontal stacked bar of named parts, an x axis in `unit` (value / `scale`), and an
    optional vertical capacity line. Zero and missing parts are left out."""
    vals = _positive(parts)
    if not vals:
        return not_asked(title)
    total = sum(vals.values()) / scale
    cap = capacity / scale if capacity else None
    hi = max(total, cap or 0.0) * 1.05
    ticks = nice_ticks(0.0, hi)
    hi = max(hi, ticks[-1])
    left, right = 30, width - 30
    legend_rows = math.ceil(len(vals) / 4)
    height = 150 + 18 * legend_rows

    def sx(v: float) -> float:
        return left + (right - left) * v / hi

    body: list[str] = []
    bar_y, bar_h = 40, 40
    acc = 0.0
    items = []
    for i, (name, v) in enumerate(vals.items()):
        colour = PALETTE[i % len(PALETTE)]
        w = v / scale
        seg_w = max(sx(acc + w) - sx(acc), 0.5)
        body.append(f'<rect x="{sx(acc):.1f}" y="{bar_y}" width="{seg_w:.1f}" '
                    f'height="{bar_h}" fill="{colour}"><title>{escape(name)}: {_fmt(w)} '
                    f'{escape(unit)}</title></rect>')
        items.append((f"{name} {_fmt(w)}", colour))
        acc += w
    body.append(_text(sx(acc) + 4, bar_y + bar_h / 2 + 4, f"{_fmt(total)} {unit}"))
    if cap:
        body.append(f'<line x1="{sx(cap):.1f}" y1="{bar_y - 10}" x2="{sx(cap):.1f}" '
                    f'y2="{bar_y + bar_h + 10}" stroke="#C00" stroke-width="2" '
                    f'stroke-dasharray="5,3"/>')
        body.append(_text(sx(cap), bar_y - 12, f"{capacity_label} {_fmt(cap)} {unit}", "middle",
                          extra=' fill="#C00"'))
    body += _x_axis(left, right, bar_y + bar_h + 10, ticks, sx, unit, grid_top=bar_y)
    for row in range(legend_rows):
        chunk = items[row * 4:(row + 1) * 4]
        for j, (label, colour) in enumerate(chunk):
            body += _legend([(label, colour)], left + j * (right - left) / 4,
                            bar_y + bar_h + 62 + row * 18)
    return _svg(width, height, title, body)


def step_time_breakdown(breakdown_s: Mapping[str, float] | None) -> str:
    """Training step time by part (compute, recompute, TP/PP/DP/CP/EP comm, bubble, …) [s]."""
    return stacked_bar("Step time breakdown", breakdown_s or {}, "s")


def memory_per_gpu(memory_bytes: Mapping[str, float] | None,
                   capacity_bytes: float | None) -> str:
    """Memory per GPU by part [bytes → GiB] against the device's HBM capacity line."""
    return stacked_bar("Memory per GPU vs capacity", memory_bytes or {}, "GiB", scale=GIB,
                       capacity=capacity_bytes, capacity_label="HBM")


def bar_chart(title: str, values: Mapping[str, float | None], unit: str, scale: float = 1.0,
              width: int = 720) -> str:
    """Vertical bars, one per named value (value / `scale` in `unit`)."""
    vals = _positive(values)
    if not vals:
        return not_asked(title)
    height = 300
    left, right, top, bottom = 80, width - 20, 40, height - 60
    hi = max(vals.values()) / scale * 1.1
    ticks = nice_ticks(0.0, hi)
    hi = max(hi, ticks[-1])

    def sy(v: float) -> float:
        return bottom - (bottom - top) * v / hi

    body = _y_axis(bottom, top, left, ticks, sy, unit, grid_right=right)
    slot = (right - left) / len(vals)
    for i, (name, v) in enumerate(vals.items()):
        w = v / scale
        x = left + i * slot + slot * 0.15
        body.append(f'<rect x="{x:.1f}" y="{sy(w):.1f}" width="{slot * 0.7:.1f}" '
                    f'height="{bottom - sy(w):.1f}" fill="{PALETTE[i % len(PALETTE)]}">'
                    f'<title>{escape(name)}: {_fmt(w)} {escape(unit)}</title></rect>')
        body.append(_text(x + slot * 0.35, sy(w) - 4, _fmt(w), "middle"))
        body.append(_text(x + slot * 0.35, bottom + 16, name, "middle"))
    body.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#333"/>')
    return _svg(width, height, title, body)


def power_by_component(components_w: Mapping[str, float | None] | None) -> str:
    """Facility power by component (GPUs, hosts, network, cooling …) [W → MW]."""
    return bar_chart("Power by component", components_w or {}, "MW", scale=1e6)


def energy_by_component(components_j: Mapping[str, float | None] | None) -> str:
    """Energy by component [J → MWh] (1 MWh = 3.6e9 J)."""
    return bar_chart("Energy by component", components_j or {}, "MWh", scale=3.6e9)


def region_scatter(regions: Sequence[Mapping[str, Any]] | None, width: int = 720) -> str:
    """Regions: time-to-power (high, years) on x, energy cost per year (USD → M$) on y, carbon
    per year as bubble area and colour (kg → kt CO2e); Pareto-front regions ringed, infeasible
    ones hollow grey."""
    title = "Region comparison"
    pts = [r for r in regions or [] if r.get("time_to_power_years_high") is not None
           and r.get("energy_cost_usd_per_year") is not None]
    if not pts:
        return not_asked(title)
    height = 380
    left, right, top, bottom = 90, width - 150, 40, height - 60
    xs = [float(r["time_to_power_years_high"]) for r in pts]
    ys = [float(r["energy_cost_usd_per_year"]) / 1e6 for r in pts]
    cs = [float(r["co2e_kg_per_year"]) / 1e6 if r.get("co2e_kg_per_year") is not None else None
          for r in pts]
    xt = nice_ticks(0.0, max(xs) * 1.15)
    yt = nice_ticks(0.0, max(ys) * 1.15)
    xhi, yhi = xt[-1], yt[-1]
    cmax = max((c for c in cs if c is not None), default=0.0) or 1.0

    def sx(v: float) -> float:
        return left + (right - left) * v / xhi

    def sy(v: float) -> float:
        return bottom - (bottom - top) * v / yhi

    body = _y_axis(bottom, top, left, yt, sy, "energy cost [M$/year]", grid_right=right)
    body += _x_axis(left, right, bottom, xt, sx, "time to power, high [years]", grid_top=top)
    front = sorted((x, y) for x, y, r in zip(xs, ys, pts, strict=True) if r.get("pareto"))
    if len(front) > 1:
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in front)
        body.append(f'<polyline points="{path}" fill="none" stroke="#C00" '
                    f'stroke-dasharray="4,3"/>')
    for x, y, c, r in zip(xs, ys, cs, pts, strict=True):
        rad = 5 + 20 * math.sqrt((c or 0.0) / cmax)
        frac = (c or 0.0) / cmax
        colour = f"rgb({int(40 + 200 * frac)},{int(170 - 110 * frac)},{int(90 - 50 * frac)})"
        feasible = r.get("feasible", True)
        opacity = 0.8 if feasible else 0.2
        stroke = "#C00" if r.get("pareto") else ("#333" if feasible else "#777")
        sw = 3 if r.get("pareto") else 1
        dash = "" if feasible else ' stroke-dasharray="3,2"'
        carbon = "unknown" if c is None else _fmt(c)
        if c is None:  # missing, not zero: no fill and no size that would read as low carbon
            rad, colour, opacity = 8.0, "none", 1.0
        body.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="{rad:.1f}" fill="{colour}" '
                    f'fill-opacity="{opacity}" stroke="{stroke}" stroke-width="{sw}"{dash}>'
                    f'<title>{escape(str(r.get("region")))}: {_fmt(x)} years, {_fmt(y)} M$/yr, '
                    f'{carbon} kt CO2e/yr</title></circle>')
        body.append(_text(sx(x) + rad + 3, sy(y) + 4, str(r.get("region", "?"))))
    missing = [str(r.get("region")) for r in regions or [] if r not in pts]
    if missing:
        body.append(_text(right + 12, top + 136, "not drawn (no time to"))
        body.append(_text(right + 12, top + 150, "power or cost data):"))
        for i in range(0, len(missing), 2):
            body.append(_text(right + 12, top + 164 + 7 * i, ", ".join(missing[i:i + 2])))
    body += _legend([("Pareto front (ringed)", "#C00"), ("low carbon", "rgb(40,170,90)"),
                     ("high carbon", "rgb(240,60,40)")], right + 12, top + 10)
    body.append(_text(right + 12, top + 66, "bubble area ∝"))
    body.append(_text(right + 12, top + 80, f"kt CO2e/yr (max {_fmt(cmax)})"))
    body.append(_text(right + 12, top + 98, "faint, dashed:"))
    body.append(_text(right + 12, top + 112, "infeasible"))
    if any(c is None for c in cs):
        body.append(_text(right + 12, top + 126 + (60 if missing else 0),
                          "unfilled: CO2e unknown"))
    return _svg(width, height, title, body)


@cache
def world_rings() -> tuple[tuple[tuple[float, float], ...], ...]:
    """The simplified Natural Earth 1:110m outline (``data/world_outline.csv``, public domain;
    source in ``data/world_outline.md``): rings of (lon, lat) in degrees."""
    import csv
    import io
    from importlib import resources

    text = resources.files("wattlas.data").joinpath("world_outline.csv").read_text("utf-8")
    return tuple(tuple((float(x), float(y)) for x, y in (p.split() for p in r["points"]
                                                         .split(";")))
                 for r in csv.DictReader(io.StringIO(text)))


def place_labels(points: Sequence[tuple[float, float, str]], box: tuple[float, float, float,
                 float], char_w: float = 6.2, line_h: float = 12.0
                 ) -> list[tuple[float, float, str, bool]]:
    """Label positions that overlap neither each other nor a point: for each (x, y, text), the
    first of eight places around the point (right, left, above, below, diagonals, then further
    out) whose box is free and inside `box` (x0, y0, x1, y1); (x, y of the text baseline start,
    anchor "start"|"end", whether a leader line is needed)."""
    taken = [(x - 6, y - 6, x + 6, y + 6) for x, y, _ in points]
    out = []
    for x, y, text in points:
        w = char_w * len(text)
        choice = None
        for r in (9.0, 22.0, 38.0):
            for dx, dy in ((1, 0), (-1, 0), (0, -1), (0, 1), (1, -1), (-1, -1), (1, 1),
                           (-1, 1)):
                lx = x + dx * r if dx >= 0 else x + dx * r - w
                lx = lx - w / 2 if dx == 0 else lx
                ly = y + dy * r + (4 if dy == 0 else (0 if dy < 0 else line_h - 2))
                rect = (lx, ly - line_h + 2, lx + w, ly + 2)
                inside = (box[0] <= rect[0] and rect[2] <= box[2] and box[1] <= rect[1]
                          and rect[3] <= box[3])
                if inside and not any(rect[0] < t[2] and t[0] < rect[2] and rect[1] < t[3]
                                      and t[1] < rect[3] for t in taken):
                    choice = (lx, ly, rect, r > 9.0)
                    break
            if choice:
                break
        if choice is None:  # crowded: right of the point, over whatever is there
            lx, ly = x + 9, y + 4
            choice = (lx, ly, (lx, ly - line_h + 2, lx + w, ly + 2), False)
        taken.append(choice[2])
        out.append((choice[0], choice[1], text, choice[3]))
    return out


def site_map(sites: Sequence[Mapping[str, Any]] | None,
             users: Sequence[Mapping[str, Any]] | None = None, width: int = 720) -> str:
    """Sites (squares) and user regions (circles) on an equirectangular lat/lon plot (Snyder
    1987) over the Natural Earth 1:110m outline (:func:`world_rings`), with a graticule and
    labels placed so that none overlaps another label or a point (:func:`place_labels`). Each
    point: {"label", "lat", "lon"}; the view zooms to the points with a 10° margin."""
    title = "Sites and users"
    pts = [("site", p) for p in sites or [] if p.get("lat") is not None]
    pts += [("user", p) for p in users or [] if p.get("lat") is not None]
    if not pts:
        return not_asked(title)
    lats = [float(p["lat"]) for _, p in pts]
    lons = [float(p["lon"]) for _, p in pts]
    lat0, lat1 = max(-90.0, min(lats) - 10), min(90.0, max(lats) + 10)
    lon0, lon1 = max(-180.0, min(lons) - 15), min(180.0, max(lons) + 15)
    left, right, top = 70, width - 20, 40
    kx = (right - left) / (lon1 - lon0)
    bottom = top + (lat1 - lat0) * kx  # equal degrees on both axes
    bottom = min(max(bottom, top + 150), top + 420)
    ky = (bottom - top) / (lat1 - lat0)
    height = int(bottom + 56)

    def sx(lon: float) -> float:
        return left + (lon - lon0) * kx

    def sy(lat: float) -> float:
        return bottom - (lat - lat0) * ky

    clip = f"clip{abs(hash((lat0, lat1, lon0, lon1, width))) % 10**8}"
    body = [f'<defs><clipPath id="{clip}"><rect x="{left}" y="{top}" width="{right - left}" '
            f'height="{bottom - top:.1f}"/></clipPath></defs>',
            f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top:.1f}" '
            f'fill="#eef4f9" stroke="#999"/>']
    land = []
    for ring in world_rings():
        if (max(x for x, _ in ring) < lon0 or min(x for x, _ in ring) > lon1
                or max(y for _, y in ring) < lat0 or min(y for _, y in ring) > lat1):
            continue
        land.append("M" + "L".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in ring) + "Z")
    if land:
        body.append(f'<path clip-path="url(#{clip})" d="{" ".join(land)}" fill="#e2e2dc" '
                    'stroke="#b9b9b0" stroke-width="0.6"><title>Natural Earth 1:110m '
                    '(public domain)</title></path>')
    span = max(lon1 - lon0, lat1 - lat0)
    step = 10 if span <= 90 else (15 if span <= 180 else 30)
    for lon in range(-180, 181, step):
        if lon0 <= lon <= lon1:
            body.append(f'<line x1="{sx(lon):.1f}" y1="{top}" x2="{sx(lon):.1f}" '
                        f'y2="{bottom:.1f}" stroke="#ccd" stroke-width="0.5"/>')
            body.append(_text(sx(lon), bottom + 14, f"{lon}°", "middle", 10))
    for lat in range(-90, 91, step):
        if lat0 <= lat <= lat1:
            body.append(f'<line x1="{left}" y1="{sy(lat):.1f}" x2="{right}" y2="{sy(lat):.1f}" '
                        f'stroke="#ccd" stroke-width="0.5"/>')
            body.append(_text(left - 4, sy(lat) + 4, f"{lat}°", "end", 10))
    body.append(_text((left + right) / 2, bottom + 30, "longitude [°E]", "middle", 12))
    cy = (top + bottom) / 2
    body.append(f'<text x="{left - 40}" y="{cy:.1f}" text-anchor="middle" font-size="12" '
                f'transform="rotate(-90 {left - 40} {cy:.1f})">latitude [°N]</text>')
    xy = [(sx(float(p["lon"])), sy(float(p["lat"])), str(p.get("label", ""))) for _, p in pts]
    for (kind, p), (x, y, _) in zip(pts, xy, strict=True):
        label = escape(str(p.get("label", "")))
        if kind == "site":
            body.append(f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" '
                        f'fill="{PALETTE[0]}"><title>site {label}</title></rect>')
        else:
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{PALETTE[1]}">'
                        f'<title>users {label}</title></circle>')
    for (x, y, _), (lx, ly, text, leader) in zip(xy, place_labels(xy, (left, top, right,
                                                                           bottom)),
                                                 strict=True):
        if leader:
            body.append(f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{lx:.1f}" y2="{ly - 4:.1f}" '
                        'stroke="#888" stroke-width="0.6"/>')
        body.append(f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="11" '
                    f'paint-order="stroke" stroke="#fff" stroke-width="3">{escape(text)}</text>')
    body += _legend([("site", PALETTE[0])], left, bottom + 44)
    body += _legend([("user region", PALETTE[1])], left + 60, bottom + 44)
    body.append(_text(right, bottom + 44, "outline: Natural Earth 1:110m", "end", 9))
    return _svg(width, height, title, body)


def _lines(title: str, series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
           xlabel: str, ylabel: str, width: int = 720, step: bool = False) -> str:
    series = {k: v for k, v in series.items() if len(v[0]) > 0}
    if not series:
        return not_asked(title)
    height = 340
    left, right, top, bottom = 80, width - 160, 40, height - 60
    xs_all = [x for xs, _ in series.values() for x in xs]
    ys_all = [y for _, ys in series.values() for y in ys]
    xt = nice_ticks(min(0.0, min(xs_all)), max(xs_all))
    yt = nice_ticks(min(0.0, min(ys_all)), max(ys_all) * 1.05)
    x0, x1, y0, y1 = xt[0], xt[-1], yt[0], yt[-1]

    def sx(v: float) -> float:
        return left + (right - left) * (v - x0) / ((x1 - x0) or 1.0)

    def sy(v: float) -> float:
        return bottom - (bottom - top) * (v - y0) / ((y1 - y0) or 1.0)

    body = _y_axis(bottom, top, left, yt, sy, ylabel, grid_right=right)
    body += _x_axis(left, right, bottom, xt, sx, xlabel, grid_top=top)
    items = []
    for i, (name, (xs, ys)) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        pts = []
        for j, (x, y) in enumerate(zip(xs, ys, strict=True)):
            if step and j:
                pts.append(f"{sx(x):.1f},{sy(ys[j - 1]):.1f}")
            pts.append(f"{sx(x):.1f},{sy(y):.1f}")
        body.append(f'<polyline points="{" ".join(pts)}" fill="none" stroke="{colour}" '
                    f'stroke-width="2"><title>{escape(name)}</title></polyline>')
        items.append((name, colour))
    body += _legend(items, right + 12, top + 10)
    return _svg(width, height, title, body)


def latency_cdf(latencies_s: Mapping[str, Sequence[float]] | None,
                metric: str = "TTFT") -> str:
    """Empirical CDF of request latency per routing policy [s → ms]: F(x) = #{l ≤ x} / n."""
    series = {}
    for name, values in (latencies_s or {}).items():
        v = sorted(float(x) * 1e3 for x in values if x is not None and math.isfinite(x))
        if v:
            n = len(v)
            series[name] = (v, [(i + 1) / n for i in range(n)])
    return _lines(f"{metric} latency CDF per policy", series, f"{metric} [ms]",
                  "fraction of requests", step=True)


def site_load(times_s: Sequence[float] | None,
              load_by_site: Mapping[str, Sequence[float]] | None,
              unit: str = "requests in flight", title: str | None = None) -> str:
    """Per-site load over time; time [s] on x (minutes or hours when the run is longer)."""
    raw = [float(x) for x in times_s or []]
    span = max(raw) if raw else 0.0
    div, tunit = (3600.0, "h") if span > 7200 else ((60.0, "min") if span > 600 else (1.0, "s"))
    t = [x / div for x in raw]
    series = {k: (t, [float(y) for y in v]) for k, v in (load_by_site or {}).items()
              if t and len(v) == len(t)}
    return _lines(title or "Per-site load over time", series, f"time [{tunit}]", unit)


def panel_bars(title: str, labels: Sequence[str],
               panels: Sequence[tuple[str, Sequence[float | None]]], width: int = 720) -> str:
    """Side-by-side bar panels sharing one set of bars (one colour per label, with a legend),
    each panel on its own axis: `panels` is [(axis label with unit, one value per label)].
    Values are already in display units; missing ones leave a gap."""
    shown = [(axis, [float(v) if v is not None and math.isfinite(float(v)) and float(v) > 0
                     else None for v in vals]) for axis, vals in panels]
    shown = [(axis, vals) for axis, vals in shown if any(v is not None for v in vals)]
    if not labels or not shown:
        return not_asked(title)
    legend_rows = math.ceil(len(labels) / 4)
    top, bottom = 48, 250
    height = bottom + 40 + 18 * legend_rows
    pitch = (width - 20) / len(shown)
    body: list[str] = []
    for p, (axis, vals) in enumerate(shown):
        left, right = 20 + p * pitch + 58, 20 + (p + 1) * pitch - 12
        hi = max(v for v in vals if v is not None) * 1.15
        ticks = nice_ticks(0.0, hi, 4)
        hi = max(hi, ticks[-1])

        def sy(v: float, hi: float = hi) -> float:
            return bottom - (bottom - top) * v / hi

        body += _y_axis(bottom, top, left, ticks, sy, axis, grid_right=right)
        slot = (right - left) / len(labels)
        for i, (name, v) in enumerate(zip(labels, vals, strict=True)):
            if v is None:
                continue
            x = left + i * slot + slot * 0.15
            body.append(f'<rect x="{x:.1f}" y="{sy(v):.1f}" width="{slot * 0.7:.1f}" '
                        f'height="{bottom - sy(v):.1f}" fill="{PALETTE[i % len(PALETTE)]}">'
                        f'<title>{escape(name)}: {_fmt(v)} {escape(axis)}</title></rect>')
            body.append(_text(x + slot * 0.35, sy(v) - 4, _fmt(v), "middle", 10))
        body.append(f'<line x1="{left:.1f}" y1="{bottom}" x2="{right:.1f}" y2="{bottom}" '
                    f'stroke="#333"/>')
    items = [(name, PALETTE[i % len(PALETTE)]) for i, name in enumerate(labels)]
    for row in range(legend_rows):
        for j, item in enumerate(items[row * 4:(row + 1) * 4]):
            body += _legend([item], 78 + j * (width - 100) / 4, bottom + 30 + row * 18)
    return _svg(width, height, title, body)


def hardware_comparison(rows: Sequence[Mapping[str, Any]] | None) -> str:
    """The same training job per hardware (the plan's ``compare.rows``): training time
    [s → days], facility power [W → MW] and energy [J → GWh], one bar per hardware."""
    rows = [r for r in rows or [] if r.get("training_time_s") is not None]
    labels = [f"{r['accelerator']} ({r['system']})" if r.get("system") else str(r["accelerator"])
              for r in rows]

    def col(key: str, scale: float) -> list[float | None]:
        return [r[key] / scale if r.get(key) is not None else None for r in rows]

    return panel_bars("Hardware comparison", labels,
                      [("training time [days]", col("training_time_s", SECONDS_PER_DAY)),
                       ("facility power [MW]", col("facility_power_w", W_PER_MW)),
                       ("energy [GWh]", col("energy_j", 1e3 * J_PER_MWH))])


def curtailment_tradeoff(data: Mapping[str, Any] | None) -> str:
    """Flexible interconnection (grid.siting.curtailment_tradeoff): time to full power, high end
    [years], per region against the accepted curtailment [% of hours], and the training
    slowdown that curtailment costs [%] on the same x axis."""
    title = "Time to power vs curtailment"
    if not data or not data.get("rows"):
        return not_asked(title)
    series: dict[str, tuple[list[float], list[float]]] = {}
    for r in data["rows"]:
        if r.get("full_power_years_high") is None:
            continue
        xs, ys = series.setdefault(str(r["region"]), ([], []))
        xs.append(float(r["curtailment_frac"]) * 100)
        ys.append(float(r["full_power_years_high"]))
    lines = _lines(title, series, "curtailment accepted [% of hours]",
                   "time to full power, high [years]")
    slow = {"training slowdown": ([float(f) * 100 for f in data["fracs"]],
                                  [float(v) * 100 for v in data["training_slowdown_frac"]])}
    return lines + _lines("Training slowdown vs curtailment", slow,
                          "curtailment accepted [% of hours]", "slowdown [%]")


def supply_comparison(options: Sequence[Mapping[str, Any]] | None, region: str = "") -> str:
    """Grid-only against hybrid supply for one region's load (grid.onsite.compare): time to
    power, high [years]; annual energy cost, high [M$]; carbon [kt CO2e/year]."""
    title = f"Grid vs hybrid supply{f' ({region})' if region else ''}"
    rows = list(options or [])
    labels = [str(o.get("supply")) for o in rows]

    def col(key: str, scale: float) -> list[float | None]:
        return [o[key] / scale if o.get(key) is not None else None for o in rows]

    return panel_bars(title, labels, [
        ("time to power, high [years]", col("time_to_power_years_high", 1.0)),
        ("energy cost, high [M$/year]", col("energy_cost_usd_per_year_high", 1e6)),
        ("carbon [kt CO2e/year]", col("co2e_kg_per_year", 1e6))])


def cost_by_payer(cost: Mapping[str, Any] | None, region: str = "") -> str:
    """The operator's annual bill by item (grid.siting cost_by_payer) [USD → M$/year]."""
    c = cost or {}
    return stacked_bar(f"Annual cost by item{f' ({region})' if region else ''}",
                       {"energy": c.get("energy_usd_per_year"),
                        "capacity": c.get("capacity_usd_per_year"),
                        "minimum take": c.get("minimum_take_usd_per_year")},
                       "M$/year", scale=1e6)


#: tornado outputs in the order drawn, with their colour index
TORNADO_OUTPUTS = ("days", "MW", "MWh", "cost", "tCO2e")


def tornado(rows: Sequence[Mapping[str, Any]] | None,
            nominal: Mapping[str, float | None] | None = None, top: int = 8,
            width: int = 720) -> str:
    """Inputs ranked by how far each moves days, MW, MWh, cost and tCO2e on its own (the
    plan's ``uncertainty.tornado``): per input one thin bar per output, from its value with the
    input at P10 to its value at P90, as a change [%] from the plan's value (`nominal`, by
    output label; without it the midpoint of the two)."""
    rows = [r for r in rows or [] if r.get("swings")][:top]
    if not rows:
        return not_asked("What moves the answer most (tornado)")
    bars: list[tuple[int, str, float, float]] = []
    for i, r in enumerate(rows):
        for lab, (a, b) in r["swings"].items():
            v0 = (nominal or {}).get(lab) or (a + b) / 2
            if v0:
                bars.append((i, lab, 100 * (a / v0 - 1), 100 * (b / v0 - 1)))
    if not bars:
        return not_asked("What moves the answer most (tornado)")
    lo = min(min(a, b) for _, _, a, b in bars + [(0, "", 0.0, 0.0)])
    hi = max(max(a, b) for _, _, a, b in bars + [(0, "", 0.0, 0.0)])
    ticks = nice_ticks(lo, hi, 6)
    left, right, top_y, band = 250, width - 20, 44, 30
    bottom = top_y + band * len(rows)

    def sx(v: float) -> float:
        return left + (right - left) * (v - ticks[0]) / (ticks[-1] - ticks[0])

    body = _x_axis(left, right, bottom, ticks, sx, "change from the plan's value [%]",
                   grid_top=top_y)
    body.append(f'<line x1="{sx(0):.1f}" y1="{top_y}" x2="{sx(0):.1f}" y2="{bottom}" '
                f'stroke="#333"/>')
    for i, r in enumerate(rows):
        y = top_y + band * i
        name = str(r["input"])
        body.append(_text(left - 6, y + band / 2 + 4, name if len(name) <= 40
                          else name[:39] + "…", "end"))
    slot = (band - 6) / len(TORNADO_OUTPUTS)
    for i, lab, a, b in bars:
        j = TORNADO_OUTPUTS.index(lab) if lab in TORNADO_OUTPUTS else 0
        y = top_y + band * i + 3 + j * slot
        x0, x1 = sorted((sx(a), sx(b)))
        body.append(f'<rect x="{x0:.1f}" y="{y:.1f}" width="{max(x1 - x0, 1.0):.1f}" '
                    f'height="{slot * 0.8:.1f}" fill="{PALETTE[j]}"><title>{escape(lab)}: '
                    f'{a:+.1f} % at P10, {b:+.1f} % at P90</title></rect>')
    body += [x for j, lab in enumerate(TORNADO_OUTPUTS)
             for x in _legend([(lab, PALETTE[j])], 20 + j * 120, bottom + 52)]
    return _svg(width, bottom + 70, "What moves the answer most (tornado, P10 → P90)", body)


def pareto_scatter(points: Sequence[Mapping[str, Any]] | None, x_key: str, y_key: str,
                   c_key: str, width: int = 720) -> str:
    """A sweep's points: `x_key` [s → days] against `y_key` [W → MW], coloured by the third
    objective `c_key` (light: low, dark: high); Pareto points (``pareto`` true) ringed."""
    pts = [p for p in points or [] if all(isinstance(p.get(k), int | float)
                                          and math.isfinite(p[k]) for k in (x_key, y_key))]
    if not pts:
        return not_asked("Sweep: time vs power vs cost")
    xs = [p[x_key] / SECONDS_PER_DAY for p in pts]
    ys = [p[y_key] / W_PER_MW for p in pts]
    cs = [p.get(c_key) if isinstance(p.get(c_key), int | float) else None for p in pts]
    known = [c for c in cs if c is not None]
    cmin, cmax = (min(known), max(known)) if known else (0.0, 1.0)
    xt, yt = nice_ticks(0.0, max(xs) * 1.05, 5), nice_ticks(0.0, max(ys) * 1.05, 5)
    left, right, top, bottom = 70, width - 20, 40, 330

    def sx(v: float) -> float:
        return left + (right - left) * v / xt[-1]

    def sy(v: float) -> float:
        return bottom - (bottom - top) * v / yt[-1]

    body = _x_axis(left, right, bottom, xt, sx, "training time [days]", grid_top=top)
    body += _y_axis(bottom, top, left, yt, sy, "facility power [MW]", grid_right=right)
    for p, x, y, c in zip(pts, xs, ys, cs, strict=True):
        shade = 0.5 if c is None or cmax == cmin else (c - cmin) / (cmax - cmin)
        grey = int(200 - 170 * shade)
        ring = ' stroke="#D55E00" stroke-width="2"' if p.get("pareto") else ""
        body.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="4" '
                    f'fill="rgb({grey},{grey},{min(255, grey + 40)})"{ring}><title>point '
                    f'{escape(str(p.get("point", "")))}: {x:,.1f} days, {y:,.2f} MW'
                    + (f", {c_key} {c:,.4g}" if c is not None else "") + "</title></circle>")
    body.append(_text(left, bottom + 48, f"shade: {c_key} (light low, dark high); ringed: "
                      "Pareto-optimal", "start", 11))
    return _svg(width, bottom + 60, "Sweep: time vs power vs cost", body)
