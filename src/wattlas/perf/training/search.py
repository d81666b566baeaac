"""Layout search: every valid (tp, pp, dp, cp, ep, vpp, micro-batch, recompute, ZeRO) for a GPU
count, evaluated at once on numpy arrays with :func:`wattlas.perf.training.step.evaluate` (the same
formulas as a single plan), the best by step time and a Pareto table of step time vs memory
headroom. Under a per-GPU power cap :func:`search_under_cap` re-ranks a shortlist (the fastest
uncapped layouts and the Pareto front) by their capped step time.

Enumeration rules: tp·pp·dp·cp = GPUs; tp ≤ the scale-up domain and divides the heads (and the
kv heads, or is a multiple of them); pp divides the layers (unless ``allow_uneven_pp``); vpp
divides layers/pp; cp divides the sequence; ep divides dp·cp (MoE only); the micro-batch divides
the per-replica batch; recompute none/selective/full; ZeRO 0–3; sequence parallelism on and off
when tp > 1; optimizer offload to the host only when no layout fits without it (memory tight) and
the host link bandwidth is known.

Fixed dimensions: any layout field given in ``fixed`` (what the user set on the command line or
in the scenario: tp, pp, dp, cp, ep, etp, vpp, micro-batch, recompute, ZeRO, offload, sequence
parallelism) keeps its value and the search covers the rest; the result names them
(``SearchResult.fixed``) and the best plan says so in a note.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ...errors import InfeasibleError
from ...hardware import Accelerator, Fabric, fabric_for
from ...units import GIB
from ..codes import SEARCHED_RECOMPUTE
from .software import available
from .step import (
    FIELDS,
    OFFLOAD_CODE,
    RECOMPUTE_CODE,
    Layout,
    TrainingJob,
    TrainingPlan,
    build_plan,
    evaluate,
    job_shape,
    layout_rules,
)

_RC_NAMES = {v: k for k, v in RECOMPUTE_CODE.items()}
_OFF_NAMES = {v: k for k, v in OFFLOAD_CODE.items()}
CHUNK = 131_072
TIGHT_MIN_FEASIBLE = 1  # fewer fitting layouts than this: also enumerate optimizer offload
SHORTLIST_N = 64  # fastest uncapped layouts re-ranked under a power cap (with the Pareto front)
#: layout fields a user may fix for the search (the rest are searched)
FIXABLE = ("tp", "pp", "dp", "cp", "ep", "etp", "vpp", "microbatch", "recompute", "zero",
           "offload", "sequence_parallel", "flash_attention", "dp_shard")


@dataclass(frozen=True)
class SearchResult:
    best: TrainingPlan
    candidates: int
    time_s: float
    pareto: list[dict[str, Any]] = field(default_factory=list)
    feasible: int = 0
    # the SHORTLIST_N fastest fitting layouts, then the rest of the Pareto front; best first
    shortlist: tuple[Layout, ...] = ()
    #: layout fields the search kept at the user's value (field → value)
    fixed: dict[str, Any] = field(default_factory=dict)


def _divisors(n: int) -> list[int]:
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return small + [n // d for d in reversed(small) if d * d != n]


def _plausible_gpu_counts(job: TrainingJob, fabric: Fabric, lo: int, hi: int) -> np.ndarray:
    """Every GPU count in [lo, hi] of the form tp·cp·pp·dp the layout rules could accept
    (tp ≤ the scale-up domain, cp ≤ 64 dividing the sequence, pp ≤ layers, dp dividing the
    global batch), sorted: a superset of the counts that have a valid layout."""
    counts = np.array([1], dtype=np.int64)
    for factors in (range(1, fabric.scaleup_domain + 1),
                    [c for c in _divisors(job.seq_len) if c <= 64],
                    range(1, job.model.layers + 1),
                    _divisors(job.global_batch)):
        counts = np.unique(np.multiply.outer(counts, np.asarray(factors, dtype=np.int64)))
        counts = counts[counts <= hi]
    return counts[counts >= lo]


def check_fixed(fixed: dict[str, Any] | None) -> dict[str, Any]:
    """The fixed layout fields with None values dropped; an unknown field is an InputError."""
    from ...errors import InputError

    out = {k: v for k, v in (fixed or {}).items() if v is not None}
    unknown = sorted(set(out) - set(FIXABLE))
    if unknown:
        raise InputError(f"search: cannot fix layout field(s) {', '.join(unknown)}; allowed "
                         f"{', '.join(FIXABLE)}")
    return out


def fixed_text(fixed: dict[str, Any]) -> str:
    """'tp=8 pp=16 recompute=full' of the fixed fields, in FIXABLE order."""
    return " ".join(f"{k}={str(fixed[k]).lower() if isinstance(fixed[k], bool) else fixed[k]}"
                    for k in FIXABLE if k in fixed)


def nearest_valid_gpus(job: TrainingJob, gpus: int, fabric: Fabric,
                       allow_uneven_pp: bool = False, fixed: dict[str, Any] | None = None,
                       span_frac: float = 0.5) -> list[int]:
    """The nearest GPU count below and above `gpus` (within ±`span_frac`) on which at least one
    layout passes the rules (memory not checked): what to try when `gpus` has none."""
    def valid(n: int) -> bool:
        return len(enumerate_layouts(job, n, fabric, allow_uneven_pp, fixed=fixed)["tp"]) > 0

    span = max(1, int(gpus * span_frac))
    counts = _plausible_gpu_counts(job, fabric, max(1, gpus - span + 1), gpus + span)
    below = next((int(n) for n in counts[counts < gpus][::-1] if valid(int(n))), None)
    above = next((int(n) for n in counts[counts > gpus] if valid(int(n))), None)
    return [n for n in (below, above) if n is not None]


def enumerate_layouts(job: TrainingJob, gpus: int, fabric: Fabric,
                      allow_uneven_pp: bool = False, recompute: tuple[str, ...] | None = None,
                      zero: tuple[int, ...] | None = None, offload: tuple[str, ...] = ("none",),
                      fixed: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
    """All candidate layouts as arrays (one per Layout field), already filtered by the rules.

    Sequence parallelism is enumerated on and off for tp > 1 (off only for tp = 1), each
    `offload` choice for every layout. A field in `fixed` takes only its given value (the
    layout rules still apply to it)."""
    m = job.model
    fx = check_fixed(fixed)
    divs = _divisors(gpus)

    def only(name: str, values: list[int]) -> list[int]:
        return [int(fx[name])] if name in fx else values

    tps = only("tp", [t for t in divs if t <= fabric.scaleup_domain])
    cps = only("cp", [c for c in divs if job.seq_len % c == 0 and c <= 64])
    pps = only("pp", [p for p in divs if p <= m.layers])
    rows = []
    for tp, cp, pp in itertools.product(tps, cps, pps):
        if gpus % (tp * cp * pp):
            continue
        dp = gpus // (tp * cp * pp)
        if job.global_batch % dp or ("dp" in fx and dp != fx["dp"]):
            continue
        per_rep = job.global_batch // dp
        mbs = only("microbatch", [b for b in (1, 2, 4, 8, 16) if per_rep % b == 0])
        if pp > 1 and m.layers % pp == 0:
            vpps = [v for v in (1, 2, 3, 4, 6, 8) if (m.layers // pp) % v == 0]
        elif pp > 1 and allow_uneven_pp:
            # the heaviest stage sets the pace: interleave only where it stays at
            # ⌈layers/pp⌉ layers (no virtual stage padded beyond the plain uneven split)
            top = -(-m.layers // pp)
            vpps = [v for v in (1, 2, 3, 4, 6, 8)
                    if pp * v <= m.layers and -(-m.layers // (pp * v)) * v <= top]
        else:
            vpps = [1]
        vpps = only("vpp", vpps)
        # the experts of a stage are split over ep·etp of its tp·dp·cp ranks (etp = tp unless
        # fixed otherwise)
        etp = int(fx.get("etp") or tp)
        e_ranks = tp * dp * cp // etp if (tp * dp * cp) % etp == 0 else 0
        eps = [e for e in _divisors(e_ranks) if e <= (m.moe_experts or 1)
               and (m.moe_experts or 1) % e == 0] if m.is_moe and e_ranks else [1]
        for ep, vpp, mb in itertools.product(only("ep", eps), vpps, mbs):
            rows.append((tp, pp, dp, cp, ep, vpp, mb))
    if not rows:
        return {k: np.zeros(0, dtype=int) for k in FIELDS}
    base = np.array(rows, dtype=np.int64)
    if "recompute" in fx:
        recompute = (fx["recompute"],)
    if "zero" in fx:
        zero = (int(fx["zero"]),)
    if "offload" in fx:
        offload = (fx["offload"],)
    rcs = np.array([RECOMPUTE_CODE[r] for r in (recompute or SEARCHED_RECOMPUTE)])
    zs = np.array(zero if zero is not None else (0, 1, 2, 3))
    n_b, n_r, n_z = len(base), len(rcs), len(zs)
    idx = np.repeat(np.arange(n_b), n_r * n_z)
    arr = {k: base[idx, i] for i, k in enumerate(("tp", "pp", "dp", "cp", "ep", "vpp",
                                                  "microbatch"))}
    arr["recompute"] = np.tile(np.repeat(rcs, n_z), n_b)
    arr["zero"] = np.tile(zs, n_b * n_r)
    # sequence parallel on/off where tp > 1, then each offload choice
    sp_rep = np.where(arr["tp"] > 1, 2, 1)
    arr = {k: np.repeat(v, sp_rep) for k, v in arr.items()}
    starts = np.concatenate([[0], np.cumsum(sp_rep)[:-1]])
    sp_on = np.zeros(len(arr["tp"]), dtype=bool)
    sp_on[starts] = arr["tp"][starts] > 1  # first copy: SP on (tp > 1), second copy: SP off
    arr["sequence_parallel"] = sp_on
    offs = np.array([OFFLOAD_CODE[o] for o in offload])
    n_o = len(offs)
    arr = {k: np.repeat(v, n_o) for k, v in arr.items()}
    arr["offload"] = np.tile(offs, len(arr["tp"]) // n_o)
    n = len(arr["tp"])
    arr["flash_attention"] = np.full(n, bool(fx.get(
        "flash_attention", available("flash_attention", job.software_year))))
    # hybrid sharding only where asked for (dp_shard fixed); else shard over all dp·cp ranks
    arr["dp_shard"] = np.full(n, int(fx.get("dp_shard", 0)))
    arr["etp"] = np.full(n, int(fx.get("etp", 0)))
    ok = np.ones(n, dtype=bool)
    if "sequence_parallel" in fx:
        ok &= arr["sequence_parallel"] == (bool(fx["sequence_parallel"]) & (arr["tp"] > 1))
    for rule_ok in layout_rules(job_shape(job), arr, gpus, allow_uneven_pp).values():
        ok &= np.asarray(rule_ok, dtype=bool)
    return {k: v[ok] for k, v in arr.items()}


def _layout_at(arr: dict[str, np.ndarray], i: int) -> Layout:
    return Layout(tp=int(arr["tp"][i]), pp=int(arr["pp"][i]), dp=int(arr["dp"][i]),
                  cp=int(arr["cp"][i]), ep=int(arr["ep"][i]), vpp=int(arr["vpp"][i]),
                  microbatch=int(arr["microbatch"][i]),
                  recompute=_RC_NAMES[int(arr["recompute"][i])], zero=int(arr["zero"][i]),
                  sequence_parallel=bool(arr["sequence_parallel"][i]),
                  flash_attention=bool(arr["flash_attention"][i]),
                  offload=_OFF_NAMES[int(arr["offload"][i])],
                  dp_shard=int(arr["dp_shard"][i]) if "dp_shard" in arr else 0,
                  etp=int(arr["etp"][i]) if "etp" in arr else 0)


def evaluate_many(job: TrainingJob, acc: Accelerator, fabric: Fabric,
                  arr: dict[str, np.ndarray], progress: bool = False
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(step_time_s, memory_per_gpu_bytes) of every layout in `arr`, in chunks; a rich progress
    bar appears when `progress` and the run is expected to take more than 1 s."""
    n = len(arr["tp"])
    shape = job_shape(job)
    times, mems = np.empty(n), np.empty(n)
    bar = None
    t0 = time.perf_counter()
    try:
        for start in range(0, n, CHUNK):
            sl = slice(start, min(n, start + CHUNK))
            out = evaluate(job, acc, fabric, {k: v[sl] for k, v in arr.items()}, shape=shape)
            times[sl] = out["step_time_s"]
            mems[sl] = out["memory_per_gpu_bytes"]
            done = sl.stop
            if progress and bar is None and done < n:
                rate = done / max(time.perf_counter() - t0, 1e-9)
                if (n - done) / rate > 1.0:
                    from rich.progress import Progress

                    bar = Progress(transient=True)
                    bar.start()
                    task = bar.add_task("searching layouts", total=n, completed=done)
            if bar is not None:
                bar.update(task, completed=done)
    finally:
        if bar is not None:
            bar.stop()
    return times, mems


def plan_at(job: TrainingJob, accelerator: Accelerator, fabric: Fabric, layout: Layout,
            gpus: int) -> TrainingPlan:
    """The plan of one searched layout (an uneven pipeline said in its notes)."""
    out = evaluate(job, accelerator, fabric, layout.arrays())
    notes = []
    if job.model.layers % (layout.pp * layout.vpp):
        notes.append(f"uneven pipeline: {job.model.layers} layers over "
                     f"{layout.pp * layout.vpp} stages")
    return build_plan(job, accelerator, fabric, layout, gpus, out, notes=notes)


def _pareto_row(layout: Layout, step_s: float, memory_bytes: float,
                hbm_bytes: float) -> dict[str, Any]:
    return {"tp": layout.tp, "pp": layout.pp, "dp": layout.dp, "cp": layout.cp,
            "ep": layout.ep, "vpp": layout.vpp, "microbatch": layout.microbatch,
            "recompute": layout.recompute, "zero": layout.zero,
            "sequence_parallel": layout.sequence_parallel, "offload": layout.offload,
            "dp_shard": layout.dp_shard, "etp": layout.etp, "step_time_s": float(step_s),
            "memory_per_gpu_bytes": float(memory_bytes),
            "headroom_bytes": float(hbm_bytes - memory_bytes)}


def pareto_front(step_s: np.ndarray, headroom_bytes: np.ndarray) -> np.ndarray:
    """Indices of layouts no other beats on both step time (lower) and headroom (higher),
    ordered by step time."""
    order = np.lexsort((-headroom_bytes, step_s))
    front, best_head = [], -np.inf
    for i in order:
        if headroom_bytes[i] > best_head:
            front.append(i)
            best_head = headroom_bytes[i]
    return np.array(front, dtype=int)


def fixed_note(fixed: dict[str, Any]) -> str:
    """The plan note of a search with fixed dimensions."""
    return (f"layout searched with {fixed_text(fixed)} fixed (given by the user); the other "
            "dimensions searched")


def search_layouts(job: TrainingJob, accelerator: Accelerator, gpus: int,
                   fabric: Fabric | None = None, allow_uneven_pp: bool = False,
                   recompute: tuple[str, ...] | None = None, zero: tuple[int, ...] | None = None,
                   progress: bool = False, pareto_max: int = 20,
                   fixed: dict[str, Any] | None = None) -> SearchResult:
    """The fastest layout that fits, the number of candidates evaluated and a Pareto table.
    Fields in `fixed` keep their value (the search covers the others)."""
    t0 = time.perf_counter()
    fabric = fabric or fabric_for(accelerator)
    fx = check_fixed(fixed)
    kept = f" with {fixed_text(fx)} fixed" if fx else ""
    arr = enumerate_layouts(job, gpus, fabric, allow_uneven_pp, recompute, zero, fixed=fx)
    n = len(arr["tp"])
    if n == 0:
        from ...errors import InputError

        hint = ("; free some of them (drop the flag or the scenario's training.layout field)"
                if fx else "")
        near = nearest_valid_gpus(job, gpus, fabric, allow_uneven_pp, fx)
        near_text = (f"; nearest GPU counts with a valid layout: {', '.join(map(str, near))}"
                     if near else "")
        raise InputError(f"no valid layout of {gpus} GPUs for {job.model.id}{kept}: check "
                         "that the global batch, heads and layers share factors with the GPU "
                         f"count{near_text}{hint}")
    times, mems = evaluate_many(job, accelerator, fabric, arr, progress)
    hbm = accelerator.require("hbm_bytes")
    fits = mems <= hbm
    host_bw = fabric.host_link_bytes_per_s or accelerator.host_link_bytes_per_s
    if fits.sum() < TIGHT_MIN_FEASIBLE and host_bw and "offload" not in fx:
        # memory is tight: also try moving the optimizer states to the host
        more = enumerate_layouts(job, gpus, fabric, allow_uneven_pp, recompute, zero,
                                 offload=("optimizer",), fixed=fx)
        t2, m2 = evaluate_many(job, accelerator, fabric, more, progress)
        arr = {k: np.concatenate([arr[k], more[k]]) for k in arr}
        times, mems = np.concatenate([times, t2]), np.concatenate([mems, m2])
        fits = mems <= hbm
        n = len(times)
    if not fits.any():
        i = int(np.argmin(mems))
        lay = _layout_at(arr, i)
        fix = ("free some fixed dimensions, add GPUs or use a larger-memory accelerator"
               if fx else "add GPUs or use a larger-memory accelerator")
        raise InfeasibleError(
            f"no layout of {gpus} GPUs{kept} fits: the smallest needs {mems[i] / GIB:.1f} GiB "
            f"per GPU (tp={lay.tp} pp={lay.pp} cp={lay.cp} zero={lay.zero} "
            f"recompute={lay.recompute}) but {accelerator.id} has {hbm / GIB:.0f} GiB; {fix}")
    idx_fit = np.flatnonzero(fits)
    best_i = int(idx_fit[np.argmin(times[idx_fit])])
    best = plan_at(job, accelerator, fabric, _layout_at(arr, best_i), gpus)
    if fx:
        best = replace(best, notes=[*best.notes, fixed_note(fx)])
    front_all = idx_fit[pareto_front(times[idx_fit], hbm - mems[idx_fit])]
    front = front_all[:pareto_max]
    table = [_pareto_row(_layout_at(arr, int(i)), times[i], mems[i], hbm) for i in front]
    k = min(SHORTLIST_N, len(idx_fit))
    top = idx_fit[np.argpartition(times[idx_fit], k - 1)[:k]]
    top = top[np.lexsort((top, times[top]))]
    short = [best_i, *(int(i) for i in top if i != best_i)][:k]
    seen = set(short)
    short += [int(i) for i in front_all if int(i) not in seen]
    return SearchResult(best=best, candidates=n, time_s=time.perf_counter() - t0, pareto=table,
                        feasible=int(fits.sum()),
                        shortlist=tuple(_layout_at(arr, i) for i in short), fixed=fx)


def search_under_cap(res: SearchResult, capped: Callable[[TrainingPlan], TrainingPlan],
                     pareto_max: int = 20) -> SearchResult:
    """`res` re-ranked under a power cap: every shortlisted layout's plan goes through `capped`
    (uncapped plan → capped plan: the energy model's phase slowdowns applied by
    ``perf.training.step.capped_plan``), and the best is the least capped step time, returned as its
    uncapped plan (the caller applies the cap once, as to any plan); ties keep the uncapped
    order. The Pareto table is capped step time vs headroom over the shortlist, each row with its
    ``uncapped_step_time_s``; ``time_s`` includes the re-ranking."""
    t0 = time.perf_counter()
    b = res.best
    plans = [plan_at(b.job, b.accelerator, b.fabric, lay, b.gpus) for lay in res.shortlist]
    capped_s = np.array([capped(p).step_time_s for p in plans])
    i = int(np.argmin(capped_s))
    best = b if res.shortlist[i] == b.layout else plans[i]
    if best is not b and res.fixed:
        best = replace(best, notes=[*best.notes, fixed_note(res.fixed)])
    mems = np.array([p.memory_per_gpu_bytes for p in plans])
    front = pareto_front(capped_s, b.hbm_bytes - mems)[:pareto_max]
    table = [dict(_pareto_row(plans[j].layout, capped_s[j], mems[j], b.hbm_bytes),
                  uncapped_step_time_s=plans[j].step_time_s) for j in front]
    return replace(res, best=best, pareto=table,
                   time_s=res.time_s + time.perf_counter() - t0)
