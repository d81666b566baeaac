"""Reports of a plan dict (see :func:`wattlas.plan.run_plan`): Markdown, self-contained HTML with
inline SVG charts, and the rows of the terminal summary.

Every number a report shows comes from the plan dict by its key path (``training.step_time_s``),
printed with 6 significant digits next to a human-unit rendering, so a reader (or a test) can
match each report number to ``plan.json``.
"""

from __future__ import annotations

from typing import Any

from ..units import SECONDS_PER_DAY, show_energy, show_power, show_usd

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


def best_region(plan: dict[str, Any]) -> dict[str, Any] | None:
    regions = lookup(plan, "site.regions") or []
    ranked = [r for r in regions if r.get("rank") is not None]
    return min(ranked, key=lambda r: r["rank"]) if ranked else None
