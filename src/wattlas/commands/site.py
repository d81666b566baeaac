"""Rank grid regions for an AI campus: feasibility, time-to-power, cost, carbon, latency.

Give a scenario (site.power_mw, site.rack_kw, site.cooling, site.candidates; the rack power
defaults to hardware.system's rack_max_power_w) and/or flags (flags win). Regions that cannot
host the racks or the MW are listed with the reasons; the Pareto front over time-to-power,
annual cost, annual carbon (and latency to --users) is marked.
Example: wattlas site --power-mw 100 --rack-kw 120 --cooling liquid --regions us-va,is,no
"""

from __future__ import annotations

from typing import Any

import typer

NO_ARGS_IS_HELP = True


def site_inputs(scen: Any, power_mw: float | None, rack_kw: float | None,
                cooling: str | None, regions: str | None) -> tuple[float, float, str, list | None,
                                                                 list[str]]:
    """(facility W, rack W, cooling, region ids, notes) from flags over the scenario."""
    from ..errors import InputError

    site = scen.site if scen is not None else None
    notes: list[str] = []
    p_mw = power_mw if power_mw is not None else (site.power_mw if site else None)
    r_kw = rack_kw if rack_kw is not None else (site.rack_kw if site else None)
    if r_kw is None and scen is not None and scen.hardware and scen.hardware.system:
        from ..hardware import system

        sysm = system(scen.hardware.system)
        if sysm.rack_max_power_w:
            r_kw = sysm.rack_max_power_w / 1e3
            notes.append(f"rack power {r_kw:.0f} kW from {sysm.id} rack_max_power_w")
    if p_mw is None:
        raise InputError("facility power unknown: give --power-mw or site.power_mw")
    if r_kw is None:
        raise InputError("rack power unknown: give --rack-kw, site.rack_kw or hardware.system")
    cool = cooling or (site.cooling if site else "liquid")
    ids = ([s.strip() for s in regions.split(",") if s.strip()] if regions
           else (list(site.candidates) if site and site.candidates else None))
    return p_mw * 1e6, r_kw * 1e3, cool, ids, notes


def command(
    scenario: str = typer.Argument(None, help="Scenario YAML file (optional)."),
    power_mw: float = typer.Option(None, "--power-mw", help="Facility power [MW]."),
    rack_kw: float = typer.Option(None, "--rack-kw", help="Power per rack [kW]."),
    cooling: str = typer.Option(None, "--cooling", help="air | hybrid | liquid"),
    regions: str = typer.Option(None, "--regions", help="Comma-separated region ids."),
    weights: str = typer.Option(None, "--weights",
                                help="time=1,cost=1,carbon=1,latency=0 (score weights)."),
    users: str = typer.Option(None, "--users", help="User population: lat,lon[,w];lat,lon..."),
    profile: list[str] = typer.Option(
        None, "--profile", help="REGION=file.csv: hourly/monthly carbon_intensity_g_per_kwh "
                                "and price_usd_per_mwh replacing the annual averages."),
    set_: list[str] = typer.Option(None, "--set", help="Override a scenario field: a.b=c."),
    catalog_file: str = typer.Option(None, "--catalog", help="CSV/YAML file adding rows."),
    fmt: str = typer.Option("table", "--format", "-f", help="table | json | csv"),
) -> None:
    from .. import catalog
    from .. import scenario as sc
    from ..grid.siting import SiteDemand, rank_sites
    from ._common import check_format, print_csv, print_json, print_table

    check_format(fmt)
    if catalog_file:
        catalog.add_user_rows(catalog_file)
    scen = sc.load(scenario, set_) if (scenario or set_) else None
    p_w, r_w, cool, ids, notes = site_inputs(scen, power_mw, rack_kw, cooling, regions)
    demand = SiteDemand(facility_power_w=p_w, rack_power_w=r_w, cooling=cool)
    from ..grid import regions as rg

    regs = [rg.region(r) for r in ids] if ids else rg.all_regions()
    for item in profile or []:
        rid, sep, path = item.partition("=")
        if not sep:
            from ..errors import InputError

            raise InputError(f"--profile '{item}': expected REGION=file.csv")
        regs = [rg.with_profile(r, rg.load_profile(path)) if r.id == rid else r for r in regs]
        if rid not in {r.id for r in regs}:
            from ..errors import InputError

            raise InputError(f"--profile: region '{rid}' is not among the candidates")
        notes.append(f"{rid}: carbon/price from profile {path}")
    ranked = rank_sites(demand, weights=weights, users=users, regions=regs)
    if fmt == "json":
        print_json({"facility_power_w": p_w, "rack_power_w": r_w, "cooling": cool,
                    "notes": notes, "regions": ranked})
        return
    if fmt == "csv":
        print_csv([{k: (("; ".join(v)) if isinstance(v, list) else v) for k, v in r.items()}
                   for r in ranked])
        return
    shown = []
    for r in ranked:
        ttp = ("—" if r["time_to_power_years_low"] is None else
               f"{r['time_to_power_years_low']:.1f}–{r['time_to_power_years_high']:.1f}"
               + (" (on-site)" if r["power_path"] == "onsite" else ""))
        shown.append({
            "region": r["region"], "feasible": r["feasible"], "pareto": r["pareto"],
            "score": r["score"], "time to power y": ttp,
            "cost M$/y": None if r["energy_cost_usd_per_year"] is None
            else r["energy_cost_usd_per_year"] / 1e6,
            "ktCO2e/y": None if r["co2e_kg_per_year"] is None else r["co2e_kg_per_year"] / 1e6,
            "rack limit kW": r["rack_limit_w"] / 1e3,
            **({"RTT ms": r["latency_s"] * 1e3} if r["latency_s"] is not None else {}),
            "why not": ", ".join(r["reason_codes"]),
        })
    print_table(shown, title=f"wattlas site: {p_w / 1e6:g} MW, {r_w / 1e3:g} kW {cool}-cooled "
                             "racks")
    typer.echo("full reasons, unknown inputs and sources: --format json")
    defaults = sorted({d for r in ranked for d in r["defaults_used"]})
    for line in notes + [f"default used: {d}" for d in defaults]:
        typer.echo(line)
