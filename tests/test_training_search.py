"""Vectorised layout search (wattlas.perf.training.search)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattlas.errors import InfeasibleError, InputError
from wattlas.hardware import Accelerator, Fabric
from wattlas.perf.training.search import enumerate_layouts, pareto_front, search_layouts
from wattlas.perf.training.step import Layout, TrainingJob, plan_training
from wattlas.units import GIB
from wattlas.workload.transformer import ModelSpec

H100 = Accelerator(id="h100-test", bf16_flop_per_s=989.4e12, hbm_bytes=80 * GIB,
                   hbm_bytes_per_s=3.35e12, scaleup_bytes_per_s=450e9, scaleup_domain=8,
                   scaleout_bytes_per_s=50e9)
FAB = Fabric(scaleup_domain=8, scaleup_bytes_per_s=450e9, scaleout_bytes_per_s=50e9)
M = ModelSpec(id="m", layers=32, hidden=4096, heads=32, kv_heads=8, ffn=14336, vocab=128256)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from([8, 16, 24, 64, 128, 512]), st.sampled_from([256, 512, 1024]))
def test_every_layout_multiplies_to_gpu_count(gpus, batch):
    job = TrainingJob(M, 1e12, 4096, batch)
    arr = enumerate_layouts(job, gpus, FAB)
    prod = arr["tp"] * arr["pp"] * arr["dp"] * arr["cp"]
    assert np.all(prod == gpus)
    assert np.all(arr["tp"] <= 8) and np.all(32 % arr["tp"] == 0)
    assert np.all(32 % (arr["pp"] * arr["vpp"]) == 0)
    assert np.all(batch % (arr["dp"] * arr["microbatch"]) == 0)


def test_search_best_matches_scalar_plan():
    job = TrainingJob(M, 1e12, 4096, 512)
    res = search_layouts(job, H100, 64, FAB)
    assert res.candidates > 100 and res.best.fits
    again = plan_training(job, H100, res.best.layout, FAB, gpus=64)
    assert again.step_time_s == pytest.approx(res.best.step_time_s, rel=1e-12)
    # the best is no slower than a hand-picked reasonable layout
    hand = plan_training(job, H100, Layout(tp=8, pp=1, dp=8, microbatch=1), FAB)
    assert res.best.step_time_s <= hand.step_time_s
    times = [r["step_time_s"] for r in res.pareto]
    heads = [r["headroom_bytes"] for r in res.pareto]
    assert times == sorted(times) and heads == sorted(heads)
    assert res.pareto[0]["step_time_s"] == pytest.approx(res.best.step_time_s)


def test_pareto_front_small():
    t = np.array([1.0, 2.0, 1.5, 3.0])
    h = np.array([1.0, 5.0, 0.5, 4.0])
    assert list(pareto_front(t, h)) == [0, 1]


def test_nothing_fits_is_infeasible():
    big = ModelSpec(id="big", layers=8, hidden=32768, heads=64, ffn=131072, vocab=32000)
    with pytest.raises(InfeasibleError, match="no layout of 1 GPUs fits"):
        search_layouts(TrainingJob(big, 1e9, 2048, 8), H100, 1, FAB)


@pytest.mark.parametrize("fixed", [{"tp": 4}, {"pp": 2, "vpp": 2}, {"dp": 8, "microbatch": 2},
                                   {"recompute": "full", "zero": 3}, {"cp": 2, "tp": 2}])
def test_search_keeps_fixed_dimensions(fixed):
    job = TrainingJob(M, 1e12, 4096, 512)
    free = search_layouts(job, H100, 64, FAB)
    res = search_layouts(job, H100, 64, FAB, fixed=fixed)
    for k, v in fixed.items():
        assert getattr(res.best.layout, k) == v
        assert all(r[k] == v for r in res.pareto)
    assert res.fixed == fixed
    assert res.candidates < free.candidates
    assert res.best.step_time_s >= free.best.step_time_s  # a constraint never helps
    assert any("fixed (given by the user)" in n for n in res.best.notes)


def test_search_with_impossible_fixed_value_names_it():
    job = TrainingJob(M, 1e12, 4096, 512)
    with pytest.raises(InputError, match=r"with tp=3 fixed"):
        search_layouts(job, H100, 64, FAB, fixed={"tp": 3})
    with pytest.raises(InputError, match=r"cannot fix layout field\(s\) bogus"):
        search_layouts(job, H100, 64, FAB, fixed={"bogus": 1})


def test_cli_search_reports_fixed(capsys):
    import json

    from typer.testing import CliRunner

    from wattlas.cli import app

    args = ["train", "--model", "llama3-8b", "--accelerator", "h100-sxm", "--gpus", "64",
            "--tokens", "1e12", "--seq-len", "4096", "--global-batch", "512", "--search",
            "--pp", "2", "--recompute", "full", "--format", "json"]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)
    assert d["search_fixed"] == {"pp": 2, "recompute": "full"}
    assert d["parallelism"]["pp"] == 2 and d["parallelism"]["recompute"] == "full"
    free = json.loads(CliRunner().invoke(app, args[:-6] + ["--format", "json"]).output)
    assert free["search_fixed"] == {}


def test_fixing_the_free_best_layout_gives_the_same_plan():
    job = TrainingJob(M, 1e12, 4096, 512)
    free = search_layouts(job, H100, 64, FAB)
    lay = free.best.layout
    fixed = {k: getattr(lay, k) for k in ("tp", "pp", "dp", "cp", "vpp", "microbatch",
                                          "recompute", "zero", "sequence_parallel")}
    res = search_layouts(job, H100, 64, FAB, fixed=fixed)
    assert res.best.layout == lay
    assert res.best.step_time_s == free.best.step_time_s
    assert res.candidates == 1
