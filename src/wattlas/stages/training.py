"""The training stage: a scenario's training job → layout (given or searched), step time, MFU,
training time, and its energy under the scenario's energy and site inputs.

``wattlas train`` and ``wattlas plan`` both call :func:`training_stage` /
:func:`training_result`, so the two print the same numbers.
"""

from __future__ import annotations

from typing import Any

from ._plain import plain


def plan_dict(plan: Any) -> dict[str, Any]:
    """The contract's JSON keys of a TrainingPlan (SI units, unit-suffixed)."""
    from ..governance import compute_check

    lay = plan.layout
    return {
        "model": plan.job.model.id, "accelerator": plan.accelerator.id, "gpus": plan.gpus,
        "precision": plan.job.precision, "job": plan.job.job,
        "mfu": plan.mfu, "hfu": plan.hfu,
        "model_flop_per_s_per_gpu": plan.model_flop_per_s_per_gpu,
        "hardware_flop_per_s_per_gpu": plan.hardware_flop_per_s_per_gpu,
        "step_time_s": plan.step_time_s, "tokens_per_s": plan.tokens_per_s,
        "memory_per_gpu_bytes": plan.memory_per_gpu_bytes, "hbm_bytes": plan.hbm_bytes,
        "fits": plan.fits,
        "parallelism": {"tp": lay.tp, "pp": lay.pp, "dp": lay.dp, "cp": lay.cp, "ep": lay.ep,
                        "vpp": lay.vpp, "microbatch": lay.microbatch,
                        "recompute": lay.recompute, "zero": lay.zero,
                        "sequence_parallel": lay.sequence_parallel, "offload": lay.offload,
                        "etp": lay.etp, "dp_shard": lay.dp_shard},
        "steps": plan.steps, "model_flop_total": plan.model_flop_total,
        "training_time_s": plan.training_time_s, "gpu_hours": plan.gpu_hours,
        "goodput_frac": plan.goodput_frac,
        "software_year": plan.job.software_year,
        "stack_efficiency_frac": plan.job.stack_efficiency_frac,
        "power_cap_slowdown_frac": plan.power_cap_slowdown_frac,
        "breakdown_s": plan.breakdown_s, "memory_bytes": plan.memory_bytes,
        "governance": compute_check(plan.model_flop_total), "notes": plan.notes,
    }


def training_energy_report(plan: Any, scen: Any) -> Any:
    """Power, energy, carbon and cost of `plan` under the scenario's energy and site inputs."""
    from .. import energy, hardware

    hw = scen.hardware
    system = (hardware.system(hw.system) if hw is not None and hw.system
              else hardware.default_system(plan.accelerator.id))
    return energy.training_energy(plan, energy.inputs_from_scenario(scen), system)


def _cap_w(scen: Any) -> float | None:
    return scen.energy.power_cap_w if scen.energy is not None else None


def capped_with_report(plan: Any, scen: Any) -> tuple[Any, Any]:
    """(the uncapped `plan` with the scenario's power-cap slowdown applied by
    ``perf.training.step.capped_plan``, the EnergyReport that gives the slowdown)."""
    from ..perf.training.step import capped_plan

    report = training_energy_report(plan, scen)
    capped = capped_plan(plan, report.slowdown_frac, report.phase_time_factors, _cap_w(scen))
    return capped, report


def fixed_layout(scen: Any) -> dict[str, Any]:
    """Layout fields the scenario (or a flag) set explicitly: the search keeps them."""
    from ..perf.training.search import FIXABLE

    lay = scen.training.layout if scen.training is not None else None
    if lay is None:
        return {}
    return {k: getattr(lay, k) for k in FIXABLE
            if k in lay.model_fields_set and getattr(lay, k, None) is not None}


def search_result(scen: Any, allow_uneven_pp: bool = False, progress: bool = False) -> Any:
    """The layout search of a scenario (``--search``, or a plan without ``training.layout``): the
    fastest layout that fits on ``cluster.gpus``; with ``energy.power_cap_w`` the fastest under
    the cap (:func:`wattlas.perf.training.search.search_under_cap` with
    :func:`capped_with_report`), a
    note naming the uncapped-best layout when the cap changed the choice."""
    from dataclasses import asdict, replace

    from ..perf.training import step as tr
    from ..perf.training.search import search_layouts, search_under_cap

    job = tr.job_from_scenario(scen)
    acc, fabric = tr.hardware_from_scenario(scen)
    if scen.cluster is None:
        from ..errors import InputError

        raise InputError("--gpus (or cluster.gpus in the scenario) is needed")
    res = search_layouts(job, acc, scen.cluster.gpus, fabric,
                         allow_uneven_pp=allow_uneven_pp, progress=progress,
                         fixed=fixed_layout(scen))
    cap_w = _cap_w(scen)
    if cap_w is None:
        return res
    capped = search_under_cap(res, lambda p: capped_with_report(p, scen)[0])
    best, uncapped_best = capped.best, res.best
    if best.layout == uncapped_best.layout:
        return capped
    note = (f"power cap {cap_w:g} W: layout {layout_line(asdict(best.layout))} chosen over "
            f"uncapped-best {layout_line(asdict(uncapped_best.layout))}")
    return replace(capped, best=replace(best, notes=[*best.notes, note]))


def training_result(plan: Any, scen: Any) -> tuple[dict[str, Any], Any]:
    """(the train JSON keys, the EnergyReport) of the uncapped `plan` under the scenario's
    energy inputs. A power cap's slowdown (energy model) is applied to the plan first
    (``perf.training.step.capped_plan``), so step time, training time, GPU-hours, tokens/s, FLOP/s
    and MFU/HFU agree with the energy report's duration."""
    capped, report = capped_with_report(plan, scen)
    out = plan_dict(capped)
    out.update(report.as_keys())
    out["energy_summary"] = report.summary_lines()
    if scen.training.geo is not None:  # geo-distributed training (grid.geodist)
        from ..grid.geodist import geo_training

        out["geo"] = geo_training(capped, scen.training.geo, out["facility_power_w"])
    return out, report


def layout_line(p: dict[str, Any]) -> str:
    """'tp=8 pp=16 ... zero=1' of a parallelism dict, with ' sp=off' and ' offload=...' when
    they apply."""
    from ..report import layout_text

    layout = layout_text(p)
    if p.get("tp", 1) > 1 and not p.get("sequence_parallel", True):
        layout += " sp=off"
    if p.get("offload", "none") != "none":
        layout += f" offload={p['offload']}"
    return layout


def training_stage(scen: Any) -> tuple[dict[str, Any], Any]:
    """(the dict ``wattlas train SCENARIO --format json`` prints, the EnergyReport):
    :func:`training_result` (plan keys with a power cap applied, energy report) of the
    scenario's layout, or of the layout search (cap-aware) when the scenario gives no layout."""
    from ..perf.training import step as tr

    extra: dict[str, Any] = {}
    if scen.training.layout is None:
        from ..errors import ScenarioError

        if scen.cluster is None:
            raise ScenarioError("scenario: cluster.gpus is needed for a training plan")
        res = search_result(scen)
        plan = res.best
        extra = {"search_candidates": res.candidates, "search_time_s": res.time_s,
                 "search_feasible": res.feasible, "search_fixed": res.fixed}
    else:
        plan = tr.plan_from_scenario(scen)
    out, report = training_result(plan, scen)
    out.update(extra)
    return plain(out), report

