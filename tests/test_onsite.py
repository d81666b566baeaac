"""On-site and contracted supply: grid-only against a hybrid for the same load."""

from __future__ import annotations

import pytest

from wattlas import catalog
from wattlas.errors import InputError
from wattlas.grid import onsite
from wattlas.grid import regions as rg
from wattlas.grid.siting import SiteDemand, rank_sites

MWH_PER_YEAR = 100 * 8760.0  # a flat 100 MW load


def _reg(**kw):
    base = dict(id="r", lat=40.0, lon=-75.0, rack_density_low_w=40e3, rack_density_high_w=60e3,
                queue_years_low=3, queue_years_high=5, build_years_low=1.5, build_years_high=3.0,
                price_usd_per_mwh=80.0, carbon_intensity_g_per_kwh=400.0,
                capacity_charge_usd_per_mw_year=100_000.0)
    base.update(kw)
    return rg.Region(**base)


def _supply(ids: str) -> dict[str, dict]:
    row = rank_sites(SiteDemand(100e6, 40e3, "air", onsite=tuple(ids.split(","))),
                     regions=[_reg()])[0]
    return {s["supply"]: s for s in row["supply_options"]}


def test_every_option_is_cited():
    for r in catalog.rows("onsite"):
        assert r["source"] and r["source_detail"] and r["as_of"]
        assert r["kind"] in onsite.KINDS


def test_gas_combined_cycle_carries_the_whole_load():
    """Lazard v18: 48-109 USD/MWh; IPCC AR5: 490 g/kWh; lead time 5-7 years. No grid energy and
    no capacity charge; time to power = max(build, lead time)."""
    s = _supply("gas-cc")
    g, cc = s["grid"], s["gas-cc"]
    assert g["time_to_power_years_high"] == 8.0 and cc["time_to_power_years_high"] == 7.0
    assert cc["energy_cost_usd_per_year_low"] == pytest.approx(MWH_PER_YEAR * 48)
    assert cc["energy_cost_usd_per_year_high"] == pytest.approx(MWH_PER_YEAR * 109)
    assert cc["co2e_kg_per_year"] == pytest.approx(MWH_PER_YEAR * 490)
    assert g["energy_cost_usd_per_year_low"] == pytest.approx(MWH_PER_YEAR * 80 + 100 * 1e5)


def test_solar_covers_its_capacity_factor_and_the_grid_the_rest():
    """24.2 % of the energy from PV at 38-78 USD/MWh and 48 g/kWh, 75.8 % from the grid; the
    grid's time to power and capacity charge stay."""
    s = _supply("solar-pv")["grid+solar-pv"]
    cf = 0.242
    assert s["onsite_energy_frac"] == cf and s["time_to_power_years_high"] == 8.0
    assert s["energy_cost_usd_per_year_low"] == pytest.approx(
        MWH_PER_YEAR * (cf * 38 + (1 - cf) * 80) + 100 * 1e5)
    assert s["co2e_kg_per_year"] == pytest.approx(MWH_PER_YEAR * (cf * 48 + (1 - cf) * 400))


def test_unknown_cost_stays_unknown():
    s = _supply("gas-recip")["gas-recip"]
    assert s["time_to_power_years_low"] == 1.5 and s["time_to_power_years_high"] == 3.0
    assert s["energy_cost_usd_per_year_low"] is None and s["co2e_kg_per_year"] is None
    assert "gas-recip lcoe_usd_per_mwh" in s["unknown"]


def test_storage_is_not_a_supply_option():
    with pytest.raises(InputError, match="storage shifts energy"):
        onsite.options("battery-2h")
