"""Geo-distributed data-parallel training: replicas split across sites joined by WAN links.

Two synchronisation schemes, both pure functions of numbers (the training planner supplies
the step compute time and gradient size):

* ``hierarchical``: every step, reduce-scatter inside each site (ring over n_i GPUs), an
  all-reduce of each GPU's 1/n_i shard across the S sites over the WAN, then an all-gather
  inside each site. Ring costs (α–β model, Patarasuk & Yuan 2009; Thakur et al. 2005):
  reduce-scatter = all-gather = (n−1)·α + (n−1)/n · G/B; the WAN all-reduce moves
  2·(S−1)/S · G bytes through each site's WAN link with 2·(S−1) steps of one-way latency
  RTT/2. Communication overlaps the backward pass (≈ 2/3 of compute) up to `overlap_frac`.
* ``diloco``: each site trains independently for H inner steps and synchronises an outer
  (pseudo-gradient) all-reduce over the WAN every H steps (Douillard et al., "DiLoCo:
  Distributed Low-Communication Training of Language Models", arXiv:2311.08455, 2023); the
  sync is not overlapped, so it adds t_sync / H per step.

Slowdown = step time geo-distributed / step time with all GPUs in one site.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError

BACKWARD_FRAC = 2.0 / 3.0  # backward ≈ 2× forward FLOPs: 2/3 of a step's compute
SCHEMES = ("hierarchical", "diloco")


@dataclass(frozen=True)
class GeoStep:
    scheme: str
    step_time_s: float
    step_time_single_site_s: float
    slowdown_frac: float  # step_time / single-site step time − 1
    wan_time_s: float  # WAN all-reduce per sync
    intra_time_s: float  # reduce-scatter + all-gather inside the largest site
    exposed_comm_s: float  # per step, after overlap
    sync_every_steps: int
    power_per_site_w: tuple[float, ...]
    wan_bytes_per_sync: float


def ring_reduce_scatter_s(n, size_bytes, bandwidth_bytes_per_s, latency_s=10e-6):
    """Ring reduce-scatter (or all-gather) time [s] = (n−1)·α + (n−1)/n · size / B."""
    n = np.asarray(n, dtype=float)
    t = (n - 1) * latency_s + (n - 1) / n * size_bytes / bandwidth_bytes_per_s
    return float(t) if np.ndim(t) == 0 else t


def wan_allreduce_s(sites: int, size_bytes: float, wan_bytes_per_s: float, rtt_s: float) -> float:
    """Ring all-reduce across `sites` over WAN [s] = 2(S−1)·RTT/2 + 2(S−1)/S · size / B_wan."""
    if sites <= 1:
        return 0.0
    return 2 * (sites - 1) * rtt_s / 2 + 2 * (sites - 1) / sites * size_bytes / wan_bytes_per_s


def geo_step(gradient_bytes: float, compute_time_s: float, gpus_per_site: Sequence[int],
             wan_bytes_per_s: float, rtt_s: float, intra_bytes_per_s_per_gpu: float = 50e9,
             scheme: str = "hierarchical", sync_every_steps: int = 1,
             overlap_frac: float = 1.0, power_per_gpu_w: float = 0.0) -> GeoStep:
    """Step time and slowdown of data-parallel training split over sites.

    gradient_bytes: bytes of one full gradient [bytes]; compute_time_s: forward + backward of a
    step [s]; gpus_per_site: data-parallel GPUs per site; wan_bytes_per_s: WAN bandwidth of
    each site's link [B/s]; rtt_s: WAN round trip [s] (e.g. grid.geo.rtt_s); intra_bytes_per_s
    _per_gpu: scale-out NIC per GPU inside a site [B/s]; power_per_gpu_w: all-in power per GPU
    (node share, facility overhead if wanted) [W].
    """
    g = [int(v) for v in gpus_per_site]
    if not g or min(g) <= 0:
        raise InputError(f"gpus_per_site {list(gpus_per_site)}: every site needs >= 1 GPU")
    for name, v in (("gradient_bytes", gradient_bytes), ("compute_time_s", compute_time_s),
                    ("wan_bytes_per_s", wan_bytes_per_s),
                    ("intra_bytes_per_s_per_gpu", intra_bytes_per_s_per_gpu)):
        if not v > 0:
            raise InputError(f"{name} {v} must be > 0")
    if rtt_s < 0:
        raise InputError(f"rtt_s {rtt_s} must be >= 0")
    if scheme not in SCHEMES:
        raise InputError(f"scheme '{scheme}': allowed {', '.join(SCHEMES)}")
    if sync_every_steps < 1:
        raise InputError(f"sync_every_steps {sync_every_steps} must be >= 1")
    if not 0 <= overlap_frac <= 1:
        raise InputError(f"overlap_frac {overlap_frac} must be in [0, 1]")
    s = len(g)
    total = sum(g)
    hide = overlap_frac * BACKWARD_FRAC * compute_time_s
    # single site: ring all-reduce over all GPUs inside one site, overlapped with backward
    single_comm = 2 * ring_reduce_scatter_s(total, gradient_bytes, intra_bytes_per_s_per_gpu)
    single = compute_time_s + max(0.0, single_comm - hide)
    intra = float(np.max(2 * ring_reduce_scatter_s(np.array(g), gradient_bytes,
                                                   intra_bytes_per_s_per_gpu)))
    wan = wan_allreduce_s(s, gradient_bytes, wan_bytes_per_s, rtt_s)
    if scheme == "hierarchical":
        h = 1
        exposed = max(0.0, intra + wan - hide)
        step = compute_time_s + exposed
    else:
        h = int(sync_every_steps)
        inner = max(0.0, intra - hide)  # each site still all-reduces inside every step
        exposed = inner + (wan + intra) / h
        step = compute_time_s + exposed
    return GeoStep(scheme=scheme, step_time_s=step, step_time_single_site_s=single,
                   slowdown_frac=step / single - 1.0, wan_time_s=wan, intra_time_s=intra,
                   exposed_comm_s=exposed, sync_every_steps=h,
                   power_per_site_w=tuple(float(n * power_per_gpu_w) for n in g),
                   wan_bytes_per_sync=2 * (s - 1) / s * gradient_bytes if s > 1 else 0.0)


def split_replicas(replicas: int, gpus_per_replica: int,
                   site_caps_gpus: Sequence[int]) -> list[int]:
    """GPUs per site holding whole replicas, filled in order up to each site's cap."""
    if replicas <= 0 or gpus_per_replica <= 0:
        raise InputError("replicas and gpus_per_replica must be > 0")
    left = replicas
    out = []
    for cap in site_caps_gpus:
        k = min(left, int(cap) // gpus_per_replica)
        out.append(k * gpus_per_replica)
        left -= k
    if left > 0:
        from ..errors import InfeasibleError

        raise InfeasibleError(f"{replicas} replicas of {gpus_per_replica} GPUs need "
                              f"{replicas * gpus_per_replica} GPUs; the sites hold "
                              f"{sum(out)} in whole replicas; add sites or raise their caps")
    return [v for v in out]
