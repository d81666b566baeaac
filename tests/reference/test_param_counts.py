"""Parameter counts pinned against published numbers.

Each expected value names where it comes from; tolerances reflect how the source rounds.
"""

import pytest

from wattlas.scenario import resolve_model
from wattlas.workload import transformer as tf

GPT2 = tf.ModelSpec(id="gpt2", layers=12, hidden=768, heads=12, vocab=50257, ffn=3072,
                    ffn_type="gelu", tied_embeddings=True, position="learned", max_context=1024,
                    norm="layernorm", bias=True)


def test_gpt2_124m_with_biases_is_exact():
    # HuggingFace openai-community/gpt2 GPT2LMHeadModel: 124,439,808 parameters (tied head).
    assert tf.params_total(GPT2) == 124_439_808


def test_gpt2_124m_without_biases_is_exact():
    # nanoGPT model.py with GPTConfig(bias=False): no Linear or LayerNorm biases,
    # 124,337,664 parameters — the count the house style quotes.
    assert tf.params_total(GPT2.with_(bias=False)) == 124_337_664


@pytest.mark.parametrize(
    "model_id, total, active, rel",
    [
        # GPT-3 paper (Brown et al. 2020) Table 2.1: 175.0B; Narayanan et al. SC21 Table 2: 174.6B.
        ("gpt3-175b", 174.6e9, None, 0.001),
        # Meta Llama 3 model card: 70.6B; config-exact count 70.55B.
        ("llama3-70b", 70.55e9, None, 0.001),
        # Llama 3 paper (Dubey et al. 2024) Table 3: 405B; config-exact 405.85B.
        ("llama3-405b", 405.8e9, None, 0.001),
        # Mistral AI, Mixtral of Experts (Jiang et al. 2024) §2: 46.7B total, 12.9B active.
        ("mixtral-8x7b", 46.7e9, 12.9e9, 0.005),
        # DeepSeek-V3 technical report §1: 671B total, 37B activated (main model, no MTP).
        ("deepseek-v3", 671e9, 37e9, 0.02),
    ],
)
def test_published_totals(model_id, total, active, rel):
    spec = resolve_model(model_id)
    assert tf.params_total(spec) == pytest.approx(total, rel=rel)
    if active is not None:
        assert tf.params_active(spec) == pytest.approx(active, rel=rel)


def test_catalog_models_match_their_published_counts():
    """Every catalog model with a published count is within 3% of it (sources round to
    two or three significant figures, and some quote non-embedding counts: see the note)."""
    from wattlas import catalog

    for row in catalog.rows("models"):
        if row["params_published"]:
            spec = resolve_model(row["id"])
            got = tf.params_total(spec)
            assert got == pytest.approx(row["params_published"], rel=0.03), row["id"]


def test_nemotron_3_nano_hybrid_counts():
    """NVIDIA Research, Nemotron 3 page / Nemotron 3 Nano report (arXiv:2512.20848): "a 3.2B
    active (3.6B with embeddings), 31.6B total parameter model" — the hybrid Mamba-2 /
    attention / MoE count of its Hugging Face config (52 layers, 23 Mamba-2, 23 MoE, 6 GQA)."""
    spec = resolve_model("nemotron-3-nano-30b-a3b")
    parts = tf.param_parts(spec)
    assert tf.params_total(spec) == pytest.approx(31.6e9, rel=0.005)
    assert tf.params_active(spec) == pytest.approx(3.6e9, rel=0.01)
    assert tf.params_active(spec) - parts["embedding"] == pytest.approx(3.2e9, rel=0.01)
    # the Mamba-2 mixers by named part: 23 × (in_proj h·(2d + 2GN + H) + out_proj d·h)
    assert parts["mamba_in_proj"] == 23 * 2688 * (2 * 4096 + 2 * 8 * 128 + 64)
    assert parts["mamba_out_proj"] == 23 * 4096 * 2688
