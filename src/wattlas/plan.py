"""One scenario, every stage: the orchestrator behind ``wattlas plan``.

``run_plan(scen)`` runs the stages the scenario asks for — training and/or serving → energy →
site → compare (the training job on alternative hardware, :mod:`wattlas.compare`) → route — by
calling the same functions the single-verb commands call (one code path), and returns one plain
dict (SI units, unit-suffixed keys) that the report renderers and ``plan.json`` share. A stage
runs only when its section is present; a stage that cannot run says why in ``notes``. Catalog
ids are checked before any work starts (:func:`check_ids`), so a typo fails in milliseconds
with the allowed values.
"""

from __future__ import annotations

import dataclasses
import hashlib
from importlib import resources
from typing import Any

from . import __version__
from .compare import compare_section
from .errors import InputError

STAGES = ("training", "budget", "serving", "energy", "site", "compare", "route",
          "governance")


def _plain(obj: Any) -> Any:
    from .commands._common import jsonable

    if hasattr(obj, "as_keys"):
        obj = obj.as_keys()
    return jsonable(obj)


def check_ids(scen: Any) -> None:
    """Resolve every catalog id the scenario names (model, accelerator, system, regions) before
    any stage runs; raises CatalogKeyError (exit 2) naming the id and the close matches."""
    from . import hardware
    from .scenario import resolve_model

    if scen.model is not None:
        resolve_model(scen.model)
    if scen.hardware is not None:
        if scen.hardware.accelerator:
            hardware.accelerator(scen.hardware.accelerator)
        if scen.hardware.system:
            hardware.system(scen.hardware.system)
    if scen.site is not None:
        from .grid import regions as rg

        for rid in [scen.site.region, *(scen.site.candidates or [])]:
            if rid:
                rg.region(rid)
    if scen.training is not None and scen.training.geo is not None:
        from .errors import CatalogKeyError
        from .grid import regions as rg

        for rid in scen.training.geo.sites:
            try:
                rg.region(rid)
            except CatalogKeyError as err:
                raise InputError(f"training.geo.sites: {err}") from None
    if scen.compare is not None:
        from .compare import check_compare

        check_compare(scen.compare)
    if scen.routing is not None:
        from .grid import regions as rg

        for s in _field(scen.routing, "sites") or []:
            if _field(s, "region"):
                rg.region(_field(s, "region"))
            if _field(s, "accelerator"):
                hardware.accelerator(_field(s, "accelerator"))


def catalog_versions() -> dict[str, str]:
    """SHA-256 (first 16 hex digits) of each shipped catalog CSV, so a report names the exact
    data it was computed from."""
    out = {}
    for f in sorted(resources.files("wattlas.data").iterdir(), key=lambda p: p.name):
        if f.name.endswith(".csv"):
            out[f.name] = hashlib.sha256(f.read_bytes()).hexdigest()[:16]
    return out


def resolved_scenario(scen: Any, base_dir: str | None = None) -> dict[str, Any]:
    """The validated scenario (defaults filled in) with the wattlas and catalog versions; user
    catalog files the scenario names (relative to `base_dir`) are hashed too."""
    from pathlib import Path

    data = scen.model_dump(mode="json", exclude_none=True)
    data["wattlas"] = {"version": __version__, "catalogs_sha256": catalog_versions()}
    if scen.catalogs:
        base = Path(base_dir) if base_dir else Path.cwd()
        data["wattlas"]["user_catalogs_sha256"] = {
            f: hashlib.sha256((base / f).read_bytes()).hexdigest()[:16] for f in scen.catalogs}
    return data


# stages ---------------------------------------------------------------------------------------

def _training(scen: Any) -> tuple[dict[str, Any], Any]:
    """(the dict ``wattlas train SCENARIO --format json`` prints, the EnergyReport): the train
    command's own ``training_result`` (plan keys with a power cap applied, energy report;
    ``--search``, cap-aware, when the scenario gives no layout)."""
    from .commands.train import search_result, training_result
    from .perf import training as tr

    extra: dict[str, Any] = {}
    if scen.training.layout is None:
        from .errors import ScenarioError

        if scen.cluster is None:
            raise ScenarioError("scenario: cluster.gpus is needed for a training plan")
        res = search_result(scen)
        plan = res.best
        extra = {"search_candidates": res.candidates, "search_time_s": res.time_s,
                 "search_feasible": res.feasible}
    else:
        plan = tr.plan_from_scenario(scen)
    out, report = training_result(plan, scen)
    out.update(extra)
    return _plain(out), report


def _serving(scen: Any) -> tuple[dict[str, Any], Any]:
    """(the dict ``wattlas serve SCENARIO --format json`` prints, the ServingPlan)."""
    from .commands.serve import plan_dict
    from .perf.inference import plan_from_scenario

    plan = plan_from_scenario(scen)
    return _plain(plan_dict(plan)), plan


ENERGY_KEYS = ("it_power_w", "facility_power_w", "peak_facility_power_w", "energy_j", "co2e_kg",
               "co2e_market_kg", "embodied_co2e_kg_low", "embodied_co2e_kg_high",
               "embodied_method", "energy_cost_usd", "capacity_cost_usd", "hardware_cost_usd",
               "capex_cost_usd", "cost_usd_total", "racks", "pue",
               "grid_intensity_g_per_kwh", "price_usd_per_mwh", "duration_s",
               "energy_per_token_j", "cost_usd_per_million_tokens", "inputs_given",
               "inputs_predicted", "defaults_used", "energy_notes", "energy_summary")
COMPONENTS = {"GPUs": "gpu_power_w", "hosts": "host_power_w", "network": "network_power_w",
              "cooling": "cooling_power_w"}


def energy_section(report: Any) -> dict[str, Any]:
    """The energy keys of an EnergyReport (``energy.training_energy`` or ``serving_energy``, via
    the train and serve commands' code paths), with power by component [W] and energy by
    component [J] = component power × duration_s (the report's constant-power accounting,
    E = P·t, whose parts sum to ``energy_j``)."""
    keys = report.as_keys()
    out = {k: keys[k] for k in ENERGY_KEYS if k in keys}
    out["duration_s"] = report.duration_s
    out["energy_summary"] = report.summary_lines()
    comp = {name: getattr(report, key) for name, key in COMPONENTS.items()}
    out["components_w"] = comp
    if report.duration_s > 0:
        out["components_j"] = {k: v * report.duration_s for k, v in comp.items()}
    return _plain(out)


def _rack_power_w(scen: Any, power: dict[str, Any], notes: list[str]) -> float | None:
    """Rack power [W]: site.rack_kw, else the system's rack_max_power_w (or node max × nodes
    per rack), else the energy stage's IT power / racks."""
    from . import hardware

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


POWER_KEYS = ("it_power_w", "facility_power_w", "racks")


def stage_power(energy: dict[str, Any] | None) -> dict[str, Any]:
    """The energy stage's IT power [W], facility power [W] and racks (None where absent)."""
    return {k: (energy or {}).get(k) for k in POWER_KEYS}


def scenario_power(scen: Any) -> dict[str, Any]:
    """:func:`stage_power` of the scenario's energy stage as :func:`run_plan` computes it: the
    training run's (``_training``), else the serving deployment's (``_serving``)."""
    report = None
    if scen.training is not None:
        report = _training(scen)[1]
    elif scen.serving is not None:
        report = _serving(scen)[1].energy
    return stage_power(energy_section(report) if report is not None else None)


class SiteDemandUnknown(InputError):
    """The scenario gives neither the facility power nor the rack power of its site demand."""


def _gpus_per_rack(scen: Any) -> int | None:
    """site.allocate.gpus_per_rack, else accelerators per rack of the scenario's system (or its
    accelerator's default system)."""
    from . import hardware

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
    (× each region's PUE). Rack power: :func:`_rack_power_w`. Raises SiteDemandUnknown naming
    what to give."""
    from .grid import allocation, siting

    s = scen.site
    it_w = power.get("it_power_w")
    fac_w = power.get("facility_power_w")
    if s.power_mw:
        fac_w, it_w = s.power_mw * 1e6, None
    rack_w = _rack_power_w(scen, power, notes)
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
                             cooling=s.cooling, it_power_w=it_w)


def site_regions(scen: Any, notes: list[str]) -> list[Any]:
    """The candidate Regions (``site.candidates``, else ``site.region``, else the whole catalog)
    with the hourly/monthly profiles of ``site.profiles`` attached."""
    from .grid import regions as rg

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
    from .errors import InfeasibleError
    from .grid import allocation, siting

    s = scen.site
    fac_given = bool(s.power_mw or power.get("facility_power_w"))
    demand = site_demand(scen, power, notes)
    regs = site_regions(scen, notes)
    rows = _plain(siting.rank_sites(demand, weights=weights, users=users, regions=regs))
    if not any(r["feasible"] for r in rows):
        notes.append("site: no candidate region is feasible (see site.regions reasons)")
    out: dict[str, Any] = {
        "facility_power_w": demand.facility_power_w if fac_given else None,
        "it_power_w": demand.it_power_w, "rack_power_w": demand.rack_power_w,
        "cooling": demand.cooling, "regions": rows}
    a = s.allocate
    if a is not None:
        gpr = _gpus_per_rack(scen)
        try:
            out["allocation"] = _plain(allocation.allocation_summary(
                regs, demand.rack_power_w, demand.cooling,
                it_power_w=a.it_power_mw * 1e6 if a.it_power_mw else None, gpus=a.gpus,
                gpus_per_rack=gpr, caps_w={k: v * 1e6 for k, v in (a.caps_mw or {}).items()},
                weights=siting.parse_weights(weights), users=users,
                max_latency_s=a.max_latency_s))
        except InfeasibleError as err:
            notes.append(f"site: allocation infeasible: {err}")
            out["allocation"] = {"feasible": False, "reason": str(err)}
    return out


def _site(scen: Any, power: dict[str, Any], notes: list[str]) -> dict[str, Any] | None:
    """:func:`site_section`, or None (with the reason in `notes`) when the demand is unknown."""
    try:
        return site_section(scen, power, notes)
    except SiteDemandUnknown as err:
        notes.append(f"site: not ranked: {err}")
        return None


CDF_POINTS = 200


def _route(scen: Any) -> dict[str, Any]:
    """``routing_from_scenario``: the policies and site_load that ``wattlas route --format
    json`` prints, plus TTFT quantiles per policy (f − a of completed calls at CDF_POINTS
    probabilities (i + ½)/n) for the latency CDF chart."""
    import numpy as np

    from .routing.simulator import routing_from_scenario

    res = routing_from_scenario(scen)
    out = {"policies": _plain(res.policies), "site_load": _plain(res.site_load)}
    probs = (np.arange(CDF_POINTS) + 0.5) / CDF_POINTS
    quantiles = {}
    for name, log in (getattr(res, "logs", None) or {}).items():
        done = np.asarray(log.completed, dtype=bool)
        ttft = (np.asarray(log.first_token_s) - np.asarray(log.arrival_s))[done]
        ttft = ttft[np.isfinite(ttft)]
        if ttft.size:
            quantiles[name] = np.quantile(ttft, probs).tolist()
    out["ttft_quantiles_s"] = quantiles
    return out


def _governance(scen: Any, training: dict[str, Any] | None) -> dict[str, Any]:
    """Training compute vs thresholds and the export-control class of the accelerators used or
    compared."""
    from . import catalog, governance, hardware

    accs = []
    if scen.hardware is not None and scen.hardware.accelerator:
        accs.append(scen.hardware.accelerator)
    for alt in scen.compare.hardware if scen.compare is not None else []:
        accs.append(alt.accelerator or hardware.system(alt.system).accelerator)
    for s in (_field(scen.routing, "sites") or []) if scen.routing is not None else []:
        if _field(s, "accelerator"):
            accs.append(_field(s, "accelerator"))
    accs = list(dict.fromkeys(accs))
    out: dict[str, Any] = {"accelerators": [
        dataclasses.asdict(governance.classify(catalog.get("accelerators", a))) for a in accs]}
    if training is not None:
        out["training_compute_flop"] = training["model_flop_total"]
        out["compute"] = governance.compute_check(training["model_flop_total"])
    return _plain(out)


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _map(scen: Any, site: dict[str, Any] | None) -> dict[str, Any]:
    """Points for the map: candidate regions and routing sites (catalog coordinates), and
    routing user regions (their own lat/lon)."""
    from .grid import regions as rg

    ids: list[tuple[str, str]] = []
    if site is not None:
        ids = [(r["region"], r["region"]) for r in site["regions"]]
    elif scen.site is not None:
        ids = [(i, i) for i in [scen.site.region, *(scen.site.candidates or [])] if i]
    users = []
    if scen.routing is not None:
        for s in _field(scen.routing, "sites") or []:
            region = _field(s, "region")
            if region:
                ids.append((_field(s, "name") or region, region))
        for u in _field(scen.routing, "users") or []:
            if _field(u, "lat") is not None:
                users.append({"label": _field(u, "name") or "", "lat": _field(u, "lat"),
                              "lon": _field(u, "lon")})
    sites = []
    for label, rid in dict.fromkeys(ids):
        reg = rg.region(rid)
        if reg.lat is not None and reg.lon is not None:
            sites.append({"label": label, "lat": reg.lat, "lon": reg.lon})
    return {"sites": sites, "users": users}


def run_plan(scen: Any) -> dict[str, Any]:
    """Run every stage `scen` asks for; return the plan dict (the layout of ``plan.json``).

    Keys: scenario, wattlas_version, stages, notes, training, budget, serving, energy, site,
    compare, route, governance, map. Absent stages are None.
    """
    check_ids(scen)
    notes: list[str] = []
    out: dict[str, Any] = {"scenario": scen.name or "unnamed", "wattlas_version": __version__,
                           "stages": [], "notes": notes}
    training = serving = energy = site = route = report = None
    if scen.training is not None:
        training, report = _training(scen)
        out["stages"].append("training")
    out["budget"] = None
    if scen.budget is not None:  # compute-optimal sizing, the same function as `train`
        from .commands._budget import budget_dict

        out["budget"] = budget_dict(scen)
        out["stages"].append("budget")
    if scen.serving is not None:
        serving, splan = _serving(scen)
        out["stages"].append("serving")
        if report is None:
            report = splan.energy
        elif splan.energy is not None:
            notes.append("energy: the energy stage and siting cover the training run; the "
                         "serving deployment's energy is under serving")
    if report is not None:
        energy = energy_section(report)
        out["stages"].append("energy")
    power = stage_power(energy)
    if scen.site is not None:
        site = _site(scen, power, notes)
        if site is not None:
            out["stages"].append("site")
    compare = None
    if scen.compare is not None:
        if training is None:
            notes.append("compare: not run; it compares a training job (give a training "
                         "section)")
        else:
            compare = compare_section(scen, training, notes, training_stage=_training,
                                      site_stage=_site, rack_power_w=_rack_power_w)
            out["stages"].append("compare")
    if scen.routing is not None:
        route = _route(scen)
        out["stages"].append("route")
    out.update(training=training, serving=serving, energy=energy, site=site, compare=compare,
               route=route)
    out["governance"] = _governance(scen, training)
    out["stages"].append("governance")
    out["map"] = _map(scen, site)
    if training is not None:
        notes.extend(f"training: {n}" for n in training.get("notes", []))
    if serving is not None:
        notes.extend(f"serving: {n}" for n in serving.get("notes", []) or [])
    return out
