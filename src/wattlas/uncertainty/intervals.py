"""Prediction intervals from the validation record (split conformal).

Each out-of-sample validation case (``wattlas validate``; calibration rows left out) gives one
*error factor* ``true / predicted`` of a quantity a plan reports:

* **training** (step time): a time metric gives ``published / predicted``; a throughput metric
  (MFU, TFLOP/s, tokens/s) gives ``predicted / published`` (time is work over throughput);
  memory metrics are not a time and are left out. Regimes: GPU-count bucket (the buckets of
  :data:`wattlas.validation.published.BUCKETS`), dense or MoE, and GPU generation.
* **serving**, by mode: ``throughput`` (tokens/s, requests/s) and ``latency`` (TTFT, TPOT,
  ITL): ``published / predicted`` of the metric.
* **energy**, by accounting: ``energy measured`` and ``energy TDP-derived`` (a run's energy
  from its published GPU-hours, by the power basis of the published figure) and ``emissions``
  (its tCO2e), ``published / predicted``. These cases check the accounting given published
  hours; the time error is the training stage's.

The cases are split once, by a hash of ``source|case|metric`` (:func:`is_fit_case`: the first
byte of its SHA-256 even), into a *fit* half, whose empirical quantiles of the log factor are
the interval, and a *held-back* half, on which the coverage is measured. The 80 % interval is
[P10, P90] with the split-conformal ranks ``⌊0.1 (n + 1)⌋`` and ``⌈0.9 (n + 1)⌉`` of the n fit
factors (Vovk et al. 2005; Lei et al. 2018, "Distribution-free predictive inference for
regression", JASA 113:1094, §2.2, applied to each tail).

The table is data: ``data/intervals.csv``, written by ``python -m wattlas.uncertainty.build``
(``make docs``) from the validation cases; a test rebuilds it and fails when it is stale. This
module only reads it (milliseconds), so ``wattlas plan`` stays fast.
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

#: quantile levels stored per regime (columns ``factor_pNN``); P10/P90 use conformal ranks
LEVELS = (0.02, 0.10, 0.25, 0.50, 0.75, 0.90, 0.98)
#: a regime with fewer fit cases than this falls back to a broader one (scale → generation →
#: the whole stage)
MIN_FIT_CASES = 8
STAGES = ("training", "serving", "energy")
COLUMNS = ("stage", "regime", "n_fit", "n_held_back",
           *(f"factor_p{round(q * 100):02d}" for q in LEVELS),
           "coverage_held_back_frac", "source")

_TIME = ("iteration_time", "training_days")
_THROUGHPUT_TRAIN = ("mfu", "hfu", "tflop_per_s", "model_tflop_per_s")
_SERVE_THROUGHPUT = ("output_tokens_per_s", "capacity_requests_per_s",
                     "prefill_input_tokens_per_s")
_SERVE_LATENCY = ("ttft", "tpot", "itl")
_GPUS = re.compile(r"gpus\s*=?\s*(\d+)")


@dataclass(frozen=True)
class Residual:
    """One validation case as an error factor ``true / predicted`` with its stage, regime keys
    and split half."""

    stage: str
    keys: tuple[str, ...]  # regimes it belongs to, most specific first, the stage pool last
    factor: float
    fit: bool


def is_fit_case(source: str, case: str, metric: str) -> bool:
    """The documented split: a case is in the fit half when the first byte of
    SHA-256(``source|case|metric``) is even, else it is held back."""
    digest = hashlib.sha256(f"{source}|{case}|{metric}".encode()).digest()
    return digest[0] % 2 == 0


def _training_regimes(case: Any) -> tuple[str, ...] | None:
    from ..validation.published import bucket

    gpus = case.detail.get("gpus")
    if gpus is None:
        m = _GPUS.search(case.case)
        gpus = int(m.group(1)) if m else None
    moe = " (MoE)" if case.detail.get("moe") or "(MoE)" in case.source else ""
    keys = []
    if gpus is not None:
        keys.append(f"scale {bucket(int(gpus))}{moe}")
    if case.detail.get("generation"):
        keys.append(f"generation {case.detail['generation']}{moe}")
    return (*keys, "all")


def residual(case: Any) -> Residual | None:
    """The error factor of one validation case, or None when the case says nothing about a
    quantity the plan reports (memory, ratios) or is a calibration case."""
    if case.calibration or not (case.published > 0 and case.predicted > 0):
        return None
    m, ratio = case.metric, case.published / case.predicted
    if case.source.startswith("training_footprints"):
        if case.source.endswith("(predicted)"):
            return None  # end to end: the composition of the stages, checked apart
        if m.startswith("energy_mwh"):
            basis = str(case.detail.get("power_basis", ""))
            keys: tuple[str, ...] = ("energy measured" if basis.startswith("measured")
                                     else "energy TDP-derived", "all")
        elif m == "tco2e":
            keys = ("emissions", "all")
        else:
            return None
        return Residual("energy", keys, ratio, is_fit_case(case.source, case.case, m))
    if m.startswith(_TIME) or m.startswith(_THROUGHPUT_TRAIN):
        if m.startswith(_TIME):
            factor = ratio
        else:
            factor = 1.0 / ratio
        return Residual("training", _training_regimes(case), factor,
                        is_fit_case(case.source, case.case, m))
    if m.startswith(_SERVE_THROUGHPUT):
        keys = ("throughput", "all")
    elif m.startswith(_SERVE_LATENCY):
        keys = ("latency", "all")
    else:
        return None
    return Residual("serving", keys, ratio, is_fit_case(case.source, case.case, m))


def quantiles(factors: list[float]) -> dict[float, float]:
    """Factor quantiles at :data:`LEVELS` of the fit factors: P10 and P90 at the
    split-conformal ranks, the others interpolated in log space; monotone in the level."""
    logs = sorted(math.log(f) for f in factors)
    n = len(logs)

    def interp(q: float) -> float:
        pos = q * (n - 1)
        lo = int(math.floor(pos))
        hi = min(lo + 1, n - 1)
        return logs[lo] + (pos - lo) * (logs[hi] - logs[lo])

    out = {q: interp(q) for q in LEVELS}
    out[0.10] = logs[max(0, min(n - 1, math.floor(0.10 * (n + 1)) - 1))]
    out[0.90] = logs[max(0, min(n - 1, math.ceil(0.90 * (n + 1)) - 1))]
    mono, last = {}, -math.inf
    for q in LEVELS:
        last = max(last, out[q])
        mono[q] = last
    return {q: math.exp(v) for q, v in mono.items()}


@dataclass(frozen=True)
class Interval:
    """One regime's error-factor quantiles (``true / predicted``) and its measured coverage."""

    stage: str
    regime: str
    n_fit: int
    n_held_back: int
    factors: tuple[float, ...]  # at LEVELS
    coverage_held_back_frac: float | None

    @property
    def p10(self) -> float:
        return self.factors[LEVELS.index(0.10)]

    @property
    def p50(self) -> float:
        return self.factors[LEVELS.index(0.50)]

    @property
    def p90(self) -> float:
        return self.factors[LEVELS.index(0.90)]

    def ppf(self, u: Any) -> Any:
        """Error factor at probability `u` (array): the stored quantiles joined linearly in
        log space, flat beyond P2 and P98 (the record says nothing further out)."""
        import numpy as np

        logs = np.log(np.asarray(self.factors))
        return np.exp(np.interp(np.asarray(u, dtype=float), LEVELS, logs))


@lru_cache(maxsize=1)
def table() -> dict[tuple[str, str], Interval]:
    """The shipped intervals by (stage, regime), read from ``data/intervals.csv``."""
    text = resources.files("wattlas.data").joinpath("intervals.csv").read_text("utf-8")
    out = {}
    for r in csv.DictReader(text.splitlines()):
        cov = r["coverage_held_back_frac"]
        out[(r["stage"], r["regime"])] = Interval(
            r["stage"], r["regime"], int(r["n_fit"]), int(r["n_held_back"]),
            tuple(float(r[f"factor_p{round(q * 100):02d}"]) for q in LEVELS),
            float(cov) if cov else None)
    return out


def choose(stage: str, keys: tuple[str, ...],
           intervals: dict[tuple[str, str], Interval] | None = None) -> Interval:
    """The interval a prediction gets: its most specific regime with at least
    :data:`MIN_FIT_CASES` fit cases (the stage pool ``all`` last)."""
    intervals = table() if intervals is None else intervals
    for k in keys:
        iv = intervals.get((stage, k))
        if iv is not None and (iv.n_fit >= MIN_FIT_CASES or k == "all"):
            return iv
    return intervals[(stage, "all")]


def training_keys(gpus: int, generation: str | None, moe: bool) -> tuple[str, ...]:
    """The regime keys of a planned training run, in the order :func:`choose` tries them."""
    from ..validation.published import bucket

    tag = " (MoE)" if moe else ""
    keys = [f"scale {bucket(int(gpus))}{tag}"]
    if generation:
        keys.append(f"generation {generation}{tag}")
    return (*keys, "all")
