"""List what wattlas knows: accelerators, systems, models, regions, serving engines or training
features, with sources."""

from __future__ import annotations

import typer

NO_ARGS_IS_HELP = True

# Table view: (column, header, divisor) in display units; JSON/CSV keep SI values.
_DISPLAY = {
    "bf16_flop_per_s": ("BF16 TFLOP/s", 1e12), "fp8_flop_per_s": ("FP8 TFLOP/s", 1e12),
    "fp4_flop_per_s": ("FP4 TFLOP/s", 1e12), "hbm_bytes": ("HBM GiB", 2**30),
    "hbm_bytes_per_s": ("HBM TB/s", 1e12), "tdp_w": ("TDP W", 1),
    "node_max_power_w": ("node kW", 1e3), "rack_max_power_w": ("rack kW", 1e3),
    "params_total": ("params B", 1e9), "params_active": ("active B", 1e9),
    "carbon_intensity_g_per_kwh": ("gCO2e/kWh", 1), "price_usd_per_mwh": ("$/MWh", 1),
    "rack_density_high_w": ("rack kW max", 1e3), "queue_years_low": ("queue y low", 1),
    "queue_years_high": ("queue y high", 1),
}
_TABLE_COLUMNS = {
    "accelerators": ["id", "bf16_flop_per_s", "fp8_flop_per_s", "fp4_flop_per_s", "hbm_bytes",
                     "hbm_bytes_per_s", "tdp_w", "eccn", "source"],
    "systems": ["id", "accelerator", "unit", "accelerators_per_node", "nodes_per_rack",
                "node_max_power_w", "rack_max_power_w", "cooling", "source"],
    "models": ["id", "layers", "hidden", "heads", "kv_heads", "vocab", "params_total",
               "params_active", "source"],
    "regions": ["id", "name", "queue_years_low", "queue_years_high", "carbon_intensity_g_per_kwh",
                "price_usd_per_mwh", "rack_density_high_w", "source"],
    "engines": ["id", "name", "version", "date", "eff_mem_frac", "eff_compute_frac",
                "fp8_compute_eff_frac", "step_overhead_s", "max_batch", "source"],
    "features": ["id", "first_year", "layout_condition", "source"],
    "onsite": ["id", "kind", "time_to_power_years_low", "time_to_power_years_high",
               "lcoe_low_usd_per_mwh", "lcoe_high_usd_per_mwh", "capacity_factor_frac",
               "carbon_intensity_g_per_kwh", "source"],
}


def catalog_rows(name: str) -> list[dict]:
    """Catalog rows as the CLI shows them, with values derived in code added."""
    from .. import catalog

    rows = [dict(r) for r in catalog.rows(name)]
    if name == "models":
        from ..workload import transformer as tf

        for r in rows:
            spec = tf.ModelSpec.from_mapping(r, id=r["id"])
            r["params_total"] = tf.params_total(spec)
            r["params_active"] = tf.params_active(spec)
    if name == "accelerators":
        from ..governance import classify

        for r in rows:
            c = classify(r)
            r["tpp"], r["performance_density"], r["eccn"] = c.tpp, c.performance_density, c.eccn
    return rows


def command(
    name: str = typer.Argument(..., help="accelerators | systems | models | regions | engines | "
                               "features | onsite"),
    fmt: str = typer.Option("table", "--format", "-f", help="table | json | csv"),
    catalog_file: str = typer.Option(None, "--catalog", help="CSV/YAML file adding rows."),
) -> None:
    from .. import catalog
    from ._common import check_format, print_csv, print_json, print_table

    check_format(fmt)
    if catalog_file:
        catalog.add_user_rows(catalog_file)
    if name not in catalog.CATALOGS:
        from ..errors import CatalogKeyError

        raise CatalogKeyError("catalog", name, list(catalog.CATALOGS))
    rows = catalog_rows(name)
    if fmt == "json":
        print_json(rows)
    elif fmt == "csv":
        print_csv(rows)
    else:
        cols = _TABLE_COLUMNS[name]
        shown = []
        for r in rows:
            d = {c: r.get(c) for c in cols}
            for c, (_, div) in _DISPLAY.items():
                if c in d and isinstance(d[c], int | float):
                    d[c] = d[c] / div
            if isinstance(d.get("first_year"), int):
                d["first_year"] = str(d["first_year"])  # a calendar year, not a count
            src = d.get("source") or ""
            d["source"] = src if len(src) <= 40 else src[:39] + "…"
            shown.append(d)
        print_table(shown, cols, title=f"wattlas catalog: {name}",
                    headers={c: h for c, (h, _) in _DISPLAY.items()})
