"""Reports of a plan dict (see :func:`wattlas.plan.run_plan`): Markdown, self-contained HTML with
inline SVG charts, and the rows of the terminal summary.

Every number a report shows comes from the plan dict by its key path (``training.step_time_s``),
printed with 6 significant digits next to a human-unit rendering, so a reader (or a test) can
match each report number to ``plan.json``.
"""

from __future__ import annotations

from typing import Any

from ..units import KG_PER_T, SECONDS_PER_DAY, show_energy, show_power, show_usd

GIB = 2.0**30

#: (key path, label, human rendering) of the headline numbers, by section.
_SUMMARY: tuple[tuple[str, str, Any], ...] = (
    ("training.training_time_s", "training time", lambda v: f"{v / SECONDS_PER_DAY:,.1f} days"),
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
)


def lookup(plan: dict[str, Any], path: str) -> Any:
    """The value at a dotted key path of the plan dict, or None."""
    node: Any = plan
    for k in path.split("."):
        if not isinstance(node, dict) or k not in node:
            return None
        node = node[k]
    return node


def exact(v: Any) -> str:
    """The machine-comparable rendering of a plan number (6 significant digits)."""
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return str(v)
    return f"{v:.6g}"


def summary_rows(plan: dict[str, Any]) -> list[dict[str, str]]:
    """Headline numbers present in `plan`: {path, label, value (exact), human}."""
    rows = []
    for path, label, human in _SUMMARY:
        v = lookup(plan, path)
        if isinstance(v, int | float) and not isinstance(v, bool):
            rows.append({"path": path, "label": label, "value": exact(v), "human": human(v)})
    return rows


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
