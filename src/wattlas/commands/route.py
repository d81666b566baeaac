"""Simulate users' requests routed across sites and compare routing policies.

Reads the scenario's `routing` section (users with demand and diurnal profile, sites with
accelerators, replicas, power caps, grid intensity and price, SLOs) and runs every policy on the
same seeded requests: nearest, least-latency, carbon-aware, power-cap-aware, cost-aware.
Reports TTFT/E2E percentiles (and session latency with agent sessions), SLO attainment,
rejected requests, J/token, gCO2e/request and per-site load. Deterministic for a given --seed.
Example: wattlas route examples/global-serving.yaml --policy nearest --policy carbon-aware
"""

from __future__ import annotations

import typer

from . import _options

NO_ARGS_IS_HELP = True

_COLUMNS = ["policy", "offered", "completed", "rejected", "ttft_p50_s", "ttft_p99_s",
            "e2e_p99_s", "slo_attainment_frac", "energy_per_token_j", "co2e_g_per_request",
            "cost_usd_per_million_tokens"]
_HEADERS = {"ttft_p50_s": "TTFT p50 s", "ttft_p99_s": "TTFT p99 s", "e2e_p99_s": "E2E p99 s",
            "slo_attainment_frac": "SLO met", "energy_per_token_j": "J/token",
            "co2e_g_per_request": "gCO2e/req", "cost_usd_per_million_tokens": "energy $/M tokens",
            "session_latency_p99_s": "session p99 s"}


def command(
    scenario: str = typer.Argument(..., help="Scenario YAML with a 'routing' section."),
    policy: list[str] = typer.Option(None, "--policy", "-p",
                                     help="Policy to run (repeat); default: all."),
    requests: int = typer.Option(None, "--requests", "-n", help="Requests to simulate [requests]."),
    seed: int = typer.Option(None, "--seed", help="Random seed (default: routing.seed)."),
    sets: list[str] = typer.Option(None, "--set", help="Override a scenario field: a.b=c."),
    catalog_files: list[str] = _options.CATALOG,
    fmt: str = typer.Option("table", "--format", "-f", help="table | json | csv"),
) -> None:
    from .. import scenario as sc
    from ..routing.simulator import routing_from_scenario
    from ._common import check_format, print_csv, print_json, print_table

    check_format(fmt)
    _options.load_catalogs(catalog_files)
    scen = sc.load(scenario, sets)
    res = routing_from_scenario(scen, policy or None, requests, seed,
                                progress=fmt == "table")
    if fmt == "json":
        print_json({"policies": res.policies, "site_load": res.site_load})
        return
    if fmt == "csv":
        print_csv(res.policies)
        return
    cols = _COLUMNS
    if res.calls > 1:  # agent sessions: first call's arrival to last call's completion
        cols = [*_COLUMNS[:7], "session_latency_p99_s", *_COLUMNS[7:]]
    print_table(res.policies, cols, title="wattlas route: policies", headers=_HEADERS)
    rows = []
    for i, s in enumerate(res.sites):
        row = {"site": s.name, "kind": s.kind, "replicas": s.replicas,
               "cap kW": None if s.power_cap_w is None else s.power_cap_w / 1e3}
        for p, loads in res.site_load.items():
            row[p] = loads[i]["requests"]
        rows.append(row)
    print_table(rows, title="requests served per site (power caps are never exceeded)")
