"""Training plan: memory per device, step time, MFU/HFU and totals for one layout.

One code path: :func:`evaluate` is written on numpy arrays (one array per layout field) and is
used both by the layout search (thousands of layouts at once) and by :func:`plan_training`
(1-element arrays).

Step time per device (seconds per optimizer step)::

    step = m·(compute + recompute + tp + cp + ep + pp)   per-micro-batch times of one stage
         + (p−1)/v · t_microbatch                        pipeline bubble (Narayanan et al. 2021)
         + exposed dp                                    grads not hidden by backward
         + optimizer (state bytes / HBM bandwidth) + offload (host-link transfer)

with ``m = global_batch / (dp·microbatch)`` micro-batches. Compute is FLOPs / (peak of the
precision × GEMM efficiency of the per-device shape, see :mod:`.calibration`) plus a fixed
per-layer overhead. Communication uses :mod:`.comm`. MFU counts model FLOPs (PaLM App. B,
6·N + 12·L·H·Q·T per token, no recompute); HFU adds the recomputed FLOPs.

References
----------
* D. Narayanan et al., "Efficient Large-Scale Language Model Training on GPU Clusters Using
  Megatron-LM", SC'21, arXiv:2104.04473 (bubble (p−1)/(m·v), eq. 3).
* V. Korthikanti et al., "Reducing Activation Recomputation in Large Transformer Models",
  arXiv:2205.05198, 2022 (sequence parallelism, selective recompute).
* A. Chowdhery et al., "PaLM", arXiv:2204.02311, App. B (MFU).
* H. Liu et al., "Ring Attention with Blockwise Transformers", arXiv:2310.01889 (CP).
* A. Grattafiori et al., "The Llama 3 Herd of Models", arXiv:2407.21783, §3.3.4: >90 % effective
  training time on 16K H100 GPUs (the default goodput).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InfeasibleError, InputError
from ..hardware import Accelerator, Fabric, fabric_for
from ..units import GIB, SECONDS_PER_HOUR
from ..workload import transformer as tf
from . import calibration, comm, memory

RECOMPUTE_CODE = {"none": 0, "selective": 1, "full": 2}
OFFLOAD_CODE = {"none": 0, "optimizer": 1, "optimizer+weights": 2}
JOBS = ("pretrain", "sft", "lora", "rlhf", "grpo")
PRECISIONS = ("bf16", "fp16", "fp8", "fp4")
DEFAULT_GOODPUT_FRAC = 0.90  # Llama 3 paper §3.3.4: >90 % effective training time, 16K H100
DP_GRAD_BYTES = 2.0  # gradients reduced in 16-bit (Megatron-Core default grad_reduce_in_fp32=False)
LORA_TARGETS = "all linear layers of attention and MLP"
FIELDS = ("tp", "pp", "dp", "cp", "ep", "vpp", "microbatch", "recompute", "zero",
          "sequence_parallel", "flash_attention", "offload")
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

    def __post_init__(self) -> None:
        for f in ("tp", "pp", "dp", "cp", "ep", "vpp", "microbatch"):
            v = getattr(self, f)
            if not isinstance(v, int | np.integer) or v < 1:
                raise InputError(f"layout.{f} = {v!r}: must be a positive integer")
        if self.recompute not in RECOMPUTE_CODE:
            raise InputError(f"layout.recompute = '{self.recompute}': allowed none, selective, "
                             "full")
        if self.zero not in (0, 1, 2, 3):
            raise InputError(f"layout.zero = {self.zero!r}: allowed 0, 1, 2, 3")
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
                "offload": np.array([OFFLOAD_CODE[self.offload]])}


@dataclass(frozen=True)
class TrainingJob:
    """What is trained: model, tokens [tokens], sequence length [tokens], global batch
    [sequences], precision, job type, goodput and LoRA rank.

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


# job shape (scalars) --------------------------------------------------------------------------

def job_shape(job: TrainingJob) -> dict[str, float]:
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
            "att_per_tok": 2.0 * m.heads * (m.d_qk + m.d_v) * job.seq_len,
            "layer_total": layer_total, "routed": routed, "emb": emb,
            "head": 0.0 if m.tied_embeddings else head_mm, "tied": m.tied_embeddings,
            "ffn_act": ffn_act, "ffn_mats": tf.FFN_MATRICES[m.ffn_type],
            "moe_frac": m.moe_layers / L, "top_k": m.moe_top_k or 0, "lora": lora,
            "passes": 2.0 if job.job == "lora" else 3.0,
            "update_models": 2.0 if job.job == "rlhf" else 1.0,
            "frozen_fwd": {"rlhf": 2.0, "grpo": 1.0}.get(job.job, 0.0),
            "gen_tokens": (float(job.rollout_tokens or job.seq_len // 2)
                           if job.job in ("rlhf", "grpo") else 0.0),
            "n_active_mm": float(tf.matmul_params_active(m)),
            "w_total_bytes": float(tf.params_total(m)) * memory.WEIGHT_BYTES,
            "kv_per_tok": tf.kv_cache_bytes_per_token(m, "bf16")}


def layout_rules(shape: dict[str, float], a: dict[str, np.ndarray], gpus: int,
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
        "ep must divide dp·cp": (dp * cp) % ep == 0,
        f"dp·microbatch must divide the global batch ({int(shape['B'])})":
            shape["B"] % (dp * mb) == 0,
        f"cp must divide the sequence length ({int(shape['s'])})": shape["s"] % cp == 0,
        "vpp > 1 needs pp > 1": (vpp == 1) | (pp > 1),
    }
    rules[f"tp must divide kv_heads ({int(n_kv)}) or be a multiple of it"] = (
        (n_kv % tp == 0) | (tp % n_kv == 0))
    return rules


# the vectorised model ---------------------------------------------------------------------------

def evaluate(job: TrainingJob, acc: Accelerator, fabric: Fabric, a: dict[str, np.ndarray],
             consts: dict[str, float] | None = None, shape: dict[str, float] | None = None,
             dp_overlap_frac: float | None = None) -> dict[str, Any]:
    """Step time, breakdown and memory for arrays of layouts (see module docstring).

    Returns arrays keyed ``step_time_s``, ``breakdown_s`` (dict of arrays), ``memory_bytes``
    (dict of arrays), ``memory_per_gpu_bytes``, ``model_flop_per_step``,
    ``hardware_flop_per_step``, ``microbatches``."""
    c = consts or calibration.constants()
    sh = shape or job_shape(job)
    f = {k: np.asarray(v) for k, v in a.items()}
    tp, pp, dp, cp = (f[k].astype(float) for k in ("tp", "pp", "dp", "cp"))
    ep, vpp, mb = f["ep"].astype(float), f["vpp"].astype(float), f["microbatch"].astype(float)
    rc, zero, sp, fa, off = (f[k] for k in ("recompute", "zero", "sequence_parallel",
                                            "flash_attention", "offload"))
    h, L, V, s = sh["h"], sh["L"], sh["V"], sh["s"]
    peak = acc.peak_flop_per_s(job.precision)
    act_b = memory.ACT_BYTES
    m = np.maximum(sh["B"] / (dp * mb), 1.0)
    n_ls = np.ceil(L / (pp * vpp)) * vpp  # layers on the heaviest stage (uneven split allowed)
    tok = mb * s / cp

    # compute: FLOPs per micro-batch per device (one forward pass), then time
    eff = calibration.gemm_efficiency(h / tp, tok, c)
    if job.precision in ("fp8", "fp4"):
        eff = eff * c["fp8_eff_factor"]
    f_mm = 2.0 * tok * sh["layer_mm"] / tp * n_ls
    f_att = tok * sh["att_per_tok"] / tp * n_ls
    f_log = 2.0 * tok * h * V / tp  # last stage
    rate = peak * eff
    passes = sh["passes"]
    # memory-bound elementwise work (norms, GELU, softmax, dropout, residuals): traffic
    # proportional to the activations a layer produces, at HBM bandwidth
    per_layer, none_layer = memory.layer_activation_bytes(
        s, mb, h, sh["a"], sh["kvd"], sh["ffn_act"], sh["ffn_mats"], tp, sp, rc, fa, cp)
    t_elem = c["elem_traffic"] * none_layer / acc.require("hbm_bytes_per_s")
    t_layer_fixed = n_ls * (c["layer_overhead_s"] + t_elem)
    t_fwd = (f_mm + f_att + f_log) / rate + t_layer_fixed
    compute_mb = passes * t_fwd
    recompute_mb = np.where(rc == 2, (f_mm + f_att) / rate + t_layer_fixed,
                            np.where(rc == 1, f_att / rate, 0.0))
    flop_mb = passes * (f_mm + f_att + f_log)
    reflop_mb = np.where(rc == 2, f_mm + f_att, np.where(rc == 1, f_att, 0.0))

    # tensor parallel: 2 all-reduce equivalents per layer per pass (AG+RS with SP)
    bw, al = comm.tier(fabric, tp, 1)
    n_ar = n_ls * (2.0 * (passes - 1.0) + np.where(rc == 2, 2.0, 0.0))
    tp_mb = n_ar * comm.all_reduce_s(tok * h * act_b, tp, bw, al)
    # context parallel: ring exchange of K/V chunks, overlapped with attention compute
    bw, al = comm.tier(fabric, cp, tp)
    kv_chunk = 2.0 * tok * sh["kvd"] * act_b / tp
    cp_layer = 3.0 * (cp - 1.0) * comm.p2p_s(kv_chunk, bw, al)
    cp_mb = np.where(cp > 1, n_ls * np.maximum(cp_layer - 3.0 * f_att / n_ls / rate, 0.0), 0.0)
    # expert parallel: 2 all-to-alls per MoE layer per pass (dispatch, combine)
    bw, al = comm.tier(fabric, ep, tp)
    a2a = comm.all_to_all_s(tok * sh["top_k"] * h * act_b / tp, ep, bw, al)
    ep_mb = n_ls * sh["moe_frac"] * 2.0 * (passes - 1.0 + np.where(rc == 2, 1.0, 0.0)) * a2a
    # pipeline: p2p of the boundary activation forward and its gradient backward, per chunk
    bw, al = comm.tier(fabric, pp, tp * cp * dp)
    boundary = tok * h * act_b / np.where(sp, tp, 1.0)
    pp_mb = np.where(pp > 1, 2.0 * vpp * comm.p2p_s(boundary, bw, al), 0.0)

    # RL: a critic trains like the policy (u = 2 for PPO), frozen reference/reward models run
    # one forward pass each over the batch
    u = sh["update_models"]
    compute_mb = u * compute_mb + sh["frozen_fwd"] * t_fwd
    recompute_mb, tp_mb, cp_mb, ep_mb, pp_mb = (u * x for x in (recompute_mb, tp_mb, cp_mb,
                                                                 ep_mb, pp_mb))
    flop_mb = u * flop_mb + sh["frozen_fwd"] * (f_mm + f_att + f_log)
    reflop_mb = u * reflop_mb
    t_mb = compute_mb + recompute_mb + tp_mb + cp_mb + ep_mb + pp_mb
    bubble = (pp - 1.0) / vpp * t_mb

    # parameters held by one device (largest stage) and trainable ones
    dense_layer = (sh["layer_total"] - sh["routed"]) / tp + sh["routed"] / (ep * tp)
    first = n_ls * dense_layer + sh["emb"] / tp
    last = n_ls * dense_layer + np.where(sh["tied"], sh["emb"], sh["head"]) / tp
    params_dev = np.where(pp > 1, np.maximum(first, last), first + sh["head"] / tp)
    trainable = np.where(sh["lora"] > 0, n_ls * sh["lora"] / tp, params_dev)
    shard = dp * cp

    # data parallel: gradients once per step (all-reduce; reduce-scatter under ZeRO-3), hidden
    # behind the last micro-batch's backward except the last bucket (one layer's share); under
    # ZeRO-3 the weights are also all-gathered for the forward and the backward of every
    # micro-batch, hidden behind that micro-batch's compute except one layer's share
    # Collectives run per layer (one bucket / one FSDP unit each), so the α term counts n_ls
    # times: n_ls · cost(S / n_ls).
    bw, al = comm.tier(fabric, shard, tp)
    grad_bytes = trainable * DP_GRAD_BYTES / n_ls
    grad_s = u * n_ls * np.where(zero >= 3, comm.reduce_scatter_s(grad_bytes, shard, bw, al),
                                 comm.all_reduce_s(grad_bytes, shard, bw, al))
    ov = c["dp_overlap_frac"] if dp_overlap_frac is None else dp_overlap_frac
    bwd_last = (passes - 1.0) / passes * compute_mb
    grad_exposed = np.maximum(grad_s / n_ls, grad_s - ov * bwd_last)
    gather_mb = u * n_ls * np.where(zero >= 3, 2.0 * comm.all_gather_s(
        params_dev * memory.WEIGHT_BYTES / n_ls, shard, bw, al), 0.0)
    gather_exposed = m * np.maximum(gather_mb / n_ls, gather_mb - ov * compute_mb)
    dp_exposed = np.where(shard > 1, grad_exposed + gather_exposed, 0.0)

    # optimizer step (memory-bound) or host offload
    local = trainable / np.where(zero >= 1, shard, 1.0)
    hbm_bw = acc.require("hbm_bytes_per_s")
    opt = u * local * calibration.OPTIMIZER_STEP_BYTES_PER_PARAM / hbm_bw
    host_bw = fabric.host_link_bytes_per_s or acc.host_link_bytes_per_s or 0.0
    if np.any(off > 0) and not host_bw:
        raise InputError(f"{acc.id}: host link bandwidth is unknown, so offload cannot be "
                         "costed; use --set layout.offload=none")
    offload_t = np.where(off > 0, (local * (DP_GRAD_BYTES + memory.WEIGHT_BYTES)
                                   + np.where(off > 1, params_dev * memory.WEIGHT_BYTES, 0.0)
                                   ) / (host_bw or 1.0), 0.0)
    opt = np.where(off > 0, 0.0, opt)

    # RL rollout: decode roofline on replicas of tp·pp GPUs (weights + KV read per token)
    gen = sh["gen_tokens"]
    shards = tp * pp
    b_rep = sh["B"] / (dp * cp)
    prompt = s - gen
    ctx = prompt + gen / 2.0
    t_mem = (sh["w_total_bytes"] + b_rep * sh["kv_per_tok"] * ctx) / (
        shards * hbm_bw * calibration.DECODE_HBM_EFF)
    t_cmp = 2.0 * sh["n_active_mm"] * b_rep / (shards * rate)
    prefill = 2.0 * sh["n_active_mm"] * b_rep * prompt / (shards * rate)
    rollout = np.where(gen > 0, gen * np.maximum(t_mem, t_cmp) + prefill, 0.0)

    bd = {"compute": m * compute_mb, "recompute": m * recompute_mb, "tp_comm": m * tp_mb,
          "cp_comm": m * cp_mb, "ep_comm": m * ep_mb, "pp_comm": m * pp_mb,
          "dp_comm": dp_exposed, "bubble": bubble, "optimizer": opt, "offload": offload_t,
          "rollout": rollout}
    step = sum(bd.values())

    # memory
    w, g, o = memory.state_bytes(params_dev, zero, shard, trainable, off > 0)
    w = np.where(off > 1, 0.0, w)
    # ZeRO-3 materialises gathered weights of the current and the prefetched layer, and one
    # layer's unsharded gradients before the reduce-scatter
    z3_buffer = np.where(zero >= 3, dense_layer * (2.0 * memory.WEIGHT_BYTES
                                                   + memory.GRAD_BYTES), 0.0)
    w = w + z3_buffer
    frozen = sh["frozen_fwd"] * w  # reference / reward weights, sharded like the policy's
    w, g, o = u * w, u * g, u * o
    inflight = memory.pipeline_inflight(pp, vpp, m)
    acts = per_layer * n_ls * inflight + np.where(rc == 2, none_layer, 0.0)
    logits = memory.LOGIT_BYTES * tok * V / tp
    cp_buf = np.where(cp > 1, 2.0 * kv_chunk, 0.0)
    mem = {"weights": w, "grads": g, "optimizer": o, "frozen_models": frozen,
           "activations": acts, "logits": logits,
           "cp_buffers": cp_buf, "framework": np.full_like(w, memory.FRAMEWORK_OVERHEAD_BYTES)}
    total_mem = sum(mem.values())

    gpus = tp * pp * dp * cp
    model_flop_step = sh["B"] * (sh["flop_per_tok"] * s * (passes / 3.0 * u
                                                            + sh["frozen_fwd"] / 3.0)
                                 + 2.0 * sh["n_active_mm"] * gen)
    hw_flop_step = (m * gpus * (flop_mb + reflop_mb - (passes * u + sh["frozen_fwd"]) * f_log
                                * (pp - 1.0) / pp)
                    + sh["B"] * 2.0 * sh["n_active_mm"] * gen)
    return {"step_time_s": step, "params_per_gpu": params_dev, "breakdown_s": bd,
            "memory_bytes": mem,
            "memory_per_gpu_bytes": total_mem, "model_flop_per_step": model_flop_step,
            "hardware_flop_per_step": hw_flop_step, "microbatches": m, "peak_flop_per_s": peak}


# scalar orchestration ---------------------------------------------------------------------------

def check_layout(job: TrainingJob, layout: Layout, gpus: int, uneven_pp: bool = False) -> None:
    """Raise InputError naming every rule `layout` breaks."""
    shape = job_shape(job)
    broken = [rule for rule, ok in layout_rules(shape, layout.arrays(), gpus, uneven_pp).items()
              if not bool(np.all(ok))]
    if broken:
        raise InputError(f"layout tp={layout.tp} pp={layout.pp} dp={layout.dp} "
                         f"cp={layout.cp} ep={layout.ep} vpp={layout.vpp} "
                         f"microbatch={layout.microbatch}: {'; '.join(broken)}")


def _scalar(x: Any) -> float:
    return float(np.asarray(x).reshape(-1)[0])


def build_plan(job: TrainingJob, acc: Accelerator, fabric: Fabric, layout: Layout, gpus: int,
               out: dict[str, Any], index: int = 0, notes: list[str] | None = None
               ) -> TrainingPlan:
    """A TrainingPlan from element `index` of :func:`evaluate`'s arrays."""
    def pick(x: Any) -> float:
        arr = np.asarray(x).reshape(-1)
        return float(arr[index] if arr.size > 1 else arr[0])

    step = pick(out["step_time_s"])
    breakdown = {k: pick(v) for k, v in out["breakdown_s"].items()}
    mem = {k: pick(v) for k, v in out["memory_bytes"].items()}
    total_mem = pick(out["memory_per_gpu_bytes"])
    hbm = acc.require("hbm_bytes")
    peak = float(out["peak_flop_per_s"])
    tokens_step = job.global_batch * job.seq_len
    model_step, hw_step = pick(out["model_flop_per_step"]), pick(out["hardware_flop_per_step"])
    steps = math.ceil(job.tokens / tokens_step)
    goodput = job.goodput_frac if job.goodput_frac is not None else DEFAULT_GOODPUT_FRAC
    time_s = steps * step / goodput
    return TrainingPlan(
        job=job, accelerator=acc, fabric=fabric, layout=layout, gpus=gpus, step_time_s=step,
        breakdown_s=breakdown, memory_bytes=mem, memory_per_gpu_bytes=total_mem, hbm_bytes=hbm,
        fits=total_mem <= hbm, mfu=model_step / (step * gpus * peak),
        hfu=hw_step / (step * gpus * peak), model_flop_per_s_per_gpu=model_step / step / gpus,
        hardware_flop_per_s_per_gpu=hw_step / step / gpus, tokens_per_s=tokens_step / step,
        steps=steps, training_time_s=time_s, gpu_hours=gpus * time_s / SECONDS_PER_HOUR,
        model_flop_total=model_step * steps, goodput_frac=goodput, notes=list(notes or []))


def oom_message(plan: TrainingPlan) -> str:
    """'needs 93.1 GiB per GPU but h100-sxm has 80 GiB; ...' with the largest part and a fix."""
    mem, lay = plan.memory_bytes, plan.layout
    largest = max(mem, key=mem.get)
    if largest == "activations":
        fix = ("use --recompute selective" if lay.recompute == "none" else
               "use --recompute full" if lay.recompute == "selective" else
               "lower --microbatch or raise --tp/--cp")
        fix = f"raise --tp or {fix}" if lay.tp < plan.fabric.scaleup_domain else fix
    elif largest in ("optimizer", "grads", "weights"):
        fix = ("raise --zero" if lay.zero < 3 else "raise --pp or --tp") + " or add GPUs"
    else:
        fix = "raise --tp"
    return (f"needs {plan.memory_per_gpu_bytes / GIB:.1f} GiB per GPU but "
            f"{plan.accelerator.id} has {plan.hbm_bytes / GIB:.0f} GiB (largest part: "
            f"{largest} {mem[largest] / GIB:.1f} GiB); {fix}, or run --search")


def plan_training(job: TrainingJob, accelerator: Accelerator, layout: Layout,
                  fabric: Fabric | None = None, gpus: int | None = None,
                  allow_oom: bool = False, dp_overlap_frac: float | None = None,
                  allow_uneven_pp: bool = False) -> TrainingPlan:
    """Plan one layout. Raises InputError for an invalid layout and InfeasibleError when it
    does not fit in memory (unless `allow_oom`). With `allow_uneven_pp` a pipeline whose
    stages do not split the layers evenly is accepted and costed on its heaviest stage."""
    gpus = layout.gpus if gpus is None else gpus
    fabric = fabric or fabric_for(accelerator)
    check_layout(job, layout, gpus, allow_uneven_pp)
    notes = []
    if job.model.layers % (layout.pp * layout.vpp):
        notes.append(f"uneven pipeline: {job.model.layers} layers over pp·vpp = "
                     f"{layout.pp * layout.vpp} stages; costed on the heaviest stage")
    out = evaluate(job, accelerator, fabric, layout.arrays(), dp_overlap_frac=dp_overlap_frac)
    plan = build_plan(job, accelerator, fabric, layout, gpus, out, notes=notes)
    if not plan.fits and not allow_oom:
        raise InfeasibleError(oom_message(plan))
    return plan


def job_from_scenario(scen: Any) -> TrainingJob:
    from ..errors import ScenarioError
    from ..scenario import resolve_model

    if scen.model is None or scen.training is None:
        raise ScenarioError("scenario: 'model' and 'training' are needed for a training plan")
    t = scen.training
    return TrainingJob(model=resolve_model(scen.model), tokens=float(t.tokens),
                       seq_len=t.seq_len, global_batch=t.global_batch, precision=t.precision,
                       job=t.job, goodput_frac=t.goodput_frac,
                       lora_rank=getattr(t, "lora_rank", None),
                       rollout_tokens=getattr(t, "rollout_tokens", None))


def hardware_from_scenario(scen: Any) -> tuple[Accelerator, Fabric]:
    from .. import hardware
    from ..errors import ScenarioError

    hw = scen.hardware
    if hw is None or not (hw.accelerator or hw.system):
        raise ScenarioError("scenario: hardware.accelerator (or hardware.system) is needed")
    sys = hardware.system(hw.system) if hw.system else None
    acc = hardware.accelerator(hw.accelerator or sys.accelerator)
    if sys is None:
        sys = hardware.default_system(acc.id)
    return acc, fabric_for(acc, sys)


def plan_from_scenario(scen: Any, allow_oom: bool = False,
                       allow_uneven_pp: bool = False) -> TrainingPlan:
    """The training plan a scenario file describes (layout from training.layout; dp derived
    from the GPU count when omitted)."""
    from ..errors import ScenarioError

    job = job_from_scenario(scen)
    acc, fabric = hardware_from_scenario(scen)
    if scen.cluster is None:
        raise ScenarioError("scenario: cluster.gpus is needed for a training plan")
    gpus = scen.cluster.gpus
    lay = scen.training.layout
    values = lay.model_dump() if lay is not None else {}
    values = {k: v for k, v in values.items() if k in FIELDS}
    if values.get("dp") is None:
        rest = values.get("tp", 1) * values.get("pp", 1) * values.get("cp", 1)
        values["dp"] = max(1, gpus // rest)  # check_layout names the rules a remainder breaks
    uneven = allow_uneven_pp or bool(lay is not None and lay.uneven_pp)
    return plan_training(job, acc, Layout(**values), fabric, gpus, allow_oom=allow_oom,
                         allow_uneven_pp=uneven)
