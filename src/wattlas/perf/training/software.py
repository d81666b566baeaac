"""Training software generations: which layout features a stack of a given year could use.

``training.software_year`` (``--software-year``) plans a run as the software of that year could
have run it: a feature first published after that year (the ``features`` catalog,
``data/features.csv``: first public description, with its paper) is not offered by the layout
search and is rejected in a given layout. Without a year every feature is available (today's
Megatron-Core class stack).

Why it matters: the step-time model is calibrated on Megatron runs, and the layout search
otherwise assumes FlashAttention, sequence parallelism, selective recomputation and interleaved
pipelines. A 2020 run (GPT-3 on V100) had none of them, so it kept full activation
recomputation and deep pipelines; planning it with 2022 features halves its GPU-hours
(``wattlas validate energy``, the GPT-3 predicted case).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..codes import OFFLOAD_CODE, RECOMPUTE_CODE


def first_years() -> dict[str, int]:
    """Feature id → year of its first publication (the ``features`` catalog,
    ``data/features.csv``; a user catalog row may override a year)."""
    from ... import catalog

    return {r["id"]: int(r["first_year"]) for r in catalog.rows("features")}


def available(feature: str, year: int | None) -> bool:
    """Whether `feature` existed in software of `year` (None: today, everything)."""
    return year is None or first_years()[feature] <= year


def _uses(a: dict[str, np.ndarray]) -> dict[str, Any]:
    """Per feature id, a boolean array: the layout uses it."""
    off = np.asarray(a["offload"])
    return {
        "zero": np.asarray(a["zero"]) >= 1,
        "activation_offload": off == OFFLOAD_CODE["activations"],
        "expert_parallel": np.asarray(a["ep"]) > 1,
        "optimizer_offload": off == OFFLOAD_CODE["optimizer"],
        "weight_offload": off == OFFLOAD_CODE["optimizer+weights"],
        "interleaved_pipeline": np.asarray(a["vpp"]) > 1,
        "sequence_parallel": np.asarray(a["sequence_parallel"]) & (np.asarray(a["tp"]) > 1),
        "selective_recompute": np.asarray(a["recompute"]) == RECOMPUTE_CODE["selective"],
        "flash_attention": np.asarray(a["flash_attention"]).astype(bool),
        "context_parallel": np.asarray(a["cp"]) > 1,
    }


def feature_rules(a: dict[str, np.ndarray], year: int | None) -> dict[str, Any]:
    """One validity rule per feature newer than `year` (True = the layout does not use it),
    keyed by a rule text that names the feature and its first year."""
    if year is None:
        return {}
    years = first_years()
    return {f"{name.replace('_', ' ')} needs software_year ≥ {years[name]} "
            f"(software_year = {year})": ~used
            for name, used in _uses(a).items() if years[name] > year}


def check_precision(precision: str, year: int | None) -> str | None:
    """The error text when `precision` is newer than `year`, else None."""
    if precision == "fp8" and not available("fp8", year):
        return (f"training.precision = 'fp8' needs software_year ≥ {first_years()['fp8']} "
                f"(software_year = {year}); allowed bf16, fp16")
    return None


def year_defaults(year: int | None) -> dict[str, Any]:
    """Layout defaults a given year could use, for the fields a scenario leaves out (the
    Layout defaults are today's: FlashAttention, sequence parallelism, selective recompute)."""
    if year is None:
        return {}
    return {"flash_attention": available("flash_attention", year),
            "sequence_parallel": available("sequence_parallel", year),
            "recompute": "selective" if available("selective_recompute", year) else "full"}
