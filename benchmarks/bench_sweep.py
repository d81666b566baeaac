"""Sweep benchmarks: plan points per second in-process and on a local two-worker Dask cluster,
and whether both give the same table.

The design is 10,000 Latin-hypercube points of the frontier example with its layout fixed
(PUE 1.1–1.4, electricity price 40–160 USD/MWh, five regions), so every point runs the same
stages as ``wattlas plan`` without the per-plan Monte Carlo (``wattlas sweep``). Targets:
≥ 100 points/s per core in-process (``WATTLAS_BENCH_SWEEP_POINTS`` sets a smaller design).
Also the plan of the frontier example with its ranges (P10/P50/P90 and the tornado) through
the CLI, in a fresh process: < 5 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRONTIER = ROOT / "examples" / "frontier-training.yaml"
POINTS = int(os.environ.get("WATTLAS_BENCH_SWEEP_POINTS", "10000"))


def _design():
    from wattlas import scenario as sc
    from wattlas.uncertainty import sweep

    axes = [sweep.parse_vary("energy.pue=1.1..1.4"),
            sweep.parse_vary("energy.price_usd_per_mwh=40..160"),
            sweep.parse_vary("site.region=us-va,de-fra,is,no,us-tx-west")]
    return (sweep.design(axes, samples=POINTS, seed=0),
            sweep.base_data(sc.load_data(FRONTIER), axes))


def _plan_cli_s() -> float:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "wattlas.cli", "plan", str(FRONTIER), "--out",
                        tmp, "--force"], check=True, capture_output=True, cwd=ROOT)
        return time.perf_counter() - t0


def run() -> list[dict]:
    from distributed import LocalCluster

    from wattlas.uncertainty import executors

    points, base = _design()
    executors.run(points[:20], base, str(FRONTIER.parent))  # warm-up (imports, catalogs)
    t0 = time.perf_counter()
    local = executors.run(points, base, str(FRONTIER.parent))
    t_local = time.perf_counter() - t0
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        addr = "dask://" + cluster.scheduler_address.removeprefix("tcp://")
        executors.run(points[:20], base, str(FRONTIER.parent), addr, chunk_points=10)
        t0 = time.perf_counter()
        remote = executors.run(points, base, str(FRONTIER.parent), addr)
        t_cluster = time.perf_counter() - t0
    ok = sum(r["ok"] for r in local)
    return [
        {"name": f"sweep {POINTS:,} frontier points in-process (1 core)",
         "value": POINTS / t_local, "unit": "points/s", "target": ">= 100"},
        {"name": f"sweep {POINTS:,} frontier points on a 2-worker Dask LocalCluster",
         "value": POINTS / t_cluster, "unit": "points/s", "target": "report"},
        {"name": "sweep: cluster table equals in-process table",
         "value": float(remote == local), "unit": "1 = yes", "target": ">= 1"},
        {"name": "sweep: points that planned", "value": ok, "unit": "points",
         "target": f">= {POINTS}"},
        {"name": "plan frontier example with P10/P50/P90 and tornado (CLI, fresh process)",
         "value": _plan_cli_s(), "unit": "s", "target": "< 5"},
    ]


if __name__ == "__main__":
    for r in run():
        print(f"{r['name']}: {r['value']:.4g} {r['unit']} (target {r['target']})")
