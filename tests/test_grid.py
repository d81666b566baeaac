"""Grid regions, geo/RTT and geo-distributed training: pure functions on inline data."""

from __future__ import annotations

import calendar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattlas.errors import InputError
from wattlas.grid import geo, geodist
from wattlas.grid import regions as rg

lat = st.floats(-89.9, 89.9)
lon = st.floats(-179.9, 179.9)


@given(lat, lon, lat, lon)
@settings(max_examples=200, deadline=None)
def test_rtt_never_below_floor_and_symmetric(a, b, c, d):
    dist = geo.distance_km(a, b, c, d)
    assert 0 <= dist <= np.pi * geo.EARTH_RADIUS_KM + 1e-6
    assert geo.rtt_s(a, b, c, d) >= geo.rtt_floor_s(dist) - 1e-15
    assert geo.distance_km(c, d, a, b) == pytest.approx(dist, abs=1e-6)


def test_distance_broadcasts_and_known_value():
    # one degree of latitude on the mean sphere = 2πR/360 = 111.195 km
    assert geo.distance_km(0, 0, 1, 0) == pytest.approx(111.195, rel=1e-4)
    d = geo.distance_km(np.zeros(3), np.zeros(3), np.array([1, 2, 3]), 0)
    assert d.shape == (3,) and np.all(np.diff(d) > 0)


def test_stretch_regimes():
    assert geo.route_stretch(300) == pytest.approx(2.2, abs=0.1)  # short haul ≈ 2
    assert 1.3 <= geo.route_stretch(6000) <= 1.6  # long haul 1.3-1.6
    assert geo.route_stretch(np.array([0, 1e3, 1e4])).min() >= 1.0


def test_resolve_point_errors():
    assert geo.resolve_point("10,20")[:2] == (10.0, 20.0)
    with pytest.raises(InputError, match="latitude must be in"):
        geo.resolve_point("100,20")
    with pytest.raises(InputError, match="expected 'lat,lon'"):
        geo.resolve_point("a,b")


def _reg(**kw):
    base = dict(id="x", rack_density_low_w=40e3, rack_density_high_w=60e3,
                queue_years_low=3, queue_years_high=5, build_years_low=1.5,
                build_years_high=3.0, price_usd_per_mwh=80.0, carbon_intensity_g_per_kwh=400.0)
    base.update(kw)
    return rg.Region(**base)


def test_rack_limit_by_cooling():
    r = _reg()
    assert rg.rack_limit_w(r, "air")[0] == 60e3
    lim, reasons, _ = rg.rack_limit_w(_reg(rack_density_high_w=120e3), "air")
    assert lim == rg.AIR_RACK_CEILING_W and not reasons
    lim, reasons, _ = rg.rack_limit_w(_reg(liquid_cooling=False), "liquid")
    assert reasons and "liquid cooling is not offered" in reasons[0]
    lim, reasons, defaults = rg.rack_limit_w(r, "liquid")
    assert not reasons and "liquid cooling unknown in the catalog" in defaults[0]
    lim, reasons, _ = rg.rack_limit_w(_reg(liquid_cooling=True, rack_density_high_w=120e3),
                                      "liquid")
    assert lim == 120e3 and not reasons
    lim, _, defaults = rg.rack_limit_w(_reg(rack_density_high_w=None), "air")
    assert lim == 60e3 and "air_rack_ceiling_w" in defaults[0]
    with pytest.raises(InputError, match="cooling 'water'"):
        rg.rack_limit_w(r, "water")


def test_pue_defaults_are_named():
    p, d = rg.pue(_reg(), "liquid")
    assert p == rg.PUE_LIQUID_COOL_CLIMATE and "pue.csv" in d[0]
    assert rg.pue(_reg(pue_air=1.4), "air") == (1.4, [])
    assert rg.pue(_reg(climate="hot-dry"), "air")[0] == rg.PUE_HOT_CLIMATE


def test_profile_mean_replaces_annual():
    text = "month,carbon_intensity_g_per_kwh,price_usd_per_mwh\n" + "".join(
        f"{m},{100 + m},{50}\n" for m in range(1, 13))
    prof = rg.parse_profile(text)
    r = rg.with_profile(_reg(), prof)
    # months weigh by their days in a 365-day year (calendar of the non-leap year 2023)
    days = [calendar.monthrange(2023, m)[1] for m in range(1, 13)]
    assert rg.carbon_g_per_kwh(r) == pytest.approx(
        sum((100 + m) * d for m, d in zip(range(1, 13), days, strict=True)) / 365)
    assert rg.carbon_g_per_kwh(r) != pytest.approx(106.5)  # not the unweighted mean
    assert rg.price_usd_per_mwh(r) == pytest.approx(50)
    shuffled = "month,carbon_intensity_g_per_kwh\n" + "".join(
        f"{m},{100 + m}\n" for m in (12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11))
    assert rg.parse_profile(shuffled).mean_carbon_g_per_kwh() == pytest.approx(
        rg.carbon_g_per_kwh(r))
    with pytest.raises(InputError, match="month must hold 1 to 12"):
        rg.parse_profile("month,price_usd_per_mwh\n" + "1,2\n" * 12)
    with pytest.raises(InputError, match="expected 12"):
        rg.parse_profile("month,price_usd_per_mwh\n1,2\n")
    with pytest.raises(InputError, match="unknown column"):
        rg.parse_profile("hour,foo\n" + "1,2\n" * 24)


def test_geodist_single_site_no_slowdown_and_diloco_amortises():
    one = geodist.geo_step(1e9, 1.0, [64], 1e9, 0.05)
    assert one.slowdown_frac == pytest.approx(0.0) and one.wan_time_s == 0
    hier = geodist.geo_step(140e9, 10.0, [4096, 4096], 50e9, 0.04, power_per_gpu_w=1400)
    dl = geodist.geo_step(140e9, 10.0, [4096, 4096], 50e9, 0.04, scheme="diloco",
                          sync_every_steps=100)
    assert hier.slowdown_frac > dl.slowdown_frac >= 0
    assert hier.power_per_site_w == (4096 * 1400.0, 4096 * 1400.0)
    # WAN ring all-reduce of 2 sites: RTT + 2·(1/2)·G/B = 0.04 + 140e9/50e9
    assert hier.wan_time_s == pytest.approx(0.04 + 2.8)
    with pytest.raises(InputError, match="scheme 'x'"):
        geodist.geo_step(1e9, 1.0, [8], 1e9, 0.0, scheme="x")


@given(st.floats(1e9, 1e12), st.floats(1e9, 1e11), st.floats(1e9, 1e12))
@settings(max_examples=50, deadline=None)
def test_more_wan_bandwidth_never_slower(grad, bw, extra):
    a = geodist.geo_step(grad, 5.0, [512, 256, 128], bw, 0.05)
    b = geodist.geo_step(grad, 5.0, [512, 256, 128], bw + extra, 0.05)
    assert b.step_time_s <= a.step_time_s + 1e-12


def test_split_replicas():
    assert geodist.split_replicas(5, 8, [16, 32]) == [16, 24]
    from wattlas.errors import InfeasibleError
    with pytest.raises(InfeasibleError, match="add sites"):
        geodist.split_replicas(10, 8, [16, 16])
