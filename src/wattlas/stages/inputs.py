"""Scenario inputs of the library API: a Scenario, a path to a YAML file, a mapping or YAML
text, with keyword arguments named like the CLI flags and dotted-path overrides written over it
(keywords win over the scenario, as flags do)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import InputError, ScenarioError

_ENERGY = {k: f"energy.{k}" for k in (
    "power_basis", "pue", "grid_intensity_g_per_kwh", "price_usd_per_mwh", "power_cap_w",
    "gpu_hour_price_usd", "capex_usd_per_gpu", "capex_life_years",
    "capacity_charge_usd_per_mw_year", "boundary")}
_HARDWARE = {"model": "model", "accelerator": "hardware.accelerator",
             "system": "hardware.system", "region": "site.region"}

#: keyword → scenario path, per verb (the CLI flags of each command, in SI units)
TRAIN_KEYS: dict[str, str] = {
    **_HARDWARE, **_ENERGY, "gpus": "cluster.gpus",
    **{k: f"training.{k}" for k in ("tokens", "seq_len", "global_batch", "precision", "job",
                                    "goodput_frac", "lora_rank", "rollout_tokens",
                                    "software_year", "stack_efficiency_frac")},
    **{k: f"training.layout.{k}" for k in ("tp", "pp", "dp", "cp", "ep", "vpp", "microbatch",
                                           "recompute", "zero", "offload")},
}
SERVE_KEYS: dict[str, str] = {
    **_HARDWARE, **_ENERGY,
    **{k: f"serving.{k}" for k in ("tp", "precision", "kv_precision", "engine",
                                   "prompt_tokens", "output_tokens", "batch", "rate_per_s",
                                   "draft", "spec_tokens", "spec_acceptance_frac",
                                   "distill_to", "sparsity_2_4")},
    "ttft_s": "serving.slo.ttft_s", "tpot_s": "serving.slo.tpot_s",
}
SITE_KEYS: dict[str, str] = {
    **{k: f"site.{k}" for k in ("power_mw", "rack_kw", "cooling", "region", "candidates",
                                "curtailment_frac")},
    "regions": "site.candidates",
}


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    node = data
    keys = path.split(".")
    for k in keys[:-1]:
        if not isinstance(node.get(k), dict):
            node[k] = {}
        node = node[k]
    node[keys[-1]] = value


def _raw(source: Any) -> tuple[dict[str, Any], str | None]:
    """(the raw scenario mapping, the file it came from) of a path, mapping or YAML text."""
    from .. import scenario as sc

    if source is None:
        return {}, None
    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source)), None
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source
                                    and Path(source).suffix in (".yaml", ".yml", ".json")):
        return sc.load_data(source), str(source)
    if isinstance(source, str):
        from ..safeio import load_yaml

        data = load_yaml(source, "scenario text")
        if data is None:
            return {}, None
        if not isinstance(data, dict):
            raise ScenarioError("scenario text: the top level must be a mapping")
        return data, None
    raise InputError(f"scenario: a {type(source).__name__} is not a scenario; give a Scenario, "
                     "a path to a YAML file, a mapping or YAML text")


def scenario_of(source: Any, fields: Mapping[str, Any], keys: Mapping[str, str],
              verb: str, set_: Mapping[str, Any] | None = None) -> Any:
    """The validated Scenario of `source` with the keyword `fields` (named as in `keys`) and
    the dotted `set_` paths written over it."""
    from .. import scenario as sc

    unknown = sorted(set(fields) - set(keys))
    if unknown:
        raise InputError(f"wattlas.{verb}(): unknown argument(s) {', '.join(unknown)}; "
                         f"allowed: scenario, set, {', '.join(sorted(keys))}")
    if isinstance(source, sc.Scenario):
        if not fields and not set_:
            return source
        data, path = source.model_dump(mode="json", exclude_none=True), None
    else:
        data, path = _raw(source)
    for name, value in fields.items():
        if value is not None:
            if name == "regions" and isinstance(value, str):
                value = [r.strip() for r in value.split(",") if r.strip()]
            _put(data, keys[name], value)
    for dotted, value in (set_ or {}).items():
        _put(data, dotted, value)
    return sc.prepare(sc.validate(data), path)
