"""Memory per device of a training layout, by named part, on numpy arrays of layouts.

* Weights, gradients, optimizer states: mixed-precision Adam keeps ``w`` bytes of weights (2 for
  bf16/fp16), ``g`` bytes of gradients (4: Megatron accumulates fp32 "main grads"; 2 when reduced
  in bf16) and 12 bytes of fp32 master weights, momentum and variance per parameter (Rajbhandari
  et al. 2020, ZeRO §3). ZeRO stage 1 shards the optimizer states, 2 also the gradients, 3 also
  the weights, over the data-parallel (× context-parallel) ranks.
* Activations per layer (Korthikanti et al. 2022, Table 2; bytes, 16-bit activations):
  ``s·b·h·(34 + 5·a·s/h)`` without parallelism; ``/t`` with tensor + sequence parallelism;
  ``s·b·h·(10 + 24/t + 5·a·s/(h·t))`` with tensor parallelism only; ``34·s·b·h/t`` with selective
  recompute; ``2·s·b·h/t`` with full recompute (the layer input only) plus one layer's working
  set; FlashAttention (Dao et al. 2022) never stores the ``5·a·s²·b`` score terms. The 34 is the
  sum of named parts (attention 11, MLP 19, norms 4 for an MHA, 4h-GELU block); this module
  writes them for GQA and SwiGLU the same way.
* A 1F1B pipeline keeps up to ``p`` micro-batches in flight on its first stage (``L/p`` layers
  each, so ``L`` layers' worth); interleaving with ``v`` virtual stages multiplies this by
  ``1 + (p−1)/(p·v)`` (Korthikanti et al. 2022 §4.2.3).

References
----------
* V. Korthikanti et al., "Reducing Activation Recomputation in Large Transformer Models",
  arXiv:2205.05198, 2022 (Table 2, §4.2.3, Fig. 1).
* S. Rajbhandari et al., "ZeRO: Memory Optimizations Toward Training Trillion Parameter Models",
  SC'20, arXiv:1910.02054.
* T. Dao et al., "FlashAttention", NeurIPS 2022, arXiv:2205.14135.
"""

from __future__ import annotations

import numpy as np

from ...units import GIB

RECOMPUTE = ("none", "selective", "full", "op")
WEIGHT_BYTES = 2.0  # bf16/fp16 weights (FP8/FP4 training keeps 16-bit weights, casting per GEMM)
GRAD_BYTES = 4.0  # fp32 main gradients (Megatron-LM default)
OPTIMIZER_BYTES = 12.0  # fp32 master weights + Adam m + v
ACT_BYTES = 2.0  # 16-bit activations
#: bytes of the saved GEMM-input copies under FP8 training (Transformer Engine keeps the FP8
#: cast of each linear layer's input for the weight gradient: NVIDIA Transformer Engine docs,
#: "Using FP8 with Transformer Engine"; Micikevicius et al. 2022, arXiv:2209.05433)
FP8_GEMM_INPUT_BYTES = 1.0
LOGIT_BYTES = 4.0  # fp32 logits for the loss on the last stage
FRAMEWORK_OVERHEAD_BYTES = 2.0 * GIB  # CUDA context, NCCL buffers, allocator slack (order of)


def layer_activation_bytes(s, b, h, a, kvd, ffn, ffn_matrices, tp, sp, recompute, flash,
                           cp=1, gemm_input_bytes=2.0, modules=False, mla_latent=0.0,
                           attn_frac=1.0, mlp_frac=1.0):
    """Activation bytes kept per transformer layer per micro-batch [bytes] (arrays allowed).

    ``s`` sequence length, ``b`` micro-batch, ``h`` hidden, ``a`` heads, ``kvd`` = kv_heads ·
    d_head, ``ffn`` inner size (MoE: tokens' routed expert width), ``recompute`` 0 none,
    1 selective, 2 full, 3 op-level (torchtitan); ``sp`` sequence parallel, ``flash``
    FlashAttention, ``cp`` context parallel (each rank holds s/cp tokens).
    ``gemm_input_bytes`` is the size of the copies of
    the four GEMM inputs kept for the backward (QKV input h, projection input h, fc1 input h,
    fc2 input ffn per token): 2 in 16-bit training; 1 when the GEMMs run in FP8, since
    Transformer Engine saves the FP8 cast of a GEMM's input for its weight gradient instead of
    the 16-bit tensor (:data:`FP8_GEMM_INPUT_BYTES`). ``modules``: selective recompute also
    recomputes the norms, the activation function and, for MLA (``mla_latent`` = q and kv
    latent plus rotary width per token, > 0), the up-projections (DeepSeek-V3 report §3.2.3;
    Megatron-Core ``recompute_modules``), so the QKV and fc1 inputs, the fc2 input and the
    per-head q, k, v are not kept (the latents are, in 16 bits).

    ``attn_frac``, ``mlp_frac``: a hybrid model's average layer (:mod:`wattlas.workload.mamba`)
    has an attention sublayer in ``attn_frac`` of its layers and an MLP in ``mlp_frac``, each
    with its own norm and residual: the attention and MLP terms scale by them, the norm and
    replicated terms by their mean (a transformer block: 1 and 1). Full recompute keeps each
    layer's input as before; the Mamba layers' bytes are added by the caller."""
    wa, wm = attn_frac, mlp_frac
    wn = (np.asarray(wa, dtype=float) + wm) / 2.0
    s_loc = s / cp
    sb = s_loc * b
    # QKV input 2h, Q 2h, K,V 4·kvd, proj input 2h, mask h
    attn = sb * (wa * (7.0 * h + 4.0 * kvd))
    mlp = sb * (wm * (3.0 * h + np.where(ffn_matrices == 2, 4.0, 6.0) * ffn))
    norms = wn * 4.0 * sb * h
    scores = np.where(flash, 0.0, wa * 5.0 * a * s_loc * s * b)
    # norms' inputs, block inputs, dropout masks (Korthikanti §4.2.2)
    replicated = wn * 10.0 * sb * h
    split = attn + mlp + norms - replicated
    none_sp = (attn + mlp + norms + scores) / tp
    none_tp = replicated + (split + scores) / tp
    none = np.where(sp, none_sp, none_tp)
    # GEMM inputs kept at gemm_input_bytes instead of 2: without sequence parallelism the QKV
    # and fc1 inputs are replicated on every tp rank, the projection and fc2 inputs split
    cut = 1.0 - np.asarray(gemm_input_bytes, dtype=float) / ACT_BYTES
    save_rep = cut * sb * (2.0 * h * (wa + wm))
    save_split = cut * sb * (2.0 * (wa * h + wm * ffn))
    stored_sp = (attn + mlp + norms - save_rep - save_split) / tp
    stored_tp = replicated - save_rep + (split - save_split) / tp
    stored_none = np.where(sp, stored_sp + scores / tp, stored_tp + scores / tp)
    selective = np.where(sp, stored_sp, stored_tp)
    if np.any(modules):
        gib = np.asarray(gemm_input_bytes, dtype=float)
        mla = np.asarray(mla_latent, dtype=float)
        mla_cut = np.where(mla > 0, np.maximum(2.0 * h + 4.0 * kvd - 2.0 * mla, 0.0), 0.0)
        rep = sb * gib * (h * (wa + wm))  # norm outputs = QKV, fc1 inputs (replicated w/o SP)
        spl = sb * (wm * gib * ffn + wa * mla_cut)
        selective_mod = np.where(sp, stored_sp - (rep + spl) / tp, stored_tp - rep - spl / tp)
        selective = np.where(modules, selective_mod, selective)
    full = np.where(sp, 2.0 * sb * h / tp, 2.0 * sb * h)
    # op-level selective checkpointing (torchtitan "op" SAC, code 3): the layer input (2h) and
    # the outputs of the saved compute ops, the Q and V projections (2h, 2·kvd), the attention
    # output (2h), the first MLP matmul (2·ffn) and the last (2h); the K projection, the output
    # projection, the third MLP matmul and every elementwise op are recomputed. Without sequence
    # parallelism the layer input and the last matmul's output are replicated on the tp ranks.
    op_split = sb * (4.0 * h + 2.0 * kvd + 2.0 * ffn)
    op = np.where(sp, (op_split + 4.0 * sb * h) / tp, 4.0 * sb * h + op_split / tp)
    rc = np.asarray(recompute)
    return (np.where(rc == 0, stored_none, np.where(rc == 1, selective,
                                                     np.where(rc == 3, op, full))), none)


def pipeline_inflight(pp, vpp, m):
    """Micro-batches' worth of layer activations on the first stage, in units of L/p layers:
    min(p, m) for 1F1B, times 1 + (p−1)/(p·v) when interleaved (Korthikanti §4.2.3)."""
    inflight = np.minimum(pp, m).astype(float)
    return inflight * np.where(vpp > 1, 1.0 + (pp - 1.0) / (pp * vpp), 1.0)


def state_bytes(params, zero, shard, trainable=None, offload=False,
                weight_bytes=WEIGHT_BYTES, grad_bytes=GRAD_BYTES):
    """(weights, grads, optimizer) bytes for `params` parameters held by one device, with ZeRO
    `zero` sharding over `shard` ranks; `trainable` parameters (LoRA adapters) carry gradients
    and optimizer states (default: all); `offload` moves optimizer states to the host."""
    trainable = params if trainable is None else trainable
    w = params * weight_bytes / np.where(zero >= 3, shard, 1)
    g = trainable * grad_bytes / np.where(zero >= 2, shard, 1)
    o = trainable * OPTIMIZER_BYTES / np.where(zero >= 1, shard, 1)
    o = np.where(offload, 0.0, o)
    return w, g, o
