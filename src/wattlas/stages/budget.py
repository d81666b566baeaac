"""The budget stage: a facility power, GPU count or FLOP budget → GPUs, FLOP budget and the
Chinchilla-optimal model (:mod:`wattlas.energy.budget`); ``wattlas train`` in budget mode and
``wattlas plan`` both call :func:`budget_stage`."""

from __future__ import annotations

from typing import Any


def budget_stage(scen: Any) -> dict[str, Any]:
    """The JSON keys of the scenario's budget sizing (the ``budget`` section of ``plan.json``)."""
    from ..energy.budget import sizing_from_scenario

    return sizing_from_scenario(scen).as_keys()
