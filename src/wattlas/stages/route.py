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



def route_result(scen: Any, policies: list[str] | None = None, requests: int | None = None,
                 seed: int | None = None, progress: bool = False) -> dict[str, Any]:
    """What ``wattlas route SCENARIO --format json`` prints: the policies and site_load."""
    from ..routing.simulator import routing_from_scenario

    res = routing_from_scenario(scen, policies or None, requests, seed, progress=progress)
    return plain({"policies": res.policies, "site_load": res.site_load})


def rtt_stage(a: str, b: str) -> dict[str, Any]:
    """What ``wattlas rtt A B --format json`` prints: great-circle distance, the fibre RTT floor,
    the route stretch and the modelled RTT between two points (region ids, cities or
    'lat,lon')."""
    from ..grid import geo

    lat1, lon1, la = geo.resolve_point(a)
    lat2, lon2, lb = geo.resolve_point(b)
    d = geo.distance_km(lat1, lon1, lat2, lon2)
    return plain({"a": la, "b": lb, "a_lat": lat1, "a_lon": lon1, "b_lat": lat2, "b_lon": lon2,
                  "distance_km": d, "rtt_floor_s": geo.rtt_floor_s(d),
                  "route_stretch": geo.route_stretch(d),
                  "rtt_s": geo.rtt_s(lat1, lon1, lat2, lon2)})
