"""Hybrid Mamba–Transformer models: Mamba-2 parts, layer patterns, FLOPs, activation memory,
inference state, and the training and serving plans that use them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattlas.errors import InputError
from wattlas.hardware import accelerator, fabric_for, system
from wattlas.perf.training.step import Layout, TrainingJob, plan_training
from wattlas.scenario import resolve_model
from wattlas.workload import mamba as mb
from wattlas.workload import transformer as tf

NANO = "nemotron-3-nano-30b-a3b"
SMALL = mb.Mamba2(hidden=64, heads=8, head_dim=16, state=32, groups=2, conv_kernel=4, chunk=16)


def _dense(layers: int = 8, **kw) -> tf.ModelSpec:
    return tf.ModelSpec(id="t", layers=layers, hidden=1024, heads=16, kv_heads=4, vocab=32000,
                        ffn=4096, ffn_type="relu", **kw)


def test_mamba2_parts_by_hand():
    # d = 8·16 = 128; in_proj h × (2d + 2·G·N + H) = 64 × (256 + 128 + 8)
    p = mb.params(SMALL)
    assert p["mamba_in_proj"] == 64 * 392
    assert p["mamba_conv1d"] == (128 + 128) * 5  # x, B, C channels × (4 taps + bias)
    assert p["mamba_a_d_dt_bias"] == 24
    assert p["mamba_norm"] == 128
    assert p["mamba_out_proj"] == 128 * 64
    assert mb.matmul_params(SMALL) == 64 * 392 + 128 * 64


def test_ssd_flops_by_hand():
    # 2·[G·Q·N + H·(Q·P + 2·N·P + N·P/Q)] + 2·(d + 2GN)·K
    macs = 2 * 16 * 32 + 8 * (16 * 16 + 2 * 32 * 16 + 32 * 16 / 16)
    assert mb.scan_flop_per_token(SMALL) == pytest.approx(2 * macs + 2 * 256 * 4)


def test_state_per_sequence_by_hand():
    assert mb.state_bytes_per_sequence(SMALL, act_bytes=2.0) == 8 * 16 * 32 * 4 + 3 * 256 * 2


@pytest.mark.parametrize("pattern, what", [("M*X", "'X'"), ("M*", "2 characters")])
def test_bad_pattern_names_the_field(pattern, what):
    with pytest.raises(InputError, match="hybrid_pattern") as e:
        _dense(layers=3, hybrid_pattern=pattern, mamba_heads=32, mamba_head_dim=64,
               mamba_state=128)
    assert what in str(e.value)


def test_mamba_layers_need_their_shape():
    with pytest.raises(InputError, match="mamba_heads"):
        _dense(layers=2, hybrid_pattern="M*")


def test_moe_layers_need_moe():
    with pytest.raises(InputError, match="model.moe"):
        _dense(layers=2, hybrid_pattern="E*")


def test_groups_must_divide_heads():
    with pytest.raises(InputError, match="mamba_groups"):
        mb.Mamba2(hidden=64, heads=6, head_dim=16, state=16, groups=4)


def test_nano_pattern_and_shape():
    m = resolve_model(NANO)
    assert (m.mamba_layers, m.moe_layers, m.attention_layers, m.dense_layers) == (23, 23, 6, 0)
    assert m.mamba.d_inner == 4096  # 64 heads × 64, not expand · hidden
    # KV cache only in the 6 attention layers: 2 · 6 · 2 kv heads · 128 · 2 bytes
    assert tf.kv_cache_bytes_per_token(m, "bf16") == 2 * 6 * 2 * 128 * 2
    # fp32 SSM state + bf16 conv state, 23 layers, whatever the context
    per_layer = 64 * 64 * 128 * 4 + 3 * (4096 + 2 * 8 * 128) * 2
    assert tf.mamba_state_bytes_per_sequence(m, "bf16") == 23 * per_layer


def test_nano_model_flops_near_nemo_published_formula():
    """NeMo prints model TFLOP/s and tokens/s per GPU for the Nano rows; their ratio is the
    FLOPs per token its hybrid formula counts: 901e12 / 39,936 = 22.6 GFLOP at s = 8192
    (26.08, GB300). The project's count (6·N + attention over 6 layers + SSD scans) is within
    5 % of it."""
    m = resolve_model(NANO)
    assert tf.training_flop_per_token(m, 8192) == pytest.approx(901e12 / 39936, rel=0.05)


def _as_hybrid(spec: tf.ModelSpec) -> tf.ModelSpec:
    """A transformer of L blocks written as a hybrid of 2L single-mixer layers (*-)."""
    return spec.with_(layers=2 * spec.layers, hybrid_pattern="*-" * spec.layers)


def test_transformer_written_as_pattern_counts_the_same():
    t = _dense()
    h = _as_hybrid(t)
    assert tf.params_total(h) == tf.params_total(t)
    assert tf.param_parts(h) == tf.param_parts(t)
    assert tf.training_flop_per_token(h, 4096) == tf.training_flop_per_token(t, 4096)
    assert tf.kv_cache_bytes_per_token(h) == tf.kv_cache_bytes_per_token(t)
    assert tf.mamba_state_bytes_per_sequence(h) == 0.0


def _plan(spec, tp=1, sp=False, rc="none", mbs=1, gpus=8, acc="h100-sxm", sys_="dgx-h100",
          s=4096, precision="bf16"):
    a = accelerator(acc)
    fab = fabric_for(a, system(sys_))
    job = TrainingJob(spec, tokens=1e12, seq_len=s, global_batch=64, precision=precision)
    lay = Layout(tp=tp, pp=1, dp=gpus // tp, cp=1, ep=1, vpp=1, microbatch=mbs, recompute=rc,
                 zero=1, sequence_parallel=sp, flash_attention=True)
    return plan_training(job, a, lay, fab, gpus, allow_oom=True)


@settings(max_examples=12, deadline=None)
@given(tp=st.sampled_from([1, 2, 4]), sp=st.booleans(),
       rc=st.sampled_from(["none", "selective", "full"]), mbs=st.sampled_from([1, 2]))
def test_transformer_as_pattern_plans_the_same(tp, sp, rc, mbs):
    """The training plan of a transformer of L blocks and of the same model written as 2L
    single-mixer layers agree: activations, TP all-reduces and FLOPs per layer are counted by
    sublayer (full recompute apart: a hybrid checkpoints every layer's input)."""
    t = _dense(layers=16)
    a, b = _plan(t, tp, sp and tp > 1, rc, mbs), _plan(_as_hybrid(t), tp, sp and tp > 1, rc, mbs)
    if rc == "full":  # each single-mixer layer checkpoints its own input: two per block
        assert b.memory_bytes["activations"] > a.memory_bytes["activations"]
    else:
        assert b.memory_bytes["activations"] == pytest.approx(a.memory_bytes["activations"],
                                                              rel=1e-9)
    assert b.breakdown_s["tp_comm"] == pytest.approx(a.breakdown_s["tp_comm"], rel=1e-9)
    assert b.model_flop_per_s_per_gpu * b.step_time_s == pytest.approx(
        a.model_flop_per_s_per_gpu * a.step_time_s, rel=1e-9)


def _hybrid(pattern: str) -> tf.ModelSpec:
    return tf.ModelSpec(id="h", layers=len(pattern), hidden=1024, heads=16, kv_heads=4,
                        vocab=32000, ffn=4096, ffn_type="relu", hybrid_pattern=pattern,
                        mamba_heads=32, mamba_head_dim=64, mamba_state=128, mamba_groups=8)


@settings(max_examples=15, deadline=None)
@given(pattern=st.text(alphabet="M*-", min_size=2, max_size=24).filter(lambda p: "M" in p),
       s=st.sampled_from([1024, 4096, 16384]))
def test_hybrid_invariants(pattern, s):
    m = _hybrid(pattern)
    parts = tf.param_parts(m)
    # every layer is one mixer: the parts add up to the pattern's counts
    assert parts["mamba_in_proj"] == pattern.count("M") * mb.params(m.mamba)["mamba_in_proj"]
    assert parts["norms"] == (len(pattern) + 1) * 1024
    # Mamba FLOPs per token do not grow with the sequence; attention FLOPs do, in * layers only
    assert tf.mamba_flop_per_token(m) > 0
    assert tf.attention_flop_per_token(m, s) == pytest.approx(
        pattern.count("*") * 2.0 * 16 * 128 * s)
    # the plan respects the peaks: MFU ≤ HFU ≤ 1, memory positive
    p = _plan(m, s=s)
    assert 0.0 < p.mfu <= p.hfu <= 1.0
    assert p.memory_bytes["activations"] > 0


def test_mamba_activations_fall_with_tp_and_full_recompute():
    m = _hybrid("M*M-" * 4)
    a1, a2 = (_plan(m, tp=t).memory_bytes["activations"] for t in (1, 2))
    assert a2 < a1
    assert (_plan(m, rc="full").memory_bytes["activations"]
            < _plan(m, rc="selective").memory_bytes["activations"])


def test_replacing_attention_by_mamba_shrinks_the_kv_cache_not_the_state():
    a, b = _hybrid("**-*"), _hybrid("M*-M")
    assert tf.kv_cache_bytes_per_token(b) == tf.kv_cache_bytes_per_token(a) / 3
    assert tf.mamba_state_bytes_per_sequence(b) > tf.mamba_state_bytes_per_sequence(a) == 0


def test_tp_must_split_mamba_heads_and_groups():
    m = _hybrid("M*" * 4).with_(mamba_groups=2)
    with pytest.raises(InputError, match="mamba"):
        _plan(m, tp=4)


def test_nano_published_rows_are_modelled_out_of_sample():
    from wattlas.validation import published as P

    rows = [c for c in P.cases() if "nemotron" in c.case.lower() and "nano" in c.case.lower()]
    assert len(rows) >= 20
    assert not any(c.calibration for c in rows)
    assert all(c.source.endswith("(MoE)") for c in rows)
    assert all(np.isfinite(c.predicted) and 0 < c.predicted < 1 for c in rows)


def _serving(model, tp=1):
    from wattlas.perf.serving import roofline as inf

    return inf.ServingConfig(model=model, accelerator=accelerator("h100-sxm"), tp=tp,
                             precision="bf16")


def test_serving_holds_a_constant_state_per_sequence_beside_the_kv_cache():
    from wattlas.perf.serving import roofline as inf

    cfg = _serving(resolve_model(NANO))
    state = inf.state_bytes_per_sequence(cfg)
    assert state == tf.mamba_state_bytes_per_sequence(cfg.model, "bf16") > 0
    cap = inf.kv_capacity_bytes(cfg)
    for ctx in (1024, 32768):
        b = inf.max_batch(cfg, ctx)
        per_seq = inf.resident_kv_bytes_per_token(cfg) * ctx + state
        assert b == min(int(cap // per_seq), cfg.eng.max_batch)
    # the same model with attention in every layer's place caches far more per token
    m = cfg.model
    dense_kv = 2 * m.layers * m.n_kv_heads * m.d_head * 2
    assert inf.kv_bytes_per_token(cfg) == dense_kv * m.attention_layers / m.layers


def test_decode_reads_and_writes_the_state():
    from wattlas.perf.serving import roofline as inf

    cfg = _serving(resolve_model(NANO))
    one, two = (inf.decode_parts(cfg, b, 1024.0) for b in (8, 16))
    st = tf.mamba_state_bytes_per_sequence(cfg.model)
    kv = inf.kv_bytes_per_token(cfg)
    assert float(one["kv_read_bytes"]) == pytest.approx(8 * 1024 * kv + 8 * st)
    assert float(two["kv_write_bytes"]) == pytest.approx(16 * kv + 16 * st)


def test_serving_tp_must_split_mamba_heads_and_groups():
    m = resolve_model(NANO)  # 64 Mamba heads, 8 groups; 32 attention heads
    with pytest.raises(InputError, match="Mamba heads"):
        _serving(m.with_(mamba_groups=2), tp=4)


def test_context_parallel_mamba_layers_pay_their_all_to_alls():
    """cp splits a Mamba layer's sequence; the scan needs whole sequences, so each Mamba layer
    exchanges its in_proj output and scan output across the cp ranks: a hybrid's cp
    communication exceeds that of the same pattern with attention in the Mamba layers' place,
    whose K/V ring hides behind the attention compute."""
    a = accelerator("h100-sxm")
    fab = fabric_for(a, system("dgx-h100"))

    def cp_s(model):
        job = TrainingJob(model, tokens=1e12, seq_len=32768, global_batch=16)
        lay = Layout(tp=1, pp=1, dp=2, cp=4, ep=1, vpp=1, microbatch=1, recompute="none",
                     zero=1, sequence_parallel=False, flash_attention=True)
        return plan_training(job, a, lay, fab, 8, allow_oom=True).breakdown_s["cp_comm"]

    assert cp_s(_hybrid("M*M-" * 4)) > cp_s(_hybrid("**-*" * 4)) >= 0.0


def test_nano_published_megatron_layouts_fit():
    """The Megatron-Bridge Nano rows (8 GB200/GB300/B200/B300, 16 H100, as published) fit in
    memory: the fused Mamba path keeps the in_proj output and recomputes the convolution and
    the chunk states. (The NeMo AutoModel FSDP2 row with ep 8 on 8 H100 does not yet: its
    expert optimizer states are not sharded by the planner's FSDP model.)"""
    from wattlas.validation import published as P

    rows = [c for c in P.cases() if "nemotron_3_nano" in c.case.lower()]
    assert rows and all(c.detail["fits"] for c in rows)


def test_mamba_block_keeps_less_than_it_produces():
    m = resolve_model(NANO).mamba
    rep, kept, made = mb.activation_bytes_per_token(m)
    assert 0 < rep < kept < made


def test_nemotron_3_models_not_modelled_say_why():
    from wattlas.validation import published as P

    why = [w for row, w in P.skipped() if "nemotron_3_super" in row.lower()]
    assert why and all("LatentMoE" in w for w in why)


def test_inline_hybrid_model_in_a_scenario():
    from wattlas.scenario import ModelInline

    inline = ModelInline.model_validate(
        {"layers": 4, "hidden": 1024, "heads": 16, "kv_heads": 4, "ffn": 4096,
         "ffn_type": "relu", "vocab": 32000, "hybrid_pattern": "M-*-",
         "mamba": {"heads": 32, "head_dim": 64, "state": 128, "groups": 8}})
    m = resolve_model(inline)
    assert (m.mamba_layers, m.attention_layers, m.dense_layers) == (1, 1, 2)
    assert m.mamba == mb.Mamba2(hidden=1024, heads=32, head_dim=64, state=128, groups=8)


@pytest.mark.parametrize("dp_attention", [True, False])
def test_wide_ep_serving_counts_the_state_per_sequence(dp_attention):
    from wattlas.perf.serving import moe as sm
    from wattlas.perf.serving import roofline as inf

    cfg = inf.ServingConfig(model=resolve_model(NANO), accelerator=accelerator("h200-sxm"),
                            tp=1, precision="fp8")
    par = sm.MoEParallel(ep=8, dp_attention=dp_attention)
    a = sm._attention_tp(cfg, par)
    free = ((cfg.accelerator.require("hbm_bytes") - sm.weights_per_gpu_bytes(cfg, par)
             - inf.activation_bytes(cfg)) * cfg.eng.mem_usable_frac)
    ctx = 8192
    per_seq = (sm.kv_bytes_per_token_per_gpu(cfg, par) * ctx
               + tf.mamba_state_bytes_per_sequence(cfg.model) / a)
    assert sm.max_sequences_per_gpu(cfg, par, ctx) == int(free // per_seq // a) > 0
