"""Siting: feasibility of a plan in a region, time-to-power, annual cost and carbon, ranking.

For each candidate region (vectorised over regions with numpy):

* feasibility: rack power vs the region's density limit for the cooling class
  (:func:`wattlas.grid.regions.rack_limit_w`), facility power vs ``available_w`` (headroom);
  every infeasibility is a sentence in ``reasons``. A load above the headroom is *phased* where
  the catalog publishes the power added per year as upgrades land
  (``headroom_added_w_per_year``): available(t) = available_w + added × t, full power after
  (facility − available_w) / added years; without that it is infeasible;
* status: ``feasible`` | ``phased`` | ``infeasible`` | ``unknown``. A region whose connection
  queue, price or carbon intensity is not in the catalog is ``unknown`` (``feasible`` None,
  ``data_missing`` names the fields) unless a known limit already refuses it: it is listed apart
  and never ranked or scored, so it can never look better than a region with data. A region
  without a published rack density for the cooling class is assessed on the class's technology
  ceiling (``rack_limit_basis`` "default", named in ``defaults_used``) and ranked after every
  region whose density is published;
* time-to-power [years] = connection queue + build (low/high), or, where the region allows
  on-site generation, max(build, on-site generation build); the faster path is reported;
* annual energy [J] = facility power × 8760 h × (1 − curtailment share); cost [USD] = energy ×
  price + capacity charge × MW; carbon [kg] = energy × location-based grid intensity (flat load,
  annual average or the mean of a user profile);
* who pays (``cost_by_payer``, the operator's bill by item): energy, capacity, minimum take
  (a large-load tariff's take-or-pay share × contracted power × 8760 h less the energy used,
  priced at the energy price where the tariff bills energy, when the load runs below it), and
  the network upgrades with who pays them where the tariff says (their amount is not
  published, so it stays None);
* latency [s] to a user population: weighted mean modelled RTT (grid.geo.rtt_s).

Ranking marks the Pareto front (minimise every metric, feasible regions with all metrics known)
and a weighted score: Σ_k w_k · (x_k − min_k)/(max_k − min_k) over the front's candidates,
0 = best on every weighted metric.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from ..units import J_PER_KWH, J_PER_MWH, SECONDS_PER_YEAR, W_PER_MW
from . import flexibility, geo
from . import regions as rg

METRICS = ("time", "cost", "carbon", "latency")
DEFAULT_WEIGHTS = {"time": 1.0, "cost": 1.0, "carbon": 1.0, "latency": 0.0}


@dataclass(frozen=True)
class SiteDemand:
    """What a plan needs from a site.

    facility_power_w: facility power incl. cooling [W] (used as is when it_power_w is None);
    rack_power_w: power of one rack [W]; cooling: air | hybrid | liquid;
    it_power_w: IT power [W]; when given, facility power = it_power_w × PUE of the region.
    """

    facility_power_w: float
    rack_power_w: float
    cooling: str = "liquid"
    it_power_w: float | None = None
    #: share of the year's hours the load accepts to be curtailed (flexible interconnection)
    curtailment_frac: float = 0.0
    #: on-site / contracted supply options compared with grid-only (``onsite`` catalog ids)
    onsite: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (self.facility_power_w > 0):
            raise InputError(f"facility power {self.facility_power_w} W must be > 0 "
                             "(give --power-mw)")
        if not (self.rack_power_w > 0):
            raise InputError(f"rack power {self.rack_power_w} W must be > 0 (give --rack-kw)")
        if self.it_power_w is not None and not (self.it_power_w > 0):
            raise InputError(f"IT power {self.it_power_w} W must be > 0")
        rg.check_cooling(self.cooling)
        flexibility.check_frac(self.curtailment_frac)


def parse_weights(text: str | dict[str, float] | None) -> dict[str, float]:
    """Weights like "time=1,cost=1,carbon=1,latency=0" (missing keys keep their default)."""
    out = dict(DEFAULT_WEIGHTS)
    if text is None:
        return out
    items = text.items() if isinstance(text, dict) else (
        tuple(p.split("=", 1)) if "=" in p else (p, None) for p in str(text).split(",") if p)
    for key, val in items:
        key = str(key).strip()
        if key not in METRICS:
            raise InputError(f"weight '{key}': allowed {', '.join(METRICS)} (e.g. time=1,cost=2)")
        try:
            w = float(val)
        except (TypeError, ValueError):
            raise InputError(f"weight {key}='{val}': expected a number >= 0") from None
        if not (w >= 0 and np.isfinite(w)):
            raise InputError(f"--weights {key}={w}: allowed: a finite number >= 0")
        out[key] = w
    return out


def parse_users(text: str | Sequence | None) -> np.ndarray | None:
    """User population as an (n, 3) array of lat, lon, weight from "lat,lon[,w];lat,lon..."."""
    if text is None:
        return None
    if isinstance(text, str):
        groups = [g for g in text.replace(" ", "").split(";") if g]
        rows = []
        for g in groups:
            try:
                vals = [float(v) for v in g.split(",")]
            except ValueError:
                raise InputError(f"--users '{g}': expected lat,lon[,weight]; groups separated "
                                 "by ';'") from None
            if len(vals) not in (2, 3):
                raise InputError(f"--users '{g}': expected lat,lon[,weight]")
            rows.append(vals if len(vals) == 3 else vals + [1.0])
    else:
        rows = [list(map(float, u)) + ([1.0] if len(u) == 2 else []) for u in text]
    arr = np.asarray(rows, dtype=float).reshape(-1, 3)
    if arr.size == 0:
        return None
    given = repr(text[:60]) if isinstance(text, str) else f"{len(rows)} points"
    if not np.all(np.isfinite(arr)):
        raise InputError(f"--users {given}: a value is NaN or infinite; allowed: finite "
                         "latitude, longitude and weight")
    if np.any(np.abs(arr[:, 0]) > 90) or np.any(np.abs(arr[:, 1]) > 180) or np.any(arr[:, 2] < 0):
        raise InputError(f"--users {given}: allowed: latitude in [-90, 90], longitude in "
                         "[-180, 180], weight >= 0")
    if arr[:, 2].sum() <= 0:
        raise InputError(f"--users {given}: the weights sum to 0")
    return arr


def pareto_mask(x: np.ndarray) -> np.ndarray:
    """Rows of `x` (n, k) not dominated by another row (minimise every column).

    Row i is dominated when some row j has x_j ≤ x_i in every column and < in one. O(n²k)
    with numpy broadcasting.
    """
    x = np.asarray(x, dtype=float)
    if x.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    le = np.all(x[:, None, :] <= x[None, :, :], axis=2)  # le[j, i]: j ≤ i everywhere
    lt = np.any(x[:, None, :] < x[None, :, :], axis=2)
    dominated = np.any(le & lt, axis=0)
    return ~dominated


def evaluate(demand: SiteDemand, regs: Sequence[rg.Region],
             users: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Per-region feasibility, time-to-power, annual energy/cost/carbon and latency (unranked)."""
    n = len(regs)
    pue = np.empty(n)
    limit = np.empty(n)
    out: list[dict[str, Any]] = []
    for i, reg in enumerate(regs):
        p, d1 = rg.pue(reg, demand.cooling)
        lim, reasons, d2 = rg.rack_limit_w(reg, demand.cooling)
        pue[i], limit[i] = p, lim
        out.append({"region": reg.id, "name": reg.name, "reasons": list(reasons),
                    "reason_codes": ["no liquid"] if reasons else [],
                    "unknown": [], "defaults_used": d2 + (d1 if demand.it_power_w else [])})
    facility = (demand.it_power_w * pue if demand.it_power_w is not None
                else np.full(n, float(demand.facility_power_w)))

    def arr(name: str) -> np.ndarray:
        return np.array([np.nan if getattr(r, name) is None else float(getattr(r, name))
                         for r in regs], dtype=float)

    q_lo, q_hi = arr("queue_years_low"), arr("queue_years_high")
    b_lo, b_hi = arr("build_years_low"), arr("build_years_high")
    no_build = np.isnan(b_lo) | np.isnan(b_hi)
    b_lo[no_build], b_hi[no_build] = rg.BUILD_YEARS
    grid_lo, grid_hi = q_lo + b_lo, q_hi + b_hi
    onsite = np.array([r.onsite_generation is True for r in regs])
    on_lo = np.where(onsite, np.maximum(b_lo, rg.ONSITE_GENERATION_YEARS[0]), np.nan)
    on_hi = np.where(onsite, np.maximum(b_hi, rg.ONSITE_GENERATION_YEARS[1]), np.nan)
    use_onsite = onsite & ~(on_hi >= grid_hi)  # NaN grid (unknown queue) -> on-site path
    firm_lo = np.where(use_onsite, on_lo, grid_lo)
    firm_hi = np.where(use_onsite, on_hi, grid_hi)
    # flexible interconnection: within the curtailment-enabled headroom the load connects at
    # build time (no network-upgrade queue); the rest follows the firm path (phased)
    f = float(demand.curtailment_frac)
    flex = np.array([np.nan if f <= 0 or (v := flexibility.flexible_headroom_w(
        r.curtailable_headroom_w, f, r.curtailable_headroom_0p25pct_w,
        r.curtailable_headroom_1pct_w)) is None else v for r in regs], dtype=float)
    flex_ok = flex > 0  # NaN: no curtailment asked or no headroom published
    flex_all = flex_ok & (facility <= flex)
    flex_part = flex_ok & ~flex_all
    ttp_lo = np.where(flex_ok, np.minimum(b_lo, np.nan_to_num(firm_lo, nan=np.inf)), firm_lo)
    ttp_hi = np.where(flex_ok, np.minimum(b_hi, np.nan_to_num(firm_hi, nan=np.inf)), firm_hi)

    load_frac = 1.0 - f  # curtailed hours draw nothing
    energy_j = facility * SECONDS_PER_YEAR * load_frac
    price = np.array([np.nan if (v := rg.price_usd_per_mwh(r, e)) is None else v
                      for r, e in zip(regs, energy_j, strict=True)])
    carbon = np.array([np.nan if (v := rg.carbon_g_per_kwh(r)) is None else v for r in regs])
    cap = arr("capacity_charge_usd_per_mw_year")
    cost = energy_j / J_PER_MWH * price + np.nan_to_num(cap) * facility / W_PER_MW
    co2e_kg = energy_j / J_PER_KWH * carbon / 1000.0
    avail = arr("available_w") + np.where(flex_ok, np.nan_to_num(flex), 0.0)
    lat, lon = arr("lat"), arr("lon")
    if users is not None:
        r = geo.rtt_s(lat[:, None], lon[:, None], users[None, :, 0], users[None, :, 1])
        latency = (np.atleast_2d(r) @ users[:, 2]) / users[:, 2].sum()
    else:
        latency = np.full(n, np.nan)

    dens_known = np.array([rg.rack_density_known(r, demand.cooling) for r in regs])
    rack_ok = demand.rack_power_w <= limit  # published density, or the stated class ceiling
    growth = arr("headroom_added_w_per_year")
    over = facility > avail  # NaN (unknown availability) counts as not refused
    phased = over & (growth > 0)
    power_ok = ~over | phased
    phase_years = np.where(phased, (facility - avail) / np.where(growth > 0, growth, 1.0), 0.0)
    full_lo, full_hi = ttp_lo + phase_years, ttp_hi + phase_years
    # part of the load within the flexible headroom: the rest arrives with the firm path
    full_lo = np.where(flex_part, np.maximum(full_lo, firm_lo), full_lo)
    full_hi = np.where(flex_part, np.maximum(full_hi, firm_hi), full_hi)
    phased = phased | (flex_part & (full_hi > ttp_hi))
    phase_years = np.where(flex_part, full_hi - ttp_hi, phase_years)
    for i, (reg, row) in enumerate(zip(regs, out, strict=True)):
        kw, lim_kw = demand.rack_power_w / 1e3, limit[i] / 1e3
        if not rack_ok[i]:
            band = (f"{reg.rack_density_low_w / 1e3:.0f}–{reg.rack_density_high_w / 1e3:.0f} kW"
                    if reg.rack_density_low_w and reg.rack_density_high_w else "unknown")
            row["reasons"].append(
                f"rack {kw:.0f} kW exceeds the {lim_kw:.0f} kW {demand.cooling}-cooled rack "
                f"limit in {reg.id} (region hosts {band} racks); use racks <= {lim_kw:.0f} kW "
                "or a region that hosts denser racks")
            row["reason_codes"].append(f"rack {kw:.0f}>{lim_kw:.0f} kW")
        if not power_ok[i]:
            row["reasons"].append(
                f"facility {facility[i] / 1e6:.1f} MW exceeds the {avail[i] / 1e6:.1f} MW "
                f"available in {reg.id}; split the load across sites (allocation)")
            row["reason_codes"].append(f"{facility[i] / 1e6:.0f}>{avail[i] / 1e6:.0f} MW")
        if phased[i]:
            row["reasons_phased"] = [
                f"{flex[i] / 1e6:,.0f} MW connect at build time as a flexible load "
                f"(curtailment {f:.2%}); the rest waits {phase_years[i]:.1f} more years for the "
                "firm connection" if flex_part[i] else
                f"facility {facility[i] / 1e6:.1f} MW exceeds the {avail[i] / 1e6:.1f} MW "
                f"available in {reg.id} now; upgrades add {growth[i] / 1e6:.0f} MW/year, so full "
                f"power comes {phase_years[i]:.1f} years after first power"]
        if np.isnan(avail[i]):
            row["unknown"].append("available_w")
        if f > 0 and reg.curtailable_headroom_w is None:
            row["unknown"].append("curtailable_headroom_w (curtailment shortens nothing here)")
        if np.isnan(q_lo[i]) or np.isnan(q_hi[i]):
            row["unknown"].append("queue_years")
        if no_build[i]:
            row["defaults_used"].append(f"build_years={rg.BUILD_YEARS} "
                                        f"({rg.DEFAULT_SOURCES['build_years']})")
        if use_onsite[i]:
            row["defaults_used"].append(
                f"onsite_generation_years={rg.ONSITE_GENERATION_YEARS} "
                f"({rg.DEFAULT_SOURCES['onsite_generation_years']})")
        if np.isnan(price[i]) and reg.price_usd_per_mwh is not None:
            gwh = 1e9 * 3600.0
            row["unknown"].append(
                f"price_usd_per_mwh (the catalog price is for "
                f"{(reg.price_band_low_j_per_year or 0) / gwh:,.0f}–"
                f"{(reg.price_band_high_j_per_year or float('inf')) / gwh:,.0f} GWh/year; "
                f"this load uses {energy_j[i] / gwh:,.0f} GWh/year)")
        elif np.isnan(price[i]):
            row["unknown"].append("price_usd_per_mwh")
        if np.isnan(carbon[i]):
            row["unknown"].append("carbon_intensity_g_per_kwh")
        if np.isnan(cap[i]):
            row["unknown"].append("capacity_charge_usd_per_mw_year")
        if users is not None and np.isnan(latency[i]):
            row["unknown"].append("lat/lon")

        def val(a: np.ndarray, i: int = i) -> float | None:
            return None if np.isnan(a[i]) else float(a[i])

        missing = [k for k, bad in (
            ("queue_years", np.isnan(q_lo[i]) or np.isnan(q_hi[i])),
            ("price_usd_per_mwh" if reg.price_usd_per_mwh is None
             else "price_usd_per_mwh for this load size", np.isnan(price[i])),
            ("carbon_intensity_g_per_kwh", np.isnan(carbon[i]))) if bad]
        status = ("infeasible" if row["reasons"] else "unknown" if missing
                  else "phased" if phased[i] else "feasible")
        row.update({
            "status": status,
            "feasible": None if status == "unknown" else status in ("feasible", "phased"),
            "data_missing": missing,
            "phased": bool(phased[i]),
            "phase_years": float(phase_years[i]) if phased[i] else None,
            "phase_schedule": _schedule(bool(phased[i]), bool(flex_part[i]), facility[i],
                                        avail[i], growth[i], flex[i], phase_years[i]),
            "full_power_years_low": val(full_lo) if phased[i] else val(ttp_lo),
            "full_power_years_high": val(full_hi) if phased[i] else val(ttp_hi),
            "headroom_added_w_per_year": val(growth),
            "cooling": demand.cooling,
            "rack_power_w": float(demand.rack_power_w),
            "rack_limit_w": float(limit[i]),
            "rack_limit_basis": "region" if dens_known[i] else "default",
            "facility_power_w": float(facility[i]),
            "available_w": val(avail),
            "pue": float(pue[i]) if demand.it_power_w is not None else None,
            "queue_years_low": val(q_lo), "queue_years_high": val(q_hi),
            "build_years_low": float(b_lo[i]), "build_years_high": float(b_hi[i]),
            "power_path": ("flexible" if flex_all[i] else "flexible+grid" if flex_part[i]
                           else "onsite" if use_onsite[i] else "grid"),
            "curtailment_frac": f,
            "flexible_headroom_w": val(flex) if flex_ok[i] else None,
            "time_to_power_firm_years_low": val(firm_lo),
            "time_to_power_firm_years_high": val(firm_hi),
            "curtailment_training_slowdown_frac": flexibility.training_slowdown_frac(f),
            "curtailment_serving_shift_frac": flexibility.serving_shift_frac(f),
            "curtailment_event_hours_mean": flexibility.event_hours(f) if f > 0 else None,
            "flexible_note": ("curtailable headroom is area-wide, shared by every new flexible "
                              "load, and counts no transmission constraint (Norris et al. "
                              "2025): a local connection can still take longer"
                              if flex_ok[i] else None),
            "time_to_power_years_low": val(ttp_lo),
            "time_to_power_years_high": val(ttp_hi),
            "energy_j_per_year": float(energy_j[i]),
            "cost_by_payer": _cost_by_payer(reg, facility[i], energy_j[i], price[i], cap[i],
                                            load_frac),
            "energy_cost_usd_per_year": val(cost),
            "co2e_kg_per_year": val(co2e_kg),
            "price_usd_per_mwh": val(price), "price_year": reg.price_year,
            "carbon_intensity_g_per_kwh": val(carbon), "carbon_year": reg.carbon_year,
            "capacity_charge_usd_per_mw_year": val(cap),
            "rack_density_low_w": reg.rack_density_low_w,
            "rack_density_high_w": reg.rack_density_high_w,
            "energy_mix": reg.energy_mix,
            "latency_s": val(latency) if users is not None else None,
            "source": reg.source,
        })
    return out


def _cost_by_payer(reg: rg.Region, facility_w: float, energy_j: float, price: float,
                   cap: float, load_frac: float) -> dict[str, Any]:
    """The operator's annual bill by item [USD/year] (None where unknown) and the large-load
    tariff terms behind it."""
    def num(x: float) -> float | None:
        return None if np.isnan(x) else float(x)

    energy_usd = num(energy_j / J_PER_MWH * price)
    capacity_usd = num(cap * facility_w / W_PER_MW)
    applies = (reg.min_demand_frac is not None
               and facility_w >= (reg.large_load_threshold_w or 0.0))
    short_j = (max(0.0, float(reg.min_demand_frac) - load_frac) * facility_w * SECONDS_PER_YEAR
               if applies else 0.0)
    return {
        "energy_usd_per_year": energy_usd,
        "capacity_usd_per_year": capacity_usd,
        "minimum_take_energy_j_per_year": short_j,
        # energy basis: the shortfall is billed as energy; demand basis: billed at a demand
        # rate the catalog does not have (None when there is a shortfall)
        "minimum_take_usd_per_year": (0.0 if not short_j else
                                      num(short_j / J_PER_MWH * price)
                                      if reg.min_take_basis == "energy" else None),
        "min_take_basis": reg.min_take_basis if applies else None,
        "network_upgrades_usd": None,
        "network_upgrades_payer": reg.upgrade_cost_payer,
        "tariff": reg.tariff if applies else None,
        "min_demand_frac": reg.min_demand_frac if applies else None,
        "min_demand_generation_frac": reg.min_demand_generation_frac if applies else None,
        "contract_years": reg.contract_years if applies else None,
        "collateral": reg.collateral if applies else None,
    }


def _schedule(phased: bool, flex_part: bool, facility_w: float, avail_w: float,
              growth_w_per_year: float, flex_w: float, phase_years: float
              ) -> list[dict[str, float]]:
    """Power available [W] by years after first power for a phased connection: the flexible
    headroom first and the whole load with the firm connection, or the published headroom
    growing by its yearly upgrades."""
    if not phased:
        return []
    if flex_part:
        return [{"years_after_first_power": 0.0, "available_w": float(flex_w)},
                {"years_after_first_power": float(phase_years), "available_w": float(facility_w)}]
    return [{"years_after_first_power": float(k),
             "available_w": float(min(avail_w + growth_w_per_year * k, facility_w))}
            for k in range(int(np.ceil(phase_years)) + 1)]


def rank(rows: list[dict[str, Any]], weights: dict[str, float] | None = None,
         with_latency: bool = False) -> list[dict[str, Any]]:
    """Mark the Pareto front and score `rows` from :func:`evaluate`; sorted best first.

    Candidates are feasible or phased rows with every ranked metric known (time is the time
    to full power); those whose rack limit is the cooling class's stated default
    (``rack_limit_basis`` "default") are ordered after those with a published rack density, and
    each of the two groups has its own Pareto front and score. The others get ``pareto =
    False``, ``score = None`` and ``rank = None`` and follow them: infeasible regions first, then
    the ``unknown`` ones (``data_missing`` says why), so a region without data never sits above
    one with data.
    """
    w = parse_weights(weights)
    keys = ["time", "cost", "carbon"] + (["latency"] if with_latency else [])
    col = {"time": "full_power_years_high", "cost": "energy_cost_usd_per_year",
           "carbon": "co2e_kg_per_year", "latency": "latency_s"}
    x = np.array([[np.nan if r[col[k]] is None else r[col[k]] for k in keys] for r in rows],
                 dtype=float).reshape(len(rows), len(keys))
    feas = np.array([r.get("status", "feasible" if r["feasible"] else "infeasible")
                     in ("feasible", "phased") for r in rows], dtype=bool)
    cand = feas & ~np.any(np.isnan(x), axis=1)
    unknown = np.array([r.get("status") == "unknown" for r in rows], dtype=bool)
    front = np.zeros(len(rows), dtype=bool)
    score = np.full(len(rows), np.nan)
    by_default = np.array([r.get("rack_limit_basis") == "default" for r in rows], dtype=bool)
    for tier in (cand & ~by_default, cand & by_default):  # each tier its own front and score
        if not tier.any():
            continue
        xc = x[tier]
        front[tier] = pareto_mask(xc)
        lo, hi = xc.min(axis=0), xc.max(axis=0)
        span = np.where(hi > lo, hi - lo, 1.0)
        wv = np.array([w[k] for k in keys])
        score[tier] = ((xc - lo) / span) @ wv
    order = np.lexsort((np.where(np.isnan(score), np.inf, score), by_default, unknown, ~cand))
    out = []
    for rank_i, i in enumerate(order, start=1):
        r = dict(rows[i])
        r["pareto"] = bool(front[i])
        r["score"] = None if np.isnan(score[i]) else float(score[i])
        r["rank"] = rank_i if cand[i] else None
        out.append(r)
    return out


def rank_sites(demand: SiteDemand, region_ids: Sequence[str] | None = None,
               weights: dict[str, float] | str | None = None, users: Any = None,
               regions: Sequence[rg.Region] | None = None) -> list[dict[str, Any]]:
    """Evaluate and rank candidate regions for `demand` (catalog regions by default).

    `regions` (Region objects) wins over `region_ids`; `users` is "lat,lon[,w];..." or a
    sequence of (lat, lon[, weight]); latency enters the Pareto front only when given.
    """
    if regions is None:
        regions = ([rg.region(r) for r in region_ids] if region_ids
                   else rg.all_regions())
    if not regions:
        raise InputError("no candidate regions; give --regions a,b,... or site.candidates")
    u = parse_users(users)
    out = rank(evaluate(demand, regions, u), parse_weights(weights), with_latency=u is not None)
    if demand.onsite:
        from . import onsite

        opts = onsite.options(demand.onsite)
        for r in out:
            r["supply_options"] = onsite.compare(r, opts)
    return out


def curtailment_tradeoff(demand: SiteDemand, regions: Sequence[rg.Region],
                         fracs: tuple[float, ...] = flexibility.SWEEP_FRACS) -> dict[str, Any]:
    """Time to first and full power of `demand` in each of `regions` at each curtailment share
    of `fracs`, with the training slowdown and serving shift each share costs (the data behind
    the curtailment chart). Regions without a published curtailable headroom keep their firm
    time at every share (``headroom_published`` False)."""
    from dataclasses import replace

    rows = []
    for f in fracs:
        for r in evaluate(replace(demand, curtailment_frac=f, onsite=()), regions):
            rows.append({"curtailment_frac": f, "region": r["region"],
                         "time_to_power_years_high": r["time_to_power_years_high"],
                         "full_power_years_high": r["full_power_years_high"],
                         "flexible_headroom_w": r["flexible_headroom_w"]})
    return {"fracs": list(fracs),
            "training_slowdown_frac": [flexibility.training_slowdown_frac(f) for f in fracs],
            "serving_shift_frac": [flexibility.serving_shift_frac(f) for f in fracs],
            "headroom_published": {r.id: r.curtailable_headroom_w is not None
                                   for r in regions},
            "rows": rows}
