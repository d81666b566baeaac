"""A scenario's serving section → a ServingConfig and a ServingPlan.

Above the step model (:mod:`wattlas.perf.serving.roofline`), the replica plans
(:mod:`wattlas.perf.serving.plan`) and compression (:mod:`wattlas.perf.serving.compression`),
so none of those imports another upward: a distilled or pruned student is planned with
:func:`~wattlas.perf.serving.plan.plan_serving` and compared with its teacher here.
"""

from __future__ import annotations

from typing import Any

from ...errors import InputError
from .plan import ServingPlan, plan_serving
from .roofline import DEFAULT_ENGINE, ServingConfig


def config_from_scenario(scen: Any) -> ServingConfig:
    """A ServingConfig from a validated Scenario (model, hardware.accelerator/system,
    serving.* including sparsity, speculative decoding, distillation (``distill_to``: the
    student is served) and structured pruning (``prune``: the pruned shape at ``tp``))."""
    from ... import hardware
    from ...scenario import resolve_model
    from ...workload.compression import prune_model
    from .compression import compression_from_scenario

    if scen.serving is None:
        raise InputError("the scenario has no 'serving' section; give --prompt-tokens and "
                         "--output-tokens")
    if scen.model is None or scen.hardware is None or not scen.hardware.accelerator:
        raise InputError("serving needs a model (--model) and an accelerator (--accelerator)")
    acc = hardware.accelerator(scen.hardware.accelerator)
    sv = scen.serving
    fabric = system = None
    if scen.hardware.system or scen.hardware.nic_bytes_per_s:
        system = hardware.system(scen.hardware.system) if scen.hardware.system else None
        fabric = hardware.fabric_for(acc, system,
                                     scaleout_bytes_per_s=scen.hardware.nic_bytes_per_s)
    extra: dict[str, Any] = {}
    if getattr(sv, "draft", None):
        extra["draft"] = resolve_model(sv.draft)
        extra["spec_tokens"] = sv.spec_tokens
        extra["spec_acceptance_frac"] = sv.spec_acceptance_frac
    model = resolve_model(scen.model)
    comp = compression_from_scenario(scen)
    if comp is not None:
        _, model, prune = comp
        if prune is not None:
            model = prune_model(model, prune, sv.tp)
    return ServingConfig(model=model, accelerator=acc, tp=sv.tp,
                         precision=sv.precision, kv_precision=sv.kv_precision,
                         engine=sv.engine or DEFAULT_ENGINE, fabric=fabric, system=system,
                         sparsity_2_4=bool(getattr(sv, "sparsity_2_4", False)),
                         power_cap_w=getattr(sv, "power_cap_w", None), **extra)


def plan_from_scenario(scen: Any, hours: float = 8760.0) -> ServingPlan:
    """plan_serving on the scenario's serving section, with energy inputs from its energy and
    site sections (``energy.inputs_from_scenario``) over `hours` of operation."""
    from ... import energy

    cfg = config_from_scenario(scen)
    sv = scen.serving
    slo = sv.slo.model_dump(exclude_none=True) if sv.slo else None
    inputs = energy.inputs_from_scenario(scen)
    plan = plan_serving(cfg, sv.prompt_tokens, sv.output_tokens, batch=sv.batch,
                        rate_per_s=sv.rate_per_s, slo=slo, energy_inputs=inputs, hours=hours)
    from .compression import compare_teacher, compression_from_scenario, compression_methods

    comp = compression_from_scenario(scen)
    if comp is None:
        return plan
    teacher, student, prune = comp
    return compare_teacher(plan, cfg, teacher, sv.prompt_tokens, sv.output_tokens,
                           batch=sv.batch, rate_per_s=sv.rate_per_s, slo=slo,
                           energy_inputs=inputs, hours=hours,
                           methods=compression_methods(scen),
                           pruned_from=student if prune is not None else None)

