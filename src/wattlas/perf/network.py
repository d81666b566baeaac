"""The cluster network: scale-up domains, rail-optimised fat-tree pods with oversubscription
above them, in-network reduction (NVLink SHARP, InfiniBand SHARP), and all-reduce by algorithm
with the choice NCCL's cost model makes. Numpy arrays throughout (the layout search evaluates
every layout at once).

**Fabric.** A :class:`Network` is a :class:`~wattlas.hardware.Fabric` (scale-up domain and its
bandwidth, NIC bandwidth per GPU, α of each tier) with what a cluster adds:

* ``pod_gpus``: GPUs under one full-bisection block of the fat-tree (rail-optimised: GPU *i*
  of every node on rail switch *i*, so a group of equal local ranks stays on its rail inside
  the pod); 0 = the whole cluster is non-blocking (NVIDIA DGX SuperPOD reference architectures,
  the default). Meta's Llama 3 RoCE cluster: pods of 3,072 GPUs at full bisection, joined at
  the aggregation layer with **1:7 oversubscription** (Grattafiori et al. 2024, §3.3.1).
* ``oversubscription``: ratio of the bandwidth into the layer above the pod to the bandwidth
  it can carry (7 for 1:7).
* ``nvls``: NVLink SHARP (NVSwitch multicast/reduction, Hopper and later): an all-reduce
  inside the scale-up domain moves each byte to and from the switch once.
* ``sharp``: in-network reduction on the scale-out switches (InfiniBand SHARP, NCCL CollNet):
  the inter-node part of an all-reduce moves each byte up and down once, with a latency of the
  tree's depth.

**Placement.** Megatron rank order (tp innermost, then cp, dp, pp): a group of ``n`` ranks
``stride`` apart keeps ``k = min(n, max(1, domain // stride))`` members per scale-up domain and
spans ``n / k`` nodes (:func:`members_per_node`). Concurrent groups share the node's NICs:
the ``domain / k`` groups of one node each use ``k`` of its rails, so a group crossing nodes
sees ``k`` × the NIC bandwidth per GPU (what :func:`.comm.tier` returns). A group whose
``n · stride`` ranks exceed a pod crosses the oversubscribed layer: a ring (or tree) keeps
``k_pod = min(n, pod_gpus / stride)`` consecutive members per pod and only one hop per pod
leaves it, so all the pod's rings together put ``pod_gpus / k_pod`` chunks per step through
``pod_gpus · NIC / oversubscription`` of uplink: bandwidth × ``min(1, k_pod / oversubscription)``
(:func:`pod_factor`). An all-to-all sends a share ``1 − k_pod / n`` of its bytes out of the
pod at NIC / oversubscription (:func:`all_to_all_pod_factor`).

**All-reduce algorithms** (S bytes per rank, n ranks, bandwidth B per rank per direction of
the tier, α per step):

* ring:      2·(n−1)/n · S/B + 2·(n−1)·α (Patarasuk & Yuan 2009; NCCL ring)
* tree:      2 · S/B + 2·⌈log₂ n⌉·α (NCCL's double binary tree, Sanders et al. 2009: each
  rank sends S/2 up and S/2 down in each of two trees, pipelined); only across nodes
  (inside a node NCCL's tree is a chain)
* NVLS:      2 · S/B_up / 2 + 2·α = S/B_up + 2α inside the scale-up domain with NVLink SHARP
  (each byte to the switch and back once; the switch reduces)
* SHARP:     the inter-node part at S/B + 2·⌈log₂ nodes⌉·α (switches reduce)

NCCL picks, per call, the algorithm (and protocol) its cost model predicts fastest from these
same terms: a base latency per algorithm plus a per-step hardware latency, and the bus
bandwidth of the algorithm on the topology (NVIDIA/nccl ``src/graph/tuning.cc``; Hu et al.,
"Demystifying NCCL", arXiv:2507.04786, §4). :func:`all_reduce_s` returns the minimum over the
algorithms the group can use, :func:`all_reduce_algorithm` which one that is: ring for large
buffers on few ranks, tree when 2·(n−1)·α dominates (thousands of data-parallel ranks), NVLS
or SHARP where the system has them.

References
----------
* A. Grattafiori et al., "The Llama 3 Herd of Models", arXiv:2407.21783, §3.3.1 (network
  topology: 3,072-GPU pods at full bisection, 1:7 oversubscription at the aggregation layer).
* P. Patarasuk, X. Yuan, "Bandwidth optimal all-reduce algorithms for clusters of
  workstations", JPDC 69(2), 2009.
* P. Sanders, J. Speck, J. L. Träff, "Two-tree algorithms for full bandwidth broadcast,
  reduction and scan", Parallel Computing 35(12), 2009.
* NVIDIA, NCCL ``src/graph/tuning.cc`` (per-algorithm latency and bandwidth model) and the NCCL
  user guide, ``NCCL_ALGO`` (Ring, Tree, CollnetDirect, CollnetChain, NVLS, NVLSTree, PAT).
* Z. Hu et al., "Demystifying NCCL: An In-depth Analysis of GPU Communication Protocols and
  Algorithms", arXiv:2507.04786, 2025.
* R. L. Graham et al., "Scalable Hierarchical Aggregation Protocol (SHArP)", COMHPC 2016.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from ..hardware import Fabric

#: all-reduce algorithms in the order :func:`all_reduce_algorithm` numbers them
ALGORITHMS = ("ring", "tree", "nvls", "sharp")


@dataclass(frozen=True)
class Network(Fabric):
    """A :class:`Fabric` with the cluster's pods, oversubscription and in-network reduction
    (module docstring). Defaults describe a non-blocking fat-tree without SHARP or NVLS: the
    network every calibrated constant of the training model was fitted with."""

    pod_gpus: int = 0
    oversubscription: float = 1.0
    nvls: bool = False
    sharp: bool = False

    def __post_init__(self) -> None:
        if not (isinstance(self.pod_gpus, int | np.integer) and self.pod_gpus >= 0):
            raise InputError(f"network.pod_gpus = {self.pod_gpus!r}: must be an integer ≥ 0 "
                             "(0 = the whole cluster at full bisection)")
        if not (np.isfinite(self.oversubscription) and self.oversubscription >= 1.0):
            raise InputError(f"network.oversubscription = {self.oversubscription!r}: must be "
                             "≥ 1 (7 for 1:7)")


def network(fabric: Fabric, **fields: Any) -> Network:
    """`fabric` as a :class:`Network` with `fields` (pod_gpus, oversubscription, nvls, sharp)."""
    base = {k: getattr(fabric, k) for k in Fabric.__dataclass_fields__}
    if isinstance(fabric, Network):
        base.update({k: getattr(fabric, k) for k in ("pod_gpus", "oversubscription", "nvls",
                                                      "sharp")})
    unknown = set(fields) - set(Network.__dataclass_fields__)
    if unknown:
        raise InputError(f"network: unknown field(s) {sorted(unknown)}; allowed pod_gpus, "
                         "oversubscription, nvls, sharp")
    base.update(fields)
    return Network(**base)


def describe(fabric: Fabric) -> str:
    """What a fabric adds to a non-blocking network, in words ('' for none)."""
    parts = []
    pod = int(getattr(fabric, "pod_gpus", 0) or 0)
    over = float(getattr(fabric, "oversubscription", 1.0) or 1.0)
    if pod and over > 1.0:
        parts.append(f"full-bisection pods of {pod:,} GPUs, 1:{over:g} oversubscribed above "
                     "(groups leaving a pod share its uplinks)")
    elif pod:
        parts.append(f"pods of {pod:,} GPUs, non-blocking above")
    if getattr(fabric, "nvls", False):
        parts.append("NVLink SHARP in the scale-up domain")
    if getattr(fabric, "sharp", False):
        parts.append("SHARP reduction in the scale-out switches")
    return "; ".join(parts)


def members_per_node(domain: float, size: Any, stride: Any) -> np.ndarray:
    """Members of a group of `size` ranks `stride` apart inside one scale-up domain."""
    size = np.asarray(size, dtype=float)
    stride = np.maximum(np.asarray(stride, dtype=float), 1.0)
    return np.clip(np.floor(domain / stride), 1.0, np.maximum(size, 1.0))


def _pod_members(fabric: Fabric, size: Any, stride: Any):
    """(size, k_pod, crosses, oversubscription) of a group of `size` ranks `stride` apart, or
    None on a non-blocking network; k_pod = members per pod, crosses = the group leaves a pod."""
    size = np.asarray(size, dtype=float)
    stride = np.maximum(np.asarray(stride, dtype=float), 1.0)
    pod = float(getattr(fabric, "pod_gpus", 0) or 0)
    over = float(getattr(fabric, "oversubscription", 1.0) or 1.0)
    if pod <= 0 or over <= 1.0:
        return None
    k_pod = np.clip(np.floor(pod / stride), 1.0, np.maximum(size, 1.0))
    return size, k_pod, size * stride > pod, over


def pod_factor(fabric: Fabric, size: Any, stride: Any) -> np.ndarray:
    """Bandwidth factor of a ring/tree collective whose group leaves a pod of an oversubscribed
    fat-tree: min(1, k_pod / oversubscription), k_pod = members per pod; 1 inside a pod or on a
    non-blocking network."""
    members = _pod_members(fabric, size, stride)
    if members is None:
        return np.ones(np.broadcast(np.asarray(size), np.asarray(stride)).shape)
    _, k_pod, crosses, over = members
    return np.where(crosses, np.minimum(1.0, k_pod / over), 1.0)


def all_to_all_pod_factor(fabric: Fabric, size: Any, stride: Any) -> np.ndarray:
    """Bandwidth factor of an all-to-all leaving a pod: its share f = 1 − k_pod/n crossing the
    oversubscribed layer at 1/oversubscription: 1 / ((1 − f) + f·oversubscription)."""
    members = _pod_members(fabric, size, stride)
    if members is None:
        return np.ones(np.broadcast(np.asarray(size), np.asarray(stride)).shape)
    size, k_pod, crosses, over = members
    f = np.where(crosses, 1.0 - k_pod / np.maximum(size, 1.0), 0.0)
    return 1.0 / ((1.0 - f) + f * over)


def group_tier(fabric: Fabric, size: Any, stride: Any = 1) -> tuple[np.ndarray, np.ndarray]:
    """Bandwidth [bytes/s] and latency α [s] seen by a group of `size` ranks `stride` apart:
    the scale-up domain when ``stride·size ≤ domain``, else ``k`` members per node on ``k``
    rails of NIC bandwidth (the node's NICs shared by its concurrent groups), capped by the
    scale-up bandwidth and cut by :func:`pod_factor` (:func:`.comm.tier` is this function)."""
    size = np.asarray(size, dtype=float)
    stride = np.asarray(stride, dtype=float)
    dom = float(fabric.scaleup_domain)
    inside = stride * size <= dom
    out_bw = (fabric.scaleout_bytes_per_s * members_per_node(dom, size, stride)
              * pod_factor(fabric, size, stride))
    bw = np.where(inside, fabric.scaleup_bytes_per_s,
                  np.minimum(out_bw, fabric.scaleup_bytes_per_s))
    alpha = np.where(inside, fabric.scaleup_latency_s, fabric.scaleout_latency_s)
    return bw, alpha


def ring_all_reduce_s(size_bytes: Any, n: Any, bw: Any, alpha: Any = 0.0) -> np.ndarray:
    """Ring all-reduce [s]: 2·(n−1)/n·S/B + 2·(n−1)·α."""
    n = np.asarray(n, dtype=float)
    return np.where(n > 1, 2.0 * (n - 1.0) / n * size_bytes / bw + 2.0 * (n - 1.0) * alpha,
                    0.0)


def tree_all_reduce_s(size_bytes: Any, n: Any, bw: Any, alpha: Any = 0.0) -> np.ndarray:
    """Double-binary-tree all-reduce [s]: 2·S/B + 2·⌈log₂ n⌉·α."""
    n = np.asarray(n, dtype=float)
    hops = np.ceil(np.log2(np.maximum(n, 1.0)))
    return np.where(n > 1, 2.0 * size_bytes / bw + 2.0 * hops * alpha, 0.0)


def in_network_all_reduce_s(size_bytes: Any, n: Any, bw: Any, alpha: Any = 0.0,
                            levels: Any = 1.0) -> np.ndarray:
    """All-reduce reduced by the switches (NVLS inside a domain, SHARP across nodes) [s]:
    S/B + 2·levels·α, each byte sent up and received down once."""
    n = np.asarray(n, dtype=float)
    return np.where(n > 1, np.asarray(size_bytes, dtype=float) / bw + 2.0 * levels * alpha,
                    0.0)


def _candidates(fabric: Fabric, size_bytes: Any, size: Any, stride: Any,
                tier: tuple[Any, Any] | None = None) -> list[np.ndarray]:
    """Time of each algorithm of :data:`ALGORITHMS` (inf where the group cannot use it)."""
    size = np.asarray(size, dtype=float)
    stride = np.asarray(stride, dtype=float)
    bw, al = tier if tier is not None else group_tier(fabric, size, stride)
    inside = stride * size <= fabric.scaleup_domain
    ring = ring_all_reduce_s(size_bytes, size, bw, al)
    tree = np.where(inside, np.inf, tree_all_reduce_s(size_bytes, size, bw, al))
    out = [ring, tree]
    if getattr(fabric, "nvls", False):
        out.append(np.where(inside, in_network_all_reduce_s(size_bytes, size, bw, al), np.inf))
    if getattr(fabric, "sharp", False):
        while len(out) < 3:
            out.append(np.full(np.shape(ring), np.inf))
        nodes = size / members_per_node(fabric.scaleup_domain, size, stride)
        levels = np.ceil(np.log2(np.maximum(nodes, 2.0)))
        out.append(np.where(inside, np.inf,
                            in_network_all_reduce_s(size_bytes, size, bw, al, levels)))
    return out


def all_reduce_s(fabric: Fabric, size_bytes: Any, size: Any, stride: Any = 1,
                 tier: tuple[Any, Any] | None = None) -> np.ndarray:
    """All-reduce time [s] of `size_bytes` per rank over `size` ranks `stride` apart: the
    fastest algorithm the group can use on `fabric` (module docstring); 0 for one rank.
    `tier` = (bandwidth, α) of :func:`.comm.tier` when the caller has it."""
    c = _candidates(fabric, size_bytes, size, stride, tier)
    t = np.minimum(c[0], c[1])
    for x in c[2:]:
        t = np.minimum(t, x)
    return t


def all_reduce_algorithm(fabric: Fabric, size_bytes: Any, size: Any, stride: Any = 1
                         ) -> np.ndarray:
    """Index into :data:`ALGORITHMS` of the algorithm :func:`all_reduce_s` picks."""
    return np.argmin(np.stack(np.broadcast_arrays(*_candidates(fabric, size_bytes, size,
                                                                 stride))), axis=0)
