"""Metrics of a routing run, from the event log.

For request i sent by the user at a_i, reaching site s at a_i + RTT/2, starting service at
σ_i, producing its first token at the site at φ_i = σ_i + prefill_i and its last at
ε_i = φ_i + (n_out,i − 1)·step_i, the user sees (RTT = round trip user ↔ site):

    f_i = φ_i + RTT/2,   c_i = ε_i + RTT/2
    TTFT_i = f_i − a_i,  E2E_i = c_i − a_i,  TPOT_i = (c_i − f_i)/(n_out,i − 1)

so E2E_i ≥ TTFT_i ≥ RTT ≥ RTT floor. An agent session of k calls i = s·k … s·k + k − 1 has

    SessionLatency_s = c_{s·k+k−1} − a_{s·k} = Σ_j E2E_{s·k+j} + (k − 1)·tool_s

(call j + 1 is sent tool_s after call j completes), defined when every call completed; a
session with a rejected call is offered but not completed. Over the run: percentiles
p50/p95/p99 of completed requests (sessions), SLO attainment = (completed requests meeting
every SLO) / offered, rejected share = rejected / offered, throughput = output tokens /
horizon. Site energy is the integral of the facility power PUE · replicas ·
power_w(N(t)/replicas) over [0, T], N(t) the sequences in service; carbon = Σ_hours energy_h ·
intensity_h; cost = Σ_hours energy_h · price_h (UTC hours). Little's law L = λ·W (Little 1961,
Oper. Res. 9(3):383) is checked with L = (1/T)∫N_sys(t)dt from the log.
"""

from __future__ import annotations

import numpy as np

from ..units import SECONDS_PER_HOUR

J_PER_KWH = 3.6e6
J_PER_MWH = 3.6e9


def occupancy_integral(start_s: np.ndarray, end_s: np.ndarray, grid_s: np.ndarray) -> np.ndarray:
    """∫₀ᵗ N(τ) dτ at each time of `grid_s` [s·sequences], N(τ) = #{i: start_i ≤ τ < end_i}.

    Exact for the piecewise-constant N: ∫₀ᵗ N = Σ_i (min(end_i, t) − min(start_i, t))⁺, computed
    with sorted arrays and prefix sums: O((n + g) log n)."""
    st, en = np.sort(start_s), np.sort(end_s)
    cs, ce = np.concatenate([[0.0], np.cumsum(st)]), np.concatenate([[0.0], np.cumsum(en)])
    ks = np.searchsorted(st, grid_s, side="right")
    ke = np.searchsorted(en, grid_s, side="right")
    started = cs[ks] + (len(st) - ks) * grid_s  # Σ min(start_i, t)
    ended = ce[ke] + (len(en) - ke) * grid_s  # Σ min(end_i, t)
    return ended - started


def occupancy_steps(start_s: np.ndarray, end_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Event times and the occupancy N just after each (piecewise-constant step function)."""
    t = np.concatenate([start_s, end_s])
    d = np.concatenate([np.ones(len(start_s)), -np.ones(len(end_s))])
    o = np.lexsort((d, t))  # ends before starts at equal times
    return t[o], np.cumsum(d[o])


def site_energy(site, start_s: np.ndarray, end_s: np.ndarray, horizon_s: float,
                start_hour_utc: float = 0.0, bins: int = 48) -> dict:
    """Energy [J], carbon [g], cost [USD], peak power [W] and a load series of one site.

    Power between events is PUE · replicas · power_w(N/replicas) (the engine spreads the
    N sequences in service evenly over the replicas)."""
    t, n = occupancy_steps(start_s, end_s)
    t = np.concatenate([[0.0], t, [horizon_s]])
    n = np.concatenate([[0.0], n, [0.0]])
    p = site.facility_power_w(n / site.replicas)  # power on [t_k, t_{k+1})
    seg_e = p[:-1] * np.diff(t)
    cum_e = np.concatenate([[0.0], np.cumsum(seg_e)])
    # hour boundaries of the UTC clock for carbon
    h_edges = (np.arange(np.floor(start_hour_utc), start_hour_utc + horizon_s / SECONDS_PER_HOUR
                         + 1) - start_hour_utc) * SECONDS_PER_HOUR
    h_edges = np.clip(np.concatenate([[0.0], h_edges[h_edges > 0], [horizon_s]]), 0, horizon_s)
    e_h = np.diff(np.interp(h_edges, t, cum_e))
    hour = (np.floor(h_edges[:-1] / SECONDS_PER_HOUR + start_hour_utc).astype(int)) % 24
    energy = float(cum_e[-1])
    co2 = float(np.sum(e_h / J_PER_KWH * site.intensity_g_per_kwh[hour]))
    cost = float(np.sum(e_h / J_PER_MWH * site.price_usd_per_mwh[hour]))
    edges = np.linspace(0.0, horizon_s, bins + 1)
    e_bins = np.diff(np.interp(edges, t, cum_e))
    occ = np.diff(occupancy_integral(start_s, end_s, edges)) / np.diff(edges)
    busy = p[:-1][np.diff(t) > 0]
    return {"energy_j": energy, "co2e_g": co2,
            "energy_cost_usd": cost,
            "max_power_w": float(busy.max()) if len(busy) else float(p[0]),
            "mean_power_w": energy / horizon_s if horizon_s > 0 else 0.0,
            "series_t_s": edges[1:], "series_power_w": e_bins / np.diff(edges),
            "series_utilisation_frac": occ / site.slots}


def percentiles(x: np.ndarray, qs=(50, 95, 99)) -> list[float | None]:
    """The `qs` percentiles of `x`; None for each when `x` is empty (no request or session
    completed: a latency quantile is undefined, never NaN in an output)."""
    if len(x) == 0:
        return [None] * len(qs)
    return [float(v) for v in np.percentile(x, qs)]


def session_latency(arrival_s: np.ndarray, completion_s: np.ndarray, completed: np.ndarray,
                    calls: int) -> tuple[int, np.ndarray]:
    """Sessions offered and the latency [s] of each completed session.

    Arrays are indexed by call i = s·calls + j (NaN arrival where a call was never sent).
    A session is offered when its first call is; it completes when all its calls complete,
    and its latency is c of its last call − a of its first (tool time included)."""
    a = np.asarray(arrival_s, dtype=float).reshape(-1, calls)
    c = np.asarray(completion_s, dtype=float).reshape(-1, calls)
    ok = np.asarray(completed, dtype=bool).reshape(-1, calls).all(axis=1)
    offered = int(np.count_nonzero(~np.isnan(a[:, 0])))
    return offered, c[ok, -1] - a[ok, 0]


def littles_law(arrival_s: np.ndarray, leave_s: np.ndarray) -> dict:
    """L from the log (time-average number in system over [min a, max c]) against λ·W."""
    if len(arrival_s) == 0:
        return {"l": 0.0, "lambda_w": 0.0}
    t0, t1 = float(arrival_s.min()), float(leave_s.max())
    span = t1 - t0
    if span <= 0:
        return {"l": 0.0, "lambda_w": 0.0}
    integ = occupancy_integral(arrival_s, leave_s, np.array([t0, t1]))
    lam = len(arrival_s) / span
    w = float(np.mean(leave_s - arrival_s))
    return {"l": float(integ[1] - integ[0]) / span, "lambda_w": lam * w}
