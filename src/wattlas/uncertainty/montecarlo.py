"""Monte Carlo through the stages: P10/P50/P90 of every headline number, and the tornado.

Two sources of spread are drawn together on one Latin hypercube (``scipy.stats.qmc``, seeded,
so a plan is reproducible):

* **inputs**: each scenario number given as a range or distribution
  (:mod:`.inputs`); a draw sets them all and runs the stage functions again (training, or
  serving, and the energy they carry), so a range moves every number downstream of it;
* **model error**: the error factors ``true / predicted`` of the validation record
  (:mod:`.intervals`), one dimension per stage: training time (regime by GPU count, MoE and
  generation), energy by accounting (power, and emissions apart), serving throughput and
  latency. A factor multiplies the quantities it scales: training time → time, GPU-hours,
  energy, cost and emissions; energy accounting → power, energy and cost; emissions
  accounting → CO2e; serving throughput → tokens/s (and J/token by its inverse); latency →
  TTFT and TPOT.

A region's time to power stays the catalog's range (``time_to_power_years_low`` and
``_high``, from the published queue and build years), as ``wattlas site`` reports it.

The tornado sets one input at a time to its P10 and then its P90 (the others at their
medians) and ranks inputs by the largest relative swing of days, MW, MWh, cost and tCO2e.
"""

from __future__ import annotations

import math
from typing import Any

from .inputs import InputRange
from .intervals import Interval, choose, training_keys

#: draws when an input range makes each draw re-run a stage (≈ 3 ms a draw), and when only
#: model-error factors are drawn (vectorised)
SAMPLES_RERUN = 200
SAMPLES_FACTORS = 4000
SEED = 0
PCTS = (10, 50, 90)

#: (section, key) of the headline numbers that get P10/P50/P90, with the factors that scale
#: them: name → power (+1 multiplies, -1 divides)
TRAINING_KEYS: dict[str, dict[str, int]] = {
    "step_time_s": {"training": 1},
    "training_time_s": {"training": 1},
    "gpu_hours": {"training": 1},
    "tokens_per_s": {"training": -1},
}
ENERGY_KEYS: dict[str, dict[str, int]] = {
    "it_power_w": {"power": 1},
    "facility_power_w": {"power": 1},
    "energy_j": {"training": 1, "power": 1},
    "energy_cost_usd": {"training": 1, "power": 1},
    "cost_usd_total": {"training": 1, "power": 1},
    "co2e_kg": {"training": 1, "emissions": 1},
}
SERVING_KEYS: dict[str, dict[str, int]] = {
    "ttft_s": {"latency": 1},
    "tpot_s": {"latency": 1},
    "output_tokens_per_s": {"throughput": 1},
    "energy_per_token_j": {"throughput": -1},
}
#: the outputs the tornado ranks inputs by: (section, key, label)
TORNADO_OUTPUTS = (("training", "training_time_s", "days"),
                   ("energy", "facility_power_w", "MW"),
                   ("energy", "energy_j", "MWh"),
                   ("energy", "energy_cost_usd", "cost"),
                   ("energy", "co2e_kg", "tCO2e"))


def factor_intervals(scen: Any, plan: dict[str, Any]) -> dict[str, Interval]:
    """The model-error interval of each stage the plan ran, by factor name."""
    out: dict[str, Interval] = {}
    tr = plan.get("training")
    if tr is not None:
        from ..scenario import resolve_model
        from ..validation.published import generation

        moe = bool(resolve_model(scen.model).is_moe)
        gen = generation(str(tr.get("accelerator") or ""))
        out["training"] = choose("training", training_keys(
            tr["gpus"], None if gen == "other" else gen, moe))
    if plan.get("energy") is not None:
        basis = scen.energy.power_basis if scen.energy is not None else "modeled"
        key = {"measured": "energy measured", "tdp": "energy TDP-derived"}.get(basis, "all")
        out["power"] = choose("energy", (key, "all"))
        out["emissions"] = choose("energy", ("emissions", "all"))
    if plan.get("serving") is not None:
        out["throughput"] = choose("serving", ("throughput", "all"))
        out["latency"] = choose("serving", ("latency", "all"))
    return out


def with_value(scen: Any, path: tuple[Any, ...], value: Any) -> Any:
    """`scen` with the number at `path` replaced (frozen sections copied, not re-validated:
    the range's ends were validated when the scenario was read)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(scen, list | tuple):
        out = list(scen)
        out[head] = with_value(scen[head], rest, value)
        return out
    return scen.model_copy(update={head: with_value(getattr(scen, head), rest, value)})


def _base(scen: Any) -> dict[str, dict[str, float]]:
    """The headline numbers of one scenario by section, from the stage functions."""
    from ..stages.energy import energy_section

    out: dict[str, dict[str, float]] = {}
    if scen.training is not None:
        from ..stages.training import training_stage

        tr, report = training_stage(scen)
        out["training"] = {k: tr.get(k) for k in TRAINING_KEYS}
        out["energy"] = {k: tr.get(k) for k in ENERGY_KEYS}
    if scen.serving is not None:
        from ..stages.serving import serving_stage

        sv, splan = serving_stage(scen)
        out["serving"] = {k: sv.get(k) for k in SERVING_KEYS}
        if "energy" not in out and splan.energy is not None:
            en = energy_section(splan.energy)
            out["energy"] = {k: en.get(k) for k in ENERGY_KEYS}
    return out


def _sections(plan: dict[str, Any]) -> dict[str, dict[str, dict[str, int]]]:
    return {"training": TRAINING_KEYS, "energy": ENERGY_KEYS, "serving": SERVING_KEYS}


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def draws(scen: Any, plan: dict[str, Any], samples: int | None = None, seed: int = SEED
          ) -> dict[str, Any]:
    """Draws of every headline number: ``{"values": {section: {key: array}}, "u": the unit
    hypercube, "inputs": ranges, "factors": intervals, "feasible": bool array}``."""
    import numpy as np

    from ..errors import WattlasError

    ranges: tuple[InputRange, ...] = tuple(getattr(scen, "ranges", ()) or ())
    factors = factor_intervals(scen, plan)
    if ranges and scen.training is not None and scen.training.layout is None \
            and plan.get("training"):
        # a searched layout is kept for every draw (a range does not re-run the search)
        from ..scenario import Layout

        par = plan["training"].get("parallelism") or {}
        scen = with_value(scen, ("training", "layout"),
                          Layout(**{k: v for k, v in par.items() if k in Layout.model_fields}))
    n = samples or (SAMPLES_RERUN if ranges else SAMPLES_FACTORS)
    names = [r.key for r in ranges] + [f"model error {k}" for k in factors]
    u = np.column_stack([_column(name, n, seed) for name in names]) if names else \
        np.zeros((n, 0))
    spec = _sections(plan)
    values: dict[str, dict[str, Any]] = {}
    feasible = np.ones(n, dtype=bool)
    for sec, keys in spec.items():
        if plan.get(sec) is None:
            continue
        values[sec] = {k: np.full(n, float(plan[sec][k])) for k in keys
                       if _number(plan[sec].get(k))}
    if ranges:
        cols = [r.ppf(u[:, j]) for j, r in enumerate(ranges)]
        for i in range(n):
            s = scen
            for j, r in enumerate(ranges):
                x = cols[j][i]
                s = with_value(s, r.path, int(x) if r.integer else float(x))
            try:
                base = _base(s)
            except WattlasError:
                feasible[i] = False
                continue
            for sec, keys in values.items():
                for k in keys:
                    v = base.get(sec, {}).get(k)
                    keys[k][i] = float(v) if _number(v) else np.nan
    f = {name: iv.ppf(u[:, len(ranges) + j]) for j, (name, iv) in enumerate(factors.items())}
    tr = plan.get("training") or {}
    if "training" in f and _number(tr.get("hfu")):
        # no draw runs faster than every FLOP at peak: time x factor >= time x HFU
        f["training"] = np.maximum(f["training"], float(tr["hfu"]))
    for sec, keys in values.items():
        for k, arr in keys.items():
            for name, power in spec[sec][k].items():
                if name in f:
                    arr *= f[name] ** power
    peak = (plan.get("energy") or {}).get("peak_facility_power_w")
    if _number(peak) and "energy" in values:
        for k in ("facility_power_w", "it_power_w"):  # never above the all-TDP peak
            if k in values["energy"]:
                np.minimum(values["energy"][k], float(peak), out=values["energy"][k])
    return {"values": values, "u": u, "inputs": ranges, "factors": factors,
            "feasible": feasible, "samples": n, "seed": seed}


def _column(name: str, n: int, seed: int) -> Any:
    """One Latin-hypercube column for the dimension `name`: its own stream (seeded by `seed`
    and the name), so a number's draws do not depend on which other ranges a plan has (the
    train verb and the plan's training section agree)."""
    import zlib

    import numpy as np
    from scipy.stats import qmc

    rng = np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(name.encode())]))
    return qmc.LatinHypercube(d=1, seed=rng).random(n)[:, 0]


def percentiles(arr: Any) -> tuple[float, float, float] | None:
    import numpy as np

    ok = arr[np.isfinite(arr)]
    if ok.size == 0:
        return None
    return tuple(float(x) for x in np.percentile(ok, PCTS))


def tornado(scen: Any, plan: dict[str, Any], d: dict[str, Any]) -> list[dict[str, Any]]:
    """Inputs ranked by how far each moves days, MW, MWh, cost and tCO2e on its own (P10 →
    P90, the rest at their medians): ``[{input, kind, low, high, swings: {label: [at_p10,
    at_p90]}, swing_frac}]``, largest ``swing_frac`` (relative to the plan's value) first."""
    import numpy as np

    nominal = {(s, k): plan[s][k] for s, k, _ in TORNADO_OUTPUTS
               if plan.get(s) is not None and _number(plan[s].get(k))}
    rows = []
    for r in d["inputs"]:
        lo, hi = (float(v) for v in r.ppf(np.array([0.1, 0.9])))
        at = []
        for x in (lo, hi):
            try:
                base = _base(with_value(scen, r.path, int(x) if r.integer else x))
            except Exception:  # noqa: BLE001 - an infeasible end shows as no swing
                base = {}
            at.append(base)
        swings = {}
        for s, k in nominal:
            a, b = (at[0].get(s, {}).get(k), at[1].get(s, {}).get(k))
            if _number(a) and _number(b):
                swings[_label(s, k)] = [a, b]
        rows.append(_row(r.key, "input", lo, hi, swings, nominal))
    spec = _sections(plan)
    for name, iv in d["factors"].items():
        swings = {}
        for (s, k), v0 in nominal.items():
            power = spec[s][k].get(name)
            if power:
                swings[_label(s, k)] = [v0 * iv.p10 ** power, v0 * iv.p90 ** power]
        if swings:
            rows.append(_row(f"model error: {iv.stage} ({iv.regime})", "model", iv.p10,
                             iv.p90, swings, nominal))
    return sorted(rows, key=lambda r: -r["swing_frac"])


def _label(sec: str, key: str) -> str:
    return next(lab for s, k, lab in TORNADO_OUTPUTS if (s, k) == (sec, key))


def _row(name: str, kind: str, lo: float, hi: float, swings: dict[str, list[float]],
         nominal: dict[tuple[str, str], float]) -> dict[str, Any]:
    v0 = {_label(s, k): v for (s, k), v in nominal.items()}
    frac = max((abs(b - a) / abs(v0[lab]) for lab, (a, b) in swings.items() if v0[lab]),
               default=0.0)
    return {"input": name, "kind": kind, "low": lo, "high": hi, "swings": swings,
            "swing_frac": frac}


def _put(plan: dict[str, Any], d: dict[str, Any]) -> None:
    """P10/P50/P90 beside each drawn key, in every section that shows the key (the training
    section repeats the energy numbers of the run)."""
    found: dict[str, tuple[float, float, float]] = {}
    for sec, keys in d["values"].items():
        for k, arr in keys.items():
            p = percentiles(arr)
            if p is not None:
                found[k] = p
                for pct, v in zip(PCTS, p, strict=True):
                    plan[sec][f"{k}_p{pct}"] = v
    target = plan.get("training")
    if target is not None:
        for k, p in found.items():
            if k in target and f"{k}_p50" not in target:
                for pct, v in zip(PCTS, p, strict=True):
                    target[f"{k}_p{pct}"] = v


def train_ranges(scen: Any, result: dict[str, Any], samples: int | None = None,
                 seed: int = SEED) -> dict[str, Any]:
    """P10/P50/P90 beside the headline keys of a ``train`` result (the same draws as the
    plan's training section); in place."""
    view = {"training": result, "energy": result}
    _put(view, draws(scen, view, samples, seed))
    return result


def serve_ranges(scen: Any, result: dict[str, Any], samples: int | None = None,
                 seed: int = SEED) -> dict[str, Any]:
    """P10/P50/P90 beside the headline keys of a ``serve`` result (the same draws as the
    plan's serving section); in place."""
    view = {"serving": result}
    _put(view, draws(scen, view, samples, seed))
    return result


def add_ranges(scen: Any, plan: dict[str, Any], samples: int | None = None,
               seed: int = SEED) -> dict[str, Any]:
    """`plan` with ``k_p10``, ``k_p50``, ``k_p90`` beside each headline key ``k`` and an
    ``uncertainty`` section (method, draws, intervals used, inputs, tornado); in place."""
    d = draws(scen, plan, samples, seed)
    _put(plan, d)
    plan["uncertainty"] = {
        "method": "Latin hypercube (scipy.stats.qmc), input ranges re-run through the stages, "
                  "model error from the validation record (split conformal)",
        "samples": d["samples"], "seed": d["seed"],
        "infeasible_frac": float(1 - d["feasible"].mean()),
        "inputs": [{"key": r.key, "dist": r.dist, "low": r.low, "median": r.median,
                    "high": r.high} for r in d["inputs"]],
        "intervals": [{"factor": name, "stage": iv.stage, "regime": iv.regime,
                       "n_fit": iv.n_fit, "factor_p10": iv.p10, "factor_p50": iv.p50,
                       "factor_p90": iv.p90, "n_held_back": iv.n_held_back,
                       **({"coverage_held_back_frac": iv.coverage_held_back_frac}
                          if iv.coverage_held_back_frac is not None else {})}
                      for name, iv in d["factors"].items()],
        "tornado": tornado(scen, plan, d),
    }
    return plan
