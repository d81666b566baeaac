"""Reports of a plan dict (see :func:`wattlas.plan.run_plan`): Markdown, self-contained HTML with
inline SVG charts, and the rows of the terminal summary.

Every number a report shows comes from the plan dict by its key path (``training.step_time_s``),
printed with 6 significant digits next to a human-unit rendering, so a reader (or a test) can
match each report number to ``plan.json``.
"""

from __future__ import annotations

from typing import Any

from ..units import KG_PER_T, SECONDS_PER_DAY, show_co2e, show_energy, show_power, show_usd

GIB = 2.0**30


def _days(v: float) -> str:
    return f"{v / SECONDS_PER_DAY:,.1f} days"


def _seconds(v: float) -> str:
    return f"{v:,.3f} s"


def _mw(v: float) -> str:
    return f"{v / 1e6:,.1f}"


#: unit suffixes whose numbers get a column in people's units beside them in report tables
HUMAN_SUFFIXES = ("_s", "_w", "_j", "_kg", "_bytes", "_usd", "_frac", "_flop", "_per_year",
                  "_years_low", "_years_high")


def has_human(key: str) -> bool:
    """Whether report tables show `key` in people's units beside its SI value."""
    return key.endswith(HUMAN_SUFFIXES) or key in ("mfu", "hfu")


#: (key path, label, human rendering) of the headline numbers, by section.
_SUMMARY: tuple[tuple[str, str, Any], ...] = (
    ("training.training_time_s", "training time", _days),
    ("training.gpu_hours", "GPU-hours", lambda v: f"{v / 1e6:,.2f} M"),
    ("training.mfu", "MFU", lambda v: f"{v:.1%}"),
    ("training.hfu", "HFU", lambda v: f"{v:.1%}"),
    ("training.step_time_s", "step time", lambda v: f"{v:.3f} s"),
    ("training.tokens_per_s", "tokens per second", lambda v: f"{v / 1e6:,.2f} M tok/s"),
    ("training.memory_per_gpu_bytes", "memory per GPU", lambda v: f"{v / GIB:.1f} GiB"),
    ("training.hbm_bytes", "HBM per GPU", lambda v: f"{v / GIB:.0f} GiB"),
    ("training.model_flop_total", "training compute", lambda v: f"{v:.3g} FLOP"),
    ("training.geo.step_time_s", "geo-distributed step time", lambda v: f"{v:.3f} s"),
    ("training.geo.slowdown_frac", "geo-distributed slowdown", lambda v: f"×{1 + v:.3f}"),
    ("serving.ttft_s", "TTFT", lambda v: f"{v * 1e3:.0f} ms"),
    ("serving.tpot_s", "TPOT", lambda v: f"{v * 1e3:.1f} ms"),
    ("serving.output_tokens_per_s", "output tokens/s per replica", lambda v: f"{v:,.0f}"),
    ("serving.batch", "batch", lambda v: f"{v:,.0f}"),
    ("serving.energy_per_token_j", "energy per token", lambda v: f"{v:.3g} J"),
    ("serving.gpus", "GPUs (replicas × TP)", lambda v: f"{v:,.0f}"),
    ("energy.it_power_w", "IT power", show_power),
    ("energy.facility_power_w", "facility power", show_power),
    ("energy.energy_j", "energy", show_energy),
    ("energy.co2e_kg", "emissions", lambda v: f"{v / 1e3:,.0f} t CO2e"),
    ("energy.energy_cost_usd", "energy cost", show_usd),
    ("energy.racks", "racks", lambda v: f"{v:,.0f}"),
    ("site.facility_power_w", "site demand", show_power),
    ("site.rack_power_w", "rack power", lambda v: f"{v / 1e3:,.0f} kW"),
    ("budget.gpus", "budget: GPUs", lambda v: f"{v:,}"),
    ("budget.budget_flop", "budget: compute", lambda v: f"{v:.3g} FLOP"),
    ("budget.optimal_params", "budget: Chinchilla-optimal parameters",
     lambda v: f"{v / 1e9:,.1f} B"),
)

#: (key path, label, human rendering) of the compute-optimal sizing of the ``budget`` stage.
BUDGET: tuple[tuple[str, str, Any], ...] = (
    ("budget.facility_power_w", "facility power", show_power),
    ("budget.pue", "PUE", lambda v: f"{v:.2f}"),
    ("budget.it_power_w", "IT power", show_power),
    ("budget.gpus", "GPUs", lambda v: f"{v:,}"),
    ("budget.it_power_w_per_gpu", "IT power per GPU", lambda v: f"{v:,.0f} W"),
    ("budget.time_s", "time", _days),
    ("budget.mfu", "MFU", lambda v: f"{v:.0%}"),
    ("budget.goodput_frac", "goodput", lambda v: f"{v:.0%}"),
    ("budget.peak_flop_per_s_per_gpu", "peak per GPU", lambda v: f"{v / 1e12:,.0f} TFLOP/s"),
    ("budget.sustained_flop_per_s", "sustained compute", lambda v: f"{v:.3g} FLOP/s"),
    ("budget.energy_j", "energy", show_energy),
    ("budget.budget_flop", "FLOP budget", lambda v: f"{v:.3g} FLOP"),
    ("budget.optimal_params", "Chinchilla-optimal parameters", lambda v: f"{v / 1e9:,.1f} B"),
    ("budget.optimal_tokens", "Chinchilla-optimal tokens", lambda v: f"{v / 1e12:,.2f} T"),
    ("budget.tokens_per_param", "tokens per parameter", lambda v: f"{v:,.1f}"),
    ("budget.expected_loss", "expected loss", lambda v: f"{v:.3f} nats/token"),
)

#: (key path, label, human rendering) of geo-distributed training (``training.geo``).
GEO: tuple[tuple[str, str, Any], ...] = (
    ("training.geo.sync_every_steps", "WAN sync every", lambda v: f"{v:,} step(s)"),
    ("training.geo.wan_bytes_per_s", "WAN bandwidth", lambda v: f"{v * 8 / 1e9:,.0f} Gb/s"),
    ("training.geo.rtt_s", "round trip between sites", lambda v: f"{v * 1e3:,.1f} ms"),
    ("training.geo.gradient_bytes", "gradients", lambda v: f"{v / 1e9:,.1f} GB"),
    ("training.geo.wan_sync_bytes", "WAN bytes per sync", lambda v: f"{v / 1e9:,.1f} GB"),
    ("training.geo.compute_time_s", "compute per step", _seconds),
    ("training.geo.wan_time_s", "WAN all-reduce per sync", _seconds),
    ("training.geo.intra_time_s", "in-site reduction per sync", _seconds),
    ("training.geo.exposed_comm_s", "exposed communication per step", _seconds),
    ("training.geo.step_time_single_site_s", "step time at one site", _seconds),
    ("training.geo.step_time_s", "step time across sites", _seconds),
    ("training.geo.slowdown_frac", "slowdown vs one site", lambda v: f"×{1 + v:.3f}"),
    ("training.geo.training_time_s", "training time across sites", _days),
)

#: (key path, label, human rendering) of the fleet split of ``site.allocate``.
ALLOCATION: tuple[tuple[str, str, Any], ...] = (
    ("site.allocation.racks_total", "racks", lambda v: f"{v:,}"),
    ("site.allocation.gpus_per_rack", "GPUs per rack", lambda v: f"{v:,}"),
    ("site.allocation.gpus", "GPUs", lambda v: f"{v:,}"),
    ("site.allocation.it_power_w", "IT power", show_power),
    ("site.allocation.facility_power_w", "facility power", show_power),
    ("site.allocation.energy_cost_usd_per_year", "energy cost per year", show_usd),
    ("site.allocation.co2e_kg_per_year", "emissions per year", show_co2e),
    ("site.allocation.max_latency_s", "latency bound", lambda v: f"{v * 1e3:,.0f} ms"),
    ("site.allocation.objective", "objective (weighted sum)", lambda v: f"{v:,.4g}"),
)

#: Columns of the per-site tables (a human-unit column follows each power in watts).
GEO_SITE_COLUMNS = ("region", "replicas", "gpus", "facility_power_w")
ALLOCATION_SITE_COLUMNS = ("region", "cap_w", "racks", "gpus", "it_power_w",
                           "facility_power_w", "pue", "energy_cost_usd_per_year",
                           "co2e_kg_per_year", "latency_s")
OBJECTIVE_COLUMNS = ("metric", "weight", "value")
#: Human-unit columns added next to plan keys in tables: key → (header, rendering).
HUMAN_COLUMNS: dict[str, tuple[str, Any]] = {
    "cap_w": ("cap [MW]", _mw), "it_power_w": ("IT [MW]", _mw),
    "facility_power_w": ("facility [MW]", _mw),
}


def human(key: str, v: Any) -> str:
    """A plan number in people's units, read from its key's unit suffix (docs/nomenclature.md):
    durations in days, hours or ms, power in kW/MW, energy in kWh/MWh, CO2e in t, memory in
    GiB, money in $, fractions in %, FLOP in scientific notation; '' for text and None (the
    SI value stays beside it)."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return ""
    if key.endswith("_per_year"):
        inner = human(key.removesuffix("_per_year"), v)
        return f"{inner}/y" if inner else ""
    if key.endswith(("_years", "_years_low", "_years_high")):
        return f"{v:,.1f} years"
    a = abs(v)
    if key.endswith("_frac") or key in ("mfu", "hfu"):
        return f"{v:.1%}"
    if "flop" in key:
        return f"{v:.3g} FLOP" + ("/s" if "_per_s" in key else "")
    if key.endswith("_bytes_per_s"):
        return f"{v / 1e9:,.3g} GB/s"
    if key.endswith("_bytes"):
        return f"{v / GIB:,.1f} GiB"
    if key.endswith("_s") and not key.endswith("_per_s"):
        if a >= SECONDS_PER_DAY:
            return f"{v / SECONDS_PER_DAY:,.1f} days"
        if a >= 3600:
            return f"{v / 3600:,.1f} h"
        return f"{v:,.3g} s" if a >= 1 else f"{v * 1e3:,.3g} ms"
    if key.endswith("_w"):
        return show_power(v) if a >= 1e3 else f"{v:,.0f} W"
    if key.endswith("_j"):
        return show_energy(v) if a >= 3.6e6 else f"{v:,.3g} J"
    if key.endswith("_kg"):
        return (f"{v / KG_PER_T:,.3g} tCO2e" if a < 100 * KG_PER_T
                else f"{v / KG_PER_T:,.0f} tCO2e") if "co2" in key else f"{v:,.0f} kg"
    if key.endswith("_usd"):
        return show_usd(v)
    if a >= 1e6:
        return f"{v / 1e6:,.3g} M"
    return f"{v:,.4g}" if isinstance(v, float) else f"{v:,}"


def lookup(plan: dict[str, Any], path: str) -> Any:
    """The value at a dotted key path of the plan dict, or None."""
    node: Any = plan
    for k in path.split("."):
        if not isinstance(node, dict) or k not in node:
            return None
        node = node[k]
    return node


def exact(v: Any) -> str:
    """The machine-comparable rendering of a plan number: 6 significant digits, written out
    without an exponent from 1e-4 to 1e15 (7172580, not 7.17258e+06); FLOP-sized and tiny
    numbers keep scientific notation."""
    import math

    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return str(v)
    a = abs(v)
    if v == 0 or not math.isfinite(v) or not 1e-4 <= a < 1e15:
        return f"{v:.6g}"
    digits = 5 - math.floor(math.log10(a))
    if digits <= 0:
        return str(int(round(v, digits)))
    return f"{round(v, digits):.{digits}f}".rstrip("0").rstrip(".")


def labelled_rows(plan: dict[str, Any], spec: tuple[tuple[str, str, Any], ...]
                  ) -> list[dict[str, str]]:
    """The numbers of `spec` (key path, label, human rendering) present in `plan`:
    {path, label, value (exact), human}."""
    rows = []
    for path, label, human in spec:
        v = lookup(plan, path)
        if isinstance(v, int | float) and not isinstance(v, bool):
            rows.append({"path": path, "label": label, "value": exact(v), "human": human(v)})
    return rows


def summary_rows(plan: dict[str, Any]) -> list[dict[str, str]]:
    """Headline numbers present in `plan`: {path, label, value (exact), human}; a number
    with ``_p10``/``_p50``/``_p90`` beside it shows them after its value."""
    rows = labelled_rows(plan, _SUMMARY)
    render = {path: human for path, _, human in _SUMMARY}
    for r in rows:
        ps = [lookup(plan, f"{r['path']}_p{q}") for q in (10, 50, 90)]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in ps):
            show = render[r["path"]]
            r["human"] += f" (P10 / P50 / P90: {' / '.join(show(v) for v in ps)})"
    return rows


#: what the ranges section of a report says first
UNCERTAINTY_INTRO = (
    "Each headline number carries P10, P50 and P90 (keys k_p10, k_p50, k_p90 beside k): input "
    "ranges drawn on a Latin hypercube and re-run through the stages, times the model's error "
    "factor (true / predicted) from the out-of-sample validation cases of its stage and regime "
    "(split conformal; coverage measured on held-back cases, docs/uncertainty.md).")
INTERVAL_COLUMNS = ("factor", "stage", "regime", "n_fit", "factor_p10", "factor_p50",
                    "factor_p90", "n_held_back", "coverage_held_back_frac")
TORNADO_COLUMNS = ("input", "low", "high", "swing_frac", "days", "MW", "MWh", "cost", "tCO2e")


def interval_rows(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The model-error intervals a plan used (``uncertainty.intervals``), for report tables."""
    return [dict(r) for r in (plan.get("uncertainty") or {}).get("intervals", [])]


def tornado_rows(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """``uncertainty.tornado`` flattened: input, its P10 and P90 value, the relative swing,
    and per output the change [%] from the plan's value at the input's P10 and P90."""
    nominal = tornado_nominal(plan)
    out = []
    for r in (plan.get("uncertainty") or {}).get("tornado", []):
        row: dict[str, Any] = {"input": r["input"], "low": r["low"], "high": r["high"],
                               "swing_frac": r["swing_frac"]}
        for lab, (a, b) in r["swings"].items():
            v0 = nominal.get(lab)
            if v0:
                row[lab] = f"{100 * (a / v0 - 1):+.1f} % to {100 * (b / v0 - 1):+.1f} %"
        out.append(row)
    return out


def tornado_nominal(plan: dict[str, Any]) -> dict[str, float]:
    """The plan's value of each tornado output (days, MW, MWh, cost, tCO2e) in SI units."""
    spec = (("training.training_time_s", "days"), ("energy.facility_power_w", "MW"),
            ("energy.energy_j", "MWh"), ("energy.energy_cost_usd", "cost"),
            ("energy.co2e_kg", "tCO2e"))
    out = {}
    for path, lab in spec:
        v = lookup(plan, path)
        if isinstance(v, int | float) and not isinstance(v, bool):
            out[lab] = float(v)
    return out


def with_human(rows: list[dict[str, Any]], columns: tuple[str, ...]
               ) -> tuple[list[dict[str, Any]], list[str]]:
    """`rows` and `columns` with the :data:`HUMAN_COLUMNS` rendering after each power column."""
    cols: list[str] = []
    for c in columns:
        cols += [c, HUMAN_COLUMNS[c][0]] if c in HUMAN_COLUMNS else [c]
    out = [dict(r, **{head: show(r[k]) for k, (head, show) in HUMAN_COLUMNS.items()
                      if r.get(k) is not None}) for r in rows]
    return out, cols


def budget_lines(budget: dict[str, Any]) -> list[str]:
    """The words of the budget sizing: hardware, inputs given, defaults used and notes."""
    hw = ", ".join(str(budget[k]) for k in ("accelerator", "precision") if budget.get(k))
    lines = [f"hardware: {hw}"] if hw else []
    lines += [f"{k.replace('_', ' ')}: {'; '.join(map(str, budget[k]))}"
              for k in ("inputs_given", "defaults_used") if budget.get(k)]
    return lines + [str(n) for n in budget.get("notes") or []]


def geo_text(geo: dict[str, Any]) -> str:
    """'hierarchical sync every 1 step(s) across us-va, ca-qc; slowdown vs one site ×9.881.'"""
    return (f"{geo['scheme']} sync every {geo['sync_every_steps']} step(s) across "
            f"{', '.join(s['region'] for s in geo.get('sites') or [])}; slowdown vs one site "
            f"×{1 + geo['slowdown_frac']:.3f}.")


def site_demand_text(site: dict[str, Any]) -> str:
    """'20.1 MW facility' (or 'X MW IT × PUE' when only the IT power is known)."""
    if site.get("facility_power_w") is not None:
        return f"{site['facility_power_w'] / 1e6:,.1f} MW facility"
    return f"{site['it_power_w'] / 1e6:,.1f} MW IT × PUE"


def best_region(plan: dict[str, Any]) -> dict[str, Any] | None:
    regions = lookup(plan, "site.regions") or []
    ranked = [r for r in regions if r.get("rank") is not None]
    return min(ranked, key=lambda r: r["rank"]) if ranked else None


COMPARE_INTRO = ("The same training job on each hardware (the scenario's own first). The best "
                 "region is the top-ranked candidate for that hardware's facility and rack "
                 "power; energy, carbon and cost are at the scenario's region, as in the energy "
                 "section.")

#: Columns of the hardware comparison table (``compare.rows`` keys).
COMPARE_COLUMNS = ("accelerator", "system", "gpus", "parallelism", "mfu", "training_time_s",
                   "gpu_hours", "it_power_w", "facility_power_w", "racks", "rack_power_w",
                   "energy_j", "co2e_kg", "energy_cost_usd", "region", "time_to_power_years_low",
                   "time_to_power_years_high")


def layout_text(p: dict[str, Any] | None) -> str:
    """'tp=8 pp=16 dp=128 cp=1 ep=1 vpp=8 mb=1 recompute=full zero=1' of a parallelism dict."""
    if not p:
        return "—"
    return (f"tp={p['tp']} pp={p['pp']} dp={p['dp']} cp={p['cp']} ep={p['ep']} vpp={p['vpp']} "
            f"mb={p['microbatch']} recompute={p['recompute']} zero={p['zero']}")


def compare_rows(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """``compare.rows`` for tables: the parallelism dict shown as :func:`layout_text`."""
    return [dict(r, parallelism=layout_text(r.get("parallelism")))
            for r in lookup(plan, "compare.rows") or []]


def compare_line(row: dict[str, Any], short: bool = False) -> str:
    """One comparison row in people's units: days, MFU, MW, racks, MWh, CO2e, cost and region
    (`short`: days, MW, MWh and region)."""
    if row.get("training_time_s") is None:
        return f"not planned: {row.get('reason', 'no layout runs')}"
    if short:
        return (f"{row['training_time_s'] / SECONDS_PER_DAY:,.1f} days, "
                f"{show_power(row['facility_power_w'])}, {show_energy(row['energy_j'])}"
                + (f", best region {row['region']}" if row.get("region") else ""))
    parts = [f"{row['training_time_s'] / SECONDS_PER_DAY:,.1f} days",
             f"MFU {row['mfu']:.1%}", f"{show_power(row['facility_power_w'])} facility",
             f"{row['racks']:,} racks" + (f" of {row['rack_power_w'] / 1e3:,.0f} kW"
                                          if row.get("rack_power_w") else ""),
             show_energy(row["energy_j"])]
    if row.get("co2e_kg") is not None:
        parts.append(f"{row['co2e_kg'] / KG_PER_T:,.0f} tCO2e")
    if row.get("energy_cost_usd") is not None:
        parts.append(show_usd(row["energy_cost_usd"]))
    if row.get("region"):
        parts.append(f"best region {row['region']} ({row['time_to_power_years_low']:g}–"
                     f"{row['time_to_power_years_high']:g} years to power)")
    return ", ".join(parts)


def hardware_label(row: dict[str, Any]) -> str:
    """'b200 on dgx-b200 (16,384 GPUs)'."""
    return (f"{row['accelerator']}" + (f" on {row['system']}" if row.get("system") else "")
            + f" ({row['gpus']:,} GPUs)")
