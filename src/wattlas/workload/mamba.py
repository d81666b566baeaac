"""Mamba-2 layers and hybrid Mamba–Transformer layer patterns: parameters, FLOPs, activation
and inference-state bytes by named part.

A hybrid model is a stack of single-mixer blocks, each ``x + mixer(norm(x))``, named by one
character of its layer pattern (Nemotron-H's ``hybrid_override_pattern``): ``M`` a Mamba-2
mixer, ``*`` self-attention, ``-`` a dense MLP, ``E`` a mixture-of-experts MLP.

A Mamba-2 mixer with ``H`` heads of dimension ``P`` (inner width ``d = H·P``), state size
``N``, ``G`` groups of B/C and a causal depthwise convolution of width ``K`` has, by named part
(Dao & Gu 2024, §7 "The Mamba-2 Architecture", Fig. 6; the Nemotron-H mixer of the Hugging Face
``modeling_nemotron_h.py``):

* ``in_proj``  one h × (2d + 2·G·N + H) matrix that makes ``z`` (gate, d), ``x`` (d), ``B``
  (G·N), ``C`` (G·N) and ``dt`` (H) in one GEMM;
* ``conv1d``   depthwise over the ``x, B, C`` channels (d + 2·G·N), ``K`` taps and a bias each;
* ``A_log, D, dt_bias`` one scalar per head each;
* ``norm``     the gated RMSNorm on the scan output (d weights);
* ``out_proj`` d × h.

FLOPs of the scan: the SSD algorithm (Dao & Gu 2024, §6, "Hardware-Efficient Algorithm for SSD
Models") splits a sequence into chunks of ``Q`` tokens and runs four matrix-multiply steps.
Per token, in multiply–accumulates: the diagonal blocks ``CBᵀ`` (Q·N per group) and their
product with ``x`` (Q·P per head), the chunk states ``Bᵀx`` (N·P per head), and the states'
contribution to the output ``C·state`` (N·P per head); passing states between chunks costs N·P
per head per chunk (N·P/Q per token). Forward FLOPs per token::

    2 · [G·Q·N + H·(Q·P + 2·N·P + N·P/Q)] + 2·(d + 2·G·N)·K   (the last term: the convolution)

independent of the sequence length (linear time; full Q×Q diagonal blocks counted, as the
chunked kernels compute them). The projections are ordinary matrix multiplies and count in the
6·N rule with the other linear layers.

Inference state per sequence and Mamba layer, constant in the sequence length (in place of a KV
cache): the SSM state H·P·N (kept in fp32 by Nemotron-H, ``mamba_ssm_cache_dtype``) and the
convolution state (K − 1)·(d + 2·G·N) in the activation precision.

Tensor parallelism splits a Mamba layer by heads and groups as Megatron-Core's ``MambaMixer``
does: ``in_proj`` column-parallel, ``out_proj`` row-parallel, so ``H`` and ``G`` must be
multiples of t, and the layer needs one all-reduce (reduce-scatter + all-gather with sequence
parallelism) per pass, as one attention or MLP sublayer does.

References
----------
* T. Dao and A. Gu, "Transformers are SSMs: Generalized Models and Efficient Algorithms Through
  Structured State Space Duality", ICML 2024, arXiv:2405.21060 (§6 SSD algorithm, §7 block,
  §8.2 tensor parallelism of the Mamba-2 block).
* NVIDIA, "Nemotron-H: A Family of Accurate and Efficient Hybrid Mamba-Transformer Models",
  arXiv:2504.03624, 2025 (§2.1, layer patterns, Table 1).
* NVIDIA, "Nemotron 3 Nano: Open, Efficient Mixture-of-Experts Hybrid Mamba-Transformer Model
  for Agentic Reasoning", arXiv:2512.20848, 2025.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError

#: layer-pattern characters (Nemotron-H ``hybrid_override_pattern``)
PATTERN_CHARS = {"M": "mamba", "*": "attention", "-": "mlp", "E": "moe"}
SSM_STATE_BYTES = 4.0  # fp32 SSM state (Nemotron-H config mamba_ssm_cache_dtype float32)
CHUNK_DEFAULT = 128  # SSD chunk length Q (Nemotron-H config chunk_size)
CONV_KERNEL_DEFAULT = 4  # Mamba-2 d_conv


def pattern_counts(pattern: str) -> dict[str, int]:
    """Layers of each kind in a layer pattern; raises naming a character it does not know."""
    bad = sorted({c for c in pattern if c not in PATTERN_CHARS})
    if not pattern or bad:
        raise InputError(f"model.hybrid_pattern = '{pattern}': unknown character(s) "
                         f"{', '.join(repr(c) for c in bad) or '(empty)'}; allowed M (Mamba-2), "
                         "* (attention), - (MLP), E (MoE)")
    return {kind: pattern.count(c) for c, kind in PATTERN_CHARS.items()}


@dataclass(frozen=True)
class Mamba2:
    """Shape of one Mamba-2 mixer (see the module docstring for the names)."""

    hidden: int
    heads: int
    head_dim: int
    state: int
    groups: int = 1
    conv_kernel: int = CONV_KERNEL_DEFAULT
    chunk: int = CHUNK_DEFAULT

    def __post_init__(self) -> None:
        for f in ("hidden", "heads", "head_dim", "state", "groups", "conv_kernel", "chunk"):
            v = getattr(self, f)
            if not isinstance(v, int) or v <= 0:
                raise InputError(f"model.mamba_{f} = {v!r}: must be a positive integer")
        if self.heads % self.groups:
            raise InputError(f"model.mamba_groups = {self.groups}: must divide mamba_heads "
                             f"({self.heads})")

    @property
    def d_inner(self) -> int:
        return self.heads * self.head_dim

    @property
    def conv_dim(self) -> int:
        """Channels through the convolution: x, B and C."""
        return self.d_inner + 2 * self.groups * self.state

    @property
    def in_proj_out(self) -> int:
        """Output width of in_proj: z, x, B, C and dt."""
        return 2 * self.d_inner + 2 * self.groups * self.state + self.heads


def params(m: Mamba2) -> dict[str, int]:
    """Parameters of one Mamba-2 mixer by named part (the block's pre-norm not included)."""
    h, d, gn, H = m.hidden, m.d_inner, m.groups * m.state, m.heads
    return {
        "mamba_in_proj": h * (2 * d + 2 * gn + H),  # z, x, B, C, dt
        "mamba_conv1d": m.conv_dim * (m.conv_kernel + 1),  # depthwise taps + bias
        "mamba_a_d_dt_bias": 3 * H,
        "mamba_norm": d,
        "mamba_out_proj": d * h,
    }


def matmul_params(m: Mamba2) -> int:
    """Parameters of one mixer that take part in a matrix multiply per token."""
    p = params(m)
    return p["mamba_in_proj"] + p["mamba_out_proj"]


def scan_flop_per_token(m: Mamba2) -> float:
    """Forward FLOPs per token of one mixer beyond its projections: the SSD chunked scan and
    the convolution (module docstring; Dao & Gu 2024 §6)."""
    G, H, N, P, Q = m.groups, m.heads, m.state, m.head_dim, m.chunk
    macs = G * Q * N + H * (Q * P + 2 * N * P + N * P / Q)
    return 2.0 * macs + 2.0 * m.conv_dim * m.conv_kernel


def state_bytes_per_sequence(m: Mamba2, act_bytes: float = 2.0,
                             ssm_bytes: float = SSM_STATE_BYTES) -> float:
    """Inference state of one sequence in one mixer [bytes]: SSM state H·P·N at `ssm_bytes`
    plus convolution state (K − 1)·(d + 2·G·N) at `act_bytes`; constant in sequence length."""
    return (m.heads * m.head_dim * m.state * ssm_bytes
            + (m.conv_kernel - 1) * m.conv_dim * act_bytes)


def activation_bytes_per_token(m: Mamba2, act_bytes: float = 2.0
                               ) -> tuple[float, float, float]:
    """(replicated, split kept, split produced) bytes per token of one Mamba-2 block (pre-norm
    + mixer), counted as Korthikanti et al. 2022 count a transformer block's (16-bit):

    * replicated on the tp ranks without sequence parallelism: the block input (the norm's
      input, h) and the norm output (in_proj's input, h);
    * split by heads over tp and kept for the backward: the in_proj output z, x, B, C, dt
      (2d + 2·G·N + H), the scan output y (d) and the gated norm's output (out_proj's input,
      d);
    * produced besides, and not kept: the convolution output x, B, C (d + 2·G·N) and the SSD
      chunk states in fp32 (H·P·N·4 bytes per chunk of Q tokens). The fused training path
      (``mamba_split_conv1d_scan_combined`` of mamba_ssm, which Megatron-Core's
      ``MambaMixer`` uses by default) saves the in_proj output and recomputes them in the
      backward.

    The kept bytes are the block's activation memory; the produced bytes (kept + not kept)
    are the traffic its memory-bound kernels move, as a transformer block's are."""
    h, d, gn, H = m.hidden, m.d_inner, m.groups * m.state, m.heads
    rep = act_bytes * 2.0 * h
    kept = act_bytes * ((2 * d + 2 * gn + H) + d + d)
    produced = kept + act_bytes * (d + 2 * gn) + 4.0 * H * m.head_dim * m.state / m.chunk
    return float(rep), float(kept), float(produced)


def activation_bytes(rep_b, split_b, h, s, b, tp, sp, recompute, cp=1, act_bytes=2.0):
    """Activation bytes of one Mamba-2 block per micro-batch [bytes] (arrays allowed) from its
    per-token replicated and split bytes (:func:`activation_bytes_per_token`): ``recompute``
    0 none or 1 selective (Megatron's selective recompute covers the attention core only, so a
    Mamba block keeps everything), 2 full (the block input only, 2·s·b·h/t with sequence
    parallelism); context parallelism holds s/cp tokens per rank."""
    sb = np.asarray(s, dtype=float) / cp * b
    kept = np.where(sp, sb * (rep_b + split_b) / tp, sb * (rep_b + split_b / tp))
    full = np.where(sp, act_bytes * sb * h / tp, act_bytes * sb * h)
    return np.where(np.asarray(recompute) == 2, full, kept)


def check_tp(m: Mamba2, tp: int) -> None:
    """Megatron-Core splits a Mamba layer by heads and groups: both must be multiples of t."""
    if m.heads % tp or m.groups % tp:
        raise InputError(f"tp = {tp}: must divide mamba_heads ({m.heads}) and mamba_groups "
                         f"({m.groups}) (tensor parallelism splits a Mamba layer by heads)")
