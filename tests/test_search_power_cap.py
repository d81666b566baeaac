"""Cap-aware layout search: under a power cap the layout with the least capped step time."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from wattlas import scenario as sc
from wattlas.cli import app
from wattlas.perf.training import step as tr
from wattlas.perf.training.search import search_layouts
from wattlas.plan import run_plan
from wattlas.stages.training import capped_with_report, search_result

JOBS = [("llama3-8b", "h100-sxm", 64, 8192, 256), ("llama3-70b", "h100-sxm", 256, 4096, 256),
        ("llama3-405b", "h100-sxm", 1024, 8192, 1024), ("llama3-405b", "b200", 256, 4096, 256)]
# a 250 W cap moves this job off full recompute (compute slows by the whole clock ratio,
# communication less): tp 1 with full recompute uncapped, tp 4 / pp 2 with selective under the cap
CHANGED = ("llama3-405b", "h100-sxm", 512, 4096, 512)
CHANGED_CAP_W = 250.0


def _data(model: str, acc: str, gpus: int, seq: int, batch: int,
          cap_w: float | None) -> dict:
    data = {"model": model, "hardware": {"accelerator": acc}, "cluster": {"gpus": gpus},
            "training": {"tokens": 1e12, "seq_len": seq, "global_batch": batch}}
    if cap_w is not None:
        data["energy"] = {"power_cap_w": cap_w}
    return data


def _scen(*job: object, cap_w: float | None = None) -> sc.Scenario:
    return sc.validate(_data(*job, cap_w))


def _capped_step_s(plan: tr.TrainingPlan, scen: sc.Scenario) -> float:
    return capped_with_report(plan, scen)[0].step_time_s


@settings(max_examples=10, deadline=None)
@given(st.sampled_from(JOBS), st.sampled_from([250.0, 350.0, 500.0, 700.0]))
def test_cap_aware_choice_is_no_slower_under_the_cap(job, cap_w):
    scen = _scen(*job, cap_w=cap_w)
    uncapped = search_result(_scen(*job))
    res = search_result(scen)
    chosen_s = _capped_step_s(res.best, scen)
    assert chosen_s <= _capped_step_s(uncapped.best, scen)
    # the least capped step over the whole shortlist, and the Pareto table's first row
    best_lay = res.best.layout
    for lay in uncapped.shortlist[:8]:
        plan = tr.plan_training(res.best.job, res.best.accelerator, lay, res.best.fabric,
                                res.best.gpus, allow_uneven_pp=True)
        assert chosen_s <= _capped_step_s(plan, scen) * (1 + 1e-12), (lay, best_lay)
    assert res.pareto[0]["step_time_s"] == pytest.approx(chosen_s, rel=1e-12)
    assert all(r["step_time_s"] >= r["uncapped_step_time_s"] for r in res.pareto)


@pytest.mark.parametrize("job", JOBS[:2])
def test_without_a_cap_the_search_is_unchanged(job):
    scen = _scen(*job)
    res = search_result(scen)
    acc, fabric = tr.hardware_from_scenario(scen)
    plain = search_layouts(tr.job_from_scenario(scen), acc, scen.cluster.gpus, fabric)
    assert res.best.layout == plain.best.layout
    assert res.best.step_time_s == plain.best.step_time_s
    assert res.best.notes == plain.best.notes
    assert res.pareto == plain.pareto
    assert res.shortlist[0] == plain.best.layout
    assert _capped_step_s(res.best, scen) == res.best.step_time_s


def test_a_cap_changes_the_chosen_layout():
    scen = _scen(*CHANGED, cap_w=CHANGED_CAP_W)
    uncapped = search_result(_scen(*CHANGED)).best
    res = search_result(scen)
    assert res.best.layout != uncapped.layout
    assert uncapped.layout.recompute == "full" and res.best.layout.recompute == "selective"
    assert res.best.step_time_s > uncapped.step_time_s  # slower uncapped ...
    assert _capped_step_s(res.best, scen) < 0.97 * _capped_step_s(uncapped, scen)  # ... faster
    note = res.best.notes[-1]
    assert note.startswith("power cap 250 W: layout tp=4 ")
    assert "recompute=selective" in note and "chosen over uncapped-best tp=1 " in note


def test_train_and_plan_report_the_cap_aware_layout(tmp_path):
    args = ["train", "--model", CHANGED[0], "--accelerator", CHANGED[1], "--gpus",
            str(CHANGED[2]), "--tokens", "1e12", "--seq-len", str(CHANGED[3]),
            "--global-batch", str(CHANGED[4]), "--search", "--format", "json"]
    r = CliRunner().invoke(app, [*args, "--power-cap-w", "250"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["parallelism"]["recompute"] == "selective"
    assert out["step_time_s"] == pytest.approx(out["pareto"][0]["step_time_s"], rel=1e-12)
    assert out["power_cap_slowdown_frac"] > 0
    assert any(n.startswith("power cap 250 W: layout ") for n in out["notes"])
    plan = run_plan(_scen(*CHANGED, cap_w=CHANGED_CAP_W))
    assert plan["training"]["parallelism"] == out["parallelism"]
    assert plan["training"]["step_time_s"] == out["step_time_s"]
    assert any(n.startswith("training: power cap 250 W: layout ") for n in plan["notes"])
