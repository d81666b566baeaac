"""The governance stage: training compute against the thresholds of the compute-threshold
catalog, and the export-control class of every accelerator the scenario uses or compares."""

from __future__ import annotations

import dataclasses
from typing import Any

from ._plain import plain


def governance_stage(scen: Any, training: dict[str, Any] | None) -> dict[str, Any]:
    """Training compute vs thresholds and the export-control class of the accelerators used or
    compared."""
    from .. import catalog, governance, hardware

    accs = []
    if scen.hardware is not None and scen.hardware.accelerator:
        accs.append(scen.hardware.accelerator)
    for alt in scen.compare.hardware if scen.compare is not None else []:
        accs.append(alt.accelerator or hardware.system(alt.system).accelerator)
    for s in (get_field(scen.routing, "sites") or []) if scen.routing is not None else []:
        if get_field(s, "accelerator"):
            accs.append(get_field(s, "accelerator"))
    accs = list(dict.fromkeys(accs))
    out: dict[str, Any] = {"accelerators": [
        dataclasses.asdict(governance.classify(catalog.get("accelerators", a))) for a in accs]}
    if training is not None:
        out["training_compute_flop"] = training["model_flop_total"]
        out["compute"] = governance.compute_check(training["model_flop_total"])
    return plain(out)


def get_field(obj: Any, name: str) -> Any:
    """`name` of a mapping or an object (routing sites and users come as either)."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)

