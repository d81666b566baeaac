"""The route stage: the scenario's request stream through each routing policy
(:mod:`wattlas.routing`)."""

from __future__ import annotations

from typing import Any

from ._plain import plain

CDF_POINTS = 200


def route_stage(scen: Any) -> dict[str, Any]:
    """``routing_from_scenario``: the policies and site_load that ``wattlas route --format
    json`` prints, plus TTFT quantiles per policy (f − a of completed calls at CDF_POINTS
    probabilities (i + ½)/n) for the latency CDF chart."""
    import numpy as np

    from ..routing.simulator import routing_from_scenario

    res = routing_from_scenario(scen)
    out = {"policies": plain(res.policies), "site_load": plain(res.site_load)}
    probs = (np.arange(CDF_POINTS) + 0.5) / CDF_POINTS
    quantiles = {}
    for name, log in (getattr(res, "logs", None) or {}).items():
        done = np.asarray(log.completed, dtype=bool)
        ttft = (np.asarray(log.first_token_s) - np.asarray(log.arrival_s))[done]
        ttft = ttft[np.isfinite(ttft)]
        if ttft.size:
            quantiles[name] = np.quantile(ttft, probs).tolist()
    out["ttft_quantiles_s"] = quantiles
    return out

