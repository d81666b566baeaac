"""Who pays: the operator's annual bill by item from the region's large-load tariff terms."""

from __future__ import annotations

import pytest

from wattlas.grid import regions as rg
from wattlas.grid.siting import SiteDemand, rank_sites

HOURS = 8760.0


def _row(region: str, mw: float, frac: float = 0.0) -> dict:
    return rank_sites(SiteDemand(mw * 1e6, 40e3, "air", curtailment_frac=frac),
                      regions=[rg.region(region)])[0]


def test_aep_ohio_minimum_take_is_billed_as_energy():
    """AEP Ohio data-centre tariff (PUCO 9 Jul 2025): at least 85 % of the subscribed energy.
    A 100 MW load curtailed 20 % of the hours uses 80 %: the 5 % shortfall is billed at the
    energy price (EIA 2024 Ohio industrial 71.0 USD/MWh)."""
    c = _row("us-oh", 100, 0.2)["cost_by_payer"]
    short_mwh = (0.85 - 0.8) * 100 * HOURS
    assert c["minimum_take_energy_j_per_year"] == pytest.approx(short_mwh * 3.6e9)
    assert c["minimum_take_usd_per_year"] == pytest.approx(short_mwh * 71.0)
    assert c["energy_usd_per_year"] == pytest.approx(0.8 * 100 * HOURS * 71.0)
    assert c["capacity_usd_per_year"] == pytest.approx(100 * 120_147.05)  # PJM 2026/27 BRA
    assert c["contract_years"] == 12 and c["min_demand_frac"] == 0.85
    assert c["network_upgrades_usd"] is None and c["network_upgrades_payer"].startswith("load")


def test_dominion_demand_minimum_has_no_price_in_the_catalog():
    c = _row("us-va", 100, 0.2)["cost_by_payer"]
    assert c["min_take_basis"] == "demand" and c["minimum_take_energy_j_per_year"] > 0
    assert c["minimum_take_usd_per_year"] is None  # demand rate not published in the catalog
    assert c["contract_years"] == 14 and c["min_demand_generation_frac"] == 0.6


def test_no_minimum_take_for_a_flat_load_or_below_the_threshold():
    assert _row("us-oh", 100)["cost_by_payer"]["minimum_take_usd_per_year"] == 0.0
    small = _row("us-oh", 10, 0.3)["cost_by_payer"]  # 10 MW < 25 MW: not a tariff customer
    assert small["tariff"] is None and small["minimum_take_usd_per_year"] == 0.0
