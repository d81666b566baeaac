"""Properties of the transformer accounting."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wattlas.errors import InputError
from wattlas.workload import transformer as tf


@st.composite
def specs(draw, moe=None):
    heads = draw(st.sampled_from([4, 8, 16, 32]))
    kv = draw(st.sampled_from([h for h in (1, 2, 4, 8, 16, 32) if heads % h == 0]))
    head_dim = draw(st.sampled_from([32, 64, 128]))
    is_moe = draw(st.booleans()) if moe is None else moe
    kw = {}
    if is_moe:
        e = draw(st.integers(2, 64))
        kw = dict(moe_experts=e, moe_top_k=draw(st.integers(1, e)),
                  moe_expert_ffn=draw(st.integers(64, 4096)),
                  moe_shared_experts=draw(st.integers(0, 2)))
    return tf.ModelSpec(id="x", layers=draw(st.integers(1, 64)), hidden=heads * head_dim,
                        heads=heads, kv_heads=kv, vocab=draw(st.integers(1000, 200_000)),
                        ffn=draw(st.integers(64, 16384)), **kw)


@given(specs())
def test_active_never_exceeds_total(spec):
    assert tf.params_active(spec) <= tf.params_total(spec)
    assert tf.matmul_params_active(spec) <= tf.params_total(spec)


@given(specs(moe=False))
def test_dense_active_equals_total(spec):
    assert tf.params_active(spec) == tf.params_total(spec)


@given(specs(), st.integers(1, 4))
def test_kv_bytes_linear_in_layers(spec, k):
    more = spec.with_(layers=spec.layers * k)
    assert tf.kv_cache_bytes_per_token(more) == pytest.approx(
        k * tf.kv_cache_bytes_per_token(spec))


@given(specs())
def test_kv_bytes_linear_in_kv_heads(spec):
    mha = spec.with_(kv_heads=spec.heads)
    ratio = tf.kv_cache_bytes_per_token(mha) / tf.kv_cache_bytes_per_token(spec)
    assert ratio == pytest.approx(spec.heads / spec.n_kv_heads)


@given(specs(), st.sampled_from(["bf16", "fp8", "fp4"]))
def test_kv_bytes_scale_with_precision(spec, prec):
    assert tf.kv_cache_bytes_per_token(spec, prec) == pytest.approx(
        tf.kv_cache_bytes_per_token(spec, "bf16") * tf.bytes_per_element(prec) / 2)


@given(specs(), st.integers(128, 32768))
def test_training_flops_is_three_forward(spec, seq):
    # training = forward + backward (2×): 3 × forward at the same attention span.
    assert tf.training_flop_per_token(spec, seq) == pytest.approx(
        3 * tf.forward_flop_per_token(spec, seq))


def test_palm_attention_term():
    # PaLM App. B: 6N + 12·L·H·Q·T.
    spec = tf.ModelSpec(id="x", layers=10, hidden=1024, heads=8, vocab=1000, ffn=4096)
    n = tf.matmul_params_active(spec)
    assert tf.training_flop_per_token(spec, 2048) == 6 * n + 12 * 10 * 8 * 128 * 2048


def test_megatron_eq3_matches_closed_form():
    # Narayanan et al. SC21 eq. 3 for GPT-3 175B, B=1536, s=2048.
    B, s, n_l, h, V = 1536, 2048, 96, 12288, 51200
    closed = 96 * B * s * n_l * h * h * (1 + s / (6 * h) + V / (16 * n_l * h))
    assert tf.megatron_flop_per_iter(B, s, n_l, h, V, "full") == pytest.approx(closed, rel=1e-12)
    assert tf.megatron_flop_per_iter(B, s, n_l, h, V, "none") == pytest.approx(
        72 * B * s * n_l * h * h * (1 + s / (6 * h) + V / (12 * n_l * h)), rel=1e-12)


def test_mla_kv_cache_uses_the_latent():
    # DeepSeek-V2 §2.1.2: per token and layer the cache holds d_c + d_rope elements.
    spec = tf.ModelSpec(id="x", layers=61, hidden=7168, heads=128, vocab=129280, ffn=18432,
                        mla_kv_lora_rank=512, mla_qk_rope_head_dim=64, mla_qk_nope_head_dim=128,
                        mla_v_head_dim=128)
    assert tf.kv_cache_bytes_per_token(spec, "bf16") == 61 * (512 + 64) * 2


@pytest.mark.parametrize("kw, match", [
    (dict(kv_heads=3), "kv_heads = 3: must divide heads"),
    (dict(ffn_type="geglu"), "ffn_type = 'geglu'"),
    (dict(layers=0), "layers = 0"),
])
def test_bad_shapes_are_rejected(kw, match):
    base = dict(id="x", layers=2, hidden=64, heads=8, vocab=100, ffn=256)
    with pytest.raises(InputError, match=match):
        tf.ModelSpec(**{**base, **kw})
