"""Typed, frozen results of the library API (:mod:`wattlas.api`).

Each result wraps the plain dict a stage returns — exactly what ``plan.json`` or the matching
``wattlas VERB --format json`` prints — frozen (mappings read-only, lists as tuples), and adds:

* ``.to_dict()``: a fresh plain dict (lists, dicts), equal to the JSON the CLI prints;
* ``.to_frame()``: a pandas DataFrame with one row per entity (layouts, configurations,
  regions, policies, thresholds, validation cases), nested keys flattened with dots;
* attribute access to every top-level key (``r.mfu``, ``r.regions``) and ``r["key"]``; the
  headline keys are annotated on each class (``typing.get_type_hints(TrainResult)``);
* a one-line ``repr`` and an HTML table (``_repr_html_``) for notebooks.

Numbers keep the SI units their key names (``_s``, ``_w``, ``_j``, ``_frac`` …); only ``repr``
and the HTML view convert (days, MW) for reading.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, ClassVar

__all__ = ["Result", "TrainResult", "ServeResult", "SiteResult", "RouteResult", "RttResult",
           "CheckResult", "BudgetResult", "ValidationResult", "Plan"]


def _freeze(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return MappingProxyType({str(k): _freeze(v) for k, v in obj.items()})
    if isinstance(obj, list | tuple):
        return tuple(_freeze(v) for v in obj)
    return obj


def _thaw(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {k: _thaw(v) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return [_thaw(v) for v in obj]
    return obj


def flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """One level of columns from a nested row: ``{"parallelism": {"tp": 8}}`` →
    ``{"parallelism.tp": 8}``; lists of plain values are joined with '; ', lists of mappings
    are left out (they are entities of their own)."""
    out: dict[str, Any] = {}
    for k, v in row.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten(v, key + "."))
        elif isinstance(v, list | tuple):
            if all(not isinstance(x, Mapping | list | tuple) for x in v):
                out[key] = "; ".join(map(str, v))
        else:
            out[key] = v
    return out


def _frame(rows: list[Mapping[str, Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame([flatten(r) for r in rows])


def _fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


class Result(Mapping[str, Any]):
    """A frozen stage result: a read-only mapping of the stage's JSON keys."""

    __slots__ = ("_data",)
    #: the key whose list holds the entities of :meth:`to_frame` (None: one row, the result)
    rows_key: ClassVar[str | None] = None
    #: (label, key, unit conversion) shown by repr and the HTML view
    headline: ClassVar[tuple[tuple[str, str, str], ...]] = ()

    def __init__(self, data: Mapping[str, Any]):
        object.__setattr__(self, "_data", _freeze(dict(data)))

    # a frozen mapping --------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no key '{name}'; keys: "
                                 f"{', '.join(self._data)}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Result):
            return type(self) is type(other) and self.to_dict() == other.to_dict()
        return NotImplemented

    def __hash__(self) -> int:
        return hash((type(self).__name__, json.dumps(self.to_dict(), sort_keys=True)))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.to_dict(),))

    # conversions -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A fresh plain dict: the JSON the matching CLI command prints (``json.dumps`` ready)."""
        return _thaw(self._data)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def rows(self) -> list[dict[str, Any]]:
        """The entities of :meth:`to_frame` as plain dicts."""
        if self.rows_key is None:
            return [self.to_dict()]
        return [dict(r) for r in _thaw(self._data.get(self.rows_key) or ())]

    def to_frame(self) -> Any:
        """A pandas DataFrame, one row per entity, nested keys flattened with dots."""
        return _frame(self.rows())

    # notebooks ---------------------------------------------------------------------------
    def _pairs(self) -> list[tuple[str, str]]:
        out = []
        for label, key, conv in self.headline:
            v = self._data.get(key)
            if v is None:
                continue
            out.append((label, _convert(v, conv)))
        return out

    def __repr__(self) -> str:
        pairs = ", ".join(f"{k} {v}" for k, v in self._pairs())
        title = self._title()
        sep = ": " if title and pairs else ""
        return f"{type(self).__name__}({title}{sep}{pairs})"

    def _title(self) -> str:
        return ""

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                       f"<td>{html.escape(v)}</td></tr>" for k, v in self._pairs())
        n = len(self.rows()) if self.rows_key else None
        more = (f"<p>{n} rows in <code>.to_frame()</code> ({html.escape(self.rows_key or '')})"
                "</p>" if n else "")
        return (f"<div><strong>{html.escape(type(self).__name__)}</strong> "
                f"{html.escape(self._title())}<table>{rows}</table>{more}</div>")


def _convert(v: Any, conv: str) -> str:
    if not isinstance(v, int | float) or isinstance(v, bool):
        return _fmt(v)
    if conv == "days":
        return f"{v / 86400:,.1f} days"
    if conv == "MW":
        return f"{v / 1e6:,.2f} MW"
    if conv == "kW":
        return f"{v / 1e3:,.1f} kW"
    if conv == "%":
        return f"{v:.1%}"
    if conv == "ms":
        return f"{v * 1e3:,.2f} ms"
    if conv == "MWh":
        return f"{v / 3.6e9:,.0f} MWh"
    if conv == "t":
        return f"{v / 1e3:,.0f} t"
    return _fmt(v) + (f" {conv}" if conv else "")


class TrainResult(Result):
    """``wattlas train``: one training run (layout, step time, MFU, time, energy). Frame: the
    chosen layout, or every layout of the Pareto front after a search."""

    mfu: float
    hfu: float
    step_time_s: float
    training_time_s: float
    gpu_hours: float
    gpus: int
    memory_per_gpu_bytes: float
    fits: bool
    parallelism: Mapping[str, Any]
    it_power_w: float
    facility_power_w: float
    energy_j: float
    co2e_kg: float
    headline = (("MFU", "mfu", "%"), ("time", "training_time_s", "days"),
                ("facility", "facility_power_w", "MW"), ("energy", "energy_j", "MWh"))

    def _title(self) -> str:
        return f"{self._data.get('model')} on {self._data.get('gpus'):,} × " \
               f"{self._data.get('accelerator')}"

    def rows(self) -> list[dict[str, Any]]:
        if self._data.get("pareto"):
            return [dict(r) for r in _thaw(self._data["pareto"])]
        row = {k: v for k, v in self.to_dict().items()
               if k not in ("pareto", "breakdown_s", "memory_bytes", "governance",
                            "energy_summary", "notes")}
        return [row]


class ServeResult(Result):
    """``wattlas serve``: one serving replica and its deployment. Frame: the configuration, or
    the ranked configurations after a search."""

    ttft_s: float
    tpot_s: float
    output_tokens_per_s: float
    batch: int
    gpus: int
    kv_cache_bytes: float
    energy_per_token_j: float
    headline = (("TTFT", "ttft_s", "ms"), ("TPOT", "tpot_s", "ms"),
                ("tokens/s", "output_tokens_per_s", ""), ("J/token", "energy_per_token_j", ""))

    def _title(self) -> str:
        return f"{self._data.get('model')} on {self._data.get('accelerator')} " \
               f"(TP {self._data.get('tp')})"

    def rows(self) -> list[dict[str, Any]]:
        if self._data.get("ranked"):
            return [dict(r) for r in _thaw(self._data["ranked"])]
        return [{k: v for k, v in self.to_dict().items()
                 if k not in ("ranked", "energy_summary", "notes", "breakdown")}]


class SiteResult(Result):
    """``wattlas site``: the site demand ranked over candidate regions. Frame: the regions."""

    regions: tuple[Mapping[str, Any], ...]
    facility_power_w: float | None
    rack_power_w: float
    rows_key = "regions"
    headline = (("facility", "facility_power_w", "MW"), ("IT", "it_power_w", "MW"),
                ("rack", "rack_power_w", "kW"))

    def _title(self) -> str:
        best = next((r["region"] for r in self._data.get("regions", ()) if r.get("feasible")),
                    None)
        return f"{len(self._data.get('regions', ()))} regions, best {best}"


class RouteResult(Result):
    """``wattlas route``: the request stream through each policy. Frame: the policies."""

    policies: tuple[Mapping[str, Any], ...]
    site_load: Mapping[str, Any]
    rows_key = "policies"

    def _title(self) -> str:
        return ", ".join(p["policy"] for p in self._data.get("policies", ()))


class RttResult(Result):
    """``wattlas rtt``: distance and round-trip time between two points. Frame: one row."""

    distance_km: float
    rtt_floor_s: float
    rtt_s: float
    headline = (("distance", "distance_km", "km"), ("RTT floor", "rtt_floor_s", "ms"),
                ("RTT", "rtt_s", "ms"))

    def _title(self) -> str:
        return f"{self._data.get('a')} → {self._data.get('b')}"


class CheckResult(Result):
    """``wattlas check``: training compute against thresholds and export-control classes.
    Frame: the thresholds (``to_frame('export_control')`` for the accelerators)."""

    training_flop: float | None
    thresholds: tuple[Mapping[str, Any], ...]
    export_control: tuple[Mapping[str, Any], ...]
    rows_key = "thresholds"
    headline = (("training compute", "training_flop", "FLOP"),)

    def to_frame(self, section: str = "thresholds") -> Any:
        if section not in ("thresholds", "export_control"):
            from .errors import InputError

            raise InputError(f"to_frame('{section}'): allowed thresholds, export_control")
        return _frame([dict(r) for r in _thaw(self._data.get(section) or ())])


class BudgetResult(Result):
    """``wattlas train`` in budget mode: GPUs, FLOP budget and the compute-optimal model."""

    budget_flop: float
    optimal_params: float
    optimal_tokens: float
    headline = (("FLOP budget", "budget_flop", "FLOP"), ("params", "optimal_params", ""),
                ("tokens", "optimal_tokens", ""))


class ValidationResult(Result):
    """``wattlas validate``: every case predicted vs published, and the summary per source.
    Frame: the cases."""

    cases: tuple[Mapping[str, Any], ...]
    summary: Mapping[str, Any]
    rows_key = "cases"

    def _title(self) -> str:
        return f"{len(self._data.get('cases', ()))} cases, {len(self._data.get('summary', {}))}" \
               " sources"


#: Plan section → the result type that wraps it
SECTIONS: dict[str, type[Result]] = {"training": TrainResult, "serving": ServeResult,
                                     "site": SiteResult, "route": RouteResult,
                                     "budget": BudgetResult}


class Plan(Result):
    """``wattlas plan``: every stage a scenario asks for; ``to_dict()`` is ``plan.json``.

    ``plan.training``, ``plan.serving``, ``plan.site``, ``plan.route`` and ``plan.budget``
    are the typed stage results (None when the stage did not run); other sections (energy,
    compare, governance, notes, …) are plain frozen values. Frame: ``to_frame(section)``, one
    row per entity of that section: ``compare`` (hardware options, the default when present),
    ``site`` (regions), ``route`` (policies), ``training`` or ``serving``."""

    stages: tuple[str, ...]
    notes: tuple[str, ...]

    def __getattr__(self, name: str) -> Any:
        if name in SECTIONS:
            v = self._data.get(name)
            return None if v is None else SECTIONS[name](v)
        return super().__getattr__(name)

    def _title(self) -> str:
        return f"{self._data.get('scenario')}: {', '.join(self._data.get('stages', ()))}"

    def _pairs(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for name in ("training", "serving"):
            sub = self.__getattr__(name)
            if sub is not None:
                out += [(f"{name} {k}", v) for k, v in sub._pairs()]
        energy = self._data.get("energy") or {}
        if not out and energy.get("facility_power_w") is not None:
            out.append(("facility power", _convert(energy["facility_power_w"], "MW")))
        site = self._data.get("site")
        if site:
            best = next((r["region"] for r in site.get("regions", ()) if r.get("feasible")),
                        None)
            out.append(("best region", str(best)))
        return out

    def rows(self, section: str | None = None) -> list[dict[str, Any]]:
        section = section or next((s for s in ("compare", "site", "route", "training",
                                               "serving") if self._data.get(s)), None)
        if section is None:
            return []
        if section == "compare":
            return [dict(r) for r in _thaw((self._data.get("compare") or {}).get("rows", ()))]
        if section not in SECTIONS:
            from .errors import InputError

            raise InputError(f"to_frame('{section}'): allowed compare, "
                             f"{', '.join(SECTIONS)}")
        sub = self.__getattr__(section)
        return [] if sub is None else sub.rows()

    def to_frame(self, section: str | None = None) -> Any:
        return _frame(self.rows(section))
