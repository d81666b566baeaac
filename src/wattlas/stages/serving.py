"""The serving stage: a scenario's serving section → TTFT, TPOT, tokens/s, replicas, J/token, and
the deployment's energy; with a search, the configuration with the lowest J/token (or $/Mtoken)
that meets the SLO.

``wattlas serve`` and ``wattlas plan`` both call these functions, so the two print the same
numbers.
"""

from __future__ import annotations

from typing import Any

from ._plain import plain


def plan_dict(plan: Any) -> dict[str, Any]:
    """The contract's JSON keys of a ServingPlan (SI units, unit-suffixed)."""
    keys = ("model", "accelerator", "engine", "precision", "kv_precision", "tp", "mode",
            "prompt_tokens", "output_tokens", "ttft_s", "tpot_s", "e2e_s",
            "output_tokens_per_s", "output_tokens_per_s_per_gpu", "batch", "max_batch",
            "max_batch_slo",
            "kv_cache_bytes", "weights_bytes", "energy_per_token_j", "energy_per_request_j",
            "energy_per_token_node_j", "energy_per_token_facility_j",
            "power_w", "gpus", "replicas", "rate_per_s", "bound", "decode_floor_s")
    out = {k: getattr(plan, k) for k in keys}
    for k in ("queue_wait_s", "prefill_s", "ttft_p99_s", "utilization_frac",
              "capacity_requests_per_s", "mean_power_w", "concurrency"):
        out[k] = getattr(plan, k, None)
    out["breakdown"] = dict(plan.breakdown)
    out["notes"] = list(plan.notes)
    if getattr(plan, "compression", None) is not None:
        out["compression"] = plan.compression
    rep = getattr(plan, "energy", None)
    if rep is not None:
        keys_e = rep.as_keys()
        # the deployment's facility J/token; the contract's energy_per_token_j stays GPU-level
        keys_e["deployment_energy_per_token_j"] = keys_e.pop("energy_per_token_j", None)
        keys_e["deployment_duration_s"] = rep.duration_s
        out.update(keys_e)
        out["energy_summary"] = rep.summary_lines()
    return out



def session_dict(sp: Any) -> dict[str, Any]:
    """The JSON keys of an agent session (``workload.serving.session_from_scenario``)."""
    return {"agent_calls": len(sp.calls), "session_latency_s": sp.latency_s,
            "session_model_time_s": sp.model_time_s, "session_tool_time_s": sp.tool_time_s,
            "session_prompt_tokens": sp.prompt_tokens, "session_output_tokens": sp.output_tokens,
            "session_energy_j": sp.energy_j,
            "session_energy_per_output_token_j": sp.energy_per_output_token_j,
            "session_calls": sp.calls}


def search_result(scen: Any, *, accelerator: str | None = None,
                  precisions: tuple[str, ...] = ("bf16", "fp8", "fp4", "int4"),
                  tps: tuple[int, ...] = (1, 2, 4, 8), hours: float = 8760.0
                  ) -> tuple[Any, dict[str, Any]]:
    """(the best ServingPlan, the search keys) of ``wattlas serve --search``: accelerator (every
    searchable one unless `accelerator` is given) × `precisions` × `tps` × batch, the lowest
    J/token (or $/Mtoken with ``energy.gpu_hour_price_usd``) that meets the scenario's SLO; a
    distilled or pruned student is compared with its teacher."""
    from .. import energy, hardware
    from ..perf.serving import compression as sc_
    from ..perf.serving import search as ss
    from ..perf.serving.roofline import DEFAULT_ENGINE
    from ..scenario import resolve_model

    s = scen.serving
    accs = [hardware.accelerator(accelerator)] if accelerator else ss.search_accelerators()
    slo = s.slo.model_dump(exclude_none=True) if s.slo else None
    comp = sc_.compression_from_scenario(scen)
    teacher, served, prune = comp if comp else (None, resolve_model(scen.model), None)
    inputs = energy.inputs_from_scenario(scen)
    res = ss.search_serving(served, accs, s.prompt_tokens, s.output_tokens,
                            rate_per_s=s.rate_per_s, slo=slo, precisions=precisions, tps=tps,
                            engine_id=s.engine or DEFAULT_ENGINE,
                            gpu_hour_usd=scen.energy.gpu_hour_price_usd
                            if scen.energy is not None else None,
                            energy_inputs=inputs, hours=hours, prune=prune)
    plan = res.best
    if comp is not None:
        plan = sc_.compare_teacher(plan, res.config, teacher, s.prompt_tokens, s.output_tokens,
                                   batch=None if s.rate_per_s else plan.batch,
                                   rate_per_s=s.rate_per_s, slo=slo, energy_inputs=inputs,
                                   hours=hours, methods=sc_.compression_methods(scen),
                                   pruned_from=served if prune is not None else None)
    extra = {"search_candidates": res.candidates, "search_feasible": res.feasible,
             "search_time_s": res.time_s, "search_objective": res.objective,
             "ranked": res.ranked}
    return plan, extra


def serving_result(plan: Any, scen: Any, extra: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    """The JSON keys ``wattlas serve`` prints for `plan`: :func:`plan_dict`, the search keys
    `extra` (:func:`search_result`), and the agent session's keys when the scenario describes
    one."""
    out = plan_dict(plan)
    out.update(extra or {})
    if scen.serving.agent is not None:
        from ..workload.serving import session_from_scenario

        out.update(session_dict(session_from_scenario(scen, plan)))
    return out


def serving_stage(scen: Any, hours: float = 8760.0) -> tuple[dict[str, Any], Any]:
    """(the dict ``wattlas serve SCENARIO --format json`` prints, the ServingPlan) of the
    scenario's serving section over `hours` of operation."""
    from ..perf.serving.scenario import plan_from_scenario

    if scen.serving.disaggregated is not None:  # prefill and decode pools (serve --disaggregated)
        from ..perf.serving.disagg import from_scenario

        out, deployment = from_scenario(scen, hours=hours)
        return plain(out), deployment
    plan = plan_from_scenario(scen, hours=hours)
    return plain(serving_result(plan, scen)), plan
