"""Prefill/decode disaggregation: separate prefill and decode pools, the KV-cache hand-off
between them, and the prefill:decode ratio that serves a rate under an SLO with the fewest GPUs.

A request is prefilled on a GPU of the prefill pool, its KV cache is sent to the decode pool
(RDMA over the NIC, or NVLink when both pools sit in one scale-up domain), and it decodes there
(Splitwise, Patel et al. 2024; DistServe, Zhong et al. 2024; SGLang's PD disaggregation). Each
pool runs only its own phase, so each is a steady stream of like steps::

    prefill:  x_P = T / t_prefill(T)                 input tokens/s per GPU, T tokens per GPU step
    decode:   y_D = b · τ / t_decode(b, ISL + OSL/2)   output tokens/s per GPU, τ tokens per step
    capacity  = min(P · x_P / ISL,  D · y_D / OSL)       requests/s
    TTFT₀     = ⌈ISL / T⌉·t_prefill(T) + t_KV + t_decode(b)      (no queueing)
    TPOT      = t_decode(b) / τ
    t_KV      = ISL · kv_bytes_per_token / (senders · B_link) + α

Dense models run TP replicas of ``cfg.tp`` GPUs in both pools (the step model of
:mod:`wattlas.perf.serving.roofline`, one replica = tp GPUs, rates divided by tp); MoE models with
``ep`` run EP groups (:mod:`wattlas.perf.serving.moe`). The KV link carries the prefill pool's
whole KV output: its utilisation ``ISL·kv_bytes·λ / (P·B_link)`` must stay ≤ 1, else the
prefill rate is cut to what the link carries (a physical bound, not a fitted one).

KV transfer energy: over the NIC, the network's share per GPU (``energy.NETWORK_W_PER_GPU``)
for the transfer time of each sender; over NVLink none beyond the node's host power, which the
node boundary already counts. GPU energy per pool: device power at the step's activity
(:func:`wattlas.perf.serving.roofline.activity_frac`, ``energy.device_power_w``).

References
----------
* P. Patel et al., "Splitwise: Efficient Generative LLM Inference Using Phase Splitting",
  ISCA 2024.
* Y. Zhong et al., "DistServe: Disaggregating Prefill and Decoding for Goodput-optimized Large
  Language Model Serving", OSDI 2024 (per-phase SLOs, P:D ratio search).
* The SGLang Team, lmsys.org blog 2025-05-05 (PD disaggregation with RDMA KV transfer on 96
  H100: prefill EP32, decode EP72).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import InfeasibleError, InputError
from ...workload import transformer as tf
from . import moe
from . import roofline as inf


@dataclass(frozen=True)
class DisaggPlan:
    """A disaggregated deployment (SI units; rates per GPU of each pool unless named)."""

    model: str
    accelerator: str
    precision: str
    kv_precision: str
    prompt_tokens: int
    output_tokens: int
    prefill_gpus: int
    decode_gpus: int
    ep: int | None
    dp_attention: bool
    prefill_tokens_per_gpu: float
    decode_batch_per_gpu: float
    prefill_input_tokens_per_s_per_gpu: float
    output_tokens_per_s_per_gpu: float
    prefill_requests_per_s: float
    decode_requests_per_s: float
    capacity_requests_per_s: float
    bottleneck: str
    ttft_s: float
    tpot_s: float
    e2e_s: float
    kv_link: str
    kv_bytes_per_request: float
    kv_transfer_s: float
    kv_transfer_energy_j: float
    kv_link_utilization_frac: float
    prefill_power_w: float
    decode_power_w: float
    energy_per_token_j: float
    gpus: int
    pd_ratio: float
    notes: tuple[str, ...] = ()
    breakdown: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        out = asdict(self)
        out["notes"] = list(self.notes)
        return out


def _moe_parallel(cfg: inf.ServingConfig, pool_gpus: int, ep: int | None, dp_attention: bool,
                  two_batch_overlap: bool) -> moe.MoEParallel | None:
    if not cfg.model.is_moe or not ep:
        return None
    e = min(ep, pool_gpus)
    if pool_gpus % e:
        raise InputError(f"--ep {ep}: must divide each pool (here {pool_gpus} GPUs)")
    draft = cfg.spec_tokens if cfg.draft is not None else 0
    return moe.MoEParallel(ep=e, dp_attention=dp_attention, two_batch_overlap=two_batch_overlap,
                           draft_tokens=draft,
                           acceptance_frac=cfg.spec_acceptance_frac if draft else 0.0)


def _check_pool(cfg: inf.ServingConfig, gpus: int, flag: str, par) -> None:
    if not isinstance(gpus, int) or gpus < 1:
        raise InputError(f"{flag} {gpus!r}: must be a positive integer")
    if par is None and gpus % cfg.tp:
        raise InputError(f"{flag} {gpus}: must be a multiple of --tp {cfg.tp} (one replica "
                         "is tp GPUs)")


def kv_bytes_per_request(cfg: inf.ServingConfig, prompt_tokens: int) -> float:
    """KV-cache bytes one prompt hands to the decode pool [bytes] (the whole model's cache of
    `prompt_tokens` tokens at the KV precision; a draft's cache is rebuilt on the decode side)."""
    return float(prompt_tokens) * tf.kv_cache_bytes_per_token(cfg.model, cfg.kv)


def kv_link(cfg: inf.ServingConfig, prefill_gpus: int, decode_gpus: int) -> tuple[str, float,
                                                                                   float]:
    """(link name, bandwidth per sending GPU [bytes/s], latency [s]) of the KV hand-off: NVLink
    when both pools fit in one scale-up domain, else the NIC."""
    fab = cfg.fab
    if prefill_gpus + decode_gpus <= (fab.scaleup_domain or 1) and fab.scaleup_domain > 1:
        return "nvlink", float(fab.scaleup_bytes_per_s), float(fab.scaleup_latency_s)
    return "nic", float(fab.scaleout_bytes_per_s), float(fab.scaleout_latency_s)


def _prefill(cfg, par, tokens_per_gpu: float, prompt_tokens: int):
    """(input tokens/s per GPU, step time [s], parts) of the prefill pool."""
    if par is not None:
        parts = moe.step_parts(cfg, par, tokens_per_gpu, prompt_tokens / 2.0, 0.0, False)
        t = float(parts["time_s"])
        return tokens_per_gpu / t, t, parts
    per_replica = tokens_per_gpu * cfg.tp
    parts = inf._step(cfg, per_replica, prompt_tokens / 2.0, 0.0, per_replica)
    t = float(parts["time_s"])
    return per_replica / t / cfg.tp, t, parts


def _decode(cfg, par, batch_per_gpu: float, context: float):
    """(output tokens/s per GPU, step time [s], TPOT [s], parts) of the decode pool."""
    if par is not None:
        t = float(moe.decode_step_s(cfg, par, batch_per_gpu, context))
        parts = moe.step_parts(cfg, par, batch_per_gpu * (1 + par.draft_tokens), context,
                               batch_per_gpu * context, True)
        tau = moe.tokens_per_step(par)
        return batch_per_gpu * tau / t, t, t / tau, parts
    b = batch_per_gpu * cfg.tp
    t = float(inf.decode_step_time_s(cfg, b, context))
    tau = inf.tokens_per_step(cfg)
    parts = inf.decode_parts(cfg, b, context)
    return b * tau / t / cfg.tp, t, t / tau, parts


def max_decode_batch_per_gpu(cfg: inf.ServingConfig, par, context_tokens: float) -> float:
    """Largest decode batch per GPU whose KV cache at `context_tokens` fits [sequences]."""
    if par is not None:
        return float(moe.max_sequences_per_gpu(cfg, par, context_tokens))
    return inf.max_batch(cfg, context_tokens) / cfg.tp


def _power_w(cfg: inf.ServingConfig, parts: dict, basis: str = "modeled") -> float:
    """Power of one GPU running steps with `parts` [W]."""
    a = inf.activity_frac({k: np.asarray(parts[k], dtype=float)
                           for k in ("compute_s", "memory_s", "time_s")}, cfg)
    return float(inf.device_power_w(cfg.accelerator, a, basis))


def plan_disaggregated(cfg: inf.ServingConfig, prompt_tokens: int, output_tokens: int,
                       prefill_gpus: int, decode_gpus: int, ep: int | None = None,
                       dp_attention: bool = False, two_batch_overlap: bool | None = None,
                       prefill_tokens_per_gpu: float | None = None,
                       decode_batch_per_gpu: float | None = None,
                       decode_context_tokens: float | None = None,
                       slo: dict[str, float] | None = None) -> DisaggPlan:
    """Serve `prompt_tokens` → `output_tokens` requests on `prefill_gpus` + `decode_gpus`.

    ``ep`` (MoE only): EP group size in each pool (capped by the pool); ``dp_attention``: each
    GPU owns its sequences' attention. ``two_batch_overlap`` defaults to on for EP across
    nodes. ``prefill_tokens_per_gpu``: tokens per GPU per prefill step (default
    inference.CHUNK_TOKENS); ``decode_batch_per_gpu``: sequences per decode GPU (default the
    largest that fits at ISL + OSL and meets ``slo['tpot_s']``); ``decode_context_tokens``:
    the mean KV length of a decode step (default ISL + OSL/2)."""
    if prompt_tokens < 1 or output_tokens < 1:
        raise InputError(f"prompt/output tokens {prompt_tokens}/{output_tokens}: must be ≥ 1")
    if ep is not None and not cfg.model.is_moe:
        raise InputError(f"--ep {ep}: {cfg.model.id} has no experts; expert parallelism needs "
                         "a MoE model")
    if ep is not None and (not isinstance(ep, int) or ep < 1):
        raise InputError(f"--ep {ep!r}: must be a positive integer")
    if dp_attention and ep is None:
        raise InputError("--dp-attention needs --ep E (attention data-parallel inside an "
                         "expert-parallel group)")
    dom = cfg.accelerator.scaleup_domain or 1
    tbo = bool(ep and ep > dom) if two_batch_overlap is None else bool(two_batch_overlap)
    p_par = _moe_parallel(cfg, prefill_gpus, ep, dp_attention, tbo)
    d_par = _moe_parallel(cfg, decode_gpus, ep, dp_attention, tbo)
    _check_pool(cfg, prefill_gpus, "--prefill-gpus", p_par)
    _check_pool(cfg, decode_gpus, "--decode-gpus", d_par)
    slo = {k: v for k, v in (slo or {}).items() if v}
    notes: list[str] = []
    isl, osl = int(prompt_tokens), int(output_tokens)
    full = isl + osl
    ctx = float(decode_context_tokens) if decode_context_tokens else isl + osl / 2.0
    # decode pool: the batch that fits (and meets the TPOT SLO)
    b_fit = max_decode_batch_per_gpu(cfg, d_par, full)
    if b_fit < 1.0 / (1 if d_par is not None else cfg.tp):
        raise InfeasibleError(f"{cfg.model.id} at {cfg.precision} leaves no room for one "
                              f"sequence of {full} tokens on a decode GPU of "
                              f"{cfg.accelerator.id}; add --ep, raise --tp or lower the "
                              "precision")
    if decode_batch_per_gpu is not None:
        if decode_batch_per_gpu <= 0:
            raise InputError(f"decode batch per GPU {decode_batch_per_gpu}: must be > 0")
        if decode_batch_per_gpu > b_fit + 1e-9:
            raise InfeasibleError(f"decode batch {decode_batch_per_gpu:g} per GPU needs more KV "
                                  f"cache than fits ({b_fit:g} sequences of {full} tokens)")
        b = float(decode_batch_per_gpu)
    else:
        b = float(b_fit)
        if "tpot_s" in slo:
            grid = np.unique(np.concatenate([np.arange(1.0, b_fit + 1.0),
                                             [b_fit]])) if d_par is not None else \
                np.arange(1, inf.max_batch(cfg, full) + 1) / cfg.tp
            ok = [g for g in grid if _decode(cfg, d_par, float(g), ctx)[2] <= slo["tpot_s"]]
            if not ok:
                raise InfeasibleError(f"no decode batch meets TPOT ≤ {slo['tpot_s'] * 1e3:.1f} "
                                      f"ms on {cfg.accelerator.id}; relax the SLO, add --ep or "
                                      "raise --tp")
            b = float(max(ok))
    y, t_dec, tpot, d_parts = _decode(cfg, d_par, b, ctx)
    # prefill pool
    # default: one engine token budget (CHUNK_TOKENS) per step of a replica or EP-group GPU
    t_tok = float(prefill_tokens_per_gpu
                  or (inf.CHUNK_TOKENS if p_par is not None else inf.CHUNK_TOKENS / cfg.tp))
    if t_tok <= 0:
        raise InputError(f"prefill tokens per GPU {t_tok:g}: must be > 0")
    x, t_pre, p_parts = _prefill(cfg, p_par, t_tok, isl)
    # KV hand-off
    link, bw, alpha = kv_link(cfg, prefill_gpus, decode_gpus)
    kv_b = kv_bytes_per_request(cfg, isl)
    senders = 1 if (p_par is not None and p_par.dp_attention) else \
        (cfg.tp if p_par is None else min(p_par.ep, dom))
    t_kv = kv_b / (senders * bw) + alpha
    pre_rps = prefill_gpus * x / isl
    link_cap_rps = prefill_gpus * bw / kv_b
    util = pre_rps / link_cap_rps
    if util > 1.0:
        notes.append(f"the KV link ({link}) carries {link_cap_rps:.3g} req/s, below the "
                     f"prefill pool's {pre_rps:.3g}: prefill is capped at the link")
        pre_rps = link_cap_rps
        x = pre_rps * isl / prefill_gpus
        util = 1.0
    dec_rps = decode_gpus * y / osl
    cap = min(pre_rps, dec_rps)
    bottleneck = "prefill" if pre_rps < dec_rps else "decode"
    steps_per_prompt = max(math.ceil(isl / (t_tok * (cfg.tp if p_par is None else 1))), 1)
    ttft = steps_per_prompt * t_pre + t_kv + t_dec
    e2e = ttft + (osl - 1) * tpot
    kv_energy = 0.0
    if link == "nic":
        from ...energy import NETWORK_W_PER_GPU

        kv_energy = t_kv * senders * NETWORK_W_PER_GPU
    missed = [k for k, v in slo.items() if {"ttft_s": ttft, "tpot_s": tpot,
                                             "e2e_s": e2e}.get(k, 0.0) > v]
    if missed:
        notes.append(f"misses the SLO on {', '.join(missed)}")
    # energy per output token at the balanced load: both pools run at their share of cap
    p_w, d_w = _power_w(cfg, p_parts), _power_w(cfg, d_parts)
    idle = float(inf.device_power_w(cfg.accelerator, 0.0))
    p_busy = cap / (prefill_gpus * x / isl) if x > 0 else 0.0
    d_busy = cap / dec_rps if dec_rps > 0 else 0.0
    power = (prefill_gpus * (p_busy * p_w + (1 - p_busy) * idle)
             + decode_gpus * (d_busy * d_w + (1 - d_busy) * idle))
    e_tok = (power + cap * kv_energy) / (cap * osl)
    bd = {f"prefill_{k}": float(np.asarray(v)) for k, v in p_parts.items() if k.endswith("_s")}
    bd.update({f"decode_{k}": float(np.asarray(v)) for k, v in d_parts.items()
               if k.endswith("_s")})
    return DisaggPlan(
        model=cfg.model.id, accelerator=cfg.accelerator.id, precision=cfg.precision,
        kv_precision=cfg.kv, prompt_tokens=isl, output_tokens=osl,
        prefill_gpus=int(prefill_gpus), decode_gpus=int(decode_gpus), ep=ep,
        dp_attention=bool(dp_attention), prefill_tokens_per_gpu=t_tok,
        decode_batch_per_gpu=b, prefill_input_tokens_per_s_per_gpu=float(x),
        output_tokens_per_s_per_gpu=float(y), prefill_requests_per_s=float(pre_rps),
        decode_requests_per_s=float(dec_rps), capacity_requests_per_s=float(cap),
        bottleneck=bottleneck, ttft_s=float(ttft), tpot_s=float(tpot), e2e_s=float(e2e),
        kv_link=link, kv_bytes_per_request=float(kv_b), kv_transfer_s=float(t_kv),
        kv_transfer_energy_j=float(kv_energy), kv_link_utilization_frac=float(util),
        prefill_power_w=p_w, decode_power_w=d_w, energy_per_token_j=float(e_tok),
        gpus=int(prefill_gpus + decode_gpus), pd_ratio=prefill_gpus / decode_gpus,
        notes=tuple(notes), breakdown=bd)


def _pool_sizes(need_gpus: float, unit: int, group: int | None) -> list[int]:
    """Candidate pool sizes near `need_gpus`: whole units (a TP replica, or a node for a MoE
    pool), and above one EP group whole groups."""
    out = set()
    for f in (1.0, 1.25, 1.5, 2.0):
        n = max(math.ceil(need_gpus * f / unit), 1) * unit
        if group and n > group:
            n = math.ceil(n / group) * group
        out.add(n)
    return sorted(out)


def search_pd_ratio(cfg: inf.ServingConfig, prompt_tokens: int, output_tokens: int,
                    rate_per_s: float, slo: dict[str, float] | None = None,
                    ep: int | None = None, dp_attention: bool = False,
                    max_gpus: int = 4096) -> DisaggPlan:
    """The prefill and decode pool sizes that carry `rate_per_s` under `slo` with the fewest
    GPUs (ties: lower J/token). Each pool is sized from its own per-GPU rate (DistServe's
    per-phase sizing) in whole replicas (tp GPUs) or, for MoE with ``ep``, whole nodes up to one
    EP group and whole groups beyond; candidates around that size are planned exactly."""
    if rate_per_s <= 0:
        raise InputError(f"--rate {rate_per_s}: must be > 0 requests/s")
    moe_pool = bool(ep and cfg.model.is_moe)
    unit = min(cfg.accelerator.scaleup_domain or 1, ep) if moe_pool else cfg.tp
    probe_n = ep if moe_pool else cfg.tp
    probe = plan_disaggregated(cfg, prompt_tokens, output_tokens, probe_n, probe_n, ep=ep,
                               dp_attention=dp_attention, slo=slo)
    need_p = rate_per_s * prompt_tokens / probe.prefill_input_tokens_per_s_per_gpu
    need_d = rate_per_s * output_tokens / probe.output_tokens_per_s_per_gpu
    group = ep if moe_pool else None
    best: DisaggPlan | None = None
    for p in _pool_sizes(need_p, unit, group):
        for d in _pool_sizes(need_d, unit, group):
            if p + d > max_gpus:
                continue
            try:
                plan = plan_disaggregated(cfg, prompt_tokens, output_tokens, p, d, ep=ep,
                                          dp_attention=dp_attention, slo=slo)
            except InfeasibleError:
                continue
            if plan.capacity_requests_per_s < rate_per_s or any(
                    n.startswith("misses") for n in plan.notes):
                continue
            key = (plan.gpus, plan.energy_per_token_j)
            if best is None or key < (best.gpus, best.energy_per_token_j):
                best = plan
    if best is None:
        raise InfeasibleError(f"no prefill/decode split of at most {max_gpus} GPUs carries "
                              f"{rate_per_s:g} req/s under {slo or 'no SLO'}")
    return best


def compare_with_aggregated(cfg: inf.ServingConfig, prompt_tokens: int, output_tokens: int,
                            rate_per_s: float, slo: dict[str, float] | None = None,
                            ep: int | None = None, dp_attention: bool = False
                            ) -> list[dict[str, Any]]:
    """Rows comparing aggregated serving (continuous batching, :func:`plan_serving`) and the
    cheapest disaggregated split for the same rate and SLO: GPUs, TTFT, TPOT, J/token."""
    from .plan import plan_serving

    rows = []
    try:
        agg = plan_serving(cfg, prompt_tokens, output_tokens, rate_per_s=rate_per_s, slo=slo)
        rows.append({"mode": "aggregated", "gpus": agg.gpus, "prefill_gpus": None,
                     "decode_gpus": None, "ttft_s": agg.ttft_s, "tpot_s": agg.tpot_s,
                     "energy_per_token_j": agg.energy_per_token_j})
    except (InfeasibleError, InputError) as err:
        rows.append({"mode": "aggregated", "infeasible": str(err)})
    try:
        dis = search_pd_ratio(cfg, prompt_tokens, output_tokens, rate_per_s, slo, ep=ep,
                              dp_attention=dp_attention)
        rows.append({"mode": "disaggregated", "gpus": dis.gpus,
                     "prefill_gpus": dis.prefill_gpus, "decode_gpus": dis.decode_gpus,
                     "ttft_s": dis.ttft_s, "tpot_s": dis.tpot_s,
                     "energy_per_token_j": dis.energy_per_token_j})
    except (InfeasibleError, InputError) as err:
        rows.append({"mode": "disaggregated", "infeasible": str(err)})
    return rows


@dataclass(frozen=True)
class DisaggDeployment:
    """The disaggregated serving stage's record: the plan, its configuration and the
    deployment's EnergyReport (what ``wattlas plan`` hands to the energy and siting stages)."""

    plan: DisaggPlan
    config: inf.ServingConfig
    energy: Any


def pools_power_w(cfg: inf.ServingConfig, plan: DisaggPlan, load_requests_per_s: float
                  ) -> float:
    """Mean power of both pools' GPUs [W] at `load_requests_per_s`: each GPU at its step power
    for the share of time its pool is busy (load / pool capacity), at idle otherwise."""
    idle = float(inf.device_power_w(cfg.accelerator, 0.0))
    p_busy = min(load_requests_per_s / plan.prefill_requests_per_s, 1.0)
    d_busy = min(load_requests_per_s / plan.decode_requests_per_s, 1.0)
    return (plan.prefill_gpus * (p_busy * plan.prefill_power_w + (1 - p_busy) * idle)
            + plan.decode_gpus * (d_busy * plan.decode_power_w + (1 - d_busy) * idle))


def from_scenario(scen: Any, search: bool = False, hours: float = 8760.0
                  ) -> tuple[dict[str, Any], Any]:
    """The disaggregated plan of a scenario's ``serving.disaggregated`` section as a dict
    (JSON keys with unit suffixes; ``prefill_input_tokens_per_s_per_gpu`` and
    ``output_tokens_per_s_per_gpu`` for the two pools). With ``serving.rate_per_s`` it adds the
    load against the capacity; ``search`` adds ``comparison`` (aggregated vs the cheapest
    disaggregated split for that rate and SLO, :func:`compare_with_aggregated`). Returns
    (that dict, a :class:`DisaggDeployment` whose EnergyReport covers `hours` with both pools
    at the offered rate, or at capacity without one; the report's keys are in the dict as
    ``wattlas serve`` prints them)."""
    from ... import energy
    from .plan import deployment_energy
    from .scenario import config_from_scenario

    sv = scen.serving
    d = sv.disaggregated
    cfg = config_from_scenario(scen)
    slo = sv.slo.model_dump(exclude_none=True) if sv.slo else None
    plan = plan_disaggregated(cfg, sv.prompt_tokens, sv.output_tokens, d.prefill_gpus,
                              d.decode_gpus, ep=d.ep, dp_attention=d.dp_attention,
                              two_batch_overlap=d.two_batch_overlap,
                              prefill_tokens_per_gpu=d.prefill_tokens_per_gpu, slo=slo)
    out: dict[str, Any] = {"mode": "disaggregated", "engine": cfg.eng.id, **plan.as_dict()}
    rate = sv.rate_per_s
    out["rate_per_s"] = rate
    if rate:
        util = rate / plan.capacity_requests_per_s
        out["utilization_frac"] = util
        if util >= 1.0:
            out["notes"].append(f"the offered {rate:g} req/s exceeds the pools' capacity "
                                f"{plan.capacity_requests_per_s:.3g} req/s ({plan.bottleneck} "
                                "bound): the queue grows without bound")
    if search:
        if not rate:
            raise InputError("--search with --disaggregated compares deployments for a load: "
                             "give --rate R (requests/s)")
        out["comparison"] = compare_with_aggregated(cfg, sv.prompt_tokens, sv.output_tokens,
                                                    rate, slo, ep=d.ep,
                                                    dp_attention=d.dp_attention)
    load = min(rate, plan.capacity_requests_per_s) if rate else plan.capacity_requests_per_s
    power = pools_power_w(cfg, plan, load)
    out["mean_power_w"] = power
    report = deployment_energy(cfg, plan.gpus, power / plan.gpus * cfg.tp,
                               load * sv.output_tokens, energy.inputs_from_scenario(scen), hours)
    keys = report.as_keys()
    keys["deployment_energy_per_token_j"] = keys.pop("energy_per_token_j", None)
    keys["deployment_duration_s"] = report.duration_s
    out.update(keys)
    out["energy_summary"] = report.summary_lines()
    return out, DisaggDeployment(plan=plan, config=cfg, energy=report)
