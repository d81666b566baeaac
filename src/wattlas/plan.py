"""One scenario, every stage: the orchestrator behind ``wattlas plan``.

``run_plan(scen)`` runs the stages the scenario asks for — training and/or serving → energy →
site → route — by calling the same functions the single-verb commands call (one code path), and
returns one plain dict (SI units, unit-suffixed keys) that the report renderers and
``plan.json`` share. A stage runs only when its section is present; a stage that cannot run
says why in ``notes``. Catalog ids are checked before any work starts
(:func:`check_ids`), so a typo fails in milliseconds with the allowed values.
"""

from __future__ import annotations

import dataclasses
import hashlib
from importlib import resources
from typing import Any

from . import __version__

STAGES = ("training", "serving", "energy", "site", "route", "governance")


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
    command's own ``plan_dict`` and ``training_energy_report`` (``--search`` when the scenario
    gives no layout)."""
    from .commands.train import plan_dict, training_energy_report
    from .perf import training as tr

    extra: dict[str, Any] = {}
    if scen.training.layout is None:
        from .errors import ScenarioError
        from .perf.search import search_layouts

        if scen.cluster is None:
            raise ScenarioError("scenario: cluster.gpus is needed for a training plan")
        acc, fabric = tr.hardware_from_scenario(scen)
        res = search_layouts(tr.job_from_scenario(scen), acc, scen.cluster.gpus, fabric)
        plan = res.best
        extra = {"search_candidates": res.candidates, "search_time_s": res.time_s,
                 "search_feasible": res.feasible}
    else:
        plan = tr.plan_from_scenario(scen)
    out = plan_dict(plan)
    report = training_energy_report(plan, scen)
    out.update(report.as_keys())
    out["energy_summary"] = report.summary_lines()
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
               "energy_cost_usd", "capacity_cost_usd", "hardware_cost_usd", "racks", "pue",
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


def _site(scen: Any, power: dict[str, Any], notes: list[str]) -> dict[str, Any] | None:
    """Rank the candidate regions for the plan's facility power (``grid.siting.rank_sites``)."""
    from .grid import siting

    s = scen.site
    candidates = s.candidates or ([s.region] if s.region else None)
    it_w = power.get("it_power_w")
    fac_w = power.get("facility_power_w")
    if s.power_mw:
        fac_w, it_w = s.power_mw * 1e6, None
    rack_w = _rack_power_w(scen, power, notes)
    if not fac_w or not rack_w:
        need = "site.power_mw (or the energy stage)" if not fac_w else "site.rack_kw"
        notes.append(f"site: not ranked; give {need}")
        return None
    demand = siting.SiteDemand(facility_power_w=float(fac_w), rack_power_w=rack_w,
                               cooling=s.cooling, it_power_w=it_w)
    rows = siting.rank_sites(demand, candidates)
    return {"facility_power_w": float(fac_w), "it_power_w": it_w, "rack_power_w": rack_w,
            "cooling": s.cooling, "regions": _plain(rows)}


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
    """Training compute vs thresholds and the export-control class of the accelerators used."""
    from . import catalog, governance

    accs = []
    if scen.hardware is not None and scen.hardware.accelerator:
        accs.append(scen.hardware.accelerator)
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

    Keys: scenario, wattlas_version, stages, notes, training, serving, energy, site, route,
    governance, map. Absent stages are None.
    """
    check_ids(scen)
    notes: list[str] = []
    out: dict[str, Any] = {"scenario": scen.name or "unnamed", "wattlas_version": __version__,
                           "stages": [], "notes": notes}
    training = serving = energy = site = route = report = None
    if scen.training is not None:
        training, report = _training(scen)
        out["stages"].append("training")
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
    power = {k: (energy or {}).get(k) for k in ("it_power_w", "facility_power_w", "racks")}
    if scen.site is not None:
        site = _site(scen, power, notes)
        if site is not None:
            out["stages"].append("site")
    if scen.routing is not None:
        route = _route(scen)
        out["stages"].append("route")
    out.update(training=training, serving=serving, energy=energy, site=site, route=route)
    out["governance"] = _governance(scen, training)
    out["stages"].append("governance")
    out["map"] = _map(scen, site)
    if training is not None:
        notes.extend(f"training: {n}" for n in training.get("notes", []))
    if serving is not None:
        notes.extend(f"serving: {n}" for n in serving.get("notes", []) or [])
    return out
