"""Scenario text as the service receives it: parsed, validated per field, compared, labelled.

A scenario reaches the service as YAML text and is read by the same bounded reader and the same
pydantic models as ``wattlas plan`` (no second model). What would make a scenario touch the
server's files is refused before anything runs: ``catalogs`` (paths to catalog files) and
``site.profiles`` (paths to hourly profiles) name files, and the service takes no paths.
"""

from __future__ import annotations

import difflib
from typing import Any

MAX_YAML_CHARS = 200_000
PATH_FIELDS = {("catalogs",): "the service reads no files: catalog rows cannot be given "
                              "as paths here; use catalog ids",
               ("site", "profiles"): "the service reads no files: hourly profiles cannot be "
                                     "given as paths here"}


def field_errors(yaml_text: str) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
    """(the raw mapping, per-field errors) of scenario text; no errors means it may run."""
    from pydantic import ValidationError

    from ..errors import WattlasError
    from ..safeio import load_yaml
    from ..scenario import Scenario

    if len(yaml_text) > MAX_YAML_CHARS:
        return None, [{"field": "yaml", "message": f"{len(yaml_text)} characters; allowed: "
                       f"at most {MAX_YAML_CHARS}"}]
    try:
        data = load_yaml(yaml_text, "scenario")
    except WattlasError as exc:
        return None, [{"field": "yaml", "message": str(exc)}]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, [{"field": "yaml", "message": "the top level must be a mapping"}]
    errors = []
    for path, why in PATH_FIELDS.items():
        node: Any = data
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if node is not None:
            errors.append({"field": ".".join(path), "message": why})
    try:
        scen = Scenario.model_validate(data)
    except ValidationError as err:
        for e in err.errors():
            loc = ".".join(str(p) for p in e["loc"] if not str(p).startswith(("function-",
                                                                              "str", "Model")))
            errors.append({"field": loc or "yaml", "message": e["msg"]})
        return data, _unique(errors)
    except WattlasError as exc:
        return data, errors + [{"field": "yaml", "message": str(exc)}]
    if not errors:
        errors.extend(_catalog_errors(scen))
    return data, _unique(errors)


def _unique(errors: list[dict[str, str]]) -> list[dict[str, str]]:
    seen, out = set(), []
    for e in errors:
        key = (e["field"], e["message"])
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


def _catalog_errors(scen: Any) -> list[dict[str, str]]:
    """Unknown catalog ids, each under the field that names it."""
    from .. import catalog
    from ..errors import CatalogKeyError

    checks = []
    if isinstance(scen.model, str):
        checks.append(("model", "models", scen.model))
    if scen.hardware is not None:
        if scen.hardware.accelerator:
            checks.append(("hardware.accelerator", "accelerators", scen.hardware.accelerator))
        if scen.hardware.system:
            checks.append(("hardware.system", "systems", scen.hardware.system))
    if scen.site is not None and getattr(scen.site, "region", None):
        checks.append(("site.region", "regions", scen.site.region))
    out = []
    for field, table, key in checks:
        try:
            catalog.get(table, key)
        except CatalogKeyError as exc:
            out.append({"field": field, "message": str(exc)})
    return out


def diff(a_text: str, b_text: str, a_label: str, b_label: str) -> str:
    """A unified diff between two versions' text."""
    return "".join(difflib.unified_diff(a_text.splitlines(keepends=True),
                                        b_text.splitlines(keepends=True),
                                        fromfile=a_label, tofile=b_label))


def sensitivity(plan: dict[str, Any]) -> str:
    """Why a plan is sensitive ("" when it is not): an accelerator the catalog classes under
    ECCN 3A090, or training compute that crosses a threshold in force."""
    gov = plan.get("governance") or {}
    reasons = [f"{a['accelerator']} is ECCN {a['eccn']}" for a in gov.get("accelerators") or []
               if str(a.get("eccn", "")).startswith("3A090")]
    reasons += [f"training compute crosses {c['instrument']} ({c['threshold_flop']:.0e} FLOP)"
                for c in gov.get("compute") or [] if c.get("crossed")]
    return "; ".join(reasons)


def headline(plan: dict[str, Any]) -> dict[str, float | None]:
    """The numbers a budget limits: facility power [W], GPU-hours, cost [USD], CO2e [kg]."""
    tr, en = plan.get("training") or {}, plan.get("energy") or {}
    site = plan.get("site") or {}

    def first(*vals: Any) -> float | None:
        for v in vals:
            if isinstance(v, int | float) and not isinstance(v, bool):
                return float(v)
        return None

    return {"facility_power_w": first(en.get("peak_facility_power_w"),
                                      en.get("facility_power_w"), tr.get("facility_power_w"),
                                      site.get("facility_power_w")),
            "gpu_hours": first(tr.get("gpu_hours")),
            "cost_usd": first(en.get("cost_usd_total"), tr.get("cost_usd_total"),
                              en.get("energy_cost_usd")),
            "co2e_kg": first(en.get("co2e_kg"), tr.get("co2e_kg"))}


BUDGET_KEYS = (("facility_power_w", "budget_facility_power_w"),
               ("gpu_hours", "budget_gpu_hours"), ("cost_usd", "budget_cost_usd"),
               ("co2e_kg", "budget_co2e_kg"))


def over_budget(numbers: dict[str, float | None], workspace: Any) -> list[str]:
    """The budget keys a run's numbers exceed."""
    out = []
    for key, col in BUDGET_KEYS:
        limit, value = getattr(workspace, col), numbers.get(key)
        if limit is not None and value is not None and value > limit:
            out.append(key)
    return out
