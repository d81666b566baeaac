"""Write ``src/wattlas/data/world_outline.csv``: a simplified world outline for the report's site
map, from Natural Earth's 1:110m Admin 0 countries (public domain).

    python docs/make_world_outline.py PATH/ne_110m_admin_0_countries.shp

The shapefile is read directly (ESRI shapefile technical description, July 1998: polygon
records, shape type 5); each ring is simplified with Douglas-Peucker at ``TOLERANCE_DEG`` and
rounded to 0.1°, and rings whose bounding box is under ``MIN_AREA_DEG2`` are left out. The CSV
holds one ring per row: ``ring`` (an index) and ``points`` ("lon lat;lon lat;…", degrees).
The run is offline and deterministic; the result is checked in with its source in
``src/wattlas/data/world_outline.md``.
"""

from __future__ import annotations

import csv
import struct
import sys
from pathlib import Path

TOLERANCE_DEG = 0.4
MIN_AREA_DEG2 = 4.0
OUT = Path(__file__).resolve().parents[1] / "src" / "wattlas" / "data" / "world_outline.csv"


def rings(shp: bytes) -> list[list[tuple[float, float]]]:
    """Every ring of every polygon record of a shapefile's bytes."""
    out, pos = [], 100
    while pos + 8 <= len(shp):
        _, words = struct.unpack(">ii", shp[pos:pos + 8])
        rec = shp[pos + 8:pos + 8 + 2 * words]
        pos += 8 + 2 * words
        if struct.unpack("<i", rec[:4])[0] != 5:
            continue
        n_parts, n_points = struct.unpack("<ii", rec[36:44])
        parts = list(struct.unpack(f"<{n_parts}i", rec[44:44 + 4 * n_parts])) + [n_points]
        base = 44 + 4 * n_parts
        pts = [struct.unpack("<dd", rec[base + 16 * i:base + 16 * i + 16])
               for i in range(n_points)]
        out += [pts[a:b] for a, b in zip(parts, parts[1:], strict=False)]
    return out


def simplify(pts: list[tuple[float, float]], tol: float) -> list[tuple[float, float]]:
    """Douglas-Peucker (Douglas & Peucker 1973) on an open polyline."""
    if len(pts) < 3:
        return pts
    (x0, y0), (x1, y1) = pts[0], pts[-1]
    dx, dy = x1 - x0, y1 - y0
    norm = (dx * dx + dy * dy) ** 0.5
    best, idx = -1.0, 0
    for i, (x, y) in enumerate(pts[1:-1], 1):
        d = (abs(dy * x - dx * y + x1 * y0 - y1 * x0) / norm if norm
             else ((x - x0) ** 2 + (y - y0) ** 2) ** 0.5)
        if d > best:
            best, idx = d, i
    if best <= tol:
        return [pts[0], pts[-1]]
    return simplify(pts[:idx + 1], tol)[:-1] + simplify(pts[idx:], tol)


def main(argv: list[str]) -> int:
    rows = []
    for ring in rings(Path(argv[0]).read_bytes()):
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        if (max(xs) - min(xs)) * (max(ys) - min(ys)) < MIN_AREA_DEG2:
            continue
        half = len(ring) // 2  # a closed ring: simplify two halves so the ends stay put
        pts = simplify(ring[:half + 1], TOLERANCE_DEG)[:-1] + simplify(ring[half:],
                                                                      TOLERANCE_DEG)
        pts = [(round(x, 1), round(y, 1)) for x, y in pts]
        pts = [p for i, p in enumerate(pts) if i == 0 or p != pts[i - 1]]
        if len(pts) >= 4:
            rows.append(";".join(f"{x:g} {y:g}" for x, y in pts))
    with OUT.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["ring", "points"])
        w.writerows(enumerate(rows))
    print(f"{OUT}: {len(rows)} rings, {OUT.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
