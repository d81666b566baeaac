"""wattlas: plan AI compute from the model down to the grid.

model → FLOPs → accelerators → racks → megawatts → grid region → requests.

The library API (loaded on first use, so ``import wattlas`` and ``wattlas --help`` stay fast)::

    import wattlas
    s = wattlas.load("examples/frontier-training.yaml")
    p = wattlas.plan(s)              # every stage; p.to_dict() is plan.json
    t = wattlas.train(s, gpus=8192)  # one verb, keyword arguments named like the CLI flags

See docs/api.md.
"""

from ._version import __version__

__all__ = [
    "__version__",
    # verbs (wattlas.api)
    "load", "plan", "train", "serve", "site", "route", "rtt", "check", "validate",
    # records and results (wattlas.scenario, wattlas.results)
    "Scenario", "Plan", "TrainResult", "BudgetResult", "ServeResult", "SiteResult",
    "RouteResult", "RttResult", "CheckResult", "ValidationResult",
    # errors (wattlas.errors): the classes the CLI maps to exit codes
    "WattlasError", "InputError", "CatalogKeyError", "ScenarioError", "InfeasibleError",
]

_HOME = {
    **dict.fromkeys(("load", "train", "serve", "site", "route", "rtt", "check", "validate"),
                    "api"),
    "Scenario": "scenario",
    **dict.fromkeys(("Plan", "TrainResult", "BudgetResult", "ServeResult", "SiteResult",
                     "RouteResult", "RttResult", "CheckResult", "ValidationResult"), "results"),
    **dict.fromkeys(("WattlasError", "InputError", "CatalogKeyError", "ScenarioError",
                     "InfeasibleError"), "errors"),
}


def __getattr__(name: str):  # PEP 562: the API is imported on first use
    import importlib

    if name == "plan":
        # the submodule wattlas.plan (the orchestrator) is itself callable: wattlas.plan(s)
        # runs wattlas.api.plan, and `import wattlas.plan` cannot shadow the function
        return importlib.import_module(".plan", __name__)
    if name in _HOME:
        value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'wattlas' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
