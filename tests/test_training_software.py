"""Software generations (training.software_year) and stack efficiency (stack_efficiency_frac),
and the end-to-end energy cases they make predictable."""

import csv
import json
import subprocess
import sys
from importlib import resources

import numpy as np
import pytest

from wattlas import hardware
from wattlas.errors import InputError
from wattlas.perf.training import software
from wattlas.perf.training.search import search_layouts
from wattlas.perf.training.step import Layout, TrainingJob, plan_training
from wattlas.scenario import resolve_model


def _job(year=None, eff=1.0, model="llama2-7b", precision="bf16"):
    return TrainingJob(model=resolve_model(model), tokens=1e11, seq_len=4096, global_batch=256,
                       precision=precision, software_year=year, stack_efficiency_frac=eff)


def test_feature_table_is_cited():
    text = resources.files("wattlas.data").joinpath("features.csv").read_text()
    rows = list(csv.DictReader(text.splitlines()))
    assert {r["id"] for r in rows} == set(software.first_years())
    for r in rows:
        assert r["source"].strip() and r["as_of"].strip() and r["source_detail"].strip()
        assert 2012 <= int(r["first_year"]) <= 2026


def test_a_user_catalog_row_changes_a_feature_year(tmp_path):
    from wattlas import catalog

    f = tmp_path / "features-mine.csv"
    f.write_text("id,layout_condition,first_year,source,source_detail,as_of\n"
                 "sequence_parallel,sequence_parallel = true,2024,our stack,added 2024,"
                 "2026-12-01\n")
    try:
        catalog.add_user_rows(f)
        assert software.first_years()["sequence_parallel"] == 2024
        res = search_layouts(_job(2023), hardware.accelerator("a100-sxm-80gb"), 64)
        assert all(not r["sequence_parallel"] or r["tp"] == 1 for r in res.pareto)
    finally:
        catalog._user_rows["features"].clear()
    assert software.first_years()["sequence_parallel"] == 2022


@pytest.mark.parametrize("year", [2019, 2020, 2021, 2022])
def test_search_offers_only_features_of_its_year(year):
    res = search_layouts(_job(year), hardware.accelerator("a100-sxm-80gb"), 64)
    lay = res.best.layout
    years = software.first_years()
    assert lay.flash_attention == (years["flash_attention"] <= year)
    if years["sequence_parallel"] > year:
        assert not lay.sequence_parallel or lay.tp == 1
    if years["selective_recompute"] > year:
        assert lay.recompute != "selective"
    if years["interleaved_pipeline"] > year:
        assert lay.vpp == 1
    for row in res.pareto:
        if years["interleaved_pipeline"] > year:
            assert row["vpp"] == 1
        if years["context_parallel"] > year:
            assert row["cp"] == 1


def test_older_software_is_never_faster():
    acc = hardware.accelerator("a100-sxm-80gb")
    times = [search_layouts(_job(y), acc, 64).best.step_time_s for y in (2020, 2021, 2022, None)]
    assert all(a >= b * (1 - 1e-12) for a, b in zip(times, times[1:], strict=False))
    assert times[0] > times[-1]


def test_given_layout_with_a_newer_feature_is_rejected():
    acc = hardware.accelerator("a100-sxm-80gb")
    lay = Layout(tp=2, pp=2, dp=16, vpp=2, recompute="full", sequence_parallel=False,
                 flash_attention=False)
    with pytest.raises(InputError, match="interleaved pipeline needs software_year ≥ 2021"):
        plan_training(_job(2020), acc, lay, gpus=64)
    assert plan_training(_job(2021), acc, lay, gpus=64).fits


def test_fp8_needs_its_year():
    with pytest.raises(InputError, match="'fp8' needs software_year ≥ 2022"):
        _job(2021, precision="fp8")
    _job(2022, precision="fp8")


@pytest.mark.parametrize("bad", [0.0, -0.5, 1.01])
def test_stack_efficiency_bounds(bad):
    with pytest.raises(InputError, match="stack_efficiency_frac"):
        _job(eff=bad)


@pytest.mark.parametrize("eff", [0.3, 0.7, 0.95])
def test_stack_efficiency_stretches_every_phase(eff):
    acc = hardware.accelerator("a100-sxm-80gb")
    lay = Layout(tp=2, pp=2, dp=16)
    base = plan_training(_job(), acc, lay, gpus=64)
    slow = plan_training(_job(eff=eff), acc, lay, gpus=64)
    assert slow.step_time_s == pytest.approx(base.step_time_s / eff, rel=1e-12)
    assert slow.mfu == pytest.approx(base.mfu * eff, rel=1e-12)
    assert slow.gpu_hours == pytest.approx(base.gpu_hours / eff, rel=1e-12)
    for k, v in base.breakdown_s.items():
        assert slow.breakdown_s[k] == pytest.approx(v / eff, rel=1e-12)
    assert slow.memory_per_gpu_bytes == base.memory_per_gpu_bytes


def test_scenario_defaults_follow_the_year():
    from wattlas import scenario
    from wattlas.perf.training.step import plan_from_scenario

    data = {"model": "llama2-7b", "hardware": {"accelerator": "a100-sxm-80gb"},
            "cluster": {"gpus": 64},
            "training": {"tokens": 1e11, "seq_len": 4096, "global_batch": 256,
                         "software_year": 2021, "layout": {"tp": 2, "pp": 2}}}
    plan = plan_from_scenario(scenario.validate(data))
    assert (plan.layout.flash_attention, plan.layout.sequence_parallel,
            plan.layout.recompute) == (False, False, "full")


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "wattlas.cli", *args], capture_output=True,
                          text=True)


def test_cli_software_flags():
    base = ["train", "--model", "gpt3-175b", "--accelerator", "v100", "--gpus", "9216",
            "--tokens", "300e9", "--seq-len", "2048", "--global-batch", "1536",
            "--precision", "fp16"]
    proc = _cli(*base, "--software-year", "2020", "--search", "--allow-uneven-pp",
                "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["software_year"] == 2020 and out["stack_efficiency_frac"] == 1.0
    assert out["parallelism"]["vpp"] == 1 and not out["parallelism"]["sequence_parallel"]
    bad = _cli(*base, "--software-year", "2020", "--tp", "8", "--pp", "6", "--vpp", "2")
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "software_year ≥ 2021" in bad.stderr
    bad = _cli(*base, "--stack-efficiency", "1.5", "--tp", "8", "--pp", "6")
    assert bad.returncode == 2 and "stack_efficiency_frac" in bad.stderr


def test_predicted_footprints_out_of_sample():
    """Issue target: end to end (model + tokens + cluster → MWh) within 15 % where the source
    gives enough to predict. Measured: BLOOM −5.6 %, Llama 2 34B −12.0 % (350 W cap), Llama 2
    70B +3.1 %, GPT-3 −8.3 %. Calibration rows are marked and excluded."""
    from wattlas.validation import energy

    cases = [c for c in energy.predicted_cases() if c.metric == "energy_mwh"]
    held_out = {c.case: c.error_frac for c in cases if not c.calibration}
    assert set(held_out) == {"BLOOM-176B predicted", "Llama2-34B predicted",
                             "Llama2-70B predicted", "GPT-3-175B predicted"}
    assert all(abs(e) < 0.15 for e in held_out.values()), held_out
    assert {c.case for c in cases if c.calibration} == {"Llama2-7B predicted",
                                                        "Llama2-13B predicted"}


def test_power_cap_read_only_from_a_peak_power_below_tdp():
    from wattlas.validation import energy

    caps = {r.model: energy.power_cap_w(r) for r in energy.PREDICTED_RUNS}
    assert caps == {"bloom-176b": None, "llama2-7b": None, "llama2-13b": None,
                    "llama2-34b": 350.0, "llama2-70b": None, "gpt3-175b": None}
    run = next(r for r in energy.PREDICTED_RUNS if r.model == "llama2-34b")
    capped = energy._plan(run, 0.699)
    assert capped.power_cap_slowdown_frac > 0.0
    assert "power cap 350 W" in " ".join(capped.notes)


def test_llama2_stack_constant_is_the_fit():
    from wattlas.perf.training import calibration
    from wattlas.validation.energy import fit_llama2_stack_efficiency

    fitted = fit_llama2_stack_efficiency()["LLAMA2_STACK_EFFICIENCY"]
    assert calibration.LLAMA2_STACK_EFFICIENCY == pytest.approx(fitted, abs=5e-4)


def test_gpt3_needs_the_2020_feature_set():
    """With today's features the V100 run would take well under half its published hours:
    the year, not a fitted constant, carries the case."""
    from dataclasses import replace

    from wattlas.validation import energy

    run = next(r for r in energy.PREDICTED_RUNS if r.model == "gpt3-175b")
    then = energy._plan(run, 1.0).gpu_hours
    now = energy._plan(replace(run, software_year=2026), 1.0).gpu_hours
    assert now < 0.5 * then
    assert np.isfinite(then)


def test_llama1_throughput_checks_the_llama2_stack_efficiency():
    """Out-of-sample check (not fitted): Touvron et al. 2023a §2.4 report about 380 tokens/s per
    GPU for LLaMA 65B on 2,048 A100-80GB (1.4T tokens in about 21 days). The searched layout
    with the Llama 2 stack efficiency predicts 390."""
    from wattlas.perf.training import calibration

    job = TrainingJob(model=resolve_model("llama-65b"), tokens=1.4e12, seq_len=2048,
                      global_batch=2048, software_year=2022,
                      stack_efficiency_frac=calibration.LLAMA2_STACK_EFFICIENCY)
    best = search_layouts(job, hardware.accelerator("a100-sxm-80gb"), 2048).best
    per_gpu = best.tokens_per_s / 2048
    assert per_gpu == pytest.approx(380.0, rel=0.05)
    days_at_full_goodput = best.training_time_s * best.goodput_frac / 86400
    assert days_at_full_goodput == pytest.approx(21.0, rel=0.05)


def test_published_stack_efficiencies_are_the_fit():
    """STACK_EFFICIENCY_FRAC holds what fit_stack_efficiency prints (never typed by hand); the
    Megatron-Core stack, on whose rows the model is fitted, is within 3 % of the default 1.0, and
    applying a stack's efficiency lowers its out-of-sample error."""
    from wattlas.perf.training import calibration
    from wattlas.validation.fit import fit_stack_efficiency

    fit = fit_stack_efficiency()
    keys = {"Megatron-Core (NeMo, Megatron-LM)": "megatron-core",
            "torchtitan (FSDP2)": "torchtitan-fsdp2",
            "NeMo AutoModel (FSDP2)": "nemo-automodel-fsdp2"}
    for stack, key in keys.items():
        assert calibration.STACK_EFFICIENCY_FRAC[key] == pytest.approx(
            fit[stack]["stack_efficiency_frac"], abs=5e-4)
    assert fit["Megatron-Core (NeMo, Megatron-LM)"]["stack_efficiency_frac"] == pytest.approx(
        1.0, abs=0.03)
    tt = fit["torchtitan (FSDP2)"]
    assert (tt["out_of_sample_median_abs_error_frac_with_efficiency"]
            < tt["out_of_sample_median_abs_error_frac_model"])


def test_a_slower_stack_shows_the_ideal_beside_the_plan():
    """With a stack efficiency below 1 (torchtitan-class 0.701) the plan's note gives the same
    layout at stack efficiency 1: the MFU and GPU-hours the calibrated model plans for it."""
    import re

    acc = hardware.accelerator("h100-sxm")
    lay = Layout(tp=1, pp=1, dp=64, recompute="selective")
    slow = plan_training(_job(eff=0.701, model="llama3-8b"), acc, lay, gpus=64)
    ideal = plan_training(_job(model="llama3-8b"), acc, lay, gpus=64)
    note = next(n for n in slow.notes if n.startswith("stack efficiency 0.701"))
    mfu, hours = re.search(r"MFU ([\d.]+)% and ([\d,]+) GPU-hours", note).groups()
    assert float(mfu) == pytest.approx(100 * ideal.mfu, abs=0.05)
    assert float(hours.replace(",", "")) == pytest.approx(ideal.gpu_hours, rel=1e-3)
    assert slow.gpu_hours > ideal.gpu_hours
    # the default stack (efficiency 1) has no such note
    assert not any(n.startswith("stack efficiency") for n in ideal.notes)
