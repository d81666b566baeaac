"""Transformer accounting: parameters, FLOPs and bytes by named part.

All counts are exact sums of named parts, so a reader can audit them against a model's config
(the nanoGPT habit). Conventions:

* ``params_total``: every trainable tensor, embeddings included, tied weights counted once.
* ``params_active``: what one token touches: routed experts scaled by top_k / experts.
* ``matmul_params_active``: the parameters that take part in a matrix multiply per token
  (``params_active`` minus the input embedding and position tables, plus the LM head when it is
  tied to the embedding). This is the ``N`` of the 6·N FLOP rule.

References
----------
* Chowdhery et al., "PaLM", 2022, Appendix B: model FLOPs per token 6·N + 12·L·H·Q·T.
* Narayanan et al., "Efficient Large-Scale Language Model Training on GPU Clusters Using
  Megatron-LM", SC'21, eq. 3: 96·B·s·l·h²·(1 + s/(6h) + V/(16·l·h)) with full recompute.
* Korthikanti et al., "Reducing Activation Recomputation in Large Transformer Models", 2022.
* DeepSeek-AI, "DeepSeek-V2" (2024) §2.1 for Multi-head Latent Attention and its KV cache.
* Hybrid Mamba–Transformer models (a layer pattern of Mamba-2, attention, MLP and MoE blocks):
  :mod:`.mamba` (Dao & Gu 2024; Nemotron-H, arXiv:2504.03624).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from ..errors import InputError
from ..units import BYTES_PER_ELEMENT
from . import mamba as mb

FFN_MATRICES = {"gelu": 2, "relu": 2, "swiglu": 3}


@dataclass(frozen=True)
class ModelSpec:
    """Shape of a decoder-only transformer (dense, GQA/MQA, MLA, MoE)."""

    id: str
    layers: int
    hidden: int
    heads: int
    vocab: int
    ffn: int = 0
    kv_heads: int | None = None
    head_dim: int | None = None
    ffn_type: str = "swiglu"
    tied_embeddings: bool = False
    position: str = "rope"
    max_context: int | None = None
    norm: str = "rmsnorm"
    bias: bool = False
    qkv_bias: bool = False
    qk_norm: bool = False
    moe_experts: int | None = None
    moe_top_k: int | None = None
    moe_shared_experts: int | None = None
    moe_expert_ffn: int | None = None
    moe_dense_layers: int | None = None
    mla_q_lora_rank: int | None = None
    mla_kv_lora_rank: int | None = None
    mla_qk_nope_head_dim: int | None = None
    mla_qk_rope_head_dim: int | None = None
    mla_v_head_dim: int | None = None
    #: hybrid Mamba–Transformer: one character per layer (M Mamba-2, * attention, - MLP,
    #: E MoE; Nemotron-H hybrid_override_pattern); empty: a transformer of attention + MLP blocks
    hybrid_pattern: str | None = None
    mamba_heads: int | None = None
    mamba_head_dim: int | None = None
    mamba_state: int | None = None
    mamba_groups: int | None = None
    mamba_conv_kernel: int | None = None
    mamba_chunk: int | None = None
    name: str = ""

    def __post_init__(self) -> None:
        for f in ("layers", "hidden", "heads", "vocab"):
            v = getattr(self, f)
            if not isinstance(v, int) or v <= 0:
                raise InputError(f"model.{f} = {v!r}: must be a positive integer")
        if self.ffn_type not in FFN_MATRICES:
            raise InputError(f"model.ffn_type = '{self.ffn_type}': allowed "
                             f"{', '.join(FFN_MATRICES)}")
        if self.norm not in ("layernorm", "rmsnorm"):
            raise InputError(f"model.norm = '{self.norm}': allowed layernorm, rmsnorm")
        if self.position not in ("rope", "learned", "alibi"):
            raise InputError(f"model.position = '{self.position}': allowed rope, learned, alibi")
        if self.kv_heads is not None and (self.kv_heads <= 0 or self.heads % self.kv_heads):
            raise InputError(f"model.kv_heads = {self.kv_heads}: must divide heads "
                             f"({self.heads})")
        if self.head_dim is None and not self.is_mla and self.hidden % self.heads:
            raise InputError(f"model.heads = {self.heads} does not divide hidden = "
                             f"{self.hidden}; give model.head_dim")
        if self.hybrid_pattern is not None:
            n = mb.pattern_counts(self.hybrid_pattern)
            if len(self.hybrid_pattern) != self.layers:
                raise InputError(f"model.hybrid_pattern has {len(self.hybrid_pattern)} "
                                 f"characters but layers = {self.layers}; allowed: one "
                                 "character per layer")
            if n["mamba"] and not (self.mamba_heads and self.mamba_head_dim
                                   and self.mamba_state):
                raise InputError("model.hybrid_pattern has Mamba layers (M): mamba_heads, "
                                 "mamba_head_dim and mamba_state are all needed")
            if n["moe"] and not self.is_moe:
                raise InputError("model.hybrid_pattern has MoE layers (E): model.moe "
                                 "(experts, top_k, expert_ffn) is needed")
            if self.mamba is not None:
                self.mamba  # noqa: B018  (validates the Mamba-2 shape)
        if self.is_moe:
            if not self.moe_top_k or not self.moe_expert_ffn:
                raise InputError("model.moe: experts, top_k and expert_ffn are all needed")
            if self.moe_top_k > self.moe_experts:
                raise InputError(f"model.moe.top_k = {self.moe_top_k} exceeds experts = "
                                 f"{self.moe_experts}")
        elif self.ffn <= 0 and (self.hybrid_pattern is None or "-" in self.hybrid_pattern):
            raise InputError(f"model.ffn = {self.ffn}: a dense model needs a positive ffn")
        if self.position == "learned" and not self.max_context:
            raise InputError("model.max_context is needed for learned position embeddings")

    # derived shape -------------------------------------------------------------------------
    @property
    def is_moe(self) -> bool:
        return bool(self.moe_experts)

    @property
    def is_mla(self) -> bool:
        return bool(self.mla_kv_lora_rank)

    @property
    def n_kv_heads(self) -> int:
        return self.kv_heads or self.heads

    @property
    def d_head(self) -> int:
        return self.head_dim or self.hidden // self.heads

    @property
    def d_qk(self) -> int:
        """Per-head query/key dimension (MLA: non-rotary + rotary part)."""
        if self.is_mla:
            return (self.mla_qk_nope_head_dim or 0) + (self.mla_qk_rope_head_dim or 0)
        return self.d_head

    @property
    def d_v(self) -> int:
        return self.mla_v_head_dim if self.is_mla else self.d_head

    @property
    def is_hybrid(self) -> bool:
        return self.hybrid_pattern is not None

    @property
    def moe_layers(self) -> int:
        if self.is_hybrid:
            return self.hybrid_pattern.count("E") if self.is_moe else 0
        return self.layers - (self.moe_dense_layers or 0) if self.is_moe else 0

    @property
    def dense_layers(self) -> int:
        """Layers with a dense MLP (a hybrid's ``-`` layers)."""
        if self.is_hybrid:
            return self.hybrid_pattern.count("-")
        return self.layers - self.moe_layers

    @property
    def attention_layers(self) -> int:
        """Layers with self-attention (and a KV cache): all of a transformer's, a hybrid's
        ``*`` layers."""
        return self.hybrid_pattern.count("*") if self.is_hybrid else self.layers

    @property
    def mamba_layers(self) -> int:
        return self.hybrid_pattern.count("M") if self.is_hybrid else 0

    @property
    def mamba(self) -> mb.Mamba2 | None:
        """The Mamba-2 mixer shape of a hybrid with Mamba layers, else None."""
        if not self.mamba_layers:
            return None
        return mb.Mamba2(hidden=self.hidden, heads=self.mamba_heads,
                         head_dim=self.mamba_head_dim, state=self.mamba_state,
                         groups=self.mamba_groups or 1,
                         conv_kernel=self.mamba_conv_kernel or mb.CONV_KERNEL_DEFAULT,
                         chunk=self.mamba_chunk or mb.CHUNK_DEFAULT)

    @classmethod
    def from_mapping(cls, data: dict[str, Any], id: str = "inline") -> ModelSpec:
        """Build from a catalog row or an inline scenario mapping (``moe``/``mla`` nested)."""
        flat = dict(data)
        for group in ("moe", "mla", "mamba"):
            sub = flat.pop(group, None) or {}
            for k, v in sub.items():
                flat[f"{group}_{k}"] = v
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(flat) - names - {"params_published", "source", "source_detail",
                                              "as_of", "note", "source_origin"})
        if unknown:
            raise InputError(f"model: unknown key(s) {', '.join(unknown)}; allowed: "
                             f"{', '.join(sorted(names - {'id'}))}")
        kwargs = {k: v for k, v in flat.items() if k in names and v is not None}
        kwargs.setdefault("id", id)
        return cls(**kwargs)

    def with_(self, **changes: Any) -> ModelSpec:
        return replace(self, **changes)


# parameters ---------------------------------------------------------------------------------

def _norm_params(spec: ModelSpec) -> int:
    """LayerNorm has a weight and, when the model uses biases, a bias; RMSNorm a weight."""
    return 2 * spec.hidden if (spec.norm == "layernorm" and spec.bias) else spec.hidden


def _linear(n_in: int, n_out: int, bias: bool) -> int:
    return n_in * n_out + (n_out if bias else 0)


def attention_params(spec: ModelSpec) -> dict[str, int]:
    """Parameters of one attention block by named part."""
    h = spec.hidden
    if spec.is_mla:
        nh, rope, nope, dv = (spec.heads, spec.mla_qk_rope_head_dim or 0,
                              spec.mla_qk_nope_head_dim or 0, spec.d_v)
        q_rank, c = spec.mla_q_lora_rank, spec.mla_kv_lora_rank
        if q_rank:
            q = h * q_rank + q_rank + q_rank * nh * (nope + rope)  # down, norm, up
        else:
            q = h * nh * (nope + rope)
        kv = h * (c + rope) + c + c * nh * (nope + dv)  # joint down (+ rope key), norm, up
        return {"attn_q": q, "attn_kv": kv, "attn_o": nh * dv * h}
    b = spec.bias
    qkv_b = b or spec.qkv_bias
    q_dim, kv_dim = spec.heads * spec.d_head, spec.n_kv_heads * spec.d_head
    parts = {
        "attn_q": _linear(h, q_dim, qkv_b),
        "attn_k": _linear(h, kv_dim, qkv_b),
        "attn_v": _linear(h, kv_dim, qkv_b),
        "attn_o": _linear(q_dim, h, b),
    }
    if spec.qk_norm:
        parts["attn_qk_norm"] = 2 * spec.d_head
    return parts


def mlp_params(spec: ModelSpec, inner: int) -> int:
    """One MLP (dense FFN or one expert) of inner size `inner`."""
    m = FFN_MATRICES[spec.ffn_type]
    n = m * spec.hidden * inner
    if spec.bias:
        n += (m - 1) * inner + spec.hidden
    return n


def param_parts(spec: ModelSpec) -> dict[str, int]:
    """Total parameters by named part, summed over layers."""
    L = spec.layers
    parts: dict[str, int] = {"embedding": spec.vocab * spec.hidden}
    if spec.position == "learned":
        parts["position"] = (spec.max_context or 0) * spec.hidden
    for name, n in attention_params(spec).items():
        parts[name] = spec.attention_layers * n
    # 2 norms per transformer block (1 per single-mixer block of a hybrid) + the final norm
    parts["norms"] = L * (1 if spec.is_hybrid else 2) * _norm_params(spec) + _norm_params(spec)
    if spec.mamba is not None:
        for name, n in mb.params(spec.mamba).items():
            parts[name] = spec.mamba_layers * n
    if spec.dense_layers:
        parts["mlp"] = spec.dense_layers * mlp_params(spec, spec.ffn)
    if spec.is_moe:
        e_ffn = spec.moe_expert_ffn
        parts["router"] = spec.moe_layers * spec.hidden * spec.moe_experts
        parts["experts_routed"] = spec.moe_layers * spec.moe_experts * mlp_params(spec, e_ffn)
        if spec.moe_shared_experts:
            parts["experts_shared"] = (spec.moe_layers * spec.moe_shared_experts
                                       * mlp_params(spec, e_ffn))
    if not spec.tied_embeddings:
        parts["lm_head"] = spec.vocab * spec.hidden
    return parts


def active_param_parts(spec: ModelSpec) -> dict[str, int]:
    """Parameters one token touches: routed experts scaled by top_k / experts."""
    parts = dict(param_parts(spec))
    if spec.is_moe:
        parts["experts_routed"] = parts["experts_routed"] * spec.moe_top_k // spec.moe_experts
    return parts


def params_total(spec: ModelSpec) -> int:
    return sum(param_parts(spec).values())


def params_active(spec: ModelSpec) -> int:
    return sum(active_param_parts(spec).values())


def matmul_params_active(spec: ModelSpec) -> int:
    """N of the 6·N rule: active parameters used in matrix multiplies per token."""
    parts = active_param_parts(spec)
    n = sum(v for k, v in parts.items() if k not in ("embedding", "position", "norms")
            and k not in _MAMBA_NON_MATMUL)
    if spec.tied_embeddings:
        n += parts["embedding"]  # the LM head multiplies by the tied embedding
    return n


_MAMBA_NON_MATMUL = ("mamba_conv1d", "mamba_a_d_dt_bias", "mamba_norm")


def layer_params(spec: ModelSpec) -> float:
    """Average parameters of one transformer block (all experts), for sharding estimates."""
    parts = param_parts(spec)
    per_model = sum(v for k, v in parts.items() if k not in ("embedding", "position", "lm_head"))
    return per_model / spec.layers


# FLOPs --------------------------------------------------------------------------------------

def attention_flop_per_token(spec: ModelSpec, context: float) -> float:
    """Forward FLOPs of the score (QKᵀ) and value (AV) products for one token attending over
    `context` tokens, summed over the attention layers: 2·L·H·(d_qk + d_v)·context."""
    return 2.0 * spec.attention_layers * spec.heads * (spec.d_qk + spec.d_v) * context


def mamba_flop_per_token(spec: ModelSpec) -> float:
    """Forward FLOPs of one token in the Mamba-2 scans and convolutions beyond their
    projections, summed over the Mamba layers (:func:`.mamba.scan_flop_per_token`); 0 for a
    transformer. Independent of the context length."""
    return spec.mamba_layers * mb.scan_flop_per_token(spec.mamba) if spec.mamba else 0.0


def forward_flop_per_token(spec: ModelSpec, context: float) -> float:
    """Forward FLOPs of one token with `context` tokens of attention span (inference)."""
    return (2.0 * matmul_params_active(spec) + attention_flop_per_token(spec, context)
            + mamba_flop_per_token(spec))


def training_flop_per_token(spec: ModelSpec, seq_len: int) -> float:
    """Model FLOPs per trained token, PaLM App. B: 6·N + 12·L·H·Q·T (no recompute, full
    attention matrix counted, as PaLM does); a hybrid adds 3× the forward FLOPs of its
    Mamba-2 scans (Dao & Gu 2024 §6)."""
    return (6.0 * matmul_params_active(spec) + 3.0 * attention_flop_per_token(spec, seq_len)
            + 3.0 * mamba_flop_per_token(spec))


def megatron_flop_per_iter(batch: int, seq_len: int, layers: int, hidden: int, vocab: int,
                           recompute: str = "full") -> float:
    """Narayanan et al. SC'21 eq. 3: 96·B·s·l·h²·(1 + s/(6h) + V/(16·l·h)) FLOPs per iteration
    with full activation recomputation; 72·... (3 passes instead of 4) without; selective
    recompute adds only the attention-score recompute (Korthikanti et al. 2022, §5)."""
    b, s, n_l, h, v = batch, seq_len, layers, hidden, vocab
    dense = 24.0 * b * s * n_l * h * h  # one forward pass of the 12·h² block matmuls ×2
    attn = 4.0 * b * s * s * n_l * h  # one forward pass of QKᵀ and AV
    logits = 2.0 * b * s * h * v  # one forward pass of the LM head
    passes = {"none": 3.0, "selective": 3.0, "full": 4.0}[recompute]
    extra_attn = attn if recompute == "selective" else 0.0
    return passes * (dense + attn) + 3.0 * logits + extra_attn


# bytes --------------------------------------------------------------------------------------

def bytes_per_element(precision: str) -> float:
    try:
        return BYTES_PER_ELEMENT[precision]
    except KeyError:
        raise InputError(f"precision '{precision}': allowed "
                         f"{', '.join(BYTES_PER_ELEMENT)}") from None


def kv_cache_bytes_per_token(spec: ModelSpec, precision: str = "bf16") -> float:
    """KV-cache bytes per token of context: 2·L·n_kv·d_head·bytes (MLA caches the latent:
    L·(d_c + d_rope)·bytes), over the attention layers only (a hybrid's Mamba layers keep a
    constant state instead: :func:`mamba_state_bytes_per_sequence`)."""
    b = bytes_per_element(precision)
    L = spec.attention_layers
    if spec.is_mla:
        return L * (spec.mla_kv_lora_rank + (spec.mla_qk_rope_head_dim or 0)) * b
    return 2.0 * L * spec.n_kv_heads * spec.d_head * b


def mamba_state_bytes_per_sequence(spec: ModelSpec, precision: str = "bf16") -> float:
    """Inference state of one sequence over all Mamba layers [bytes], constant in the sequence
    length: SSM state in fp32 plus convolution state at `precision` (:mod:`.mamba`); 0 for a
    transformer."""
    if spec.mamba is None:
        return 0.0
    return spec.mamba_layers * mb.state_bytes_per_sequence(spec.mamba,
                                                             bytes_per_element(precision))


def weight_bytes(spec: ModelSpec, precision: str = "bf16", active: bool = False,
                 scale_overhead_frac: float = 0.0) -> float:
    """Bytes of the weights stored at `precision`, with an optional scale overhead (e.g. one
    fp16 scale per 128-weight group of INT4 = 2/64 = 0.03)."""
    n = params_active(spec) if active else params_total(spec)
    return n * bytes_per_element(precision) * (1.0 + scale_overhead_frac)
