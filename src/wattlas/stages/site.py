"""The site stage: the scenario's site demand (facility and rack power) ranked over its candidate
regions, and the split of ``site.allocate`` over them; ``wattlas site SCENARIO`` and ``wattlas
plan`` both call :func:`site_section`."""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from ._plain import plain


def rack_power_w(scen: Any, power: dict[str, Any], notes: list[str]) -> float | None:
    """Rack power [W]: site.rack_kw, else the system's rack_max_power_w (or node max × nodes
    per rack), else the energy stage's IT power / racks."""
    from .. import hardware

    if scen.site is not None and scen.site.rack_kw:
        return scen.site.rack_kw * 1e3
    sys_ = None
    if scen.hardware is not None and scen.hardware.system:
        sys_ = hardware.system(scen.hardware.system)
    elif scen.hardware is not None and scen.hardware.accelerator:
        sys_ = hardware.default_system(scen.hardware.accelerator)
    if sys_ is not None and sys_.rack_max_power_w:
        return float(sys_.rack_max_power_w)
    if sys_ is not None and sys_.node_max_power_w and sys_.nodes_per_rack:
        return float(sys_.node_max_power_w * sys_.nodes_per_rack)
    if power.get("it_power_w") and power.get("racks"):
        rack_w = float(power["it_power_w"]) / float(power["racks"])
        notes.append(f"site: rack power {rack_w / 1e3:,.0f} kW = IT power / racks from the "
                     "energy stage (give site.rack_kw to override)")
        return rack_w
    return None


class SiteDemandUnknown(InputError):
    """The scenario gives neither the facility power nor the rack power of its site demand."""


def _gpus_per_rack(scen: Any) -> int | None:
    """site.allocate.gpus_per_rack, else accelerators per rack of the scenario's system (or its
    accelerator's default system)."""
    from .. import hardware

    a = scen.site.allocate
    if a is not None and a.gpus_per_rack:
        return a.gpus_per_rack
    hw = scen.hardware
    if hw is None or not (hw.system or hw.accelerator):
        return None
    sys_ = hardware.system(hw.system) if hw.system else hardware.default_system(hw.accelerator)
    return sys_.accelerators_per_rack if sys_ is not None else None


def site_demand(scen: Any, power: dict[str, Any], notes: list[str]) -> Any:
    """The SiteDemand of a scenario, for ``wattlas plan`` and ``wattlas site SCENARIO`` alike.

    Facility power: ``site.power_mw``, else the energy stage's IT power (`power`, from
    :func:`scenario_power`; × each region's PUE), else the IT power ``site.allocate`` places
    (× each region's PUE). Rack power: :func:`rack_power_w`. Raises SiteDemandUnknown naming
    what to give."""
    from ..grid import allocation, siting

    s = scen.site
    it_w = power.get("it_power_w")
    fac_w = power.get("facility_power_w")
    if s.power_mw:
        fac_w, it_w = s.power_mw * 1e6, None
    rack_w = rack_power_w(scen, power, notes)
    if not rack_w:
        raise SiteDemandUnknown("rack power unknown: give --rack-kw, site.rack_kw or "
                                "hardware.system")
    if not fac_w and s.allocate is not None:
        a = s.allocate
        if a.it_power_mw:
            it_w = a.it_power_mw * 1e6
        else:
            gpr = _gpus_per_rack(scen)
            if not gpr:
                raise InputError("site.allocate.gpus: GPUs per rack unknown; give "
                                 "site.allocate.gpus_per_rack or hardware.system")
            it_w = allocation.racks_needed(rack_w, gpus=a.gpus, gpus_per_rack=gpr) * rack_w
        fac_w = it_w  # placeholder: with it_power_w the facility power is IT × PUE per region
        notes.append(f"site: ranked for the {it_w / 1e6:,.1f} MW of IT power the allocation "
                     "places (facility power = IT × each region's PUE)")
    if not fac_w:
        raise SiteDemandUnknown("facility power unknown: give --power-mw, site.power_mw or a "
                                "training or serving section")
    return siting.SiteDemand(facility_power_w=float(fac_w), rack_power_w=float(rack_w),
                             cooling=s.cooling, it_power_w=it_w,
                             curtailment_frac=s.curtailment_frac,
                             onsite=tuple(s.onsite or ()))


def site_regions(scen: Any, notes: list[str]) -> list[Any]:
    """The candidate Regions (``site.candidates``, else ``site.region``, else the whole catalog)
    with the hourly/monthly profiles of ``site.profiles`` attached."""
    from ..grid import regions as rg

    s = scen.site
    ids = s.candidates or ([s.region] if s.region else None)
    regs = [rg.region(r) for r in ids] if ids else rg.all_regions()
    known = [r.id for r in regs]
    for rid, path in (s.profiles or {}).items():
        if rid not in known:
            raise InputError(f"site.profiles.{rid}: '{rid}' is not among the candidate regions "
                             f"({', '.join(known)})")
        prof = rg.load_profile(path)
        regs = [rg.with_profile(r, prof) if r.id == rid else r for r in regs]
        notes.append(f"site: {rid} carbon/price from the {prof.period}ly profile {path}")
    return regs


def site_section(scen: Any, power: dict[str, Any], notes: list[str], weights: Any = None,
                 users: Any = None) -> dict[str, Any]:
    """The ``site`` section of ``plan.json``, which ``wattlas site SCENARIO`` prints too:
    :func:`site_demand` ranked over :func:`site_regions` (``grid.siting.rank_sites``), and the
    split of ``site.allocate`` over them (``grid.allocation.allocation_summary``)."""
    from ..errors import InfeasibleError
    from ..grid import allocation, siting

    s = scen.site
    fac_given = bool(s.power_mw or power.get("facility_power_w"))
    demand = site_demand(scen, power, notes)
    regs = site_regions(scen, notes)
    rows = plain(siting.rank_sites(demand, weights=weights, users=users, regions=regs))
    if not any(r["feasible"] for r in rows):
        notes.append("site: no candidate region is feasible (see site.regions reasons)")
    out: dict[str, Any] = {
        "facility_power_w": demand.facility_power_w if fac_given else None,
        "it_power_w": demand.it_power_w, "rack_power_w": demand.rack_power_w,
        "cooling": demand.cooling, "regions": rows}
    if demand.curtailment_frac > 0:  # flexible interconnection: time to power per share
        out["curtailment_tradeoff"] = plain(siting.curtailment_tradeoff(demand, regs))
        if not any(r.curtailable_headroom_w is not None for r in regs):
            notes.append("site: no candidate region publishes curtailable headroom, so "
                         "curtailment shortens no time to power here (see docs/siting.md)")
    a = s.allocate
    if a is not None:
        gpr = _gpus_per_rack(scen)
        try:
            out["allocation"] = plain(allocation.allocation_summary(
                regs, demand.rack_power_w, demand.cooling,
                it_power_w=a.it_power_mw * 1e6 if a.it_power_mw else None, gpus=a.gpus,
                gpus_per_rack=gpr, caps_w={k: v * 1e6 for k, v in (a.caps_mw or {}).items()},
                weights=siting.parse_weights(weights), users=users,
                max_latency_s=a.max_latency_s))
        except InfeasibleError as err:
            notes.append(f"site: allocation infeasible: {err}")
            out["allocation"] = {"feasible": False, "reason": str(err)}
    return out


def site_stage(scen: Any, power: dict[str, Any], notes: list[str]) -> dict[str, Any] | None:
    """:func:`site_section`, or None (with the reason in `notes`) when the demand is unknown."""
    try:
        return site_section(scen, power, notes)
    except SiteDemandUnknown as err:
        notes.append(f"site: not ranked: {err}")
        return None



def site_result(scen: Any, weights: Any = None, users: Any = None) -> dict[str, Any]:
    """What ``wattlas site SCENARIO --format json`` prints: the scenario's site demand (its
    energy stage's power unless ``site.power_mw`` is given) ranked over its candidate regions,
    with the notes."""
    from .energy import scenario_power

    notes: list[str] = []
    power = (scenario_power(scen) if not scen.site.power_mw
             and (scen.training is not None or scen.serving is not None) else {})
    out = site_section(scen, power, notes, weights=weights, users=users)
    out["notes"] = notes
    return out
