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


def ring_rtt_s(region_ids: Sequence[str]) -> float:
    """Largest modelled RTT [s] between ring neighbours of `region_ids` (in the given order,
    closing the ring): the slowest hop of the WAN ring all-reduce (grid.geo.rtt_s)."""
    from . import geo
    from . import regions as rg

    regs = [rg.region(r) for r in region_ids]
    for r in regs:
        if r.lat is None or r.lon is None:
            raise InputError(f"training.geo.sites: {r.id} has no lat/lon in the catalog; give "
                             "training.geo.rtt_s")
    pairs = zip(regs, regs[1:] + regs[:1], strict=True)
    return max(float(geo.rtt_s(a.lat, a.lon, b.lat, b.lon)) for a, b in pairs)


def geo_training(plan, spec, facility_power_w: float) -> dict:
    """The ``geo`` section of ``wattlas train`` / ``plan.json``: :func:`geo_step` of a
    TrainingPlan whose ``dp`` replicas are split evenly over ``spec.sites`` (scenario
    ``training.geo``), the first sites taking one more when dp does not divide.

    Inputs from the plan: gradient = params_total × DP_GRAD_BYTES (16-bit reduction, as the
    planner's own data-parallel term); compute per step = step_time_s − breakdown_s.dp_comm
    (the step without its data-parallel communication); intra-site bandwidth per replica =
    scale-out NIC per GPU × GPUs per replica (tp·pp·cp, each moving its shard). Power per
    site = facility_power_w [W] × the site's share of the GPUs. ``training_time_s`` scales the
    plan's training time by step_time_s / step_time_single_site_s.
    """
    from ..errors import CatalogKeyError
    from ..perf.training.layout import DP_GRAD_BYTES
    from ..workload.transformer import params_total
    from . import regions as rg

    sites = list(spec.sites)
    for r in sites:
        try:
            rg.region(r)
        except CatalogKeyError as err:
            raise InputError(f"training.geo.sites: {err}") from None
    s, dp = len(sites), plan.layout.dp
    if plan.job.job == "lora":
        raise InputError("training.geo: geo-distributed LoRA is not modelled (the gradient is "
                         "the adapters'); leave training.geo out")
    if dp < s:
        raise InputError(f"training.geo.sites: {s} sites but dp={dp} data-parallel replicas; "
                         "each site needs at least one (raise dp or name fewer sites)")
    base, extra = divmod(dp, s)
    replicas = [base + (1 if i < extra else 0) for i in range(s)]
    gpr = plan.gpus // dp
    grad = float(params_total(plan.job.model)) * DP_GRAD_BYTES
    compute = plan.step_time_s - plan.breakdown_s.get("dp_comm", 0.0)
    rtt = spec.rtt_s if spec.rtt_s is not None else ring_rtt_s(sites)
    g = geo_step(grad, compute, replicas, spec.wan_bytes_per_s, rtt,
                 intra_bytes_per_s_per_gpu=plan.fabric.scaleout_bytes_per_s * gpr,
                 scheme=spec.scheme_used, sync_every_steps=spec.sync_every_steps,
                 overlap_frac=spec.overlap_frac, power_per_gpu_w=facility_power_w / dp)
    ratio = g.step_time_s / g.step_time_single_site_s
    return {
        "scheme": g.scheme, "sync_every_steps": g.sync_every_steps,
        "wan_bytes_per_s": spec.wan_bytes_per_s, "rtt_s": rtt, "gradient_bytes": grad,
        "wan_sync_bytes": g.wan_bytes_per_sync, "compute_time_s": compute,
        "step_time_s": g.step_time_s, "step_time_single_site_s": g.step_time_single_site_s,
        "slowdown_frac": g.slowdown_frac, "wan_time_s": g.wan_time_s,
        "intra_time_s": g.intra_time_s, "exposed_comm_s": g.exposed_comm_s,
        "training_time_s": plan.training_time_s * ratio,
        "sites": [{"region": r, "replicas": n, "gpus": n * gpr, "facility_power_w": p}
                  for r, n, p in zip(sites, replicas, g.power_per_site_w, strict=True)],
    }


def geo_line(g: dict) -> str:
    """One line of a :func:`geo_training` dict in people's units."""
    per_site = ", ".join(f"{s['region']} {s['gpus']:,} GPUs {s['facility_power_w'] / 1e6:,.1f} MW"
                         for s in g["sites"])
    sync = ("every step" if g["sync_every_steps"] == 1
            else f"every {g['sync_every_steps']:,} steps")
    return (f"{g['scheme']} sync {sync} over {g['wan_bytes_per_s'] * 8 / 1e9:,.0f} Gb/s WAN "
            f"(RTT {g['rtt_s'] * 1e3:.0f} ms): step {g['step_time_s']:.3f} s vs "
            f"{g['step_time_single_site_s']:.3f} s in one site (×{1 + g['slowdown_frac']:.3f}), "
            f"{g['training_time_s'] / 86400:,.1f} days; {per_site}")
