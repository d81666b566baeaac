"""Public numeric fields carry a unit suffix (docs/nomenclature.md), or are dimensionless
counts/ratios named in the allow-list below."""

import json
import subprocess
import sys

SUFFIXES = ("_s", "_j", "_w", "_bytes", "_flop", "_kg", "_flop_per_s", "_bytes_per_s", "_g_per_kwh",
            "_kg", "_usd", "_frac", "_per_s", "_km", "_hours", "_years_low", "_years_high",
            "_per_year", "_g", "_usd_per_mwh", "_per_gpu", "_mm2")
DIMENSIONLESS = {"mfu", "hfu", "gpus", "steps", "racks", "pue", "batch", "tp", "pp", "dp", "cp",
                 "ep", "vpp", "microbatch", "zero", "etp", "dp_shard", "replicas", "max_batch",
                 "ratio", "n",
                 "search_candidates", "search_feasible", "gpu_hours", "tpp", "eccn",
                 "performance_density", "threshold_flop", "params_total", "params_active",
                 "cost_usd_per_million_tokens", "max_batch_slo", "spec_tokens",
                 "output_tokens", "prompt_tokens", "calls", "concurrency",
                 # budget sizing: counts, and a loss in nats/token (information, no SI unit)
                 "optimal_params", "optimal_tokens", "tokens_per_param", "expected_loss",
                 # siting: MILP objective (normalised, dimensionless) and counts
                 "objective", "gpus_per_rack", "sync_every_steps",
                 # a calendar year (which layout features existed), not a quantity
                 "software_year"}


def numeric_keys(obj, prefix=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, int | float) and not isinstance(v, bool):
                yield k
            elif isinstance(v, dict) and k not in ("breakdown_s", "memory_bytes"):
                yield from numeric_keys(v, k)


BARE_UNITS = {"flop", "bytes", "s", "j", "w"}


def has_unit(key: str) -> bool:
    """`energy_j`, `co2e_kg_low` and `model_flop_total` (a qualifier after the unit) qualify, and
    so do suffixes that end in a qualifier themselves (`time_to_power_years_low`)."""
    if key.endswith(SUFFIXES):
        return True
    # percentiles first (``cost_usd_total_p90``: the P90 of ``cost_usd_total``)
    for qualifier in ("_p10", "_p50", "_p90", "_p95", "_p99", "_low", "_high", "_total",
                      "_mean"):
        key = key.removesuffix(qualifier)
    return key.endswith(SUFFIXES) or key in DIMENSIONLESS or key in BARE_UNITS


def check(obj):
    bad = [k for k in numeric_keys(obj) if not has_unit(k)]
    assert not bad, f"numeric keys without a unit suffix: {bad}"


def cli_json(*args):
    r = subprocess.run([sys.executable, "-m", "wattlas.cli", *args, "--format", "json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_train_keys_have_units():
    check(cli_json("train", "examples/frontier-training.yaml"))


def test_train_budget_keys_have_units():
    check(cli_json("train", "--budget-mw", "50", "--budget-days", "90", "--accelerator",
                   "h100-sxm"))


def test_serve_keys_have_units():
    check(cli_json("serve", "--model", "llama3-8b", "--accelerator", "h100-sxm",
                   "--prompt-tokens", "512", "--output-tokens", "128"))


def test_plan_compare_rows_have_units(tmp_path):
    plan = cli_json("plan", "examples/frontier-training.yaml", "--out", str(tmp_path))
    assert len(plan["compare"]["rows"]) == 3
    for row in plan["compare"]["rows"]:
        check(row)
