"""The train verb: a scenario's training job with its given layout, the layout search, or the
fewest GPUs that finish within a number of days; what ``wattlas train SCENARIO --format json``
prints and ``wattlas.train`` returns. Above :mod:`wattlas.stages.training` (the plan and its
energy) and :mod:`wattlas.stages.days` (the GPU-count solver), which it combines."""

from __future__ import annotations

from typing import Any

from ._plain import plain
from .training import search_result, training_result


def run_training(scen: Any, search: bool = False, allow_uneven_pp: bool = False,
                 progress: bool = False, days: float | None = None) -> tuple[dict[str, Any], Any]:
    """(what ``wattlas train SCENARIO --format json`` prints, the scenario it planned): with
    `days` the fewest GPUs that finish within that many days (:mod:`wattlas.stages.days`; the
    scenario returned has that GPU count); else the layout search (with its Pareto front) when
    `search` is set or the scenario gives no layout (a note says so); else the given layout."""
    from ..perf.training import step as tr

    if scen.training is None:
        from ..errors import InputError

        raise InputError("--tokens, --seq-len and --global-batch are needed (training.tokens, "
                         "seq_len and global_batch in a scenario file), or a budget "
                         "(--budget-mw/--budget-gpus/--budget-flop)")
    extra: dict[str, Any] = {}
    solved: dict[str, Any] | None = None
    search_by_default = not search and days is None and scen.training.layout is None
    if days is not None:
        from .days import solve_days

        res, solved, scen, _ = solve_days(scen, days, allow_uneven_pp=allow_uneven_pp)
        plan = res.best
        extra = {"search_candidates": res.candidates, "search_time_s": res.time_s,
                 "search_feasible": res.feasible, "search_fixed": res.fixed,
                 "pareto": res.pareto, "target_training_time_s":
                 solved["target_training_time_s"], "gpus_tried": solved["gpus_tried"]}
    elif search or search_by_default:
        res = search_result(scen, allow_uneven_pp=allow_uneven_pp, progress=progress)
        plan = res.best
        extra = {"search_candidates": res.candidates, "search_time_s": res.time_s,
                 "search_feasible": res.feasible, "search_fixed": res.fixed,
                 "pareto": res.pareto}
    else:
        plan = tr.plan_from_scenario(scen, allow_uneven_pp=allow_uneven_pp)
    out, _ = training_result(plan, scen)
    out.update(extra)
    if solved is not None:
        out["notes"] = [*out["notes"], solved["notes"][-1]]
    if search_by_default:
        out["notes"] = [*out["notes"], "no layout given (--tp, --pp, … or training.layout): "
                        "the layout search chose the fastest that fits"]
    from ..uncertainty.montecarlo import train_ranges

    return train_ranges(scen, plain(out)), scen


def train_stage(scen: Any, search: bool = False, allow_uneven_pp: bool = False,
                progress: bool = False, days: float | None = None) -> dict[str, Any]:
    """:func:`run_training`'s dict: what ``wattlas train SCENARIO --format json`` prints."""
    return run_training(scen, search, allow_uneven_pp, progress, days)[0]
