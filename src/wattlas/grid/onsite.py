"""On-site and contracted supply: grid-only against a hybrid supply for the same load.

Options are rows of the ``onsite`` catalog (``data/onsite.csv``: gas engines and turbines,
solar and wind with or without storage, a nuclear restart PPA), each with time to power,
levelised cost (Lazard LCOE+ v18.0, 2025), fleet capacity factor (EIA Electric Power Annual
Tables 4.08.A/B) and life-cycle intensity (IPCC AR5 WG III Annex III, Table A.III.2).

A hybrid for a load of annual energy E [J] with option o sized at the load's power:

* dispatchable o (gas, nuclear) carries the whole load: on-site share s = 1, time to power =
  max(data-centre build, o's time to power), no firm grid service (no capacity charge);
* variable o (solar, wind) makes s = its capacity factor of the energy; the grid supplies the
  rest, so time to power and the capacity charge stay the grid's;
* cost [USD/year] = s·E·LCOE_o + (1 − s)·E·price + capacity; carbon [kg/year] =
  s·E·I_o + (1 − s)·E·I_grid.

Storage shifts energy and supplies none, so it is not an option here. Every value the catalog
lacks makes the affected result None and is named in ``unknown``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..units import J_PER_KWH, J_PER_MWH, W_PER_MW

KINDS = ("dispatchable", "variable", "storage")


@dataclass(frozen=True)
class SupplyOption:
    """One ``onsite`` catalog row (SI units; years for time spans)."""

    id: str
    name: str | None = None
    kind: str | None = None
    time_to_power_years_low: float | None = None
    time_to_power_years_high: float | None = None
    lcoe_low_usd_per_mwh: float | None = None
    lcoe_high_usd_per_mwh: float | None = None
    capacity_factor_frac: float | None = None
    carbon_intensity_g_per_kwh: float | None = None
    source: str | None = None


def option(option_id: str) -> SupplyOption:
    """The catalog supply option `option_id` (CatalogKeyError with close matches if unknown)."""
    from .. import catalog

    row = catalog.get("onsite", option_id)
    return SupplyOption(**{k: row.get(k) for k in SupplyOption.__dataclass_fields__})


def options(ids: Any) -> list[SupplyOption]:
    """Supply options from "a,b" or a sequence of ids; storage is refused (it supplies no
    energy)."""
    if ids is None:
        return []
    items = [s.strip() for s in ids.split(",")] if isinstance(ids, str) else list(ids)
    out = [option(i) for i in items if i]
    for o in out:
        if o.kind == "storage":
            raise InputError(f"site.onsite '{o.id}': storage shifts energy and supplies none; "
                             "allowed: a dispatchable or variable option (wattlas catalog "
                             "onsite)")
    return out


def hybrid(row: dict[str, Any], opt: SupplyOption) -> dict[str, Any]:
    """Grid + `opt` for the load of a siting row (its facility power, annual energy, grid price
    and intensity, capacity charge and build time); see the module docstring."""
    unknown: list[str] = []
    energy_j = float(row["energy_j_per_year"])
    facility_w = float(row["facility_power_w"])
    price, ci_grid = row.get("price_usd_per_mwh"), row.get("carbon_intensity_g_per_kwh")
    dispatchable = opt.kind == "dispatchable"
    share = 1.0 if dispatchable else opt.capacity_factor_frac
    if share is None:
        unknown.append(f"{opt.id} capacity_factor_frac")
    if dispatchable:
        lo, hi = opt.time_to_power_years_low, opt.time_to_power_years_high
        if lo is None or hi is None:
            unknown.append(f"{opt.id} time_to_power_years")
            ttp = (None, None)
        else:
            ttp = (max(float(row["build_years_low"]), lo), max(float(row["build_years_high"]), hi))
        capacity = 0.0
    else:
        ttp = (row.get("time_to_power_years_low"), row.get("time_to_power_years_high"))
        cap = row.get("capacity_charge_usd_per_mw_year")
        capacity = (cap or 0.0) * facility_w / W_PER_MW
    mwh = energy_j / J_PER_MWH

    def cost(lcoe: float | None) -> float | None:
        if share is None or lcoe is None or (share < 1.0 and price is None):
            return None
        return share * mwh * lcoe + (1.0 - share) * mwh * (price or 0.0) + capacity

    if opt.lcoe_low_usd_per_mwh is None:
        unknown.append(f"{opt.id} lcoe_usd_per_mwh")
    if share is not None and share < 1.0 and price is None:
        unknown.append("grid price_usd_per_mwh")
    if opt.carbon_intensity_g_per_kwh is None:
        unknown.append(f"{opt.id} carbon_intensity_g_per_kwh")
    co2 = None
    if (share is not None and opt.carbon_intensity_g_per_kwh is not None
            and (share >= 1.0 or ci_grid is not None)):
        kwh = energy_j / J_PER_KWH
        co2 = (share * kwh * opt.carbon_intensity_g_per_kwh
               + (1.0 - share) * kwh * (ci_grid or 0.0)) / 1000.0
    return {"supply": f"grid+{opt.id}" if not dispatchable else opt.id, "option": opt.id,
            "kind": opt.kind, "onsite_energy_frac": share,
            "time_to_power_years_low": ttp[0], "time_to_power_years_high": ttp[1],
            "energy_cost_usd_per_year_low": cost(opt.lcoe_low_usd_per_mwh),
            "energy_cost_usd_per_year_high": cost(opt.lcoe_high_usd_per_mwh),
            "co2e_kg_per_year": co2, "unknown": unknown, "source": opt.source}


def grid_only(row: dict[str, Any]) -> dict[str, Any]:
    """The siting row's own grid supply in the shape of :func:`hybrid`."""
    cost = row.get("energy_cost_usd_per_year")
    return {"supply": "grid", "option": None, "kind": "grid", "onsite_energy_frac": 0.0,
            "time_to_power_years_low": row.get("time_to_power_years_low"),
            "time_to_power_years_high": row.get("time_to_power_years_high"),
            "energy_cost_usd_per_year_low": cost, "energy_cost_usd_per_year_high": cost,
            "co2e_kg_per_year": row.get("co2e_kg_per_year"), "unknown": [],
            "source": row.get("source")}


def compare(row: dict[str, Any], opts: list[SupplyOption]) -> list[dict[str, Any]]:
    """Grid-only first, then one hybrid per option, for one siting row."""
    return [grid_only(row)] + [hybrid(row, o) for o in opts]
