"""Racks of a plan from the system's form factor: power density and space, whichever binds.

A rack product (GB200 NVL72, a SuperPOD rack of four DGX H100) holds a fixed number of
accelerators: racks = ⌈GPUs / accelerators per rack⌉. Nodes (servers) are packed into racks
by both limits:

    nodes per rack = min(⌊rack power limit / node power⌋, ⌊rack units / node rack units⌋)

* rack power limit [W]: the region's published rack density for the cooling class, else the
  cooling class's planning default (``physics.DEFAULT_RACK_W``). The cooling class is the
  system's own where the catalog says it is air-cooled: an air-cooled server cannot be put in a
  liquid-cooled rack budget.
* rack units: a 42U rack (:data:`RACK_UNITS`, a planning assumption named in the defaults);
  node rack units and weight from ``data/systems.csv`` (``node_rack_units``,
  ``node_weight_kg``: DGX H100 8U, 130.45 kg, NVIDIA DGX H100/H200 User Guide, Table 2).

So 10 DGX H100 (8U, 10.2 kW, air-cooled) need two racks of five (5 × 8U = 40U ≤ 42U), not one
88 kW rack.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .physics import DEFAULT_RACK_W

#: usable rack units of one rack (planning assumption: the common 42U 19-inch rack; one rack
#: unit is 44.45 mm, EIA-310)
RACK_UNITS = 42


@dataclass(frozen=True)
class RackLayout:
    """How a plan's accelerators fill racks.

    racks: rack count; nodes_per_rack: nodes in a full rack (None for rack products);
    limit_w: rack power limit used [W]; bound: "product" | "power" | "space" (what set the
    nodes per rack); rack_weight_kg: weight of a full rack's nodes where the catalog has it.
    """

    racks: int
    nodes_per_rack: int | None
    limit_w: float | None
    bound: str
    cooling: str
    rack_weight_kg: float | None = None
    defaults: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def rack_cooling(system: Any, cooling: str) -> str:
    """The cooling class racks are planned for: air where the system is air-cooled."""
    if system is not None and getattr(system, "cooling", None) == "air":
        return "air"
    return cooling


def rack_layout(gpus: int, peak_it_w: float, system: Any, cooling: str,
                region_rack_w: float | None = None) -> RackLayout:
    """Racks for `gpus` accelerators drawing `peak_it_w` [W] IT power in all, built as
    `system` (None: 8-GPU nodes of unknown form factor), under `cooling`, in a region hosting
    racks up to `region_rack_w` [W] (None: the cooling default)."""
    per_rack = system.accelerators_per_rack if system is not None else None
    if per_rack:
        racks = math.ceil(gpus / per_rack)
        w = getattr(system, "rack_weight_kg", None)
        return RackLayout(racks, None, getattr(system, "rack_max_power_w", None), "product",
                          rack_cooling(system, cooling), rack_weight_kg=w,
                          notes=[f"racks: {racks:,} × {system.id} ({per_rack} accelerators "
                                 "each)"])
    cool = rack_cooling(system, cooling)
    defaults: list[str] = []
    notes: list[str] = []
    if system is not None and getattr(system, "rack_max_power_w", None):
        limit = float(system.rack_max_power_w)
    elif region_rack_w:
        limit = float(region_rack_w)
    else:
        limit = DEFAULT_RACK_W[cool]
        defaults.append(f"rack limit {limit / 1e3:g} kW ({cool} default)")
    if cool != cooling:
        notes.append(f"racks planned as air-cooled: {system.id} is an air-cooled system")
    n_node = system.accelerators_per_node if system and system.accelerators_per_node else 8
    nodes = math.ceil(gpus / n_node)
    node_w = peak_it_w / gpus * n_node
    by_power = int(limit / node_w * (1 + 1e-9)) if node_w > 0 else nodes  # round-off
    node_u = getattr(system, "node_rack_units", None) if system is not None else None
    by_space = RACK_UNITS // int(node_u) if node_u else None
    if node_u:
        defaults.append(f"rack height {RACK_UNITS}U (a common 19-inch rack)")
    elif system is not None:
        notes.append(f"rack units of {system.id} not in the catalog: racks from power only")
    if by_power < 1:
        racks = math.ceil(peak_it_w / limit)
        notes.append(f"a node ({node_w / 1e3:.1f} kW) exceeds the rack limit "
                     f"{limit / 1e3:g} kW")
        return RackLayout(racks, None, limit, "power", cool, defaults=defaults, notes=notes)
    per = by_power if by_space is None else min(by_power, by_space)
    bound = "space" if by_space is not None and by_space < by_power else "power"
    racks = math.ceil(nodes / per)
    weight = getattr(system, "node_weight_kg", None) if system is not None else None
    rack_kg = per * float(weight) if weight else None
    what = system.id if system is not None else f"{n_node}-accelerator node"
    notes.append(f"racks: {racks:,} × up to {per} {what} ({bound} binds: "
                 f"{by_power} by {limit / 1e3:g} kW / {node_w / 1e3:.1f} kW"
                 + (f", {by_space} by {RACK_UNITS}U / {int(node_u)}U" if by_space else "")
                 + ")")
    return RackLayout(racks, per, limit, bound, cool, rack_weight_kg=rack_kg, defaults=defaults,
                      notes=notes)
