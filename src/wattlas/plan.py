"""One scenario, every stage: the orchestrator behind ``wattlas plan``.

``run_plan(scen)`` runs the stages the scenario asks for — training and/or serving → energy →
site → compare (the training job on alternative hardware, :mod:`wattlas.compare`) → route — by
calling the stage functions of :mod:`wattlas.stages`, which the single-verb commands call too
(one code path), and returns one plain
dict (SI units, unit-suffixed keys) that the report renderers and ``plan.json`` share. A stage
runs only when its section is present; a stage that cannot run says why in ``notes``. Catalog
ids are checked before any work starts (:func:`check_ids`), so a typo fails in milliseconds
with the allowed values.
"""

from __future__ import annotations

import hashlib
import sys
import types
from importlib import resources
from typing import Any

from ._version import __version__
from .compare import compare_section
from .errors import InputError
from .stages.budget import budget_stage
from .stages.energy import energy_section, scenario_power, stage_power
from .stages.governance import get_field as _field
from .stages.governance import governance_stage
from .stages.route import route_stage
from .stages.serving import serving_stage
from .stages.site import (
    SiteDemandUnknown,
    rack_power_w,
    site_demand,
    site_regions,
    site_section,
    site_stage,
)
from .stages.training import training_stage

__all__ = ["STAGES", "SiteDemandUnknown", "catalog_versions", "check_ids", "energy_section",
           "resolved_scenario", "run_plan", "scenario_power", "site_demand", "site_regions",
           "site_section", "stage_power"]

STAGES = ("training", "budget", "serving", "energy", "site", "compare", "route",
          "governance")


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
    for r in getattr(scen, "ranges", ()):  # a range or distribution is written as given
        from .uncertainty.inputs import put

        data = put(data, r.path, r.spec())
    data["wattlas"] = {"version": __version__, "catalogs_sha256": catalog_versions()}
    if scen.catalogs:
        base = Path(base_dir) if base_dir else Path.cwd()
        data["wattlas"]["user_catalogs_sha256"] = {
            f: hashlib.sha256((base / f).read_bytes()).hexdigest()[:16] for f in scen.catalogs}
    return data


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


def run_plan(scen: Any, ranges: bool = True) -> dict[str, Any]:
    """Run every stage `scen` asks for; return the plan dict (the layout of ``plan.json``).

    Keys: scenario, wattlas_version, stages, notes, training, budget, serving, energy, site,
    compare, route, governance, map, uncertainty. Absent stages are None. With `ranges`, each
    headline number ``k`` gets ``k_p10``, ``k_p50`` and ``k_p90`` and the plan an
    ``uncertainty`` section (:func:`wattlas.uncertainty.montecarlo.add_ranges`).
    """
    check_ids(scen)
    notes: list[str] = []
    out: dict[str, Any] = {"scenario": scen.name or "unnamed", "wattlas_version": __version__,
                           "stages": [], "notes": notes}
    training = serving = energy = site = route = report = None
    if scen.training is not None:
        training, report = training_stage(scen)
        out["stages"].append("training")
    out["budget"] = None
    if scen.budget is not None:  # compute-optimal sizing, the same function as `train`
        out["budget"] = budget_stage(scen)
        out["stages"].append("budget")
    if scen.serving is not None:
        serving, splan = serving_stage(scen)
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
        site = site_stage(scen, power, notes)
        if site is not None:
            out["stages"].append("site")
    compare = None
    if scen.compare is not None:
        if training is None:
            notes.append("compare: not run; it compares a training job (give a training "
                         "section)")
        else:
            compare = compare_section(scen, training, notes, training_stage=training_stage,
                                      site_stage=site_stage, rack_power_w=rack_power_w)
            out["stages"].append("compare")
    if scen.routing is not None:
        route = route_stage(scen)
        out["stages"].append("route")
    out.update(training=training, serving=serving, energy=energy, site=site, compare=compare,
               route=route)
    out["governance"] = governance_stage(scen, training)
    out["stages"].append("governance")
    out["map"] = _map(scen, site)
    if training is not None:
        notes.extend(f"training: {n}" for n in training.get("notes", []))
    if serving is not None:
        notes.extend(f"serving: {n}" for n in serving.get("notes", []) or [])
    out["uncertainty"] = None
    if ranges and (training is not None or serving is not None):
        from .uncertainty.montecarlo import add_ranges

        add_ranges(scen, out)
    return out


class _CallablePlanModule(types.ModuleType):
    """``wattlas.plan`` is both this module and the API verb: calling the module runs
    :func:`run_plan` on a Scenario, path, mapping or YAML text and returns the frozen
    :class:`~wattlas.results.Plan` (``wattlas.api.plan`` does the same)."""

    def __call__(self, scenario: Any, set: Any = None) -> Any:
        from .results import Plan
        from .stages.inputs import scenario_of

        return Plan(run_plan(scenario_of(scenario, {}, {}, "plan", set)))


sys.modules[__name__].__class__ = _CallablePlanModule
