"""The days stage (``wattlas train --days D``, ``wattlas.train(days=D)``): the fewest GPUs
(and their fastest layout) that finish the job in D days.

Training time falls with the GPU count until the global batch stops data parallelism from
growing, but not strictly (a count's divisors decide which layouts exist), so the solver
brackets the target on a geometric ladder of counts, then bisects between the last count that
is too slow and the first that is fast enough, in whole nodes. Each count is planned by the
layout search of ``wattlas train --search`` (the same function, power cap and energy model
included), so the answer is what ``wattlas train --gpus N`` prints for the count found.
"""

from __future__ import annotations

import math
from typing import Any

#: the largest GPU count the solver tries
MAX_GPUS = 131_072


def _node_size(scen: Any) -> int:
    """GPUs per step of the search: the named system's accelerators per node, else 8."""
    from .. import hardware

    hw = scen.hardware
    sys_ = hardware.system(hw.system) if hw is not None and hw.system else None
    return (sys_.accelerators_per_node if sys_ is not None and sys_.accelerators_per_node
            else 8)


def _smooth(limit: int) -> list[int]:
    """The 7-smooth numbers up to `limit` (products of 2, 3, 5, 7): node counts whose divisors
    can hold a layout."""
    out = {1}
    for p in (2, 3, 5, 7):
        for n in sorted(out):
            while n * p <= limit:
                n *= p
                out.add(n)
    return sorted(out)


def solve_days(scen: Any, days: float, allow_uneven_pp: bool = False
               ) -> tuple[Any, Any, Any, list[dict[str, Any]]]:
    """(the search result, the training keys, the scenario at the count found, every count tried
    as {gpus, training_time_s}) for the fewest GPUs whose fastest layout finishes in `days`.

    Counts are whole nodes, a 7-smooth number of them, and have at least one layout that
    passes the layout rules (:func:`wattlas.perf.training.search.enumerate_layouts`); among those
    the
    solver bisects on the search's training time."""
    from ..errors import InfeasibleError, InputError, WattlasError
    from ..perf.training import step as tr
    from ..perf.training.search import enumerate_layouts
    from ..scenario import Cluster
    from .training import fixed_layout, search_result, training_result

    if not (math.isfinite(days) and days > 0):
        raise InputError(f"--days {days!r}: must be a number of days > 0")
    target_s = days * 86400.0
    step = _node_size(scen)
    job = tr.job_from_scenario(scen)
    _, fabric = tr.hardware_from_scenario(scen)
    fixed = fixed_layout(scen)
    ladder = _smooth(MAX_GPUS // step)
    valid_cache: dict[int, bool] = {}

    def valid(k: int) -> bool:
        if k not in valid_cache:
            valid_cache[k] = len(enumerate_layouts(job, k * step, fabric, allow_uneven_pp,
                                                   fixed=fixed)["tp"]) > 0
        return valid_cache[k]

    seen: dict[int, tuple[float, Any, Any, Any] | None] = {}

    def at(k: int) -> tuple[float, Any, Any, Any] | None:
        n = k * step
        if n not in seen:
            s = scen.model_copy(update={"cluster": Cluster(gpus=n)})
            try:
                res = search_result(s, allow_uneven_pp=allow_uneven_pp)
                out, _ = training_result(res.best, s)
                seen[n] = (out["training_time_s"], res, out, s)
            except WattlasError:
                seen[n] = None  # nothing fits in memory on this count
        return seen[n]

    def fast(k: int) -> bool:
        r = at(k)
        return r is not None and r[0] <= target_s

    cands = [k for k in ladder if valid(k)] if len(ladder) <= 4096 else []
    if not cands:
        raise InfeasibleError(f"--days {days:g}: no GPU count up to {MAX_GPUS:,} has a valid "
                              "layout for this job")
    # bracket on a doubling ladder of the candidate list, then bisect by index
    i, hi_i = 0, None
    while i < len(cands):
        if fast(cands[i]):
            hi_i = i
            break
        i = min(len(cands) - 1, max(i + 1, i * 2)) if i < len(cands) - 1 else len(cands)
    if hi_i is None:
        best_t = min((v[0] for v in seen.values() if v is not None), default=None)
        slowest = ("" if best_t is None else
                   f": the fastest plan tried takes {best_t / 86400:,.1f} days")
        raise InfeasibleError(f"--days {days:g}{slowest} (up to {cands[-1] * step:,} GPUs; the "
                              "global batch limits data parallelism); allow more days or raise "
                              "--global-batch")
    lo_i = -1
    for j in range(hi_i - 1, -1, -1):  # the last checked candidate below hi that is too slow
        if cands[j] * step in seen:
            lo_i = j
            break
    while hi_i - lo_i > 1:
        mid = (lo_i + hi_i) // 2
        if fast(cands[mid]):
            hi_i = mid
        else:
            lo_i = mid
    k = cands[hi_i]
    t, res, out, s = at(k)  # type: ignore[misc]
    tried = [{"gpus": n, "training_time_s": v[0] if v is not None else None}
             for n, v in sorted(seen.items())]
    below = at(cands[hi_i - 1]) if hi_i > 0 else None
    why = (f"; the next count down, {cands[hi_i - 1] * step:,} GPUs, takes "
           f"{below[0] / 86400:,.1f} days" if below is not None else "")
    out["notes"] = [*out["notes"], f"--days {days:g}: {k * step:,} GPUs (whole nodes of {step}"
                    f") is the fewest with a valid layout that finishes in time "
                    f"({t / 86400:,.1f} days){why}"]
    out["target_training_time_s"] = target_s
    out["gpus_tried"] = tried
    return res, out, s, tried
