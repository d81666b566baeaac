"""Scenario numbers given as a range or a distribution.

Anywhere a scenario (outside ``routing``, whose lists are hourly profiles) takes a number, it
may take instead:

* ``[low, high]`` or ``{low: L, high: H}``: uniform between the two;
* ``{dist: uniform, low: L, high: H}``;
* ``{dist: triangular, low: L, mode: M, high: H}``;
* ``{dist: lognormal, median: M, sigma: S}`` (S the standard deviation of ln x) or
  ``{dist: lognormal, p10: A, p90: B}``; the tails are cut at P0.1 and P99.9 so every draw
  is finite and bounded.

:func:`split` replaces each by its median (the point plan is computed at the medians) and
returns the ranges; :func:`wattlas.scenario.validate` checks the nominal scenario and both ends
of every range against the same limits as any number (:mod:`wattlas.bounds`), so a range can
never reach a value a plain number could not take.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

#: keys of a range written as a mapping
KEYS = frozenset({"low", "high", "dist", "median", "sigma", "p10", "p90", "mode"})
DISTS = ("uniform", "triangular", "lognormal")
#: lognormal tails cut at these probabilities (Φ⁻¹(0.999) = 3.0902)
TAIL_FRAC = 0.001
_Z_TAIL = 3.090232306167813
_Z90 = 1.2815515655446004
#: at most this many uncertain inputs in one scenario (one Latin-hypercube dimension each)
MAX_RANGES = 64


class RangeError(ValueError):
    """A range or distribution that cannot be read; the message names the key path."""


@dataclass(frozen=True)
class InputRange:
    """One uncertain scenario number: where it is, its distribution and support."""

    path: tuple[str | int, ...]
    dist: str
    low: float  # support: every draw lies in [low, high]
    high: float
    median: float
    mode: float | None = None  # triangular
    sigma: float | None = None  # lognormal: sd of ln x
    integer: bool = False

    @property
    def key(self) -> str:
        return ".".join(str(p) for p in self.path)

    @property
    def nominal(self) -> float | int:
        return round(self.median) if self.integer else self.median

    def spec(self) -> dict[str, Any]:
        """The range as a scenario file writes it (read back to this range)."""
        if self.dist == "lognormal":
            return {"dist": "lognormal", "median": self.median, "sigma": self.sigma}
        if self.dist == "triangular":
            return {"dist": "triangular", "low": self.low, "mode": self.mode,
                    "high": self.high}
        if self.integer:
            return {"low": round(self.low), "high": round(self.high)}
        return {"low": self.low, "high": self.high}

    def ppf(self, u: Any) -> Any:
        """Values at probabilities `u` (a numpy array in [0, 1])."""
        import numpy as np
        from scipy import stats

        u = np.asarray(u, dtype=float)
        if self.dist == "uniform":
            x = self.low + u * (self.high - self.low)
        elif self.dist == "triangular":
            span = self.high - self.low
            c = 0.5 if span == 0 else (self.mode - self.low) / span
            x = stats.triang.ppf(u, c, loc=self.low, scale=span) if span > 0 else \
                np.full_like(u, self.low)
        else:
            z = stats.norm.ppf(np.clip(u, TAIL_FRAC, 1 - TAIL_FRAC))
            x = self.median * np.exp(self.sigma * z)
        x = np.clip(x, self.low, self.high)
        return np.rint(x) if self.integer else x


def _num(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RangeError(f"{where} = {value!r}: expected a finite number")
    return float(value)


def parse(value: Any, path: tuple[str | int, ...], integer: bool = False) -> InputRange:
    """An :class:`InputRange` from a two-number list or a range mapping at `path`; an
    `integer` field draws whole numbers."""
    where = ".".join(str(p) for p in path)
    if isinstance(value, list):
        if len(value) != 2:
            raise RangeError(f"{where}: a range is [low, high]; got {len(value)} items")
        value = {"low": value[0], "high": value[1]}
    unknown = sorted(set(value) - KEYS)
    if unknown:
        raise RangeError(f"{where}: unknown key '{unknown[0]}' in a range; allowed: "
                         f"{', '.join(sorted(KEYS))}")
    dist = value.get("dist", "uniform")
    if dist not in DISTS:
        raise RangeError(f"{where}.dist = {dist!r}: allowed {', '.join(DISTS)}")
    if dist == "lognormal":
        if "median" in value and "sigma" in value:
            med, sig = _num(value["median"], f"{where}.median"), _num(value["sigma"],
                                                                         f"{where}.sigma")
        elif "p10" in value and "p90" in value:
            p10, p90 = _num(value["p10"], f"{where}.p10"), _num(value["p90"], f"{where}.p90")
            if not 0 < p10 < p90:
                raise RangeError(f"{where}: lognormal needs 0 < p10 < p90; got p10 = {p10:g}, "
                                 f"p90 = {p90:g}")
            med, sig = math.sqrt(p10 * p90), math.log(p90 / p10) / (2 * _Z90)
        else:
            raise RangeError(f"{where}: a lognormal needs median and sigma, or p10 and p90")
        if not (med > 0 and 0 < sig <= 3):
            raise RangeError(f"{where}: lognormal needs median > 0 and 0 < sigma <= 3; got "
                             f"median = {med:g}, sigma = {sig:g}")
        lo, hi = med * math.exp(-sig * _Z_TAIL), med * math.exp(sig * _Z_TAIL)
        return InputRange(path, dist, lo, hi, med, sigma=sig, integer=integer)
    if "low" not in value or "high" not in value:
        raise RangeError(f"{where}: a {dist} range needs low and high")
    lo, hi = _num(value["low"], f"{where}.low"), _num(value["high"], f"{where}.high")
    if lo > hi:
        raise RangeError(f"{where}: low = {lo:g} is above high = {hi:g}")
    if dist == "triangular":
        if "mode" not in value:
            raise RangeError(f"{where}: a triangular range needs low, mode and high")
        mode = _num(value["mode"], f"{where}.mode")
        if not lo <= mode <= hi:
            raise RangeError(f"{where}.mode = {mode:g}: must lie in [low, high]")
        from scipy import stats

        c = 0.5 if hi == lo else (mode - lo) / (hi - lo)
        med = float(stats.triang.ppf(0.5, c, loc=lo, scale=hi - lo)) if hi > lo else lo
        return InputRange(path, dist, lo, hi, med, mode=mode, integer=integer)
    return InputRange(path, "uniform", lo, hi, (lo + hi) / 2, integer=integer)


def _is_range(value: Any) -> bool:
    if isinstance(value, dict):
        # a mapping of plain values naming a range key is a range (an unknown key in it is
        # then named); no scenario section has a field called low, high or dist
        return (bool(set(value) & {"dist", "low", "high"})
                and not any(isinstance(v, dict | list) for v in value.values()))
    return (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value))


def split(data: Any, is_int: Any = None) -> tuple[Any, list[InputRange]]:
    """`data` with every range replaced by its median, and the ranges (key order). Lists of
    two numbers are ranges except under ``routing`` (hourly profiles). `is_int(path)` says
    whether the field at a path takes whole numbers (its draws and median are rounded)."""
    ranges: list[InputRange] = []

    def walk(node: Any, at: tuple[str | int, ...]) -> Any:
        if at and at[0] == "routing":
            return node
        if at and _is_range(node):
            r = parse(node, at, bool(is_int and is_int(at)))
            ranges.append(r)
            if len(ranges) > MAX_RANGES:
                raise RangeError(f"{r.key}: more than {MAX_RANGES} ranges in one scenario")
            return r.nominal
        if isinstance(node, dict):
            return {k: walk(v, (*at, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, (*at, i)) for i, v in enumerate(node)]
        return node

    return walk(data, ()), ranges


def put(data: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """A copy of the nested mapping `data` with `value` at `path` (the rest shared)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, list):
        out = list(data)
        out[head] = put(data[head], rest, value) if rest else value  # type: ignore[index]
        return out
    out = dict(data)
    out[head] = put(data[head], rest, value) if rest else value
    return out
