"""Validation against published measurements: cases, errors and summaries per source.

Each domain module (``training``, ``energy``, ``inference``) returns a list of :class:`Case`;
``wattlas validate`` prints them with ``error_frac = predicted / published − 1`` and a summary
per source. Cases marked ``calibration=True`` were used to fit constants and are reported apart,
so the error quoted for the rest is out of sample.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

SUITES = ("training", "energy", "inference")


@dataclass(frozen=True)
class Case:
    source: str
    case: str
    metric: str
    published: float
    predicted: float
    unit: str = ""
    calibration: bool = False
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def error_frac(self) -> float:
        return self.predicted / self.published - 1.0

    def as_row(self) -> dict[str, Any]:
        return {"source": self.source, "case": self.case, "metric": self.metric,
                "published": self.published, "predicted": self.predicted,
                "error_frac": self.error_frac, "unit": self.unit,
                "calibration": self.calibration}


def summarize(cases: list[Case]) -> dict[str, dict[str, float]]:
    """Per source: n, median/mean/max absolute error and the signed median (a bias: positive
    = predicted above published), calibration cases in their own group."""
    groups: dict[str, list[float]] = {}
    for c in cases:
        key = c.source + (" (calibration)" if c.calibration else "")
        groups.setdefault(key, []).append(c.error_frac)
    return {
        k: {"n": len(v), "median_abs_error_frac": statistics.median(abs(e) for e in v),
            "signed_median_error_frac": statistics.median(v),
            "mean_abs_error_frac": statistics.fmean(abs(e) for e in v),
            "max_abs_error_frac": max(abs(e) for e in v)}
        for k, v in groups.items()
    }


def run(suite: str = "all") -> list[Case]:
    """All cases of one suite (or all)."""
    import importlib

    names = SUITES if suite == "all" else (suite,)
    out: list[Case] = []
    for name in names:
        out.extend(importlib.import_module(f"wattlas.validation.{name}").cases())
    return out
