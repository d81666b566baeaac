"""Routing benchmarks: 1,000,000 requests of examples/global-serving.yaml (6 sites, 3 user
regions) simulated per policy in ≤ 60 s (target) with peak memory < 2 GiB; reports the rate.

Run alone: python benchmarks/bench_routing.py
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "global-serving.yaml"


def _time_policy(policy: str, requests: int) -> tuple[float, dict]:
    from wattlas import scenario
    from wattlas.routing import routing_from_scenario

    scen = scenario.load(EXAMPLE)
    t = time.perf_counter()
    res = routing_from_scenario(scen, [policy], requests=requests)
    return time.perf_counter() - t, res.policies[0]


def run(requests: int = 1_000_000, policies: tuple[str, ...] = ("nearest", "least-latency",
                                                                 "carbon-aware")) -> list[dict]:
    out = []
    for p in policies:
        elapsed, row = _time_policy(p, requests)
        out.append({"name": f"route {requests:,} requests ({p})", "value": elapsed, "unit": "s",
                    "target": "<= 60"})
        out.append({"name": f"route rate ({p})", "value": requests / elapsed,
                    "unit": "requests/s", "target": f">= {requests / 60.0:.0f}"})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    out.append({"name": "route peak memory (RSS)", "value": peak / 2**30, "unit": "GiB",
                "target": "< 2"})
    return out


if __name__ == "__main__":
    for r in run():
        print(f"{r['name']:45s} {r['value']:12.4g} {r['unit']:12s} target {r['target']}")
