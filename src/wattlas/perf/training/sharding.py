"""Fully sharded data parallelism: ZeRO-3 / FSDP and hybrid sharding (HSDP), on numpy arrays.

ZeRO stage 3 (Rajbhandari et al. 2020) and PyTorch FSDP (Zhao et al. 2023) shard parameters,
gradients and optimizer states over the data-parallel ranks. Per micro-batch and per layer (one
FSDP unit), every rank

* all-gathers the layer's 16-bit weights before its forward, again before a recomputed forward
  (full recompute) and before its backward: ``n_gather`` = 2, or 3 with full recompute;
* reduce-scatters the layer's gradients after its backward;

so each collective moves S = 2 bytes × the layer's parameters. With prefetch (the next unit's
gather issued while this unit computes) a collective hides behind the compute of the pass that
needs it; what cannot hide is ``max(C / n, C − overlap · compute)`` for C the collectives of a
micro-batch over n layers (the first unit's gather has nothing to hide behind).

**Hybrid sharding (HSDP).** ``dp_shard`` ranks form a shard group (parameters, gradients and
optimizer states sharded inside it), and the ``dp·cp / dp_shard`` groups are replicas: the
gathers and reduce-scatters run inside the group (usually one node or NVLink domain), then each
rank all-reduces its gradient shard (1/dp_shard of the gradients) with its peers in the other
replicas once per step (Zhao et al. 2023 §3.2.2; torchtitan ``dp_replicate × dp_shard``).
``dp_shard = 0`` shards over all dp·cp ranks (plain ZeRO-3 / FSDP).

**Stack generation.** The sharded collectives of DeepSpeed's 2021 ZeRO-3 (the Megatron SC'21
comparison, Narayanan et al. 2021 Table 2 / §5.2) reached one NIC's bandwidth per GPU: doubling
the GPUs at a fixed batch halves the throughput (144 → 88 → 44 TFLOP/s per GPU for GPT-3 at
384 → 768 → 1,536 A100), i.e. a communication floor of ≈ 4 × 2 × 174.6e9 B / 21 GB/s per step
per GPU, where the node's 8 NICs aggregated (the hierarchical tier of :func:`.comm.tier`, about
200 GB/s) would give a floor eight times lower. Software from ``FLAT_UNTIL_YEAR + 1`` on (PyTorch
FSDP, released with PyTorch 1.11 in March 2022; DeepSpeed's coalesced ZeRO-3 collectives) is
costed on the hierarchical tier like every other data-parallel collective, with the stack's
data-parallel overlap. A job's ``software_year`` (None = today) chooses.

Fitted constant (calibration subset chosen before fitting: the three GPT-3 175B ZeRO-3 rows of
SC'21 Table 2; the three GPT-530B ZeRO-3 rows are out of sample):
``ZERO3_2021_OVERLAP_FRAC``, the fraction of a micro-batch's compute that hides its sharded
collectives on the 2021 stack. Refit with :func:`fit_zero3_2021_overlap`.

References
----------
* S. Rajbhandari et al., "ZeRO: Memory Optimizations Toward Training Trillion Parameter Models",
  SC'20, arXiv:1910.02054 (§5, stage 3 communication: 3 × parameters per step).
* Y. Zhao et al., "PyTorch FSDP: Experiences on Scaling Fully Sharded Data Parallel",
  VLDB 2023, arXiv:2304.11277 (§3.2 hybrid sharding, §3.3 prefetching).
* D. Narayanan et al., "Efficient Large-Scale Language Model Training on GPU Clusters Using
  Megatron-LM", SC'21, arXiv:2104.04473 (Table 2, §5.2: ZeRO-3 vs PTD-P).
* G. Wang et al., "ZeRO++: Extremely Efficient Collective Communication for Giant Model
  Training", arXiv:2306.10209 (hierarchical partitioning, hpZ).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...hardware import Fabric
from .. import comm

#: last software year whose sharded (ZeRO-3) collectives ran flat at one NIC per GPU
FLAT_UNTIL_YEAR = 2021
#: fitted on the SC'21 Table 2 GPT-3 175B ZeRO-3 rows (fit_zero3_2021_overlap)
ZERO3_2021_OVERLAP_FRAC = 0.557


def flat(software_year: int | None) -> bool:
    """Whether the sharded collectives of a stack of `software_year` ran flat (one NIC per
    GPU); None (today) → False."""
    return software_year is not None and software_year <= FLAT_UNTIL_YEAR


def shard_group(dp_shard: Any, shard: Any) -> np.ndarray:
    """Ranks a ZeRO/FSDP shard group spans: `dp_shard` where given (> 0), else all `shard` =
    dp·cp data-parallel ranks (arrays)."""
    shard = np.asarray(shard, dtype=float)
    if dp_shard is None:
        return shard
    g = np.asarray(dp_shard, dtype=float)
    return np.where(g > 0, np.minimum(g, shard), shard)


def tier(fabric: Fabric, size: Any, stride: Any, software_year: int | None
         ) -> tuple[np.ndarray, np.ndarray]:
    """Bandwidth [bytes/s] and latency [s] of a sharded collective over `size` ranks `stride`
    apart: :func:`.comm.tier`, limited to one NIC per GPU when it crosses nodes on a stack whose
    sharded collectives ran flat (:func:`flat`)."""
    bw, al = comm.tier(fabric, size, stride)
    if flat(software_year):
        crosses = np.asarray(stride, dtype=float) * np.asarray(size, dtype=float) > \
            fabric.scaleup_domain
        bw = np.where(crosses, np.minimum(bw, fabric.scaleout_bytes_per_s), bw)
    return bw, al


def overlap_frac(zero: Any, software_year: int | None, dp_overlap_frac: float) -> np.ndarray:
    """Fraction of a micro-batch's compute that hides its data-parallel collectives: the fitted
    2021 ZeRO-3 prefetch overlap for ZeRO-3 on a flat stack, else the stack's
    `dp_overlap_frac`."""
    z = np.asarray(zero)
    if flat(software_year):
        return np.where(z >= 3, ZERO3_2021_OVERLAP_FRAC, dp_overlap_frac)
    return np.full(z.shape, float(dp_overlap_frac))


def gathers_per_microbatch(recompute: Any) -> np.ndarray:
    """Weight all-gathers per layer per micro-batch: forward and backward, plus the recomputed
    forward under full recompute (code 2)."""
    return 2.0 + np.where(np.asarray(recompute) == 2, 1.0, 0.0)


def exposed_s(comm_s: Any, compute_s: Any, n_layers: Any, overlap: Any) -> np.ndarray:
    """Collective time not hidden behind compute [s]: max(C / n, C − overlap · compute), the
    first unit's share never hidden."""
    c = np.asarray(comm_s, dtype=float)
    return np.maximum(c / n_layers, c - overlap * compute_s)


def replica_all_reduce_s(grad_bytes: Any, group: Any, shard: Any, fabric: Fabric,
                         stride: Any) -> np.ndarray:
    """HSDP: all-reduce of a rank's gradient shard (`grad_bytes` / group) over the
    shard / group replicas, which sit `group` × `stride` ranks apart [s] (zero when not
    hybrid)."""
    group = np.asarray(group, dtype=float)
    reps = np.asarray(shard, dtype=float) / group
    bw, al = comm.tier(fabric, reps, np.asarray(stride, dtype=float) * group)
    return np.where(reps > 1, comm.all_reduce_s(np.asarray(grad_bytes) / group, reps, bw, al),
                    0.0)

