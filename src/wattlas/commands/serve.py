"""Plan LLM serving: TTFT, TPOT, tokens/s, batch, KV cache, replicas and J/token.

With neither --batch nor --rate the replica runs at its largest batch that fits (max
throughput). --rate sizes replicas for a request rate under the SLO (--ttft-s/--tpot-s or
serving.slo in the scenario). --search finds the configuration (accelerator × precision × TP ×
batch) with the lowest J/token (or $/Mtoken with --gpu-hour-usd) that meets the SLO.
TTFT includes queueing at the replica's load (G/G/1, Allen–Cunneen) for --rate. Energy is
reported at GPU, node and facility boundaries, and for the deployment (replicas for --rate,
else one replica, over --hours) with carbon and cost when --region or the intensity/price are
given. --agent-calls plans agent sessions; --sparsity-2-4 and --draft (speculative decoding)
change bytes and FLOPs; --distill-to (serve a smaller student) and --prune-*-frac (structured
pruning) change the served shape and compare it with the teacher (quality is not modelled).
Example: wattlas serve --model llama3.1-70b --accelerator h100-sxm --tp 4 --precision fp8
--prompt-tokens 1024 --output-tokens 256 --rate 50 --tpot-s 0.05
"""

from __future__ import annotations

from typing import Any

import typer

from . import _options

NO_ARGS_IS_HELP = True


def _flags_into(data: dict[str, Any], flags: dict[str, Any]) -> None:
    """Write the flags that were given into the raw scenario mapping (flags win)."""
    from ._common import put_path

    def put(path: str, value: Any) -> None:
        put_path(data, path, value)

    put("model", flags["model"])
    put("hardware.accelerator", flags["accelerator"])
    put("hardware.system", flags["system"])
    for key in ("tp", "precision", "kv_precision", "engine", "prompt_tokens", "output_tokens",
                "batch", "rate_per_s", "draft", "spec_tokens", "spec_acceptance_frac",
                "distill_to"):
        put(f"serving.{key}", flags[key])
    for key in ("layers_frac", "ffn_frac", "heads_frac"):
        put(f"serving.prune.{key}", flags[f"prune_{key}"])
    if flags["sparsity_2_4"]:
        put("serving.sparsity_2_4", True)
    put("serving.slo.ttft_s", flags["ttft_s"])
    put("serving.slo.tpot_s", flags["tpot_s"])
    put("serving.agent.calls", flags["agent_calls"])
    put("serving.agent.tool_time_s", flags["tool_time_s"])
    put("serving.agent.tool_result_tokens", flags["tool_result_tokens"])
    if flags.get("disaggregated"):
        put("serving.disaggregated.prefill_gpus", flags["prefill_gpus"])
        put("serving.disaggregated.decode_gpus", flags["decode_gpus"])
        put("serving.disaggregated.ep", flags["ep"])
        if flags["dp_attention"]:
            put("serving.disaggregated.dp_attention", True)
    put("site.region", flags["region"])
    for key in (*_options.ENERGY_FLAG_KEYS, "gpu_hour_price_usd"):
        put(f"energy.{key}", flags[key])


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
    if out.get("rate_per_s"):
        util = out.get("utilization_frac")
        pairs.append(("queueing", f"wait {out['queue_wait_s'] * 1e3:,.1f} ms at "
                                  f"{(util or 0) * 100:.0f} % of "
                                  f"{out['capacity_requests_per_s']:.3g} req/s per replica"))
    if "session_latency_s" in out:
        pairs.append(("agent session", f"{out['agent_calls']} calls: "
                                       f"{out['session_latency_s']:,.2f} s "
                                       f"({out['session_tool_time_s']:,.1f} s tools), "
                                       f"{out['session_output_tokens']:,} output tokens, "
                                       f"{out['session_energy_j']:,.0f} J (GPU)"))
    for line in out.get("energy_summary", []):
        pairs.append(("deployment", line))
    if "search_candidates" in out:
        pairs.append(("search", f"{out['search_candidates']:,} candidates, "
                                f"{out['search_feasible']} configurations meet the SLO, "
                                f"{out['search_time_s']:.2f} s"))
    for n in out.get("notes", []):
        pairs.append(("note", n))
    print_pairs(pairs, title=f"wattlas serve: {out['model']} on {out['accelerator']} "
                             f"(TP {out['tp']})")
    if out.get("load_curve"):
        print_table(out["load_curve"], ["utilization_frac", "rate_per_s", "concurrency",
                                        "ttft_s", "ttft_p99_s", "tpot_s",
                                        "energy_per_token_j"],
                    title="one replica against the offered load (TTFT includes the queue "
                          "wait)")
    if out.get("ranked"):
        print_table(out["ranked"][:10], ["accelerator", "precision", "tp", "batch", "ttft_s",
                                         "tpot_s", "gpus", "energy_per_token_j",
                                         "usd_per_mtoken"],
                    title="best configurations"
                          + (" (TTFT includes the queue wait at the rate)"
                             if out.get("rate_per_s") else ""))


def command(
    scenario: str = typer.Argument(None, help="Scenario YAML file (optional)."),
    model: str = typer.Option(None, "--model", help="Model id (wattlas catalog models)."),
    accelerator: str = typer.Option(None, "--accelerator", help="Accelerator id."),
    system: str = typer.Option(None, "--system", help="System id (host power, fabric)."),
    tp: int = typer.Option(None, "--tp", help="Tensor-parallel width of one replica [GPUs]."),
    precision: str = typer.Option(None, "--precision",
                                  help="bf16 | fp16 | fp8 | fp4 (= nvfp4) | mxfp4 | int4"),
    kv_precision: str = typer.Option(None, "--kv-precision", help="bf16 | fp8 | fp4"),
    engine: str = typer.Option(None, "--engine", help="Engine profile id (data/engines.csv)."),
    prompt_tokens: int = typer.Option(None, "--prompt-tokens", help="Prompt length [tokens]."),
    output_tokens: int = typer.Option(None, "--output-tokens", help="Output length [tokens]."),
    batch: int = typer.Option(None, "--batch", help="Sequences decoded together [sequences]."),
    rate: float = typer.Option(None, "--rate", help="Request rate [requests/s]."),
    ttft_s: float = typer.Option(None, "--ttft-s", help="SLO on time to first token [s]."),
    tpot_s: float = typer.Option(None, "--tpot-s", help="SLO on time per output token [s]."),
    sparsity_2_4: bool = typer.Option(False, "--sparsity-2-4",
                                      help="2:4 structured sparsity of the linear weights."),
    draft: str = typer.Option(None, "--draft", help="Draft model id: speculative decoding."),
    distill_to: str = typer.Option(None, "--distill-to",
                                   help="Student model id served in place of --model "
                                        "(distillation; quality not modelled)."),
    prune_layers_frac: float = typer.Option(None, "--prune-layers-frac",
                                            help="Structured pruning: fraction of layers kept "
                                                 "[0-1], > 0."),
    prune_ffn_frac: float = typer.Option(None, "--prune-ffn-frac",
                                         help="Structured pruning: fraction of the MLP width "
                                              "kept [0-1], > 0."),
    prune_heads_frac: float = typer.Option(None, "--prune-heads-frac",
                                           help="Structured pruning: fraction of attention "
                                                "heads (KV groups) kept [0-1], > 0."),
    spec_tokens: int = typer.Option(None, "--spec-tokens",
                                    help="Draft tokens per speculative step [tokens] "
                                         "(default 4)."),
    spec_acceptance: float = typer.Option(None, "--spec-acceptance",
                                          help="Draft token acceptance rate [0-1], < 1."),
    agent_calls: int = typer.Option(None, "--agent-calls",
                                    help="Agent session: sequential model calls "
                                         "[calls]."),
    tool_time_s: float = typer.Option(None, "--tool-time-s",
                                      help="Agent session: tool time between calls [s]."),
    tool_result_tokens: int = typer.Option(None, "--tool-result-tokens",
                                           help="Agent session: tokens each tool "
                                              "returns [tokens]."),
    region: str = _options.REGION,
    power_basis: str = _options.POWER_BASIS,
    pue: float = _options.PUE,
    grid_intensity: float = _options.GRID_INTENSITY,
    price: float = _options.PRICE,
    hours: float = typer.Option(8760.0, "--hours",
                                help="Deployment operating time [h] for "
                                "energy/carbon/cost."),
    compare: str = typer.Option(None, "--compare", help="Also plan the same job on these "
                                "accelerator or system ids, comma-separated (JSON "
                                "compare.rows)."),
    search: bool = typer.Option(False, "--search", help="Search accelerator × precision × "
                                "TP × batch for the lowest J/token meeting the SLO."),
    load_curve: bool = typer.Option(False, "--load-curve",
                                    help="Also tabulate TTFT and TPOT of one replica from 5 % "
                                         "to 98 % of its capacity (JSON load_curve)."),
    gpu_hour_usd: float = typer.Option(None, "--gpu-hour-usd",
                                       help="GPU-hour price [USD] (energy.gpu_hour_price_usd): "
                                       "hardware cost; --search ranks by $/Mtoken."),
    disaggregated: bool = typer.Option(False, "--disaggregated",
                                       help="Separate prefill and decode pools "
                                            "(--prefill-gpus, --decode-gpus)."),
    prefill_gpus: int = typer.Option(None, "--prefill-gpus", metavar="N",
                                     help="GPUs of the prefill pool [GPUs]."),
    decode_gpus: int = typer.Option(None, "--decode-gpus", metavar="N",
                                    help="GPUs of the decode pool [GPUs]."),
    ep: int = typer.Option(None, "--ep", metavar="N",
                           help="Expert-parallel group of a MoE model in each pool [GPUs]."),
    dp_attention: bool = typer.Option(False, "--dp-attention",
                                      help="Attention data-parallel inside the "
                                           "expert-parallel group."),
    catalog_files: list[str] = _options.CATALOG,
    fmt: str = typer.Option("table", "--format", "-f", help="table | json | csv"),
    overrides: list[str] = typer.Option(None, "--set", help="Override a scenario field a.b=c."),
) -> None:
    from .. import scenario as sc
    from ..errors import InputError
    from ..perf.serving.scenario import plan_from_scenario
    from ..stages.serving import search_result, serving_result
    from ._common import check_format, print_csv, print_json

    check_format(fmt)
    _options.load_catalogs(catalog_files)
    entries = None
    if compare is not None:
        from ._compare import compare_entries

        entries = compare_entries(compare)
    if batch is not None and rate is not None:
        raise InputError("--batch and --rate exclude each other: give one (or neither for "
                         "max-throughput operation)")
    data = sc.load_data(scenario, overrides or [])
    if not disaggregated and (prefill_gpus is not None or decode_gpus is not None
                              or ep is not None or dp_attention):
        raise InputError("--prefill-gpus/--decode-gpus/--ep/--dp-attention describe "
                         "disaggregated serving: give --disaggregated too")
    if disaggregated and not ((data.get("serving") or {}).get("disaggregated")
                              or (prefill_gpus and decode_gpus)):
        raise InputError("--disaggregated needs --prefill-gpus P and --decode-gpus D (or "
                         "serving.disaggregated in the scenario)")
    if (tool_time_s is not None or tool_result_tokens is not None) and agent_calls is None:
        raise InputError("--tool-time-s/--tool-result-tokens describe agent sessions: give "
                         "--agent-calls K too")
    if (spec_tokens is not None or spec_acceptance is not None) and draft is None:
        raise InputError("--spec-tokens/--spec-acceptance need a draft model: give --draft ID")
    _flags_into(data, dict(model=model, accelerator=accelerator, system=system, tp=tp,
                           precision=precision, kv_precision=kv_precision, engine=engine,
                           prompt_tokens=prompt_tokens, output_tokens=output_tokens,
                           batch=batch, rate_per_s=rate, ttft_s=ttft_s, tpot_s=tpot_s,
                           draft=draft, spec_tokens=spec_tokens, distill_to=distill_to,
                           prune_layers_frac=prune_layers_frac, prune_ffn_frac=prune_ffn_frac,
                           prune_heads_frac=prune_heads_frac,
                           spec_acceptance_frac=spec_acceptance, sparsity_2_4=sparsity_2_4,
                           agent_calls=agent_calls, tool_time_s=tool_time_s,
                           tool_result_tokens=tool_result_tokens, region=region,
                           power_basis=power_basis, pue=pue,
                           grid_intensity_g_per_kwh=grid_intensity, price_usd_per_mwh=price,
                           gpu_hour_price_usd=gpu_hour_usd, disaggregated=disaggregated,
                           prefill_gpus=prefill_gpus, decode_gpus=decode_gpus, ep=ep,
                           dp_attention=dp_attention))
    if search and not (data.get("hardware") or {}).get("accelerator"):
        data.setdefault("hardware", {})["accelerator"] = "h100-sxm"  # replaced by the search
    sv = data.get("serving") or {}
    if "prompt_tokens" not in sv or "output_tokens" not in sv:
        raise InputError("--prompt-tokens and --output-tokens are needed (or serving."
                         "prompt_tokens/output_tokens in the scenario)")
    scen = sc.prepare(_options.validate_cli(data, command), scenario)
    if scen.serving.disaggregated is not None:
        from ._serve_disagg import show

        show(scen, search, fmt, hours)
        return
    extra: dict[str, Any] = {}
    if search:
        plan, extra = search_result(
            scen, accelerator=accelerator,
            precisions=(scen.serving.precision,) if precision else ("bf16", "fp8", "fp4",
                                                                     "int4"),
            tps=(scen.serving.tp,) if tp else (1, 2, 4, 8), hours=hours)
    else:
        plan = plan_from_scenario(scen, hours=hours)
    from ..stages._plain import plain
    from ..uncertainty.montecarlo import serve_ranges

    out = serve_ranges(scen, plain(serving_result(plan, scen, extra)))
    if load_curve:
        from ..perf.serving.load import load_curve as curve
        from ..perf.serving.scenario import config_from_scenario

        if search:
            raise InputError("--load-curve tabulates one given configuration, not the result "
                             "of a search: give --accelerator, --tp and --precision instead")
        out["load_curve"] = curve(config_from_scenario(scen), scen.serving.prompt_tokens,
                                  scen.serving.output_tokens)
    if entries:
        from ._compare import serve_compare

        out["compare"] = serve_compare(scen, out, entries, hours)
    if fmt == "json":
        print_json(out)
    elif fmt == "csv":
        flat = {k: v for k, v in out.items() if not isinstance(v, dict | list)}
        flat.update({k: "; ".join(map(str, v)) for k, v in out.items()
                     if isinstance(v, list) and all(isinstance(x, str) for x in v)})
        flat.update({f"breakdown.{k}": v for k, v in out["breakdown"].items()})
        comp = out.get("compression") or {}
        for side in ("teacher", "student"):
            flat.update({f"compression.{side}.{k}": v
                         for k, v in (comp.get(side) or {}).items()})
        flat.update({f"compression.vs_teacher.{x['metric']}": x["ratio"]
                     for x in comp.get("vs_teacher", [])})
        print_csv([flat])
    else:
        _table(out)
        if out.get("compare"):
            from ._compare import print_serve_compare

            print_serve_compare(out["compare"])
