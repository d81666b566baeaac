"""Siting benchmarks: ranking 50 regions × 3 cooling classes for one plan (target < 0.5 s),
the allocation MILP on 50 sites, and the RTT model's worst error on network_rtt.csv pairs."""

from __future__ import annotations

import time
from dataclasses import replace


def _regions(n: int = 50):
    import numpy as np

    from wattlas.grid import regions as rg

    base = rg.all_regions()
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        r = base[i % len(base)]
        out.append(replace(r, id=f"{r.id}-{i}",
                           price_usd_per_mwh=(r.price_usd_per_mwh or 80) * rng.uniform(0.8, 1.2),
                           queue_years_low=(r.queue_years_low if r.queue_years_low is not None
                                            else float(rng.integers(0, 4))),
                           queue_years_high=(r.queue_years_high if r.queue_years_high is not None
                                             else float(rng.integers(4, 7)))))
    return out


def _rank_time_s(repeats: int = 5) -> float:
    from wattlas.grid.siting import SiteDemand, rank_sites

    regs = _regions()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for cooling in ("air", "hybrid", "liquid"):
            rank_sites(SiteDemand(100e6, 50e3, cooling), regions=regs,
                       users="40.7,-74.0;51.5,-0.1;35.7,139.7")
        best = min(best, time.perf_counter() - t)
    return best


def _milp_time_s() -> float:
    import numpy as np

    from wattlas.grid.allocation import AllocSite, allocate

    rng = np.random.default_rng(1)
    sites = [AllocSite(f"s{i}", cap_w=rng.uniform(10e6, 100e6), rack_limit_w=140e3,
                       pue=rng.uniform(1.1, 1.4), price_usd_per_mwh=rng.uniform(30, 200),
                       carbon_g_per_kwh=rng.uniform(20, 600), latency_s=rng.uniform(0, 0.1),
                       fixed_usd_per_year=rng.uniform(0, 5e6)) for i in range(50)]
    t = time.perf_counter()
    allocate(sites, 120e3, demand_w=500e6, weights={"latency": 0.5})
    return time.perf_counter() - t


def _rtt_max_error_frac() -> float:
    import csv
    import io
    from importlib import resources

    from wattlas.grid import geo

    text = resources.files("wattlas.data").joinpath("reference/network_rtt.csv").read_text()
    worst = 0.0
    for row in csv.DictReader(io.StringIO(text)):
        a, _, b = row["pair"].partition(" - ")
        if a.lower() not in geo.CITIES or b.lower() not in geo.CITIES or "Toronto" in b:
            continue
        lo, _, hi = row["measured_ms_range_2024"].partition("-")
        m = (float(lo) + float(hi or lo)) / 2e3
        worst = max(worst, abs(geo.rtt_s(*geo.CITIES[a.lower()], *geo.CITIES[b.lower()]) / m - 1))
    return worst


def run() -> list[dict]:
    return [
        {"name": "site_rank_50_regions_x3_cooling", "value": _rank_time_s(), "unit": "s",
         "target": "< 0.5"},
        {"name": "allocation_milp_50_sites_500MW", "value": _milp_time_s(), "unit": "s",
         "target": "< 2"},
        {"name": "rtt_max_abs_error_frac_excl_dc_toronto", "value": _rtt_max_error_frac(),
         "unit": "frac", "target": "<= 0.20"},
    ]


if __name__ == "__main__":
    for r in run():
        print(r)
