"""Compressed serving: distillation and structured pruning compared with the teacher.

The compressed model itself is a shape transform (:mod:`wattlas.workload.compression`) planned
by :func:`wattlas.perf.serving.plan.plan_serving` like any model; this module reads the
scenario's ``serving.distill_to`` / ``serving.prune`` and plans the teacher the same way, so the
output can state what the compression buys in J/token and tokens/s. The quality of the
compressed model is not modelled. Every public name is also importable from
:mod:`wattlas.perf.serving.roofline`.
"""

from __future__ import annotations

from typing import Any

from ...errors import InfeasibleError, InputError
from .plan import ServingPlan, plan_serving
from .roofline import ServingConfig


def compression_from_scenario(scen: Any) -> tuple[Any, Any, Any] | None:
    """(teacher, student before pruning, Prune or None) of the scenario's serving section:
    the student is ``serving.distill_to`` (a catalog id or inline shape) or the model itself;
    None when the section asks for neither distillation nor pruning."""
    from ...errors import CatalogKeyError
    from ...scenario import resolve_model
    from ...workload.compression import Prune

    sv = scen.serving
    distill = getattr(sv, "distill_to", None)
    pr = getattr(sv, "prune", None)
    prune = Prune(**pr.model_dump()) if pr is not None else None
    if prune is not None and prune.is_identity:
        prune = None
    if not distill and prune is None:
        return None
    teacher = resolve_model(scen.model)
    student = teacher
    if distill:
        try:
            student = resolve_model(distill)
        except CatalogKeyError as exc:
            raise InputError(f"serving.distill_to (--distill-to): {exc}") from None
    return teacher, student, prune


def compare_teacher(plan: ServingPlan, cfg: ServingConfig, teacher: Any,
                    prompt_tokens: int, output_tokens: int, batch: int | None = None,
                    rate_per_s: float | None = None, slo: dict[str, float] | None = None,
                    energy_inputs: Any = None, hours: float = 8760.0,
                    methods: tuple[str, ...] = (), pruned_from: Any = None) -> ServingPlan:
    """`plan` (of the compressed model, `cfg`) with a ``compression`` record and notes: the
    `teacher` planned the same way (accelerator, precision, engine, batch/rate/SLO) at the
    smallest TP from ``cfg.tp`` up (doubling, within the scale-up domain) where it fits, and the
    student ÷ teacher ratios of J/token, tokens/s, TPOT, weights and parameters. `pruned_from`
    (the shape before pruning) adds the fractions of it the pruned shape keeps. Quality of the
    student is not modelled."""
    from dataclasses import replace

    from ...workload import transformer as tf
    from ...workload.compression import kept_fracs

    student = cfg.model
    dom = max(cfg.accelerator.scaleup_domain or 1, cfg.tp)
    t_plan, reason, t = None, "", cfg.tp
    while t <= dom and t_plan is None:
        try:
            t_cfg = replace(cfg, model=teacher, tp=t)
            t_plan = plan_serving(t_cfg, prompt_tokens, output_tokens, batch=batch,
                                  rate_per_s=rate_per_s, slo=slo, energy_inputs=energy_inputs,
                                  hours=hours)
        except (InputError, InfeasibleError) as exc:
            reason = str(exc)
            t *= 2

    def shape(spec: Any, p: ServingPlan | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "model": spec.id, "params_total": tf.params_total(spec),
            "params_active": tf.params_active(spec),
            "kv_cache_per_token_bytes": tf.kv_cache_bytes_per_token(spec, cfg.kv)}
        if p is not None:
            out.update({k: getattr(p, k) for k in (
                "tp", "gpus", "batch", "max_batch", "weights_bytes", "ttft_s", "tpot_s",
                "output_tokens_per_s", "output_tokens_per_s_per_gpu", "energy_per_token_j")})
        return out

    rec: dict[str, Any] = {"methods": list(methods), "quality_modelled": False,
                           "teacher": shape(teacher, t_plan), "student": shape(student, plan)}
    if pruned_from is not None:
        rec["student"].update(kept_fracs(pruned_from, student))
    notes = list(plan.notes)
    n_s, n_t = tf.params_total(student), tf.params_total(teacher)
    shape_txt = ""
    if pruned_from is not None:
        ffn = student.moe_expert_ffn if student.is_moe else student.ffn
        shape_txt = (f"{student.layers} layers, {'expert ' if student.is_moe else ''}ffn {ffn}, "
                     f"{student.heads} heads / {student.n_kv_heads} KV heads; ")
    notes.append(f"{' + '.join(methods)}: serves {student.id} ({shape_txt}{n_s / 1e9:.3g} B "
                 f"params) in place of {teacher.id} ({n_t / 1e9:.3g} B); the quality of the "
                 "compressed model is not modelled")
    if t_plan is None:
        rec["teacher_note"] = reason
        notes.append(f"teacher {teacher.id} could not be planned on {cfg.accelerator.id} up to "
                     f"TP {dom}: {reason}")
    else:
        pairs = (("energy_per_token_j", plan.energy_per_token_j, t_plan.energy_per_token_j),
                 ("output_tokens_per_s", plan.output_tokens_per_s, t_plan.output_tokens_per_s),
                 ("output_tokens_per_s_per_gpu", plan.output_tokens_per_s_per_gpu,
                  t_plan.output_tokens_per_s_per_gpu),
                 ("tpot_s", plan.tpot_s, t_plan.tpot_s), ("ttft_s", plan.ttft_s, t_plan.ttft_s),
                 ("weights_bytes", plan.weights_bytes, t_plan.weights_bytes),
                 ("gpus", plan.gpus, t_plan.gpus), ("params_total", n_s, n_t))
        rec["vs_teacher"] = [{"metric": k, "ratio": float(a) / float(b)} for k, a, b in pairs]
        r = {x["metric"]: x["ratio"] for x in rec["vs_teacher"]}
        notes.append(f"vs teacher {teacher.id} (TP {t_plan.tp}, batch {t_plan.batch}: "
                     f"{t_plan.energy_per_token_j:.3g} J/token, "
                     f"{t_plan.output_tokens_per_s_per_gpu:,.0f} tokens/s per GPU): "
                     f"{r['energy_per_token_j']:.3g}× J/token, "
                     f"{r['output_tokens_per_s_per_gpu']:.3g}× tokens/s per GPU, "
                     f"{r['tpot_s']:.3g}× TPOT")
    return replace(plan, compression=rec, notes=tuple(notes))


def compression_methods(scen: Any) -> tuple[str, ...]:
    """Names of the compressions the scenario's serving section asks for, in the order they
    apply: ``distillation`` (serving.distill_to), then ``pruning`` (serving.prune)."""
    comp = compression_from_scenario(scen)
    if comp is None:
        return ()
    prune = comp[2]
    return tuple(m for m, on in (("distillation", bool(scen.serving.distill_to)),
                                 ("pruning", prune is not None)) if on)
