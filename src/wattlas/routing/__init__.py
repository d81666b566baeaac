"""Request-level routing across sites: events, sites, policies, metrics, simulator.

Public API: :func:`simulate_routing`, :func:`routing_from_scenario`, :class:`RoutingSpec`,
:class:`ServiceModel`, :class:`Site`, :data:`POLICIES`. See docs/routing.md.
Imports are lazy so that ``wattlas.routing.spec`` (used by the scenario schema) loads only
pydantic.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {"POLICIES": "policies", "Policy": "policies", "ServiceModel": "sites", "Site": "sites",
          "RoutingResult": "simulator", "routing_from_scenario": "simulator",
          "simulate_policy": "simulator", "simulate_routing": "simulator",
          "RoutingSpec": "spec"}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'wattlas.routing' has no attribute '{name}'")
