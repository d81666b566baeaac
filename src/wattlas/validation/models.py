"""Model shapes the validation sources describe by their dimensions rather than a catalog id.

Shared by the training cases (:mod:`wattlas.validation.training`) and the published tables at
scale (:mod:`wattlas.validation.published`), so neither imports the other for it.
"""

from __future__ import annotations

from ..workload.transformer import ModelSpec


def gpt(layers: int, hidden: int, heads: int, seq_len: int, vocab: int = 51200,
        ffn: int | None = None, name: str = "gpt", tied: bool = True,
        position: str = "learned") -> ModelSpec:
    """A GPT-style model (Megatron GPT: 4h GELU, LayerNorm with biases)."""
    return ModelSpec(id=name, layers=layers, hidden=hidden, heads=heads, vocab=vocab,
                     ffn=ffn or 4 * hidden, ffn_type="gelu", tied_embeddings=tied,
                     position=position, max_context=seq_len, norm="layernorm", bias=True)

