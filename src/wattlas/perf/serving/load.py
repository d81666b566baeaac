"""Latency against offered load: TTFT and TPOT of one replica as the rate approaches capacity.

Every point is :func:`wattlas.perf.serving.plan.plan_serving` at a rate ``u × capacity`` on a
single replica (no SLO, so no replica is added): the occupancy b solves μ(b) = λ on the one
capacity model (:func:`~wattlas.perf.serving.plan.steady_state`, Poisson arrivals of whole
prompts), TPOT is the mixed continuous-batching step at b, and TTFT adds the G/G/1 wait at
utilisation u (Allen–Cunneen, M/D/1), which grows without bound as u → 1. The curve is the
saturation behaviour ``wattlas validate inference`` checks on the TRT-LLM v0.14 online table
and the MLPerf v4.1 Server rows (docs/inference.md).
"""

from __future__ import annotations

from typing import Any

from .plan import capacity_per_s, plan_serving
from .roofline import ServingConfig

#: utilisations of the default curve [1]
UTILIZATIONS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98)


def load_curve(cfg: ServingConfig, prompt_tokens: int, output_tokens: int,
               utilizations: tuple[float, ...] = UTILIZATIONS) -> list[dict[str, Any]]:
    """One row per utilisation u in (0, 1): ``rate_per_s`` = u × capacity [requests/s],
    ``utilization_frac``, ``concurrency`` (mean requests in service), ``ttft_s``,
    ``ttft_p99_s``, ``queue_wait_s``, ``tpot_s``, ``e2e_s`` [s], ``output_tokens_per_s`` and
    ``energy_per_token_j`` (GPU boundary), all from :func:`plan_serving` on one replica."""
    from ...errors import InputError

    bad = [u for u in utilizations if not 0.0 < u < 1.0]
    if bad:
        raise InputError(f"utilisation {bad[0]}: must be in (0, 1); at 1 the queue grows "
                         "without bound")
    cap = capacity_per_s(cfg, prompt_tokens, output_tokens)
    rows = []
    for u in sorted(utilizations):
        p = plan_serving(cfg, prompt_tokens, output_tokens, rate_per_s=u * cap)
        rows.append({"utilization_frac": u, "rate_per_s": u * cap,
                     "concurrency": p.concurrency, "ttft_s": p.ttft_s,
                     "ttft_p99_s": p.ttft_p99_s, "queue_wait_s": p.queue_wait_s,
                     "tpot_s": p.tpot_s, "e2e_s": p.e2e_s,
                     "output_tokens_per_s": p.output_tokens_per_s,
                     "energy_per_token_j": p.energy_per_token_j,
                     "capacity_requests_per_s": cap})
    return rows
