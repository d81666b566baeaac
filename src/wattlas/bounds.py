"""Input limits: one table of what every number given by a user may be, and the checks that
apply it at the boundary (scenario fields, CLI flags, catalog rows).

Every number is finite; a boolean is never a number (``training.tokens: true`` is refused) and a
number is never a boolean; text is never a number. Each field has a physical or practical range
(``LIMITS``, by section and field, then by field); counts that size an allocation (requests,
agent calls, replicas, sequence length, batch) have an upper bound so a typo is refused in
microseconds instead of exhausting memory. Lists, text and integer literals are bounded too.
Values in messages are shown truncated (:func:`shown`), never expanded.

Imports nothing heavy: the CLI calls :func:`check_flags` before any command work.
"""

from __future__ import annotations

import math
import reprlib
import types
import typing
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limit:
    """Allowed range of one number: ``lo`` (inclusive unless ``lo_open``) to ``hi`` (inclusive),
    in ``unit``; ``why`` says where the upper bound comes from."""

    lo: float
    hi: float
    unit: str = ""
    lo_open: bool = False
    why: str = ""

    def describe(self) -> str:
        lo = f"> {_num(self.lo)}" if self.lo_open else f">= {_num(self.lo)}"
        unit = f" {self.unit}" if self.unit else ""
        return f"{lo} and <= {_num(self.hi)}{unit}"

    def ok(self, x: float) -> bool:
        return (x > self.lo if self.lo_open else x >= self.lo) and x <= self.hi

    def message(self, x: float) -> str:
        """Why `x` is refused, in pydantic's words, and the allowed range."""
        unit = f" {self.unit}" if self.unit else ""
        if x <= self.lo if self.lo_open else x < self.lo:
            side = (f"greater than {_num(self.lo)}" if self.lo_open
                    else f"greater than or equal to {_num(self.lo)}")
        else:
            side = f"less than or equal to {_num(self.hi)}{unit}"
        why = f" ({self.why})" if self.why else ""
        return f"Input should be {side}; allowed: {self.describe()}{why}"


def _num(x: float) -> str:
    """A limit for people: whole numbers below 10^10 in full, others in %g."""
    return str(int(x)) if x == int(x) and abs(x) < 1e10 else f"{x:g}"


def _pos(hi: float, unit: str = "", why: str = "") -> Limit:
    return Limit(0, hi, unit, lo_open=True, why=why)


def _nonneg(hi: float, unit: str = "", why: str = "") -> Limit:
    return Limit(0, hi, unit, why=why)


#: most requests one routing simulation may draw (memory grows linearly with requests)
MAX_REQUESTS = 2_000_000
#: most sequential calls in one agent session
MAX_AGENT_CALLS = 1_000
#: most items in a list given by a user (candidates, users, sites, alternatives, profiles)
MAX_LIST_ITEMS = 1_000
#: longest text value [characters]
MAX_TEXT_CHARS = 1_000
#: most entries in a mapping given by a user (caps per region, RTT matrix rows)
MAX_MAP_ITEMS = 1_000
#: default bounds of a number with no entry in LIMITS
DEFAULT_INT_MAX = 10**15
DEFAULT_FLOAT_MAX = 1e30

_TOKENS = 1e8  # longest sequence or length in tokens (100M tokens of context)
_GPUS = 1e8    # largest accelerator count (two orders of magnitude above today's clusters)
_MW = 1e5      # 100 GW: above any announced campus
_S = 1e6       # latency-like durations: 11.6 days

#: (section, field) or field -> Limit; the section is the schema class name
LIMITS: dict[Any, Limit] = {
    # model shape
    "layers": _pos(1e4), "hidden": _pos(2**20), "heads": _pos(2**16), "kv_heads": _pos(2**16),
    "head_dim": _pos(2**16), "ffn": _nonneg(1e7), "vocab": _pos(1e8),
    "max_context": _pos(1e9, "tokens"),
    "experts": _pos(1e5), "top_k": _pos(1e5), "shared_experts": _nonneg(1e4),
    "expert_ffn": _pos(1e7), "dense_layers": _nonneg(1e4),
    "q_lora_rank": _pos(1e6), "kv_lora_rank": _pos(1e6), "qk_nope_head_dim": _pos(1e6),
    "qk_rope_head_dim": _pos(1e6), "v_head_dim": _pos(1e6),
    # hardware and layout
    "nic_bytes_per_s": Limit(1e3, 1e15, "B/s"), "wan_bytes_per_s": Limit(1e3, 1e15, "B/s"),
    "gpus": _pos(_GPUS, "accelerators"),
    "tp": _pos(1e5), "pp": _pos(1e5), "dp": _pos(_GPUS), "cp": _pos(1e5), "ep": _pos(1e5),
    "vpp": _pos(1e4), "microbatch": _pos(1e6, "sequences"),
    "sync_every_steps": _pos(1e9, "steps"), "rtt_s": _nonneg(10, "s"),
    # training
    "tokens": Limit(1, 1e17, "tokens", why="1,000x the largest published pre-training run"),
    "seq_len": _pos(_TOKENS, "tokens"), "global_batch": _pos(1e9, "sequences"),
    "lora_rank": _pos(1e6), "rollout_tokens": _pos(_TOKENS, "tokens"),
    "flop": Limit(1, 1e35, "FLOP"), "days": Limit(1e-3, 36_500, "days"),
    "facility_power_mw": Limit(1e-6, _MW, "MW"), "it_power_mw": Limit(1e-6, _MW, "MW"),
    # fractions that divide: a denormal would make an infinity
    "goodput_frac": Limit(1e-3, 1), "stack_efficiency_frac": Limit(1e-3, 1),
    "mfu_frac": Limit(1e-3, 1), "layers_frac": Limit(1e-3, 1), "ffn_frac": Limit(1e-3, 1),
    "heads_frac": Limit(1e-3, 1),
    # serving
    "prompt_tokens": _pos(_TOKENS, "tokens"), "output_tokens": _pos(_TOKENS, "tokens"),
    "batch": _pos(1e7, "sequences"), "rate_per_s": Limit(1e-9, 1e9, "requests/s"),
    "spec_tokens": _pos(1e3, "tokens"), "calls": _pos(MAX_AGENT_CALLS, "calls"),
    "tool_time_s": _nonneg(_S, "s"), "tool_s": _nonneg(_S, "s"),
    "tool_result_tokens": _nonneg(_TOKENS, "tokens"),
    "ttft_s": Limit(1e-6, _S, "s"), "tpot_s": Limit(1e-6, _S, "s"),
    "e2e_s": Limit(1e-6, _S, "s"),
    # energy and site
    "pue": Limit(1.0, 10.0, why="PUE is facility / IT power, at least 1"),
    "grid_intensity_g_per_kwh": _nonneg(5_000, "g/kWh", "above the dirtiest lignite"),
    "price_usd_per_mwh": _nonneg(1e5, "USD/MWh"),
    "power_cap_w": Limit(1, 1e5, "W"), "gpu_hour_price_usd": _nonneg(1e4, "USD"),
    "capex_usd_per_gpu": _nonneg(1e8, "USD"), "capex_life_years": Limit(0.01, 100, "years"),
    "capacity_charge_usd_per_mw_year": _nonneg(1e9, "USD/MW/year"),
    "power_mw": Limit(1e-6, _MW, "MW"), "rack_kw": Limit(0.01, 1e4, "kW"),
    "gpus_per_rack": _pos(1e5), "caps_mw": Limit(1e-6, _MW, "MW"),
    "max_latency_s": Limit(1e-6, 10, "s"),
    "curtailment_frac": _nonneg(1), "software_year": Limit(2012, 2100),
    # routing
    "requests": _pos(MAX_REQUESTS, "requests", "memory grows with the requests simulated"),
    "seed": _nonneg(2**32 - 1), "demand_rps": Limit(1e-9, 1e9, "requests/s"),
    "lat": Limit(-90, 90, "degrees"), "lon": Limit(-180, 180, "degrees"),
    "utc_offset_h": Limit(-12, 14, "h"), "mean": _pos(_TOKENS, "tokens"),
    "low": _pos(_TOKENS, "tokens"), "high": _pos(_TOKENS, "tokens"), "sigma": _pos(10),
    "replicas": _pos(1e5, "replicas"), "diurnal": _nonneg(1e3),
    "price_usd_per_mwh_hourly": _nonneg(1e5, "USD/MWh"),
    ("SiteSpec", "power_cap_w"): Limit(1, 1e11, "W"),
    ("Budget", "gpus"): _pos(_GPUS, "accelerators"),
}

_SHOW = reprlib.Repr()
_SHOW.maxstring = 48
_SHOW.maxother = 48
_SHOW.maxlong = 24
_SHOW.maxlist = _SHOW.maxtuple = _SHOW.maxdict = _SHOW.maxset = 3
_SHOW.maxlevel = 2


def shown(value: Any) -> str:
    """`value` for a message: at most about 60 characters, built without expanding it (a list
    of a million items or an alias bomb costs the same as a short one)."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return _SHOW.repr(value)


def limit_for(section: str, field: str) -> Limit | None:
    return LIMITS.get((section, field)) or LIMITS.get(field)


def _is_fraction(field: str) -> bool:
    return field.endswith("_frac")


# --- what a schema field accepts --------------------------------------------------------------

@dataclass(frozen=True)
class Accepts:
    """The plain types a field accepts at its top level and inside its lists/mapping values."""

    bool_: bool
    number: bool
    text: bool
    other: bool  # a nested section (a mapping) or anything else
    list_: bool = False
    mapping: bool = False


def accepts(annotation: Any) -> Accepts:
    """Plain types named by `annotation` (unions, Optional, Literal, list[...] and
    dict[str, ...] are looked through)."""
    seen: set[str] = set()

    def walk(a: Any) -> None:
        origin = typing.get_origin(a)
        if origin is typing.Literal:
            for v in typing.get_args(a):
                seen.add("bool" if isinstance(v, bool) else
                         "number" if isinstance(v, int | float) else "text")
        elif origin in (typing.Union, types.UnionType):
            for x in typing.get_args(a):
                walk(x)
        elif origin in (list, tuple, set, frozenset):
            seen.add("list")
            for x in typing.get_args(a):
                walk(x)
        elif origin is dict:
            seen.add("mapping")
            args = typing.get_args(a)
            if args:
                walk(args[-1])
        elif a is bool:
            seen.add("bool")
        elif a in (int, float):
            seen.add("number")
        elif a is str:
            seen.add("text")
        elif a is type(None):
            pass
        else:
            seen.add("other")

    walk(annotation)
    return Accepts("bool" in seen, "number" in seen, "text" in seen, "other" in seen,
                   "list" in seen, "mapping" in seen)


class BoundError(ValueError):
    """A value outside its limit; the message says what is allowed."""


def _check_scalar(section: str, field: str, value: Any, acc: Accepts) -> None:
    if isinstance(value, bool):
        if not acc.bool_:
            want = "a number" if acc.number else "text" if acc.text else "a section"
            raise BoundError(f"expected {want}, not the boolean {shown(value)} (quote it "
                             "if you mean text)" if acc.text else
                             f"expected {want}, not a boolean")
        return
    if isinstance(value, int | float):
        if not acc.number:
            if acc.bool_ and not acc.text:
                raise BoundError("expected true or false")
            return
        x = float(value) if not isinstance(value, int) or abs(value) < 10**300 else math.inf
        if not math.isfinite(x):
            raise BoundError("Input should be a finite number")
        lim = limit_for(section, field)
        if lim is None and _is_fraction(field):
            lim = Limit(0, 1, "(a fraction)")
        if lim is not None and not lim.ok(x):
            raise BoundError(lim.message(x))
        if lim is None:
            top = DEFAULT_INT_MAX if isinstance(value, int) else DEFAULT_FLOAT_MAX
            if abs(x) > top:
                raise BoundError(f"allowed: magnitude <= {top:g}")
        return
    if isinstance(value, str):
        if len(value) > MAX_TEXT_CHARS:
            raise BoundError(f"text of {len(value):,} characters; allowed: at most "
                             f"{MAX_TEXT_CHARS:,}")
        if not acc.text and not acc.other:
            if acc.number:  # numeric text ("2.0e12", as YAML 1.1 reads it) is a number
                try:
                    number = float(value.strip())
                except ValueError:
                    raise BoundError("expected a number, not text") from None
                _check_scalar(section, field, number, acc)
            elif acc.bool_:
                raise BoundError("expected true or false, not text")


def check_field(section: str, field: str, annotation: Any, value: Any) -> Any:
    """Check one raw field value (before pydantic coerces it) against :data:`LIMITS` and the
    field's declared types; return it unchanged or raise :class:`BoundError`."""
    if value is None:
        return value
    acc = accepts(annotation)
    want = ("a number" if acc.number else "text" if acc.text
            else "true or false" if acc.bool_ else "")
    if isinstance(value, list | tuple) and not acc.list_ and want and not acc.other:
        raise BoundError(f"expected {want}, not a list")
    if isinstance(value, dict) and not acc.mapping and want and not acc.other:
        raise BoundError(f"expected {want}, not a mapping")
    if isinstance(value, list | tuple):
        if len(value) > MAX_LIST_ITEMS:
            raise BoundError(f"a list of {len(value):,} items; allowed: at most "
                             f"{MAX_LIST_ITEMS:,}")
        for i, item in enumerate(value):
            if not isinstance(item, dict | list | tuple):
                try:
                    _check_scalar(section, field, item, acc)
                except BoundError as err:
                    raise BoundError(f"item {i} = {shown(item)}: {err}") from None
        return value
    if isinstance(value, dict):
        if len(value) > MAX_MAP_ITEMS:
            raise BoundError(f"a mapping of {len(value):,} entries; allowed: at most "
                             f"{MAX_MAP_ITEMS:,}")
        if not acc.other:  # a dict[str, number] field: check its values
            for k, item in value.items():
                if not isinstance(item, dict | list | tuple):
                    try:
                        _check_scalar(section, field, item, acc)
                    except BoundError as err:
                        raise BoundError(f"entry {shown(k)} = {shown(item)}: {err}") from None
        return value
    _check_scalar(section, field, value, acc)
    return value


# --- CLI flags --------------------------------------------------------------------------------

#: flags that are not scenario fields, with their limits
FLAG_LIMITS: dict[str, Limit] = {
    "--hours": Limit(1e-3, 876_000, "h", why="100 years"),
    "--tokens": LIMITS["tokens"], "--seq-len": LIMITS["seq_len"],
    "--training-flop": LIMITS["flop"],
    "--requests": _pos(MAX_REQUESTS, "requests", "memory grows with the requests simulated"),
    "--seed": _nonneg(2**32 - 1),
    "--samples": _pos(1e6),
    "--days": _pos(36_500, "days"),
    "--port": Limit(1, 65535),
}


def check_flag(flag: str, value: Any) -> None:
    """Refuse a non-finite number given to `flag`, or one outside :data:`FLAG_LIMITS` (one
    line, exit 2)."""
    from .errors import InputError

    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"{flag} {value!r}: expected a finite number")
    lim = FLAG_LIMITS.get(flag)
    if lim is None:  # a flag that sets a scenario field is bounded there, by that field
        return
    if not lim.ok(float(value)):
        raise InputError(f"{flag} {shown(value)}: {lim.message(float(value))}")


def check_flags(params: dict[str, Any], flags: dict[str, str]) -> None:
    """:func:`check_flag` for every numeric parameter of a command (`flags` maps a parameter
    name to its flag, e.g. ``tokens`` -> ``--tokens``)."""
    for name, value in params.items():
        flag = flags.get(name)
        if flag is None:
            continue
        if isinstance(value, list | tuple):
            for v in value:
                check_flag(flag, v)
        else:
            check_flag(flag, value)


def check_model_field(model: Any, field: str, value: Any) -> Any:
    """:func:`check_field` for field `field` of the pydantic model class `model` (its
    annotation from ``model_fields``); the schema classes call it before coercion."""
    info = model.model_fields.get(field)
    if info is None:
        return value
    return check_field(model.__name__, field, info.annotation, value)


# --- catalog rows -----------------------------------------------------------------------------

#: (column-name pattern, Limit) for catalog columns, first match wins; a numeric column that
#: matches none is >= 0 and finite. Zero power, FLOP/s or bandwidth would divide by zero or
#: plan negative energy, so those are > 0.
CATALOG_LIMITS: tuple[tuple[str, Limit], ...] = (
    (r"lat", Limit(-90, 90, "degrees")),
    (r"lon", Limit(-180, 180, "degrees")),
    (r"pue_.*", Limit(1.0, 10.0, why="PUE is facility / IT power, at least 1")),
    (r".*_frac", Limit(0, 1, lo_open=True)),
    (r"tdp_w", _pos(1e5, "W")),
    (r"idle_w|host_power_w", _nonneg(1e5, "W")),
    (r".*_flop_per_s|.*_op_per_s", _pos(1e18, "FLOP/s")),
    (r"hbm_bytes", _pos(1e14, "B")),
    (r".*_bytes_per_s.*", _pos(1e15, "B/s")),
    (r"node_.*_power_w|rack_.*power_w|rack_density_.*_w", _pos(1e7, "W")),
    (r"available_w|headroom_added_w_per_year", _nonneg(1e11, "W")),
    (r"carbon_intensity_g_per_kwh", _nonneg(5_000, "g/kWh")),
    (r"price_usd_per_mwh", _nonneg(1e5, "USD/MWh")),
    (r".*_years_(low|high)", _nonneg(100, "years")),
    (r"([a-z]+_)?year", Limit(1900, 2100)),
    (r"step_overhead_s", _nonneg(10, "s")),
    (r"params_published", _pos(1e16, "parameters")),
    (r"max_batch", _pos(1e7, "sequences")),
    (r"scaleup_domain|accelerators_per_node|nodes_per_rack", _pos(1e6, "devices")),
    (r"die_area_mm2", _pos(1e5, "mm^2")),
)


def catalog_limit(column: str) -> Limit | None:
    """The Limit of catalog column `column` (model shape columns share the scenario's)."""
    import re

    for pattern, lim in CATALOG_LIMITS:
        if re.fullmatch(pattern, column):
            return lim
    for prefix in ("moe_", "mla_"):
        if column.startswith(prefix):
            return LIMITS.get(column[len(prefix):])
    return LIMITS.get(column)


def check_catalog_value(column: str, value: float | int) -> str | None:
    """Why `value` is not allowed in catalog column `column`, or None when it is."""
    x = float(value) if abs(value) < 1e300 else math.inf
    if not math.isfinite(x):
        return "Input should be a finite number"
    lim = catalog_limit(column)
    if lim is None:
        lim = _nonneg(DEFAULT_FLOAT_MAX)
    return None if lim.ok(x) else lim.message(x)
