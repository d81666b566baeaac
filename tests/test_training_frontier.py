"""Frontier runs in their published layouts plan without memory errors, with vpp and recompute
left to the search.

* DeepSeek-V3 (671B MoE) in FP8 on 2,048 H800: tp 1, pp 16, EP 64, ZeRO-1 data parallel over
  128 ranks, batch 15,360 sequences of 4,096 tokens (DeepSeek-V3 Technical Report,
  arXiv:2412.19437, §3.1–3.3 and Table 4; published cost 180K H800 GPU-hours per trillion
  tokens, §1). The plan is slower than published (docs/training.md, MoE): the bound below only
  keeps it within 2× so a regression in the MoE model shows.
* Llama 3 405B on 16,384 H100: tp 8, pp 16, dp 128, batch 2,048 × 8,192 (Grattafiori et al.
  2024, arXiv:2407.21783, §3.3 and Table 4: 38–43 % BF16 MFU).
"""

import pytest

from wattlas.hardware import accelerator, default_system, fabric_for
from wattlas.perf.training.search import search_layouts
from wattlas.perf.training.step import TrainingJob
from wattlas.scenario import resolve_model


def _search(model, acc_id, gpus, seq, batch, precision, fixed):
    acc = accelerator(acc_id)
    job = TrainingJob(resolve_model(model), 1e12, seq, batch, precision=precision)
    return search_layouts(job, acc, gpus, fabric_for(acc, default_system(acc_id)),
                          allow_uneven_pp=True, fixed=fixed)


def test_deepseek_v3_on_2048_h800_plans_in_its_published_layout():
    fixed = {"tp": 1, "pp": 16, "ep": 64, "zero": 1, "dp": 128}
    res = _search("deepseek-v3", "h800", 2048, 4096, 15360, "fp8", fixed)
    best = res.best
    assert best.fits and res.fixed == fixed
    assert all(getattr(best.layout, k) == v for k, v in fixed.items())
    gpu_hours_per_t = 2048 * best.step_time_s * 1e12 / (15360 * 4096) / 3600
    assert 180e3 <= gpu_hours_per_t <= 2 * 180e3


def test_llama3_405b_on_16k_h100_plans_in_metas_layout():
    fixed = {"tp": 8, "pp": 16, "dp": 128}
    res = _search("llama3-405b", "h100-sxm", 16384, 8192, 2048, "bf16", fixed)
    assert res.best.fits and res.best.layout.pp == 16 and res.best.layout.tp == 8
    assert res.best.layout.vpp > 1  # interleaving found by the search on the uneven split
    # sanity range, not a fit: the plan (47.5 % when written) is above the paper's 38–43 %
    # (docs/training.md: the GEMM curve's EFF_MAX prior is optimistic for large hidden sizes)
    assert 0.30 <= res.best.mfu <= 0.55
    assert res.time_s < 1.0


@pytest.mark.parametrize("model", ["grok-1", "llama4-maverick", "qwen3-235b-a22b", "kimi-k2",
                                   "gpt-oss-120b", "mixtral-8x22b"])
def test_catalog_moe_models_plan_on_1024_h100(model):
    res = _search(model, "h100-sxm", 1024, 4096, 1024, "bf16", {})
    assert res.best.fits and 0.0 < res.best.mfu < 1.0
