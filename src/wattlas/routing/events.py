"""Request generation: non-homogeneous Poisson arrivals, token lengths and agent sessions.

Arrivals of all user regions form one Poisson process of rate λ(t) = Σ_r λ_r · m_r(h_r(t)),
with m_r the region's diurnal multiplier at its local hour h_r. Arrival times come from the
time-change theorem: if S_k are the points of a unit-rate Poisson process, t_k = Λ⁻¹(S_k) with
Λ(t) = ∫₀ᵗ λ is a Poisson process of rate λ(t) (Çinlar 1975, *Introduction to Stochastic
Processes*, §4.7). λ is constant within each UTC hour, so Λ is piecewise linear and Λ⁻¹ is an
exact ``np.interp``. The region of an arrival in hour h is drawn with probability λ_r(h)/λ(h).

A session is ``calls`` sequential requests: call j + 1 is sent ``tool_s`` after call j
completes at the user, so only first calls are generated here; the simulator releases the
follow-ups. Every call gets its own prompt/output length and an Exp(1) work draw ``u`` (used
by exponential service models: service = mean · u).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..units import SECONDS_PER_HOUR


@dataclass(frozen=True)
class Workload:
    """Pre-drawn requests. Sessions s = 0 … n−1 send calls i = s·k … s·k + k − 1.

    first_arrival_s[s] [s], region[s] (user index), prompt_tokens[i], output_tokens[i],
    work[i] (Exp(1)), calls k, tool_s [s]."""

    first_arrival_s: np.ndarray
    region: np.ndarray
    prompt_tokens: np.ndarray
    output_tokens: np.ndarray
    work: np.ndarray
    calls: int = 1
    tool_s: float = 0.0


def diurnal_multipliers(diurnal, utc_offset_h: float) -> np.ndarray:
    """24 multipliers indexed by UTC hour [−]: a 24-list in local hours, a sinusoid
    1 + A·cos(2π(h − peak)/24) or None (flat)."""
    local = (np.arange(24) + utc_offset_h) % 24
    if diurnal is None:
        return np.ones(24)
    if isinstance(diurnal, list | tuple | np.ndarray):
        prof = np.asarray(diurnal, dtype=float)
        return np.interp(local, np.arange(25), np.append(prof, prof[0]))
    return 1.0 + diurnal.amplitude_frac * np.cos(2 * np.pi * (local - diurnal.peak_hour) / 24)


def draw_lengths(rng: np.random.Generator, dist, n: int) -> np.ndarray:
    """Token lengths (int ≥ 1): fixed, uniform [low, high] or lognormal with the given mean
    (μ = ln mean − σ²/2 so E[X] = mean)."""
    if dist.dist == "fixed":
        return np.full(n, max(1, round(dist.mean)), dtype=np.int64)
    if dist.dist == "uniform":
        return rng.integers(dist.low, dist.high + 1, size=n, dtype=np.int64)
    mu = np.log(dist.mean) - dist.sigma**2 / 2
    return np.maximum(1, np.rint(rng.lognormal(mu, dist.sigma, size=n))).astype(np.int64)


def poisson_arrivals(rng: np.random.Generator, rates_per_s: np.ndarray, n: int,
                     start_hour_utc: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """`n` arrival times [s] and region indices of a Poisson process whose rate in UTC hour h
    for region r is rates_per_s[r, h] (rates_per_s shape (R, 24)), starting at start_hour_utc.
    """
    rates = np.asarray(rates_per_s, dtype=float)
    total = rates.sum(axis=0)  # (24,)
    s = np.cumsum(rng.exponential(1.0, size=n))
    # Λ at hour boundaries from t = 0 (hour offset of the start handled by rolling).
    h0 = int(np.floor(start_hour_utc))
    frac0 = start_hour_utc - h0
    per_day = total.sum() * SECONDS_PER_HOUR
    days = int(np.ceil(s[-1] / per_day)) + 2
    hourly = np.tile(np.roll(total, -h0), days) * SECONDS_PER_HOUR  # mass of each hour
    edges_t = np.arange(len(hourly) + 1) * SECONDS_PER_HOUR - frac0 * SECONDS_PER_HOUR
    lam = np.concatenate([[0.0], np.cumsum(hourly)]) - frac0 * hourly[0]
    keep = lam >= 0
    lam, edges_t = np.concatenate([[0.0], lam[keep]]), np.concatenate([[0.0], edges_t[keep]])
    t = np.interp(s, lam, edges_t)
    hour = (np.floor(t / SECONDS_PER_HOUR + start_hour_utc).astype(np.int64)) % 24
    p = rates[:, hour] / total[hour]  # (R, n)
    cum = np.cumsum(p, axis=0)
    u = rng.random(n)
    region = np.minimum((u[None, :] > cum).sum(axis=0), rates.shape[0] - 1)
    return t, region.astype(np.int64)


def generate(spec, user_rates_per_s: np.ndarray, n_calls: int, seed: int) -> Workload:
    """Draw ⌈n_calls / k⌉ sessions of k calls from `spec` (a RoutingSpec) with rates (R, 24)."""
    rng = np.random.default_rng(seed)
    k = spec.session.calls
    n_sessions = max(1, -(-n_calls // k))
    # Session rate = request rate / k so the offered request rate matches demand_rps.
    t, region = poisson_arrivals(rng, user_rates_per_s / k, n_sessions, spec.start_hour_utc)
    n = n_sessions * k
    return Workload(first_arrival_s=t, region=region,
                    prompt_tokens=draw_lengths(rng, spec.prompt_tokens, n),
                    output_tokens=draw_lengths(rng, spec.output_tokens, n),
                    work=rng.exponential(1.0, size=n), calls=k, tool_s=spec.session.tool_s)
