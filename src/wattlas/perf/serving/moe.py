"""MoE serving at scale: expert parallelism over GPUs and nodes, data-parallel attention,
all-to-all dispatch/combine, two-batch overlap and multi-token prediction.

One *EP group* is ``ep`` GPUs that share a MoE model: the routed experts are split over them
(``E/ep`` experts per GPU plus any redundant copies), everything else (attention, dense layers,
shared experts, embeddings, LM head) is replicated on every GPU when attention runs data-parallel
(``dp_attention``: each GPU owns its own sequences and their KV cache), or tensor-parallel over
``attention_tp`` GPUs otherwise (weights and FLOPs split, the MLA latent cache replicated on
each of them, two all-reduces of the activations per layer). A step on one GPU carries
``tokens_per_gpu`` tokens (decode: sequences × (1 + draft tokens); prefill: the chunk)::

    t_step = Σ_op max(bytes_op / (B_hbm·eff_mem), flop_op / (F_peak·eff))    op ∈ {dense, attention,
                                                                                   experts}
             + L_moe · (t_dispatch + t_combine)          (no overlap)
    t_step = 2 · [t_dense+attn(T/2) + max(t_experts(T/2), L_moe·t_a2a(T/2))]   (two-batch overlap)
             + engine step overhead

Routed-expert work per GPU: the group's ``ep·T`` tokens each pick ``k`` of ``E`` experts, so a
GPU computes ``T·k·imbalance`` expert-token pairs and reads the distinct local experts they touch
(``E·(1 − (1 − k/E)^(ep·T)) / ep``, occupancy as in :mod:`wattlas.perf.serving.roofline`). Attention
core FLOPs follow the kernel actually used: prefill runs MLA as multi-head attention
(2·L·H·(d_qk + d_v) per token per context token); decode runs it absorbed into the latent
(2·L·H·(2·d_c + d_rope)), as FlashMLA does.

All-to-all (DeepEP, Zhao et al. 2025): each token is dispatched to its ``k`` experts in FP8
(1 B per element; ``DISPATCH_BYTES``) and combined back in BF16 (2 B; ``COMBINE_BYTES``). A
token's copies for one remote node cross the NIC once and are forwarded over NVLink inside it
(DeepEP's normal kernels), so per token the NIC carries ``h·bytes`` per distinct remote node,
``N·(1 − (1 − 1/N)^k)·(N − 1)/N`` of the group's ``N = ep/domain`` nodes, and NVLink the
copies for the local node's other GPUs. NVLink and NIC traffic run concurrently::

    t_a2a = max(bytes_nvlink / B_scaleup, bytes_nic / B_nic) + α_tier

Two-batch overlap (SGLang, DeepSeek's profile data) splits the step into two micro-batches so
one's dispatch/combine runs under the other's expert GEMMs; each micro-batch reads the weights
again, so it gains only where communication is comparable to compute.

Multi-token prediction / speculative decoding: ``draft_tokens`` = k drafted per step, accepted
at ``acceptance_frac`` α: tokens per sequence per step (1 − α^(k+1)) / (1 − α) (Leviathan et al.
2023); the verify step carries (k+1) tokens per sequence; a DeepSeek-style MTP module is one
extra layer, so the draft costs k·t_step/L.

References
----------
* DeepSeek-AI, "DeepSeek-V3 Technical Report", arXiv:2412.19437, §3.4 (prefill and decode
  deployment: EP32 and EP320, redundant experts, two-micro-batch overlap, MTP).
* C. Zhao et al., DeepEP (github.com/deepseek-ai/DeepEP): FP8 dispatch, BF16 combine, NVLink
  forwarding of RDMA traffic.
* The SGLang Team, "Deploying DeepSeek with PD Disaggregation and Large-scale Expert
  Parallelism on 96 H100 GPUs", lmsys.org blog, 2025-05-05 (DP attention, DeepEP, TBO).
* Y. Leviathan, M. Kalman, Y. Matias, ICML 2023, eq. 1 (expected tokens per step).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...errors import InputError
from ...workload import transformer as tf
from . import roofline as inf

#: bytes per element of the dispatched activations (FP8 with one fp32 scale per 128 values)
DISPATCH_BYTES = 1.0 + 4.0 / 128.0
#: bytes per element of the combined expert outputs (BF16)
COMBINE_BYTES = 2.0
#: share of the GPU's SMs that DeepEP's normal (prefill) kernels occupy while they run: 24 of
#: the 132 SMs of an H100 SXM (DeepEP README: V1 used 24 SMs in the V3 setting; H100 datasheet:
#: 132 SMs). Compute that overlaps them runs on the rest. The low-latency (decode) kernels
#: use no SMs (hook-based receive).
NORMAL_A2A_SM_FRAC = 24.0 / 132.0


@dataclass(frozen=True)
class MoEParallel:
    """How one EP group of ``ep`` GPUs serves a MoE model (see the module docstring).

    ``attention_tp`` is used only without ``dp_attention`` (default: the whole scale-up domain,
    at most ``ep``). ``redundant_experts`` are extra expert copies spread over the group (EPLB);
    ``imbalance`` is the busiest GPU's expert-token pairs over the mean (1 = balanced)."""

    ep: int
    dp_attention: bool = True
    attention_tp: int | None = None
    two_batch_overlap: bool = False
    draft_tokens: int = 0
    acceptance_frac: float = 0.0
    redundant_experts: int = 0
    imbalance: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.ep, int) or self.ep < 1:
            raise InputError(f"--ep {self.ep!r}: must be a positive integer")
        if self.draft_tokens < 0:
            raise InputError(f"draft tokens {self.draft_tokens}: must be ≥ 0")
        if not 0.0 <= self.acceptance_frac < 1.0:
            raise InputError(f"draft acceptance {self.acceptance_frac}: must be in [0, 1)")
        if self.imbalance < 1.0:
            raise InputError(f"expert imbalance {self.imbalance}: must be ≥ 1 (busiest GPU "
                             "over the mean)")
        if self.redundant_experts < 0:
            raise InputError(f"redundant experts {self.redundant_experts}: must be ≥ 0")


def check(cfg: inf.ServingConfig, par: MoEParallel) -> None:
    """Refuse a layout the model or the fabric cannot run (one-line errors naming the flag)."""
    s = cfg.model
    if not s.is_moe and par.ep > 1:
        raise InputError(f"--ep {par.ep}: {s.id} has no experts; expert parallelism needs a "
                         "MoE model")
    if s.is_moe and par.ep > s.moe_experts + par.redundant_experts:
        raise InputError(f"--ep {par.ep}: more GPUs than the {s.moe_experts} experts of {s.id}")
    if cfg.tp != 1:
        raise InputError(f"--tp {cfg.tp}: with --ep the attention layout is --dp-attention or "
                         "attention TP over the scale-up domain; leave --tp at 1")


def tokens_per_step(par: MoEParallel) -> float:
    """Tokens emitted per sequence per decode step: (1 − α^(k+1)) / (1 − α), 1 without drafts."""
    if par.draft_tokens == 0:
        return 1.0
    a, k = par.acceptance_frac, par.draft_tokens
    return (1.0 - a ** (k + 1)) / (1.0 - a)


def _attention_tp(cfg: inf.ServingConfig, par: MoEParallel) -> int:
    if par.dp_attention:
        return 1
    dom = cfg.accelerator.scaleup_domain or 1
    a = par.attention_tp or min(dom, par.ep)
    if cfg.model.heads % a:
        raise InputError(f"attention TP {a}: must divide the model's {cfg.model.heads} heads")
    return a


def _split_params(cfg: inf.ServingConfig) -> dict[str, float]:
    """Linear parameters of the whole model by placement: ``attention`` (attention blocks),
    ``dense`` (dense MLPs, shared experts, router, LM head: replicated or TP like attention),
    ``routed`` (all routed experts), ``other`` (embeddings and norms, 16-bit)."""
    parts = tf.param_parts(cfg.model)
    attn = sum(v for k, v in parts.items() if k.startswith("attn_"))
    routed = float(parts.get("experts_routed", 0))
    other = float(parts.get("embedding", 0) + parts.get("position", 0) + parts.get("norms", 0))
    dense = float(sum(parts.values())) - attn - routed - other
    if cfg.model.tied_embeddings:  # the LM head multiplies by the tied embedding
        dense += parts["embedding"]
    return {"attention": float(attn), "dense": dense, "routed": routed, "other": other}


def weights_per_gpu_bytes(cfg: inf.ServingConfig, par: MoEParallel) -> float:
    """Weight bytes held by one GPU of the group [bytes]: attention and dense parts (replicated
    under DP attention, / attention TP otherwise), (E + redundant)/ep routed experts."""
    p = _split_params(cfg)
    bpp = inf._bytes_per_param(cfg.precision)
    a = _attention_tp(cfg, par)
    s = cfg.model
    routed_per_gpu = 0.0
    if s.is_moe:
        per_expert = p["routed"] / s.moe_experts
        routed_per_gpu = per_expert * (s.moe_experts + par.redundant_experts) / par.ep
    return ((p["attention"] + p["dense"]) / a + routed_per_gpu) * bpp + p["other"] * inf.ACT_BYTES


def kv_bytes_per_token_per_gpu(cfg: inf.ServingConfig, par: MoEParallel) -> float:
    """KV-cache bytes per token of context of a sequence on the GPU(s) that own it [bytes]:
    DP attention holds the whole cache of its own sequences; attention TP shards KV heads and
    replicates an MLA latent on each rank."""
    full = tf.kv_cache_bytes_per_token(cfg.model, cfg.kv)
    a = _attention_tp(cfg, par)
    if a == 1 or cfg.model.is_mla:
        return full
    return full / min(a, cfg.model.n_kv_heads)


def max_sequences_per_gpu(cfg: inf.ServingConfig, par: MoEParallel,
                          context_tokens: float) -> int:
    """Sequences of `context_tokens` whose KV cache fits next to the weights on one GPU
    (attention TP: per TP group, divided by its width) [sequences]; 0 when the weights do not
    fit. Same budget as :func:`wattlas.perf.serving.roofline.kv_capacity_bytes`."""
    hbm = cfg.accelerator.require("hbm_bytes")
    free = (hbm - weights_per_gpu_bytes(cfg, par) - inf.activation_bytes(cfg)) \
        * cfg.eng.mem_usable_frac
    if free <= 0:
        return 0
    a = _attention_tp(cfg, par)
    # a hybrid's Mamba state, constant in the context, split by heads like attention
    per_seq = (kv_bytes_per_token_per_gpu(cfg, par) * max(float(context_tokens), 1.0)
               + tf.mamba_state_bytes_per_sequence(cfg.model) / a)
    return int(math.floor(free / per_seq / a))


def _attention_core_flop_per_token(cfg: inf.ServingConfig, context, decode: bool):
    s = cfg.model
    ctx = np.asarray(context, dtype=float)
    if s.is_mla and decode:
        dc, dr = s.mla_kv_lora_rank, s.mla_qk_rope_head_dim or 0
        return 2.0 * s.layers * s.heads * (2 * dc + dr) * ctx
    return tf.attention_flop_per_token(s, 1.0) * ctx


def a2a_time_s(cfg: inf.ServingConfig, par: MoEParallel, tokens_per_gpu,
               low_latency: bool = False):
    """Dispatch + combine time of one MoE layer on one GPU [s] for `tokens_per_gpu` tokens
    (numpy-broadcastable): NVLink and NIC volumes run concurrently, the slower sets the time.
    ``low_latency`` (DeepEP's decode kernels): every copy for another GPU goes over RDMA, one
    per expert, with no node deduplication and no NVLink forwarding."""
    s = cfg.model
    if not s.is_moe or par.ep == 1:
        return np.zeros_like(np.asarray(tokens_per_gpu, dtype=float))
    fab = cfg.fab
    t = np.asarray(tokens_per_gpu, dtype=float)
    k, h = s.moe_top_k, s.hidden
    dom = max(int(fab.scaleup_domain), 1)
    local = min(par.ep, dom)  # GPUs of the group in this node
    nodes = par.ep / local
    per_elem = DISPATCH_BYTES + COMBINE_BYTES
    if low_latency:
        rdma = t * k * (par.ep - 1) / par.ep * h * per_elem
        return rdma / fab.scaleout_bytes_per_s + 2.0 * fab.scaleout_latency_s
    # copies staying in the node but leaving the GPU, over NVLink
    nv = t * k * (local - 1) / par.ep * h * per_elem
    rdma = np.zeros_like(t)
    if nodes > 1:
        remote_nodes = nodes * (1.0 - (1.0 - 1.0 / nodes) ** k) * (nodes - 1.0) / nodes
        rdma = t * remote_nodes * h * per_elem
        nv = nv + t * k * (par.ep - local) / par.ep * h * per_elem  # forwarded on arrival
    t_nv = nv / fab.scaleup_bytes_per_s
    t_ib = rdma / fab.scaleout_bytes_per_s
    alpha = 2.0 * (fab.scaleout_latency_s if nodes > 1 else fab.scaleup_latency_s)
    return np.maximum(t_nv, t_ib) + alpha


def _attention_peak(cfg: inf.ServingConfig) -> float:
    """Attention math runs at the KV cache's precision (FP8 kernels read an fp8 cache; a 16-bit
    cache runs FlashAttention/FlashMLA in bf16), never at an FP4 weight format [FLOP/s]."""
    low = cfg.kv in ("fp8", "fp4") and cfg.accelerator.supports("fp8")
    p = "fp8" if low else ("fp16" if cfg.kv == "fp16" else "bf16")
    eff = cfg.eng.fp8_compute_eff_frac if low else cfg.eng.eff_compute_frac
    return cfg.accelerator.peak_flop_per_s(p) * eff


def _roofline(cfg, flop, weight_bytes, other_bytes, peak):
    low = inf.math_precision(cfg.precision, cfg.accelerator) in ("fp8", "fp4")
    bw = cfg.accelerator.require("hbm_bytes_per_s")
    eff_w = (cfg.eng.fp8_mem_eff_frac or cfg.eng.eff_mem_frac) if low else cfg.eng.eff_mem_frac
    mem = weight_bytes / (bw * eff_w) + other_bytes / (bw * cfg.eng.eff_mem_frac)
    comp = flop / peak
    return mem, comp


def _compute_parts(cfg: inf.ServingConfig, par: MoEParallel, tokens, context, kv_read_tokens,
                   decode: bool) -> dict[str, np.ndarray]:
    """Per-GPU roofline of the three operator classes for `tokens` tokens on this GPU."""
    s = cfg.model
    t = np.asarray(tokens, dtype=float)
    a = _attention_tp(cfg, par)
    p = _split_params(cfg)
    bpp = inf._bytes_per_param(cfg.precision)
    peak = inf._peak(cfg)
    # attention projections + dense MLPs/shared experts/LM head: the GPU's tokens (× a for the
    # TP group's tokens, / a for the split weights: the same FLOPs per GPU)
    dense_flop = 2.0 * (p["attention"] + p["dense"]) * t
    dense_w = (p["attention"] + p["dense"]) / a * bpp
    act = t * s.hidden * inf.ACT_BYTES * s.layers * 4.0
    d_mem, d_comp = _roofline(cfg, dense_flop, dense_w, act, peak)
    kv_tok = kv_bytes_per_token_per_gpu(cfg, par)
    kv_b = a * (np.asarray(kv_read_tokens, dtype=float) + t) * kv_tok
    att_flop = _attention_core_flop_per_token(cfg, context, decode) * t
    a_mem, a_comp = _roofline(cfg, att_flop, 0.0, kv_b, _attention_peak(cfg))
    e_mem = e_comp = np.zeros_like(t)
    if s.is_moe:
        per_expert = p["routed"] / s.moe_experts
        pairs = t * s.moe_top_k * par.imbalance
        local_e = (s.moe_experts + par.redundant_experts) / par.ep
        touched = local_e * inf.expected_experts(s.moe_experts, s.moe_top_k,
                                                 t * par.ep) / s.moe_experts
        e_flop = 2.0 * per_expert * pairs  # per_expert counts one expert in every MoE layer
        e_w = touched * per_expert * bpp
        e_mem, e_comp = _roofline(cfg, e_flop, e_w, pairs * s.hidden * inf.ACT_BYTES * 2.0,
                                  peak)
    comm = np.zeros_like(t)
    if a > 1:
        comm = 2.0 * s.layers * inf.tp_all_reduce_s(cfg, t * a * s.hidden * inf.ACT_BYTES, a)
    return {"dense_s": np.maximum(d_mem, d_comp), "attention_s": np.maximum(a_mem, a_comp),
            "experts_s": np.maximum(e_mem, e_comp), "tp_comm_s": comm,
            "memory_s": d_mem + a_mem + e_mem, "compute_s": d_comp + a_comp + e_comp,
            "flop": dense_flop + att_flop + (e_flop if s.is_moe else 0.0)}


def step_parts(cfg: inf.ServingConfig, par: MoEParallel, tokens_per_gpu, context_tokens,
               kv_read_tokens_per_gpu, decode: bool) -> dict[str, np.ndarray]:
    """Named times [s] of one step on one GPU of the group carrying `tokens_per_gpu` tokens
    at mean attention span `context_tokens`, reading `kv_read_tokens_per_gpu` cached tokens
    (numpy-broadcastable). ``decode`` selects the absorbed MLA attention kernel."""
    check(cfg, par)
    s = cfg.model
    t = np.asarray(tokens_per_gpu, dtype=float)
    kv = np.asarray(kv_read_tokens_per_gpu, dtype=float)
    n_moe = s.moe_layers if s.is_moe else 0
    ovh = cfg.eng.step_overhead_s
    if par.two_batch_overlap:
        half = _compute_parts(cfg, par, t / 2.0, context_tokens, kv / 2.0, decode)
        a2a = n_moe * a2a_time_s(cfg, par, t / 2.0, low_latency=decode)
        # the other micro-batch's expert GEMMs run under this one's dispatch/combine, on the
        # SMs the communication kernels leave free
        slow = 1.0 if decode or n_moe == 0 else 1.0 / (1.0 - NORMAL_A2A_SM_FRAC)
        body = (half["dense_s"] + half["attention_s"] + half["tp_comm_s"]
                + np.maximum(half["experts_s"] * slow, a2a))
        time = 2.0 * body + ovh
        comp = {k: 2.0 * v for k, v in half.items()}
        a2a_total = 2.0 * a2a
    else:
        comp = _compute_parts(cfg, par, t, context_tokens, kv, decode)
        a2a_total = n_moe * a2a_time_s(cfg, par, t, low_latency=decode)
        time = (comp["dense_s"] + comp["attention_s"] + comp["experts_s"] + comp["tp_comm_s"]
                + a2a_total + ovh)
    out = dict(comp)
    out.update({"a2a_s": a2a_total, "overhead_s": np.broadcast_to(ovh, np.shape(time)),
                "time_s": time})
    return out


def decode_step_s(cfg: inf.ServingConfig, par: MoEParallel, sequences_per_gpu,
                  context_tokens) -> np.ndarray:
    """One decode step [s] with `sequences_per_gpu` sequences per GPU at KV length
    `context_tokens`: the verify step of (1 + draft) tokens per sequence plus the drafts
    (k MTP passes of one layer each)."""
    b = np.asarray(sequences_per_gpu, dtype=float)
    q = 1 + par.draft_tokens
    step = step_parts(cfg, par, b * q, context_tokens, b * np.asarray(context_tokens, float),
                      True)["time_s"]
    if par.draft_tokens:
        one = step_parts(cfg, par, b, context_tokens, b * np.asarray(context_tokens, float),
                         True)["time_s"]
        step = step + par.draft_tokens * one / cfg.model.layers
    return step


def decode_output_tokens_per_s_per_gpu(cfg: inf.ServingConfig, par: MoEParallel,
                                       sequences_per_gpu, context_tokens):
    """Output tokens/s of one decode GPU [tokens/s]: b · tokens per step / t_step."""
    b = np.asarray(sequences_per_gpu, dtype=float)
    return b * tokens_per_step(par) / decode_step_s(cfg, par, b, context_tokens)


def prefill_step_s(cfg: inf.ServingConfig, par: MoEParallel, tokens_per_gpu,
                   prompt_tokens) -> np.ndarray:
    """One prefill step [s] of `tokens_per_gpu` prompt tokens per GPU from prompts of
    `prompt_tokens` (causal: mean span P/2, no cache read)."""
    p = np.asarray(prompt_tokens, dtype=float)
    return step_parts(cfg, par, tokens_per_gpu, p / 2.0, 0.0, False)["time_s"]


def prefill_input_tokens_per_s_per_gpu(cfg: inf.ServingConfig, par: MoEParallel,
                                       tokens_per_gpu, prompt_tokens):
    """Prompt tokens/s of one prefill GPU [tokens/s]."""
    t = np.asarray(tokens_per_gpu, dtype=float)
    return t / prefill_step_s(cfg, par, t, prompt_tokens)
