"""Plan a training run: layout, memory per GPU, step time, MFU, days and GPU-hours.

Give a scenario file and/or flags (flags win). With --search every valid layout is evaluated
and the fastest that fits is reported with a Pareto table of step time vs memory headroom.
Example: wattlas train --model llama3-405b --accelerator h100-sxm --gpus 16384
--tokens 15.6e12 --seq-len 8192 --global-batch 2048 --search
"""

from __future__ import annotations

from typing import Any

import typer

from ..stages.train import run_training
from ..stages.training import layout_line
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
    put("cluster.gpus", flags["gpus"])
    put("site.region", flags["region"])
    for key in (*_options.ENERGY_FLAG_KEYS, "power_cap_w", "gpu_hour_price_usd",
                "capex_usd_per_gpu", "capex_life_years", "capacity_charge_usd_per_mw_year",
                "boundary"):
        put(f"energy.{key}", flags.get(key))
    for key in ("tokens", "seq_len", "global_batch", "precision", "job", "goodput_frac",
                "lora_rank", "rollout_tokens", "software_year", "stack_efficiency_frac"):
        put(f"training.{key}", flags[key])
    for key in ("tp", "pp", "dp", "cp", "ep", "vpp", "microbatch", "recompute", "zero",
                "offload", "etp", "dp_shard"):
        put(f"training.layout.{key}", flags.get(key))
    for key, flag in (("facility_power_mw", "budget_mw"), ("days", "budget_days"),
                      ("gpus", "budget_gpus"), ("flop", "budget_flop"), ("mfu_frac", "mfu")):
        put(f"budget.{key}", flags.get(flag))


def _table(out: dict[str, Any]) -> None:
    from ..units import GIB, SECONDS_PER_DAY
    from ._common import print_pairs, print_table

    layout = layout_line(out["parallelism"])
    crossed = [g["instrument"] for g in out["governance"] if g["crossed"]]
    pairs = [
        ("training time", f"{out['training_time_s'] / SECONDS_PER_DAY:,.1f} days "
                          f"(goodput {out['goodput_frac']:.0%})"),
        ("GPU-hours", f"{out['gpu_hours']:,.0f}"),
        ("MFU / HFU", f"{out['mfu']:.1%} / {out['hfu']:.1%}"),
        ("step time", f"{out['step_time_s']:.3f} s ({out['steps']:,} steps)"),
        ("tokens/s", f"{out['tokens_per_s']:,.0f}"),
        ("memory per GPU", f"{out['memory_per_gpu_bytes'] / GIB:.1f} GiB of "
                           f"{out['hbm_bytes'] / GIB:.0f} GiB"),
        ("layout", layout),
        ("training compute", f"{out['model_flop_total']:.3g} FLOP"
                             + (f" (crosses: {', '.join(crossed)})" if crossed else "")),
    ]
    for line in out.get("energy_summary", []):
        pairs.append(("energy", line))
    if out.get("geo"):
        from ..grid.geodist import geo_line

        pairs.append(("geo-distributed", geo_line(out["geo"])))
    if "search_candidates" in out:
        fixed = out.get("search_fixed") or {}
        kept = (" (fixed: " + ", ".join(f"{k}={v}" for k, v in fixed.items()) + ")"
                if fixed else "")
        pairs.append(("search", f"{out['search_candidates']:,} layouts in "
                                f"{out['search_time_s']:.2f} s{kept}"))
    for n in out.get("notes", []):
        pairs.append(("note", n))
    print_pairs(pairs, title=f"wattlas train: {out['model']} on {out['gpus']:,} × "
                             f"{out['accelerator']}")
    if out.get("pareto"):
        rows = [dict(r, memory_gib=r["memory_per_gpu_bytes"] / GIB) for r in out["pareto"][:10]]
        print_table(rows, ["tp", "pp", "dp", "cp", "ep", "vpp", "microbatch", "recompute",
                           "zero", "step_time_s", "memory_gib"],
                    title="Pareto: step time vs memory headroom")


def command(
    scenario: str = typer.Argument(None, help="Scenario YAML file (optional)."),
    model: str = typer.Option(None, "--model", help="Model id (wattlas catalog models)."),
    accelerator: str = typer.Option(None, "--accelerator", help="Accelerator id."),
    system: str = typer.Option(None, "--system", help="System id (node/rack; sets the fabric)."),
    gpus: int = typer.Option(None, "--gpus", help="Number of accelerators [GPUs]."),
    tokens: float = typer.Option(None, "--tokens", help="Training tokens [tokens]."),
    seq_len: int = typer.Option(None, "--seq-len", help="Sequence length [tokens]."),
    global_batch: int = typer.Option(None, "--global-batch", help="Global batch [sequences]."),
    tp: int = typer.Option(None, "--tp", help="Tensor-parallel width [GPUs] (within the "
                           "scale-up domain)."),
    pp: int = typer.Option(None, "--pp", help="Pipeline-parallel stages [GPUs]."),
    dp: int = typer.Option(None, "--dp", help="Data-parallel replicas [replicas] "
                           "(default: GPUs ÷ (tp·pp·cp))."),
    cp: int = typer.Option(None, "--cp", help="Context-parallel width [GPUs] (splits the "
                           "sequence)."),
    ep: int = typer.Option(None, "--ep", help="Expert-parallel width [GPUs] (MoE models)."),
    vpp: int = typer.Option(None, "--vpp", help="Virtual pipeline stages per GPU "
                            "[stages] (interleaved 1F1B)."),
    microbatch: int = typer.Option(None, "--microbatch", help="Micro-batch [sequences]."),
    recompute: str = typer.Option(None, "--recompute",
                                  help="none | selective | full | op (op-level, torchtitan)"),
    zero: int = typer.Option(None, "--zero", help="ZeRO stage [0 | 1 | 2 | 3]"),
    etp: int = typer.Option(None, "--etp", help="Expert tensor-parallel width [GPUs] (MoE; "
                            "default: --tp)."),
    dp_shard: int = typer.Option(None, "--dp-shard", help="Hybrid sharding: ZeRO/FSDP shard "
                                 "group [GPUs] (default: all data-parallel ranks)."),
    offload: str = typer.Option(None, "--offload", help="Host offload: none | optimizer | "
                                "optimizer+weights | activations"),
    precision: str = typer.Option(None, "--precision", help="bf16 | fp16 | fp8 | fp4"),
    job: str = typer.Option(None, "--job", help="pretrain | sft | lora | rlhf | grpo"),
    rollout_tokens: int = typer.Option(None, "--rollout-tokens",
                                       help="RL: generated tokens per sequence "
                                       "[tokens]."),
    lora_rank: int = typer.Option(None, "--lora-rank", help="LoRA adapter rank [dimensions]."),
    goodput_frac: float = typer.Option(None, "--goodput", help="Effective-time fraction "
                                       "[0-1] (default 0.90, Llama 3 paper §3.3.4)."),
    software_year: int = typer.Option(None, "--software-year", help="Plan with the layout "
                                      "features published by this year [year] (e.g. 2020: no "
                                      "FlashAttention, sequence parallelism, interleaving)."),
    stack_efficiency_frac: float = typer.Option(
        None, "--stack-efficiency", help="Throughput of your stack ÷ the calibrated model "
        "[0-1] (default 1; Llama 2's stack fits 0.70)."),
    region: str = _options.REGION,
    power_basis: str = _options.POWER_BASIS,
    pue: float = _options.PUE,
    boundary: str = typer.Option(None, "--boundary", help="Accounting boundary: gpu "
                                 "(accelerators only) | node (+ hosts, network) | facility "
                                 "(× PUE, default)."),
    grid_intensity: float = _options.GRID_INTENSITY,
    price: float = _options.PRICE,
    power_cap_w: float = typer.Option(None, "--power-cap-w", help="Power cap per GPU [W]: "
                                      "slows the step (clocks lowered) and lowers power."),
    gpu_hour_usd: float = typer.Option(None, "--gpu-hour-usd", help="GPU-hour price [USD] "
                                       "(hardware cost = GPU-hours × price)."),
    capex_usd_per_gpu: float = typer.Option(None, "--capex-usd-per-gpu",
                                            help="Capital cost per GPU [USD], amortised over "
                                            "--capex-life-years."),
    capex_life_years: float = typer.Option(None, "--capex-life-years",
                                           help="Capex amortisation life [years] (default 4)."),
    capacity_charge: float = typer.Option(None, "--capacity-charge-usd-per-mw-year",
                                          help="Capacity charge on peak facility power "
                                          "[USD/MW/year] (default: region)."),
    budget_mw: float = typer.Option(None, "--budget-mw", help="Budget mode: facility power "
                                    "[MW] → GPUs → FLOP → Chinchilla-optimal model."),
    budget_days: float = typer.Option(None, "--budget-days", help="Budget mode: time [days]."),
    budget_gpus: int = typer.Option(None, "--budget-gpus", help="Budget mode: GPU count "
                                    "[GPUs] instead of --budget-mw."),
    budget_flop: float = typer.Option(None, "--budget-flop",
                                      help="Budget mode: FLOP budget [FLOP]."),
    mfu: float = typer.Option(None, "--mfu", help="Budget mode: MFU [0-1] (default 0.40)."),
    days: float = typer.Option(None, "--days", help="Solve for the fewest GPUs and their "
                               "layout that finish within this time [days] (no --gpus)."),
    compare: str = typer.Option(None, "--compare", help="Also plan the same job on these "
                                "accelerator or system ids, comma-separated (JSON "
                                "compare.rows)."),
    search: bool = typer.Option(False, "--search", help="Search every valid layout."),
    allow_uneven_pp: bool = typer.Option(False, "--allow-uneven-pp",
                                         help="Accept pp that does not divide the layers."),
    catalog_files: list[str] = _options.CATALOG,
    fmt: str = typer.Option("table", "--format", "-f", help="table | json | csv"),
    overrides: list[str] = typer.Option(None, "--set", help="Override a scenario field a.b=c."),
) -> None:
    from .. import scenario as sc
    from ._common import check_format, print_csv, print_json

    check_format(fmt)
    _options.load_catalogs(catalog_files)
    entries = None
    if compare is not None:
        from ._compare import compare_entries

        entries = compare_entries(compare)
    data = sc.load_data(scenario, overrides or [])
    _flags_into(data, dict(model=model, accelerator=accelerator, system=system, gpus=gpus,
                           region=region, tokens=tokens, seq_len=seq_len,
                           global_batch=global_batch, precision=precision, job=job,
                           goodput_frac=goodput_frac, lora_rank=lora_rank,
                           rollout_tokens=rollout_tokens, software_year=software_year,
                           stack_efficiency_frac=stack_efficiency_frac, tp=tp, pp=pp, dp=dp,
                           cp=cp, ep=ep, vpp=vpp, microbatch=microbatch, recompute=recompute,
                           zero=zero, offload=offload, etp=etp, dp_shard=dp_shard,
                           budget_mw=budget_mw,
                           budget_days=budget_days, budget_gpus=budget_gpus,
                           budget_flop=budget_flop, mfu=mfu, power_basis=power_basis, pue=pue,
                           grid_intensity_g_per_kwh=grid_intensity, price_usd_per_mwh=price,
                           power_cap_w=power_cap_w, gpu_hour_price_usd=gpu_hour_usd,
                           capex_usd_per_gpu=capex_usd_per_gpu,
                           capex_life_years=capex_life_years,
                           capacity_charge_usd_per_mw_year=capacity_charge,
                           boundary=boundary))
    scen = sc.prepare(_options.validate_cli(data, command), scenario)
    budget_flags = (budget_mw, budget_days, budget_gpus, budget_flop, mfu)
    if scen.budget is not None and (scen.training is None
                                    or any(v is not None for v in budget_flags)):
        from ._budget import run_budget

        return run_budget(scen, fmt)
    if days is not None and gpus is not None:
        from ..errors import InputError

        raise InputError(f"--days {days:g} solves for the GPU count: drop --gpus {gpus}")
    out, scen = run_training(scen, search=search, allow_uneven_pp=allow_uneven_pp,
                             progress=fmt == "table", days=days)
    if entries:
        from ._compare import train_compare

        out["compare"] = train_compare(scen, out, entries)
    if fmt == "json":
        print_json(out)
    elif fmt == "csv":
        flat = {k: v for k, v in out.items() if not isinstance(v, dict | list)}
        flat.update({f"parallelism.{k}": v for k, v in out["parallelism"].items()})
        flat.update({f"breakdown_s.{k}": v for k, v in out["breakdown_s"].items()})
        flat.update({f"memory_bytes.{k}": v for k, v in out["memory_bytes"].items()})
        print_csv([flat])
    else:
        _table(out)
        if out.get("compare"):
            from ._compare import print_train_compare

            print_train_compare(out["compare"])

