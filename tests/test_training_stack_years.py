"""What a software stack of a given year overlaps (perf.training.software, features catalog)."""

from __future__ import annotations

from wattlas.hardware import accelerator, default_system, fabric_for
from wattlas.perf.training import software
from wattlas.perf.training.step import Layout, TrainingJob, plan_training
from wattlas.scenario import resolve_model


def _plan(year):
    acc = accelerator("h100-sxm")
    job = TrainingJob(resolve_model("llama3-8b"), tokens=1e9, seq_len=4096, global_batch=64,
                      precision="bf16", software_year=year)
    lay = Layout(tp=1, pp=1, dp=64, microbatch=1, recompute="full", zero=1,
                 sequence_parallel=False, flash_attention=False)
    return plan_training(job, acc, lay, fabric_for(acc, default_system("h100-sxm")), 64,
                         allow_oom=True)


def test_gradient_overlap_appears_with_its_year():
    """The same layout on a 2019 stack (gradients reduced after the last backward) is slower
    than on a 2020 stack (bucketed reduction under the backward, PyTorch DDP, Li et al. 2020);
    only the data-parallel phase differs."""
    assert software.first_years()["dp_comm_overlap"] == 2020
    old, new = _plan(2019), _plan(2020)
    assert old.breakdown_s["dp_comm"] > new.breakdown_s["dp_comm"] > 0.0
    assert old.breakdown_s["compute"] == new.breakdown_s["compute"]
    assert old.step_time_s > new.step_time_s
