"""Search serving configurations (accelerator × precision × TP × batch) under an SLO.

Split from :mod:`wattlas.perf.serving.roofline`; :func:`search_serving` and
:func:`search_accelerators` stay importable from there. Every batch of a configuration is
evaluated at once with numpy on the one capacity model
(:func:`wattlas.perf.serving.plan.steady_state`, as :func:`plan_serving` uses it); with a
rate, every row's TTFT includes the queue wait of its replicas' share (``queue_wait_s``).
The first :data:`REPLANNED` ranked rows are then re-planned with :func:`plan_serving` and
re-ranked, so the first row and the headline print the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InfeasibleError, InputError
from ...hardware import Accelerator
from ...workload.compression import Prune, prune_model
from ...workload.transformer import ModelSpec
from .plan import (
    ARRIVAL_CV2,
    SERVICE_CV2,
    ServingPlan,
    capacity_per_s,
    decode_floor_s,
    meets_slo,
    plan_serving,
    queue_wait_s,
    steady_state,
)
from .roofline import (
    DEFAULT_ENGINE,
    ServingConfig,
    max_batch,
    mixed_parts,
    parts_power_w,
)

#: ranked rows re-planned with plan_serving and re-ranked (the best among them is the
#: headline); the other rows keep the vectorised estimate (integer batch, same queue wait)
REPLANNED = 3


@dataclass(frozen=True)
class ServingSearch:
    """Result of :func:`search_serving`: the best plan, ranked candidates and timing."""

    best: ServingPlan
    ranked: list[dict[str, Any]]
    candidates: int
    feasible: int
    time_s: float
    objective: str
    #: the configuration of `best` (its model pruned at its TP when the search prunes)
    config: ServingConfig | None = None


def _candidate_batches(mb: int) -> np.ndarray:
    """Batch sizes evaluated per configuration: every size up to 64, then a geometric grid."""
    small = np.arange(1, min(mb, 64) + 1)
    big = np.unique(np.geomspace(64, max(mb, 64), 96).astype(int)) if mb > 64 else []
    return np.unique(np.concatenate([small, big, [mb]])).astype(float)


def search_serving(model: ModelSpec, accelerators: list[Accelerator], prompt_tokens: int,
                   output_tokens: int, rate_per_s: float | None = None,
                   slo: dict[str, float] | None = None,
                   precisions: tuple[str, ...] = ("bf16", "fp8", "fp4", "int4"),
                   tps: tuple[int, ...] = (1, 2, 4, 8), engine_id: str = DEFAULT_ENGINE,
                   gpu_hour_usd: float | None = None, energy_inputs: Any = None,
                   hours: float = 8760.0, prune: Prune | None = None) -> ServingSearch:
    """Cheapest configuration (accelerator × precision × TP × batch) meeting the SLO.

    Every batch of a configuration is evaluated at once with numpy. Ranked by J/token (GPU
    boundary) or by $/Mtoken when a GPU-hour price is given; ties go to fewer GPUs. The best
    is re-planned with :func:`plan_serving` (queueing, energy report with `energy_inputs`).
    With `prune`, each TP width serves `model` pruned at that width
    (:func:`wattlas.workload.compression.prune_model`).
    """
    import time

    t0 = time.perf_counter()
    slo = {k: v for k, v in (slo or {}).items() if v}
    n_out = float(output_tokens)
    rows: list[dict[str, Any]] = []
    n_cand = 0
    reasons: list[str] = []
    for acc in accelerators:
        # an fp16-only part (V100) serves 16-bit weights in fp16
        precs = dict.fromkeys("fp16" if p == "bf16" and not acc.supports("bf16") else p
                              for p in precisions)
        for prec in precs:
            for tp in tps:
                try:
                    m = prune_model(model, prune, tp) if prune is not None else model
                    cfg = ServingConfig(m, acc, tp=tp, precision=prec, engine=engine_id)
                    mb = max_batch(cfg, prompt_tokens + n_out)
                except InputError:
                    continue
                if mb < 1:
                    reasons.append(f"{acc.id} {prec} tp{tp}: does not fit")
                    continue
                bs = _candidate_batches(mb)
                n_cand += bs.size
                # a rate means open-loop Poisson arrivals, as in plan_serving's rate mode
                poisson = bool(rate_per_s)
                point = steady_state(cfg, bs, prompt_tokens, output_tokens, poisson)
                step, tpot, ttft, e2e = (point[k] for k in ("step_s", "tpot_s", "ttft_s",
                                                             "e2e_s"))
                ok = meets_slo(slo, ttft, tpot, e2e)
                if not ok.any():
                    continue
                parts = mixed_parts(cfg, bs, prompt_tokens, output_tokens, poisson)
                power = parts_power_w(cfg, parts)
                j_tok = power * e2e / bs / n_out  # W / (requests/s) / OSL
                tps_rep = point["output_tokens_per_s"]
                wait = np.zeros(bs.shape)
                replicas = np.ones_like(bs)
                if rate_per_s:
                    # replicas sized at the largest SLO batch; each then runs at the smallest
                    # batch that carries its share of the rate (plan_serving refines it)
                    i_slo = int(np.flatnonzero(ok)[-1])
                    n_rep = math.ceil(rate_per_s * n_out / tps_rep[i_slo] - 1e-12)
                    carry = ok & (tps_rep * n_rep >= rate_per_s * n_out * (1 - 1e-9))
                    replicas = np.full(bs.shape, float(n_rep))
                    cap = float(capacity_per_s(cfg, prompt_tokens, output_tokens))
                    wait = np.full(bs.shape, queue_wait_s(rate_per_s / n_rep, 1.0 / cap, 1,
                                                          ARRIVAL_CV2, SERVICE_CV2))
                    if "ttft_s" in slo:
                        carry &= ttft + wait <= slo["ttft_s"]
                    if not carry.any():
                        continue
                    i = int(np.flatnonzero(carry)[0])
                gpus = replicas * tp
                usd = (gpus * gpu_hour_usd / 3600.0 / (rate_per_s * n_out) * 1e6
                       if gpu_hour_usd and rate_per_s else
                       tp * gpu_hour_usd / 3600.0 / tps_rep * 1e6 if gpu_hour_usd else None)
                score = usd if usd is not None else j_tok
                if not rate_per_s:
                    i = int(np.argmin(np.where(ok, score, np.inf)))
                rows.append({"accelerator": acc.id, "precision": prec, "tp": tp,
                             "batch": int(bs[i]), "ttft_s": float(ttft[i] + wait[i]),
                             "queue_wait_s": float(wait[i]),
                             "tpot_s": float(tpot[i]), "output_tokens_per_s": float(tps_rep[i]),
                             "replicas": int(replicas[i]), "gpus": int(gpus[i]),
                             "energy_per_token_j": float(j_tok[i]),
                             "usd_per_mtoken": None if usd is None else float(usd[i]),
                             "_score": float(score[i]), "_cfg": cfg})
    if not rows:
        floor = min((decode_floor_s(ServingConfig(model, a, tp=max(tps), precision="fp8"))
                     for a in accelerators if a.supports("fp8")), default=float("nan"))
        raise InfeasibleError(
            f"no accelerator × precision × TP × batch meets the SLO {slo} for {model.id} "
            f"({len(reasons)} configurations do not fit); best decode floor {floor * 1e3:.2f} ms "
            "per token: relax the SLO or allow more TP")
    rows.sort(key=lambda r: (r["_score"], r["gpus"]))
    # the rows shown first are re-planned with plan_serving, so a row and the headline of the
    # same configuration print the same numbers (TTFT with the queue wait of its rate)
    planned: list[tuple[dict[str, Any], ServingPlan]] = []
    for r in rows[:REPLANNED]:
        try:
            p = plan_serving(r["_cfg"], prompt_tokens, output_tokens,
                             batch=None if rate_per_s else r["batch"], rate_per_s=rate_per_s,
                             slo=slo, energy_inputs=energy_inputs, hours=hours)
        except InfeasibleError:
            continue
        usd = (p.gpus * gpu_hour_usd / 3600.0 / (p.replicas * p.output_tokens_per_s) * 1e6
               if gpu_hour_usd else None)
        r.update(batch=p.batch, ttft_s=p.ttft_s, queue_wait_s=p.queue_wait_s, tpot_s=p.tpot_s,
                 output_tokens_per_s=p.output_tokens_per_s, replicas=p.replicas, gpus=p.gpus,
                 energy_per_token_j=p.energy_per_token_j, usd_per_mtoken=usd,
                 _score=usd if usd is not None else p.energy_per_token_j)
        planned.append((r, p))
    if not planned:
        raise InfeasibleError(
            f"no configuration meets the SLO {slo} for {model.id} once queueing at "
            f"{rate_per_s} req/s is counted; relax the TTFT SLO")
    planned.sort(key=lambda rp: (rp[0]["_score"], rp[0]["gpus"]))
    shown = [r for r, _ in planned]
    rows = shown + rows[REPLANNED:]
    top, best = planned[0]
    ranked = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    return ServingSearch(best=best, ranked=ranked, candidates=n_cand, feasible=len(rows),
                         time_s=time.perf_counter() - t0,
                         objective="usd_per_mtoken" if gpu_hour_usd else "energy_per_token_j",
                         config=top["_cfg"])


def search_accelerators() -> list[Accelerator]:
    """Catalog accelerators with the HBM, bandwidth and TDP a serving plan needs."""
    from ... import catalog, hardware

    out = []
    for row in catalog.rows("accelerators"):
        acc = hardware.accelerator(row["id"])
        if (acc.hbm_bytes and acc.hbm_bytes_per_s and acc.tdp_w
                and (acc.supports("bf16") or acc.supports("fp16"))):
            out.append(acc)
    return out
