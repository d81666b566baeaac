"""Design sweeps: many variants of one scenario through ``plan``, one table row per point.

A sweep varies scenario fields by their dotted paths (``--vary cluster.gpus=8192,16384``,
values read as YAML like ``--set``; ``--vary energy.pue=1.1..1.4`` a continuous range). Without
``samples`` the design is the cross product of the listed values; with ``samples`` N it is N
points of a Latin hypercube (seeded): a listed axis takes the value in the drawn stratum, a
continuous one the drawn value.

Each point is the scenario with its values set, validated like any scenario (limits included),
then run through :func:`wattlas.plan.run_plan` without the per-plan Monte Carlo (a sweep point
is one number per column) and without the ``compare`` and ``routing`` stages unless a varied
key is in them (alternative hardware is swept by varying ``hardware.accelerator``). A point
that fails records its error and stays in the table. Points are pure functions of (scenario,
values), so any executor returns the same table (:mod:`.executors`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import InputError

#: most points in one sweep (a cross product grows fast; a typo should not run for a day)
MAX_POINTS = 1_000_000
#: the table's columns after the varied keys: (column, plan key path)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("training_time_s", "training.training_time_s"),
    ("step_time_s", "training.step_time_s"),
    ("mfu", "training.mfu"),
    ("gpus", "training.gpus"),
    ("tokens_per_s", "training.tokens_per_s"),
    ("memory_per_gpu_bytes", "training.memory_per_gpu_bytes"),
    ("fits", "training.fits"),
    ("ttft_s", "serving.ttft_s"),
    ("tpot_s", "serving.tpot_s"),
    ("output_tokens_per_s", "serving.output_tokens_per_s"),
    ("energy_per_token_j", "serving.energy_per_token_j"),
    ("it_power_w", "energy.it_power_w"),
    ("facility_power_w", "energy.facility_power_w"),
    ("energy_j", "energy.energy_j"),
    ("energy_cost_usd", "energy.energy_cost_usd"),
    ("cost_usd_total", "energy.cost_usd_total"),
    ("co2e_kg", "energy.co2e_kg"),
    ("racks", "energy.racks"),
)
#: the objectives of the Pareto front (all minimised)
PARETO = ("training_time_s", "facility_power_w", "cost_usd_total")


@dataclass(frozen=True)
class Axis:
    """One varied field: its dotted path and listed values, or a continuous [low, high]."""

    key: str
    values: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None

    @property
    def path(self) -> tuple[str | int, ...]:
        return tuple(int(p) if p.isdigit() else p for p in self.key.split("."))


def parse_vary(spec: str) -> Axis:
    """``key=v1,v2,…`` (each value read as YAML) or ``key=low..high`` (a continuous range,
    for a sampled design)."""
    from ..bounds import shown
    from ..scenario import parse_value

    if "=" not in spec:
        raise InputError(f"--vary {shown(spec)}: expected key.path=v1,v2,… or key.path=lo..hi")
    key, raw = (x.strip() for x in spec.split("=", 1))
    if not key or any(not p for p in key.split(".")):
        raise InputError(f"--vary {shown(spec)}: empty key; expected key.path=v1,v2,…")
    if ".." in raw and "," not in raw:
        lo_s, hi_s = raw.split("..", 1)
        lo, hi = parse_value(lo_s, f"--vary {key}"), parse_value(hi_s, f"--vary {key}")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                   for v in (lo, hi)) or lo > hi:
            raise InputError(f"--vary {shown(spec)}: a range is low..high with two finite "
                             "numbers, low <= high")
        return Axis(key, low=float(lo), high=float(hi))
    values = tuple(parse_value(v.strip(), f"--vary {key}") for v in raw.split(","))
    if not raw or any(v is None or v == "" for v in values):
        raise InputError(f"--vary {shown(spec)}: an empty value; expected key.path=v1,v2,…")
    return Axis(key, values=values)


def design(axes: list[Axis], samples: int | None = None, seed: int = 0
           ) -> list[dict[str, Any]]:
    """The points: the cross product of the axes' values, or `samples` Latin-hypercube points
    (needed when an axis is continuous)."""
    import itertools

    if not axes:
        raise InputError("sweep: give at least one --vary key=v1,v2,…")
    keys = [a.key for a in axes]
    if len(set(keys)) != len(keys):
        raise InputError(f"sweep: --vary {keys[len(set(keys))]} given twice; give each key "
                         "once")
    if samples is None:
        cont = [a.key for a in axes if not a.values]
        if cont:
            raise InputError(f"--vary {cont[0]}=low..high is a continuous range: give "
                             "--samples N for a sampled design")
        n = math.prod(len(a.values) for a in axes)
        if n > MAX_POINTS:
            raise InputError(f"sweep: the cross product has {n:,} points; allowed: at most "
                             f"{MAX_POINTS:,} (give --samples N for a sampled design)")
        return [dict(zip(keys, vals, strict=True))
                for vals in itertools.product(*(a.values for a in axes))]
    if not 1 <= samples <= MAX_POINTS:
        raise InputError(f"--samples {samples}: allowed 1 to {MAX_POINTS:,}")
    from scipy.stats import qmc

    u = qmc.LatinHypercube(d=len(axes), seed=seed).random(samples)
    points = []
    for row in u:
        pt = {}
        for a, x in zip(axes, row, strict=True):
            if a.values:
                pt[a.key] = a.values[min(int(x * len(a.values)), len(a.values) - 1)]
            else:
                pt[a.key] = a.low + float(x) * (a.high - a.low)
        points.append(pt)
    return points


def base_data(data: dict[str, Any], axes: list[Axis]) -> dict[str, Any]:
    """The scenario mapping every point starts from: without ``compare`` and ``routing``
    unless a varied key lies in them."""
    keep = {a.path[0] for a in axes}
    return {k: v for k, v in data.items() if k not in ("compare", "routing") or k in keep}


def check_keys(data: dict[str, Any], axes: list[Axis]) -> None:
    """Refuse a varied key the scenario schema does not have (InputError naming it and the
    keys allowed there), before any point runs."""
    from ..errors import ScenarioError
    from ..scenario import validate

    for a in axes:
        value = a.values[0] if a.values else a.low
        try:
            validate(_put_path(data, a.path, value, a.key))
        except ScenarioError as err:
            if "unknown key" in str(err):
                raise InputError(f"--vary {a.key}: {str(err).removeprefix('scenario: ')}"
                                 ) from None


def _lookup(plan: dict[str, Any], path: str) -> Any:
    node: Any = plan
    for p in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(p)
    return node


def _best_region(plan: dict[str, Any]) -> dict[str, Any]:
    site = plan.get("site") or {}
    feas = [r for r in site.get("regions", []) if r.get("feasible")]
    if not feas:
        return {}
    r = feas[0]
    return {"best_region": r["region"],
            "time_to_power_years_low": r.get("time_to_power_years_low"),
            "time_to_power_years_high": r.get("time_to_power_years_high")}


def run_point(data: dict[str, Any], point: dict[str, Any], base_dir: str | None = None
              ) -> dict[str, Any]:
    """One row: the point's values, then the plan's headline numbers (``ok`` true), or the
    one-line error (``ok`` false)."""
    from ..errors import WattlasError
    from ..plan import run_plan
    from ..scenario import prepare, validate

    row: dict[str, Any] = dict(point)
    try:
        d = data
        for key, value in point.items():
            path = tuple(int(p) if p.isdigit() else p for p in key.split("."))
            d = _put_path(d, path, value, key)
        scen = prepare(validate(d), base_dir)
        plan = run_plan(scen, ranges=False)
    except WattlasError as err:
        row.update(ok=False, error=str(err))
        return row
    row["ok"] = True
    for col, path in COLUMNS:
        v = _lookup(plan, path)
        if v is not None and not isinstance(v, dict | list):
            row[col] = v
    row.update(_best_region(plan))
    return row


def _put_path(data: Any, path: tuple[str | int, ...], value: Any, key: str = "") -> Any:
    """A copy of `data` with `value` at `path`, creating missing sections (as ``--set``
    does); a path through a value that is not a section is refused naming the key."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, list) and isinstance(head, int) and head < len(data):
        out = list(data)
        out[head] = _put_path(data[head], rest, value, key)
        return out
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(f"--vary {key}: '{head}' is not inside a section of the scenario")
    out = dict(data)
    out[head] = _put_path(data.get(head), rest, value, key)
    return out


def run_chunk(data: dict[str, Any], points: list[dict[str, Any]], base_dir: str | None = None
              ) -> list[dict[str, Any]]:
    """Rows of consecutive points (the unit of work an executor ships)."""
    return [run_point(data, p, base_dir) for p in points]


def pareto_flags(rows: list[dict[str, Any]], keys: tuple[str, ...] = PARETO) -> list[bool]:
    """Whether each row is Pareto-optimal (no other row at most as large in every objective
    and smaller in one); rows missing an objective are not."""
    import numpy as np

    have = [r.get("ok") and all(isinstance(r.get(k), int | float) for k in keys) for r in rows]
    idx = [i for i, h in enumerate(have) if h]
    out = [False] * len(rows)
    if not idx:
        return out
    m = np.array([[rows[i][k] for k in keys] for i in idx], dtype=float)
    order = np.lexsort(m.T[::-1])
    front: list[int] = []
    for j in order:
        if not any(np.all(m[f] <= m[j]) and np.any(m[f] < m[j]) for f in front):
            front.append(j)
    for j in front:
        out[idx[j]] = True
    return out


def frame(rows: list[dict[str, Any]], axes: list[Axis]) -> Any:
    """The table as a pandas DataFrame: ``point``, the varied keys, ``ok``, ``error``, the
    headline columns, the best region and ``pareto``."""
    import pandas as pd

    flags = pareto_flags(rows)
    cols = (["point"] + [a.key for a in axes] + ["ok", "error"] + [c for c, _ in COLUMNS]
            + ["best_region", "time_to_power_years_low", "time_to_power_years_high",
               "pareto"])
    recs = [dict(r, point=i, pareto=f) for i, (r, f) in enumerate(zip(rows, flags,
                                                                        strict=True))]
    df = pd.DataFrame.from_records(recs)
    present = [c for c in cols if c in df.columns and (c in ("point", "ok", "pareto")
                                                       or df[c].notna().any())]
    for a in axes:  # a varied column of mixed YAML types is kept as text
        if a.key in df.columns and df[a.key].map(type).nunique() > 1:
            df[a.key] = df[a.key].astype(str)
    return df[present]
