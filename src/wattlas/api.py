"""The library's front door: ``wattlas.load``, ``wattlas.plan`` and one function per verb.

Every function runs the same stage function (:mod:`wattlas.stages`) as the matching CLI
command, so ``wattlas.train(...).to_dict()`` is what ``wattlas train ... --format json``
prints and ``wattlas.plan(s).to_dict()`` is ``plan.json``. Each verb takes a scenario (a
:class:`~wattlas.scenario.Scenario`, a path, a mapping or YAML text) and/or keyword arguments
named like the CLI flags (``gpus=16384``, ``tp=8``, ``prompt_tokens=1024``); keywords win over
the scenario, as flags do. Any scenario field can also be set by its dotted path with
``set={"training.layout.zero": 1}``.

Errors are the classes the CLI maps to exit codes: :class:`~wattlas.errors.InputError`,
:class:`~wattlas.errors.CatalogKeyError`, :class:`~wattlas.errors.ScenarioError` (exit 2) and
:class:`~wattlas.errors.InfeasibleError` (exit 1), all :class:`~wattlas.errors.WattlasError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import InputError
from .results import (
    BudgetResult,
    CheckResult,
    Plan,
    RouteResult,
    RttResult,
    ServeResult,
    SiteResult,
    TrainResult,
    ValidationResult,
)
from .stages._plain import plain
from .stages.inputs import SERVE_KEYS, SITE_KEYS, TRAIN_KEYS, scenario_of

__all__ = ["load", "plan", "train", "serve", "site", "route", "rtt", "check", "validate"]

def load(source: Any, set: Mapping[str, Any] | None = None) -> Any:
    """A validated :class:`~wattlas.scenario.Scenario` from a path to a YAML file, a mapping
    or YAML text (a Scenario is returned as is); `set` overrides fields by dotted path."""
    return scenario_of(source, {}, {}, "load", set)


def plan(scenario: Any, set: Mapping[str, Any] | None = None) -> Plan:
    """Every stage the scenario asks for (``wattlas plan``); ``.to_dict()`` is ``plan.json``."""
    from .plan import run_plan

    return Plan(run_plan(scenario_of(scenario, {}, {}, "plan", set)))


def train(scenario: Any = None, *, search: bool = False, days: float | None = None,
          compare: str | list[str] | None = None, allow_uneven_pp: bool = False,
          set: Mapping[str, Any] | None = None, **fields: Any) -> TrainResult | BudgetResult:
    """A training run (``wattlas train``): the given layout, or the layout search when
    `search` is set or no layout is given; with `days`, the fewest GPUs (whole nodes) that
    finish within that many days (``--days``, instead of ``gpus``); `compare` ('b200,gb200' or
    a list of accelerator or system ids) adds the same job on that hardware (``--compare``).
    Keywords:
    :data:`wattlas.stages.inputs.TRAIN_KEYS`. A scenario with a ``budget`` section and no
    training section gives a :class:`BudgetResult`."""
    scen = scenario_of(scenario, fields, TRAIN_KEYS, "train", set)
    if scen.budget is not None and scen.training is None:
        from .stages.budget import budget_stage

        return BudgetResult(budget_stage(scen))
    if scen.training is None:
        raise InputError("wattlas.train(): give a training section (tokens, seq_len, "
                         "global_batch) or a budget section")
    if days is not None and fields.get("gpus") is not None:
        raise InputError(f"wattlas.train(days={days:g}) solves for the GPU count: drop "
                         f"gpus={fields['gpus']}")
    from .stages.train import run_training

    entries = None
    if compare is not None:
        from .stages.hardware_compare import compare_entries

        entries = compare_entries(compare)
    out, scen = run_training(scen, search=search, allow_uneven_pp=allow_uneven_pp, days=days)
    if entries:
        from .stages.hardware_compare import train_compare

        out["compare"] = plain(train_compare(scen, out, entries))
    return TrainResult(out)


def serve(scenario: Any = None, *, search: bool = False, hours: float = 8760.0,
          compare: str | list[str] | None = None, set: Mapping[str, Any] | None = None,
          **fields: Any) -> ServeResult:
    """A serving deployment (``wattlas serve``) over `hours` of operation; with `search` the
    configuration (accelerator × precision × TP × batch) with the lowest J/token meeting the
    SLO; `compare` adds the same deployment on other hardware (``--compare``). A scenario
    with ``serving.disaggregated`` gets the prefill/decode-disaggregated plan, as the CLI
    does. Keywords: :data:`wattlas.stages.inputs.SERVE_KEYS`."""
    from .stages.serving import search_result, serving_result

    scen = scenario_of(scenario, fields, SERVE_KEYS, "serve", set)
    if scen.serving is None:
        raise InputError("wattlas.serve(): give prompt_tokens and output_tokens (or a serving "
                         "section)")
    if scen.serving.disaggregated is not None:
        from .perf.serving.disagg import from_scenario

        return ServeResult(plain(from_scenario(scen, search=search, hours=hours)[0]))
    entries = None
    if compare is not None:
        from .stages.hardware_compare import compare_entries

        entries = compare_entries(compare)
    extra: dict[str, Any] = {}
    if search:
        s = scen.serving  # as the CLI: a precision or tp argument fixes it, else it is searched
        plan_, extra = search_result(
            scen, accelerator=fields.get("accelerator"),
            precisions=(s.precision,) if fields.get("precision") else ("bf16", "fp8", "fp4",
                                                                        "int4"),
            tps=(s.tp,) if fields.get("tp") else (1, 2, 4, 8), hours=hours)
    else:
        from .perf.serving.scenario import plan_from_scenario

        plan_ = plan_from_scenario(scen, hours=hours)
    from .uncertainty.montecarlo import serve_ranges

    out = serve_ranges(scen, plain(serving_result(plan_, scen, extra)))
    if entries:
        from .stages.hardware_compare import serve_compare

        out["compare"] = serve_compare(scen, out, entries, hours)
    return ServeResult(plain(out))


def site(scenario: Any = None, *, weights: Any = None, users: Any = None,
         set: Mapping[str, Any] | None = None,
         **fields: Any) -> SiteResult:
    """Candidate regions ranked for the scenario's site demand (``wattlas site``). Keywords:
    :data:`wattlas.stages.inputs.SITE_KEYS` (``regions`` a list or 'a,b,c')."""
    from .plan import check_ids
    from .stages.site import site_result

    scen = scenario_of(scenario, fields, SITE_KEYS, "site", set)
    if scen.site is None:
        raise InputError("wattlas.site(): give power_mw and rack_kw (or a site section)")
    check_ids(scen)
    return SiteResult(plain(site_result(scen, weights=weights, users=users)))


def route(scenario: Any, *, policies: list[str] | None = None, requests: int | None = None,
          seed: int | None = None, set: Mapping[str, Any] | None = None,
          ) -> RouteResult:
    """The scenario's requests through each routing policy (``wattlas route``)."""
    from .stages.route import route_result

    scen = scenario_of(scenario, {}, {}, "route", set)
    if scen.routing is None:
        raise InputError("wattlas.route(): the scenario has no routing section")
    return RouteResult(route_result(scen, policies, requests, seed))


def rtt(a: str, b: str) -> RttResult:
    """Distance and round-trip time between two region ids, cities or 'lat,lon' points."""
    from .stages.route import rtt_stage

    return RttResult(rtt_stage(a, b))


def check(scenario: Any = None, *, model: Any = None, tokens: float | None = None,
          seq_len: int | None = None, training_flop: float | None = None,
          accelerators: list[str] | str | None = None,
          set: Mapping[str, Any] | None = None) -> CheckResult:
    """Training compute against the compute thresholds, and the export-control class of each
    accelerator (``wattlas check``)."""
    from .stages.governance import check_stage

    scen = None if scenario is None and not set else scenario_of(scenario, {}, {}, "check", set)
    if isinstance(accelerators, str):
        accelerators = [accelerators]
    return CheckResult(check_stage(scen, model=model, tokens=tokens, seq_len=seq_len,
                                   training_flop=training_flop, accelerators=accelerators))


def validate(suite: str = "all") -> ValidationResult:
    """Every validation case of `suite` (training | energy | inference | all), predicted vs
    published, and the summary per source (``wattlas validate SUITE --format json``)."""
    from .stages.validate import validate_stage

    return ValidationResult(validate_stage(suite))
