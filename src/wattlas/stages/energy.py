"""The energy stage: power by component, energy, carbon and cost of the plan's training run
(else its serving deployment), from the EnergyReport the training or serving stage returns."""

from __future__ import annotations

from typing import Any

from ._plain import plain

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
    return plain(out)


POWER_KEYS = ("it_power_w", "facility_power_w", "racks")


def stage_power(energy: dict[str, Any] | None) -> dict[str, Any]:
    """The energy stage's IT power [W], facility power [W] and racks (None where absent)."""
    return {k: (energy or {}).get(k) for k in POWER_KEYS}


def scenario_power(scen: Any) -> dict[str, Any]:
    """:func:`stage_power` of the scenario's energy stage as :func:`wattlas.plan.run_plan`
    computes it: the training run's (:func:`~wattlas.stages.training.training_stage`), else
    the serving deployment's (:func:`~wattlas.stages.serving.serving_stage`)."""
    report = None
    if scen.training is not None:
        from .training import training_stage

        report = training_stage(scen)[1]
    elif scen.serving is not None:
        from .serving import serving_stage

        report = serving_stage(scen)[1].energy
    return stage_power(energy_section(report) if report is not None else None)

