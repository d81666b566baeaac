"""The simulator against queueing closed forms (Kleinrock 1975, Vol. 1, §3.2 and §3.5).

A single site with exponential service and Poisson arrivals is an M/M/c queue; its mean wait
in queue is Erlang C: W_q = C(c, a) / (c·μ − λ), a = λ/μ. The sample mean of a queue at 80 %
load converges slowly (relaxation time ≈ 1/(μ(1 − √ρ)²) ≈ 90 service times for c = 1), so the
80 % cases use 600,000 requests: the standard error of the estimate is then ≈ 1.2 % of W_q,
inside the 3 % tolerance the issue asks for; the seed is fixed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from wattlas.routing import POLICIES, ServiceModel, Site, simulate_policy
from wattlas.routing.events import Workload, poisson_arrivals


def erlang_c_wait_s(c: int, lam: float, mu: float) -> float:
    """Mean wait in queue of M/M/c [s] (Erlang C)."""
    a = lam / mu
    rho = a / c
    head = sum(a**k / math.factorial(k) for k in range(c))
    tail = a**c / math.factorial(c) / (1 - rho)
    return tail / (head + tail) / (c * mu - lam)


def run_mmc(c: int, rho: float, n: int, mean_s: float = 1.0, seed: int = 0):
    lam = rho * c / mean_s
    rng = np.random.default_rng(seed)
    t, reg = poisson_arrivals(rng, np.full((1, 24), lam), n)
    wl = Workload(t, reg, np.ones(n, dtype=np.int64), np.ones(n, dtype=np.int64),
                  rng.exponential(1.0, n))
    site = Site("s", 0.0, 0.0, ServiceModel.exponential(mean_s), replicas=c)
    log = simulate_policy([site], np.zeros((1, 1)), wl, POLICIES["nearest"](), {}, False)
    return lam, log


@pytest.mark.parametrize(("c", "rho", "n"), [(1, 0.5, 200_000), (1, 0.8, 1_000_000),
                                             (4, 0.5, 200_000), (4, 0.8, 1_000_000)])
def test_mmc_mean_wait_matches_erlang_c(c, rho, n):
    lam, log = run_mmc(c, rho, n)
    wait = np.mean(log.start_s - log.site_arrival_s)
    expected = erlang_c_wait_s(c, lam, 1.0)
    assert wait == pytest.approx(expected, rel=0.03)


def test_mm1_sojourn_and_littles_law():
    """M/M/1 at 50 %: W = 1/(μ − λ) = 2 s; L = λW from the log (time average)."""
    lam, log = run_mmc(1, 0.5, 200_000)
    w = log.end_s - log.site_arrival_s
    assert np.mean(w) == pytest.approx(1 / (1.0 - lam), rel=0.03)
    from wattlas.routing.metrics import littles_law

    ll = littles_law(log.site_arrival_s, log.end_s)
    assert ll["l"] == pytest.approx(ll["lambda_w"], rel=1e-9)
    assert ll["l"] == pytest.approx(lam / (1.0 - lam), rel=0.03)  # L = ρ/(1 − ρ)


def test_exponential_service_rejects_bad_mean():
    with pytest.raises(Exception, match="mean service time"):
        ServiceModel.exponential(0.0)
