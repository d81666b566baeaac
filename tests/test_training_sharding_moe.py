"""FSDP / ZeRO-3 and hybrid sharding (perf.training.sharding), MoE placement and all-to-all
(perf.training.moe)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattlas.errors import InputError
from wattlas.hardware import Accelerator, Fabric
from wattlas.perf.training import moe, sharding
from wattlas.perf.training.step import Layout, TrainingJob, plan_training
from wattlas.units import GIB
from wattlas.workload.transformer import ModelSpec

H100 = Accelerator(id="h100-test", bf16_flop_per_s=989.4e12, fp8_flop_per_s=1978.9e12,
                   hbm_bytes=80 * GIB, hbm_bytes_per_s=3.35e12, scaleup_bytes_per_s=450e9,
                   scaleup_domain=8, scaleout_bytes_per_s=50e9)
FAB = Fabric(scaleup_domain=8, scaleup_bytes_per_s=450e9, scaleout_bytes_per_s=50e9)
DENSE = ModelSpec(id="d", layers=32, hidden=4096, heads=32, kv_heads=8, ffn=14336,
                  vocab=128256)
MOE = ModelSpec(id="m", layers=24, hidden=2048, heads=16, kv_heads=4, ffn=0, vocab=32000,
                moe_experts=64, moe_top_k=8, moe_expert_ffn=1024)


def _plan(model, layout, gpus, **job):
    j = TrainingJob(model, 1e12, 4096, 256, **job)
    return plan_training(j, H100, layout, FAB, gpus=gpus, allow_oom=True)


def test_hybrid_sharding_trades_memory_for_network():
    full = _plan(DENSE, Layout(tp=1, dp=64, zero=3, microbatch=1), 64)
    hsdp = _plan(DENSE, Layout(tp=1, dp=64, zero=3, microbatch=1, dp_shard=8), 64)
    # states sharded over 8 ranks instead of 64: more memory per GPU
    assert hsdp.memory_bytes["optimizer"] == pytest.approx(8 * full.memory_bytes["optimizer"],
                                                           rel=1e-9)
    # the gathers stay inside one NVLink node: less data-parallel time exposed
    assert hsdp.breakdown_s["dp_comm"] < full.breakdown_s["dp_comm"]
    # dp_shard = dp·cp is plain ZeRO-3
    same = _plan(DENSE, Layout(tp=1, dp=64, zero=3, microbatch=1, dp_shard=64), 64)
    assert same.step_time_s == pytest.approx(full.step_time_s, rel=1e-12)


def test_dp_shard_must_divide_the_data_parallel_ranks():
    with pytest.raises(InputError, match="dp_shard must divide dp·cp"):
        _plan(DENSE, Layout(tp=1, dp=64, zero=3, dp_shard=3), 64)
    with pytest.raises(InputError, match="layout.dp_shard"):
        Layout(dp_shard=-1)


def test_2021_zero3_runs_flat_and_today_hierarchical():
    bw_old, _ = sharding.tier(FAB, 384, 1, 2021)
    bw_new, _ = sharding.tier(FAB, 384, 1, None)
    assert bw_old == pytest.approx(FAB.scaleout_bytes_per_s)
    assert bw_new == pytest.approx(8 * FAB.scaleout_bytes_per_s)
    inside, _ = sharding.tier(FAB, 8, 1, 2021)  # inside a node nothing changes
    assert inside == pytest.approx(FAB.scaleup_bytes_per_s)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.0, 10.0), st.floats(0.0, 10.0), st.integers(1, 128), st.floats(0.0, 1.0))
def test_exposed_collective_is_bounded(comm_s, compute_s, layers, overlap):
    e = float(sharding.exposed_s(comm_s, compute_s, layers, overlap))
    assert comm_s / layers - 1e-12 <= e <= comm_s + 1e-12
    assert e >= comm_s - compute_s - 1e-12  # cannot hide more than the compute


def test_etp_splits_experts_independently_of_tp():
    base = _plan(MOE, Layout(tp=4, dp=16, ep=8, microbatch=1), 64)
    etp1 = _plan(MOE, Layout(tp=4, dp=16, ep=8, etp=1, microbatch=1), 64)
    # experts over ep·etp = 8 ranks instead of ep·tp = 32: four times the expert weights
    assert etp1.memory_bytes["weights"] > 2.0 * base.memory_bytes["weights"]
    # ep·etp may span tp ranks: ep = 32 with etp = 1 needs tp·dp = 64 ranks, not dp = 16
    wide = _plan(MOE, Layout(tp=4, dp=16, ep=32, etp=1, microbatch=1), 64)
    assert wide.fits
    with pytest.raises(InputError, match="ep·etp must divide tp·dp·cp"):
        _plan(MOE, Layout(tp=4, dp=16, ep=32, microbatch=1), 64)


def test_all_to_all_inside_a_node_uses_nvlink_and_dedup_never_adds():
    t_in = float(moe.all_to_all_pair_s(FAB, 4096, 2048, 8, 8, 1, 2, 2, False))
    t_out = float(moe.all_to_all_pair_s(FAB, 4096, 2048, 8, 64, 1, 2, 2, False))
    t_dd = float(moe.all_to_all_pair_s(FAB, 4096, 2048, 8, 64, 1, 2, 2, True))
    assert 0 < t_in < t_out  # NVLink vs the NIC
    assert t_dd < t_out
    assert float(moe.all_to_all_pair_s(FAB, 4096, 2048, 8, 1, 1, 2, 2, True)) == 0.0
    # a token cannot reach more other nodes than experts or nodes
    for ep in (16, 64, 256):
        c = float(moe.remote_copies(ep, 8, 8, True))
        assert c <= min(8, ep / 8 - 1) + 1e-12


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 1_000_000), st.integers(1, 16), st.sampled_from([1, 2, 8, 64, 256]))
def test_imbalance_is_at_least_one_and_shrinks_with_tokens(tokens, k, ep):
    f = float(moe.imbalance_factor(tokens, k, ep))
    assert f >= 1.0
    assert float(moe.imbalance_factor(tokens * 4, k, ep)) <= f + 1e-12


def test_moe_all_to_all_hidden_only_with_a_pipeline():
    a = np.array([3.0, 3.0])
    assert list(moe.exposed_all_to_all_s(a, 2.0, np.array([1, 4]), None)) == [3.0, 1.0]
    assert list(moe.exposed_all_to_all_s(a, 2.0, np.array([1, 4]), 2023)) == [3.0, 3.0]


def test_more_expert_parallelism_is_never_free_of_communication():
    one = _plan(MOE, Layout(tp=1, dp=64, ep=1, microbatch=1), 64)
    many = _plan(MOE, Layout(tp=1, dp=64, ep=64, microbatch=1), 64)
    assert one.breakdown_s["ep_comm"] == 0.0 < many.breakdown_s["ep_comm"]
    assert many.memory_bytes["weights"] < one.memory_bytes["weights"]


@pytest.mark.parametrize("sp", [True, False])
def test_fp8_training_keeps_fp8_gemm_inputs(sp):
    from wattlas.perf.training import memory

    args = (4096, 1, 8192, 64, 1024, 28672, 3, 8, sp)
    bf16, _ = memory.layer_activation_bytes(*args, 0, True)
    fp8, _ = memory.layer_activation_bytes(*args, 0, True, gemm_input_bytes=1.0)
    same, _ = memory.layer_activation_bytes(*args, 0, True, gemm_input_bytes=2.0)
    assert float(same) == float(bf16)
    # the four GEMM inputs (QKV, projection, fc1: h each; fc2: ffn) lose one byte per element
    saved = 4096 * (3 * 8192 + 28672) / 8 if sp else 4096 * (2 * 8192 + (8192 + 28672) / 8)
    assert float(bf16) - float(fp8) == pytest.approx(saved, rel=1e-12)
    full16, _ = memory.layer_activation_bytes(*args, 2, True)
    full8, _ = memory.layer_activation_bytes(*args, 2, True, gemm_input_bytes=1.0)
    assert float(full8) == float(full16)  # full recompute keeps only the 16-bit layer input


def test_fp8_plans_store_less_activation_memory():
    lay = Layout(tp=2, dp=32, microbatch=1, recompute="selective")
    bf16 = _plan(DENSE, lay, 64)
    fp8 = _plan(DENSE, lay, 64, precision="fp8")
    assert fp8.memory_bytes["activations"] < bf16.memory_bytes["activations"]


def test_recompute_modules_keep_less_and_only_from_their_year():
    from wattlas.scenario import resolve_model

    lay = Layout(tp=1, pp=16, dp=8, microbatch=1, recompute="selective")
    j_new = TrainingJob(resolve_model("deepseek-v3"), 1e12, 4096, 256, precision="fp8")
    j_old = TrainingJob(resolve_model("deepseek-v3"), 1e12, 4096, 256, precision="fp8",
                        software_year=2023)
    kw = dict(fabric=FAB, gpus=128, allow_oom=True, allow_uneven_pp=True)
    new = plan_training(j_new, H100, lay, **kw)
    old = plan_training(j_old, H100, lay, **kw)
    none = plan_training(j_new, H100, Layout(tp=1, pp=16, dp=8, microbatch=1,
                                             recompute="none"), **kw)
    # norms, activation and MLA up-projections recomputed: less stored, more recompute time
    assert new.memory_bytes["activations"] < 0.7 * old.memory_bytes["activations"]
    assert old.memory_bytes["activations"] == pytest.approx(none.memory_bytes["activations"])
    assert new.breakdown_s["recompute"] > old.breakdown_s["recompute"]
    assert new.hfu > new.mfu
