"""The scenario file: one YAML document that every verb reads.

Pydantic models at the boundary only; unknown keys are errors that name the key path and the
allowed keys. ``--set a.b=c`` overrides a field before validation. Omitted sections mean "not
asked for". Catalog ids are checked when the scenario is resolved (``resolve_model`` etc.).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ScenarioError
from .routing.spec import RoutingSpec

Precision = Literal["bf16", "fp16", "fp8", "fp4", "int8", "int4"]
Recompute = Literal["none", "selective", "full"]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class Hardware(Section):
    accelerator: str | None = None
    system: str | None = None
    #: scale-out NIC bandwidth per accelerator per direction [B/s]; overrides the system's
    nic_bytes_per_s: float | None = Field(default=None, gt=0)


class Cluster(Section):
    gpus: int = Field(gt=0)


class CompareHardware(Hardware):
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
    offload: Literal["none", "optimizer", "optimizer+weights"] = "none"
    uneven_pp: bool = False  # accept pp·vpp not dividing layers (heaviest stage sets the pace)


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


class SLO(Section):
    ttft_s: float | None = Field(default=None, gt=0)
    tpot_s: float | None = Field(default=None, gt=0)
    e2e_s: float | None = Field(default=None, gt=0)


class AgentSessionSpec(Section):
    """Agent sessions: ``calls`` sequential model calls with tool time between them."""

    calls: int = Field(gt=0)
    tool_time_s: float = Field(default=0.0, ge=0)
    tool_result_tokens: int = Field(default=0, ge=0)


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


class Energy(Section):
    power_basis: Literal["tdp", "measured", "modeled"] = "modeled"
    pue: float | None = Field(default=None, ge=1.0)
    grid_intensity_g_per_kwh: float | None = Field(default=None, ge=0)
    price_usd_per_mwh: float | None = Field(default=None, ge=0)
    ppa_frac: float | None = Field(default=None, ge=0, le=1)
    power_cap_w: float | None = Field(default=None, gt=0)


def norway_id(value: Any) -> Any:
    """YAML 1.1 reads an unquoted ``no`` as false; in a region-id field it can only mean the
    region ``no`` (Norway)."""
    if value is False:
        return "no"
    if isinstance(value, list):
        return [norway_id(v) for v in value]
    return value


class Site(Section):
    region: str | None = None
    cooling: Literal["air", "liquid"] = "liquid"
    candidates: list[str] | None = None
    power_mw: float | None = Field(default=None, gt=0)
    rack_kw: float | None = Field(default=None, gt=0)

    _norway = field_validator("region", "candidates", mode="before")(norway_id)


class Scenario(Section):
    """The whole scenario file."""

    name: str | None = None
    catalogs: list[str] | None = None
    model: str | ModelInline | None = None
    hardware: Hardware | None = None
    cluster: Cluster | None = None
    training: Training | None = None
    serving: Serving | None = None
    energy: Energy | None = None
    site: Site | None = None
    routing: RoutingSpec | None = None
    compare: Compare | None = None


def _format_error(err: ValidationError) -> str:
    """One line per the first error: key path, value and what is allowed."""
    errors = err.errors()
    e = next((x for x in errors if x["type"] == "extra_forbidden"), errors[0])
    path = ".".join(str(p) for p in e["loc"] if not str(p).startswith(("function-", "str")))
    path = path.replace(".ModelInline", "")
    kind, msg = e["type"], e["msg"]
    if kind == "extra_forbidden":
        parent = _model_at(Scenario, [p for p in e["loc"][:-1]])
        allowed = ", ".join(parent.model_fields) if parent else ""
        return f"scenario: unknown key '{path}'; allowed here: {allowed}"
    value = e.get("input")
    shown = "" if isinstance(value, dict) else f" = {value!r}"
    return f"scenario: {path}{shown}: {msg}"


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


def parse_value(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply one ``a.b=c`` override (value parsed as YAML) in place; a numeric key indexes a
    list (``routing.sites.0.replicas=4``)."""
    if "=" not in assignment:
        raise ScenarioError(f"--set '{assignment}': expected key.path=value")
    path, raw = assignment.split("=", 1)
    keys = [k for k in path.strip().split(".") if k]
    if not keys:
        raise ScenarioError(f"--set '{assignment}': empty key path")
    node: Any = data
    for depth, k in enumerate(keys):
        last = depth == len(keys) - 1
        if isinstance(node, list):
            if not k.isdigit() or int(k) >= len(node):
                raise ScenarioError(f"--set '{assignment}': '{k}' is not an index of a list of "
                                    f"{len(node)} items")
            if last:
                node[int(k)] = parse_value(raw)
                return
            node = node[int(k)]
            continue
        if not isinstance(node, dict):
            raise ScenarioError(f"--set '{assignment}': '{keys[depth - 1]}' is not a section")
        if last:
            node[k] = parse_value(raw)
            return
        if node.get(k) is None:
            node[k] = {}
        node = node[k]


def load_data(path: str | Path | None, overrides: list[str] | None = None) -> dict[str, Any]:
    """Raw mapping of a scenario file with overrides applied (no validation yet)."""
    import yaml

    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ScenarioError(f"scenario file '{p}' does not exist")
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark else ""
            raise ScenarioError(f"scenario file '{p}'{where}: not valid YAML") from None
        if not isinstance(data, dict):
            raise ScenarioError(f"scenario file '{p}': the top level must be a mapping")
    for assignment in overrides or []:
        apply_override(data, assignment)
    return data


def validate(data: dict[str, Any]) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_format_error(err)) from None


def load(path: str | Path | None, overrides: list[str] | None = None) -> Scenario:
    """Read, override and validate a scenario; user catalogs it names are loaded."""
    scen = validate(load_data(path, overrides))
    if scen.catalogs:
        from . import catalog

        base = Path(path).parent if path else Path.cwd()
        for f in scen.catalogs:
            catalog.add_user_rows(base / f)
    return scen


def resolve_model(model: str | ModelInline):
    """A ModelSpec from a catalog id or an inline definition."""
    from . import catalog
    from .workload.transformer import ModelSpec

    if isinstance(model, str):
        return ModelSpec.from_mapping(catalog.get("models", model), id=model)
    return ModelSpec.from_mapping(model.model_dump(exclude_none=True), id=model.id)
