"""Training plan: memory per device, step time, MFU/HFU and totals for one layout.

One code path: :func:`evaluate` is written on numpy arrays (one array per layout field) and is
used both by the layout search (thousands of layouts at once) and by :func:`plan_training`
(1-element arrays).

Step time per device (seconds per optimizer step)::

    step = m·(compute + recompute + tp + cp + ep + pp)   per-micro-batch times of one stage
         + (p−1)/v · t_microbatch                        pipeline bubble (Narayanan et al. 2021)
         + exposed dp                                    grads not hidden by backward
         + optimizer (state bytes / HBM bandwidth) + offload (host-link transfer, CPU Adam)
         + rollout (RL: the serving model's prefill and decode, :func:`rollout_time_s`)

with ``m = global_batch / (dp·microbatch)`` micro-batches. A layer's forward takes
max(GPU time, host launch time) per pass: GPU time = FLOPs / (peak of the precision × GEMM
efficiency of the per-device shape, see :mod:`.calibration`) + elementwise bytes / HBM bandwidth.
Communication uses :mod:`.comm`: pipeline p2p with Megatron's scatter/gather (1/t per rank),
ZeRO-2/3 reduce-scatter per micro-batch, ZeRO-3 gathers for forward, recomputed forward and
backward, MoE expert gradients over dp·cp/ep. The layout types, shape scalars and rules live in
:mod:`.layout` and are re-exported here. MFU counts model FLOPs (PaLM App. B,
6·N + 12·L·H·Q·T per token, no recompute); HFU adds the recomputed FLOPs.

References
----------
* D. Narayanan et al., "Efficient Large-Scale Language Model Training on GPU Clusters Using
  Megatron-LM", SC'21, arXiv:2104.04473 (bubble (p−1)/(m·v), eq. 3; §4.1 scatter/gather).
* V. Korthikanti et al., "Reducing Activation Recomputation in Large Transformer Models",
  arXiv:2205.05198, 2022 (sequence parallelism, selective recompute).
* A. Chowdhery et al., "PaLM", arXiv:2204.02311, App. B (MFU).
* S. Rajbhandari et al., "ZeRO", SC'20, arXiv:1910.02054 (stage 2/3 collectives).
* H. Liu et al., "Ring Attention with Blockwise Transformers", arXiv:2310.01889 (CP).
* A. Grattafiori et al., "The Llama 3 Herd of Models", arXiv:2407.21783, §3.3.4: >90 % effective
  training time on 16K H100 GPUs (the default goodput).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from ...errors import InfeasibleError, InputError
from ...hardware import Accelerator, Fabric, fabric_for
from ...units import GIB, SECONDS_PER_HOUR
from ...workload import mamba
from .. import comm, network
from . import calibration, memory, moe, sharding
from .layout import (  # noqa: F401  (re-exported: the public API lives here)
    BREAKDOWN,
    DEFAULT_GOODPUT_FRAC,
    DP_GRAD_BYTES,
    FIELDS,
    JOBS,
    LORA_TARGETS,
    MEMORY_PARTS,
    OFFLOAD_CODE,
    PRECISIONS,
    RECOMPUTE_CODE,
    Layout,
    TrainingJob,
    TrainingPlan,
    job_shape,
    layout_rules,
)
from .software import available, year_defaults

# the vectorised model ---------------------------------------------------------------------------

def evaluate(job: TrainingJob, acc: Accelerator, fabric: Fabric, a: dict[str, np.ndarray],
             consts: dict[str, float] | None = None, shape: dict[str, float] | None = None,
             dp_overlap_frac: float | None = None, grad_bytes: float | None = None
             ) -> dict[str, Any]:
    """Step time, breakdown and memory for arrays of layouts (see module docstring).

    `dp_overlap_frac` (default ``calibration.DP_OVERLAP_FRAC``) and `grad_bytes` (gradient
    bytes held per trainable parameter, default ``memory.GRAD_BYTES`` = 4, Megatron fp32 main
    grads; 6 for DeepSpeed's BF16 optimizer, which keeps the bf16 ``.grad`` and an fp32
    accumulation buffer) describe the framework generation.

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

    # compute: FLOPs per micro-batch per device (one forward pass), then time. GEMMs run at
    # the precision's peak × the shape's efficiency × the accelerator's factor (clocks held
    # under its board power limit) × the low-precision recipe's factor
    eff = (calibration.gemm_efficiency(h / tp, tok, c)
           * calibration.accel_factor(acc.id, c)
           * calibration.precision_factor(job.precision, c))
    f_mm = 2.0 * tok * sh["layer_mm"] / tp * n_ls
    f_att = tok * sh["att_per_tok"] / tp * n_ls
    f_log = 2.0 * tok * h * V / tp  # last stage
    rate = peak * eff
    passes = sh["passes"]
    # the attention core (QKᵀ, AV) over forward and backward of one micro-batch. Fused
    # (FlashAttention) kernels run in 16-bit whatever the GEMM precision (FP8 recipes keep
    # attention in BF16), skip the masked half of a causal score matrix and recompute the scores
    # in the backward (5 matmuls against the forward's 2: Dao 2023, Alg. 2), at their own
    # fraction ATTN_EFF of the 16-bit peak; unfused attention runs as batched GEMMs on the full
    # score matrix at the GEMM rate, as the model FLOPs count it (3 passes, 2 for LoRA).
    peak16 = acc.peak_flop_per_s("fp16" if job.precision == "fp16" else "bf16")
    att_rate = peak16 * c["attn_eff"] * calibration.accel_factor(acc.id, c)
    att_fused = (calibration.ATTN_CAUSAL_FRAC * f_att
                 * (1.0 + calibration.FA_BWD_FLOP_RATIO) / att_rate)
    t_att = np.where(fa, att_fused, passes * f_att / rate)  # all passes of one micro-batch
    # memory-bound elementwise work (norms, GELU, softmax, dropout, residuals): traffic
    # proportional to the activations a layer produces, at HBM bandwidth
    # selective recompute of a stack with recompute modules (feature recompute_modules) also
    # redoes the norms, the activation function and the MLA up-projections
    mods = available("recompute_modules", job.software_year)
    per_layer, none_layer = memory.layer_activation_bytes(
        s, mb, h, sh["a"], sh["kvd"], sh["ffn_act"], sh["ffn_mats"], tp, sp, rc, fa, cp,
        gemm_input_bytes=(memory.FP8_GEMM_INPUT_BYTES if job.precision in ("fp8", "fp4")
                          else memory.ACT_BYTES),
        modules=mods, mla_latent=sh["mla_latent"], attn_frac=sh["attn_frac"],
        mlp_frac=sh["mlp_frac"])
    # hybrid Mamba–Transformer (workload.mamba): the Mamba-2 blocks' activations in their share
    # of the layers (full recompute keeps every layer's input, already counted), and their SSD
    # scans, run in 16 bits by fused kernels at the attention kernels' rate over 3 passes
    hybrid = bool(np.any(np.asarray(sh["tp_ar_scale"]) != 1.0))  # a layer pattern
    f_ssd = t_ssd = 0.0
    if hybrid:
        f_ssd = tok * sh["ssd_per_tok"] / tp * n_ls
        t_ssd = passes * f_ssd / (acc.peak_flop_per_s("fp16" if job.precision == "fp16"
                                                      else "bf16")
                                  * c["attn_eff"] * calibration.accel_factor(acc.id, c))
        # kept bytes are memory; produced bytes (with the recomputed conv output and chunk
        # states) the elementwise traffic
        mam = [mamba.activation_bytes(sh["mamba_rep_b"], sh[k], h, s, mb, tp, sp, r, cp, act_b)
               for k, r in (("mamba_split_b", rc), ("mamba_made_b", 0))]
        per_layer = per_layer + sh["mamba_frac"] * np.where(rc == 2, 0.0, mam[0])
        none_layer = none_layer + sh["mamba_frac"] * mam[1]
    hbm_bw = acc.require("hbm_bytes_per_s")
    t_elem = c["elem_traffic"] * none_layer / hbm_bw
    # selective recompute redoes the attention core: its two batched GEMMs (f_att) and the
    # softmax/dropout traffic over the 5·a·s²·b score bytes (none without FlashAttention's
    # fused kernel, which is part of f_att)
    scores = np.where(fa, 0.0, 5.0 * sh["a"] * (s / cp) * s * mb / tp)
    t_sel = (np.where(fa, calibration.ATTN_CAUSAL_FRAC * f_att / att_rate, f_att / rate)
             + n_ls * c["elem_traffic"] * scores / hbm_bw)
    # recompute modules: the two norm outputs (2h each), the activation output (2·ffn) written
    # again (elementwise, at HBM bandwidth) and the MLA up-projection GEMMs run again
    f_mla = 2.0 * tok * sh["mla_up"] / tp * n_ls
    if mods:
        t_sel = t_sel + (n_ls * c["elem_traffic"] * tok * (4.0 * h + 2.0 * sh["ffn_act"]) / tp
                         / hbm_bw + f_mla / rate)
    # one layer's forward-equivalent pass on the GPU (its attention is 1/passes of the
    # attention over all passes); the host launches its kernels asynchronously, so a layer
    # takes the longer of GPU time and host launch time (launch-bound small layers; adding the
    # two was the first model, see docs/training.md)
    # MoE (perf.training.moe): the routed experts run as grouped GEMMs at their per-expert shape and
    # wait for the busiest rank; the difference from the dense-shape time is added per layer
    etp = moe.etp_of(f.get("etp"), tp)
    moe_extra = 0.0
    if np.any(sh["top_k"]):
        f_exp = 2.0 * tok * sh["routed"] * sh["top_k"] / sh["experts"] / tp * n_ls
        moe_extra = moe.expert_gemm_extra_s(
            tok * etp / tp, sh["top_k"], sh["experts"], sh["expert_ffn"], h, ep, etp, f_exp,
            rate, peak, c, eff / calibration.gemm_efficiency(h / tp, tok, c))
    t_gpu_layer = (f_mm / rate + t_att / passes + moe_extra) / n_ls + t_elem
    if hybrid:
        t_gpu_layer = t_gpu_layer + t_ssd / passes / n_ls
    t_layer = np.maximum(t_gpu_layer, c["layer_overhead_s"])
    t_fwd = f_log / rate + n_ls * t_layer
    if available("balanced_pipeline_split", job.software_year):
        # the embedding and the loss take one layer slot each in the pipeline split
        # (Megatron-Core account_for_embedding/loss_in_pipeline_split): the last stage holds
        # one layer fewer next to the LM head when that makes the heaviest stage lighter
        slots = np.ceil((L + 2.0) / (pp * vpp)) * vpp
        t_bal = np.maximum(slots * t_layer, (slots - 1.0) * t_layer + f_log / rate)
        t_fwd = np.where(pp > 1, np.minimum(t_fwd, t_bal), t_fwd)
    compute_mb = passes * t_fwd
    # op-level selective checkpointing (torchtitan, code 3): every second matmul of the layer
    # runs again (K projection, output projection, third MLP matmul: torchtitan's policy "saves
    # output of all compute ops, except every second mm") with the elementwise ops (norms, RoPE,
    # activation), whose outputs are written again at HBM bandwidth; attention is saved
    f_op = 2.0 * tok * h * (sh["kvd"] + h + sh["ffn_act"]) / tp * n_ls
    t_op = f_op / rate + n_ls * c["elem_traffic"] * tok * (4.0 * h + 2.0 * sh["ffn_act"]) / tp \
        / hbm_bw
    recompute_mb = np.where(rc == 2, n_ls * t_layer,
                            np.where(rc == 1, t_sel, np.where(rc == 3, t_op, 0.0)))
    flop_mb = passes * (f_mm + f_att + f_log)
    reflop_mb = np.where(rc == 2, f_mm + f_att,
                         np.where(rc == 1, f_att + (f_mla if mods else 0.0),
                                  np.where(rc == 3, f_op, 0.0)))

    # tensor parallel: 2 all-reduce equivalents per layer per pass (AG+RS with SP), exposed
    # (hiding a fitted share under the GEMMs was tried: docs/training.md); one per layer of a
    # hybrid, whose layers have one mixer each (tp_ar_scale 0.5)
    bw, al = comm.tier(fabric, tp, 1)
    n_ar = n_ls * (2.0 * (passes - 1.0) + np.where(rc == 2, 2.0, 0.0))
    if hybrid:
        n_ar = n_ar * sh["tp_ar_scale"]
        flop_mb = flop_mb + passes * f_ssd
        reflop_mb = reflop_mb + np.where(rc == 2, f_ssd, 0.0)
    # (α–β ring bandwidth with the smaller of ring and tree latency: the intra-node ring's
    # 2·(n−1)·α of perf.network was tried, docs/training.md "The cluster network"); a fabric
    # with NVLink SHARP reduces in the switch when that is faster (perf.network)
    tp_ar = comm.all_reduce_s(tok * h * act_b, tp, bw, al)
    if getattr(fabric, "nvls", False):
        tp_ar = np.minimum(tp_ar, network.all_reduce_s(fabric, tok * h * act_b, tp, 1))
    tp_mb = n_ar * tp_ar
    # context parallel: ring exchange of K/V chunks, overlapped with attention compute
    bw, al = comm.tier(fabric, cp, tp)
    kv_chunk = 2.0 * tok * sh["kvd"] * act_b / tp
    cp_layer = 3.0 * (cp - 1.0) * comm.p2p_s(kv_chunk, bw, al)
    if hybrid:  # the K/V ring runs in the attention layers only
        cp_layer = cp_layer * sh["attn_frac"]
    cp_mb = np.where(cp > 1, n_ls * np.maximum(cp_layer - 3.0 * f_att / n_ls / rate, 0.0), 0.0)
    # a hybrid's Mamba layers under context parallelism (Megatron-Core MambaContextParallel):
    # an all-to-all turns the sequence-split in_proj output into head-split full sequences
    # before the scan and another turns the scan output back, in the forward, the backward
    # and a recomputed forward; not hidden
    if hybrid:
        a2a = comm.all_to_all_s(tok / tp * sh["mamba_a2a_b"], cp, bw, al)
        cp_mb = cp_mb + np.where(cp > 1, n_ls * sh["mamba_frac"] * a2a
                                 * (2.0 + np.where(rc == 2, 1.0, 0.0)), 0.0)
    # expert parallel (perf.training.moe): a dispatch + combine all-to-all pair per MoE layer for
    # the
    # forward (again for a recomputed forward) and for the backward; the ep ranks sit etp apart.
    # FP8/FP4 recipes dispatch in FP8; combine and backward move 16-bit activations.
    ep_mb = np.zeros_like(tok)
    if np.any(sh["top_k"]):
        disp_b = 1.0 if job.precision in ("fp8", "fp4") else act_b
        dd = moe.dedup(job.software_year)
        fwd_pair = moe.all_to_all_pair_s(fabric, tok / tp, h, sh["top_k"], ep, etp, disp_b,
                                         act_b, dd)
        bwd_pair = moe.all_to_all_pair_s(fabric, tok / tp, h, sh["top_k"], ep, etp, act_b,
                                         act_b, dd)
        ep_mb = n_ls * sh["moe_frac"] * (fwd_pair * (1.0 + np.where(rc == 2, 1.0, 0.0))
                                         + (passes - 2.0) * bwd_pair)
        ep_mb = moe.exposed_all_to_all_s(ep_mb, passes * t_fwd, pp, job.software_year)
    # pipeline: p2p of the boundary activation forward and its gradient backward, per chunk.
    # Each of the tp ranks sends 1/tp of the boundary over its own link (sequence parallel, or
    # Megatron's scatter/gather optimisation, Narayanan et al. 2021 §4.1); without sequence
    # parallelism the receiver all-gathers the pieces over the tensor-parallel group.
    bw, al = comm.tier(fabric, pp, tp * cp * dp)
    boundary = tok * h * act_b
    bw_t, al_t = comm.tier(fabric, tp, 1)
    regather = np.where(sp, 0.0, comm.all_gather_s(boundary, tp, bw_t, al_t))
    pp_mb = np.where(pp > 1, 2.0 * vpp * (comm.p2p_s(boundary / tp, bw, al) + regather), 0.0)

    # RL: a critic trains like the policy (u = 2 for PPO), frozen reference/reward models run
    # one forward pass each over the batch
    u = sh["update_models"]
    compute_mb = u * compute_mb + sh["frozen_fwd"] * t_fwd
    recompute_mb, tp_mb, cp_mb, ep_mb, pp_mb = (u * x for x in (recompute_mb, tp_mb, cp_mb,
                                                                 ep_mb, pp_mb))
    flop_mb = u * flop_mb + sh["frozen_fwd"] * (f_mm + f_att + f_log)
    reflop_mb = u * reflop_mb
    t_mb = compute_mb + recompute_mb + tp_mb + cp_mb + ep_mb + pp_mb
    # 1F1B: the heaviest stage (the last, with the LM head) sets the pace of the fill/drain
    # too (amortising the head over the stages was tried: the fit subset got worse, see docs)
    bubble = (pp - 1.0) / vpp * t_mb

    # parameters held by one device (largest stage) and trainable ones
    dense_layer = (sh["layer_total"] - sh["routed"]) / tp + sh["routed"] / (ep * etp)
    first = n_ls * dense_layer + sh["emb"] / tp
    last = n_ls * dense_layer + np.where(sh["tied"], sh["emb"], sh["head"]) / tp
    params_dev = np.where(pp > 1, np.maximum(first, last), first + sh["head"] / tp)
    trainable = np.where(sh["lora"] > 0, n_ls * sh["lora"] / tp, params_dev)
    shard = dp * cp
    g_bytes = memory.GRAD_BYTES if grad_bytes is None else grad_bytes
    grad_reduce_bytes = DP_GRAD_BYTES

    # data parallel. Gradients of dense parameters are reduced over dp·cp ranks, those of
    # routed experts over the dp·cp/ep ranks that hold the same experts. ZeRO 0/1 reduce once
    # per step (all-reduce; Megatron accumulates full fp32 main grads); ZeRO 2/3 keep only a
    # gradient shard, so they reduce-scatter after every micro-batch's backward (DeepSpeed
    # stage 2/3). ZeRO-3 also all-gathers every layer's weights for the forward, the
    # recomputed forward (full recompute) and the backward of every micro-batch. A collective
    # is hidden behind the backward (gradients) or the compute (gathers) of its micro-batch up
    # to `dp_overlap_frac`, except one layer's share (the last bucket / first FSDP unit).
    # Collectives run per layer (one bucket / one FSDP unit each), so the α term counts n_ls
    # times: n_ls · cost(S / n_ls).
    # ZeRO-2/3 collectives run inside the shard group (all dp·cp ranks, or dp_shard of them
    # under hybrid sharding) on the tier the stack's sharded collectives reach
    # (perf.training.sharding)
    bw, al = comm.tier(fabric, shard, tp)
    shard_g = sharding.shard_group(f.get("dp_shard"), shard)
    bw_z, al_z = sharding.tier(fabric, shard_g, tp, job.software_year)
    expert_dev = np.where(sh["lora"] > 0, 0.0, n_ls * sh["routed"] / (ep * etp))
    dense_tr = trainable - expert_dev
    e_shard = np.maximum(tp * shard / (ep * etp), 1.0)  # experts' data-parallel replicas
    bw_e, al_e = comm.tier(fabric, e_shard, etp * ep)
    gb = grad_reduce_bytes / n_ls
    grad_rs = (comm.reduce_scatter_s(dense_tr * gb, shard_g, bw_z, al_z)
               + comm.reduce_scatter_s(expert_dev * gb, e_shard, bw_e, al_e))
    # all-reduce by the algorithm NCCL's cost model picks for the group (perf.network: ring,
    # tree across nodes, NVLS / SHARP where the fabric has them)
    grad_ar = (network.all_reduce_s(fabric, dense_tr * gb, shard, tp, (bw, al))
               + network.all_reduce_s(fabric, expert_dev * gb, e_shard, etp * ep,
                                      (bw_e, al_e)))
    grad_s = u * n_ls * np.where(zero >= 2, grad_rs, grad_ar)
    # a stack of a year before bucketed gradient overlap (feature dp_comm_overlap) reduces
    # after the last backward
    ov = ((c["dp_overlap_frac"] if available("dp_comm_overlap", job.software_year) else 0.0)
          if dp_overlap_frac is None else dp_overlap_frac)
    bwd_mb = (passes - 1.0) / passes * compute_mb
    ov_z = sharding.overlap_frac(zero, job.software_year, ov)
    grad_hidden = sharding.exposed_s(grad_s, bwd_mb, n_ls, ov_z)
    # hybrid sharding: each rank's gradient shard is all-reduced across the replicas once
    replica = u * np.where(zero >= 2, sharding.replica_all_reduce_s(
        dense_tr * grad_reduce_bytes, shard_g, shard, fabric, tp), 0.0)
    grad_exposed = (np.where(zero >= 2, m * grad_hidden, grad_hidden)
                    + sharding.exposed_s(replica, bwd_mb, n_ls, ov))
    n_gather = sharding.gathers_per_microbatch(rc)
    w_gb = memory.WEIGHT_BYTES / n_ls
    gather_mb = u * n_ls * np.where(zero >= 3, n_gather * (
        comm.all_gather_s((params_dev - expert_dev) * w_gb, shard_g, bw_z, al_z)
        + comm.all_gather_s(expert_dev * w_gb, e_shard, bw_e, al_e)), 0.0)
    gather_exposed = m * sharding.exposed_s(gather_mb, compute_mb, n_ls, ov_z)
    dp_exposed = np.where(shard > 1, grad_exposed + gather_exposed, 0.0)

    # optimizer step (memory-bound) or host offload
    local = (dense_tr / np.where(zero >= 1, shard_g, 1.0)
             + expert_dev / np.where(zero >= 1, e_shard, 1.0))
    opt = u * local * calibration.OPTIMIZER_STEP_BYTES_PER_PARAM / hbm_bw
    host_bw = fabric.host_link_bytes_per_s or acc.host_link_bytes_per_s or 0.0
    if np.any(off > 0) and not host_bw:
        raise InputError(f"{acc.id}: host link bandwidth is unknown, so offload cannot be "
                         "costed; use --offload none")
    opt_off, w_off, act_off = (off == 1) | (off == 2), off == 2, off == 3
    # optimizer offload (ZeRO-Offload): 16-bit grads down and updated 16-bit weights up over the
    # host link, then CPU Adam on the host, memory-bound: the same bytes per parameter as the GPU
    # step at the host's memory bandwidth share. Not overlapped (it sits between the last
    # backward and the next forward).
    link = local * (DP_GRAD_BYTES + memory.WEIGHT_BYTES) + np.where(
        w_off, params_dev * memory.WEIGHT_BYTES, 0.0)
    cpu_adam = (local * calibration.OPTIMIZER_STEP_BYTES_PER_PARAM
                / calibration.HOST_ADAM_BYTES_PER_S)
    offload_t = np.where(opt_off, u * (link / (host_bw or 1.0) + cpu_adam), 0.0)
    opt = np.where(opt_off, 0.0, opt)
    # activation offload (TransformerEngine/Megatron-Core CPU offloading): each layer's stored
    # activations go to the host during the forward and come back during the backward on a copy
    # stream, hidden behind the compute of that pass except one layer's copy (the last layer's
    # write and the first layer's read have no compute left to hide behind)
    per_mb = per_layer * n_ls / (host_bw or 1.0)  # one direction, one micro-batch
    act_t = (np.maximum(per_mb / n_ls, per_mb - t_fwd)
             + np.maximum(per_mb / n_ls, per_mb - (passes - 1.0) * t_fwd))
    offload_t = offload_t + np.where(act_off, m * u * act_t, 0.0)

    # RL rollout: the serving model's decode step (perf.serving.roofline) on dp·cp·pp groups of tp
    # GPUs
    gen = sh["gen_tokens"]
    prompt = s - gen
    rollout = np.zeros_like(m)
    if np.any(np.asarray(gen) > 0):  # (stacked validation shapes are pre-training only)
        rollout = rollout_time_s(job, acc, fabric, tp, sh["B"] / (dp * cp * pp), prompt, gen)

    bd = {"compute": m * compute_mb, "recompute": m * recompute_mb, "tp_comm": m * tp_mb,
          "cp_comm": m * cp_mb, "ep_comm": m * ep_mb, "pp_comm": m * pp_mb,
          "dp_comm": dp_exposed, "bubble": bubble, "optimizer": opt, "offload": offload_t,
          "rollout": rollout}
    # a stack slower than the calibrated model stretches every phase alike
    bd = {k: v / job.stack_efficiency_frac for k, v in bd.items()}
    step = sum(bd.values())

    # memory
    # ZeRO shards dense states over dp·cp, expert states over the dp·cp/ep expert replicas
    w, g, o = memory.state_bytes(params_dev - expert_dev, zero, shard_g, trainable - expert_dev,
                                 opt_off, grad_bytes=g_bytes)
    we, ge, oe = memory.state_bytes(expert_dev, zero, e_shard, expert_dev, opt_off,
                                    grad_bytes=g_bytes)
    w, g, o = w + we, g + ge, o + oe
    w = np.where(w_off, 0.0, w)
    # ZeRO-3 materialises gathered weights of the current and the prefetched layer, and one
    # layer's unsharded gradients before the reduce-scatter
    z3_buffer = np.where(zero >= 3, dense_layer * (2.0 * memory.WEIGHT_BYTES
                                                   + memory.GRAD_BYTES), 0.0)
    w = w + z3_buffer
    frozen = sh["frozen_fwd"] * w  # reference / reward weights, sharded like the policy's
    w, g, o = u * w, u * g, u * o
    inflight = memory.pipeline_inflight(pp, vpp, m)
    stored = per_layer * n_ls * inflight
    # activation offload keeps two layers' stored activations on the GPU (the one being copied
    # out or in, and the next one)
    stored = np.where(act_off, np.minimum(2.0 * per_layer, stored), stored)
    acts = stored + np.where(rc == 2, none_layer, 0.0)
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


def rollout_time_s(job: TrainingJob, acc: Accelerator, fabric: Fabric, tp: Any, batch: Any,
                   prompt_tokens: float, gen_tokens: float) -> np.ndarray:
    """RL rollout time per step [s] on groups of `tp` GPUs each generating for `batch`
    sequences: prefill of `prompt_tokens` plus `gen_tokens` decode steps at the mean context
    prompt + gen/2, from the serving model (:func:`.inference.decode_step_time_s`,
    :func:`.inference.prefill_time_s`, engine ``calibration.ROLLOUT_ENGINE``).

    A replica of tp·pp GPUs decoding with pp micro-batches in flight reads, per token, the
    whole model's weights once per micro-batch and each sequence's KV cache once: the bytes
    and FLOPs of a tp-wide replica of the whole model at batch b/pp, so each of the pp stages
    counts as one tp group (arrays: one value per layout; a tp the serving model rejects gives
    inf, or the error when every layout has it)."""
    from ..serving import roofline as inference

    tp_a, b = np.broadcast_arrays(np.asarray(tp, dtype=float), np.asarray(batch, dtype=float))
    out = np.full(tp_a.shape, np.inf)
    errors = []
    for t in np.unique(tp_a):
        try:
            cfg = inference.ServingConfig(model=job.model, accelerator=acc, tp=int(t),
                                          precision=job.precision,
                                          engine=calibration.ROLLOUT_ENGINE, fabric=fabric)
        except InputError as exc:  # e.g. tp beyond the scale-up domain: no rollout engine
            errors.append(exc)
            continue
        sel = tp_a == t
        ctx = prompt_tokens + gen_tokens / 2.0
        out[sel] = (gen_tokens * inference.decode_step_time_s(cfg, b[sel], ctx)
                    + inference.prefill_time_s(cfg, prompt_tokens, b[sel]))
    if errors and not np.any(np.isfinite(out)):
        raise InputError(f"RL rollout: {errors[0]}")
    return out


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
    notes = list(notes or [])
    if job.job in ("rlhf", "grpo"):
        notes.append(f"{job.job} rollout: the serving model's decode and prefill (engine "
                     f"{calibration.ROLLOUT_ENGINE}) on dp·cp·pp groups of tp GPUs; the RL step "
                     "as a whole is not calibrated (no published RL step times)")
    if job.job == "sft":
        notes.append("sft: full fine-tuning costs the same per token as pre-training (same "
                     "forward, backward and optimizer); --job lora is the option that changes "
                     "the cost")
    if layout.offload in ("optimizer", "optimizer+weights"):
        notes.append(f"offload {layout.offload}: host-link transfer and CPU Adam at "
                     f"{calibration.HOST_ADAM_BYTES_PER_S / 1e9:g} GB/s host memory bandwidth "
                     "per GPU (assumption), not overlapped")
    elif layout.offload == "activations":
        notes.append("offload activations: stored activations copied to the host in the "
                     "forward and back in the backward, overlapped with compute except one "
                     "layer's copy each way; host memory capacity not checked")
    if job.software_year is not None:
        notes.append(f"software of {job.software_year}: layout features published later are "
                     "not used (wattlas catalog features)")
    net = network.describe(fabric)
    if net:
        notes.append(f"network: {net}")
    mfu = model_step / (step * gpus * peak)
    goodput = job.goodput_frac if job.goodput_frac is not None else DEFAULT_GOODPUT_FRAC
    if job.stack_efficiency_frac != 1.0:
        # the ideal beside the plan: the same layout at stack efficiency 1 (the calibrated
        # Megatron-Core model), every phase 1/stack_efficiency shorter
        k = job.stack_efficiency_frac
        ideal_h = gpus * steps * step * k / goodput / SECONDS_PER_HOUR
        notes.append(f"stack efficiency {k:g}: every phase of the step takes 1/stack_efficiency "
                     f"as long as in the calibrated model; at stack efficiency 1 (ideal) the "
                     f"same layout reaches MFU {mfu / k:.1%} and {ideal_h:,.0f} GPU-hours "
                     f"({k - 1.0:+.0%}), before any power cap")
    if mfu > calibration.MFU_MAX_VALIDATED:
        notes.append(f"MFU {mfu:.1%} is above the highest measured in the validation data "
                     f"({calibration.MFU_MAX_VALIDATED:.1%}, Korthikanti et al. 2022 Table 5): "
                     "read it as an upper bound; production stacks reach less "
                     "(--stack-efficiency, docs/training.md)")
    time_s = steps * step / goodput
    return TrainingPlan(
        job=job, accelerator=acc, fabric=fabric, layout=layout, gpus=gpus, step_time_s=step,
        breakdown_s=breakdown, memory_bytes=mem, memory_per_gpu_bytes=total_mem, hbm_bytes=hbm,
        fits=total_mem <= hbm, mfu=mfu,
        hfu=hw_step / (step * gpus * peak), model_flop_per_s_per_gpu=model_step / step / gpus,
        hardware_flop_per_s_per_gpu=hw_step / step / gpus, tokens_per_s=tokens_step / step,
        steps=steps, training_time_s=time_s, gpu_hours=gpus * time_s / SECONDS_PER_HOUR,
        model_flop_total=model_step * steps, goodput_frac=goodput, notes=notes)


def capped_plan(plan: TrainingPlan, slowdown_frac: float,
                phase_time_factors: dict[str, float] | None = None,
                cap_w: float | None = None) -> TrainingPlan:
    """`plan` run under a per-GPU power cap that stretches its step by ``1 + slowdown_frac``
    (from :func:`wattlas.energy.training_energy`: ``slowdown_frac`` and
    ``phase_time_factors``, P − P_idle ∝ f³). Step time, training time (steps × step /
    goodput), GPU-hours, tokens/s, model and hardware FLOP/s per GPU and MFU/HFU (against the
    uncapped datasheet peak) follow; breakdown phases scale by their own factor (compute by
    the full clock ratio, communication less) and sum to the capped step. A slowdown of 0
    returns `plan` itself."""
    if not (math.isfinite(slowdown_frac) and slowdown_frac >= 0):
        raise InputError(f"power_cap_slowdown_frac = {slowdown_frac}: must be ≥ 0")
    if slowdown_frac == 0:
        return plan
    if plan.power_cap_slowdown_frac:
        raise InputError("capped_plan: the plan already includes a power-cap slowdown")
    k = 1.0 + slowdown_frac
    step = plan.step_time_s * k
    factors = phase_time_factors or {}
    bd = {n: t * factors.get(n, k) for n, t in plan.breakdown_s.items()}
    total = sum(bd.values())
    if total > 0:  # phases sum to the capped step exactly (as they sum to the uncapped one)
        bd = {n: t * step / total for n, t in bd.items()}
    time_s = plan.steps * step / plan.goodput_frac
    cap = f"power cap {cap_w:g} W per GPU" if cap_w is not None else "power cap"
    note = (f"{cap}: step time × {k:.3f} (clocks lowered to the cap; times, tokens/s and MFU "
            "include it)")
    return replace(plan, step_time_s=step, breakdown_s=bd, mfu=plan.mfu / k, hfu=plan.hfu / k,
                   model_flop_per_s_per_gpu=plan.model_flop_per_s_per_gpu / k,
                   hardware_flop_per_s_per_gpu=plan.hardware_flop_per_s_per_gpu / k,
                   tokens_per_s=plan.tokens_per_s / k, training_time_s=time_s,
                   gpu_hours=plan.gpus * time_s / SECONDS_PER_HOUR,
                   notes=[*plan.notes, note], power_cap_slowdown_frac=slowdown_frac)


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
                  allow_uneven_pp: bool = False, grad_bytes: float | None = None
                  ) -> TrainingPlan:
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
    out = evaluate(job, accelerator, fabric, layout.arrays(), dp_overlap_frac=dp_overlap_frac,
                   grad_bytes=grad_bytes)
    plan = build_plan(job, accelerator, fabric, layout, gpus, out, notes=notes)
    if not plan.fits and not allow_oom:
        raise InfeasibleError(oom_message(plan))
    return plan


def job_from_scenario(scen: Any) -> TrainingJob:
    from ...errors import ScenarioError
    from ...scenario import resolve_model

    if scen.model is None or scen.training is None:
        raise ScenarioError("scenario: 'model' and 'training' are needed for a training plan")
    t = scen.training
    return TrainingJob(model=resolve_model(scen.model), tokens=float(t.tokens),
                       seq_len=t.seq_len, global_batch=t.global_batch, precision=t.precision,
                       job=t.job, goodput_frac=t.goodput_frac,
                       lora_rank=getattr(t, "lora_rank", None),
                       rollout_tokens=getattr(t, "rollout_tokens", None),
                       software_year=t.software_year,
                       stack_efficiency_frac=t.stack_efficiency_frac)


def hardware_from_scenario(scen: Any) -> tuple[Accelerator, Fabric]:
    from ... import hardware
    from ...errors import ScenarioError

    hw = scen.hardware
    if hw is None or not (hw.accelerator or hw.system):
        raise ScenarioError("scenario: hardware.accelerator (or hardware.system) is needed")
    sys = hardware.system(hw.system) if hw.system else None
    acc = hardware.accelerator(hw.accelerator or sys.accelerator)
    if sys is None:
        sys = hardware.default_system(acc.id)
    fabric = fabric_for(acc, sys, scaleout_bytes_per_s=hw.nic_bytes_per_s)
    net = getattr(hw, "network", None)
    if net is not None:  # pods, oversubscription, NVLS, SHARP (perf.network)
        fabric = network.network(fabric, **net.model_dump())
    return acc, fabric


def plan_from_scenario(scen: Any, allow_oom: bool = False,
                       allow_uneven_pp: bool = False) -> TrainingPlan:
    """The training plan a scenario file describes (layout from training.layout; dp derived
    from the GPU count when omitted)."""
    from ...errors import ScenarioError

    job = job_from_scenario(scen)
    acc, fabric = hardware_from_scenario(scen)
    if scen.cluster is None:
        raise ScenarioError("scenario: cluster.gpus is needed for a training plan")
    gpus = scen.cluster.gpus
    lay = scen.training.layout
    values = lay.model_dump() if lay is not None else {}
    values = {k: v for k, v in values.items() if k in FIELDS}
    given = lay.model_fields_set if lay is not None else set()
    values.update({k: v for k, v in year_defaults(job.software_year).items() if k not in given})
    if values.get("dp") is None:
        rest = values.get("tp", 1) * values.get("pp", 1) * values.get("cp", 1)
        values["dp"] = max(1, gpus // rest)  # check_layout names the rules a remainder breaks
    uneven = allow_uneven_pp or bool(lay is not None and lay.uneven_pp)
    return plan_training(job, acc, Layout(**values), fabric, gpus, allow_oom=allow_oom,
                         allow_uneven_pp=uneven)
