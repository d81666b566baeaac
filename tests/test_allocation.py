"""MILP allocation of racks across sites: caps respected, brute-force optimum on small cases."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattlas.errors import InfeasibleError, InputError
from wattlas.grid.allocation import (
    AllocSite,
    allocate,
    objective_value,
    racks_needed,
    upper_bounds,
)

RACK_W = 100e3


def _sites(params):
    return [AllocSite(id=f"s{i}", cap_w=cap, rack_limit_w=lim, pue=pue, price_usd_per_mwh=pr,
                      carbon_g_per_kwh=co, latency_s=la, fixed_usd_per_year=fx)
            for i, (cap, lim, pue, pr, co, la, fx) in enumerate(params)]


site_st = st.tuples(st.floats(0, 1.5e6), st.sampled_from([60e3, 100e3, 140e3]),
                    st.floats(1.05, 1.6), st.floats(20, 200), st.floats(10, 600),
                    st.floats(0, 0.2), st.sampled_from([0.0, 0.0, 5e5]))


@given(st.lists(site_st, min_size=1, max_size=5), st.integers(1, 25),
       st.sampled_from([None, 0.1]))
@settings(max_examples=60, deadline=None)
def test_allocation_respects_every_cap(params, racks, max_lat):
    sites = _sites(params)
    try:
        a = allocate(sites, RACK_W, demand_w=racks * RACK_W, weights={"latency": 1.0},
                     max_latency_s=max_lat)
    except InfeasibleError:
        assert upper_bounds(sites, RACK_W, max_lat).sum() < racks
        return
    assert a.racks_total == racks
    for s in sites:
        n = a.racks[s.id]
        assert n >= 0
        assert n * RACK_W * s.pue <= s.cap_w + 1e-6
        if RACK_W > s.rack_limit_w or (max_lat is not None and s.latency_s > max_lat):
            assert n == 0


def _brute(sites, need, weights):
    ub = upper_bounds(sites, RACK_W).astype(int)
    best = np.inf
    for combo in itertools.product(*[range(u + 1) for u in ub]):
        if sum(combo) == need:
            best = min(best, objective_value(sites, RACK_W, combo, weights))
    return best


@given(st.lists(site_st, min_size=1, max_size=3), st.integers(1, 8))
@settings(max_examples=40, deadline=None)
def test_matches_brute_force(params, need):
    params = [(min(c, 8 * RACK_W * 1.6), *rest) for c, *rest in params]
    sites = _sites(params)
    w = {"cost": 1.0, "carbon": 0.5, "latency": 0.3}
    best = _brute(sites, need, w)
    if not np.isfinite(best):
        with pytest.raises(InfeasibleError, match="needs"):
            allocate(sites, RACK_W, demand_w=need * RACK_W, weights=w)
        return
    a = allocate(sites, RACK_W, demand_w=need * RACK_W, weights=w)
    got = objective_value(sites, RACK_W, [a.racks[s.id] for s in sites], w)
    assert got == pytest.approx(best, rel=1e-6, abs=1e-7)


def test_cheapest_site_first_and_gpus():
    sites = _sites([(1e6, 140e3, 1.2, 50, 100, 0, 0), (1e6, 140e3, 1.2, 100, 100, 0, 0)])
    a = allocate(sites, 120e3, gpus=72 * 10, gpus_per_rack=72, weights={"carbon": 0})
    assert a.racks == {"s0": 6, "s1": 4}  # s0 holds floor(1e6 / 144e3) = 6 racks
    assert a.gpus["s0"] == 432


def test_errors():
    with pytest.raises(InputError, match="gpus_per_rack"):
        racks_needed(1e3, gpus=10)
    with pytest.raises(InfeasibleError, match="raise site caps"):
        allocate(_sites([(1e5, 140e3, 1.2, 50, 100, 0, 0)]), RACK_W, demand_w=1e6)


def test_sites_from_regions_excludes_dense_racks():
    from wattlas.grid.allocation import sites_from_regions
    from wattlas.grid.regions import Region

    regs = [Region(id="air", rack_density_high_w=60e3, price_usd_per_mwh=40.0,
                   carbon_intensity_g_per_kwh=300.0, lat=39.0, lon=-77.0),
            Region(id="liq", rack_density_high_w=120e3, liquid_cooling=True,
                   price_usd_per_mwh=80.0, carbon_intensity_g_per_kwh=30.0, lat=64.0, lon=-22.0)]
    sites = sites_from_regions(regs, "liquid", cap_w=50e6, users="40.7,-74.0")
    a = allocate(sites, 120e3, demand_w=12e6)
    assert a.racks == {"air": 0, "liq": 100}
    with pytest.raises(InputError, match="available_w is unknown"):
        sites_from_regions(regs, "air")
