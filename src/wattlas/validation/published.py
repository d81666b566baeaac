"""Training at scale: the published tables of ``data/validation/published/`` against the planner.

Sources (one file each, transcribed with their origin in every row, see the folder's README):
Megatron-LM README weak scaling (48–6,144 H100), NeMo / Megatron-Bridge performance summaries
25.09–26.08 (H100, B200, B300, GB200, GB300), NeMo 25.02–25.07 (B200, GB200), NeMo 24.07 and its
long-sequence context-parallel tables, torchtitan (PyTorch FSDP2), NeMo AutoModel (FSDP2) and
DeepSpeed ZeRO-3 / ZeRO++.

**One convention.** Every row is compared as MFU in the project's convention (PaLM App. B:
model FLOPs 6·N + 12·L·H·Q·T per token, no recompute, against the dense peak of the run's
precision: BF16 rows against the BF16 peak, FP8/MXFP8 rows against the FP8 peak, NVFP4 rows
against the FP4 peak). A row's published MFU in that convention is its measured throughput
(tokens/s per GPU) × the project's FLOPs per token / that peak. Where a source gives tokens/s
it is used as printed; where it gives only model TFLOP/s per GPU (Megatron-LM README) the
throughput is recovered with the source's own formula, Megatron-LM's
``num_floating_point_operations``: 6·(per-layer matmul parameters·L + h·V) + 12·L·s·h_q FLOPs per
token (the same formula NeMo publishes its TFLOP/s with: for NeMo rows both are printed and agree
to 0.1 %). The error of the MFU is the error of the throughput.

**Calibration subset, chosen before any fit.** Per source (dense and MoE rows apart), the
modelled rows in file order;
a row is in the calibration subset when its index is even *and* it ran on ≤ 512 GPUs. Every row
above 512 GPUs is out of sample, so the scale buckets above 512 test extrapolation in scale.
Calibration rows are marked ``calibration=True`` and summarised apart.

**What is not modelled** is listed by :func:`skipped` with its reason, never dropped silently:
rows with no published layout, rows whose model shape is neither in the catalog nor in the row,
intermediate rows of an optimisation log (a software state on its way to the final one), MoE
models outside the catalog ("not modelled yet"), and rows whose GPU count is ambiguous.
MoE rows whose model is in the catalog are evaluated under sources suffixed " (MoE)".

Mapping choices (stated, not fitted): blank recompute in a NeMo row = none (the performance
recipes state recompute when they use it); Megatron-LM README precision is not stated and its
MFU divides by the BF16 peak, so BF16; "FSDP=N>0" or FSDP2 = ZeRO stage 3, otherwise the
distributed optimizer (ZeRO-1); sequence parallelism whenever tp > 1; FlashAttention on; LoRA
rank 32 (the NeMo/Megatron-Bridge LoRA default ``dim=32``) where a row does not state it; a
row that states its GPUs' board power (torchtitan's H100 "@500W") is planned under that power cap
(the energy model's clock-for-power slowdown, as ``--power-cap`` does).
"""

from __future__ import annotations

import csv
import io
import math
import re
import statistics
from functools import cache
from importlib import resources
from typing import Any

from ..errors import WattlasError
from . import Case

#: file → source name (file order of the folder README)
FILES = {
    "megatron_readme.csv": "Megatron-LM README",
    "nemo_perf_25.csv": "NeMo 25.09-26.08",
    "nemo_perf_2502_2507_partial.csv": "NeMo 25.02-25.07",
    "nemo_perf_2407_longseq.csv": "NeMo 24.07",
    "torchtitan.csv": "torchtitan",
    "fsdp_nemo_automodel.csv": "NeMo AutoModel",
    "zero3.csv": "DeepSpeed ZeRO-3",
}
#: scale buckets of the summary [GPUs]: (label, lowest, highest)
BUCKETS = (("≤64 GPUs", 1, 64), ("65–512 GPUs", 65, 512), ("513–4,096 GPUs", 513, 4096),
           (">4,096 GPUs", 4097, 10**9))
CALIBRATION_MAX_GPUS = 512
LORA_RANK_DEFAULT = 32  # NeMo 2.0 / Megatron-Bridge LoRA default dim
#: catalog id by model name as printed (lower case, separators removed)
MODEL_IDS = {
    "llama38b": "llama3-8b", "llama370b": "llama3-70b", "llama3405b": "llama3-405b",
    "llama3.18b": "llama3.1-8b", "llama3.170b": "llama3.1-70b",
    "llama3.1405b": "llama3.1-405b", "llama27b": "llama2-7b", "llama213b": "llama2-13b",
    "llama270b": "llama2-70b", "gpt3175b": "gpt3-175b", "deepseekv3": "deepseek-v3",
    "deepseekv3671b": "deepseek-v3", "qwen330ba3b": "qwen3-30b-a3b",
    "qwen3moe30b": "qwen3-30b-a3b", "mixtral8x7b": "mixtral-8x7b",
    "nemotron15b": "nemotron-4-15b", "nemotron340b": "nemotron-4-340b",
    "qwen2.57b": "qwen2.5-7b", "qwen2.532b": "qwen2.5-32b",
    "qwen3235ba22b": "qwen3-235b-a22b", "gptoss120b": "gpt-oss-120b", "kimik2": "kimi-k2",
    "mixtral8x22b": "mixtral-8x22b",
    "nemotron3nano": "nemotron-3-nano-30b-a3b", "nemotronv3nano30b": "nemotron-3-nano-30b-a3b",
}
#: models whose catalog rows came after GROUPED_GEMM_EFF was fitted: their rows are all out of
#: sample and do not shift the calibration subset (even index among the other MoE rows)
LATE_MODELS = frozenset({"qwen3-235b-a22b", "gpt-oss-120b", "kimi-k2", "mixtral-8x22b",
                         "nemotron-3-nano-30b-a3b"})
#: published models the planner cannot describe yet, with the reason (by printed name key)
NOT_MODELLED = {
    "nemotron3super": "hybrid Mamba-Transformer with LatentMoE (experts in a 1024-wide latent "
                      "space) and MTP layers: LatentMoE not modelled",
    "nemotronv3super120b": "hybrid Mamba-Transformer with LatentMoE (experts in a 1024-wide "
                           "latent space) and MTP layers: LatentMoE not modelled",
    "nemotron3ultra": "hybrid Mamba-Transformer with LatentMoE and MTP layers: LatentMoE not "
                      "modelled",
    "nemotron35lightning": "hybrid Mamba-Transformer MoE with no catalog row (its layer "
                           "pattern is not transcribed)",
}
MOE_NAMES = ("deepseek", "qwen3_235b", "qwen3 moe", "qwen3_30b", "mixtral", "gpt oss", "gpt-oss",
             "kimi", "llama4", "scout", "nemotron_3", "nemotron v3", "moe", "grok", "maverick")
GENERATION = (("gb300", "Blackwell"), ("gb200", "Blackwell"), ("b300", "Blackwell"),
              ("b200", "Blackwell"), ("h200", "Hopper"), ("h100", "Hopper"),
              ("h800", "Hopper"), ("a100", "Ampere"), ("mi300", "CDNA3"), ("v100", "Volta"))

_SKIPPED: list[tuple[str, str]] = []


@cache
def _rows(name: str) -> tuple[dict[str, str], ...]:
    node = resources.files("wattlas.data").joinpath("validation").joinpath("published")
    text = node.joinpath(name).read_text(encoding="utf-8-sig")
    return tuple(csv.DictReader(io.StringIO(text)))


def rows(name: str) -> list[dict[str, str]]:
    """The rows of one published file as printed (strings)."""
    return list(_rows(name))


def number(v: str | None) -> float | None:
    """A cell as a number: ``[D]`` (derived during transcription) stripped, thousands commas
    removed; None when blank or not a plain number."""
    if v is None:
        return None
    v = v.replace("[D]", "").replace(",", "").strip()
    try:
        return float(v)
    except ValueError:
        return None


def _int(v: str | None, default: int | None = None) -> int | None:
    x = number(v)
    return default if x is None else int(round(x))


def _key(name: str) -> str:
    n = name.lower().split("(")[0]
    n = re.sub(r"[\s_\-]", "", n)
    return n.replace("2node", "")


def accelerator_for(gpu_type: str) -> tuple[str, str | None]:
    """(accelerator id, system id) of a printed GPU type."""
    g = gpu_type.lower()
    for key, acc, sys in (("gb300", "gb300", "gb300-nvl72"), ("gb200", "gb200", "gb200-nvl72"),
                          ("b300", "b300", None), ("b200", "b200", "dgx-b200"),
                          ("h200", "h200-sxm", "dgx-h200"), ("h100", "h100-sxm", "dgx-h100"),
                          ("a100", "a100-sxm-80gb", "dgx-a100"), ("mi300x", "mi300x", None),
                          ("v100", "v100", None)):
        if key in g:
            return acc, sys
    raise WattlasError(f"published GPU type '{gpu_type}' has no catalog accelerator")


def generation(gpu_type: str) -> str:
    g = gpu_type.lower()
    return next((gen for key, gen in GENERATION if key in g), "other")


def precision_for(text: str) -> tuple[str, str]:
    """(project precision, recipe) of a printed precision: recipe one of bf16, fp16, fp8
    (per-tensor delayed or current scaling), fp8-block (block-scaled: MXFP8 on Blackwell,
    128×128 blockwise on Hopper, torchao rowwise), nvfp4."""
    t = text.lower()
    if "nvfp4" in t:
        return "fp4", "nvfp4"
    if "mxfp8" in t or "fp8-mx" in t or "alt granularity" in t or "alternate value" in t:
        return "fp8", "fp8-block"
    if "rowwise" in t:
        return "fp8", "fp8-block"
    if "fp8" in t or "float8" in t:
        return "fp8", "fp8"
    if "fp16" in t and "bf16" not in t:
        return "fp16", "fp16"
    return "bf16", "bf16"  # BF16, bfloat16, or not stated (Megatron-LM README: BF16 peak)


def recompute_for(text: str) -> str:
    t = text.lower()
    if not t or t.startswith("no") or t == "none" or "not stated" in t:
        return "none"
    if "full" in t:
        return "full"
    if re.search(r"\bop\b|per-op", t):  # torchtitan op-level SAC (per-op, "selective op AC")
        return "op"
    return "selective"  # selective AC, selective layer AC, "recompute mlp ..." (partial)


def power_cap_w(gpu_type: str) -> float | None:
    """The board power a row states for its GPUs (``@500W``) [W], else None."""
    m = re.search(r"@\s*(\d+)\s*W", gpu_type)
    return float(m.group(1)) if m else None


def _capped(plan: Any, cap_w: float, sys: Any) -> Any:
    """`plan` run under a per-GPU power cap: the energy model's clock-for-power slowdown
    (P − P_idle ∝ f³, :func:`wattlas.energy.training_energy`) applied by
    :func:`wattlas.perf.training.step.capped_plan`, as ``wattlas train --power-cap`` does."""
    from ..energy import EnergyInputs, training_energy
    from ..perf.training.step import capped_plan

    rep = training_energy(plan, EnergyInputs(power_cap_w=cap_w), sys)
    return capped_plan(plan, rep.slowdown_frac, rep.phase_time_factors, cap_w)


def bucket(gpus: int) -> str:
    return next(label for label, lo, hi in BUCKETS if lo <= gpus <= hi)


def _model(r: dict[str, str], s: int):
    """The ModelSpec of a row: the catalog id by name, else the row's own shape."""
    from .. import catalog
    from ..scenario import resolve_model
    from .models import gpt

    key = _key(r["model"])
    mid = MODEL_IDS.get(key)
    if mid is None and key.startswith("gptstyle"):
        L, h, a = _int(r["layers"]), _int(r["hidden"]), _int(r["heads"])
        if L and h and a:
            return gpt(L, h, a, s, _int(r["vocab"], 51200), name=r["model"]), None
    if mid is None:
        return None, "model shape not stated and no catalog row for it"
    if mid not in catalog.ids("models"):
        return None, f"no catalog row {mid} yet"
    return resolve_model(mid), None


def _is_moe(r: dict[str, str]) -> bool:
    return bool(number(r.get("num_experts"))) or any(k in r["model"].lower() for k in MOE_NAMES)


def megatron_flop_per_token(model: Any, s: int) -> float:
    """Megatron-LM ``num_floating_point_operations`` per token (model FLOPs, 3 passes): 6 × the
    matmul parameters of the blocks and the LM head + 12·L·s·h_q (full, non-causal attention,
    over the attention layers) + 3 × a hybrid's Mamba-2 scan FLOPs."""
    from ..workload.transformer import mamba_flop_per_token, matmul_params_active

    return (6.0 * matmul_params_active(model)
            + 12.0 * model.attention_layers * s * model.heads * model.d_qk
            + 3.0 * mamba_flop_per_token(model))


def _published_tokens(r: dict[str, str], model: Any, s: int) -> float | None:
    tok = number(r["tokens_per_s_per_gpu"])
    if tok:
        return tok
    tf = number(r["model_tflops_per_gpu"])
    if tf:
        return tf * 1e12 / megatron_flop_per_token(model, s)
    return None


def _skip(src: str, label: str, why: str) -> None:
    _SKIPPED.append((f"{src}: {label}", why))


def _row_cases(name: str, src: str) -> list[Case]:
    from ..hardware import accelerator, fabric_for, system
    from ..perf.training.step import Layout, TrainingJob, plan_training

    out: list[Case] = []
    idx: dict[bool, int] = {False: 0, True: 0}  # dense and MoE rows counted apart
    file_rows = rows(name)
    for i, r in enumerate(file_rows):
        label = f"{r['model']} {r['gpu_type'].split('(')[0].strip()} gpus={r['gpus']}"
        if r["task"] not in ("pretrain", "sft", "lora"):
            _skip(src, label, f"task '{r['task'][:40]}' (RLHF/inference) is not a training-"
                              "throughput row")
            continue
        gpus = _int(r["gpus"]) if re.fullmatch(r"[\d,.\s\[\]D]+", r["gpus"] or "") else None
        if not gpus:
            _skip(src, label, f"GPU count '{r['gpus']}' is not one number")
            continue
        opt_log = any(k in r["table_section"].lower() for k in (
            "optimisation log", "optimization log", "optimization history"))
        if opt_log and i + 1 < len(file_rows) and file_rows[i + 1]["table_section"] == \
                r["table_section"]:
            _skip(src, label, "intermediate step of an optimisation log (only its final "
                              "software state is compared)")
            continue
        s = _int(r["seq_len"])
        moe = _is_moe(r)
        model, why = _model(r, s or 4096)
        if model is None:
            _skip(src, label, NOT_MODELLED.get(_key(r["model"]))
                  or ("MoE model not in the catalog: not modelled yet" if moe else why))
            continue
        tp, pp, cp = _int(r["tp"], 1), _int(r["pp"], 1), _int(r["cp"], 1)
        if not (r["tp"] or r["pp"]) and number(r["dp"]) is None and "FSDP" not in \
                r["fsdp_or_zero"]:
            _skip(src, label, "parallel layout (tp/pp/dp) not published")
            continue
        if not s:
            _skip(src, label, "sequence length not stated")
            continue
        dp = gpus // (tp * pp * cp)
        if dp * tp * pp * cp != gpus:
            _skip(src, label, f"tp·pp·cp = {tp * pp * cp} does not divide {gpus} GPUs")
            continue
        printed_dp = _int(r["dp"]) if "[D]" not in r["dp"] else None
        if printed_dp and printed_dp != dp and "FSDP" not in r["fsdp_or_zero"]:
            _skip(src, label, f"published tp·pp·dp·cp = {tp * pp * printed_dp * cp} ≠ "
                              f"{gpus} GPUs (inconsistent table)")
            continue
        if moe and not r["ep"].strip():
            _skip(src, label, "expert-parallel size (ep) not published")
            continue
        ep = _int(r["ep"], 1) if moe else 1
        # expert tensor parallelism: as printed; blank = the dense tp (Megatron-Core default)
        # unless ep·tp ranks do not fit in tp·dp·cp, then 1 (the Megatron-Bridge MoE recipes'
        # expert_tensor_parallel_size = 1)
        etp = _int(r["etp"], 0) if moe else 0
        if moe and not etp and (tp * dp * cp) % (ep * tp):
            etp = 1
        mb = _int(r["micro_batch"], 1)
        # a blank global batch is the per-data-parallel-rank batch the row states ("local bs
        # 8", torchtitan's local_batch_size: sequences per dp rank, CP ranks share them) × dp,
        # else one micro-batch per dp rank
        local = re.search(r"local (?:bs|batch size) (\d+)",
                          f"{r['table_section']} {r['other_opts']}")
        gbs = _int(r["global_batch"]) or (int(local.group(1)) * dp if local else dp * mb)
        fsdp = r["fsdp_or_zero"]
        m_fsdp = re.search(r"FSDP=(\d+)", fsdp)
        zero = 3 if ((m_fsdp and int(m_fsdp.group(1)) > 0) or "FSDP2" in fsdp
                     or "ZeRO stage 3" in fsdp or "ZeRO-3" in fsdp) else 1
        precision, recipe = precision_for(r["precision"])
        acc_id, sys_id = accelerator_for(r["gpu_type"])
        acc = accelerator(acc_id)
        if not acc.supports(precision):
            _skip(src, label, f"{acc_id} has no dense {precision} peak in the catalog")
            continue
        try:
            fab = fabric_for(acc, system(sys_id) if sys_id else None)
        except WattlasError as exc:
            _skip(src, label, str(exc).split(";")[0])
            continue
        pub_tok = _published_tokens(r, model, s)
        if not pub_tok:
            _skip(src, label, "no tokens/s or TFLOP/s per GPU published")
            continue
        vpp = _int(r["vpp"], 1)
        job = TrainingJob(model, tokens=float(gbs * s), seq_len=s, global_batch=gbs,
                          precision=precision, job=r["task"],
                          lora_rank=LORA_RANK_DEFAULT if r["task"] == "lora" else None)
        layout = Layout(tp=tp, pp=pp, dp=dp, cp=cp, ep=ep, vpp=vpp, microbatch=mb,
                        recompute=recompute_for(r["recompute"]), zero=zero,
                        sequence_parallel=tp > 1, flash_attention=True, etp=etp)
        try:
            plan = plan_training(job, acc, layout, fab, gpus, allow_oom=True,
                                 allow_uneven_pp=True)
        except WattlasError as exc:
            _skip(src, label, f"layout rejected: {str(exc)[:120]}")
            continue
        cap_w = power_cap_w(r["gpu_type"])
        if cap_w is not None and cap_w < acc.require("tdp_w"):
            plan = _capped(plan, cap_w, system(sys_id) if sys_id else None)
        peak = acc.peak_flop_per_s(precision)
        flop_tok = plan.model_flop_per_s_per_gpu / (plan.tokens_per_s / gpus)
        pub_mfu = pub_tok * flop_tok / peak
        late = MODEL_IDS.get(_key(r["model"])) in LATE_MODELS
        calib = not late and idx[moe] % 2 == 0 and gpus <= CALIBRATION_MAX_GPUS
        idx[moe] += 0 if late else 1
        case_label = (f"{label} {r['precision'][:12]} tp{tp} pp{pp} cp{cp} dp{dp}"
                      f"{f' ep{ep}' if ep > 1 else ''}{f' etp{etp}' if etp else ''}"
                      f" vpp{vpp} mb{mb} gbs{gbs} s{s}"
                      f" {r['task']} #{i}")
        out.append(Case(src + (" (MoE)" if moe else ""), case_label, "mfu", pub_mfu,
                        plan.mfu, "frac", calib,
                        detail={"gpus": gpus, "generation": generation(r["gpu_type"]),
                                "accelerator": acc_id, "recipe": recipe, "moe": moe,
                                "published_tokens_per_s_per_gpu": pub_tok,
                                "predicted_tokens_per_s_per_gpu": plan.tokens_per_s / gpus,
                                "fits": plan.fits, "row": i, "file": name}))
    return out


def cases() -> list[Case]:
    """Every modelled row of every published training file (see the module docstring)."""
    out: list[Case] = []
    for name, src in FILES.items():
        out.extend(_row_cases(name, src))
    return out


def skipped() -> list[tuple[str, str]]:
    """(row, reason) for every published training row not evaluated."""
    _SKIPPED.clear()
    cases()
    return list(_SKIPPED)


def _stats(errs: list[float]) -> dict[str, float]:
    a = [abs(e) for e in errs]
    return {"n": len(errs), "median_abs_error_frac": statistics.median(a),
            "signed_median_error_frac": statistics.median(errs),
            "mean_abs_error_frac": statistics.fmean(a), "max_abs_error_frac": max(a)}


def worst(cases_: list[Case] | None = None, n: int = 10) -> dict[str, list[dict[str, Any]]]:
    """Per source, the `n` rows with the largest absolute error (calibration rows included,
    marked), each with its features: error, GPUs, generation, accelerator, recipe, whether the
    plan fits, published and predicted tokens/s per GPU and the row label (layout, batch,
    sequence, task)."""
    by: dict[str, list[Case]] = {}
    for c in cases() if cases_ is None else cases_:
        if c.metric == "mfu" and "gpus" in c.detail:
            by.setdefault(c.source, []).append(c)
    keys = ("gpus", "generation", "accelerator", "recipe", "fits",
            "published_tokens_per_s_per_gpu", "predicted_tokens_per_s_per_gpu")
    return {src: [{"error_frac": c.error_frac, "calibration": c.calibration, "case": c.case,
                   **{k: c.detail[k] for k in keys}}
                  for c in sorted(rows_, key=lambda c: -abs(c.error_frac))[:n]]
            for src, rows_ in by.items()}


def summarize_by(cases_: list[Case], by: str) -> dict[str, dict[str, float]]:
    """Out-of-sample summary of the published-scale cases grouped `by` ``generation`` or
    ``scale`` (the GPU-count buckets of :data:`BUCKETS`): n, median and signed median, mean and
    max of the error. Calibration rows are left out; MoE rows are grouped apart."""
    groups: dict[str, list[float]] = {}
    for c in cases_:
        if c.calibration or "gpus" not in c.detail or c.metric != "mfu":
            continue
        key = (c.detail["generation"] if by == "generation" else bucket(c.detail["gpus"]))
        key += " (MoE)" if c.detail.get("moe") else ""
        groups.setdefault(key, []).append(c.error_frac)
    order = [b[0] for b in BUCKETS]
    keys = sorted(groups, key=lambda k: (k.endswith("(MoE)"),
                                          order.index(k.split(" (")[0]) if by == "scale"
                                          and k.split(" (")[0] in order else 0, k))
    return {k: _stats(groups[k]) for k in keys if groups[k] and not math.isnan(groups[k][0])}
