"""Energy: device power, power caps, facility, carbon, cost, accounting lists and errors."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattlas import energy as en
from wattlas.errors import InputError
from wattlas.hardware import Accelerator, System

H100 = Accelerator(id="h100-test", tdp_w=700.0, die_area_mm2=814.0)
H100_IDLE = Accelerator(id="h100-idle", tdp_w=700.0, idle_w=70.0)
DGX = System(id="dgx-test", accelerator="h100-test", unit="node", accelerators_per_node=8,
             node_max_power_w=10200.0, host_power_w=4600.0)


@dataclass(frozen=True)
class PlanData:
    """Test data with the TrainingPlan fields training_energy reads (not a runnable plan)."""

    accelerator: Accelerator
    gpus: int
    step_time_s: float
    breakdown_s: dict[str, float]
    steps: int
    tokens_per_s: float
    goodput_frac: float = 0.9
    training_time_s: float = 0.0
    notes: list[str] = field(default_factory=list)


def make_plan(gpus: int = 1024, compute_s: float = 8.0, comm_s: float = 1.0,
              bubble_s: float = 1.0, steps: int = 1000, goodput: float = 0.9) -> PlanData:
    bd = {"compute": compute_s, "recompute": 0.0, "tp_comm": comm_s, "bubble": bubble_s,
          "dp_comm": 0.0, "optimizer": 0.0}
    step = compute_s + comm_s + bubble_s
    return PlanData(H100, gpus, step, bd, steps, tokens_per_s=4e6 / step,
                    goodput_frac=goodput, training_time_s=steps * step / goodput)


def test_device_power_idle_to_tdp():
    assert en.device_power_w(H100_IDLE, 0.0) == pytest.approx(70.0)
    assert en.device_power_w(H100_IDLE, 1.0) == pytest.approx(700.0)
    assert en.device_power_w(H100_IDLE, 0.5) == pytest.approx(385.0)
    arr = en.device_power_w(H100_IDLE, np.array([0.0, 1.0]))
    np.testing.assert_allclose(arr, [70.0, 700.0])
    assert en.device_power_w(H100_IDLE, 0.2, "tdp") == 700.0


def test_default_idle_is_reported():
    assert en.idle_power_w(H100) == (pytest.approx(84.0), True)
    rep = en.training_energy(make_plan(), en.EnergyInputs(grid_intensity_g_per_kwh=400), DGX)
    assert any("idle power" in d for d in rep.defaults_used)
    assert any("pue" in d for d in rep.defaults_used)


def test_measured_hgx_h100_node_power_is_reproduced():
    """HGX 8×H100 training draw 8.4 kW of 10.2 kW max (Latif et al., constants CSV); the modeled
    node at 90 % compute-bound time must land within 5 % (the activity constants are round
    numbers, not a fit)."""
    plan = make_plan(gpus=8, compute_s=9.0, comm_s=0.5, bubble_s=0.5)
    rep = en.training_energy(plan, en.EnergyInputs(pue=1.0), DGX)
    node_w = (rep.gpu_power_w + rep.host_power_w) / plan.gpus * 8
    assert node_w == pytest.approx(8400.0, rel=0.05)


def test_facility_and_contract_keys():
    rep = en.training_energy(make_plan(), en.EnergyInputs(pue=1.2, grid_intensity_g_per_kwh=400,
                                                          price_usd_per_mwh=80), DGX)
    keys = rep.as_keys()
    for k in ("it_power_w", "facility_power_w", "energy_j", "co2e_kg", "energy_cost_usd",
              "racks"):
        assert keys[k] is not None
    assert rep.facility_power_w == pytest.approx(1.2 * rep.it_power_w)
    assert rep.cooling_power_w == pytest.approx(0.2 * rep.it_power_w)
    assert rep.peak_facility_power_w >= rep.facility_power_w
    assert "pue=1.2" in rep.inputs_given


def test_no_intensity_means_no_carbon_and_a_note():
    rep = en.training_energy(make_plan(), en.EnergyInputs(pue=1.1), DGX)
    assert rep.co2e_kg is None and rep.energy_cost_usd is None
    assert any("no world-average fallback" in n for n in rep.notes)


def test_market_based_carbon_with_ppa():
    rep = en.training_energy(make_plan(), en.EnergyInputs(grid_intensity_g_per_kwh=400,
                                                          ppa_frac=0.75), DGX)
    assert rep.co2e_market_kg == pytest.approx(0.25 * rep.co2e_kg)


def test_costs_shown_apart():
    rep = en.training_energy(make_plan(), en.EnergyInputs(price_usd_per_mwh=100,
                                                          gpu_hour_price_usd=2.0), DGX)
    assert rep.energy_cost_usd == pytest.approx(rep.energy_j / 3.6e9 * 100)
    assert rep.hardware_cost_usd == pytest.approx(2.0 * 1024 * rep.duration_s / 3600)
    assert rep.cost_usd_per_million_tokens > 0


def test_racks_from_rack_power_limit():
    rep = en.training_energy(make_plan(gpus=1024), en.EnergyInputs(cooling="air"), DGX)
    # peak node = 8·(700 + 575 + 100) = 11 kW; 40 kW air default → 3 nodes per rack
    assert rep.racks == 43
    assert any("rack limit 40 kW" in d for d in rep.defaults_used)


def test_serving_energy_per_token():
    rep = en.serving_energy(8, 500.0, 4000.0, en.EnergyInputs(pue=1.0), DGX, hours=1.0,
                            accelerator=H100)
    it = 8 * (500.0 + 575.0 * en.HOST_LOAD_FRAC + en.NETWORK_W_PER_GPU)
    assert rep.energy_per_token_j == pytest.approx(it / 4000.0)
    assert rep.as_keys()["energy_per_token_j"] == pytest.approx(it / 4000.0)


@pytest.mark.parametrize("kw, match", [
    ({"pue": 0.9}, r"energy.pue = 0.9: must be in \[1, 5\)"),
    ({"grid_intensity_g_per_kwh": -1}, r"grid_intensity_g_per_kwh = -1: must be"),
    ({"price_usd_per_mwh": -5}, r"price_usd_per_mwh = -5: must be"),
    ({"ppa_frac": 1.5}, r"ppa_frac = 1.5: must be in \[0, 1\]"),
    ({"power_basis": "guess"}, r"power_basis 'guess': allowed tdp, measured, modeled"),
    ({"cooling": "oil"}, r"cooling 'oil': allowed air, liquid"),
    ({"power_cap_w": -3}, r"power_cap_w = -3 W"),
    ({"gpu_hour_price_usd": -2}, r"energy.gpu_hour_price_usd = -2: must be a finite number ≥ 0"),
    ({"capex_usd_per_gpu": -1}, r"energy.capex_usd_per_gpu = -1: must be a finite number ≥ 0"),
    ({"capex_life_years": 0}, r"energy.capex_life_years = 0: must be a finite number > 0"),
    ({"capacity_charge_usd_per_mw_year": -5},
     r"energy.capacity_charge_usd_per_mw_year = -5: must be a finite number ≥ 0"),
])
def test_absurd_inputs_rejected(kw: dict[str, Any], match: str):
    with pytest.raises(InputError, match=match):
        en.EnergyInputs(**kw)


def test_cap_below_idle_rejected():
    with pytest.raises(InputError, match="above the idle power"):
        en.training_energy(make_plan(), en.EnergyInputs(power_cap_w=50), DGX)


def test_activity_out_of_range_rejected():
    with pytest.raises(InputError, match=r"activity_frac = 1.5: must be in \[0, 1\]"):
        en.device_power_w(H100, 1.5)


# ------------------------------------------------------------------ properties (hypothesis)

@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(1e-3, 1e3)), min_size=1, max_size=20))
def test_energy_is_integral_of_power(trace):
    act = np.array([a for a, _ in trace])
    dt = np.array([t for _, t in trace])
    p = en.device_power_w(H100_IDLE, act)
    e = en.energy_of_trace_j(p, dt)
    assert e == pytest.approx(float(np.sum(p * dt)))
    # and a training report's energy equals its facility power × its duration
    rep = en.training_energy(make_plan(compute_s=float(dt[0])), en.EnergyInputs(), DGX)
    assert rep.energy_j == pytest.approx(rep.facility_power_w * rep.duration_s)


@settings(max_examples=40, deadline=None)
@given(st.floats(1.0, 3.0), st.floats(0.1, 20), st.floats(0, 5), st.floats(0, 5))
def test_facility_at_least_it(pue, compute, comm, bubble):
    rep = en.training_energy(make_plan(compute_s=compute, comm_s=comm, bubble_s=bubble),
                             en.EnergyInputs(pue=pue), DGX)
    assert rep.facility_power_w >= rep.it_power_w
    assert rep.peak_facility_power_w >= rep.facility_power_w


@settings(max_examples=40, deadline=None)
@given(st.floats(0, 2000), st.floats(0.01, 10))
def test_carbon_linear_in_intensity(ci, k):
    plan = make_plan()
    a = en.training_energy(plan, en.EnergyInputs(grid_intensity_g_per_kwh=ci), DGX)
    b = en.training_energy(plan, en.EnergyInputs(grid_intensity_g_per_kwh=ci * k), DGX)
    assert b.co2e_kg == pytest.approx(k * a.co2e_kg, rel=1e-9, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.floats(90, 700), st.floats(0.1, 20), st.floats(0, 5), st.floats(0, 5))
def test_cap_energy_bounded_by_slowdown(cap, compute, comm, bubble):
    """A cap never raises energy per step above uncapped by more than its slowdown implies."""
    plan = make_plan(compute_s=compute, comm_s=comm, bubble_s=bubble)
    free = en.training_energy(plan, en.EnergyInputs(pue=1.0), DGX)
    capped = en.training_energy(plan, en.EnergyInputs(pue=1.0, power_cap_w=cap), DGX)
    assert capped.slowdown_frac >= 0
    assert capped.energy_j <= free.energy_j * (1 + capped.slowdown_frac) * (1 + 1e-9)
    assert capped.gpu_power_w <= free.gpu_power_w * (1 + 1e-9)


def test_memory_bound_phase_slows_less_under_cap():
    _, slow_c = en.capped_phase(700.0, 84.0, 400.0, compute_bound=True)
    _, slow_m = en.capped_phase(700.0, 84.0, 400.0, compute_bound=False)
    assert 1.0 < float(slow_m) < float(slow_c)
    # k = 3: (400−84)/(700−84) = r³ → slowdown 1/r
    assert float(slow_c) == pytest.approx((616 / 316) ** (1 / 3))


def test_report_is_frozen_and_summary_readable():
    rep = en.training_energy(make_plan(), en.EnergyInputs(grid_intensity_g_per_kwh=300,
                                                          price_usd_per_mwh=70), DGX)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rep.energy_j = 0.0  # type: ignore[misc]
    text = "\n".join(rep.summary_lines())
    assert "MW" in text and "MWh" in text and "tCO2e" in text and "$" in text


# ------------------------------------------------------------------ cost parts and embodied method

YEAR_S = 365.25 * 86400.0


def test_capex_share_and_default_life():
    plan = make_plan()
    rep = en.training_energy(plan, en.EnergyInputs(capex_usd_per_gpu=30_000.0), DGX)
    # straight line over the default 4-year life, reported in defaults_used
    assert rep.capex_cost_usd == pytest.approx(30_000.0 * 1024 * rep.duration_s / (4 * YEAR_S))
    assert rep.hardware_cost_usd == pytest.approx(rep.capex_cost_usd)
    assert any("capex life 4 years" in d for d in rep.defaults_used)
    assert "capex_usd_per_gpu=30000" in rep.inputs_given
    five = en.training_energy(plan, en.EnergyInputs(capex_usd_per_gpu=30_000.0,
                                                    capex_life_years=5.0), DGX)
    assert five.capex_cost_usd == pytest.approx(rep.capex_cost_usd * 4 / 5)
    assert not any("capex life" in d for d in five.defaults_used)
    assert "capex_life_years=5" in five.inputs_given


def test_hardware_cost_is_gpu_hours_plus_capex_and_total_sums_parts():
    rep = en.training_energy(make_plan(), en.EnergyInputs(
        price_usd_per_mwh=80.0, gpu_hour_price_usd=2.0, capex_usd_per_gpu=25_000.0,
        capacity_charge_usd_per_mw_year=100_000.0), DGX)
    rent = 2.0 * 1024 * rep.duration_s / 3600.0
    assert rep.hardware_cost_usd == pytest.approx(rent + rep.capex_cost_usd)
    assert rep.cost_usd_total == pytest.approx(rep.energy_cost_usd + rep.capacity_cost_usd
                                               + rep.hardware_cost_usd)
    keys = rep.as_keys()
    assert keys["cost_usd_total"] == pytest.approx(rep.cost_usd_total)
    assert keys["capex_cost_usd"] == pytest.approx(rep.capex_cost_usd)
    assert any("counting it twice" in n for n in rep.notes)
    cost = [line for line in rep.summary_lines() if line.startswith("cost ")][0]
    for word in ("energy $", "capacity $", "GPU-hours $", "capex share $", "total $"):
        assert word in cost
    none = en.training_energy(make_plan(), en.EnergyInputs(), DGX)
    assert none.cost_usd_total is None and none.as_keys()["hardware_cost_usd"] is None


def test_capacity_charge_given_overrides_region():
    plan = make_plan()
    region = en.training_energy(plan, en.EnergyInputs(region="us-va"), DGX)
    assert region.capacity_cost_usd is not None  # PJM capacity charge in the catalog
    assert any("capacity charge" in n and "us-va" in n for n in region.notes)
    given = en.training_energy(plan, en.EnergyInputs(
        region="us-va", capacity_charge_usd_per_mw_year=50_000.0), DGX)
    assert given.capacity_cost_usd == pytest.approx(
        given.peak_facility_power_w / 1e6 * 50_000.0 * given.duration_s / YEAR_S)
    assert given.capacity_cost_usd != pytest.approx(region.capacity_cost_usd)
    assert "capacity_charge_usd_per_mw_year=50000" in given.inputs_given
    zero = en.training_energy(plan, en.EnergyInputs(region="us-va",
                                                    capacity_charge_usd_per_mw_year=0.0), DGX)
    assert zero.capacity_cost_usd == 0.0  # given 0 means no charge, not "unknown"
    # no region and no charge: not computed
    assert en.training_energy(plan, en.EnergyInputs(), DGX).capacity_cost_usd is None


def test_embodied_method_is_named():
    with_die = en.training_energy(make_plan(), en.EnergyInputs(), DGX)
    assert "die-area" in with_die.embodied_method and "LCA" in with_die.embodied_method
    assert with_die.as_keys()["embodied_method"] == with_die.embodied_method
    line = [x for x in with_die.summary_lines() if x.startswith("embodied")][0]
    # two boundaries, each named: whole servers (LCA) and GPU dies (die area)
    assert "die area" in line and "whole servers (EcoLogits LCA" in line
    no_die = en.training_energy(dataclasses.replace(make_plan(), accelerator=H100_IDLE),
                                en.EnergyInputs(), DGX)
    assert no_die.embodied_co2e_kg_low is None
    assert "no die_area_mm2" in no_die.embodied_method
    line = [x for x in no_die.summary_lines() if x.startswith("embodied")][0]
    assert "die area" not in line and "whole servers (EcoLogits LCA" in line


def test_serving_names_an_unapplied_cap():
    rep = en.serving_energy(8, 500.0, 4000.0, en.EnergyInputs(power_cap_w=400.0), DGX,
                            hours=1.0, accelerator=H100)
    assert any("not applied to serving" in n for n in rep.notes)


def test_phase_time_factors_under_cap():
    free = en.training_energy(make_plan(), en.EnergyInputs(), DGX)
    assert free.slowdown_frac == 0.0 and free.phase_time_factors == {}
    rep = en.training_energy(make_plan(), en.EnergyInputs(power_cap_w=400.0), DGX)
    f = rep.phase_time_factors
    assert f["compute"] > f["tp_comm"] >= 1.0  # compute slows by the clock ratio, comm less
    # the factors reproduce the slowdown: Σ t·f / Σ t − 1
    bd = make_plan().breakdown_s
    assert rep.slowdown_frac == pytest.approx(
        sum(t * f.get(k, 1.0) for k, t in bd.items()) / sum(bd.values()) - 1.0)
