"""Search serving configurations (accelerator × precision × TP × batch) under an SLO.

Split from :mod:`wattlas.perf.inference`; :func:`search_serving` and
:func:`search_accelerators` stay importable from there. Every batch of a configuration is
evaluated at once with numpy (the same step, TTFT and power functions as
:func:`wattlas.perf.serving_plan.plan_serving`, without queueing: the best configuration is
then re-planned with :func:`plan_serving`, which adds the queue wait of its rate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InfeasibleError, InputError
from ..hardware import Accelerator
from ..workload.compression import Prune, prune_model
from ..workload.transformer import ModelSpec
from .inference import (
    DEFAULT_ENGINE,
    ServingConfig,
    max_batch,
    mixed_parts,
    mixed_step_time_s,
    parts_power_w,
    tokens_per_step,
)
from .serving_plan import ServingPlan, decode_floor_s, plan_serving, ttft_under_load_s


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
                step = mixed_step_time_s(cfg, bs, prompt_tokens, output_tokens, poisson)
                tpot = step / tokens_per_step(cfg)
                ttft = ttft_under_load_s(cfg, bs, prompt_tokens, output_tokens,
                                         poisson_arrivals=poisson)
                e2e = ttft + n_out * tpot
                ok = np.ones(bs.shape, dtype=bool)
                if "tpot_s" in slo:
                    ok &= tpot <= slo["tpot_s"]
                if "ttft_s" in slo:
                    ok &= ttft <= slo["ttft_s"]
                if "e2e_s" in slo:
                    ok &= e2e <= slo["e2e_s"]
                if not ok.any():
                    continue
                parts = mixed_parts(cfg, bs, prompt_tokens, output_tokens, poisson)
                power = parts_power_w(cfg, parts)
                j_tok = power * step / tokens_per_step(cfg) / bs
                tps_rep = bs * n_out / e2e
                replicas = np.ceil(rate_per_s * n_out / tps_rep) if rate_per_s else np.ones_like(bs)
                gpus = replicas * tp
                usd = (gpus * gpu_hour_usd / 3600.0 / (rate_per_s * n_out) * 1e6
                       if gpu_hour_usd and rate_per_s else
                       tp * gpu_hour_usd / 3600.0 / tps_rep * 1e6 if gpu_hour_usd else None)
                score = usd if usd is not None else j_tok
                score = np.where(ok, score, np.inf)
                i = int(np.argmin(score))
                if rate_per_s:
                    # replicas sized at the largest SLO batch; each then runs at the smallest
                    # batch that carries its share of the rate (what plan_serving reports)
                    i_slo = int(np.flatnonzero(ok)[-1])
                    n_rep = math.ceil(rate_per_s * n_out / tps_rep[i_slo])
                    carry = ok & (tps_rep * n_rep >= rate_per_s * n_out * (1 - 1e-9))
                    i = int(np.flatnonzero(carry)[0])
                    replicas = np.full(bs.shape, float(n_rep))
                    gpus = replicas * tp
                    if usd is not None:
                        usd = gpus * gpu_hour_usd / 3600.0 / (rate_per_s * n_out) * 1e6
                    score = usd if usd is not None else j_tok
                rows.append({"accelerator": acc.id, "precision": prec, "tp": tp,
                             "batch": int(bs[i]), "ttft_s": float(ttft[i]),
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
    top = rows[0]
    best = plan_serving(top["_cfg"], prompt_tokens, output_tokens,
                        batch=None if rate_per_s else top["batch"], rate_per_s=rate_per_s,
                        slo=slo, energy_inputs=energy_inputs, hours=hours)
    ranked = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    return ServingSearch(best=best, ranked=ranked, candidates=n_cand, feasible=len(rows),
                         time_s=time.perf_counter() - t0,
                         objective="usd_per_mtoken" if gpu_hour_usd else "energy_per_token_j",
                         config=top["_cfg"])


def search_accelerators() -> list[Accelerator]:
    """Catalog accelerators with the HBM, bandwidth and TDP a serving plan needs."""
    from .. import catalog, hardware

    out = []
    for row in catalog.rows("accelerators"):
        acc = hardware.accelerator(row["id"])
        if (acc.hbm_bytes and acc.hbm_bytes_per_s and acc.tdp_w
                and (acc.supports("bf16") or acc.supports("fp16"))):
            out.append(acc)
    return out
