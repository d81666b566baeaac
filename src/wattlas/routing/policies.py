"""Routing policies: a registry of name → class.

Every policy sees, for each request, the prediction of each site under its current state
(the FIFO multi-server queue makes the start time exact given the requests already routed):

    ttft_pred = RTT + wait + prefill,  e2e_pred = ttft_pred + (n_out − 1)·step(b)

and a request "fits" a site when its predictions meet every given SLO (ttft_s, tpot_s, e2e_s).
A policy is a static preference order of sites per (UTC hour, user region) plus a *kind* that
says how the order is used:

* ``first``    — take the first site of the order (nearest);
* ``fit``      — the first site of the order that fits the SLO, else the fastest (carbon-aware,
  cost-aware: "cheapest/cleanest within the SLO");
* ``free``     — the first site of the order with an idle slot that fits, else the fastest
  (power-cap-aware: spills instead of queueing behind a capped site);
* ``fastest``  — the site with the lowest predicted E2E (least-latency: RTT + queue + service).

Admission control (RoutingSpec.admission) rejects a request that fits no site at all.
Add a policy by subclassing :class:`Policy` and adding it to :data:`POLICIES`.
"""

from __future__ import annotations

import numpy as np


class Policy:
    """Base: `key(rtt_s, sites)` gives a score per (hour, region, site); lower is preferred."""

    name = "base"
    kind = "first"

    def key(self, rtt_s: np.ndarray, sites: list) -> np.ndarray:
        return np.broadcast_to(rtt_s, (24, *rtt_s.shape))

    def order(self, rtt_s: np.ndarray, sites: list) -> np.ndarray:
        """(24, R, S) site indices, best first (ties broken by RTT)."""
        k = np.asarray(self.key(rtt_s, sites), dtype=float)
        tie = np.broadcast_to(rtt_s, k.shape)
        return np.lexsort((tie, k), axis=-1)


class Nearest(Policy):
    """The site with the smallest RTT, whatever its queue."""

    name, kind = "nearest", "first"


class LeastLatency(Policy):
    """The site with the smallest predicted E2E (RTT + expected queue + service)."""

    name, kind = "least-latency", "fastest"


def _energy_per_token_j(site) -> float:
    """Facility J per output token at full batch: PUE · power(b)·step(b)/b, b = batch_cap."""
    b = site.batch_cap
    svc = site.service
    if svc.exponential_mean_s is not None:
        return site.pue * float(svc.power_w(b)) * svc.exponential_mean_s / b
    return site.pue * float(svc.power_w(b)) * float(svc.decode_step_s(b)) / b


class CarbonAware(Policy):
    """The site with the lowest gCO2e per token this hour (intensity × J/token) within the SLO."""

    name, kind = "carbon-aware", "fit"

    def key(self, rtt_s, sites):
        g = np.array([s.intensity_g_per_kwh * _energy_per_token_j(s) for s in sites])  # (S, 24)
        return np.broadcast_to(g.T[:, None, :], (24, *rtt_s.shape))


class CostAware(Policy):
    """The site with the lowest energy cost per token this hour (USD/MWh × J/token) within
    the SLO."""

    name, kind = "cost-aware", "fit"

    def key(self, rtt_s, sites):
        c = np.array([s.price_usd_per_mwh * _energy_per_token_j(s) for s in sites])  # (S, 24)
        return np.broadcast_to(c.T[:, None, :], (24, *rtt_s.shape))


class PowerCapAware(Policy):
    """Nearest site with an idle slot under its power cap that meets the SLO; else spill to the
    fastest site (the cap itself is enforced for every policy via Site.batch_cap)."""

    name, kind = "power-cap-aware", "free"


POLICIES: dict[str, type[Policy]] = {
    p.name: p for p in (Nearest, LeastLatency, CarbonAware, PowerCapAware, CostAware)}


def get(name: str) -> Policy:
    """A policy instance by registry name."""
    from ..errors import CatalogKeyError

    if name not in POLICIES:
        raise CatalogKeyError("routing policy", name, list(POLICIES))
    return POLICIES[name]()
