"""Inference on one replica: prefill and decode roofline, KV cache, batching, step power.

This module is the step model. Plans (operating modes, TTFT with queueing, energy boundaries)
live in :mod:`wattlas.perf.serving.plan`, the configuration search in
:mod:`wattlas.perf.serving.search`, compression in :mod:`wattlas.perf.serving.compression` and
a scenario's serving section in :mod:`wattlas.perf.serving.scenario`; each imports this module,
never the other way round (``plan_serving`` is ``wattlas.perf.serving.plan.plan_serving``).

One replica is ``tp`` accelerators in one scale-up domain running tensor parallelism. Every step
is a roofline with calibrated efficiencies (Williams, Waterman & Patterson 2009; the LLM
inference form of Pope et al. 2022 and Yuan et al. 2024)::

    t_step = Σ_op max(bytes_op / (B_hbm · eff_mem), flop_op / (F_peak · eff_compute))
             + 2·L all-reduces of b·h activations (α–β on the scale-up tier)
             + engine step overhead,      op ∈ {linears, attention}

The linears (weights, activations) and attention (KV cache) are separate kernels that run one
after the other, so each gets its own roofline and their times add: at a large decode batch the
linears are compute-bound while attention streams the KV cache, and a single roofline over the
step's summed bytes and FLOPs would let the KV reads hide under the GEMMs' compute (it
overpredicted long-context max throughput by up to 2×, docs/inference.md).

Decode reads every active weight once per step plus the batch's KV cache ("every parameter is
read from HBM for every token"), so it is memory-bound until the batch is large; prefill is
compute-bound. The batch is capped by the KV cache that fits next to the weights::

    max_batch = (HBM · usable_frac − weights/t − activations) / (kv_bytes_per_token/t · context)

where weights and kv_bytes_per_token are the resident ones (:func:`resident_weights_bytes`,
:func:`resident_kv_bytes_per_token`): with speculative decoding the replica also holds the
draft's weights and the draft's KV cache of every sequence.

Precision and compression are explicit transforms of bytes and FLOPs (:func:`weights_bytes`,
:func:`decode_parts`): BF16, FP8 (weights and/or KV cache), FP4 (accelerators with an FP4 peak
only), INT4 weight-only (0.5 B + one fp16 scale per 128-weight group, bf16 math), 2:4 structured
sparsity (half the bytes and FLOPs of the linears at ``sparse_kernel_eff_frac`` of the ideal
2×), MoE (distinct experts touched by the batch), speculative decoding (Leviathan et al.).
Structured pruning and distillation change the served :class:`ModelSpec` itself
(:mod:`wattlas.workload.compression`), so they go through the same accounting.

Engines (the ``engines`` catalog, ``data/engines.csv``) are dated efficiency profiles: the same
hardware moves a lot with software, so the engine id is an explicit input. Power goes through
:func:`wattlas.energy.device_power_w` with an activity derived from the step's compute and
memory utilisation (:func:`activity_frac`).

References
----------
* S. Williams, A. Waterman, D. Patterson, "Roofline", CACM 52(4), 2009.
  doi:10.1145/1498765.1498785
* R. Pope et al., "Efficiently Scaling Transformer Inference", MLSys 2023 (arXiv:2211.05102).
* Z. Yuan et al., "LLM Inference Unveiled: Survey and Roofline Model Insights", arXiv:2402.16363.
* W. Kwon et al., "Efficient Memory Management for LLM Serving with PagedAttention", SOSP 2023
  (KV-cache capacity as the batch limit; continuous batching).
* Y. Leviathan, M. Kalman, Y. Matias, "Fast Inference from Transformers via Speculative
  Decoding", ICML 2023, eq. 1: expected tokens per target step (1 − α^(k+1)) / (1 − α).
* A. Agrawal et al., "Taming Throughput-Latency Tradeoff in LLM Inference with
  Sarathi-Serve", OSDI 2024 (prefill-decode interference under continuous batching).
* A. Mishra et al., "Accelerating Sparse Deep Neural Networks", arXiv:2104.08378 (2:4 sparsity).
* E. Frantar et al., "MARLIN: Mixed-Precision Auto-Regressive Parallel Inference",
  arXiv:2408.11743 (INT4 weight-only, group size 128).
* W. Feller, "An Introduction to Probability Theory and Its Applications", vol. 1, ch. II
  (occupancy: expected distinct bins hit by b draws of k out of E is E·(1 − (1 − k/E)^b)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from scipy.special import gammaln

from ...errors import InputError
from ...hardware import Accelerator, Fabric, System
from ...workload import transformer as tf
from ...workload.transformer import ModelSpec
from .. import comm

DEFAULT_ENGINE = "trtllm-2025"
PRECISIONS = ("bf16", "fp16", "fp8", "fp4", "nvfp4", "mxfp4", "int4")
KV_PRECISIONS = ("bf16", "fp16", "fp8", "fp4")
# math precision used for each weight format (INT4 is weight-only: dequantised to bf16)
COMPUTE_PRECISION = {"bf16": "bf16", "fp16": "fp16", "fp8": "fp8", "fp4": "fp4", "nvfp4": "fp4",
                     "mxfp4": "fp4", "int4": "bf16"}
#: weight formats that run weight-only (dequantised in the GEMM, 16-bit math) on an accelerator
#: without their tensor-core math: MXFP4 on Hopper and Ampere, as gpt-oss's MXFP4 kernels do
WEIGHT_ONLY_FALLBACK = {"mxfp4": "bf16"}
# scale overhead of each weight format as a fraction of its payload bytes (``fp4`` is NVFP4;
# MXFP4, the OCP microscaling format, has one E8M0 scale per 32 values = 1 B / 16 B = 0.0625):
# FP8 one fp32 scale per tensor (≈0); NVFP4 one fp8 scale per 16 values = 1 B / 8 B = 0.125;
# INT4 (GPTQ/Marlin, group 128) one fp16 scale per 128 values = 2 B / 64 B = 0.03125.
SCALE_OVERHEAD_FRAC = {"bf16": 0.0, "fp16": 0.0, "fp8": 0.0, "fp4": 0.125, "nvfp4": 0.125,
                       "mxfp4": 0.0625, "int4": 0.03125}
ACT_BYTES = 2.0  # activations and all-reduce payloads stay 16-bit in every engine modelled
CHUNK_TOKENS = 8192  # engine token budget per step (TRT-LLM max_num_tokens default) [tokens]
# Power (see :func:`activity_frac`): a step's activity a = A_busy + (1 − A_busy)·max(u_c,
# w_m·u_m) with u_c, u_m the compute and memory shares of the step time. w_m is the draw of a
# fully memory-bound step relative to a tensor-core-bound one (decode keeps HBM busy but the
# tensor cores mostly idle; ML.ENERGY, Chung et al. 2025, measures H100 decode well below TDP);
# A_busy is the floor of a GPU that runs kernels at boost clock. Both are fitted on the two
# ML.ENERGY J/token anchors only (validation.inference.fit_power); EcoLogits rows are held out.
MEM_ACTIVITY_WEIGHT = 0.86
BUSY_FLOOR_FRAC = 0.12


# engines ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Engine:
    """A dated efficiency profile of a serving engine (one row of ``data/engines.csv``)."""

    id: str
    eff_mem_frac: float
    eff_compute_frac: float
    fp8_compute_eff_frac: float
    step_overhead_s: float
    fp8_mem_eff_frac: float | None = None
    mem_usable_frac: float = 0.9
    max_batch: int = 2048
    sparse_kernel_eff_frac: float = 0.7
    #: achieved / dense FP4 peak; None: fp8_compute_eff_frac (calibrated where FP4 data exist)
    fp4_compute_eff_frac: float | None = None
    name: str | None = None
    version: str | None = None
    date: str | None = None
    source: str | None = None
    source_detail: str | None = None
    as_of: str | None = None
    note: str | None = None


def engine_ids() -> list[str]:
    """Ids of the engines catalog (``wattlas catalog engines``; user rows included)."""
    from ... import catalog

    return catalog.ids("engines")


_ENGINE_FIELDS = frozenset(f.name for f in fields(Engine))
#: engine id → (the catalog row it was built from, the Engine): a step asks for its engine
#: many times; the row's identity changes when a user catalog overrides it
_ENGINES: dict[str, tuple[dict[str, Any], Engine]] = {}


def engine(key: str | Engine) -> Engine:
    """The engine profile `key` (an id of the engines catalog, data/engines.csv) or `key`."""
    if isinstance(key, Engine):
        return key
    from ... import catalog

    row = catalog.get("engines", key)
    hit = _ENGINES.get(key)
    if hit is not None and hit[0] is row:
        return hit[1]
    eng = Engine(**{k: v for k, v in row.items() if k in _ENGINE_FIELDS and v is not None})
    _ENGINES[key] = (row, eng)
    return eng


# configuration ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ServingConfig:
    """One serving replica: model, accelerator, TP width, formats and engine.

    ``kv_precision`` None means fp8 when the weights are fp8/fp4 (as TRT-LLM and MLPerf
    submissions run), fp16 with fp16 weights and bf16 otherwise. ``draft`` enables speculative
    decoding with ``spec_tokens`` draft tokens at acceptance rate ``spec_acceptance_frac``.
    ``system`` (a catalog system) sets the host power of the node boundary; None: the
    accelerator's first catalog system, else energy's default host power. ``power_cap_w``
    limits each GPU's power [W] (``serving.power_cap_w``): a step that would draw more runs
    at a lower clock (:func:`cap_slowdown`).
    """

    model: ModelSpec
    accelerator: Accelerator
    tp: int = 1
    precision: str = "bf16"
    kv_precision: str | None = None
    engine: str | Engine = DEFAULT_ENGINE
    fabric: Fabric | None = None
    sparsity_2_4: bool = False
    draft: ModelSpec | None = None
    spec_tokens: int = 4
    spec_acceptance_frac: float = 0.7
    system: System | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)
    power_cap_w: float | None = None

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise InputError(f"--precision '{self.precision}': allowed {', '.join(PRECISIONS)}")
        if self.kv_precision is not None and self.kv_precision not in KV_PRECISIONS:
            raise InputError(f"--kv-precision '{self.kv_precision}': allowed "
                             f"{', '.join(KV_PRECISIONS)}")
        if not isinstance(self.tp, int) or self.tp < 1:
            raise InputError(f"--tp {self.tp!r}: must be a positive integer")
        if self.model.heads % self.tp:
            raise InputError(f"--tp {self.tp}: must divide the model's {self.model.heads} "
                             "attention heads")
        if self.model.mamba is not None and (self.model.mamba.heads % self.tp
                                             or self.model.mamba.groups % self.tp):
            raise InputError(f"--tp {self.tp}: must divide the model's {self.model.mamba.heads} "
                             f"Mamba heads and {self.model.mamba.groups} groups")
        dom = self.accelerator.scaleup_domain or 1
        if self.tp > 1 and self.tp > dom:
            raise InputError(f"--tp {self.tp}: exceeds the scale-up domain of "
                             f"{self.accelerator.id} ({dom}); tensor parallelism stays in it")
        for p in {math_precision(self.precision, self.accelerator), self.kv}:
            if p in ("fp8", "fp4") and not self.accelerator.supports(p):
                flag = (f"--precision {self.precision}: " if p != self.precision
                        and p != self.kv else "")
                alt = "bf16, int4 or mxfp4 (weight-only)" if p == "fp4" else "bf16 or int4"
                raise InputError(f"{flag}precision {p} needs {p} tensor cores; "
                                 f"{self.accelerator.id} has none (use {alt})")
            if not self.accelerator.supports(p):
                try:
                    self.accelerator.peak_flop_per_s(p)
                except InputError as err:
                    why = (f"--precision {self.precision} runs {p} math; "
                           if p != self.precision else "")
                    raise InputError(f"{why}{err}") from None
        if not 0.0 <= self.spec_acceptance_frac < 1.0:
            raise InputError(f"speculative acceptance {self.spec_acceptance_frac}: must be in "
                             "[0, 1)")
        if self.spec_tokens < 1:
            raise InputError(f"speculative draft tokens {self.spec_tokens}: must be ≥ 1")
        engine(self.engine)
        if self.power_cap_w is not None:
            from ...energy import idle_power_w

            idle, _ = idle_power_w(self.accelerator)
            if not (math.isfinite(self.power_cap_w) and self.power_cap_w > idle):
                raise InputError(f"serving.power_cap_w = {self.power_cap_w:g} W: must be above "
                                 f"the idle power {idle:g} W of {self.accelerator.id} (per GPU)")

    @property
    def kv(self) -> str:
        if self.kv_precision:
            return self.kv_precision
        if self.precision in ("fp8", "fp4", "nvfp4", "mxfp4") and self.accelerator.supports("fp8"):
            return "fp8"
        return "fp16" if self.precision == "fp16" else "bf16"

    @property
    def eng(self) -> Engine:
        return engine(self.engine)

    @property
    def fab(self) -> Fabric:
        if self.fabric is not None:
            return self.fabric
        acc = self.accelerator
        up = acc.scaleup_bytes_per_s or acc.host_link_bytes_per_s or 32e9
        return Fabric(scaleup_domain=acc.scaleup_domain or 1, scaleup_bytes_per_s=float(up),
                      scaleout_bytes_per_s=float(acc.scaleout_bytes_per_s or up))


def _with(cfg: ServingConfig, **changes: Any) -> ServingConfig:
    from dataclasses import replace

    return replace(cfg, **changes)


def draft_config(cfg: ServingConfig) -> ServingConfig | None:
    """The speculative draft served on the same replica: the same accelerator, TP, weight and
    KV formats and engine, dense (no 2:4 sparsity); None without a draft."""
    if cfg.draft is None:
        return None
    return _with(cfg, model=cfg.draft, draft=None, sparsity_2_4=False)


# bytes ------------------------------------------------------------------------------------------

def _linear_params(spec: ModelSpec) -> tuple[float, float]:
    """(all linear parameters, routed-expert parameters) of the model."""
    parts = tf.param_parts(spec)
    lin = sum(v for k, v in parts.items() if k not in ("embedding", "position", "norms"))
    return float(lin), float(parts.get("experts_routed", 0))


def _bytes_per_param(precision: str) -> float:
    return tf.bytes_per_element(precision) * (1.0 + SCALE_OVERHEAD_FRAC[precision])


def weights_bytes(cfg: ServingConfig) -> float:
    """Stored weight bytes of the whole replica [bytes]: linears (experts, LM head) at the
    weight format with its scale overhead (halved by 2:4 sparsity), embeddings and norms at
    16-bit."""
    lin, _ = _linear_params(cfg.model)
    other = tf.params_total(cfg.model) - lin
    sparse = 0.5 if cfg.sparsity_2_4 else 1.0
    return lin * sparse * _bytes_per_param(cfg.precision) + other * ACT_BYTES


def kv_bytes_per_token(cfg: ServingConfig) -> float:
    """KV-cache bytes per token of context held by the whole replica [bytes]. TP shards the
    cache by KV head; with fewer KV heads than t (MQA/GQA at wide TP) heads are replicated,
    and an MLA latent is replicated on every rank: × t / min(t, n_kv) (× t for MLA)."""
    shards = 1 if cfg.model.is_mla else min(cfg.tp, cfg.model.n_kv_heads)
    return tf.kv_cache_bytes_per_token(cfg.model, cfg.kv) * cfg.tp / shards


def resident_weights_bytes(cfg: ServingConfig) -> float:
    """Weight bytes held by the whole replica [bytes]: the target's :func:`weights_bytes` plus
    the speculative draft's (:func:`draft_config`), which stays resident next to it."""
    d = draft_config(cfg)
    return weights_bytes(cfg) + (weights_bytes(d) if d is not None else 0.0)


def resident_kv_bytes_per_token(cfg: ServingConfig) -> float:
    """KV-cache bytes per token of context held by the whole replica [bytes]: the target's
    :func:`kv_bytes_per_token` plus the draft's, which caches every sequence of the batch at
    the same context."""
    d = draft_config(cfg)
    return kv_bytes_per_token(cfg) + (kv_bytes_per_token(d) if d is not None else 0.0)


def state_bytes_per_sequence(cfg: ServingConfig) -> float:
    """Mamba-2 state of one sequence held by the whole replica [bytes] (target and draft): SSM
    state in fp32 plus convolution state, constant in the context length; 0 for a transformer
    (:func:`wattlas.workload.transformer.mamba_state_bytes_per_sequence`). TP splits it by
    heads, so the replica holds it once."""
    d = draft_config(cfg)
    return (tf.mamba_state_bytes_per_sequence(cfg.model, "bf16")
            + (tf.mamba_state_bytes_per_sequence(d.model, "bf16") if d is not None else 0.0))


def activation_bytes(cfg: ServingConfig) -> float:
    """Activation workspace per GPU [bytes]: one chunk of CHUNK_TOKENS tokens through the widest
    layer (q,k,v + MLP up/gate, sharded by t) plus fp32 logits of the largest batch."""
    s = cfg.model
    ffn = s.moe_expert_ffn * s.moe_top_k if s.is_moe else s.ffn
    width = 4 * s.hidden + 2 * ffn / cfg.tp
    return CHUNK_TOKENS * width * ACT_BYTES + min(cfg.eng.max_batch, CHUNK_TOKENS) * s.vocab * 4.0


def kv_capacity_bytes(cfg: ServingConfig) -> float:
    """KV-cache bytes that fit on the replica [bytes] (negative when weights do not fit):
    usable_frac × (HBM − resident weights/t − activations) per GPU, as TRT-LLM's
    kv_cache_free_gpu_mem_fraction and vLLM's gpu_memory_utilization budget it."""
    hbm = cfg.accelerator.require("hbm_bytes")
    free = hbm - resident_weights_bytes(cfg) / cfg.tp - activation_bytes(cfg)
    return free * cfg.eng.mem_usable_frac * cfg.tp


def max_batch(cfg: ServingConfig, context_tokens: float) -> int:
    """Largest batch whose KV cache (target and draft) at `context_tokens` and, for a hybrid
    Mamba–Transformer, Mamba state fit [sequences], capped by the engine's scheduler limit; 0
    when not even the weights fit."""
    cap = kv_capacity_bytes(cfg)
    if cap <= 0:
        return 0
    per_seq = (resident_kv_bytes_per_token(cfg) * max(float(context_tokens), 1.0)
               + state_bytes_per_sequence(cfg))
    b = math.floor(cap / per_seq)
    return int(min(b, cfg.eng.max_batch))


def expected_experts(experts: int, top_k: int, tokens):
    """Expected distinct experts touched by `tokens` tokens routing top_k of `experts`
    uniformly: E·(1 − (1 − k/E)^b) (occupancy, Feller vol. 1 ch. II)."""
    tokens = np.asarray(tokens, dtype=float)
    return experts * (1.0 - (1.0 - top_k / experts) ** tokens)


def weights_read_bytes(cfg: ServingConfig, tokens) -> np.ndarray:
    """Weight bytes read from HBM by a step over `tokens` tokens, whole replica [bytes]: all
    weights of a dense model; for MoE the shared part plus the distinct routed experts touched."""
    s = cfg.model
    total = weights_bytes(cfg)
    tokens = np.asarray(tokens, dtype=float)
    if not s.is_moe:
        return np.broadcast_to(total, tokens.shape).astype(float)
    _, routed = _linear_params(s)
    sparse = 0.5 if cfg.sparsity_2_4 else 1.0
    routed_b = routed * sparse * _bytes_per_param(cfg.precision)
    touched = expected_experts(s.moe_experts, s.moe_top_k, tokens) / s.moe_experts
    return total - routed_b + routed_b * touched


# steps ------------------------------------------------------------------------------------------

def math_precision(precision: str, acc: Accelerator) -> str:
    """The tensor-core math a weight format runs on `acc`: :data:`COMPUTE_PRECISION`, or for a
    format in :data:`WEIGHT_ONLY_FALLBACK` without that math on `acc`, weight-only 16-bit."""
    p = COMPUTE_PRECISION[precision]
    if precision in WEIGHT_ONLY_FALLBACK and not acc.supports(p):
        return WEIGHT_ONLY_FALLBACK[precision]
    return p


def _peak(cfg: ServingConfig) -> float:
    p = math_precision(cfg.precision, cfg.accelerator)
    eff = cfg.eng.fp8_compute_eff_frac if p in ("fp8", "fp4") else cfg.eng.eff_compute_frac
    if p == "fp4" and cfg.eng.fp4_compute_eff_frac is not None:
        eff = cfg.eng.fp4_compute_eff_frac
    return cfg.accelerator.peak_flop_per_s(p) * eff


def _sparse_flop_scale(cfg: ServingConfig) -> float:
    """FLOP multiplier of the linears under 2:4 sparsity: 0.5 / kernel efficiency."""
    return 0.5 / cfg.eng.sparse_kernel_eff_frac if cfg.sparsity_2_4 else 1.0


def tp_all_reduce_s(cfg: ServingConfig, size_bytes, ranks):
    """One all-reduce of `size_bytes` per rank over `ranks` GPUs of the replica's scale-up
    domain [s]: α–β (:func:`.comm.all_reduce_s`) at the link's bandwidth per direction (the
    TP all-reduces of a dense step and of MoE attention, :mod:`.serving_moe`)."""
    bw, alpha = comm.tier(cfg.fab, ranks)
    return comm.all_reduce_s(size_bytes, ranks, bw, alpha)


def _step(cfg: ServingConfig, tokens, context, kv_read_tokens, new_kv_tokens, state_seqs=0.0):
    """Named parts of one step on one GPU: returns dict of arrays [FLOP, bytes, s].
    `state_seqs` sequences read and write their Mamba state (a hybrid's decode step); the Mamba
    scans' FLOPs and state traffic count with attention's."""
    s, t = cfg.model, cfg.tp
    tokens = np.asarray(tokens, dtype=float)
    lin_flop = 2.0 * tf.matmul_params_active(s) * tokens * _sparse_flop_scale(cfg)
    attn_flop = (tf.attention_flop_per_token(s, 1.0) * tokens * np.asarray(context, dtype=float)
                 + tf.mamba_flop_per_token(s) * tokens)
    flop = (lin_flop + attn_flop) / t
    sparse_b = (1.0 / cfg.eng.sparse_kernel_eff_frac) if cfg.sparsity_2_4 else 1.0
    w_b = weights_read_bytes(cfg, tokens) * sparse_b / t
    kv_tok = kv_bytes_per_token(cfg)
    kv_r = np.asarray(kv_read_tokens, dtype=float) * kv_tok / t
    kv_w = np.asarray(new_kv_tokens, dtype=float) * kv_tok / t
    if s.is_hybrid:  # Mamba state read and written once per sequence and step
        st = np.asarray(state_seqs, dtype=float) * tf.mamba_state_bytes_per_sequence(s) / t
        kv_r, kv_w = kv_r + st, kv_w + st
    # the residual stream (h values per token in and out of the 2 blocks per layer, 1 per
    # hybrid layer: norms, residual adds, all-reduce buffers) is replicated on every TP rank
    blocks = s.layers if s.is_hybrid else 2 * s.layers
    act = tokens * s.hidden * ACT_BYTES * blocks * 2.0
    byts = w_b + kv_r + kv_w + act
    acc = cfg.accelerator
    low = math_precision(cfg.precision, cfg.accelerator) in ("fp8", "fp4")
    bw_hbm = acc.require("hbm_bytes_per_s")
    eff_w = (cfg.eng.fp8_mem_eff_frac or cfg.eng.eff_mem_frac) if low else cfg.eng.eff_mem_frac
    # one roofline per operator class, run one after the other: the linears (weights and
    # activations against the linear FLOPs) and attention (KV cache against attention FLOPs)
    lin_mem = w_b / (bw_hbm * eff_w) + act / (bw_hbm * cfg.eng.eff_mem_frac)
    att_mem = (kv_r + kv_w) / (bw_hbm * cfg.eng.eff_mem_frac)
    lin_comp, att_comp = lin_flop / t / _peak(cfg), attn_flop / t / _peak(cfg)
    t_mem, t_comp = lin_mem + att_mem, lin_comp + att_comp
    t_comm = blocks * tp_all_reduce_s(cfg, tokens * s.hidden * ACT_BYTES, t)
    t_ovh = cfg.eng.step_overhead_s
    time = (np.maximum(lin_mem, lin_comp) + np.maximum(att_mem, att_comp)) + t_comm + t_ovh
    if cfg.power_cap_w is not None:
        f_c, f_m = cap_slowdown(cfg, t_mem, t_comp, time)
        lin_mem, att_mem, lin_comp, att_comp = lin_mem * f_m, att_mem * f_m, \
            lin_comp * f_c, att_comp * f_c
        t_mem, t_comp = lin_mem + att_mem, lin_comp + att_comp
        time = (np.maximum(lin_mem, lin_comp) + np.maximum(att_mem, att_comp)) + t_comm + t_ovh
    return {"flop": flop, "weights_bytes": w_b, "kv_read_bytes": kv_r, "kv_write_bytes": kv_w,
            "activation_bytes": act, "bytes": byts, "memory_s": t_mem, "compute_s": t_comp,
            "comm_s": t_comm, "overhead_s": np.broadcast_to(t_ovh, np.shape(time)),
            "time_s": time}


def decode_parts(cfg: ServingConfig, batch, context_tokens) -> dict[str, np.ndarray]:
    """Named FLOPs [FLOP], bytes [bytes] and times [s] per GPU of one decode step of `batch`
    sequences at mean context `context_tokens` (speculative decoding: one verify step)."""
    batch = np.asarray(batch, dtype=float)
    ctx = np.asarray(context_tokens, dtype=float)
    q = cfg.spec_tokens + 1 if cfg.draft is not None else 1
    return _step(cfg, batch * q, ctx, batch * ctx, batch * q, batch)


def tokens_per_step(cfg: ServingConfig) -> float:
    """Expected tokens emitted per sequence per decode step: 1, or with speculative decoding
    (1 − α^(k+1)) / (1 − α) (Leviathan et al. 2023, eq. 1)."""
    if cfg.draft is None:
        return 1.0
    a, k = cfg.spec_acceptance_frac, cfg.spec_tokens
    return (1.0 - a ** (k + 1)) / (1.0 - a)


def decode_step_time_s(cfg: ServingConfig, batch, context_tokens):
    """Time of one decode step for `batch` sequences at mean context [s] (numpy-broadcastable).
    With speculative decoding it includes the k draft steps and the target's verify step."""
    t = decode_parts(cfg, batch, context_tokens)["time_s"]
    d = draft_config(cfg)
    if d is not None:
        t = t + cfg.spec_tokens * decode_step_time_s(d, batch, context_tokens)
    return t


def tpot_s(cfg: ServingConfig, batch, context_tokens):
    """Time per output token per sequence [s]: step time / tokens per step."""
    return decode_step_time_s(cfg, batch, context_tokens) / tokens_per_step(cfg)


#: most support nodes of one Poisson expectation (:func:`_poisson_pmf`)
POISSON_NODES = 129


def _poisson_pmf(mean):
    """Support and weights of Poisson(mean) per element of `mean` [1]: arrays (K, *mean.shape).

    Each element has its own support, the integers in max(0, ⌊m⌋ − h) … ⌊m⌋ + h with
    h = ⌈8·√m + 12⌉ (beyond it the mass is below 1e-12), thinned to at most
    :data:`POISSON_NODES` evenly spaced nodes when wider; weights are the probabilities
    (log-space, ``gammaln``) at the nodes, renormalised per element. An element's nodes and
    weights depend on its own mean only, never on the other elements of the array; unused
    nodes carry weight 0."""
    m = np.asarray(mean, dtype=float)
    if np.any(~np.isfinite(m)) or np.any(m < 0):
        raise InputError(f"Poisson mean {m.min() if m.size else m!r}: must be finite and ≥ 0")
    half = np.ceil(8.0 * np.sqrt(m) + 12.0)
    lo = np.maximum(np.floor(m) - half, 0.0)
    span = np.floor(m) + half - lo + 1.0  # integers in the support
    stride = np.maximum(np.ceil(span / POISSON_NODES), 1.0)
    n_nodes = np.ceil(span / stride)
    k_max = int(min(POISSON_NODES, float(np.max(n_nodes)) if m.size else 1))
    j = np.arange(k_max, dtype=float).reshape((-1,) + (1,) * m.ndim)
    k = lo + j * stride
    used = j < n_nodes
    with np.errstate(divide="ignore", invalid="ignore"):
        logm = np.where(m > 0, np.log(np.where(m > 0, m, 1.0)), 0.0)
        logw = np.where(m > 0, k * logm - m - gammaln(k + 1.0),
                        np.where(k == 0, 0.0, -np.inf))
    logw = np.where(used, logw, -np.inf)
    w = np.exp(logw - logw.max(axis=0))
    return k, w / w.sum(axis=0)


def mixed_parts(cfg: ServingConfig, batch, prompt_tokens, output_tokens,
                poisson_arrivals: bool = False):
    """Named parts (see :func:`_step`) of a steady-state continuous-batching step: `batch`
    decode tokens (k+1 each with speculative decoding) plus the prefill of the
    m = batch·(tokens per step)/OSL requests admitted per step.

    Evenly spread (closed loop: --batch, max-throughput; the default): every step carries
    m·P prefill tokens. ``poisson_arrivals`` (open-loop Poisson arrivals, --rate): prompts
    arrive whole, so a step admits k ~ Poisson(m) of them and carries k·P prefill tokens; the
    parts are the expectation over k. The mean tokens per step stay b·q + m·P, and the step
    time is convex in its tokens (max of memory and compute time), so a mix of memory-bound
    decode-only steps and compute-bound steps carrying whole prompts is slower on average
    than the evenly spread step (Jensen); the two agree once every step is compute-bound.
    Power from the averaged parts approximates the mean power over those steps."""
    b = np.asarray(batch, dtype=float)
    p = float(prompt_tokens)
    n_out = float(output_tokens)
    ctx = p + n_out / 2.0
    q = cfg.spec_tokens + 1 if cfg.draft is not None else 1
    admitted = b / n_out * tokens_per_step(cfg)

    def step(pre_tokens):
        tokens = b * q + pre_tokens
        mean_ctx = (b * q * ctx + pre_tokens * p / 2.0) / tokens
        return _step(cfg, tokens, mean_ctx, b * ctx, tokens)

    if not poisson_arrivals:
        return step(admitted * p)
    k, w = _poisson_pmf(admitted)
    parts = step(k * p)
    return {key: (w * np.broadcast_to(v, w.shape)).sum(axis=0) for key, v in parts.items()}


def mixed_step_time_s(cfg: ServingConfig, batch, prompt_tokens, output_tokens,
                      poisson_arrivals: bool = False):
    """Steady-state continuous-batching step [s]: `batch` decode tokens plus the prefill
    tokens of the batch/OSL requests admitted per step, chunked into the same step
    (Agrawal et al., Sarathi-Serve, OSDI 2024); with ``poisson_arrivals`` the mean over
    steps admitting Poisson numbers of whole prompts (:func:`mixed_parts`).
    Numpy-broadcastable over batch."""
    b = np.asarray(batch, dtype=float)
    t = mixed_parts(cfg, b, prompt_tokens, output_tokens, poisson_arrivals)["time_s"]
    ctx = float(prompt_tokens) + float(output_tokens) / 2.0
    d = draft_config(cfg)
    if d is not None:
        t = t + cfg.spec_tokens * decode_step_time_s(d, b, ctx)
    return t


def prefill_time_s(cfg: ServingConfig, prompt_tokens, batch=1):
    """Time to prefill `batch` prompts of `prompt_tokens` [s], in chunks of CHUNK_TOKENS tokens
    (numpy-broadcastable). Causal attention: mean span prompt/2."""
    p = np.asarray(prompt_tokens, dtype=float)
    tokens = p * np.asarray(batch, dtype=float)
    steps = np.maximum(np.ceil(tokens / CHUNK_TOKENS), 1.0)
    per = _step(cfg, tokens / steps, p / 2.0, 0.0, tokens / steps)
    return per["time_s"] * steps


# power ------------------------------------------------------------------------------------------

def device_power_w(acc: Accelerator, activity_frac, power_basis: str = "modeled") -> np.ndarray:
    """Device power [W] = idle + (TDP − idle)·activity: :func:`wattlas.energy.device_power_w`
    (the one power model of wattlas), with the activity clipped to [0, 1]."""
    from ... import energy

    a = np.clip(np.asarray(activity_frac, dtype=float), 0.0, 1.0)
    return np.asarray(energy.device_power_w(acc, a, power_basis=power_basis), dtype=float)


def activity_frac(parts: dict[str, np.ndarray], cfg: ServingConfig,
                  busy_floor_frac: float = BUSY_FLOOR_FRAC,
                  mem_activity_weight: float = MEM_ACTIVITY_WEIGHT) -> np.ndarray:
    """Activity of a step [0–1] from its compute and memory utilisation::

        u_c = compute_s / time_s,   u_m = memory_s / time_s
        a   = BUSY_FLOOR_FRAC + (1 − BUSY_FLOOR_FRAC) · min(1, max(u_c, MEM_ACTIVITY_WEIGHT·u_m))

    A tensor-core-bound step (u_c → 1) runs at TDP; a purely bandwidth-bound one at
    MEM_ACTIVITY_WEIGHT of the dynamic range; the rest of the step (engine overhead, exposed
    all-reduces) at the busy floor. The roofline overlaps compute and memory, so the larger
    share sets the draw."""
    busy = np.maximum(parts["compute_s"], mem_activity_weight * parts["memory_s"])
    util = np.clip(busy / parts["time_s"], 0.0, 1.0)
    return busy_floor_frac + (1.0 - busy_floor_frac) * util


def parts_power_w(cfg: ServingConfig, parts: dict[str, np.ndarray],
                  power_basis: str = "modeled"):
    """Power of the replica's `tp` GPUs during a step with `parts` [W] (GPU boundary); under
    ``cfg.power_cap_w`` at most the cap per GPU (the capped step of :func:`cap_slowdown` draws
    exactly the cap)."""
    dev = device_power_w(cfg.accelerator, activity_frac(parts, cfg), power_basis)
    if cfg.power_cap_w is not None:
        dev = np.minimum(dev, cfg.power_cap_w)
    p = cfg.tp * dev
    return float(p) if np.ndim(p) == 0 else p


def cap_slowdown(cfg: ServingConfig, memory_s, compute_s, time_s):
    """(compute, memory) time multipliers ≥ 1 of a step under ``cfg.power_cap_w`` [1], from the
    energy physics training caps use (:func:`wattlas.energy.capped_phase`): the uncapped step
    draws P = device power at its activity (:func:`activity_frac`); above the cap the clock
    drops to r = ((cap − idle)/(P − idle))^(1/k) (dynamic power ∝ f^k), so compute stretches by
    1/r and HBM-bound time by 1 + s·(1/r − 1) (s = MEMORY_BOUND_CAP_SENSITIVITY)."""
    from ...energy import capped_phase, idle_power_w

    parts = {"memory_s": np.asarray(memory_s, dtype=float),
             "compute_s": np.asarray(compute_s, dtype=float),
             "time_s": np.asarray(time_s, dtype=float)}
    p = device_power_w(cfg.accelerator, activity_frac(parts, cfg))
    idle, _ = idle_power_w(cfg.accelerator)
    _, f_c = capped_phase(p, idle, cfg.power_cap_w, True)
    _, f_m = capped_phase(p, idle, cfg.power_cap_w, False)
    return f_c, f_m


def step_power_w(cfg: ServingConfig, batch, context_tokens, power_basis: str = "modeled"):
    """Power of the replica's `tp` GPUs during decode at `batch` [W] (GPU boundary)."""
    return parts_power_w(cfg, decode_parts(cfg, batch, context_tokens), power_basis)


def node_system(cfg: ServingConfig) -> System | None:
    """The system whose host power sets the node boundary: cfg.system, else the first catalog
    system built from the accelerator, else None (energy's default host power)."""
    if cfg.system is not None:
        return cfg.system
    from ... import hardware

    try:
        return hardware.default_system(cfg.accelerator.id)
    except InputError:
        return None

