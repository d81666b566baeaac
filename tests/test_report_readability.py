"""Reports a reader can act on: a map with a world outline and labels that do not overlap,
missing values drawn as missing, keys printed whole in an 80-column terminal."""

import re
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from wattlas.report import charts, exact, human

ROOT = Path(__file__).resolve().parents[1]
CLUSTER = [{"label": lab, "lat": lat, "lon": lon} for lab, lat, lon in (
    ("de-fra", 50.1, 8.7), ("fr", 48.9, 2.3), ("ie", 53.3, -6.3), ("no", 59.9, 10.7),
    ("is", 64.1, -21.9), ("se", 59.3, 18.1), ("us-va", 38.9, -77.4))]
USERS = [{"label": "Europe users", "lat": 50.0, "lon": 10.0},
         {"label": "US East users", "lat": 40.0, "lon": -75.0}]


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_world_outline_is_natural_earth_and_drawn_under_the_points():
    rings = charts.world_rings()
    assert len(rings) > 150
    assert all(-180 <= x <= 180 and -90 <= y <= 90 for r in rings for x, y in r)
    svg = charts.site_map(CLUSTER, USERS)
    land = re.search(r'<path clip-path="url\(#clip\d+\)" d="([^"]+)"', svg)
    assert land and land.group(1).count("M") > 20
    assert svg.index("<path") < svg.index("<rect x=", svg.index("<path"))  # land under sites
    assert "Natural Earth" in svg
    source = (ROOT / "src" / "wattlas" / "data" / "world_outline.md").read_text()
    assert "public domain" in source and "ne_110m_admin_0_countries" in source


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(80, 640), st.floats(50, 400),
                          st.text("abcdefgh-", min_size=1, max_size=12)),
                min_size=1, max_size=12))
def test_placed_labels_never_overlap_each_other_or_a_point_when_there_is_room(points):
    box = (0.0, 0.0, 720.0, 460.0)
    placed = charts.place_labels(points, box)
    rects = [(x, y - 10, x + 6.2 * len(t), y + 2) for x, y, t, _ in placed]
    dots = [(x - 6, y - 6, x + 6, y + 6) for x, y, _ in points]
    for i, r in enumerate(rects):
        crowded = r == (points[i][0] + 9, points[i][1] + 4 - 10,
                        points[i][0] + 9 + 6.2 * len(points[i][2]), points[i][1] + 6)
        if crowded:  # no free place within 38 px: placed right of the point, said in the doc
            continue
        assert not any(_overlap(r, o) for j, o in enumerate(rects) if j < i), (i, placed)
        assert not any(_overlap(r, d) for d in dots), (i, placed)


def test_the_european_cluster_labels_do_not_overlap():
    svg = charts.site_map(CLUSTER, USERS)
    texts = re.findall(r'<text x="([-0-9.]+)" y="([-0-9.]+)" font-size="11" paint-order', svg)
    labels = re.findall(r'stroke-width="3">([^<]+)</text>', svg)
    assert len(texts) == len(labels) == len(CLUSTER) + len(USERS)
    rects = [(float(x), float(y) - 10, float(x) + 6.2 * len(t), float(y) + 2)
             for (x, y), t in zip(texts, labels, strict=True)]
    assert not any(_overlap(a, b) for i, a in enumerate(rects) for b in rects[i + 1:])


def test_unknown_carbon_is_drawn_unfilled_not_as_low_carbon():
    regions = [{"region": "a", "time_to_power_years_high": 2.0, "energy_cost_usd_per_year": 5e7,
                "co2e_kg_per_year": 1e8, "feasible": True, "pareto": True},
               {"region": "b", "time_to_power_years_high": 3.0, "energy_cost_usd_per_year": 4e7,
                "co2e_kg_per_year": None, "feasible": True, "pareto": False}]
    svg = charts.region_scatter(regions)
    b = re.search(r'<circle[^>]*fill="([^"]+)"[^>]*><title>b: [^<]*unknown kt', svg)
    assert b and b.group(1) == "none"
    assert "CO2e unknown" in svg


def test_numbers_read_in_people_units_and_si_without_exponents():
    assert human("training_time_s", 7.17258e6) == "83.0 days"
    assert human("energy_j", 1.44e14) == "40,000 MWh"
    assert human("facility_power_w", 2.01e7) == "20.1 MW"
    assert human("co2e_kg_per_year", 2.6e7) == "26,000 tCO2e/y"
    assert human("memory_per_gpu_bytes", 2.0**30 * 27.1) == "27.1 GiB"
    assert exact(7.17258e6) == "7172580" and "e+" not in exact(2.8e12)
    assert exact(4.1e25) == "4.1e+25"  # FLOP stay scientific


def test_plan_summary_keys_are_whole_at_80_columns(tmp_path):
    env = {"COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "wattlas.cli", "plan",
                           str(ROOT / "examples" / "frontier-training.yaml"), "--out",
                           str(tmp_path / "o")], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "training.memory_per_gpu_bytes" in proc.stdout and "…" not in proc.stdout
    assert max(len(line) for line in proc.stdout.splitlines()) <= 80


def test_routing_cost_says_it_counts_energy_only():
    from wattlas.commands import route
    from wattlas.report import markdown

    assert route._HEADERS["cost_usd_per_million_tokens"].startswith("energy")
    assert "electricity only" in markdown.ROUTE_COST_NOTE
