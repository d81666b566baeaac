"""Plan LLM serving: TTFT, TPOT, tokens/s, batch, KV cache, replicas and J/token.

With neither --batch nor --rate the replica runs at its largest batch that fits (max
throughput). --rate sizes replicas for a request rate under the SLO (--ttft-s/--tpot-s or
serving.slo in the scenario). --search finds the configuration (accelerator × precision × TP ×
batch) with the lowest J/token (or $/Mtoken with --gpu-hour-usd) that meets the SLO.
Example: wattlas serve --model llama3.1-70b --accelerator h100-sxm --tp 4 --precision fp8
--prompt-tokens 1024 --output-tokens 256 --rate 50 --tpot-s 0.05
"""

from __future__ import annotations

from typing import Any

import typer

NO_ARGS_IS_HELP = True


def _flags_into(data: dict[str, Any], flags: dict[str, Any]) -> None:
    """Write the flags that were given into the raw scenario mapping (flags win)."""
    def put(path: str, value: Any) -> None:
        if value is None:
            return
        node = data
        keys = path.split(".")
        for k in keys[:-1]:
            if not isinstance(node.get(k), dict):
                node[k] = {}
            node = node[k]
        node[keys[-1]] = value

    put("model", flags["model"])
    put("hardware.accelerator", flags["accelerator"])
    for key in ("tp", "precision", "kv_precision", "engine", "prompt_tokens", "output_tokens",
                "batch", "rate_per_s"):
        put(f"serving.{key}", flags[key])
    put("serving.slo.ttft_s", flags["ttft_s"])
    put("serving.slo.tpot_s", flags["tpot_s"])


def plan_dict(plan: Any) -> dict[str, Any]:
    """The contract's JSON keys of a ServingPlan (SI units, unit-suffixed)."""
    keys = ("model", "accelerator", "engine", "precision", "kv_precision", "tp", "mode",
            "prompt_tokens", "output_tokens", "ttft_s", "tpot_s", "e2e_s",
            "output_tokens_per_s", "output_tokens_per_s_per_gpu", "batch", "max_batch",
            "max_batch_slo",
            "kv_cache_bytes", "weights_bytes", "energy_per_token_j", "energy_per_request_j",
            "energy_per_token_node_j", "energy_per_token_facility_j",
            "power_w", "gpus", "replicas", "rate_per_s", "bound", "decode_floor_s")
    out = {k: getattr(plan, k) for k in keys}
    out["breakdown"] = dict(plan.breakdown)
    out["notes"] = list(plan.notes)
    return out


def _table(out: dict[str, Any]) -> None:
    from ..units import GIB
    from ._common import print_pairs, print_table

    pairs = [
        ("mode", f"{out['mode']} (engine {out['engine']}, {out['precision']} weights, "
                 f"{out['kv_precision']} KV)"),
        ("TTFT", f"{out['ttft_s'] * 1e3:,.1f} ms"),
        ("TPOT", f"{out['tpot_s'] * 1e3:,.2f} ms ({out['bound']}-bound; floor "
                 f"{out['decode_floor_s'] * 1e3:.2f} ms)"),
        ("end-to-end", f"{out['e2e_s']:,.2f} s"),
        ("batch", f"{out['batch']:,} (max {out['max_batch']:,})"),
        ("tokens/s per replica", f"{out['output_tokens_per_s']:,.0f} "
                                 f"({out['output_tokens_per_s_per_gpu']:,.0f} per GPU)"),
        ("weights / KV cache", f"{out['weights_bytes'] / GIB:,.1f} GiB / "
                               f"{out['kv_cache_bytes'] / GIB:,.1f} GiB"),
        ("replicas × TP = GPUs", f"{out['replicas']} × {out['tp']} = {out['gpus']}"),
        ("power per replica", f"{out['power_w'] / 1e3:,.2f} kW (GPU)"),
        ("energy", f"{out['energy_per_token_j']:.3g} J/token, "
                   f"{out['energy_per_request_j']:.3g} J/request (GPU); "
                   f"{out['energy_per_token_node_j']:.3g} J/token (node)"
                   + (f", {out['energy_per_token_facility_j']:.3g} J/token (facility)"
                      if out.get("energy_per_token_facility_j") else "")),
    ]
    if "search_candidates" in out:
        pairs.append(("search", f"{out['search_candidates']:,} candidates, "
                                f"{out['search_feasible']} configurations meet the SLO, "
                                f"{out['search_time_s']:.2f} s"))
    for n in out.get("notes", []):
        pairs.append(("note", n))
    print_pairs(pairs, title=f"wattlas serve: {out['model']} on {out['accelerator']} "
                             f"(TP {out['tp']})")
    if out.get("ranked"):
        print_table(out["ranked"][:10], ["accelerator", "precision", "tp", "batch", "ttft_s",
                                         "tpot_s", "gpus", "energy_per_token_j",
                                         "usd_per_mtoken"],
                    title="best configurations")


def command(
    scenario: str = typer.Argument(None, help="Scenario YAML file (optional)."),
    model: str = typer.Option(None, "--model", help="Model id (wattlas catalog models)."),
    accelerator: str = typer.Option(None, "--accelerator", help="Accelerator id."),
    tp: int = typer.Option(None, "--tp", help="Tensor-parallel width of one replica."),
    precision: str = typer.Option(None, "--precision", help="bf16 | fp8 | fp4 | int4"),
    kv_precision: str = typer.Option(None, "--kv-precision", help="bf16 | fp8 | fp4"),
    engine: str = typer.Option(None, "--engine", help="Engine profile id (data/engines.csv)."),
    prompt_tokens: int = typer.Option(None, "--prompt-tokens", help="Prompt length [tokens]."),
    output_tokens: int = typer.Option(None, "--output-tokens", help="Output length [tokens]."),
    batch: int = typer.Option(None, "--batch", help="Sequences decoded together."),
    rate: float = typer.Option(None, "--rate", help="Request rate [requests/s]."),
    ttft_s: float = typer.Option(None, "--ttft-s", help="SLO on time to first token [s]."),
    tpot_s: float = typer.Option(None, "--tpot-s", help="SLO on time per output token [s]."),
    search: bool = typer.Option(False, "--search", help="Search accelerator × precision × "
                                "TP × batch for the lowest J/token meeting the SLO."),
    gpu_hour_usd: float = typer.Option(None, "--gpu-hour-usd",
                                       help="GPU-hour price: --search ranks by $/Mtoken."),
    fmt: str = typer.Option("table", "--format", "-f", help="table | json | csv"),
    overrides: list[str] = typer.Option(None, "--set", help="Override a scenario field a.b=c."),
) -> None:
    from .. import scenario as sc
    from ..errors import InputError
    from ..perf import inference as inf
    from ._common import check_format, print_csv, print_json

    check_format(fmt)
    if batch is not None and rate is not None:
        raise InputError("--batch and --rate exclude each other: give one (or neither for "
                         "max-throughput operation)")
    data = sc.load_data(scenario, overrides or [])
    _flags_into(data, dict(model=model, accelerator=accelerator, tp=tp, precision=precision,
                           kv_precision=kv_precision, engine=engine,
                           prompt_tokens=prompt_tokens, output_tokens=output_tokens,
                           batch=batch, rate_per_s=rate, ttft_s=ttft_s, tpot_s=tpot_s))
    if search and not (data.get("hardware") or {}).get("accelerator"):
        data.setdefault("hardware", {})["accelerator"] = "h100-sxm"  # replaced by the search
    sv = data.get("serving") or {}
    if "prompt_tokens" not in sv or "output_tokens" not in sv:
        raise InputError("--prompt-tokens and --output-tokens are needed (or serving."
                         "prompt_tokens/output_tokens in the scenario)")
    scen = sc.validate(data)
    if scen.catalogs:
        from pathlib import Path

        from .. import catalog

        base = Path(scenario).parent if scenario else Path.cwd()
        for f in scen.catalogs:
            catalog.add_user_rows(base / f)
    extra: dict[str, Any] = {}
    if search:
        from .. import hardware
        from ..scenario import resolve_model

        s = scen.serving
        accs = ([hardware.accelerator(accelerator)] if accelerator
                else inf.search_accelerators())
        slo = s.slo.model_dump(exclude_none=True) if s.slo else None
        res = inf.search_serving(resolve_model(scen.model), accs, s.prompt_tokens,
                                 s.output_tokens, rate_per_s=s.rate_per_s, slo=slo,
                                 precisions=(s.precision,) if precision else
                                 ("bf16", "fp8", "fp4", "int4"),
                                 tps=(s.tp,) if tp else (1, 2, 4, 8),
                                 engine_id=s.engine or inf.DEFAULT_ENGINE,
                                 gpu_hour_usd=gpu_hour_usd)
        plan = res.best
        extra = {"search_candidates": res.candidates, "search_feasible": res.feasible,
                 "search_time_s": res.time_s, "search_objective": res.objective,
                 "ranked": res.ranked}
    else:
        plan = inf.plan_from_scenario(scen)
    out = plan_dict(plan)
    out.update(extra)
    if fmt == "json":
        print_json(out)
    elif fmt == "csv":
        flat = {k: v for k, v in out.items() if not isinstance(v, dict | list)}
        flat.update({f"breakdown.{k}": v for k, v in out["breakdown"].items()})
        print_csv([flat])
    else:
        _table(out)
