"""Energy of a plan: inputs, facility (PUE, racks), carbon, cost and the report.

See :mod:`wattlas.energy` for the model and references.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ..errors import InputError
from ..hardware import Accelerator, System
from ..units import SECONDS_PER_HOUR, show_co2e, show_energy, show_power, show_usd
from .physics import (
    COMPUTE_BOUND_PHASES,
    COOLINGS,
    DEFAULT_HOST_W_PER_GPU,
    DEFAULT_IDLE_FRAC,
    DEFAULT_PUE,
    HARDWARE_LIFETIME_S,
    HOST_LOAD_FRAC,
    LCA_GPU_KG,
    LCA_SERVER_KG_PER_GPU,
    LLMCARBON_KG_PER_MM2,
    NETWORK_W_PER_GPU,
    PHASE_ACTIVITY,
    POWER_BASES,
    SECONDS_PER_YEAR,
    capex_share_usd,
    capped_phase,
    co2e_kg,
    device_power_w,
    embodied_method,
    idle_power_w,
)


@dataclass(frozen=True)
class EnergyInputs:
    """Accounting choices; ``None`` means "predict or take the region/default"."""

    power_basis: str = "modeled"
    pue: float | None = None
    grid_intensity_g_per_kwh: float | None = None
    price_usd_per_mwh: float | None = None
    ppa_frac: float | None = None
    power_cap_w: float | None = None
    region: str | None = None
    cooling: str = "liquid"
    gpu_hour_price_usd: float | None = None
    capex_usd_per_gpu: float | None = None
    capex_life_years: float | None = None
    capacity_charge_usd_per_mw_year: float | None = None
    #: hourly/monthly carbon and price profile of ``region`` (``site.profiles``): its means
    #: replace the region's annual values unless intensity or price is given
    profile_path: str | None = None
    #: accounting boundary: "gpu" (accelerators only), "node" (+ hosts and network: IT) or
    #: "facility" (IT × PUE). At gpu and node the PUE is 1 unless ``pue`` is given, so a
    #: published footprint's own E = N × hours × P × PUE can be reproduced
    boundary: str = "facility"
    #: share of the hours a training job pauses, chosen as the dirtiest (``pause_by`` carbon) or
    #: dearest (price) hours of the region's hourly profile; the run takes 1 / (1 − share) as
    #: long and sees the profile's means over the hours it runs
    pause_frac: float = 0.0
    pause_by: str = "carbon"

    def __post_init__(self) -> None:
        check_inputs(self)


#: accounting boundaries: accelerators only; + hosts and network (IT); IT × PUE
BOUNDARIES = ("gpu", "node", "facility")


def check_inputs(x: EnergyInputs) -> None:
    """InputError naming the field, the value and what is allowed."""
    if x.power_basis not in POWER_BASES:
        raise InputError(f"energy.power_basis '{x.power_basis}': allowed "
                         f"{', '.join(POWER_BASES)}")
    if x.cooling not in COOLINGS:
        raise InputError(f"site.cooling '{x.cooling}': allowed {', '.join(COOLINGS)}")
    if not (0.0 <= x.pause_frac <= 0.9):
        raise InputError(f"energy.pause_frac = {x.pause_frac}: allowed 0 to 0.9 (a share of "
                         "the hours)")
    if x.pause_by not in ("carbon", "price"):
        raise InputError(f"energy.pause_by '{x.pause_by}': allowed carbon, price")
    if x.boundary not in BOUNDARIES:
        raise InputError(f"energy.boundary '{x.boundary}': allowed {', '.join(BOUNDARIES)}")
    if x.pue is not None and not (1.0 <= x.pue < 5.0):
        raise InputError(f"energy.pue = {x.pue}: must be in [1, 5) (facility power ≥ IT power)")
    for name in ("grid_intensity_g_per_kwh", "price_usd_per_mwh", "gpu_hour_price_usd",
                 "capex_usd_per_gpu", "capacity_charge_usd_per_mw_year"):
        v = getattr(x, name)
        if v is not None and not (math.isfinite(v) and v >= 0):
            raise InputError(f"energy.{name} = {v}: must be a finite number ≥ 0")
    if x.capex_life_years is not None and not (math.isfinite(x.capex_life_years)
                                               and x.capex_life_years > 0):
        raise InputError(f"energy.capex_life_years = {x.capex_life_years}: must be a finite "
                         "number > 0 (years over which capex is amortised)")
    if x.ppa_frac is not None and not 0.0 <= x.ppa_frac <= 1.0:
        raise InputError(f"energy.ppa_frac = {x.ppa_frac}: must be in [0, 1] (a fraction)")
    if x.power_cap_w is not None and not (math.isfinite(x.power_cap_w) and x.power_cap_w > 0):
        raise InputError(f"energy.power_cap_w = {x.power_cap_w} W: must be > 0")


@dataclass(frozen=True)
class EnergyReport:
    """Power, energy, carbon and cost of one plan (SI units)."""

    it_power_w: float
    facility_power_w: float
    peak_facility_power_w: float
    gpu_power_w: float
    host_power_w: float
    network_power_w: float
    cooling_power_w: float
    energy_j: float
    co2e_kg: float | None
    co2e_market_kg: float | None
    embodied_co2e_kg_low: float | None
    embodied_co2e_kg_high: float | None
    energy_cost_usd: float | None
    capacity_cost_usd: float | None
    hardware_cost_usd: float | None
    racks: int
    pue: float
    grid_intensity_g_per_kwh: float | None
    price_usd_per_mwh: float | None
    inputs_given: list[str] = field(default_factory=list)
    inputs_predicted: list[str] = field(default_factory=list)
    defaults_used: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    slowdown_frac: float = 0.0
    energy_per_token_j: float | None = None
    cost_usd_per_million_tokens: float | None = None
    notes: list[str] = field(default_factory=list)
    #: part of ``hardware_cost_usd`` that is amortised capex (None without capex_usd_per_gpu)
    capex_cost_usd: float | None = None
    #: the methods behind embodied_co2e_kg_low/high (physics.embodied_method)
    embodied_method: str | None = None
    #: step-time multiplier ≥ 1 per plan phase under the power cap (empty when uncapped)
    phase_time_factors: dict[str, float] = field(default_factory=dict)
    #: calendar time of the run [s] when it pauses in some hours (energy.pause_frac); None:
    #: equal to duration_s
    wall_time_s: float | None = None

    @property
    def cost_usd_total(self) -> float | None:
        """energy + capacity + hardware cost [USD] (the parts that were computed)."""
        parts = [v for v in (self.energy_cost_usd, self.capacity_cost_usd,
                             self.hardware_cost_usd) if v is not None]
        return sum(parts) if parts else None

    def as_keys(self) -> dict[str, Any]:
        """The interface-contract keys (plus the accounting lists)."""
        out = {"it_power_w": self.it_power_w, "facility_power_w": self.facility_power_w,
               "peak_facility_power_w": self.peak_facility_power_w, "energy_j": self.energy_j,
               "co2e_kg": self.co2e_kg, "co2e_market_kg": self.co2e_market_kg,
               "embodied_co2e_kg_low": self.embodied_co2e_kg_low,
               "embodied_co2e_kg_high": self.embodied_co2e_kg_high,
               "embodied_method": self.embodied_method,
               "energy_cost_usd": self.energy_cost_usd,
               "capacity_cost_usd": self.capacity_cost_usd,
               "hardware_cost_usd": self.hardware_cost_usd,
               "capex_cost_usd": self.capex_cost_usd, "cost_usd_total": self.cost_usd_total,
               "racks": self.racks,
               "pue": self.pue, "grid_intensity_g_per_kwh": self.grid_intensity_g_per_kwh,
               "price_usd_per_mwh": self.price_usd_per_mwh,
               "cost_usd_per_million_tokens": self.cost_usd_per_million_tokens,
               "inputs_given": list(self.inputs_given),
               "inputs_predicted": list(self.inputs_predicted),
               "defaults_used": list(self.defaults_used), "energy_notes": list(self.notes)}
        if self.energy_per_token_j is not None:
            out["energy_per_token_j"] = self.energy_per_token_j
        if self.wall_time_s is not None and self.wall_time_s != self.duration_s:
            out["wall_time_s"] = self.wall_time_s
        return out

    def summary_lines(self) -> list[str]:
        """A few readable lines (MW, MWh, t, $) for reports."""
        lines = [f"IT {show_power(self.it_power_w)}, facility {show_power(self.facility_power_w)}"
                 f" (PUE {self.pue:.2f}; peak {show_power(self.peak_facility_power_w)}), "
                 f"{self.racks:,} rack{'s' if self.racks != 1 else ''}",
                 f"energy {show_energy(self.energy_j)} over {self.duration_s / 86400:.1f} days"]
        if self.co2e_kg is not None:
            lines.append(f"{show_co2e(self.co2e_kg)} location-based at "
                         f"{self.grid_intensity_g_per_kwh:g} g/kWh"
                         + (f", {show_co2e(self.co2e_market_kg)} market-based"
                            if self.co2e_market_kg is not None else ""))
        if self.embodied_co2e_kg_high is not None:
            # two boundaries, not an uncertainty range (docs/energy.md, "Which embodied number")
            low = self.embodied_co2e_kg_low
            lines.append("embodied, run's share of a 4-year life: "
                         f"{show_co2e(self.embodied_co2e_kg_high)} whole servers (EcoLogits "
                         "LCA; the boundary of node and facility energy)"
                         + (f"; GPU dies alone {show_co2e(low)} (LLMCarbon die area)"
                            if low is not None else ""))
        costs = [(n, v) for n, v in (("energy", self.energy_cost_usd),
                                     ("capacity", self.capacity_cost_usd),
                                     ("hardware", self.hardware_cost_usd)) if v is not None]
        if costs:
            parts = []
            for n, v in costs:
                if n == "hardware" and self.capex_cost_usd is not None:
                    rent = v - self.capex_cost_usd
                    n = ("hardware (capex share)" if rent <= 0 else
                         f"hardware (GPU-hours {show_usd(rent)} + capex share "
                         f"{show_usd(self.capex_cost_usd)})")
                parts.append(f"{n} {show_usd(v)}")
            total = self.cost_usd_total
            lines.append("cost " + ", ".join(parts)
                         + (f"; total {show_usd(total)}" if len(costs) > 1 and total else ""))
        return lines


def inputs_from_scenario(scen: Any, **flags: Any) -> EnergyInputs:
    """EnergyInputs from a Scenario's ``energy`` and ``site`` sections; non-None `flags`
    (same field names, e.g. ``region``) win."""
    values: dict[str, Any] = {}
    if scen is not None and getattr(scen, "energy", None) is not None:
        values.update(scen.energy.model_dump(exclude_none=True))
    if scen is not None and getattr(scen, "site", None) is not None:
        if scen.site.region is not None:
            values["region"] = scen.site.region
        values["cooling"] = scen.site.cooling
    values.update({k: v for k, v in flags.items() if v is not None})
    profiles = (getattr(getattr(scen, "site", None), "profiles", None) or {})
    if values.get("region") in profiles:
        values["profile_path"] = profiles[values["region"]]
    return EnergyInputs(**values)


# --------------------------------------------------------------------------- facility

def _region(inputs: EnergyInputs) -> dict[str, Any] | None:
    if inputs.region is None:
        return None
    from .. import catalog

    return catalog.get("regions", inputs.region)


def host_power_w(system: System | None, acc: Accelerator) -> tuple[float, str | None]:
    """Max host power per GPU [W] and the default used (if any).

    One rule for every accelerator: the host of a system that was named (``--system`` or
    ``hardware.system``) when its catalog row gives it (host power, or node maximum less the
    GPUs' TDP); otherwise the generic DEFAULT_HOST_W_PER_GPU, reported as a default. The
    system :func:`wattlas.hardware.default_system` picks when none was named sets the fabric
    and racks, never the host, so accelerators compared without a system are like for like."""
    named = system is not None and system.named
    if named and system.accelerators_per_node:
        n = system.accelerators_per_node
        if system.host_power_w is not None:
            return system.host_power_w / n, None
        if system.node_max_power_w is not None and acc.tdp_w is not None:
            return max(system.node_max_power_w / n - acc.tdp_w, 0.0), None
    why = (f"{system.id} gives no host or node power" if named
           else "no system named; --system or hardware.system uses that node's host")
    return DEFAULT_HOST_W_PER_GPU, ("host power 150 W/GPU (EcoLogits p5.48xlarge server "
                                    f"without GPUs, 1.2 kW per 8 GPUs; {why})")


@dataclass(frozen=True)
class _Facility:
    pue: float
    racks: int
    ci: float | None
    price: float | None
    capacity_charge: float | None
    capex_life_s: float
    given: list[str]
    defaults: list[str]
    notes: list[str]


def facility_pue(inputs: EnergyInputs) -> tuple[float, list[str], list[str], list[str]]:
    """(PUE, inputs given, defaults used, notes): ``inputs.pue``, else the region's PUE for the
    cooling, else ``DEFAULT_PUE`` of the cooling."""
    reg = _region(inputs)
    given, defaults, notes = [], [], []
    if inputs.region:
        given.append(f"region={inputs.region}")
    if inputs.pue is not None:
        pue = inputs.pue
        given.append(f"pue={pue:g}")
    elif inputs.boundary != "facility":
        pue = 1.0
        notes.append(f"boundary {inputs.boundary}: no facility overhead counted (PUE 1; give "
                     "--pue to apply one)")
    elif reg is not None and reg.get(f"pue_{inputs.cooling}"):
        pue = float(reg[f"pue_{inputs.cooling}"])
        notes.append(f"PUE {pue:g} from region {inputs.region} ({inputs.cooling})")
    else:
        pue = DEFAULT_PUE[inputs.cooling]
        defaults.append(f"pue {pue:g} ({inputs.cooling} default: "
                        + ("Uptime Institute 2023 global average)" if inputs.cooling == "air"
                           else "planning value for direct liquid cooling)"))
    return pue, given, defaults, notes


def _profile_means(inputs: EnergyInputs) -> tuple[float | None, float | None]:
    """(mean intensity [g/kWh], mean price [USD/MWh]) a flat load sees under the region's
    profile (``grid.regions``); None where the profile has no such column or none is given."""
    if inputs.profile_path is None:
        if inputs.pause_frac:
            raise InputError("energy.pause_frac needs an hourly profile of the region: give "
                             "site.profiles.REGION (or --profile REGION=file.csv)")
        return None, None
    import os

    try:
        mtime_ns = os.stat(inputs.profile_path).st_mtime_ns
    except OSError:
        mtime_ns = None  # load_profile names the missing file
    return _profile_means_at(inputs.region, inputs.profile_path, mtime_ns, inputs.pause_frac,
                             inputs.pause_by)


@cache
def _profile_means_at(region: str, path: str, mtime_ns: int | None, pause_frac: float = 0.0,
                      pause_by: str = "carbon") -> tuple[float | None, float | None]:
    """:func:`_profile_means` of one region and profile file version, read once (a
    power-capped layout search costs many plans under the same inputs); with `pause_frac`
    the means over the hours the job runs (``Profile.run_means``)."""
    from ..grid import regions as rg

    reg = rg.with_profile(rg.region(region), rg.load_profile(path))
    prof = reg.profile
    if pause_frac:
        ci, price, _ = prof.run_means(pause_frac, pause_by)
        return ci, price
    return (rg.carbon_g_per_kwh(reg) if prof.carbon_intensity_g_per_kwh else None,
            rg.price_usd_per_mwh(reg) if prof.price_usd_per_mwh else None)


def _facility(inputs: EnergyInputs, gpus: int, peak_it_w: float, system: System | None,
              acc: Accelerator) -> _Facility:
    reg = _region(inputs)
    pue, given, defaults, notes = facility_pue(inputs)
    prof_ci, prof_price = _profile_means(inputs)
    if inputs.grid_intensity_g_per_kwh is not None:
        ci = inputs.grid_intensity_g_per_kwh
        given.append(f"grid_intensity_g_per_kwh={ci:g}")
    elif prof_ci is not None:
        ci = prof_ci
        notes.append(f"grid intensity {ci:.4g} g/kWh: mean of the profile {inputs.profile_path} "
                     "(a flat load)")
    elif reg is not None and reg.get("carbon_intensity_g_per_kwh") is not None:
        ci = float(reg["carbon_intensity_g_per_kwh"])
        notes.append(f"grid intensity {ci:g} g/kWh: {reg.get('carbon_basis')}, "
                     f"{reg.get('carbon_year')}")
    else:
        ci = None
        notes.append("carbon not computed: give --region or energy.grid_intensity_g_per_kwh "
                     "(no world-average fallback)")
    if inputs.price_usd_per_mwh is not None:
        price = inputs.price_usd_per_mwh
        given.append(f"price_usd_per_mwh={price:g}")
    elif prof_price is not None:
        price = prof_price
        notes.append(f"price {price:.4g} USD/MWh: mean of the profile {inputs.profile_path} "
                     "(a flat load)")
    elif reg is not None and reg.get("price_usd_per_mwh") is not None:
        price = float(reg["price_usd_per_mwh"])
        notes.append(f"price {price:g} USD/MWh: {reg.get('price_basis')}, {reg.get('price_year')}")
    else:
        price = None
        notes.append("energy cost not computed: give a region or energy.price_usd_per_mwh")
    if inputs.capacity_charge_usd_per_mw_year is not None:
        cap = inputs.capacity_charge_usd_per_mw_year
    elif reg is not None and reg.get("capacity_charge_usd_per_mw_year"):
        cap = float(reg["capacity_charge_usd_per_mw_year"])
        notes.append(f"capacity charge {cap:,.0f} USD/MW-year on peak facility power: "
                     f"region {inputs.region} (see its source)")
    else:
        cap = None
    for name in ("ppa_frac", "power_cap_w", "gpu_hour_price_usd", "capex_usd_per_gpu",
                 "capex_life_years", "capacity_charge_usd_per_mw_year"):
        if getattr(inputs, name) is not None:
            given.append(f"{name}={getattr(inputs, name):g}")
    if inputs.capex_usd_per_gpu is not None and inputs.gpu_hour_price_usd is not None:
        notes.append("hardware cost sums the GPU-hour price and the capex share; a rental "
                     "price usually includes the hardware, so give one of them to avoid "
                     "counting it twice")
    life_s = HARDWARE_LIFETIME_S
    if inputs.capex_life_years is not None:
        life_s = inputs.capex_life_years * SECONDS_PER_YEAR
    elif inputs.capex_usd_per_gpu is not None:
        defaults.append(f"capex life {HARDWARE_LIFETIME_S / SECONDS_PER_YEAR:g} years (the "
                        "hardware life of the embodied-carbon share, EcoLogits)")
    # racks: fixed GPUs per rack for a rack product, else nodes packed by power and space
    from .racks import rack_cooling, rack_layout

    region_rack_w = None
    if reg is not None:
        from ..grid import regions as rg

        r = rg.from_row(reg)
        if rg.rack_density_known(r, rack_cooling(system, inputs.cooling)):
            region_rack_w = rg.rack_limit_w(r, rack_cooling(system, inputs.cooling))[0]
    layout = rack_layout(gpus, peak_it_w, system, inputs.cooling, region_rack_w)
    racks = layout.racks
    defaults.extend(layout.defaults)
    notes.extend(layout.notes)
    return _Facility(pue, racks, ci, price, cap, life_s, given, defaults, notes)


def _carbon_cost(fac: _Facility, inputs: EnergyInputs, energy_j: float, duration_s: float,
                 peak_facility_w: float, gpus: int, acc: Accelerator
                 ) -> dict[str, float | None]:
    co2 = float(co2e_kg(energy_j, fac.ci)) if fac.ci is not None else None
    market = co2 * (1.0 - inputs.ppa_frac) if (co2 is not None and inputs.ppa_frac is not None) \
        else None
    life = min(duration_s / HARDWARE_LIFETIME_S, 1.0)
    low = (LLMCARBON_KG_PER_MM2 * acc.die_area_mm2 * gpus * life) if acc.die_area_mm2 else None
    high = (LCA_GPU_KG + LCA_SERVER_KG_PER_GPU) * gpus * life
    cost = energy_j / 3.6e9 * fac.price if fac.price is not None else None
    capacity = (peak_facility_w / 1e6 * fac.capacity_charge * duration_s / SECONDS_PER_YEAR
                if fac.capacity_charge is not None else None)
    rent = (inputs.gpu_hour_price_usd * gpus * duration_s / SECONDS_PER_HOUR
            if inputs.gpu_hour_price_usd is not None else None)
    capex = (capex_share_usd(inputs.capex_usd_per_gpu, gpus, duration_s, fac.capex_life_s)
             if inputs.capex_usd_per_gpu is not None else None)
    hw = None if rent is None and capex is None else (rent or 0.0) + (capex or 0.0)
    return {"co2e_kg": co2, "co2e_market_kg": market, "embodied_co2e_kg_low": low,
            "embodied_co2e_kg_high": high, "embodied_method": embodied_method(low is not None),
            "energy_cost_usd": cost, "capacity_cost_usd": capacity, "hardware_cost_usd": hw,
            "capex_cost_usd": capex}


# --------------------------------------------------------------------------- orchestrators

def _measured_node_w(system: System | None, acc: Accelerator) -> float:
    from .. import catalog

    candidates = [system] if system is not None else []
    from ..hardware import _from_row

    candidates += [_from_row(System, r) for r in catalog.rows("systems")
                   if r.get("accelerator") == acc.id]
    for s in candidates:
        if s is not None and s.node_typical_power_w and s.accelerators_per_node:
            return s.node_typical_power_w / s.accelerators_per_node
    raise InputError(f"power_basis 'measured': no measured node power for {acc.id} in the "
                     "systems catalog; use power_basis modeled or add node_typical_power_w")


def training_energy(plan: Any, inputs: EnergyInputs, system: System | None = None
                    ) -> EnergyReport:
    """Power, energy, carbon and cost of a TrainingPlan (see module docstring).

    Energy = Σ_phase P_phase × t_phase per step × steps / goodput: time lost to failures and
    restarts is charged at the step-average power (lost work is redone). With
    ``inputs.power_cap_w`` the report's ``slowdown_frac`` and ``phase_time_factors`` give the
    capped step; :func:`wattlas.perf.training.step.capped_plan` applies them to `plan` (which must
    be the uncapped plan).
    """
    if getattr(plan, "power_cap_slowdown_frac", 0.0):
        raise InputError("training_energy: the plan already includes a power-cap slowdown; "
                         "pass the uncapped plan")
    acc: Accelerator = plan.accelerator
    gpus = int(plan.gpus)
    defaults: list[str] = []
    idle, idle_default = idle_power_w(acc)
    if idle_default and inputs.power_basis == "modeled":
        defaults.append(f"idle power {DEFAULT_IDLE_FRAC:.0%} of TDP ({idle:.0f} W)")
    host_max, host_default = host_power_w(system, acc)
    if host_default and inputs.power_basis != "measured" and inputs.boundary != "gpu":
        defaults.append(host_default)
    tdp = acc.require("tdp_w")
    bd = {k: float(v) for k, v in plan.breakdown_s.items() if v}
    step_bd = sum(bd.values()) or float(plan.step_time_s)
    scale = float(plan.step_time_s) / step_bd if bd else 1.0
    factors: dict[str, float] = {}
    if inputs.power_basis == "modeled":
        t_new, e_gpu = 0.0, 0.0
        for k, t in bd.items():
            p = device_power_w(acc, PHASE_ACTIVITY.get(k, 0.5))
            pc, slow = capped_phase(p, idle, inputs.power_cap_w, k in COMPUTE_BOUND_PHASES)
            factors[k] = float(slow)
            t_new += t * scale * float(slow)
            e_gpu += float(pc) * t * scale * float(slow)
        if not bd:
            t_new, e_gpu = float(plan.step_time_s), tdp * float(plan.step_time_s)
        gpu_w = e_gpu / t_new
        host_w = host_max * HOST_LOAD_FRAC
    elif inputs.power_basis == "tdp":
        gpu_w = tdp if inputs.power_cap_w is None else min(tdp, inputs.power_cap_w)
        _, slow = capped_phase(tdp, idle, inputs.power_cap_w, True)
        t_new = float(plan.step_time_s) * float(slow)
        factors = {k: float(slow) for k in bd}
        host_w = host_max
    else:
        node = _measured_node_w(system, acc)
        gpu_w, host_w = node - host_max * HOST_LOAD_FRAC, host_max * HOST_LOAD_FRAC
        t_new = float(plan.step_time_s)
        if inputs.power_cap_w is not None:
            raise InputError("energy.power_cap_w cannot be combined with power_basis measured; "
                             "use power_basis modeled")
    slowdown = t_new / float(plan.step_time_s) - 1.0
    # uncapped, Σ phases × scale equals the step time up to rounding: exactly no slowdown
    slowdown = slowdown if inputs.power_cap_w is not None and slowdown > 1e-12 else 0.0
    duration = float(plan.training_time_s) * (1.0 + slowdown)
    # paused hours stretch the wall time (time-based costs), not the running time or energy
    wall_s = duration / (1.0 - inputs.pause_frac)
    net_w = NETWORK_W_PER_GPU
    if inputs.boundary == "gpu":  # accelerators only: no host, network or facility share
        host_w = host_max = net_w = 0.0
    it_w = gpus * (gpu_w + host_w + net_w)
    peak_it = gpus * ((min(tdp, inputs.power_cap_w) if inputs.power_cap_w else tdp)
                      + host_max + net_w)
    if inputs.boundary != "gpu":
        defaults.append(f"network {net_w:g} W/GPU (switch planning value)")
    fac = _facility(inputs, gpus, peak_it, system, acc)
    energy = it_w * fac.pue * duration
    cc = _carbon_cost(fac, inputs, energy, wall_s, peak_it * fac.pue, gpus, acc)
    tokens = float(plan.tokens_per_s) * float(plan.step_time_s) * float(plan.steps)
    money = sum(v for v in (cc["energy_cost_usd"], cc["capacity_cost_usd"],
                            cc["hardware_cost_usd"]) if v is not None)
    if slowdown <= 0:
        factors = {}
    predicted = ["gpu power from plan phases" if inputs.power_basis == "modeled"
                 else f"gpu power ({inputs.power_basis})", "training time from plan"]
    notes = list(fac.notes)
    if slowdown > 0:
        notes.append(f"power cap {inputs.power_cap_w:g} W slows training by {slowdown:.1%}")
    if inputs.pause_frac:
        notes.append(f"pauses in the {inputs.pause_frac:.0%} "
                     f"{'dirtiest' if inputs.pause_by == 'carbon' else 'dearest'} hours of the "
                     f"profile: wall time × {1 / (1 - inputs.pause_frac):.3f} (paused hours "
                     "draw no power); intensity and price are the means over the hours run")
    return EnergyReport(
        it_power_w=it_w, facility_power_w=it_w * fac.pue,
        peak_facility_power_w=peak_it * fac.pue, gpu_power_w=gpus * gpu_w,
        host_power_w=gpus * host_w, network_power_w=gpus * net_w,
        cooling_power_w=it_w * (fac.pue - 1.0), energy_j=energy, racks=fac.racks, pue=fac.pue,
        grid_intensity_g_per_kwh=fac.ci, price_usd_per_mwh=fac.price,
        inputs_given=[f"power_basis={inputs.power_basis}", f"boundary={inputs.boundary}",
                      *fac.given],
        inputs_predicted=predicted, defaults_used=defaults + fac.defaults,
        duration_s=duration, wall_time_s=wall_s, slowdown_frac=slowdown,
        energy_per_token_j=energy / tokens,
        cost_usd_per_million_tokens=money / tokens * 1e6 if money else None, notes=notes,
        phase_time_factors=factors, **cc)


def serving_energy(gpus: int, power_w_per_gpu: float, output_tokens_per_s: float,
                   inputs: EnergyInputs, system: System | None = None, hours: float = 8760,
                   accelerator: Accelerator | None = None) -> EnergyReport:
    """Power, energy per output token, carbon and cost of a serving deployment running
    `hours` at `output_tokens_per_s` (all replicas) with `power_w_per_gpu` per GPU (from the
    inference model, e.g. ``device_power_w(acc, DECODE_ACTIVITY)``)."""
    if gpus <= 0 or output_tokens_per_s <= 0 or hours <= 0 or power_w_per_gpu < 0:
        raise InputError(f"serving_energy: gpus={gpus}, output_tokens_per_s="
                         f"{output_tokens_per_s}, hours={hours}: all must be > 0")
    acc = accelerator or Accelerator(id="unknown", tdp_w=power_w_per_gpu)
    if system is not None and accelerator is None:
        from ..hardware import accelerator as get_acc

        acc = get_acc(system.accelerator)
    host_max, host_default = host_power_w(system, acc)
    defaults = [host_default] if host_default and inputs.boundary != "gpu" else []
    net_w = NETWORK_W_PER_GPU
    if inputs.boundary == "gpu":  # accelerators only: no host, network or facility share
        host_max = net_w = 0.0
    else:
        defaults.append(f"network {net_w:g} W/GPU (switch planning value)")
    host_w = host_max * HOST_LOAD_FRAC
    it_w = gpus * (power_w_per_gpu + host_w + net_w)
    peak_it = gpus * (max(acc.tdp_w or 0.0, power_w_per_gpu) + host_max + net_w)
    fac = _facility(inputs, gpus, peak_it, system, acc)
    duration = hours * SECONDS_PER_HOUR
    energy = it_w * fac.pue * duration
    cc = _carbon_cost(fac, inputs, energy, duration, peak_it * fac.pue, gpus, acc)
    tokens = output_tokens_per_s * duration
    money = sum(v for v in (cc["energy_cost_usd"], cc["capacity_cost_usd"],
                            cc["hardware_cost_usd"]) if v is not None)
    return EnergyReport(
        it_power_w=it_w, facility_power_w=it_w * fac.pue,
        peak_facility_power_w=peak_it * fac.pue, gpu_power_w=gpus * power_w_per_gpu,
        host_power_w=gpus * host_w, network_power_w=gpus * net_w,
        cooling_power_w=it_w * (fac.pue - 1.0), energy_j=energy, racks=fac.racks, pue=fac.pue,
        grid_intensity_g_per_kwh=fac.ci, price_usd_per_mwh=fac.price,
        inputs_given=[f"power_basis={inputs.power_basis}", f"hours={hours:g}", *fac.given],
        inputs_predicted=["gpu power and throughput from the serving plan"],
        defaults_used=defaults + fac.defaults, duration_s=duration,
        energy_per_token_j=energy / tokens,
        cost_usd_per_million_tokens=money / tokens * 1e6 if money else None,
        notes=list(fac.notes) + ([f"energy.power_cap_w {inputs.power_cap_w:g} W is not applied "
                                  "to serving: latency, throughput and power are uncapped"]
                                 if inputs.power_cap_w is not None else []), **cc)
