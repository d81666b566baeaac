"""Siting: feasibility reasons, time-to-power, cost/carbon, Pareto front, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from wattlas.errors import InputError
from wattlas.grid import regions as rg
from wattlas.grid.siting import SiteDemand, pareto_mask, parse_weights, rank_sites


def _reg(id_, **kw):
    base = dict(id=id_, lat=40.0, lon=-75.0, rack_density_low_w=40e3, rack_density_high_w=60e3,
                queue_years_low=3, queue_years_high=5, build_years_low=1.5, build_years_high=3.0,
                price_usd_per_mwh=80.0, carbon_intensity_g_per_kwh=400.0)
    base.update(kw)
    return rg.Region(**base)


def test_cost_and_carbon_formula():
    r = _reg("a", capacity_charge_usd_per_mw_year=100_000.0)
    out = rank_sites(SiteDemand(100e6, 40e3, "air"), regions=[r])[0]
    # 100 MW × 8760 h = 876,000 MWh; × 80 $/MWh + 100 MW × 100k$/MW-y
    assert out["energy_cost_usd_per_year"] == pytest.approx(876_000 * 80 + 1e7)
    # 876,000 MWh × 400 kg/MWh
    assert out["co2e_kg_per_year"] == pytest.approx(876_000 * 400)
    assert out["time_to_power_years_low"] == 4.5 and out["time_to_power_years_high"] == 8.0


def test_missing_values_stay_none_and_are_listed():
    r = _reg("a", price_usd_per_mwh=None, queue_years_low=None, queue_years_high=None)
    out = rank_sites(SiteDemand(10e6, 40e3, "air"), regions=[r])[0]
    assert out["energy_cost_usd_per_year"] is None and out["time_to_power_years_low"] is None
    assert {"price_usd_per_mwh", "queue_years"} <= set(out["unknown"])
    assert out["score"] is None and out["pareto"] is False


def test_available_power_reason():
    r = _reg("a", available_w=50e6)
    out = rank_sites(SiteDemand(100e6, 40e3, "air"), regions=[r])[0]
    assert not out["feasible"] and "exceeds the 50.0 MW available" in out["reasons"][0]


def test_onsite_generation_path():
    r = _reg("t", onsite_generation=True, queue_years_low=1, queue_years_high=2)
    out = rank_sites(SiteDemand(100e6, 40e3, "air"), regions=[r])[0]
    assert out["power_path"] == "onsite"
    assert out["time_to_power_years_high"] == 3.0
    assert any("onsite_generation_years" in d for d in out["defaults_used"])


def test_it_power_uses_pue():
    out = rank_sites(SiteDemand(1.0, 40e3, "air", it_power_w=10e6),
                     regions=[_reg("a", pue_air=1.5)])[0]
    assert out["facility_power_w"] == pytest.approx(15e6) and out["pue"] == 1.5


def test_pareto_and_score():
    regs = [_reg("fast", queue_years_low=0, queue_years_high=1, price_usd_per_mwh=100),
            _reg("cheap", price_usd_per_mwh=40),
            _reg("bad", price_usd_per_mwh=120, carbon_intensity_g_per_kwh=500)]
    out = {r["region"]: r for r in rank_sites(SiteDemand(10e6, 40e3, "air"), regions=regs)}
    assert out["fast"]["pareto"] and out["cheap"]["pareto"] and not out["bad"]["pareto"]
    ranked = rank_sites(SiteDemand(10e6, 40e3, "air"), regions=regs,
                        weights="time=0,cost=1,carbon=0")
    assert ranked[0]["region"] == "cheap" and ranked[0]["score"] == 0


@given(st.lists(st.tuples(st.floats(0, 10), st.floats(0, 10), st.floats(0, 10)),
                min_size=1, max_size=30))
@settings(max_examples=100, deadline=None)
def test_pareto_mask_properties(pts):
    x = np.array(pts)
    m = pareto_mask(x)
    assert m.any()  # a non-empty set always has a non-dominated point
    for i in np.flatnonzero(m):
        dom = np.all(x <= x[i], axis=1) & np.any(x < x[i], axis=1)
        assert not dom.any()
    for i in np.flatnonzero(~m):
        dom = np.all(x <= x[i], axis=1) & np.any(x < x[i], axis=1)
        assert dom.any()


def test_bad_inputs():
    with pytest.raises(InputError, match="weight 'speed'"):
        parse_weights("speed=1")
    with pytest.raises(InputError, match="rack power"):
        SiteDemand(1e6, 0)
    with pytest.raises(InputError, match="--users"):
        rank_sites(SiteDemand(1e6, 1e3, "air"), regions=[_reg("a")], users="1")


def test_cli_site_and_rtt_json():
    from wattlas.cli import app

    res = CliRunner().invoke(app, ["rtt", "38.91,-77.04", "50.11,8.68", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["distance_km"] == pytest.approx(6530, rel=0.01)
    assert out["rtt_s"] >= out["rtt_floor_s"]
    if "us-va" not in __import__("wattlas.catalog", fromlist=["ids"]).ids("regions"):
        pytest.skip("regions catalog not present")
    # 2 MW = 17.5 GWh/year: inside the 2-20 GWh/year band Iceland's price is published for
    res = CliRunner().invoke(app, ["site", "--power-mw", "2", "--rack-kw", "120",
                                   "--regions", "us-va,is", "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = {r["region"]: r for r in json.loads(res.output)["regions"]}
    for key in ("feasible", "reasons", "time_to_power_years_low", "time_to_power_years_high",
                "energy_cost_usd_per_year", "co2e_kg_per_year", "pareto"):
        assert key in rows["us-va"]
    assert rows["is"]["feasible"] and not rows["us-va"]["feasible"]


def test_cli_errors_exit_2():
    from wattlas.cli import app

    res = CliRunner().invoke(app, ["site", "--rack-kw", "50"])
    assert res.exit_code != 0
    res = CliRunner().invoke(app, ["rtt", "100,0", "0,0"])
    assert res.exit_code != 0


def test_cli_profile_replaces_annual(tmp_path):
    from wattlas import catalog
    from wattlas.cli import app

    if "us-va" not in catalog.ids("regions"):
        pytest.skip("regions catalog not present")
    f = tmp_path / "p.csv"
    f.write_text("month,carbon_intensity_g_per_kwh,price_usd_per_mwh\n"
                 + "".join(f"{m},100,40\n" for m in range(1, 13)))
    res = CliRunner().invoke(app, ["site", "--power-mw", "10", "--rack-kw", "40", "--cooling",
                                   "air", "--regions", "us-va", "--profile", f"us-va={f}",
                                   "--format", "json"])
    assert res.exit_code == 0, res.output
    row = json.loads(res.output)["regions"][0]
    assert row["carbon_intensity_g_per_kwh"] == 100 and row["price_usd_per_mwh"] == 40
