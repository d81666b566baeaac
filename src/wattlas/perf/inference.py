"""Inference on one replica: prefill and decode roofline, KV cache, batching, TTFT/TPOT, J/token.

One replica is ``tp`` accelerators in one scale-up domain running tensor parallelism. Every step
is a roofline with calibrated efficiencies (Williams, Waterman & Patterson 2009; the LLM
inference form of Pope et al. 2022 and Yuan et al. 2024)::

    t_step = max(bytes / (B_hbm · eff_mem), flop / (F_peak · eff_compute))
             + 2·L all-reduces of b·h activations (α–β on the scale-up tier)
             + engine step overhead

Decode reads every active weight once per step plus the batch's KV cache ("every parameter is
read from HBM for every token"), so it is memory-bound until the batch is large; prefill is
compute-bound. The batch is capped by the KV cache that fits next to the weights::

    max_batch = (HBM · usable_frac − weights/t − activations) / (kv_bytes_per_token/t · context)

Precision and compression are explicit transforms of bytes and FLOPs (:func:`weights_bytes`,
:func:`decode_parts`): BF16, FP8 (weights and/or KV cache), FP4 (accelerators with an FP4 peak
only), INT4 weight-only (0.5 B + one fp16 scale per 128-weight group, bf16 math), 2:4 structured
sparsity (half the bytes and FLOPs of the linears at ``sparse_kernel_eff_frac`` of the ideal
2×), MoE (distinct experts touched by the batch), speculative decoding (Leviathan et al.).

Engines (``data/engines.csv``) are dated efficiency profiles: the same hardware moves a lot with
software, so the engine id is an explicit input.

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

import csv
import io
import math
from dataclasses import dataclass, field, fields
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from ..errors import CatalogKeyError, InfeasibleError, InputError
from ..hardware import Accelerator, Fabric
from ..workload import transformer as tf
from ..workload.transformer import ModelSpec
from . import comm

DEFAULT_ENGINE = "trtllm-2025"
PRECISIONS = ("bf16", "fp16", "fp8", "fp4", "int4")
KV_PRECISIONS = ("bf16", "fp16", "fp8", "fp4")
# math precision used for each weight format (INT4 is weight-only: dequantised to bf16)
COMPUTE_PRECISION = {"bf16": "bf16", "fp16": "fp16", "fp8": "fp8", "fp4": "fp4", "int4": "bf16"}
# scale overhead of each weight format as a fraction of its payload bytes:
# FP8 one fp32 scale per tensor (≈0); NVFP4 one fp8 scale per 16 values = 1 B / 8 B = 0.125;
# INT4 (GPTQ/Marlin, group 128) one fp16 scale per 128 values = 2 B / 64 B = 0.03125.
SCALE_OVERHEAD_FRAC = {"bf16": 0.0, "fp16": 0.0, "fp8": 0.0, "fp4": 0.125, "int4": 0.03125}
ACT_BYTES = 2.0  # activations and all-reduce payloads stay 16-bit in every engine modelled
CHUNK_TOKENS = 8192  # engine token budget per step (TRT-LLM max_num_tokens default) [tokens]
# Power: share of TDP above idle drawn by a fully memory-bound step relative to a fully
# tensor-core-bound one. Decode kernels keep HBM busy but tensor cores mostly idle; ML.ENERGY
# (Chung et al. 2025) measures H100 decode well below TDP. 0.7 is a round calibration value.
MEM_ACTIVITY_WEIGHT = 0.7
# A GPU running kernels holds its boost clock: its floor while busy is well above idle. The
# share of (TDP − idle) drawn by a busy but unsaturated device; calibrated with the ML.ENERGY
# J/token anchors (vllm-0.11 and vllm-0.5 rows of data/engines.csv).
BUSY_FLOOR_FRAC = 0.3
IDLE_FRAC_OF_TDP = 0.12  # when the catalog has no idle_w: H100 idles near 70-90 W of 700 W


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
    name: str | None = None
    version: str | None = None
    date: str | None = None
    source: str | None = None
    source_detail: str | None = None
    as_of: str | None = None
    note: str | None = None


@cache
def _engine_rows() -> dict[str, dict[str, Any]]:
    text = resources.files("wattlas.data").joinpath("engines.csv").read_text(encoding="utf-8")
    types = {f.name: f.type for f in fields(Engine)}
    out = {}
    for rec in csv.DictReader(io.StringIO(text)):
        row: dict[str, Any] = {}
        for k, v in rec.items():
            if k not in types or v == "":
                continue
            t = str(types[k])
            row[k] = float(v) if t.startswith("float") else int(v) if t.startswith("int") else v
        out[row["id"]] = row
    return out


def engine_ids() -> list[str]:
    return list(_engine_rows())


def engine(key: str | Engine) -> Engine:
    """The engine profile `key` (an id of data/engines.csv) or `key` itself."""
    if isinstance(key, Engine):
        return key
    rows = _engine_rows()
    if key not in rows:
        raise CatalogKeyError("engine", key, list(rows))
    return Engine(**rows[key])


# configuration ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ServingConfig:
    """One serving replica: model, accelerator, TP width, formats and engine.

    ``kv_precision`` None means fp8 when the weights are fp8/fp4 (as TRT-LLM and MLPerf
    submissions run) and bf16 otherwise. ``draft`` enables speculative decoding with
    ``spec_tokens`` draft tokens at acceptance rate ``spec_acceptance_frac``.
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
    notes: tuple[str, ...] = field(default=(), compare=False)

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
        dom = self.accelerator.scaleup_domain or 1
        if self.tp > 1 and self.tp > dom:
            raise InputError(f"--tp {self.tp}: exceeds the scale-up domain of "
                             f"{self.accelerator.id} ({dom}); tensor parallelism stays in it")
        for p in {COMPUTE_PRECISION[self.precision], self.kv}:
            if p in ("fp8", "fp4") and not self.accelerator.supports(p):
                raise InputError(f"precision {p} needs {p} tensor cores; {self.accelerator.id} "
                                 f"has none (use bf16 or int4)")
        if not 0.0 <= self.spec_acceptance_frac < 1.0:
            raise InputError(f"speculative acceptance {self.spec_acceptance_frac}: must be in "
                             "[0, 1)")
        if self.spec_tokens < 1:
            raise InputError(f"speculative draft tokens {self.spec_tokens}: must be ≥ 1")
        engine(self.engine)

    @property
    def kv(self) -> str:
        if self.kv_precision:
            return self.kv_precision
        return "fp8" if self.precision in ("fp8", "fp4") else "bf16"

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


def activation_bytes(cfg: ServingConfig) -> float:
    """Activation workspace per GPU [bytes]: one chunk of CHUNK_TOKENS tokens through the widest
    layer (q,k,v + MLP up/gate, sharded by t) plus fp32 logits of the largest batch."""
    s = cfg.model
    ffn = s.moe_expert_ffn * s.moe_top_k if s.is_moe else s.ffn
    width = 4 * s.hidden + 2 * ffn / cfg.tp
    return CHUNK_TOKENS * width * ACT_BYTES + min(cfg.eng.max_batch, CHUNK_TOKENS) * s.vocab * 4.0


def kv_capacity_bytes(cfg: ServingConfig) -> float:
    """KV-cache bytes that fit on the replica [bytes] (negative when weights do not fit):
    usable_frac × (HBM − weights/t − activations) per GPU, as TRT-LLM's
    kv_cache_free_gpu_mem_fraction and vLLM's gpu_memory_utilization budget it."""
    hbm = cfg.accelerator.require("hbm_bytes")
    free = hbm - weights_bytes(cfg) / cfg.tp - activation_bytes(cfg)
    return free * cfg.eng.mem_usable_frac * cfg.tp


def max_batch(cfg: ServingConfig, context_tokens: float) -> int:
    """Largest batch whose KV cache at `context_tokens` fits [sequences], capped by the
    engine's scheduler limit; 0 when not even the weights fit."""
    cap = kv_capacity_bytes(cfg)
    if cap <= 0:
        return 0
    b = math.floor(cap / (kv_bytes_per_token(cfg) * max(float(context_tokens), 1.0)))
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

def _peak(cfg: ServingConfig) -> float:
    p = COMPUTE_PRECISION[cfg.precision]
    eff = cfg.eng.fp8_compute_eff_frac if p in ("fp8", "fp4") else cfg.eng.eff_compute_frac
    return cfg.accelerator.peak_flop_per_s(p) * eff


def _sparse_flop_scale(cfg: ServingConfig) -> float:
    """FLOP multiplier of the linears under 2:4 sparsity: 0.5 / kernel efficiency."""
    return 0.5 / cfg.eng.sparse_kernel_eff_frac if cfg.sparsity_2_4 else 1.0


def _step(cfg: ServingConfig, tokens, context, kv_read_tokens, new_kv_tokens):
    """Named parts of one step on one GPU: returns dict of arrays [FLOP, bytes, s]."""
    s, t = cfg.model, cfg.tp
    tokens = np.asarray(tokens, dtype=float)
    lin_flop = 2.0 * tf.matmul_params_active(s) * tokens * _sparse_flop_scale(cfg)
    attn_flop = tf.attention_flop_per_token(s, 1.0) * tokens * np.asarray(context, dtype=float)
    flop = (lin_flop + attn_flop) / t
    sparse_b = (1.0 / cfg.eng.sparse_kernel_eff_frac) if cfg.sparsity_2_4 else 1.0
    w_b = weights_read_bytes(cfg, tokens) * sparse_b / t
    kv_tok = kv_bytes_per_token(cfg)
    kv_r = np.asarray(kv_read_tokens, dtype=float) * kv_tok / t
    kv_w = np.asarray(new_kv_tokens, dtype=float) * kv_tok / t
    act = tokens * s.hidden * ACT_BYTES * s.layers * 4.0 / t  # in/out of the 2 blocks per layer
    byts = w_b + kv_r + kv_w + act
    acc = cfg.accelerator
    low = COMPUTE_PRECISION[cfg.precision] in ("fp8", "fp4")
    bw_hbm = acc.require("hbm_bytes_per_s")
    eff_w = (cfg.eng.fp8_mem_eff_frac or cfg.eng.eff_mem_frac) if low else cfg.eng.eff_mem_frac
    t_mem = w_b / (bw_hbm * eff_w) + (byts - w_b) / (bw_hbm * cfg.eng.eff_mem_frac)
    t_comp = flop / _peak(cfg)
    fab = cfg.fab
    bw, alpha = comm.tier(fab, t)
    t_comm = 2.0 * s.layers * comm.all_reduce_s(tokens * s.hidden * ACT_BYTES, t, bw, alpha)
    t_ovh = cfg.eng.step_overhead_s
    time = np.maximum(t_mem, t_comp) + t_comm + t_ovh
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
    return _step(cfg, batch * q, ctx, batch * ctx, batch * q)


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
    if cfg.draft is not None:
        d = _with(cfg, model=cfg.draft, draft=None, sparsity_2_4=False)
        t = t + cfg.spec_tokens * decode_step_time_s(d, batch, context_tokens)
    return t


def tpot_s(cfg: ServingConfig, batch, context_tokens):
    """Time per output token per sequence [s]: step time / tokens per step."""
    return decode_step_time_s(cfg, batch, context_tokens) / tokens_per_step(cfg)


def mixed_parts(cfg: ServingConfig, batch, prompt_tokens, output_tokens):
    """Named parts (see :func:`_step`) of a steady-state continuous-batching step: `batch`
    decode tokens (k+1 each with speculative decoding) plus the prefill tokens of the
    batch·(tokens per step)/OSL requests admitted per step."""
    b = np.asarray(batch, dtype=float)
    p = float(prompt_tokens)
    n_out = float(output_tokens)
    ctx = p + n_out / 2.0
    q = cfg.spec_tokens + 1 if cfg.draft is not None else 1
    pre_tokens = b / n_out * tokens_per_step(cfg) * p
    tokens = b * q + pre_tokens
    mean_ctx = (b * q * ctx + pre_tokens * p / 2.0) / tokens
    return _step(cfg, tokens, mean_ctx, b * ctx, tokens)


def mixed_step_time_s(cfg: ServingConfig, batch, prompt_tokens, output_tokens):
    """Steady-state continuous-batching step [s]: `batch` decode tokens plus the prefill
    tokens of the batch/OSL requests admitted per step, chunked into the same step
    (Agrawal et al., Sarathi-Serve, OSDI 2024). Numpy-broadcastable over batch."""
    b = np.asarray(batch, dtype=float)
    t = mixed_parts(cfg, b, prompt_tokens, output_tokens)["time_s"]
    ctx = float(prompt_tokens) + float(output_tokens) / 2.0
    if cfg.draft is not None:
        d = _with(cfg, model=cfg.draft, draft=None, sparsity_2_4=False)
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

def _device_power_w(acc: Accelerator, activity_frac) -> np.ndarray:
    """Device power [W] = idle + (TDP − idle)·activity; mirrors energy.device_power_w with
    power_basis="modeled" (idle from the catalog, else IDLE_FRAC_OF_TDP·TDP)."""
    tdp = acc.require("tdp_w")
    idle = acc.idle_w if acc.idle_w is not None else IDLE_FRAC_OF_TDP * tdp
    return idle + (tdp - idle) * np.clip(activity_frac, 0.0, 1.0)


def device_power_w(acc: Accelerator, activity_frac) -> np.ndarray:
    """Device power [W]: wattlas.energy.device_power_w when that module exists, else the
    local mirror :func:`_device_power_w`."""
    import importlib

    try:
        energy = importlib.import_module("wattlas.energy")
    except ModuleNotFoundError as exc:
        if exc.name != "wattlas.energy":
            raise
        return _device_power_w(acc, activity_frac)
    fn = getattr(energy, "device_power_w", None)
    if fn is None:
        return _device_power_w(acc, activity_frac)
    return np.asarray(fn(acc, activity_frac, power_basis="modeled"), dtype=float)


def host_power_frac(acc: Accelerator, gpu_power_w: float) -> float:
    """Host (CPUs, memory, NICs, fans) power as a fraction of GPU power at the node boundary:
    the catalog system's host share per GPU, (node max − n·TDP)/n (e.g. DGX H100:
    (10.2 kW − 8 × 700 W)/8 = 575 W), scaled by the GPUs' load gpu_power/TDP. 0 when the
    catalog has no system for `acc`."""
    from .. import hardware
    from ..errors import CatalogKeyError as _Missing

    try:
        sys_ = hardware.default_system(acc.id)
    except (_Missing, InputError):
        return 0.0
    if sys_ is None or not sys_.node_max_power_w or not sys_.accelerators_per_node:
        return 0.0
    tdp = acc.require("tdp_w")
    host = (sys_.node_max_power_w - sys_.accelerators_per_node * tdp) / sys_.accelerators_per_node
    if host <= 0:
        return 0.0
    return host / tdp  # host · (gpu_power / TDP) / gpu_power


def activity_frac(parts: dict[str, np.ndarray], cfg: ServingConfig) -> np.ndarray:
    """Activity of a step [0–1]: BUSY_FLOOR_FRAC + (1 − BUSY_FLOOR_FRAC)·u, where u is the
    share of the step spent in kernels: the compute time, or MEM_ACTIVITY_WEIGHT × the memory
    time when larger (memory-bound kernels draw less than tensor-core-bound ones); the rest of
    the step (overhead, all-reduces) counts at the busy floor."""
    busy = np.maximum(parts["compute_s"], MEM_ACTIVITY_WEIGHT * parts["memory_s"])
    util = np.clip(busy / parts["time_s"], 0.0, 1.0)
    return BUSY_FLOOR_FRAC + (1.0 - BUSY_FLOOR_FRAC) * util


def step_power_w(cfg: ServingConfig, batch, context_tokens):
    """Power of the replica's `tp` GPUs during decode at `batch` [W] (GPU boundary)."""
    parts = decode_parts(cfg, batch, context_tokens)
    p = cfg.tp * device_power_w(cfg.accelerator, activity_frac(parts, cfg))
    return float(p) if np.ndim(p) == 0 else p


# plan -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ServingPlan:
    """A serving operating point (SI units; per replica unless named otherwise)."""

    model: str
    accelerator: str
    engine: str
    precision: str
    kv_precision: str
    tp: int
    prompt_tokens: int
    output_tokens: int
    ttft_s: float
    tpot_s: float
    e2e_s: float
    batch: int
    max_batch: int
    output_tokens_per_s: float
    output_tokens_per_s_per_gpu: float
    kv_cache_bytes: float
    weights_bytes: float
    energy_per_token_j: float
    energy_per_request_j: float
    gpus: int
    replicas: int
    bound: str
    power_w: float
    mode: str
    rate_per_s: float | None = None
    decode_floor_s: float = 0.0
    max_batch_slo: int | None = None
    energy_per_token_node_j: float | None = None
    energy_per_token_facility_j: float | None = None
    breakdown: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def decode_floor_s(cfg: ServingConfig) -> float:
    """Physical decode floor [s]: active weight bytes / (t × HBM bandwidth), at batch 1."""
    w = float(weights_read_bytes(cfg, 1.0))
    return w / (cfg.tp * cfg.accelerator.require("hbm_bytes_per_s"))


def _check_fits(cfg: ServingConfig, context: float) -> int:
    mb = max_batch(cfg, context)
    if mb >= 1:
        return mb
    hbm = cfg.accelerator.require("hbm_bytes")
    need = (weights_bytes(cfg) / cfg.tp + activation_bytes(cfg)
            + kv_bytes_per_token(cfg) * context / cfg.tp)
    fix = (f"raise --tp (now {cfg.tp})" if cfg.tp < (cfg.accelerator.scaleup_domain or 1)
           else "use a lower precision (fp8/int4) or an accelerator with more HBM")
    raise InfeasibleError(
        f"{cfg.model.id} at {cfg.precision} needs {need / 2**30:.1f} GiB per GPU for the "
        f"weights and one sequence of {context:.0f} tokens but {cfg.accelerator.id} offers "
        f"{hbm / 2**30:.1f} GiB; {fix}")




def plan_serving(cfg: ServingConfig, prompt_tokens: int, output_tokens: int,
                 batch: int | None = None, rate_per_s: float | None = None,
                 slo: dict[str, float] | None = None, pue: float | None = None) -> ServingPlan:
    """Serve `prompt_tokens` → `output_tokens` requests on replicas of `cfg`.

    * neither batch nor rate: max-throughput operation at the largest batch that fits
      (KV capacity at mean decode context ISL + OSL/2); throughput = b·OSL / (prefill(b) +
      OSL·step(b)), TTFT = prefill of the whole batch.
    * ``batch``: continuous batching at that occupancy; TTFT = prefill of one prompt + one step.
    * ``rate_per_s``: the largest batch meeting the SLO sets replica capacity, replicas =
      ⌈rate / capacity⌉, then each replica runs at the smallest batch carrying its share.

    ``slo`` keys: ttft_s, tpot_s, e2e_s. Energy is GPU-boundary (``power_w`` × time).
    """
    if prompt_tokens < 1 or output_tokens < 1:
        raise InputError(f"prompt/output tokens {prompt_tokens}/{output_tokens}: must be ≥ 1")
    if batch is not None and batch < 1:
        raise InputError(f"--batch {batch}: must be ≥ 1")
    if rate_per_s is not None and rate_per_s <= 0:
        raise InputError(f"--rate {rate_per_s}: must be > 0 requests/s")
    slo = {k: v for k, v in (slo or {}).items() if v}
    ctx = prompt_tokens + output_tokens / 2.0
    # the scheduler admits a request only when its whole sequence can be cached (TRT-LLM's
    # GUARANTEED_NO_EVICT policy; vLLM would preempt instead), so capacity is at ISL + OSL
    full = prompt_tokens + output_tokens
    mb = _check_fits(cfg, full)
    floor = decode_floor_s(cfg)
    if "tpot_s" in slo and slo["tpot_s"] < floor:
        raise InfeasibleError(
            f"TPOT SLO {slo['tpot_s'] * 1e3:.2f} ms is below the decode floor "
            f"{floor * 1e3:.2f} ms (weights {weights_read_bytes(cfg, 1.0) / 1e9:.1f} GB / "
            f"({cfg.tp} × {cfg.accelerator.require('hbm_bytes_per_s') / 1e12:.2f} TB/s)); "
            "raise --tp, lower the precision or relax the SLO")
    notes: list[str] = []
    replicas_ = 1
    b_slo_max: int | None = None
    n_out = float(output_tokens)
    per_tok = tokens_per_step(cfg)
    if batch is None and rate_per_s is None:
        mode, b = "max-throughput", mb
        step = float(decode_step_time_s(cfg, b, ctx))
        pre = float(prefill_time_s(cfg, prompt_tokens, b))
        ttft = pre
        tpot = step / per_tok
        e2e = pre + n_out * tpot
        tps = b * n_out / e2e
        missed = [k for k, v in slo.items() if {"ttft_s": ttft, "tpot_s": tpot,
                                                 "e2e_s": e2e}.get(k, 0.0) > v]
        if missed:
            notes.append(f"max-throughput operation misses the SLO on {', '.join(missed)}; "
                         "give --rate or --batch to plan under it")
    else:
        mode = "batch" if batch is not None else "rate"
        bs = np.arange(1, mb + 1, dtype=float)
        step_b = mixed_step_time_s(cfg, bs, prompt_tokens, output_tokens)
        tpot_b = step_b / per_tok
        ttft_b = prefill_time_s(cfg, prompt_tokens, 1) + step_b
        ok = np.ones_like(bs, dtype=bool)
        if "tpot_s" in slo:
            ok &= tpot_b <= slo["tpot_s"]
        if "ttft_s" in slo:
            ok &= ttft_b <= slo["ttft_s"]
        if "e2e_s" in slo:
            ok &= ttft_b + n_out * tpot_b <= slo["e2e_s"]
        if not ok.any():
            raise InfeasibleError(
                f"no batch meets the SLO {slo}: at batch 1 TTFT {ttft_b[0]:.3f} s, TPOT "
                f"{tpot_b[0] * 1e3:.2f} ms (decode floor {floor * 1e3:.2f} ms); raise --tp, "
                "lower the precision or relax the SLO")
        b_slo_max = int(bs[ok].max())
        if batch is not None:
            if batch > mb:
                raise InfeasibleError(
                    f"--batch {batch} needs "
                    f"{batch * full * kv_bytes_per_token(cfg) / 1e9:.1f} GB of KV cache at "
                    f"{full} tokens per sequence but "
                    f"{max(kv_capacity_bytes(cfg), 0) / 1e9:.1f} GB fit (max batch {mb}); "
                    "raise --tp or use --kv-precision fp8")
            b = batch
            if slo and not ok[b - 1]:
                notes.append(f"batch {b} misses the SLO; the largest batch meeting it is "
                             f"{int(bs[ok].max())}")
        else:
            b_slo = int(bs[ok].max())
            cap = b_slo / (float(ttft_b[b_slo - 1]) + n_out * float(tpot_b[b_slo - 1]))
            replicas_ = math.ceil(rate_per_s / cap)
            share = rate_per_s / replicas_
            # Little's law: occupancy = share × e2e(b); smallest b whose capacity carries it
            cap_b = bs / (ttft_b + n_out * tpot_b)
            b = int(bs[(cap_b >= share) & (bs <= b_slo)].min())
        step = float(mixed_step_time_s(cfg, b, prompt_tokens, output_tokens))
        pre1 = float(prefill_time_s(cfg, prompt_tokens, 1))
        tpot = step / per_tok
        ttft = pre1 + step
        e2e = ttft + n_out * tpot
        tps = b * n_out / e2e
    replicas = 1
    if mode == "rate":
        replicas = replicas_
    elif rate_per_s is not None:
        replicas = max(math.ceil(rate_per_s * n_out / tps), 1)
    if cfg.draft is not None:
        notes.append(f"speculative decoding: {per_tok:.2f} tokens per target step")
    if mode == "max-throughput":
        parts = decode_parts(cfg, b, ctx)
        power = float(step_power_w(cfg, b, ctx))
        pre_parts = _step(cfg, min(prompt_tokens * b, CHUNK_TOKENS), prompt_tokens / 2.0,
                          0.0, 0.0)
        pre_power = cfg.tp * float(device_power_w(cfg.accelerator,
                                                  activity_frac(pre_parts, cfg)))
        pre_t = float(prefill_time_s(cfg, prompt_tokens, b))
        energy_batch = pre_power * pre_t + power * n_out / per_tok * step
    else:  # the mixed step already carries the prefill work
        parts = mixed_parts(cfg, b, prompt_tokens, output_tokens)
        power = cfg.tp * float(device_power_w(cfg.accelerator, activity_frac(parts, cfg)))
        energy_batch = power * n_out / per_tok * step
    e_req = energy_batch / b
    node_frac = 1.0 + host_power_frac(cfg.accelerator, power / cfg.tp)
    e_node = e_req / n_out * node_frac
    if pue:
        notes.append(f"facility boundary = node × PUE {pue}")
    bound = "compute" if float(parts["compute_s"]) > float(parts["memory_s"]) else "memory"
    return ServingPlan(
        model=cfg.model.id, accelerator=cfg.accelerator.id, engine=cfg.eng.id,
        precision=cfg.precision, kv_precision=cfg.kv, tp=cfg.tp,
        prompt_tokens=int(prompt_tokens), output_tokens=int(output_tokens),
        ttft_s=float(ttft), tpot_s=float(tpot), e2e_s=float(e2e), batch=int(b), max_batch=mb,
        output_tokens_per_s=float(tps), output_tokens_per_s_per_gpu=float(tps) / cfg.tp,
        kv_cache_bytes=float(b * ctx * kv_bytes_per_token(cfg)),
        weights_bytes=float(weights_bytes(cfg)),
        energy_per_token_j=e_req / n_out, energy_per_request_j=e_req,
        gpus=cfg.tp * replicas, replicas=replicas, bound=bound, power_w=power, mode=mode,
        rate_per_s=rate_per_s, decode_floor_s=floor, max_batch_slo=b_slo_max,
        energy_per_token_node_j=e_node,
        energy_per_token_facility_j=e_node * pue if pue else None,
        breakdown={k: float(v) for k, v in parts.items()}, notes=tuple(notes))


def config_from_scenario(scen: Any) -> ServingConfig:
    """A ServingConfig from a validated Scenario (model, hardware.accelerator, serving.*)."""
    from .. import hardware
    from ..scenario import resolve_model

    if scen.serving is None:
        raise InputError("the scenario has no 'serving' section; give --prompt-tokens and "
                         "--output-tokens")
    if scen.model is None or scen.hardware is None or not scen.hardware.accelerator:
        raise InputError("serving needs a model (--model) and an accelerator (--accelerator)")
    acc = hardware.accelerator(scen.hardware.accelerator)
    sv = scen.serving
    fabric = None
    system = getattr(scen.hardware, "system", None)
    if system:
        fabric = hardware.fabric_for(acc, hardware.system(system))
    return ServingConfig(model=resolve_model(scen.model), accelerator=acc, tp=sv.tp,
                         precision=sv.precision, kv_precision=sv.kv_precision,
                         engine=sv.engine or DEFAULT_ENGINE, fabric=fabric)


def plan_from_scenario(scen: Any) -> ServingPlan:
    """plan_serving on the scenario's serving section."""
    cfg = config_from_scenario(scen)
    sv = scen.serving
    slo = sv.slo.model_dump(exclude_none=True) if sv.slo else None
    pue = scen.energy.pue if getattr(scen, "energy", None) else None
    return plan_serving(cfg, sv.prompt_tokens, sv.output_tokens, batch=sv.batch,
                        rate_per_s=sv.rate_per_s, slo=slo, pue=pue)


# search -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ServingSearch:
    """Result of :func:`search_serving`: the best plan, ranked candidates and timing."""

    best: ServingPlan
    ranked: list[dict[str, Any]]
    candidates: int
    feasible: int
    time_s: float
    objective: str


def _candidate_batches(mb: int) -> np.ndarray:
    """Batch sizes evaluated per configuration: every size up to 64, then a geometric grid."""
    small = np.arange(1, min(mb, 64) + 1)
    big = np.unique(np.geomspace(64, max(mb, 64), 96).astype(int)) if mb > 64 else []
    return np.unique(np.concatenate([small, big, [mb]])).astype(float)


def search_serving(model: ModelSpec, accelerators: list[Accelerator], prompt_tokens: int,
                   output_tokens: int, rate_per_s: float | None = None,
                   slo: dict[str, float] | None = None,
                   precisions: tuple[str, ...] = ("bf16", "fp8", "fp4", "int4"),
                   tps: tuple[int, ...] = (1, 2, 4, 8), engine_id: str = DEFAULT_ENGINE,
                   gpu_hour_usd: float | None = None) -> ServingSearch:
    """Cheapest configuration (accelerator × precision × TP × batch) meeting the SLO.

    Every batch of a configuration is evaluated at once with numpy. Ranked by J/token (GPU
    boundary) or by $/Mtoken when a GPU-hour price is given; ties go to fewer GPUs.
    """
    import time

    t0 = time.perf_counter()
    slo = {k: v for k, v in (slo or {}).items() if v}
    n_out = float(output_tokens)
    rows: list[dict[str, Any]] = []
    n_cand = 0
    reasons: list[str] = []
    for acc in accelerators:
        for prec in precisions:
            for tp in tps:
                try:
                    cfg = ServingConfig(model, acc, tp=tp, precision=prec, engine=engine_id)
                    mb = max_batch(cfg, prompt_tokens + n_out)
                except InputError:
                    continue
                if mb < 1:
                    reasons.append(f"{acc.id} {prec} tp{tp}: does not fit")
                    continue
                bs = _candidate_batches(mb)
                n_cand += bs.size
                step = mixed_step_time_s(cfg, bs, prompt_tokens, output_tokens)
                tpot = step / tokens_per_step(cfg)
                pre1 = float(prefill_time_s(cfg, prompt_tokens, 1))
                ttft = pre1 + step
                e2e = ttft + n_out * tpot
                ok = np.ones(bs.shape, dtype=bool)
                if "tpot_s" in slo:
                    ok &= tpot <= slo["tpot_s"]
                if "ttft_s" in slo:
                    ok &= ttft <= slo["ttft_s"]
                if "e2e_s" in slo:
                    ok &= e2e <= slo["e2e_s"]
                if not ok.any():
                    continue
                parts = mixed_parts(cfg, bs, prompt_tokens, output_tokens)
                power = cfg.tp * device_power_w(acc, activity_frac(parts, cfg))
                j_tok = power * step / tokens_per_step(cfg) / bs
                tps_rep = bs * n_out / e2e
                replicas = np.ceil(rate_per_s * n_out / tps_rep) if rate_per_s else np.ones_like(bs)
                gpus = replicas * tp
                usd = (gpus * gpu_hour_usd / 3600.0 / (rate_per_s * n_out) * 1e6
                       if gpu_hour_usd and rate_per_s else
                       tp * gpu_hour_usd / 3600.0 / tps_rep * 1e6 if gpu_hour_usd else None)
                score = usd if usd is not None else j_tok
                score = np.where(ok, score, np.inf)
                i = int(np.argmin(score))
                if rate_per_s:
                    # replicas sized at the largest SLO batch; each then runs at the smallest
                    # batch that carries its share of the rate (what plan_serving reports)
                    i_slo = int(np.flatnonzero(ok)[-1])
                    n_rep = math.ceil(rate_per_s * n_out / tps_rep[i_slo])
                    carry = ok & (tps_rep * n_rep >= rate_per_s * n_out * (1 - 1e-9))
                    i = int(np.flatnonzero(carry)[0])
                    replicas = np.full(bs.shape, float(n_rep))
                    gpus = replicas * tp
                    if usd is not None:
                        usd = gpus * gpu_hour_usd / 3600.0 / (rate_per_s * n_out) * 1e6
                    score = usd if usd is not None else j_tok
                rows.append({"accelerator": acc.id, "precision": prec, "tp": tp,
                             "batch": int(bs[i]), "ttft_s": float(ttft[i]),
                             "tpot_s": float(tpot[i]), "output_tokens_per_s": float(tps_rep[i]),
                             "replicas": int(replicas[i]), "gpus": int(gpus[i]),
                             "energy_per_token_j": float(j_tok[i]),
                             "usd_per_mtoken": None if usd is None else float(usd[i]),
                             "_score": float(score[i]), "_cfg": cfg})
    if not rows:
        floor = min((decode_floor_s(ServingConfig(model, a, tp=max(tps), precision="fp8"))
                     for a in accelerators if a.supports("fp8")), default=float("nan"))
        raise InfeasibleError(
            f"no accelerator × precision × TP × batch meets the SLO {slo} for {model.id} "
            f"({len(reasons)} configurations do not fit); best decode floor {floor * 1e3:.2f} ms "
            "per token: relax the SLO or allow more TP")
    rows.sort(key=lambda r: (r["_score"], r["gpus"]))
    top = rows[0]
    best = plan_serving(top["_cfg"], prompt_tokens, output_tokens,
                        batch=None if rate_per_s else top["batch"], rate_per_s=rate_per_s,
                        slo=slo)
    ranked = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    return ServingSearch(best=best, ranked=ranked, candidates=n_cand, feasible=len(rows),
                         time_s=time.perf_counter() - t0,
                         objective="usd_per_mtoken" if gpu_hour_usd else "energy_per_token_j")


def search_accelerators() -> list[Accelerator]:
    """Catalog accelerators with the HBM, bandwidth and TDP a serving plan needs."""
    from .. import catalog, hardware

    out = []
    for row in catalog.rows("accelerators"):
        acc = hardware.accelerator(row["id"])
        if acc.hbm_bytes and acc.hbm_bytes_per_s and acc.tdp_w and acc.supports("bf16"):
            out.append(acc)
    return out
