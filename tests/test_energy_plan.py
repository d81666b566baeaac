"""Energy on real catalog rows and the training planner (skipped while those are missing)."""

from __future__ import annotations

import pytest

from wattlas import energy as en
from wattlas.errors import CatalogKeyError


@pytest.fixture(scope="module")
def plan_405b():
    training = pytest.importorskip("wattlas.perf.training")
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
