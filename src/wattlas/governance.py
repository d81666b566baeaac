"""Governance checks: training compute against legal thresholds, export-control classes.

Export control (US EAR, ECCN 3A090 as amended 25 Oct 2023, 88 FR 73458; text as reproduced in
SOURCES S35):

* TPP (total processing performance) = 2 × MacTOPS × bit length of the operation, taken at the
  precision that maximises it; with dense datasheet TOPS (= 2 × MacTOPS) this is
  ``dense TOPS × bits``.
* PD (performance density) = TPP / die area in mm².
* 3A090.a: TPP ≥ 4800, or TPP ≥ 1600 and PD ≥ 5.92.
* 3A090.b (the lower band; only partly confirmed in the sources, see SOURCES §4.6):
  TPP ≥ 2400 and < 4800 with 1.6 ≤ PD < 5.92, or TPP ≥ 1600 with 3.2 ≤ PD < 5.92.

Training-compute thresholds come from ``data/compute_thresholds.csv`` (EU AI Act Art. 51(2)
10^25 FLOP presumption; California SB 53 and New York RAISE 10^26 FLOP), each with its source.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

RULE = "ECCN 3A090 (EAR, 88 FR 73458, 25 Oct 2023; corrected 90 FR 9604, 14 Feb 2025)"
RULE_DATE = "2023-10-25"
TPP_A = 4800.0
TPP_A_PD = 1600.0
PD_A = 5.92
TPP_B_LOW, TPP_B_PD_LOW, PD_B_LOW, PD_B_ALT = 2400.0, 1600.0, 1.6, 3.2

_PEAKS_AND_BITS = (
    ("fp64_tensor_flop_per_s", 64), ("fp64_flop_per_s", 64), ("tf32_flop_per_s", 32),
    ("bf16_flop_per_s", 16), ("fp16_flop_per_s", 16), ("fp8_flop_per_s", 8),
    ("int8_op_per_s", 8), ("fp4_flop_per_s", 4), ("int4_op_per_s", 4),
)


@dataclass(frozen=True)
class ExportClass:
    """Export-control classification of one accelerator, with its inputs."""

    accelerator: str
    tpp: float | None
    tpp_precision: str | None
    die_area_mm2: float | None
    performance_density: float | None
    eccn: str
    reason: str
    rule: str = RULE
    rule_date: str = RULE_DATE


def tpp(row: dict[str, Any]) -> tuple[float | None, str | None]:
    """(TPP, the precision that sets it) from dense peaks in a catalog row."""
    best, where = None, None
    for col, bits in _PEAKS_AND_BITS:
        v = row.get(col)
        if v:
            t = v / 1e12 * bits
            if best is None or t > best:
                best, where = t, col.split("_")[0]
    return best, where


def classify(row: dict[str, Any]) -> ExportClass:
    """Classify an accelerator catalog row (or any mapping with its peak columns)."""
    t, prec = tpp(row)
    area = row.get("die_area_mm2")
    pd = t / area if (t and area) else None
    acc = row.get("id", "?")
    if t is None:
        return ExportClass(acc, None, None, area, None, "unknown", "no dense peak in catalog")
    if t >= TPP_A:
        return ExportClass(acc, t, prec, area, pd, "3A090.a", f"TPP {t:.0f} ≥ {TPP_A:.0f}")
    if pd is None:
        if t < TPP_A_PD:
            return ExportClass(acc, t, prec, area, pd, "not 3A090",
                               f"TPP {t:.0f} < {TPP_A_PD:.0f}")
        return ExportClass(acc, t, prec, area, pd, "undetermined",
                           f"TPP {t:.0f} in [1600, 4800) and die area unknown, so PD cannot "
                           "be computed")
    if t >= TPP_A_PD and pd >= PD_A:
        return ExportClass(acc, t, prec, area, pd, "3A090.a",
                           f"TPP {t:.0f} ≥ {TPP_A_PD:.0f} and PD {pd:.2f} ≥ {PD_A}")
    if (t >= TPP_B_LOW and pd >= PD_B_LOW) or (t >= TPP_B_PD_LOW and pd >= PD_B_ALT):
        return ExportClass(acc, t, prec, area, pd, "3A090.b",
                           f"TPP {t:.0f} and PD {pd:.2f} in the 3A090.b band")
    return ExportClass(acc, t, prec, area, pd, "not 3A090",
                       f"TPP {t:.0f} and PD {pd:.2f} below both bands")


@dataclass(frozen=True)
class Threshold:
    """A training-compute threshold in law, with the catalog's status, date and note as
    written (empty where the catalog does not say)."""

    instrument: str
    jurisdiction: str
    flop: float
    criteria: str
    effective: str
    source: str
    status: str = ""
    status_date: str = ""
    confidence: str = ""
    as_of: str = ""
    note: str = ""


@cache
def thresholds() -> tuple[Threshold, ...]:
    text = resources.files("wattlas.data").joinpath("compute_thresholds.csv").read_text("utf-8")
    return tuple(
        Threshold(r["instrument"], r["jurisdiction"], float(r["training_compute_threshold_flop"]),
                  r["other_criteria"], r["effective"], r["source"], r.get("status") or "",
                  r.get("status_date") or "", r.get("confidence") or "", r.get("as_of") or "",
                  r.get("note") or "")
        for r in csv.DictReader(io.StringIO(text))
    )


def compute_check(training_flop: float) -> list[dict[str, Any]]:
    """Each threshold with whether `training_flop` crosses it, and the catalog's status,
    status date, confidence, as-of date and note as written. A revoked instrument is still
    listed: `above_threshold` compares the number, `crossed` is true only for an instrument
    not revoked."""
    return [
        {"instrument": t.instrument, "jurisdiction": t.jurisdiction,
         "threshold_flop": t.flop, "above_threshold": training_flop >= t.flop,
         "crossed": training_flop >= t.flop and t.status != "revoked",
         "ratio": training_flop / t.flop, "criteria": t.criteria, "effective": t.effective,
         "status": t.status or None, "status_date": t.status_date or None,
         "confidence": t.confidence or None, "as_of": t.as_of or None, "note": t.note or None,
         "source": t.source}
        for t in thresholds()
    ]
