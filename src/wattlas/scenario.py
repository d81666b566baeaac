"""The scenario file: one YAML document that every verb reads.

Pydantic models at the boundary only; unknown keys are errors that name the key path and the
allowed keys. ``--set a.b=c`` overrides a field before validation. Omitted sections mean "not
asked for". Catalog ids are checked when the scenario is resolved (``resolve_model`` etc.).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from . import bounds
from .errors import InputError, ScenarioError
from .routing.spec import RoutingSpec

Precision = Literal["bf16", "fp16", "fp8", "fp4", "nvfp4", "mxfp4", "int8", "int4"]
Recompute = Literal["none", "selective", "full", "op"]


class Section(BaseModel):
    """A scenario section: unknown keys refused, numbers finite, every field within its limit
    in :data:`wattlas.bounds.LIMITS` and of its declared type (no boolean for a number, no text
    for a number or a boolean)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _bounded(cls, value: Any, info: Any) -> Any:
        return bounds.check_model_field(cls, info.field_name, value)


class MoEInline(Section):
    experts: int = Field(gt=0)
    top_k: int = Field(gt=0)
    shared_experts: int = Field(default=0, ge=0)
    expert_ffn: int = Field(gt=0)
    dense_layers: int = Field(default=0, ge=0)


class MLAInline(Section):
    q_lora_rank: int | None = Field(default=None, gt=0)
    kv_lora_rank: int = Field(gt=0)
    qk_nope_head_dim: int = Field(gt=0)
    qk_rope_head_dim: int = Field(gt=0)
    v_head_dim: int = Field(gt=0)


class MambaInline(Section):
    """Mamba-2 mixer shape of a hybrid model (``model.hybrid_pattern`` with M layers)."""

    heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    state: int = Field(gt=0)
    groups: int = Field(default=1, gt=0)
    conv_kernel: int = Field(default=4, gt=0)
    chunk: int = Field(default=128, gt=0)


class ModelInline(Section):
    """An inline model definition (same fields as the models catalog)."""

    id: str = "inline"
    layers: int = Field(gt=0)
    hidden: int = Field(gt=0)
    heads: int = Field(gt=0)
    kv_heads: int | None = Field(default=None, gt=0)
    head_dim: int | None = Field(default=None, gt=0)
    ffn: int = Field(default=0, ge=0)
    ffn_type: Literal["gelu", "relu", "swiglu"] = "swiglu"
    vocab: int = Field(gt=0)
    tied_embeddings: bool = False
    position: Literal["rope", "learned", "alibi"] = "rope"
    max_context: int | None = Field(default=None, gt=0)
    norm: Literal["layernorm", "rmsnorm"] = "rmsnorm"
    bias: bool = False
    qkv_bias: bool = False
    qk_norm: bool = False
    moe: MoEInline | None = None
    mla: MLAInline | None = None
    #: hybrid Mamba–Transformer layer pattern, one character per layer: M Mamba-2,
    #: * attention, - MLP, E MoE (Nemotron-H hybrid_override_pattern)
    hybrid_pattern: str | None = Field(default=None, pattern=r"^[M*\-E]+$")
    mamba: MambaInline | None = None

    @model_validator(mode="after")
    def _dense_layers(self) -> ModelInline:
        if self.moe is not None and self.moe.dense_layers >= self.layers:
            raise ValueError(f"moe.dense_layers = {self.moe.dense_layers} but the model has "
                             f"{self.layers} layers; allowed: 0 <= dense_layers < layers")
        return self


class NetworkSpec(Section):
    """The cluster network beyond the system's NICs (wattlas.perf.network): full-bisection pods
    of ``pod_gpus`` GPUs (0: the whole cluster non-blocking), ``oversubscription`` above them
    (7 for 1:7), NVLink SHARP (``nvls``) and switch reduction across nodes (``sharp``)."""

    pod_gpus: int = Field(default=0, ge=0, le=10**7)
    oversubscription: float = Field(default=1.0, ge=1.0, le=1000.0)
    nvls: bool = False
    sharp: bool = False


class _HardwareBase(Section):
    accelerator: str | None = None
    system: str | None = None
    #: scale-out NIC bandwidth per accelerator per direction [B/s]; overrides the system's
    nic_bytes_per_s: float | None = Field(default=None, gt=0)


class Hardware(_HardwareBase):
    #: the cluster network (pods, oversubscription, NVLS, SHARP); absent: non-blocking
    network: NetworkSpec | None = None


class Cluster(Section):
    gpus: int = Field(gt=0)


class CompareHardware(_HardwareBase):
    """One alternative to the scenario's hardware: replaces the whole ``hardware`` section (so a
    ``nic_bytes_per_s`` of the baseline is not carried over) and, with ``gpus``, the cluster
    size (default: ``cluster.gpus``, the same job on as many accelerators)."""

    gpus: int | None = Field(default=None, gt=0)


class Compare(Section):
    """Alternative hardware for the same training job, costed through the same stages.

    ``layout: keep`` reuses ``training.layout`` where it is valid and fits on the alternative
    (with ``dp`` following the GPU count when ``gpus`` differs) and searches otherwise;
    ``layout: search`` always searches."""

    hardware: list[CompareHardware] = Field(min_length=1)
    layout: Literal["keep", "search"] = "keep"


class Layout(Section):
    tp: int = Field(default=1, gt=0)
    pp: int = Field(default=1, gt=0)
    dp: int | None = Field(default=None, gt=0)
    cp: int = Field(default=1, gt=0)
    ep: int = Field(default=1, gt=0)
    vpp: int = Field(default=1, gt=0)
    microbatch: int = Field(default=1, gt=0)
    recompute: Recompute = "selective"
    zero: Literal[0, 1, 2, 3] = 1
    sequence_parallel: bool = True
    flash_attention: bool = True
    offload: Literal["none", "optimizer", "optimizer+weights", "activations"] = "none"
    uneven_pp: bool = False  # accept pp·vpp not dividing layers (heaviest stage sets the pace)
    dp_shard: int = Field(default=0, ge=0)  # hybrid sharding group (0: all dp·cp ranks)
    etp: int = Field(default=0, ge=0)  # expert tensor parallelism (0: the dense tp)


class Geo(Section):
    """Geo-distributed data-parallel training (grid.geodist): the data-parallel replicas split
    evenly over ``sites`` (region ids, at least two) joined by WAN links of ``wan_bytes_per_s``
    each; gradients synchronised every ``sync_every_steps`` steps (1: hierarchical all-reduce
    every step; > 1: DiLoCo-style outer sync). ``rtt_s`` overrides the modelled WAN round trip
    (largest between ring neighbours, grid.geo.rtt_s)."""

    sites: list[str] = Field(min_length=2)
    wan_bytes_per_s: float = Field(gt=0)
    sync_every_steps: int = Field(default=1, gt=0)
    scheme: Literal["hierarchical", "diloco"] | None = None
    overlap_frac: float = Field(default=1.0, ge=0, le=1)
    rtt_s: float | None = Field(default=None, ge=0)

    @field_validator("sites", mode="before")
    @classmethod
    def _sites(cls, value: Any) -> Any:
        value = norway_id(value)
        if isinstance(value, list) and len(set(map(str, value))) != len(value):
            raise ValueError("each site may appear once")
        return value

    @model_validator(mode="after")
    def _scheme(self) -> Geo:
        if self.scheme == "hierarchical" and self.sync_every_steps > 1:
            raise ValueError(f"scheme hierarchical syncs every step; sync_every_steps="
                             f"{self.sync_every_steps} needs scheme: diloco")
        return self

    @property
    def scheme_used(self) -> str:
        return self.scheme or ("hierarchical" if self.sync_every_steps == 1 else "diloco")


class Training(Section):
    tokens: float = Field(gt=0)
    seq_len: int = Field(gt=0)
    global_batch: int = Field(gt=0, description="sequences per step")
    precision: Precision = "bf16"
    layout: Layout | None = None
    job: Literal["pretrain", "sft", "lora", "rlhf", "grpo"] = "pretrain"
    goodput_frac: float | None = Field(default=None, gt=0, le=1)
    lora_rank: int | None = Field(default=None, gt=0, description="LoRA adapter rank")
    rollout_tokens: int | None = Field(default=None, gt=0,
                                       description="RL: generated tokens per sequence")
    software_year: int | None = Field(
        default=None, ge=2012, le=2100,
        description="plan with the layout features published by this year (perf.training.software)")
    stack_efficiency_frac: float = Field(
        default=1.0, gt=0, le=1,
        description="throughput of the training stack relative to the calibrated model")
    geo: Geo | None = None


class Budget(Section):
    """A training budget to size a Chinchilla-optimal model for (``wattlas train`` with no
    training section, or ``--budget-*`` flags; ``plan`` adds a budget stage): exactly one of
    ``facility_power_mw`` [MW, converted at load], ``gpus`` or ``flop``, and ``days`` for power
    and GPU budgets. ``mfu_frac`` default 0.40 and ``goodput_frac`` 0.90 (energy.budget)."""

    facility_power_mw: float | None = Field(default=None, gt=0)
    gpus: int | None = Field(default=None, gt=0)
    flop: float | None = Field(default=None, gt=0)
    days: float | None = Field(default=None, gt=0)
    mfu_frac: float | None = Field(default=None, gt=0, le=1)
    goodput_frac: float | None = Field(default=None, gt=0, le=1)
    precision: Literal["bf16", "fp16", "fp8", "fp4"] = "bf16"


class SLO(Section):
    ttft_s: float | None = Field(default=None, gt=0)
    tpot_s: float | None = Field(default=None, gt=0)
    e2e_s: float | None = Field(default=None, gt=0)


class AgentSessionSpec(Section):
    """Agent sessions: ``calls`` sequential model calls with tool time between them."""

    calls: int = Field(gt=0)
    tool_time_s: float = Field(default=0.0, ge=0)
    tool_result_tokens: int = Field(default=0, ge=0)


class PruneSpec(Section):
    """Structured pruning: fractions kept (0 < f ≤ 1) of the layers, MLP width and heads."""

    layers_frac: float = Field(default=1.0, gt=0, le=1)
    ffn_frac: float = Field(default=1.0, gt=0, le=1)
    heads_frac: float = Field(default=1.0, gt=0, le=1)


class Disaggregation(Section):
    """Prefill/decode disaggregation: separate pools of GPUs (perf.serving.disagg). ``ep``: the
    expert-parallel group size in each pool (MoE models); ``dp_attention``: attention runs
    data-parallel inside that group; ``two_batch_overlap`` (default: on when ``ep`` crosses
    nodes); ``prefill_tokens_per_gpu``: tokens per GPU per prefill step."""

    prefill_gpus: int = Field(gt=0)
    decode_gpus: int = Field(gt=0)
    ep: int | None = Field(default=None, gt=0)
    dp_attention: bool = False
    two_batch_overlap: bool | None = None
    prefill_tokens_per_gpu: int | None = Field(default=None, gt=0)


class Serving(Section):
    precision: Precision = "bf16"
    kv_precision: Precision | None = None
    tp: int = Field(default=1, gt=0)
    engine: str | None = None
    prompt_tokens: int = Field(gt=0)
    output_tokens: int = Field(gt=0)
    batch: int | None = Field(default=None, gt=0)
    rate_per_s: float | None = Field(default=None, gt=0)
    slo: SLO | None = None
    sparsity_2_4: bool = False
    draft: str | None = None  # draft model id: speculative decoding
    spec_tokens: int = Field(default=4, gt=0)
    spec_acceptance_frac: float = Field(default=0.7, ge=0, lt=1)
    agent: AgentSessionSpec | None = None
    distill_to: str | ModelInline | None = None  # student served in place of `model`
    prune: PruneSpec | None = None
    disaggregated: Disaggregation | None = None
    #: per-GPU power limit [W]: steps above it run at a lower clock
    #: (perf.serving.roofline.cap_slowdown)
    power_cap_w: float | None = Field(default=None, gt=0)


class Energy(Section):
    power_basis: Literal["tdp", "measured", "modeled"] = "modeled"
    pue: float | None = Field(default=None, ge=1.0)
    grid_intensity_g_per_kwh: float | None = Field(default=None, ge=0)
    price_usd_per_mwh: float | None = Field(default=None, ge=0)
    ppa_frac: float | None = Field(default=None, ge=0, le=1)
    power_cap_w: float | None = Field(default=None, gt=0)
    gpu_hour_price_usd: float | None = Field(default=None, ge=0)
    capex_usd_per_gpu: float | None = Field(default=None, ge=0)
    capex_life_years: float | None = Field(default=None, gt=0)
    capacity_charge_usd_per_mw_year: float | None = Field(default=None, ge=0)
    #: accounting boundary: gpu (accelerators) | node (+ hosts, network) | facility (× PUE)
    boundary: Literal["gpu", "node", "facility"] = "facility"
    #: pause training in this share of the hours, the dirtiest (pause_by carbon) or dearest
    #: (price) of the region's hourly profile (site.profiles)
    pause_frac: float = Field(default=0.0, ge=0, le=0.9)
    pause_by: Literal["carbon", "price"] = "carbon"


def norway_id(value: Any) -> Any:
    """YAML 1.1 reads an unquoted ``no`` as false; in a region-id field it can only mean the
    region ``no`` (Norway)."""
    if value is False:
        return "no"
    if isinstance(value, list):
        return [norway_id(v) for v in value]
    return value


def _region_keys(value: Any) -> Any:
    """A mapping keyed by region ids, with YAML's ``no: ...`` (false) read as Norway."""
    if isinstance(value, dict):
        return {norway_id(k): v for k, v in value.items()}
    return value


class Allocate(Section):
    """Split the fleet over the candidate regions (grid.allocation, a MILP): give the IT power
    to place (``it_power_mw``) or the accelerators (``gpus``, racks of ``gpus_per_rack``,
    default the system's). Each region's facility cap is ``caps_mw`` [MW] where given, else the
    catalog's available power; regions with neither are left out (named in the notes)."""

    it_power_mw: float | None = Field(default=None, gt=0)
    gpus: int | None = Field(default=None, gt=0)
    gpus_per_rack: int | None = Field(default=None, gt=0)
    caps_mw: dict[str, float] | None = None
    max_latency_s: float | None = Field(default=None, gt=0)

    _caps = field_validator("caps_mw", mode="before")(_region_keys)

    @field_validator("caps_mw")
    @classmethod
    def _positive(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        for k, v in (value or {}).items():
            if not v > 0:
                raise ValueError(f"caps_mw.{k} = {v}: must be > 0 MW")
        return value

    @model_validator(mode="after")
    def _one_demand(self) -> Allocate:
        if (self.it_power_mw is None) == (self.gpus is None):
            raise ValueError("give exactly one of it_power_mw or gpus")
        return self


class Site(Section):
    region: str | None = None
    cooling: Literal["air", "hybrid", "liquid"] = "liquid"
    candidates: list[str] | None = None
    power_mw: float | None = Field(default=None, gt=0)
    rack_kw: float | None = Field(default=None, gt=0)
    #: region id -> CSV of hourly/monthly carbon_intensity_g_per_kwh and/or price_usd_per_mwh
    #: (paths relative to the scenario file)
    profiles: dict[str, str] | None = None
    allocate: Allocate | None = None
    #: share of the year's hours the load accepts to be curtailed (flexible interconnection,
    #: grid.flexibility); 0 = a firm load
    curtailment_frac: float = Field(default=0.0, ge=0, le=0.5)
    #: on-site / contracted supply options to compare with grid-only (wattlas catalog onsite)
    onsite: list[str] | None = None

    _norway = field_validator("region", "candidates", mode="before")(norway_id)

    @field_validator("candidates")
    @classmethod
    def _candidates(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if not value:
                raise ValueError("an empty list; give at least one region id (or leave "
                                 "candidates out to rank every region)")
            dup = sorted({v for v in value if value.count(v) > 1})
            if dup:
                raise ValueError(f"{', '.join(d[:40] for d in dup[:4])} given more than once; "
                                 "give each region once")
        return value
    _profiles = field_validator("profiles", mode="before")(_region_keys)


class Scenario(Section):
    """The whole scenario file."""

    name: str | None = None
    catalogs: list[str] | None = None
    model: str | ModelInline | None = None
    hardware: Hardware | None = None
    cluster: Cluster | None = None
    training: Training | None = None
    budget: Budget | None = None
    serving: Serving | None = None
    energy: Energy | None = None
    site: Site | None = None
    routing: RoutingSpec | None = None
    compare: Compare | None = None
    #: numbers given as a range or a distribution (wattlas.uncertainty.inputs); the fields
    #: above hold their medians
    _ranges: tuple[Any, ...] = PrivateAttr(default=())

    @property
    def ranges(self) -> tuple[Any, ...]:
        """The scenario's uncertain inputs (:class:`wattlas.uncertainty.inputs.InputRange`)."""
        return self._ranges


_TAG = re.compile(r"^(?:function-|(?:str|int|float|bool|none)$|(?:list|dict|literal)\[|"
                  r"[A-Z][a-z]+[A-Za-z0-9]*$)")


def _key_path(loc: tuple[Any, ...]) -> str:
    """The dotted key path of a pydantic error location, without union-branch tags."""
    parts = [str(p) for p in loc if not (isinstance(p, str) and _TAG.match(p))]
    return ".".join(p if len(p) <= 40 else p[:39] + "…" for p in parts)


def _pick(errors: list[Any]) -> Any:
    """The error to report: an unknown key first; else, of a union's branches, one that got
    past the type check (the branch the input was meant for), deepest first."""
    extra = [x for x in errors if x["type"] == "extra_forbidden"]
    if extra:
        return extra[0]
    for keep in (lambda t: not t.endswith("_type") and t != "missing",
                 lambda t: t == "missing"):
        specific = [x for x in errors if keep(x["type"])]
        if specific:
            return max(specific, key=lambda x: len(x["loc"]))
    return max(errors, key=lambda x: len(x["loc"]))  # the branch the input got furthest in


def _format_error(err: ValidationError) -> str:
    """One line for the most telling error: key path, value (shortened) and what is allowed."""
    errors = err.errors()
    e = _pick(errors)
    path = _key_path(e["loc"])
    kind, msg = e["type"], e["msg"]
    if kind == "extra_forbidden":
        parent = _model_at(Scenario, [p for p in e["loc"][:-1]])
        allowed = ", ".join(parent.model_fields) if parent else ""
        return f"scenario: unknown key '{path}'; allowed here: {allowed}"
    msg = msg.removeprefix("Value error, ")
    if kind.endswith("_type"):
        alike = [x["msg"] for x in errors if _key_path(x["loc"]) == path
                 and x["type"].endswith("_type")]
        if len(alike) > 1:
            msg = "expected one of: " + "; ".join(
                dict.fromkeys(m.removeprefix("Input should be ") for m in alike))
    value = e.get("input")
    shown = "" if isinstance(value, dict) else f" = {bounds.shown(value)}"
    return f"scenario: {path or 'top level'}{shown}: {msg}"


def _model_at(model: type[BaseModel], loc: list[Any]) -> type[BaseModel] | None:
    for key in loc:
        if not isinstance(key, str):
            continue
        field = model.model_fields.get(key)
        if field is None:
            if key == "ModelInline":
                model = ModelInline
                continue
            return model
        ann = field.annotation
        nxt = None
        for cand in getattr(ann, "__args__", (ann,)):
            if isinstance(cand, type) and issubclass(cand, BaseModel):
                nxt = cand
        if nxt is None:
            return model
        model = nxt
    return model


def parse_value(text: str, where: str = "--set") -> Any:
    """A ``--set`` value read as YAML (core schema, bounded like a file); text that is not
    valid YAML stays text."""
    from .safeio import YamlSyntaxError, load_yaml

    try:
        return load_yaml(text, where)
    except YamlSyntaxError:
        return text


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply one ``a.b=c`` override (value parsed as YAML) in place; a numeric key indexes a
    list (``routing.sites.0.replicas=4``)."""
    shown = bounds.shown(assignment)
    if "=" not in assignment:
        raise ScenarioError(f"--set {shown}: expected key.path=value")
    path, raw = assignment.split("=", 1)
    keys = path.strip().split(".")
    if not path.strip():
        raise ScenarioError(f"--set {shown}: empty key path; expected key.path=value")
    if any(not k for k in keys):
        raise ScenarioError(f"--set {shown}: empty key in '{bounds.shown(path)[1:-1]}'; "
                            "expected key.path=value with keys between single dots")
    if len(keys) > MAX_SET_KEYS:
        raise ScenarioError(f"--set {shown}: {len(keys)} keys; allowed: at most "
                            f"{MAX_SET_KEYS}")
    where = f"--set {bounds.shown(path)}"
    node: Any = data
    for depth, k in enumerate(keys):
        last = depth == len(keys) - 1
        if isinstance(node, list):
            if not k.isdigit() or int(k) >= len(node):
                raise ScenarioError(f"--set {shown}: '{bounds.shown(k)[1:-1]}' is not an "
                                    f"index of a list of {len(node)} items")
            if last:
                node[int(k)] = parse_value(raw, where)
                return
            node = node[int(k)]
            continue
        if not isinstance(node, dict):
            raise ScenarioError(f"--set {shown}: '{keys[depth - 1]}' is not a section")
        if last:
            node[k] = parse_value(raw, where)
            return
        if node.get(k) is None:
            node[k] = {}
        node = node[k]


#: most keys in one ``--set`` path
MAX_SET_KEYS = 16


def load_data(path: str | Path | None, overrides: list[str] | None = None) -> dict[str, Any]:
    """Raw mapping of a scenario file with overrides applied (no validation yet). The file is
    read as UTF-8 and YAML 1.2 (:mod:`wattlas.safeio`: bounded size, depth and aliases; no
    duplicate keys; ``no``/``off`` stay text)."""
    from .safeio import load_yaml, read_text, shown_path

    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            text = read_text(p, "scenario file")
            data = load_yaml(text, f"scenario file '{shown_path(p)}'")
        except InputError as exc:
            raise ScenarioError(str(exc)) from None
        data = {} if data is None else data
        if not isinstance(data, dict):
            raise ScenarioError(f"scenario file '{shown_path(p)}': the top level must be a "
                                "mapping")
    for assignment in overrides or []:
        apply_override(data, assignment)
    return data


def _validate(data: dict[str, Any]) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_format_error(err)) from None


def validate(data: dict[str, Any]) -> Scenario:
    """The Scenario of a raw mapping. A number given as a range or a distribution
    (:mod:`wattlas.uncertainty.inputs`) takes its median, and both ends of its support are
    validated like any number, so no draw can leave the field's limits."""
    from .uncertainty.inputs import RangeError, put, split

    try:
        nominal, ranges = split(data, _takes_int)
    except RangeError as err:
        raise ScenarioError(f"scenario: {err}") from None
    scen = _validate(nominal)
    for r in ranges:
        for end in (r.low, r.high):
            _validate(put(nominal, r.path, round(end) if r.integer else end))
    if ranges:
        scen._ranges = tuple(ranges)
    return scen


def _annotation_args(ann: Any) -> list[Any]:
    """The types a field annotation admits, unions and lists unpacked."""
    import typing

    args = typing.get_args(ann)
    if not args:
        return [ann]
    return [t for a in args for t in _annotation_args(a)]


def _takes_int(path: tuple[Any, ...]) -> bool:
    """Whether the scenario field at `path` takes whole numbers only."""
    model: Any = Scenario
    for i, key in enumerate(path):
        if not isinstance(key, str):
            continue  # a list index
        field = model.model_fields.get(key) if model is not None else None
        if field is None:
            return False
        args = _annotation_args(field.annotation)
        if i == len(path) - 1 or (i == len(path) - 2 and not isinstance(path[-1], str)):
            return int in args and float not in args
        model = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)),
                     None)
    return False


def load(path: str | Path | None, overrides: list[str] | None = None) -> Scenario:
    """Read, override and validate a scenario; user catalogs it names are loaded."""
    return prepare(validate(load_data(path, overrides)), path)


def prepare(scen: Scenario, path: str | Path | None) -> Scenario:
    """Load the user catalogs `scen` names and make its ``site.profiles`` paths absolute, both
    relative to the scenario file `path` (the working directory without one)."""
    base = Path(path).parent if path else Path.cwd()
    if scen.catalogs:
        from . import catalog

        for f in scen.catalogs:
            catalog.add_user_rows(base / f)
    if scen.serving is not None:
        _check_model_ids(scen.serving)
    if scen.site is not None and scen.site.profiles:
        profiles = {k: str((base / v).resolve()) for k, v in scen.site.profiles.items()}
        scen = scen.model_copy(update={"site": scen.site.model_copy(
            update={"profiles": profiles})})
    return scen


def _check_model_ids(serving: Serving) -> None:
    """The serving section's other model ids (draft, student) exist, and an error says which
    role the id plays (``--draft llama-nope`` is about the draft, not the served model)."""
    from . import catalog
    from .errors import CatalogKeyError

    for field, flag, role in (("draft", "--draft", "draft model"),
                              ("distill_to", "--distill-to", "student model")):
        value = getattr(serving, field, None)
        if isinstance(value, str):
            try:
                catalog.get("models", value)
            except CatalogKeyError as err:
                raise InputError(f"serving.{field} ({flag}, the {role}): {err}") from None


def resolve_model(model: str | ModelInline):
    """A ModelSpec from a catalog id or an inline definition."""
    from . import catalog
    from .workload.transformer import ModelSpec

    if isinstance(model, str):
        return ModelSpec.from_mapping(catalog.get("models", model), id=model)
    return ModelSpec.from_mapping(model.model_dump(exclude_none=True), id=model.id)
