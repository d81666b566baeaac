"""Second-pass physics of the training step-time model (wattlas.perf.training.step.evaluate):
launch-bound layers, pipeline scatter/gather, ZeRO-2/3 per-micro-batch collectives, MoE expert
gradients over dp·cp/ep, framework gradient bytes, search over sequence parallelism and
optimizer offload, RL notes."""

import numpy as np
import pytest

from wattlas.hardware import Accelerator, Fabric
from wattlas.perf import comm, network
from wattlas.perf.training import calibration, memory
from wattlas.perf.training.search import enumerate_layouts, search_layouts
from wattlas.perf.training.step import Layout, TrainingJob, evaluate, job_shape, plan_training
from wattlas.units import GIB
from wattlas.workload.transformer import ModelSpec

H100 = Accelerator(id="h100-test", bf16_flop_per_s=989.4e12, fp16_flop_per_s=989.4e12,
                   hbm_bytes=80 * GIB, hbm_bytes_per_s=3.35e12, scaleup_bytes_per_s=450e9,
                   scaleup_domain=8, scaleout_bytes_per_s=50e9, host_link_bytes_per_s=64e9)
FAB = Fabric(scaleup_domain=8, scaleup_bytes_per_s=450e9, scaleout_bytes_per_s=50e9,
             host_link_bytes_per_s=64e9)
DENSE = ModelSpec(id="dense", layers=32, hidden=4096, heads=32, kv_heads=8, ffn=14336,
                  vocab=32000)
MOE = ModelSpec(id="moe", layers=16, hidden=2048, heads=16, kv_heads=4, vocab=32000,
                moe_experts=8, moe_top_k=2, moe_expert_ffn=4096)


def _arrays(n, **kw):
    base = dict(tp=1, pp=1, dp=8, cp=1, ep=1, vpp=1, microbatch=1, recompute=1, zero=1,
                sequence_parallel=False, flash_attention=True, offload=0)
    base.update(kw)
    return {k: np.broadcast_to(np.asarray(v), (n,)).copy() for k, v in base.items()}


def test_tiny_layers_are_launch_bound():
    # a layer whose GPU work is far below the host launch time costs exactly the launch time
    tiny = ModelSpec(id="tiny", layers=4, hidden=64, heads=1, ffn=256, vocab=64)
    job = TrainingJob(tiny, 1e6, 64, 1)
    p = plan_training(job, H100, Layout(recompute="none", zero=0), FAB)
    per_pass = calibration.LAYER_OVERHEAD_S * tiny.layers
    # (plus the tiny LM head, < 1 % here)
    assert 3 * per_pass <= p.breakdown_s["compute"] <= 3 * per_pass * 1.01


def test_large_layers_are_not_charged_launch_time():
    # compute-bound: adding the launch time would add n_layers·passes·overhead; max() does not
    job = TrainingJob(DENSE, 1e9, 4096, 8)
    c = calibration.constants()
    a = evaluate(job, H100, FAB, _arrays(1, dp=1), dict(c, layer_overhead_s=0.0))
    b = evaluate(job, H100, FAB, _arrays(1, dp=1), c)
    assert float(b["step_time_s"][0]) == pytest.approx(float(a["step_time_s"][0]), rel=1e-12)


def test_pipeline_scatter_gather_divides_p2p_by_tp():
    # SC'21 §4.1: each tp rank sends 1/t of the boundary across nodes, then all-gathers it
    job = TrainingJob(DENSE, 1e9, 4096, 64)
    out = evaluate(job, H100, FAB, _arrays(2, tp=8, pp=4, dp=1,
                                           sequence_parallel=np.array([True, False])))
    tok, h = 4096.0, 4096.0
    bw, al = comm.tier(FAB, 4, 8)
    p2p = comm.p2p_s(tok * h * 2 / 8, bw, al)
    gather = comm.all_gather_s(tok * h * 2, 8, FAB.scaleup_bytes_per_s, FAB.scaleup_latency_s)
    m = 64
    assert out["breakdown_s"]["pp_comm"][0] == pytest.approx(m * 2 * float(p2p), rel=1e-9)
    assert out["breakdown_s"]["pp_comm"][1] == pytest.approx(m * 2 * float(p2p + gather),
                                                             rel=1e-9)


def test_zero3_collectives_scale_with_microbatches_and_recompute():
    # ZeRO-3 gathers weights and reduce-scatters gradients every micro-batch: doubling the
    # micro-batches doubles the (unoverlapped) data-parallel time; full recompute gathers 3×
    def dp_time(batch, rc, zero):
        job = TrainingJob(DENSE, 1e9, 4096, batch)
        out = evaluate(job, H100, FAB, _arrays(1, dp=64, recompute=rc, zero=zero),
                       dp_overlap_frac=0.0)
        return float(out["breakdown_s"]["dp_comm"][0])

    assert dp_time(128, 1, 3) == pytest.approx(2 * dp_time(64, 1, 3), rel=1e-9)
    assert dp_time(128, 1, 1) == pytest.approx(dp_time(64, 1, 1), rel=1e-9)
    assert dp_time(64, 2, 3) > dp_time(64, 1, 3)


def test_moe_expert_gradients_reduced_over_expert_replicas():
    # with ep = dp·cp every rank holds distinct experts: their gradients need no reduction and
    # their optimizer states are not sharded by ZeRO-1
    job = TrainingJob(MOE, 1e9, 2048, 64)
    sh = job_shape(job)
    out = evaluate(job, H100, FAB, _arrays(2, dp=8, ep=np.array([1, 8]), zero=1),
                   dp_overlap_frac=0.0)
    dense_par = sh["L"] * (sh["layer_total"] - sh["routed"]) + sh["emb"] + sh["head"]
    expert_par = sh["L"] * sh["routed"] / 8
    want_opt = memory.OPTIMIZER_BYTES * (dense_par / 8 + expert_par)
    assert out["memory_bytes"]["optimizer"][1] == pytest.approx(want_opt, rel=1e-9)
    # the data-parallel all-reduce by the algorithm NCCL would pick (inside one node: ring)
    bw, al = comm.tier(FAB, 8, 1)
    want_dp = sh["L"] * float(network.ring_all_reduce_s(dense_par * 2.0 / sh["L"], 8, bw, al))
    assert want_dp == pytest.approx(sh["L"] * float(network.all_reduce_s(
        FAB, dense_par * 2.0 / sh["L"], 8, 1)), rel=1e-12)
    assert out["breakdown_s"]["dp_comm"][1] == pytest.approx(want_dp, rel=1e-9)
    assert out["breakdown_s"]["dp_comm"][0] > out["breakdown_s"]["dp_comm"][1]


def test_grad_bytes_is_a_framework_setting():
    job = TrainingJob(DENSE, 1e9, 4096, 8)
    a = plan_training(job, H100, Layout(dp=8, zero=1), FAB, allow_oom=True)
    b = plan_training(job, H100, Layout(dp=8, zero=1), FAB, allow_oom=True, grad_bytes=6.0)
    assert b.memory_bytes["grads"] == pytest.approx(1.5 * a.memory_bytes["grads"])


def test_search_enumerates_sequence_parallel_both_ways():
    job = TrainingJob(DENSE, 1e9, 4096, 64)
    arr = enumerate_layouts(job, 16, FAB)
    tp_gt1 = arr["tp"] > 1
    assert arr["sequence_parallel"][tp_gt1].any() and (~arr["sequence_parallel"][tp_gt1]).any()
    assert not arr["sequence_parallel"][~tp_gt1].any()


def test_search_offloads_optimizer_only_when_memory_is_tight():
    # ~1.8e9 parameters: weights + grads (6 B each) fit in 24 GiB, Adam states (12 B) do not
    big = ModelSpec(id="big", layers=16, hidden=3072, heads=24, kv_heads=8, ffn=8192,
                    vocab=32000)
    small_hbm = Accelerator(id="small", bf16_flop_per_s=989.4e12, hbm_bytes=24 * GIB,
                            hbm_bytes_per_s=3.35e12, scaleup_bytes_per_s=450e9,
                            scaleup_domain=8, scaleout_bytes_per_s=50e9,
                            host_link_bytes_per_s=64e9)
    job = TrainingJob(big, 1e9, 2048, 8)
    res = search_layouts(job, small_hbm, 1, FAB, zero=(0,))
    assert res.best.layout.offload == "optimizer" and res.best.fits
    assert any("offload" in n for n in res.best.notes)
    roomy = search_layouts(TrainingJob(DENSE, 1e9, 4096, 64), H100, 16, FAB)
    assert roomy.best.layout.offload == "none"


def test_rl_rollout_is_flagged_uncalibrated():
    job = TrainingJob(DENSE, 1e9, 4096, 64, job="grpo")
    p = plan_training(job, H100, Layout(tp=8, pp=1, dp=2, zero=1), FAB, allow_oom=True)
    assert p.breakdown_s["rollout"] > 0
    assert any("not calibrated" in n for n in p.notes)


def test_op_level_checkpointing_recomputes_every_second_matmul():
    """torchtitan's op-level selective checkpointing (recompute "op") saves every compute op's
    output except every second matmul's: the K projection, the output projection and the third
    MLP matmul run again (plus the elementwise ops), attention does not. HFU − MFU is exactly
    those FLOPs; its memory and time lie between no recompute and full recompute."""
    job = TrainingJob(DENSE, 1e9, 8192, 64)
    sh = job_shape(job)
    rcs = np.array([0, 1, 3, 2])  # none, selective, op, full
    out = evaluate(job, H100, FAB, _arrays(4, tp=2, dp=4, recompute=rcs,
                                           sequence_parallel=True))
    h, kvd, ffn, L = sh["h"], sh["kvd"], sh["ffn_act"], sh["L"]
    tok = 8192.0  # micro-batch 1
    f_op = 2.0 * tok * h * (kvd + h + ffn) / 2 * L  # per micro-batch per GPU (tp 2)
    m = out["microbatches"][2]
    extra = out["hardware_flop_per_step"][2] - out["hardware_flop_per_step"][0]
    assert extra == pytest.approx(m * 8 * f_op, rel=1e-9)
    acts = out["memory_bytes"]["activations"]
    assert acts[3] < acts[2] < acts[1] < acts[0]
    rec = out["breakdown_s"]["recompute"]
    assert rec[0] == 0.0 < rec[2] < rec[3]


def test_the_search_tries_op_level_checkpointing_only_when_fixed():
    job = TrainingJob(DENSE, 1e9, 4096, 64)
    assert 3 not in set(enumerate_layouts(job, 16, FAB)["recompute"])
    res = search_layouts(job, H100, 16, FAB, fixed={"recompute": "op"})
    assert res.best.layout.recompute == "op"
