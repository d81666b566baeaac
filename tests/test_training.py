"""Training planner: layout rules, memory, step time, MFU and totals
(wattlas.perf.training.step)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattlas.errors import InfeasibleError, InputError
from wattlas.hardware import Accelerator, Fabric
from wattlas.perf.training.step import (
    BREAKDOWN,
    DEFAULT_GOODPUT_FRAC,
    Layout,
    TrainingJob,
    evaluate,
    plan_training,
)
from wattlas.units import GIB
from wattlas.workload.transformer import ModelSpec, training_flop_per_token

H100 = Accelerator(id="h100-test", bf16_flop_per_s=989.4e12, fp16_flop_per_s=989.4e12,
                   fp8_flop_per_s=1978.9e12, hbm_bytes=80 * GIB, hbm_bytes_per_s=3.35e12,
                   scaleup_bytes_per_s=450e9, scaleup_domain=8, scaleout_bytes_per_s=50e9,
                   host_link_bytes_per_s=64e9)
FAB = Fabric(scaleup_domain=8, scaleup_bytes_per_s=450e9, scaleout_bytes_per_s=50e9,
             host_link_bytes_per_s=64e9)
LLAMA70 = ModelSpec(id="llama-70b-like", layers=80, hidden=8192, heads=64, kv_heads=8,
                    ffn=28672, vocab=128256)
JOB = TrainingJob(LLAMA70, tokens=1e12, seq_len=4096, global_batch=256)
LAY = Layout(tp=8, pp=4, dp=8, microbatch=1, recompute="selective", zero=1)


def test_plan_basic_consistency():
    p = plan_training(JOB, H100, LAY, FAB)
    assert set(p.breakdown_s) == set(BREAKDOWN)
    assert sum(p.breakdown_s.values()) == pytest.approx(p.step_time_s, rel=1e-12)
    assert sum(p.memory_bytes.values()) == pytest.approx(p.memory_per_gpu_bytes, rel=1e-12)
    assert p.gpus == 256 and p.fits
    tokens_step = 256 * 4096
    assert p.steps == math.ceil(1e12 / tokens_step)
    assert p.tokens_per_s == pytest.approx(tokens_step / p.step_time_s)
    # MFU = PaLM model FLOPs / (step · gpus · peak)
    mfu = training_flop_per_token(LLAMA70, 4096) * tokens_step / (p.step_time_s * 256 * 989.4e12)
    assert p.mfu == pytest.approx(mfu, rel=1e-9)
    assert p.hfu > p.mfu  # selective recompute adds the attention forward
    assert 0.2 < p.mfu < 0.7
    assert p.goodput_frac == DEFAULT_GOODPUT_FRAC
    assert p.training_time_s == pytest.approx(p.steps * p.step_time_s / 0.9)
    assert p.gpu_hours == pytest.approx(256 * p.training_time_s / 3600)
    assert p.model_flop_total == pytest.approx(
        training_flop_per_token(LLAMA70, 4096) * tokens_step * p.steps)


def test_goodput_is_a_parameter():
    job = TrainingJob(LLAMA70, tokens=1e12, seq_len=4096, global_batch=256, goodput_frac=0.5)
    assert plan_training(job, H100, LAY, FAB).training_time_s == pytest.approx(
        2 * 0.9 * plan_training(JOB, H100, LAY, FAB).training_time_s)


@pytest.mark.parametrize("layout, match", [
    (Layout(tp=3, pp=1, dp=1), "tp must divide heads"),
    (Layout(tp=8, pp=3, dp=1), "pp·vpp must divide layers"),
    (Layout(tp=8, pp=4, dp=4), "must equal the GPU count 256"),
    (Layout(tp=8, pp=4, dp=8, ep=3), "ep·etp must divide tp·dp·cp"),
    (Layout(tp=8, pp=4, dp=8, microbatch=3), "must divide the global batch"),
])
def test_bad_layouts_name_the_rule(layout, match):
    with pytest.raises(InputError, match=match):
        plan_training(JOB, H100, layout, FAB, gpus=256)


def test_layout_field_errors():
    with pytest.raises(InputError, match="layout.recompute = 'some'"):
        Layout(recompute="some")
    with pytest.raises(InputError, match="layout.zero = 5"):
        Layout(zero=5)
    with pytest.raises(InputError, match="training.precision = 'int3'"):
        TrainingJob(LLAMA70, 1e9, 4096, 8, precision="int3")
    with pytest.raises(InputError, match="lora_rank"):
        TrainingJob(LLAMA70, 1e9, 4096, 8, job="lora")


def test_oom_message_names_size_part_and_fix():
    with pytest.raises(InfeasibleError,
                       match=r"needs \d+\.\d GiB per GPU but h100-test has 80 GiB .*"
                             r"largest part: optimizer.*raise --zero"):
        plan_training(JOB, H100, Layout(tp=1, pp=1, dp=256, zero=0), FAB)
    p = plan_training(JOB, H100, Layout(tp=1, pp=1, dp=256, zero=0), FAB, allow_oom=True)
    assert not p.fits


def test_zero_stages_shard_states():
    mem = [plan_training(JOB, H100, Layout(tp=8, pp=4, dp=8, zero=z), FAB,
                         allow_oom=True).memory_bytes for z in (0, 1, 2, 3)]
    assert mem[1]["optimizer"] == pytest.approx(mem[0]["optimizer"] / 8)
    assert mem[2]["grads"] == pytest.approx(mem[1]["grads"] / 8)
    # ZeRO-3 shards the weights but holds two gathered layers and one layer's gradients
    from wattlas.workload.transformer import layer_params

    buffer = layer_params(LLAMA70) / 8 * (2 * 2 + 4)
    assert mem[3]["weights"] == pytest.approx(mem[2]["weights"] / 8 + buffer)


def test_recompute_trades_memory_for_time():
    # without FlashAttention (with it, selective stores what none stores: Korthikanti Table 2)
    plans = {r: plan_training(JOB, H100, Layout(tp=8, pp=4, dp=8, recompute=r,
                                                flash_attention=False), FAB,
                              allow_oom=True) for r in ("none", "selective", "full")}
    assert (plans["none"].memory_bytes["activations"] > plans["selective"].memory_bytes[
        "activations"] > plans["full"].memory_bytes["activations"])
    assert plans["full"].step_time_s > plans["none"].step_time_s
    assert plans["full"].breakdown_s["recompute"] > 0 == plans["none"].breakdown_s["recompute"]


def test_interleaving_shrinks_bubble():
    a = plan_training(JOB, H100, Layout(tp=8, pp=4, dp=8, vpp=1), FAB)
    b = plan_training(JOB, H100, Layout(tp=8, pp=4, dp=8, vpp=4), FAB)
    assert b.breakdown_s["bubble"] < a.breakdown_s["bubble"]


def test_offload_moves_optimizer_to_host():
    a = plan_training(JOB, H100, Layout(tp=8, pp=4, dp=8, zero=1), FAB)
    b = plan_training(JOB, H100, Layout(tp=8, pp=4, dp=8, zero=1, offload="optimizer"), FAB)
    assert b.memory_bytes["optimizer"] == 0 < a.memory_bytes["optimizer"]
    assert b.breakdown_s["offload"] > 0 and b.breakdown_s["optimizer"] == 0


def test_lora_trains_adapters_only():
    lora = TrainingJob(LLAMA70, 1e9, 4096, 256, job="lora", lora_rank=16)
    a = plan_training(JOB, H100, LAY, FAB)
    b = plan_training(lora, H100, LAY, FAB)
    assert b.memory_bytes["optimizer"] < a.memory_bytes["optimizer"] / 100
    assert b.breakdown_s["compute"] < a.breakdown_s["compute"]


def test_fp8_faster_than_bf16():
    fp8 = TrainingJob(LLAMA70, 1e12, 4096, 256, precision="fp8")
    assert plan_training(fp8, H100, LAY, FAB).step_time_s < plan_training(
        JOB, H100, LAY, FAB).step_time_s


def test_context_parallel_and_moe_run():
    moe = ModelSpec(id="moe", layers=32, hidden=4096, heads=32, kv_heads=8, vocab=32000,
                    moe_experts=8, moe_top_k=2, moe_expert_ffn=14336)
    job = TrainingJob(moe, 1e12, 32768, 64)
    p = plan_training(job, H100, Layout(tp=4, pp=1, dp=4, cp=4, ep=8), FAB)
    assert p.breakdown_s["ep_comm"] > 0 and p.memory_bytes["cp_buffers"] > 0


def _arrays(n, **kw):
    base = dict(tp=8, pp=4, dp=8, cp=1, ep=1, vpp=1, microbatch=1, recompute=1, zero=1,
                sequence_parallel=True, flash_attention=True, offload=0)
    base.update(kw)
    return {k: np.broadcast_to(np.asarray(v), (n,)).copy() for k, v in base.items()}


def test_scalar_and_vector_paths_agree():
    mbs = np.array([1, 2, 4])
    out = evaluate(JOB, H100, FAB, _arrays(3, microbatch=mbs))
    for i, mb in enumerate(mbs):
        p = plan_training(JOB, H100, Layout(tp=8, pp=4, dp=8, microbatch=int(mb)), FAB,
                          allow_oom=True)
        assert p.step_time_s == pytest.approx(out["step_time_s"][i], rel=1e-12)
        assert p.memory_per_gpu_bytes == pytest.approx(out["memory_per_gpu_bytes"][i])


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([1, 2, 4, 8]), st.sampled_from([0, 1, 2]), st.booleans(),
       st.sampled_from([1, 2, 4]))
def test_memory_monotone_in_microbatch(tp, rc, sp, pp):
    job = TrainingJob(LLAMA70, 1e12, 4096, 512)
    out = evaluate(job, H100, FAB, _arrays(4, tp=tp, pp=pp, dp=2, recompute=rc,
                                           sequence_parallel=sp,
                                           microbatch=np.array([1, 2, 4, 8])))
    assert np.all(np.diff(out["memory_per_gpu_bytes"]) > 0)


@settings(max_examples=40, deadline=None)
@given(st.floats(1.0, 8.0), st.sampled_from([1, 2, 8]), st.sampled_from([1, 4, 16]))
def test_more_bandwidth_never_slower(factor, tp, dp):
    fast = Fabric(8, 450e9 * factor, 50e9 * factor)
    slow = Fabric(8, 450e9, 50e9)
    job = TrainingJob(LLAMA70, 1e12, 4096, 256)
    lay = Layout(tp=tp, pp=1, dp=dp, zero=3, recompute="full")
    a = plan_training(job, H100, lay, fast, allow_oom=True)
    b = plan_training(job, H100, lay, slow, allow_oom=True)
    assert a.step_time_s <= b.step_time_s * (1 + 1e-12)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([1, 2, 4]), st.sampled_from([2, 4, 8, 16]))
def test_more_gpus_at_fixed_per_gpu_work_never_less_total_rate(tp, dp):
    # weak scaling: the global batch grows with dp, so per-GPU work is fixed
    def rate(d):
        job = TrainingJob(LLAMA70, 1e12, 4096, 4 * d)
        p = plan_training(job, H100, Layout(tp=tp, pp=1, dp=d, microbatch=4, zero=3,
                                            recompute="full"), FAB, allow_oom=True)
        return p.model_flop_per_s_per_gpu * p.gpus
    assert rate(2 * dp) >= rate(dp)


@pytest.mark.parametrize("kind", ["grpo", "rlhf"])
def test_rl_jobs_add_rollout_and_models(kind):
    rl = TrainingJob(LLAMA70, 1e9, 4096, 256, job=kind, rollout_tokens=1024)
    a = plan_training(JOB, H100, LAY, FAB, allow_oom=True)
    b = plan_training(rl, H100, LAY, FAB, allow_oom=True)
    assert b.breakdown_s["rollout"] > 0 == a.breakdown_s["rollout"]
    assert sum(b.breakdown_s.values()) == pytest.approx(b.step_time_s, rel=1e-12)
    assert b.memory_bytes["frozen_models"] > 0 == a.memory_bytes["frozen_models"]
    # the decode roofline: each generated token reads at least all weights once per replica
    replica_gpus = LAY.tp * LAY.pp
    floor = 1024 * 2 * 70e9 / (replica_gpus * 3.35e12)
    assert b.breakdown_s["rollout"] > floor
    if kind == "rlhf":  # critic trained like the policy: twice the optimizer state
        assert b.memory_bytes["optimizer"] == pytest.approx(2 * a.memory_bytes["optimizer"])
    with pytest.raises(InputError, match="rollout_tokens = 5000"):
        TrainingJob(LLAMA70, 1e9, 4096, 256, job=kind, rollout_tokens=5000)


def test_korthikanti_table2_formulas():
    """Korthikanti et al. 2022 Table 2 per-layer activation bytes for an MHA, 4h-GELU block."""
    from wattlas.perf.training.memory import layer_activation_bytes

    s, b, h, a, t = 2048, 4, 6144, 64, 8
    sbh = s * b * h

    def act(rc, sp, flash=False, tp=t):
        return float(layer_activation_bytes(s, b, h, a, h, 4 * h, 2, tp, sp, rc, flash)[0])

    assert act(0, False, tp=1) == pytest.approx(sbh * (34 + 5 * a * s / h))
    assert act(0, False) == pytest.approx(sbh * (10 + 24 / t + 5 * a * s / (h * t)))
    assert act(0, True) == pytest.approx(sbh / t * (34 + 5 * a * s / h))
    assert act(1, True) == pytest.approx(34 * sbh / t)
    assert act(2, True) == pytest.approx(2 * sbh / t)
    assert act(0, True, flash=True) == pytest.approx(34 * sbh / t)


def test_plan_from_scenario_derives_dp():
    from wattlas.perf.training.step import plan_from_scenario
    from wattlas.scenario import validate

    scen = validate({"model": {"layers": 8, "hidden": 1024, "heads": 16, "ffn": 4096,
                               "vocab": 32000},
                     "hardware": {"accelerator": "h100-sxm"}, "cluster": {"gpus": 16},
                     "training": {"tokens": 1e9, "seq_len": 2048, "global_batch": 64,
                                  "layout": {"tp": 2, "pp": 2}}})
    p = plan_from_scenario(scen)
    assert (p.layout.tp, p.layout.pp, p.layout.dp) == (2, 2, 4) and p.gpus == 16
