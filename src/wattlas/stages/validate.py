"""The validation stage: every published case of a suite, predicted vs published, with the
summary per source (and, for training, per GPU generation and scale); what ``wattlas validate
SUITE --format json`` prints."""

from __future__ import annotations

from typing import Any

from ._plain import plain


def validate_stage(suite: str = "all") -> dict[str, Any]:
    """``{"cases", "summary"}`` of `suite` (training | energy | inference | all), plus
    ``summary_by_generation`` and ``summary_by_scale`` when training cases are in it."""
    from .. import validation
    from ..errors import InputError

    if suite not in (*validation.SUITES, "all"):
        raise InputError(f"validate '{suite}': allowed {', '.join(validation.SUITES)}, all")
    cases = validation.run(suite)
    out: dict[str, Any] = {"cases": [c.as_row() for c in cases],
                           "summary": validation.summarize(cases)}
    if suite in ("training", "all"):
        from ..validation.published import summarize_by

        out["summary_by_generation"] = summarize_by(cases, "generation")
        out["summary_by_scale"] = summarize_by(cases, "scale")
    return plain(out)
