"""RTT model vs measured inter-region round trips (data/reference/network_rtt.csv, 2024).

Source: the "measured_ms_range_2024" column of network_rtt.csv (see its SOURCES.md). The
route-stretch constants in grid/geo.py were chosen on the five pairs that carry a great-circle
distance in the file; the three others are out of sample. Tolerance 20 % (the issue's target):
measured ranges are themselves ±5 % wide and depend on the exact endpoints inside each metro.
Washington DC–Toronto (19–20 ms over ≈ 560 km, stretch ≈ 3.4) is the documented exception: no
monotone function of distance fits it together with Frankfurt–London (12–13 ms over 637 km);
the test pins its error so a change is noticed.
"""

from __future__ import annotations

import csv
import io
from importlib import resources

import pytest

from wattlas.grid import geo

CITY = {"Washington DC": "washington dc", "Frankfurt": "frankfurt", "London": "london",
        "Toronto": "toronto", "Dallas": "dallas", "Madrid": "madrid", "Tokyo": "tokyo",
        "Osaka": "osaka"}
FIT = {"Washington DC - Frankfurt", "Washington DC - London", "Dallas - Frankfurt",
       "Frankfurt - London", "Tokyo - Osaka"}
OUTLIER = "Washington DC - Toronto"


def _pairs():
    text = resources.files("wattlas.data").joinpath("reference/network_rtt.csv").read_text()
    for row in csv.DictReader(io.StringIO(text)):
        a, _, b = row["pair"].partition(" - ")
        if a not in CITY or b not in CITY:
            continue  # intra-region inter-AZ row: not an inter-region pair
        lo, _, hi = row["measured_ms_range_2024"].partition("-")
        measured_s = (float(lo) + float(hi or lo)) / 2 / 1e3
        yield row["pair"], CITY[a], CITY[b], measured_s, row["great_circle_km[D]"]


PAIRS = list(_pairs())


def test_all_inter_region_pairs_present():
    assert len(PAIRS) == 8


@pytest.mark.parametrize("pair,a,b,measured_s,gc", PAIRS, ids=[p[0] for p in PAIRS])
def test_rtt_within_20_percent(pair, a, b, measured_s, gc):
    la, lo, _ = geo.resolve_point(a)
    lb, lob, _ = geo.resolve_point(b)
    d = geo.distance_km(la, lo, lb, lob)
    if gc:
        assert d == pytest.approx(float(gc), rel=0.01)  # geocoding agrees with the file
    model = geo.rtt_s(la, lo, lb, lob)
    assert model >= geo.rtt_floor_s(d)
    err = model / measured_s - 1
    if pair == OUTLIER:
        assert err == pytest.approx(-0.40, abs=0.03)
    else:
        assert abs(err) <= 0.20, f"{pair}: {err:+.1%} ({'fit' if pair in FIT else 'check'})"
