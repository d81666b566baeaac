"""Allocate a fleet (racks of GPUs, or MW) across candidate sites as a MILP (HiGHS).

Decision variables: x_i ∈ ℤ≥0 racks at site i, and y_i ∈ {0, 1} "site i is built" (only
when a fixed cost per site is given). Minimise

    Σ_i x_i · (w_cost · c_i + w_carbon · g_i + w_latency · ℓ_i) / scale + Σ_i F_i · y_i / scale_c

subject to Σ_i x_i = R (racks needed), x_i · P_rack,i ≤ cap_i (facility MW cap, P_rack,i =
rack IT power × PUE_i), x_i = 0 where the rack exceeds the site's density limit or the site's
latency exceeds the serving bound, x_i ≤ M · y_i. c_i is the annual energy cost of one rack
[USD/year], g_i its annual emissions [kg/year], ℓ_i the site's RTT to users [s]; each term is
divided by its largest value so the weights are dimensionless.

References
----------
scipy.optimize.milp (HiGHS: Huangfu & Hall, "Parallelizing the dual revised simplex method",
Math. Prog. Comp. 10, 2018).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InfeasibleError, InputError
from ..units import J_PER_KWH, J_PER_MWH, SECONDS_PER_YEAR


@dataclass(frozen=True)
class AllocSite:
    """One candidate site: id, facility power cap [W], rack density limit [W], PUE [−],
    price [USD/MWh], intensity [gCO2e/kWh], latency to users [s], fixed cost [USD/year]."""

    id: str
    cap_w: float
    rack_limit_w: float
    pue: float = 1.2
    price_usd_per_mwh: float = 0.0
    carbon_g_per_kwh: float = 0.0
    latency_s: float = 0.0
    fixed_usd_per_year: float = 0.0


@dataclass(frozen=True)
class Allocation:
    racks: dict[str, int]
    gpus: dict[str, int]
    facility_power_w: dict[str, float]
    objective: float
    energy_cost_usd_per_year: float
    co2e_kg_per_year: float
    racks_total: int


def racks_needed(rack_it_power_w: float, demand_w: float | None = None,
                 gpus: int | None = None, gpus_per_rack: int | None = None) -> int:
    """Racks to hold `gpus` (ceil(gpus / gpus_per_rack)) or `demand_w` of IT power."""
    if gpus is not None:
        if not gpus_per_rack or gpus_per_rack <= 0:
            raise InputError("gpus_per_rack must be a positive integer when allocating GPUs")
        if gpus <= 0:
            raise InputError(f"gpus {gpus} must be > 0")
        return math.ceil(gpus / gpus_per_rack)
    if demand_w is None or not demand_w > 0:
        raise InputError(f"demand {demand_w} W must be > 0 (or give gpus)")
    return math.ceil(demand_w / rack_it_power_w - 1e-9)


def site_costs(sites: Sequence[AllocSite], rack_it_power_w: float) -> tuple[np.ndarray, ...]:
    """Per-rack facility power [W], annual cost [USD/y], annual carbon [kg/y] per site."""
    pue = np.array([s.pue for s in sites], dtype=float)
    p = rack_it_power_w * pue
    e_j = p * SECONDS_PER_YEAR
    cost = e_j / J_PER_MWH * np.array([s.price_usd_per_mwh for s in sites])
    co2 = e_j / J_PER_KWH * np.array([s.carbon_g_per_kwh for s in sites]) / 1000.0
    return p, cost, co2


def objective_coefficients(sites: Sequence[AllocSite], rack_it_power_w: float,
                           weights: dict[str, float]) -> np.ndarray:
    _, cost, co2 = site_costs(sites, rack_it_power_w)
    lat = np.array([s.latency_s for s in sites], dtype=float)

    def norm(a: np.ndarray) -> np.ndarray:
        m = np.max(np.abs(a)) if a.size else 0.0
        return a / m if m > 0 else a

    return (weights.get("cost", 1.0) * norm(cost) + weights.get("carbon", 1.0) * norm(co2)
            + weights.get("latency", 0.0) * norm(lat))


def upper_bounds(sites: Sequence[AllocSite], rack_it_power_w: float,
                 max_latency_s: float | None = None) -> np.ndarray:
    """Most racks each site can take: floor(cap / rack facility power), 0 where the rack is
    denser than the site allows or the site is beyond the latency bound."""
    p, _, _ = site_costs(sites, rack_it_power_w)
    ub = np.floor(np.array([s.cap_w for s in sites]) / p + 1e-9)
    dens = np.array([rack_it_power_w <= s.rack_limit_w for s in sites])
    ub = np.where(dens, ub, 0)
    if max_latency_s is not None:
        ub = np.where(np.array([s.latency_s for s in sites]) <= max_latency_s, ub, 0)
    return ub


def allocate(sites: Sequence[AllocSite], rack_it_power_w: float, demand_w: float | None = None,
             gpus: int | None = None, gpus_per_rack: int | None = None,
             weights: dict[str, float] | None = None,
             max_latency_s: float | None = None) -> Allocation:
    """Split a fleet across `sites` with integer racks minimising the weighted objective.

    Raises InfeasibleError (with the numbers) when the caps cannot hold the fleet.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    if not sites:
        raise InputError("allocation needs at least one site")
    if not rack_it_power_w > 0:
        raise InputError(f"rack IT power {rack_it_power_w} W must be > 0")
    w = {"cost": 1.0, "carbon": 1.0, "latency": 0.0, **(weights or {})}
    need = racks_needed(rack_it_power_w, demand_w, gpus, gpus_per_rack)
    n = len(sites)
    ub = upper_bounds(sites, rack_it_power_w, max_latency_s)
    if ub.sum() < need:
        raise InfeasibleError(
            f"needs {need} racks of {rack_it_power_w / 1e3:.0f} kW but the sites hold at most "
            f"{int(ub.sum())} (per site: " + ", ".join(f"{s.id} {int(u)}" for s, u in
                                                        zip(sites, ub, strict=True))
            + "); raise site caps, add sites, relax the latency bound or use lower-power racks")
    c = objective_coefficients(sites, rack_it_power_w, w)
    fixed = np.array([s.fixed_usd_per_year for s in sites], dtype=float)
    use_y = bool(np.any(fixed > 0))
    if use_y:
        fmax = fixed.max()
        _, cost, _ = site_costs(sites, rack_it_power_w)
        cmax = np.max(np.abs(cost)) if np.any(cost) else 1.0
        # fixed costs on the same scale as per-rack cost (USD/y divided by the max rack cost)
        cy = w.get("cost", 1.0) * fixed / cmax if cmax > 0 else fixed / fmax
        cvec = np.concatenate([c, cy])
        a_sum = np.concatenate([np.ones(n), np.zeros(n)])
        link = np.hstack([np.eye(n), -np.diag(np.maximum(ub, 0))])
        cons = [LinearConstraint(a_sum[None, :], need, need),
                LinearConstraint(link, -np.inf, 0)]
        bounds = Bounds(np.zeros(2 * n), np.concatenate([ub, np.ones(n)]))
        integrality = np.ones(2 * n)
    else:
        cvec = c
        cons = [LinearConstraint(np.ones((1, n)), need, need)]
        bounds = Bounds(np.zeros(n), ub)
        integrality = np.ones(n)
    res = milp(cvec, constraints=cons, bounds=bounds, integrality=integrality)
    if res.status != 0 or res.x is None:
        raise InfeasibleError(f"allocation MILP found no solution ({res.message}); raise caps")
    x = np.rint(res.x[:n]).astype(int)
    p, cost, co2 = site_costs(sites, rack_it_power_w)
    gpr = gpus_per_rack or 0
    return Allocation(
        racks={s.id: int(v) for s, v in zip(sites, x, strict=True)},
        gpus={s.id: int(v) * gpr for s, v in zip(sites, x, strict=True)},
        facility_power_w={s.id: float(v * pp) for s, v, pp in zip(sites, x, p, strict=True)},
        objective=float(res.fun), energy_cost_usd_per_year=float(x @ cost),
        co2e_kg_per_year=float(x @ co2), racks_total=int(x.sum()))


def objective_value(sites: Sequence[AllocSite], rack_it_power_w: float, racks: Sequence[int],
                    weights: dict[str, float] | None = None) -> float:
    """The MILP objective of a given integer allocation (for checks and brute force)."""
    w = {"cost": 1.0, "carbon": 1.0, "latency": 0.0, **(weights or {})}
    x = np.asarray(racks, dtype=float)
    val = float(x @ objective_coefficients(sites, rack_it_power_w, w))
    fixed = np.array([s.fixed_usd_per_year for s in sites], dtype=float)
    if np.any(fixed > 0):
        _, cost, _ = site_costs(sites, rack_it_power_w)
        cmax = np.max(np.abs(cost)) if np.any(cost) else 1.0
        cy = w.get("cost", 1.0) * fixed / cmax if cmax > 0 else fixed / fixed.max()
        val += float(cy @ (x > 0))
    return val


def sites_from_regions(regs: Sequence, cooling: str, cap_w: float | None = None,
                       users: object = None) -> list[AllocSite]:
    """AllocSites from catalog Regions: cap = region available_w (else `cap_w`, required),
    density limit and PUE for `cooling`, annual price/intensity, mean RTT to `users`."""
    from . import regions as rg
    from .siting import parse_users

    u = parse_users(users)
    out = []
    for r in regs:
        cap = r.available_w if r.available_w is not None else cap_w
        if cap is None:
            raise InputError(f"region {r.id}: available_w is unknown; give a per-site cap_w")
        lim, reasons, _ = rg.rack_limit_w(r, cooling)
        price, carbon = rg.price_usd_per_mwh(r), rg.carbon_g_per_kwh(r)
        if price is None or carbon is None:
            raise InputError(f"region {r.id}: price or carbon intensity unknown; add them with "
                             "--catalog or leave the region out")
        lat = 0.0
        if u is not None:
            from .geo import rtt_s

            if r.lat is None or r.lon is None:
                raise InputError(f"region {r.id}: lat/lon unknown, latency cannot be computed")
            lat = float(rtt_s(r.lat, r.lon, u[:, 0], u[:, 1]) @ u[:, 2] / u[:, 2].sum())
        out.append(AllocSite(id=r.id, cap_w=float(cap), rack_limit_w=0.0 if reasons else lim,
                             pue=rg.pue(r, cooling)[0], price_usd_per_mwh=price,
                             carbon_g_per_kwh=carbon, latency_s=lat))
    return out


def region_sites(regs: Sequence, cooling: str, rack_power_w: float,
                 caps_w: dict[str, float] | None = None,
                 users: object = None) -> tuple[list[AllocSite], list[dict[str, str]]]:
    """(AllocSites, left out) of candidate Regions for racks of `rack_power_w` [W] IT power.

    Cap [W facility] = ``caps_w[region]`` where given, else the catalog's ``available_w``.
    A region is left out, with the reason, when it has no cap, cannot host the rack with
    `cooling` (regions.rack_limit_w), lacks a price or carbon intensity, or (with `users`) lacks
    coordinates. Price and carbon are the annual values or a profile's mean.
    """
    from . import regions as rg
    from .geo import rtt_s
    from .siting import parse_users

    caps = dict(caps_w or {})
    ids = [r.id for r in regs]
    unknown = sorted(set(caps) - set(ids))
    if unknown:
        raise InputError(f"site cap for {', '.join(unknown)}: not among the candidate regions "
                         f"({', '.join(ids)})")
    u = parse_users(users)
    sites: list[AllocSite] = []
    left_out: list[dict[str, str]] = []
    for r in regs:
        cap = caps.get(r.id, r.available_w)
        lim, reasons, _ = rg.rack_limit_w(r, cooling)
        price, carbon = rg.price_usd_per_mwh(r), rg.carbon_g_per_kwh(r)
        if cap is None:
            why = ("available power unknown in the catalog; give a cap "
                   "(site.allocate.caps_mw.REGION or --site-cap-mw REGION=MW)")
        elif reasons:
            why = reasons[0]
        elif rack_power_w > lim:
            why = (f"rack {rack_power_w / 1e3:.0f} kW exceeds the {lim / 1e3:.0f} kW "
                   f"{cooling}-cooled rack limit")
        elif price is None or carbon is None:
            why = "price or carbon intensity unknown in the catalog (add them with --catalog)"
        elif u is not None and (r.lat is None or r.lon is None):
            why = "lat/lon unknown, so latency to the users cannot be computed"
        else:
            why = None
        if why:
            left_out.append({"region": r.id, "reason": why})
            continue
        lat = 0.0
        if u is not None:
            lat = float(rtt_s(r.lat, r.lon, u[:, 0], u[:, 1]) @ u[:, 2] / u[:, 2].sum())
        sites.append(AllocSite(id=r.id, cap_w=float(cap), rack_limit_w=float(lim),
                               pue=rg.pue(r, cooling)[0], price_usd_per_mwh=float(price),
                               carbon_g_per_kwh=float(carbon), latency_s=lat))
    return sites, left_out


OBJECTIVE_METRICS = ("cost", "carbon", "latency")


def allocation_summary(regs: Sequence, rack_power_w: float, cooling: str,
                       it_power_w: float | None = None, gpus: int | None = None,
                       gpus_per_rack: int | None = None, caps_w: dict[str, float] | None = None,
                       weights: dict[str, float] | None = None, users: object = None,
                       max_latency_s: float | None = None) -> dict:
    """:func:`allocate` over :func:`region_sites` of `regs`, as plain data (SI units).

    Keys: ``racks_total``, ``gpus_per_rack``, ``facility_power_w`` (sum), ``it_power_w``
    (placed), ``energy_cost_usd_per_year``, ``co2e_kg_per_year``, ``objective`` and
    ``objective_terms`` (per metric: weight and Σ x_i·w·term_i / max term, which sum to the
    objective), ``sites`` (one row per allocatable region: cap, racks, GPUs, IT and facility
    power, PUE, annual cost and carbon, latency) and ``left_out`` (region, reason).
    Raises InfeasibleError when no region can take racks or the caps cannot hold the fleet.
    """
    sites, left_out = region_sites(regs, cooling, rack_power_w, caps_w, users)
    if not sites:
        raise InfeasibleError("no candidate region can take the racks: " + "; ".join(
            f"{e['region']}: {e['reason']}" for e in left_out))
    w = {k: (weights or {}).get(k, 1.0 if k != "latency" else 0.0) for k in OBJECTIVE_METRICS}
    res = allocate(sites, rack_power_w, demand_w=it_power_w, gpus=gpus,
                   gpus_per_rack=gpus_per_rack, weights=w, max_latency_s=max_latency_s)
    x = [res.racks[s.id] for s in sites]
    _, cost, co2 = site_costs(sites, rack_power_w)
    terms = [{"metric": k, "weight": w[k],
              "value": objective_value(sites, rack_power_w, x,
                                       {m: (w[k] if m == k else 0.0) for m in w})}
             for k in OBJECTIVE_METRICS]
    rows = [{"region": s.id, "cap_w": s.cap_w, "racks": n,
             "gpus": res.gpus[s.id] if gpus_per_rack else None,
             "it_power_w": n * rack_power_w, "facility_power_w": res.facility_power_w[s.id],
             "pue": s.pue, "energy_cost_usd_per_year": float(n * cost[i]),
             "co2e_kg_per_year": float(n * co2[i]),
             "latency_s": s.latency_s if users is not None else None}
            for i, (s, n) in enumerate(zip(sites, x, strict=True))]
    return {"feasible": True, "racks_total": res.racks_total, "gpus_per_rack": gpus_per_rack,
            "gpus": sum(res.gpus.values()) if gpus_per_rack else None,
            "it_power_w": res.racks_total * rack_power_w,
            "facility_power_w": sum(res.facility_power_w.values()),
            "energy_cost_usd_per_year": res.energy_cost_usd_per_year,
            "co2e_kg_per_year": res.co2e_kg_per_year, "objective": res.objective,
            "objective_terms": terms, "max_latency_s": max_latency_s, "sites": rows,
            "left_out": left_out}
