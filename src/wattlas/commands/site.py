"""Rank grid regions for an AI campus: feasibility, time-to-power, cost, carbon, latency.

Give a scenario (site.power_mw, site.rack_kw, site.cooling, site.candidates, site.profiles,
site.allocate; with a training or serving section the facility and rack power come from the
energy stage, as in ``wattlas plan``) and/or flags (flags win). Regions that cannot host the
racks or the MW are listed with the reasons; the Pareto front over time-to-power, annual cost,
annual carbon (and latency to --users) is marked. Exit 1 when no candidate is feasible or the
allocation cannot place the fleet.
Example: wattlas site --power-mw 100 --rack-kw 120 --cooling liquid --regions us-va,is,no
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

NO_ARGS_IS_HELP = True


def _flags_into(data: dict[str, Any], flags: dict[str, Any]) -> None:
    """Write the flags that were given into the raw scenario's ``site`` section (flags win);
    the section is created, so a scenario without one is sited with its defaults."""
    from ..errors import InputError

    site = data.get("site")
    if not isinstance(site, dict):
        site = data["site"] = {}
    for key in ("power_mw", "rack_kw", "cooling", "curtailment_frac"):
        if flags[key] is not None:
            site[key] = flags[key]
    if flags["onsite"]:
        site["onsite"] = [o.strip() for o in flags["onsite"].split(",") if o.strip()]
    if flags["regions"] is not None:
        ids = [r.strip() for r in flags["regions"].split(",")]
        if not any(ids):
            raise InputError(f"--regions '{flags['regions'][:40]}': no region id; give "
                             "comma-separated ids (wattlas catalog regions)")
        if "" in ids:
            raise InputError(f"--regions '{flags['regions'][:80]}': an empty id between "
                             "commas; give comma-separated ids")
        dup = sorted({r for r in ids if ids.count(r) > 1})
        if dup:
            raise InputError(f"--regions: {', '.join(d[:40] for d in dup[:4])} given more than "
                             "once; give each region once")
        site["candidates"] = ids
    for item in flags["profile"] or []:
        rid, sep, path = item.partition("=")
        if not (sep and rid.strip() and path.strip()):
            raise InputError(f"--profile '{item}': expected REGION=file.csv")
        site.setdefault("profiles", {})
        site["profiles"][rid.strip()] = str(Path(path.strip()).resolve())
    alloc = {k: flags[f] for k, f in (("it_power_mw", "allocate_it_mw"),
                                       ("gpus", "allocate_gpus")) if flags[f] is not None}
    caps = {}
    for item in flags["site_cap_mw"] or []:
        rid, sep, val = item.partition("=")
        try:
            caps[rid.strip()] = float(val)
        except ValueError:
            raise InputError(f"--site-cap-mw '{item}': expected REGION=MW (a number)") from None
        if not sep or not rid.strip():
            raise InputError(f"--site-cap-mw '{item}': expected REGION=MW")
    if alloc or caps:
        node = site.get("allocate")
        if not isinstance(node, dict):
            node = site["allocate"] = {}
        if alloc:  # a demand flag replaces the scenario's demand
            node.pop("it_power_mw", None)
            node.pop("gpus", None)
            node.update(alloc)
        if caps:
            node["caps_mw"] = {**(node.get("caps_mw") or {}), **caps}


def command(
    scenario: str = typer.Argument(None, help="Scenario YAML file (optional)."),
    power_mw: float = typer.Option(None, "--power-mw", help="Facility power [MW]."),
    rack_kw: float = typer.Option(None, "--rack-kw", help="Power per rack [kW]."),
    cooling: str = typer.Option(None, "--cooling", help="air | hybrid | liquid"),
    curtailment_frac: float = typer.Option(
        None, "--curtailment-frac", help="Share of the year's hours the load accepts to be "
        "curtailed [0-0.5] (flexible interconnection: sooner or larger where the region "
        "publishes curtailable headroom)."),
    onsite: str = typer.Option(
        None, "--onsite", help="On-site or contracted supply options to compare with grid-only, "
        "e.g. gas-recip,solar-pv (wattlas catalog onsite)."),
    regions: str = typer.Option(None, "--regions", help="Comma-separated region ids."),
    weights: str = typer.Option(None, "--weights",
                                help="time=1,cost=1,carbon=1,latency=0 (score weights)."),
    users: str = typer.Option(None, "--users", help="User population: lat,lon[,w];lat,lon..."),
    profile: list[str] = typer.Option(
        None, "--profile", help="REGION=file.csv: hourly/monthly carbon_intensity_g_per_kwh "
                                "and price_usd_per_mwh replacing the annual averages."),
    allocate_it_mw: float = typer.Option(
        None, "--allocate-it-mw", help="Split this IT power [MW] over the candidate regions "
                                       "(MILP; racks = MW / rack kW)."),
    allocate_gpus: int = typer.Option(
        None, "--allocate-gpus", help="Split this many GPUs [GPUs] over the candidate regions "
                                      "(racks of hardware.system or "
                                      "site.allocate.gpus_per_rack)."),
    site_cap_mw: list[str] = typer.Option(
        None, "--site-cap-mw", help="REGION=MW: facility power cap of a region for the "
                                    "allocation (default: the catalog's available power)."),
    set_: list[str] = typer.Option(None, "--set", help="Override a scenario field: a.b=c."),
    catalog_file: str = typer.Option(None, "--catalog", help="CSV/YAML file adding rows."),
    fmt: str = typer.Option("table", "--format", "-f", help="table | json | csv"),
) -> None:
    from .. import catalog
    from .. import plan as pl
    from .. import scenario as sc
    from ..errors import InfeasibleError
    from ..stages.site import site_result
    from ._common import check_format, print_csv, print_json

    check_format(fmt)
    if catalog_file:
        catalog.add_user_rows(catalog_file)
    data = sc.load_data(scenario, set_ or [])
    _flags_into(data, dict(power_mw=power_mw, rack_kw=rack_kw, cooling=cooling,
                           curtailment_frac=curtailment_frac, onsite=onsite,
                           regions=regions, profile=profile, allocate_it_mw=allocate_it_mw,
                           allocate_gpus=allocate_gpus, site_cap_mw=site_cap_mw))
    scen = sc.prepare(sc.validate(data), scenario)
    pl.check_ids(scen)
    out = site_result(scen, weights=weights, users=users)
    ranked = out["regions"]
    if fmt == "json":
        print_json(out)
    elif fmt == "csv":
        print_csv([{k: (("; ".join(map(str, v))) if isinstance(v, list) else v)
                    for k, v in r.items()} for r in ranked])
    else:
        _table(out)
    alloc = out.get("allocation")
    if alloc is None and not any(r["feasible"] for r in ranked):
        refused = [r for r in ranked if r["feasible"] is False]
        unknown = [r["region"] for r in ranked if r["feasible"] is None]
        raise InfeasibleError("no candidate region is feasible: " + "; ".join(
            f"{r['region']}: {' and '.join(r['reasons'])}" for r in refused)
            + (f"; not assessed (data unknown): {', '.join(unknown)}" if unknown else ""))
    if alloc is not None and not alloc["feasible"]:
        raise InfeasibleError(alloc["reason"])


def _demand_text(out: dict[str, Any]) -> str:
    power = (f"{out['facility_power_w'] / 1e6:,.4g} MW" if out["facility_power_w"] is not None
             else f"{out['it_power_w'] / 1e6:,.4g} MW IT × PUE")
    return f"{power}, {out['rack_power_w'] / 1e3:,.4g} kW {out['cooling']}-cooled racks"


def _table(out: dict[str, Any]) -> None:
    from ._common import print_table

    ranked = [r for r in out["regions"] if r.get("status") != "unknown"]
    unknown = [r for r in out["regions"] if r.get("status") == "unknown"]
    shown = []
    for r in ranked:
        ttp = ("—" if r["time_to_power_years_low"] is None else
               f"{r['time_to_power_years_low']:.1f}–{r['time_to_power_years_high']:.1f}"
               + (" (on-site)" if r["power_path"] == "onsite" else
                  " (flexible)" if str(r["power_path"]).startswith("flexible") else ""))
        if r.get("phased"):
            ttp += f", full +{r['phase_years']:.1f}"
        avail = r.get("available_w")
        shown.append({
            "region": r["region"], "status": r.get("status", r["feasible"]),
            "pareto": r["pareto"],
            "score": r["score"], "time to power y": ttp,
            "cost M$/y": None if r["energy_cost_usd_per_year"] is None
            else r["energy_cost_usd_per_year"] / 1e6,
            "ktCO2e/y": None if r["co2e_kg_per_year"] is None else r["co2e_kg_per_year"] / 1e6,
            "rack limit kW": None if r["rack_limit_w"] is None else r["rack_limit_w"] / 1e3,
            "headroom MW": "?" if avail is None else f"{avail / 1e6:,.0f}",
            **({"RTT ms": r["latency_s"] * 1e3} if r["latency_s"] is not None else {}),
            "why not": ", ".join(r["reason_codes"]),
        })
    print_table(shown, title=f"wattlas site: {_demand_text(out)}")
    if unknown:
        print_table([{"region": r["region"], "name": r.get("name"),
                      "missing": ", ".join(r["data_missing"])} for r in unknown],
                    title="not ranked: data unknown in the catalog (add rows with --catalog)")
    _supply_tables(out)
    alloc = out.get("allocation")
    if alloc is not None and alloc["feasible"]:
        _allocation_table(alloc)
    flexible = [r for r in out["regions"] if r.get("flexible_note")]
    if flexible:
        typer.echo(f"flexible connection ({', '.join(r['region'] for r in flexible)}): "
                   f"{flexible[0]['flexible_note']}")
    typer.echo("full reasons, unknown inputs and sources: --format json")
    for line in out["notes"] + default_lines(out["regions"]):
        typer.echo(line)


def _allocation_table(a: dict[str, Any]) -> None:
    from ._common import print_table

    rows = [{"region": s["region"], "racks": s["racks"], "GPUs": s["gpus"],
             "IT MW": s["it_power_w"] / 1e6, "facility MW": s["facility_power_w"] / 1e6,
             "cap MW": s["cap_w"] / 1e6, "PUE": s["pue"],
             "cost M$/y": s["energy_cost_usd_per_year"] / 1e6,
             "ktCO2e/y": s["co2e_kg_per_year"] / 1e6,
             **({"RTT ms": s["latency_s"] * 1e3} if s["latency_s"] is not None else {})}
            for s in a["sites"] if s["racks"] > 0]
    rows.append({"region": "total", "racks": a["racks_total"], "GPUs": a["gpus"],
                 "IT MW": a["it_power_w"] / 1e6, "facility MW": a["facility_power_w"] / 1e6,
                 "cost M$/y": a["energy_cost_usd_per_year"] / 1e6,
                 "ktCO2e/y": a["co2e_kg_per_year"] / 1e6})
    terms = ", ".join(f"{t['metric']} {t['value']:.4g} (w={t['weight']:g})"
                      for t in a["objective_terms"])
    print_table(rows, title=f"allocation (MILP): objective {a['objective']:.4g} = {terms}")
    unused = [s["region"] for s in a["sites"] if s["racks"] == 0]
    if unused:
        typer.echo(f"allocation: no racks in {', '.join(unused)}")
    left: dict[str, list[str]] = {}
    for e in a["left_out"]:
        left.setdefault(e["reason"], []).append(e["region"])
    for reason, ids in left.items():
        typer.echo(f"allocation: left out {', '.join(ids)}: {reason}")


def default_lines(ranked: list[dict[str, Any]]) -> list[str]:
    """One 'default used' line per distinct default, naming the regions that used it."""
    users: dict[str, list[str]] = {}
    for r in ranked:
        for d in r["defaults_used"]:
            users.setdefault(d, []).append(r["region"])
    out = []
    for d, ids in sorted(users.items()):
        who = "all regions" if len(ids) == len(ranked) and len(ids) > 1 else ", ".join(ids)
        out.append(f"default used ({who}): {d}")
    return out


def _supply_tables(out: dict[str, Any]) -> None:
    """Grid vs hybrid supply and the bill by item of the best region with a known cost."""
    from ._common import print_table

    best = next((r for r in out["regions"] if r.get("energy_cost_usd_per_year") is not None),
                None)
    if best is None:
        return
    if best.get("supply_options"):
        print_table([{
            "supply": o["supply"],
            "on-site share": o["onsite_energy_frac"],
            "time to power y": ("—" if o["time_to_power_years_low"] is None else
                                f"{o['time_to_power_years_low']:.1f}–"
                                f"{o['time_to_power_years_high']:.1f}"),
            "cost M$/y": ("—" if o["energy_cost_usd_per_year_low"] is None else
                          f"{o['energy_cost_usd_per_year_low'] / 1e6:,.1f}–"
                          f"{o['energy_cost_usd_per_year_high'] / 1e6:,.1f}"),
            "ktCO2e/y": None if o["co2e_kg_per_year"] is None else o["co2e_kg_per_year"] / 1e6,
            "unknown": ", ".join(o["unknown"])} for o in best["supply_options"]],
            title=f"supply for {best['region']}: grid only vs hybrid (same load)")
    c = best.get("cost_by_payer")
    if c:
        def m(v: float | None) -> str:
            return "unknown" if v is None else f"{v / 1e6:,.2f} M$/y"

        typer.echo(f"bill in {best['region']} by item: energy {m(c['energy_usd_per_year'])}, "
                   f"capacity {m(c['capacity_usd_per_year'])}, minimum take "
                   f"{m(c['minimum_take_usd_per_year'])}, network upgrades "
                   f"{m(c['network_upgrades_usd'])}"
                   + (f" (paid by {c['network_upgrades_payer']})"
                      if c.get("network_upgrades_payer") else "")
                   + (f"; tariff {c['tariff']}" if c.get("tariff") else ""))
