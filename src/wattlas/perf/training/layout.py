"""Training job, layout and plan types, the model's shape scalars and the layout rules.

Split out of :mod:`wattlas.perf.training.step` (which re-exports every name here): ``Layout`` (the
Megatron-LM parallel layout), ``TrainingJob`` (what is trained), ``TrainingPlan`` (the result),
:func:`job_shape` (the scalars the vectorised step-time model reads) and :func:`layout_rules`
(each validity rule as a boolean array, shared by single plans and the layout search).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import InputError
from ...hardware import Accelerator, Fabric
from ...workload import transformer as tf
from ..codes import OFFLOAD_CODE, RECOMPUTE_CODE  # search and training import them from here
from . import memory

JOBS = ("pretrain", "sft", "lora", "rlhf", "grpo")
PRECISIONS = ("bf16", "fp16", "fp8", "fp4")
DEFAULT_GOODPUT_FRAC = 0.90  # Llama 3 paper §3.3.4: >90 % effective training time, 16K H100
DP_GRAD_BYTES = 2.0  # gradients reduced in 16-bit (Megatron-Core default grad_reduce_in_fp32=False)
LORA_TARGETS = "all linear layers of attention and MLP"
FIELDS = ("tp", "pp", "dp", "cp", "ep", "vpp", "microbatch", "recompute", "zero",
          "sequence_parallel", "flash_attention", "offload", "dp_shard", "etp")
BREAKDOWN = ("compute", "recompute", "tp_comm", "cp_comm", "ep_comm", "pp_comm", "dp_comm",
             "bubble", "optimizer", "offload", "rollout")
MEMORY_PARTS = ("weights", "grads", "optimizer", "frozen_models", "activations", "logits",
                "cp_buffers", "framework")


@dataclass(frozen=True)
class Layout:
    """Parallel layout of one training job (Megatron-LM vocabulary)."""

    tp: int = 1
    pp: int = 1
    dp: int = 1
    cp: int = 1
    ep: int = 1
    vpp: int = 1
    microbatch: int = 1
    recompute: str = "selective"
    zero: int = 1
    sequence_parallel: bool = True
    flash_attention: bool = True
    offload: str = "none"
    #: hybrid sharding (HSDP): ZeRO/FSDP shard group of dp_shard ranks, replicated over the
    #: dp·cp/dp_shard groups; 0 = shard over all dp·cp ranks (perf.training.sharding)
    dp_shard: int = 0
    #: expert tensor parallelism: each routed expert split over etp ranks, independent of the
    #: dense tp (ep·etp ranks hold one copy of the experts of a stage); 0 = the dense tp
    etp: int = 0

    def __post_init__(self) -> None:
        for f in ("tp", "pp", "dp", "cp", "ep", "vpp", "microbatch"):
            v = getattr(self, f)
            if not isinstance(v, int | np.integer) or v < 1:
                raise InputError(f"layout.{f} = {v!r}: must be a positive integer")
        if self.recompute not in RECOMPUTE_CODE:
            raise InputError(f"layout.recompute = '{self.recompute}': allowed none, selective, "
                             "full, op")
        if self.zero not in (0, 1, 2, 3):
            raise InputError(f"layout.zero = {self.zero!r}: allowed 0, 1, 2, 3")
        if not isinstance(self.etp, int | np.integer) or self.etp < 0:
            raise InputError(f"layout.etp = {self.etp!r}: must be 0 (the dense tp) or a positive "
                             "integer")
        if not isinstance(self.dp_shard, int | np.integer) or self.dp_shard < 0:
            raise InputError(f"layout.dp_shard = {self.dp_shard!r}: must be 0 (shard over all "
                             "data-parallel ranks) or a positive integer dividing dp·cp")
        if self.offload not in OFFLOAD_CODE:
            raise InputError(f"layout.offload = '{self.offload}': allowed "
                             f"{', '.join(OFFLOAD_CODE)}")

    @property
    def gpus(self) -> int:
        return self.tp * self.pp * self.dp * self.cp

    def arrays(self) -> dict[str, np.ndarray]:
        """1-element arrays in the encoding :func:`evaluate` reads."""
        return {"tp": np.array([self.tp]), "pp": np.array([self.pp]), "dp": np.array([self.dp]),
                "cp": np.array([self.cp]), "ep": np.array([self.ep]),
                "vpp": np.array([self.vpp]), "microbatch": np.array([self.microbatch]),
                "recompute": np.array([RECOMPUTE_CODE[self.recompute]]),
                "zero": np.array([self.zero]),
                "sequence_parallel": np.array([self.sequence_parallel]),
                "flash_attention": np.array([self.flash_attention]),
                "offload": np.array([OFFLOAD_CODE[self.offload]]),
                "dp_shard": np.array([self.dp_shard]), "etp": np.array([self.etp])}


@dataclass(frozen=True)
class TrainingJob:
    """What is trained: model, tokens [tokens], sequence length [tokens], global batch
    [sequences], precision, job type, goodput and LoRA rank, and the software that trains it:
    ``software_year`` (layout features published after it are unavailable, perf.training.software;
    None = today) and ``stack_efficiency_frac`` (the stack's throughput relative to the calibrated
    Megatron-class model, 1.0; every phase of the step takes 1/stack_efficiency_frac as long).

    RL jobs (``rlhf``: PPO with policy, critic, reference and reward models of the policy's
    size; ``grpo``: policy and reference, no critic) generate ``rollout_tokens`` of each
    sequence (default half of ``seq_len``) before every update; ``tokens`` counts the trained
    (prompt + response) tokens."""

    model: tf.ModelSpec
    tokens: float
    seq_len: int
    global_batch: int
    precision: str = "bf16"
    job: str = "pretrain"
    goodput_frac: float | None = None
    lora_rank: int | None = None
    rollout_tokens: int | None = None
    software_year: int | None = None
    stack_efficiency_frac: float = 1.0

    def __post_init__(self) -> None:
        if not self.tokens > 0:
            raise InputError(f"training.tokens = {self.tokens!r}: must be > 0")
        if not (isinstance(self.seq_len, int) and self.seq_len > 0):
            raise InputError(f"training.seq_len = {self.seq_len!r}: must be a positive integer")
        if not (isinstance(self.global_batch, int) and self.global_batch > 0):
            raise InputError(f"training.global_batch = {self.global_batch!r}: must be a "
                             "positive integer (sequences)")
        if self.precision not in PRECISIONS:
            raise InputError(f"training.precision = '{self.precision}': allowed "
                             f"{', '.join(PRECISIONS)}")
        if self.job not in JOBS:
            raise InputError(f"training.job = '{self.job}': allowed {', '.join(JOBS)}")
        if self.rollout_tokens is not None and not 0 < self.rollout_tokens < self.seq_len:
            raise InputError(f"training.rollout_tokens = {self.rollout_tokens}: must be in "
                             f"(0, seq_len = {self.seq_len})")
        if self.goodput_frac is not None and not 0 < self.goodput_frac <= 1:
            raise InputError(f"training.goodput_frac = {self.goodput_frac}: must be in (0, 1]")
        if not 0 < self.stack_efficiency_frac <= 1:
            raise InputError(f"training.stack_efficiency_frac = {self.stack_efficiency_frac!r}: "
                             "must be in (0, 1] (measured ÷ predicted throughput of your stack)")
        if self.software_year is not None and not 2012 <= self.software_year <= 2100:
            raise InputError(f"training.software_year = {self.software_year!r}: must be a "
                             "year from 2012 on")
        from .software import check_precision

        err = check_precision(self.precision, self.software_year)
        if err:
            raise InputError(err)
        if self.job == "lora" and not (self.lora_rank and self.lora_rank > 0):
            raise InputError("training.lora_rank: a LoRA job needs a positive rank, e.g. 16")


@dataclass(frozen=True)
class TrainingPlan:
    job: TrainingJob
    accelerator: Accelerator
    fabric: Fabric
    layout: Layout
    gpus: int
    step_time_s: float
    breakdown_s: dict[str, float]
    memory_bytes: dict[str, float]
    memory_per_gpu_bytes: float
    hbm_bytes: float
    fits: bool
    mfu: float
    hfu: float
    model_flop_per_s_per_gpu: float
    hardware_flop_per_s_per_gpu: float
    tokens_per_s: float
    steps: int
    training_time_s: float
    gpu_hours: float
    model_flop_total: float
    goodput_frac: float
    notes: list[str] = field(default_factory=list)
    #: step-time slowdown from a per-GPU power cap already in the times above (capped_plan)
    power_cap_slowdown_frac: float = 0.0


# job shape (scalars) --------------------------------------------------------------------------

def job_shape(job: TrainingJob) -> dict[str, Any]:
    """Scalars of the model the vectorised formulas need (parameters per layer etc.)."""
    m = job.model
    h, L, V = m.hidden, m.layers, m.vocab
    parts = tf.param_parts(m)
    head_mm = V * h
    layer_mm = (tf.matmul_params_active(m) - head_mm) / L
    routed = parts.get("experts_routed", 0) / L
    layer_total = tf.layer_params(m)
    emb = parts["embedding"] + parts.get("position", 0)
    ffn_act = m.ffn if not m.is_moe else m.moe_expert_ffn * (m.moe_top_k
                                                             + (m.moe_shared_experts or 0))
    lora = 0.0
    if job.job == "lora":
        r = job.lora_rank
        q, kv = m.heads * m.d_head, m.n_kv_heads * m.d_head
        mats = [(h, q), (h, kv), (h, kv), (q, h)]
        inner = m.ffn if not m.is_moe else m.moe_expert_ffn
        mats += [(h, inner)] * (tf.FFN_MATRICES[m.ffn_type] - 1) + [(inner, h)]
        lora = float(r * sum(a + b for a, b in mats))
    return {"L": L, "h": h, "a": m.heads, "n_kv": m.n_kv_heads,
            "kvd": m.n_kv_heads * m.d_head, "V": V,
            "flop_per_tok": tf.training_flop_per_token(m, job.seq_len),
            "s": job.seq_len, "B": job.global_batch, "layer_mm": layer_mm,
            "att_per_tok": 2.0 * m.heads * (m.d_qk + m.d_v) * job.seq_len
            * (m.attention_layers / L),
            **_hybrid_shape(m),
            "layer_total": layer_total, "routed": routed, "emb": emb,
            "head": 0.0 if m.tied_embeddings else head_mm, "tied": m.tied_embeddings,
            "ffn_act": ffn_act, "ffn_mats": tf.FFN_MATRICES[m.ffn_type],
            "moe_frac": m.moe_layers / L, "top_k": m.moe_top_k or 0, "lora": lora,
            "experts": float(m.moe_experts or 1), "expert_ffn": float(m.moe_expert_ffn or 0),
            "mla_up": _mla_up_params(m), "mla_latent": float(
                (m.mla_q_lora_rank or 0) + (m.mla_kv_lora_rank or 0)
                + (m.mla_qk_rope_head_dim or 0)) if m.is_mla else 0.0,
            "passes": 2.0 if job.job == "lora" else 3.0,
            "update_models": 2.0 if job.job == "rlhf" else 1.0,
            "frozen_fwd": {"rlhf": 2.0, "grpo": 1.0}.get(job.job, 0.0),
            "gen_tokens": (float(job.rollout_tokens or job.seq_len // 2)
                           if job.job in ("rlhf", "grpo") else 0.0),
            "n_active_mm": float(tf.matmul_params_active(m)),
            "w_total_bytes": float(tf.params_total(m)) * memory.WEIGHT_BYTES,
            "kv_per_tok": tf.kv_cache_bytes_per_token(m, "bf16"),
            "software_year": job.software_year}


def _hybrid_shape(m: tf.ModelSpec) -> dict[str, Any]:
    """Per-layer shares of a hybrid Mamba–Transformer's layer pattern (workload.mamba): the
    fractions of layers with attention, with an MLP (dense or MoE) and with a Mamba-2 mixer,
    a Mamba block's activation bytes per token (replicated; split over tp, kept and produced),
    the Mamba scan FLOPs per token averaged over the layers, the tensor-parallel all-reduces
    per layer and pass relative to a transformer block's two (a hybrid layer has one mixer),
    the divisor tp must divide and the bytes per token of the context-parallel all-to-alls.
    A transformer: fractions 1, 1, 0 and no Mamba terms."""
    if not m.is_hybrid:
        return {"attn_frac": 1.0, "mlp_frac": 1.0, "mamba_frac": 0.0, "mamba_rep_b": 0.0,
                "mamba_split_b": 0.0, "mamba_made_b": 0.0, "ssd_per_tok": 0.0, "tp_ar_scale": 1.0,
                "mamba_tp_div": 0, "mamba_a2a_b": 0.0}
    from ...workload import mamba

    L = m.layers
    rep, split, made = (mamba.activation_bytes_per_token(m.mamba, memory.ACT_BYTES)
                        if m.mamba else (0.0, 0.0, 0.0))
    return {"attn_frac": m.attention_layers / L,
            "mlp_frac": (m.dense_layers + m.moe_layers) / L,
            "mamba_frac": m.mamba_layers / L, "mamba_rep_b": rep, "mamba_split_b": split,
            "mamba_made_b": made,
            "ssd_per_tok": tf.mamba_flop_per_token(m) / L, "tp_ar_scale": 0.5,
            # tp splits a Mamba layer by heads and groups (Megatron-Core MambaMixer)
            "mamba_tp_div": math.gcd(m.mamba.heads, m.mamba.groups) if m.mamba else 0,
            # context parallelism: bytes per token of the two all-to-alls around the scan
            "mamba_a2a_b": ((m.mamba.in_proj_out + m.mamba.d_inner) * memory.ACT_BYTES
                            if m.mamba else 0.0)}


def _mla_up_params(m: tf.ModelSpec) -> float:
    """Parameters of one layer's MLA up-projections (latent → per-head q, k and v), which a
    stack recomputing them runs again in the backward; 0 without MLA."""
    if not m.is_mla:
        return 0.0
    q_up = (m.mla_q_lora_rank or 0) * m.heads * m.d_qk
    kv_up = (m.mla_kv_lora_rank or 0) * m.heads * ((m.mla_qk_nope_head_dim or 0) + m.d_v)
    return float(q_up + kv_up)


def _etp(a: dict[str, np.ndarray], tp: np.ndarray) -> np.ndarray:
    """Expert tensor-parallel size of each layout: ``etp``, or the dense tp where 0/absent."""
    e = np.asarray(a.get("etp", 0))
    return np.where(e > 0, e, tp)


def layout_rules(shape: dict[str, Any], a: dict[str, np.ndarray], gpus: int,
                 uneven_pp: bool = False) -> dict[str, Any]:
    """Each validity rule as a boolean array (True = satisfied), keyed by the rule text."""
    tp, pp, dp, cp, ep, vpp, mb = (a[k] for k in ("tp", "pp", "dp", "cp", "ep", "vpp",
                                                  "microbatch"))
    n_kv = shape["n_kv"]
    rules = {
        f"tp·pp·dp·cp must equal the GPU count {gpus}": tp * pp * dp * cp == gpus,
        f"tp must divide heads ({int(shape['a'])})": shape["a"] % tp == 0,
        f"pp·vpp must divide layers ({int(shape['L'])}); pass --allow-uneven-pp to accept "
        "an uneven split": (shape["L"] % (pp * vpp) == 0) | uneven_pp,
        "ep·etp must divide tp·dp·cp (etp 0: the dense tp)":
            (tp * dp * cp) % (ep * _etp(a, tp)) == 0,
        f"dp·microbatch must divide the global batch ({int(shape['B'])})":
            shape["B"] % (dp * mb) == 0,
        f"cp must divide the sequence length ({int(shape['s'])})": shape["s"] % cp == 0,
        "vpp > 1 needs pp > 1": (vpp == 1) | (pp > 1),
    }
    if "dp_shard" in a:
        g = np.asarray(a["dp_shard"])
        rules["dp_shard must divide dp·cp (0: shard over all of them)"] = (
            (g == 0) | ((dp * cp) % np.maximum(g, 1) == 0))
    rules[f"tp must divide kv_heads ({int(n_kv)}) or be a multiple of it"] = (
        (n_kv % tp == 0) | (tp % n_kv == 0))
    if np.any(shape.get("mamba_tp_div", 0)):
        rules[f"tp must divide mamba_heads and mamba_groups (gcd {int(shape['mamba_tp_div'])})"
              ] = shape["mamba_tp_div"] % tp == 0
    from .software import feature_rules

    rules.update(feature_rules(a, shape.get("software_year")))
    return rules
