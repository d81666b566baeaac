"""Energy on real catalog rows and the training planner (skipped while those are missing)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattlas import energy as en
from wattlas.errors import CatalogKeyError


@pytest.fixture(scope="module")
def plan_405b():
    training = pytest.importorskip("wattlas.perf.training.step")
    from wattlas import hardware
    from wattlas.scenario import resolve_model

    try:
        acc = hardware.accelerator("h100-sxm")
        job = training.TrainingJob(model=resolve_model("llama3-405b"), tokens=15.6e12,
                                   seq_len=8192, global_batch=2048)
        sys = hardware.system("dgx-h100")
    except CatalogKeyError as exc:
        pytest.skip(f"catalog row missing: {exc}")
    layout = training.Layout(tp=8, pp=16, dp=128, recompute="full")
    return training.plan_training(job, acc, layout, gpus=16384, allow_uneven_pp=True), sys


def test_405b_on_16k_h100_reads_in_a_few_lines(plan_405b):
    plan, sys = plan_405b
    rep = en.training_energy(plan, en.EnergyInputs(region="us-va"), sys)
    lines = rep.summary_lines()
    assert 4 <= len(lines) <= 6
    # 16,384 GPUs × ≤ (700 W + 575 W host + 100 W network) ≈ 22.5 MW IT at most
    assert 8e6 < rep.it_power_w < 22.6e6
    assert rep.facility_power_w > rep.it_power_w
    assert rep.racks >= 16384 // 8 // 8
    assert rep.co2e_kg is not None and rep.grid_intensity_g_per_kwh == 418
    assert rep.capacity_cost_usd is not None  # PJM capacity charge
    assert "region=us-va" in rep.inputs_given


def test_tdp_basis_above_modeled(plan_405b):
    plan, sys = plan_405b
    mod = en.training_energy(plan, en.EnergyInputs(pue=1.1), sys)
    tdp = en.training_energy(plan, en.EnergyInputs(pue=1.1, power_basis="tdp"), sys)
    assert tdp.energy_j > mod.energy_j


def test_measured_basis_uses_hgx_node(plan_405b):
    plan, _ = plan_405b
    rep = en.training_energy(plan, en.EnergyInputs(pue=1.0, power_basis="measured"))
    node_w = (rep.gpu_power_w + rep.host_power_w) / plan.gpus * 8
    assert node_w == pytest.approx(8400.0)


def test_inputs_from_scenario():
    from wattlas import scenario

    scen = scenario.validate({"energy": {"pue": 1.3, "price_usd_per_mwh": 60},
                              "site": {"region": "is", "cooling": "air"}})
    x = en.inputs_from_scenario(scen, power_cap_w=600)
    assert (x.pue, x.price_usd_per_mwh, x.region, x.cooling, x.power_cap_w) == (
        1.3, 60, "is", "air", 600)


def test_validate_energy_suite():
    from wattlas.validation import run, summarize

    cases = run("energy")
    assert len([c for c in cases if "predicted" not in c.case]) >= 20
    summary = summarize(cases)
    assert summary["training_footprints"]["median_abs_error_frac"] < 0.01
    for c in cases:
        if "predicted" in c.case:
            assert c.source.endswith("(predicted)")


# ------------------------------------------------------------------ power cap applied to the plan

_SMALL: dict = {}


def _small_plan():
    """An 8B plan on 16 H100s (built once; hypothesis cannot take a module fixture)."""
    if "plan" not in _SMALL:
        training = pytest.importorskip("wattlas.perf.training.step")
        from wattlas import hardware
        from wattlas.scenario import resolve_model

        job = training.TrainingJob(model=resolve_model("llama3-8b"), tokens=1e11,
                                   seq_len=4096, global_batch=128)
        _SMALL["plan"] = training.plan_training(job, hardware.accelerator("h100-sxm"),
                                                training.Layout(tp=2, dp=8), gpus=16)
        _SMALL["system"] = hardware.system("dgx-h100")
    return _SMALL["plan"], _SMALL["system"]


def _consistent(plan):
    """training_time_s = steps × step_time_s / goodput; GPU-hours and phases follow."""
    assert plan.training_time_s == pytest.approx(
        plan.steps * plan.step_time_s / plan.goodput_frac, rel=1e-12)
    assert plan.gpu_hours == pytest.approx(plan.gpus * plan.training_time_s / 3600, rel=1e-12)
    assert sum(plan.breakdown_s.values()) == pytest.approx(plan.step_time_s, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.floats(150.0, 800.0), st.floats(150.0, 800.0), st.sampled_from(["modeled", "tdp"]))
def test_cap_slows_the_plan_consistently(cap_a, cap_b, basis):
    from wattlas.perf.training.step import capped_plan

    plan, system = _small_plan()
    free = en.training_energy(plan, en.EnergyInputs(pue=1.0, power_basis=basis), system)
    _consistent(plan)
    assert capped_plan(plan, free.slowdown_frac, free.phase_time_factors) is plan  # uncapped
    lo, hi = sorted((cap_a, cap_b))
    reps = [en.training_energy(plan, en.EnergyInputs(pue=1.0, power_basis=basis,
                                                     power_cap_w=c), system) for c in (lo, hi)]
    # a lower cap never slows less
    assert reps[0].slowdown_frac >= reps[1].slowdown_frac - 1e-12
    for cap, rep in zip((lo, hi), reps, strict=True):
        capped = capped_plan(plan, rep.slowdown_frac, rep.phase_time_factors, cap)
        k = 1.0 + rep.slowdown_frac
        assert capped.power_cap_slowdown_frac == pytest.approx(rep.slowdown_frac)
        assert capped.step_time_s >= plan.step_time_s
        assert capped.step_time_s == pytest.approx(plan.step_time_s * k, rel=1e-12)
        assert capped.training_time_s >= plan.training_time_s
        _consistent(capped)
        # the plan's time is the energy report's duration: one result, not two
        assert capped.training_time_s == pytest.approx(rep.duration_s, rel=1e-9)
        for name in ("mfu", "hfu", "tokens_per_s", "model_flop_per_s_per_gpu",
                     "hardware_flop_per_s_per_gpu"):
            assert getattr(capped, name) * k == pytest.approx(getattr(plan, name), rel=1e-12)
        # energy per step under the cap ≤ uncapped × the slowdown bound
        assert rep.energy_j / plan.steps <= free.energy_j / plan.steps * k * (1 + 1e-9)
        # no phase shrinks, none stretches beyond the compute (clock-ratio) factor
        top = max(rep.phase_time_factors.values(), default=k)
        for name, t in capped.breakdown_s.items():
            assert plan.breakdown_s[name] * (1 - 1e-9) <= t <= plan.breakdown_s[name] * top * (
                1 + 1e-9)


def test_capped_plan_rejects_double_cap_and_bad_slowdown():
    from wattlas.errors import InputError
    from wattlas.perf.training.step import capped_plan

    plan, system = _small_plan()
    rep = en.training_energy(plan, en.EnergyInputs(power_cap_w=350.0), system)
    capped = capped_plan(plan, rep.slowdown_frac, rep.phase_time_factors, 350.0)
    assert any("power cap 350 W per GPU" in n for n in capped.notes)
    with pytest.raises(InputError, match="already includes a power-cap slowdown"):
        en.training_energy(capped, en.EnergyInputs(power_cap_w=350.0), system)
    with pytest.raises(InputError, match=r"power_cap_slowdown_frac = -0.1: must be ≥ 0"):
        capped_plan(plan, -0.1)
