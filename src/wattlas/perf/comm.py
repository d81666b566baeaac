"""Collective communication on a tiered α–β model.

Every function works on numpy arrays (or scalars) of group sizes and message sizes, so the layout
search evaluates thousands of layouts at once with the same formulas as a single plan.

A collective over ``n`` ranks moving a buffer of ``S`` bytes costs (Thakur, Rabenseifner & Gropp
2005; Chan et al. 2007; the NCCL ring algorithms):

* all-reduce:             2·(n−1)/n · S/B + 2·min(n−1, ⌈log₂ n⌉)·α  (ring bandwidth; NCCL switches
                          to its double binary tree when latency dominates, so the α term is
                          the smaller of ring and tree)
* reduce-scatter / all-gather: (n−1)/n · S/B + (n−1)·α   (S is the full, unsharded buffer)
* all-to-all:             (n−1)/n · S/B + (n−1)·α       (S is what one rank holds)
* point-to-point:         S/B + α

``B`` is the bandwidth per device per direction of the tier the group spans [bytes/s]: the
scale-up domain (NVLink, xGMI, ICI) when the group fits in it, else the scale-out network. A group
that crosses nodes but keeps ``k`` members per node runs hierarchically (reduce inside the node,
then the inter-node ring over ``k`` parallel NICs), so its bandwidth is ``k`` × NIC per device:
NCCL's measured bus bandwidth across nodes is about the node's aggregate NIC bandwidth.

References
----------
* R. Thakur, R. Rabenseifner, W. Gropp, "Optimization of Collective Communication Operations in
  MPICH", IJHPCA 19(1), 2005. doi:10.1177/1094342005051521
* P. Sanders, J. Speck, J. L. Träff, "Two-tree algorithms for full bandwidth broadcast,
  reduction and scan", Parallel Computing 35(12), 2009 (NCCL's double binary tree).
* NVIDIA, "NCCL tests: performance" (algbw vs busbw), github.com/NVIDIA/nccl-tests,
  doc/PERFORMANCE.md
"""

from __future__ import annotations

import numpy as np

from ..hardware import Fabric
from . import network


def tier(fabric: Fabric, size, stride=1) -> tuple[np.ndarray, np.ndarray]:
    """Bandwidth [bytes/s] and latency α [s] seen by a group of `size` ranks whose members are
    `stride` ranks apart (Megatron rank order: tp innermost, then cp, dp, pp).

    The group stays in the scale-up domain when ``stride·size ≤ domain``; otherwise it crosses
    nodes with ``max(1, domain // stride)`` members per node sharing the NIC tier in parallel,
    times the pod factor of an oversubscribed fat-tree (:func:`.network.pod_factor`; 1 for a
    plain Fabric or a non-blocking network).
    """
    return network.group_tier(fabric, size, stride)


def all_reduce_s(size_bytes, n, bw_bytes_per_s, alpha_s=0.0):
    """All-reduce time [s]: 2·(n−1)/n·S/B + 2·min(n−1, ⌈log₂ n⌉)·α; zero when n = 1."""
    n = np.asarray(n, dtype=float)
    hops = np.minimum(n - 1.0, np.ceil(np.log2(np.maximum(n, 1.0))))
    return np.where(n > 1, 2.0 * (n - 1.0) / n * size_bytes / bw_bytes_per_s
                    + 2.0 * hops * alpha_s, 0.0)


def reduce_scatter_s(size_bytes, n, bw_bytes_per_s, alpha_s=0.0):
    """Ring reduce-scatter time [s] of a full buffer of `size_bytes`: (n−1)/n·S/B + (n−1)·α."""
    n = np.asarray(n, dtype=float)
    return np.where(n > 1, (n - 1.0) / n * size_bytes / bw_bytes_per_s + (n - 1.0) * alpha_s, 0.0)


def all_gather_s(size_bytes, n, bw_bytes_per_s, alpha_s=0.0):
    """Ring all-gather time [s] to a full buffer of `size_bytes` (same cost as reduce-scatter)."""
    return reduce_scatter_s(size_bytes, n, bw_bytes_per_s, alpha_s)


def all_to_all_s(size_bytes, n, bw_bytes_per_s, alpha_s=0.0):
    """All-to-all time [s] where each rank holds `size_bytes` and keeps 1/n of it:
    (n−1)/n·S/B + (n−1)·α."""
    return reduce_scatter_s(size_bytes, n, bw_bytes_per_s, alpha_s)


def p2p_s(size_bytes, bw_bytes_per_s, alpha_s=0.0):
    """Point-to-point send time [s]: S/B + α."""
    return np.asarray(size_bytes, dtype=float) / bw_bytes_per_s + alpha_s
