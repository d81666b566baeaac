"""Attention at its own kernel efficiency and precision; accelerator and recipe factors."""

from __future__ import annotations

import pytest

from wattlas.hardware import accelerator, default_system, fabric_for
from wattlas.perf.training import calibration
from wattlas.perf.training.step import Layout, TrainingJob, plan_training
from wattlas.scenario import resolve_model


def _plan(seq: int, precision: str, acc_id: str = "h100-sxm", fa: bool = True, cp: int = 1):
    acc = accelerator(acc_id)
    job = TrainingJob(resolve_model("llama3-8b"), tokens=1e9, seq_len=seq,
                      global_batch=8 * 4096 * 8 // seq, precision=precision)
    lay = Layout(tp=1, pp=1, dp=8 // cp, cp=cp, microbatch=1, recompute="full", zero=1,
                 flash_attention=fa)
    return plan_training(job, acc, lay, fabric_for(acc, default_system(acc_id)), 8,
                         allow_oom=True)


def test_fp8_gains_less_where_attention_dominates():
    """FP8 doubles the GEMM peak but fused attention stays in BF16: the FP8 speed-up over BF16
    shrinks as the sequence (and attention's share of the FLOPs) grows."""
    short = _plan(2048, "bf16").step_time_s / _plan(2048, "fp8").step_time_s
    long = _plan(32768, "bf16").step_time_s / _plan(32768, "fp8").step_time_s
    assert 1.0 < long < short < 2.0


def test_fused_attention_time_does_not_depend_on_the_gemm_precision():
    """Halving every GEMM's time (FP8) leaves the attention core's time: the step shrinks by at
    most the non-attention share."""
    b, f = _plan(32768, "bf16"), _plan(32768, "fp8")
    att_share = 1.0 - f.step_time_s / b.step_time_s
    assert 0.0 < att_share < 0.5


def test_fused_causal_attention_is_cheaper_than_unfused_full_attention_at_long_sequences():
    """FlashAttention skips the masked half of a causal score matrix (at ATTN_EFF of the peak)
    where the unfused batched GEMMs compute the whole matrix; it must win at 32K tokens."""
    assert calibration.ATTN_CAUSAL_FRAC == 0.5
    assert _plan(32768, "bf16", fa=True).step_time_s < _plan(32768, "bf16", fa=False).step_time_s


def test_accelerator_factor_orders_same_peak_blackwell_parts():
    """GB200 and GB300 share a dense FP8 peak; GB300 holds its clocks at 1,400 W (fitted factor
    above GB200's): the same layout runs faster on GB300."""
    assert accelerator("gb200").fp8_flop_per_s == accelerator("gb300").fp8_flop_per_s
    assert calibration.ACCEL_EFF_FACTOR["gb300"] > calibration.ACCEL_EFF_FACTOR["gb200"]
    assert _plan(8192, "fp8", "gb300").step_time_s < _plan(8192, "fp8", "gb200").step_time_s


def test_nvfp4_is_faster_than_fp8_but_below_its_peak_ratio():
    fp8, fp4 = _plan(8192, "fp8", "gb300"), _plan(8192, "fp4", "gb300")
    speedup = fp8.step_time_s / fp4.step_time_s
    peak_ratio = accelerator("gb300").fp4_flop_per_s / accelerator("gb300").fp8_flop_per_s
    assert 1.0 < speedup < peak_ratio


@pytest.mark.parametrize("acc_id", ["h100-sxm", "gb200"])
def test_mfu_never_exceeds_one(acc_id):
    for seq in (2048, 8192, 32768):
        for prec in ("bf16", "fp8"):
            assert 0.0 < _plan(seq, prec, acc_id).mfu < 1.0


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(acc_id=st.sampled_from(["h100-sxm", "b200", "gb200", "gb300", "a100-sxm-80gb"]),
       seq=st.sampled_from([2048, 4096, 8192, 16384, 32768]),
       prec=st.sampled_from(["bf16", "fp8", "fp4"]),
       pp=st.sampled_from([1, 2, 4]), vpp=st.sampled_from([1, 2]))
def test_no_plan_exceeds_the_peak_and_longer_sequences_cost_more_per_token(acc_id, seq, prec,
                                                                          pp, vpp):
    """Model FLOP/s per GPU stays below the dense peak of the precision; at fixed tokens per
    micro-batch (the same GEMM shapes) a longer sequence never raises tokens/s: only attention
    grows with s."""
    acc = accelerator(acc_id)
    if not acc.supports(prec) or (vpp > 1 and pp == 1):
        return
    fab = fabric_for(acc, default_system(acc_id))

    def plan(s):
        mb = 65536 // s
        job = TrainingJob(resolve_model("llama3-8b"), tokens=1e9, seq_len=s,
                          global_batch=mb * (8 // pp) * 8, precision=prec)
        lay = Layout(tp=1, pp=pp, dp=8 // pp, vpp=vpp, microbatch=mb, recompute="full",
                     zero=1)
        return plan_training(job, acc, lay, fab, 8, allow_oom=True)

    p = plan(seq)
    assert p.model_flop_per_s_per_gpu < acc.peak_flop_per_s(prec)
    if seq < 32768:
        assert plan(2 * seq).tokens_per_s <= p.tokens_per_s * (1 + 1e-9)
