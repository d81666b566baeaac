"""Host offload (optimizer, activations), SFT note and RL rollout through the serving model
(wattlas.perf.training.step)."""

import numpy as np
import pytest

from wattlas.hardware import Accelerator, Fabric
from wattlas.perf.serving import roofline as inference
from wattlas.perf.training import calibration
from wattlas.perf.training.step import Layout, TrainingJob, evaluate, plan_training
from wattlas.units import GIB
from wattlas.workload.transformer import ModelSpec

H100 = Accelerator(id="h100-test", bf16_flop_per_s=989.4e12, fp16_flop_per_s=989.4e12,
                   hbm_bytes=80 * GIB, hbm_bytes_per_s=3.35e12, scaleup_bytes_per_s=450e9,
                   scaleup_domain=8, scaleout_bytes_per_s=50e9, host_link_bytes_per_s=64e9)
FAB = Fabric(scaleup_domain=8, scaleup_bytes_per_s=450e9, scaleout_bytes_per_s=50e9,
             host_link_bytes_per_s=64e9)
HOST_BW = 64e9
LLAMA8 = ModelSpec(id="llama-8b-like", layers=32, hidden=4096, heads=32, kv_heads=8,
                   ffn=14336, vocab=128256)


def _pair(offload, **lay):
    job = TrainingJob(LLAMA8, 1e9, 8192, 256)
    base = dict(tp=2, pp=1, dp=32, recompute="none", zero=1, **lay)
    return (plan_training(job, H100, Layout(**base), FAB, allow_oom=True),
            plan_training(job, H100, Layout(offload=offload, **base), FAB, allow_oom=True))


def test_activation_offload_moves_activations_to_host():
    a, b = _pair("activations")
    acts = a.memory_bytes["activations"]
    # pp = 1, no recompute: the 32 layers' stored activations of one micro-batch; offload keeps
    # two layers' worth on the GPU
    assert b.memory_bytes["activations"] == pytest.approx(acts * 2 / LLAMA8.layers, rel=1e-12)
    assert b.memory_per_gpu_bytes == pytest.approx(
        a.memory_per_gpu_bytes - acts + b.memory_bytes["activations"], rel=1e-12)
    others = {k: v for k, v in a.memory_bytes.items() if k != "activations"}
    assert others == {k: v for k, v in b.memory_bytes.items() if k != "activations"}


def test_activation_offload_costs_at_least_the_unoverlapped_transfer():
    a, b = _pair("activations")
    m = 256 / 32  # micro-batches per step
    per_mb = a.memory_bytes["activations"] / HOST_BW  # one direction, one micro-batch
    floor = m * 2 * per_mb / LLAMA8.layers  # one layer's copy out and one back, never hidden
    assert b.step_time_s - a.step_time_s >= floor * (1 - 1e-12)
    assert b.breakdown_s["offload"] == pytest.approx(b.step_time_s - a.step_time_s, rel=1e-9)
    # never more than the whole transfer, serialised
    assert b.breakdown_s["offload"] <= m * 2 * per_mb * (1 + 1e-12)
    assert any("offload activations" in n for n in b.notes)


def test_optimizer_offload_costs_link_and_cpu_adam():
    a, b = _pair("optimizer")
    job = TrainingJob(LLAMA8, 1e9, 8192, 256)
    out = evaluate(job, H100, FAB, Layout(tp=2, pp=1, dp=32, recompute="none",
                                          zero=1).arrays())
    local = float(out["params_per_gpu"][0]) / 32  # ZeRO-1 shard of a dense model's states
    link = local * (2 + 2) / HOST_BW  # bf16 grads down, bf16 weights up
    adam = local * 30 / calibration.HOST_ADAM_BYTES_PER_S
    assert b.breakdown_s["offload"] == pytest.approx(link + adam, rel=1e-9)
    assert b.breakdown_s["optimizer"] == 0 and a.breakdown_s["optimizer"] > 0
    assert b.memory_bytes["optimizer"] == 0
    assert any("CPU Adam" in n for n in b.notes)


def test_sft_costs_like_pretraining_and_says_so():
    lay = Layout(tp=2, pp=1, dp=4)
    pre = plan_training(TrainingJob(LLAMA8, 1e9, 4096, 64), H100, lay, FAB)
    sft = plan_training(TrainingJob(LLAMA8, 1e9, 4096, 64, job="sft"), H100, lay, FAB)
    assert sft.step_time_s == pre.step_time_s and sft.mfu == pre.mfu
    assert any("sft" in n and "lora" in n for n in sft.notes)
    assert not any("sft" in n for n in pre.notes)


@pytest.mark.parametrize("tp,pp,dp", [(2, 2, 16), (4, 1, 16), (1, 4, 16)])
def test_rollout_is_the_serving_models_decode(tp, pp, dp):
    gen, seq, batch = 1024, 4096, 256
    job = TrainingJob(LLAMA8, 1e9, seq, batch, job="grpo", rollout_tokens=gen)
    p = plan_training(job, H100, Layout(tp=tp, pp=pp, dp=dp), FAB, allow_oom=True)
    cfg = inference.ServingConfig(model=LLAMA8, accelerator=H100, tp=tp, fabric=FAB,
                                  engine=calibration.ROLLOUT_ENGINE)
    b = batch / (dp * pp)  # sequences per tp group (pp stages of a replica each one group)
    prompt = seq - gen
    expected = (gen * float(inference.decode_step_time_s(cfg, b, prompt + gen / 2))
                + float(inference.prefill_time_s(cfg, prompt, b)))
    assert p.breakdown_s["rollout"] == pytest.approx(expected, rel=1e-12)
    assert any("serving model" in n for n in p.notes)


def test_rollout_grows_with_generated_tokens_and_is_vectorised():
    job = TrainingJob(LLAMA8, 1e9, 4096, 256, job="grpo")
    arr = {k: np.concatenate([v, v]) for k, v in Layout(tp=2, pp=2, dp=16).arrays().items()}
    arr["tp"] = np.array([2, 4])
    arr["dp"] = np.array([16, 8])
    out = evaluate(job, H100, FAB, arr)
    assert np.all(np.isfinite(out["breakdown_s"]["rollout"]))
    short = TrainingJob(LLAMA8, 1e9, 4096, 256, job="grpo", rollout_tokens=256)
    assert (evaluate(short, H100, FAB, arr)["breakdown_s"]["rollout"]
            < out["breakdown_s"]["rollout"]).all()
