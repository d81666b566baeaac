"""Serving measurements at scale: the TensorRT-LLM v0.12 max-throughput table and the SGLang
DeepSeek-V3 prefill/decode disaggregation rows (``data/validation/published/``).

TensorRT-LLM v0.12.0 "Performance Overview" (319 rows; NVIDIA/TensorRT-LLM
``docs/source/performance/perf-overview.md``, Apache-2.0): output tokens/s of the whole TP group
at an infinite request rate (``trtllm-bench``), fixed ISL/OSL, on H200, GH200, H100 (FP8 and
16-bit), A100 and L40S for eight models. Each row is predicted by max-throughput operation of
:func:`wattlas.perf.serving.plan.plan_serving` with engine ``trtllm-0.12``.

Calibration subset, fixed before fitting (docs/validation.md): the ISL = OSL = 128 rows of the
v0.12 table (64 rows) and nothing else; every other row (255) is out of sample. Rows whose
model or accelerator the catalogs lack are skipped and counted (:func:`skipped_rows`).

SGLang (lm-sys blog "Deploying DeepSeek with PD Disaggregation and Large-scale Expert
Parallelism on 96 H100 GPUs", 2025-05-05): prefill on 4 nodes (EP32) and decode on 9 nodes
(EP72), each phase measured in isolation, per-node rates /8 = per GPU. Predicted by
:mod:`wattlas.perf.serving.disagg` (no constant fitted on these rows: all out of sample).
"""

from __future__ import annotations

import csv
import io
import re
from importlib import resources

from . import Case

TRTLLM_FILE = "serving_trtllm_v0_12.csv"
SGLANG_FILE = "serving_vllm_sglang.csv"
TRTLLM_ENGINE = "trtllm-0.12"

#: published model names → catalog ids (configs cited in data/models.csv)
TRTLLM_MODELS = {"GPTJ 6B": "gpt-j-6b", "LLaMA v2 7B": "llama2-7b", "LLaMA v2 70B": "llama2-70b",
                 "LLaMA v3 8B": "llama3-8b", "LLaMA v3 70B": "llama3-70b",
                 "Mistral 7B": "mistral-7b", "Mixtral 8x7B": "mixtral-8x7b",
                 "Falcon 180B": "falcon-180b"}
#: published GPU names → catalog ids
TRTLLM_GPUS = {"H200 141GB HBM3": "h200-sxm", "GH200 120GB": "gh200-96gb",
               "H100 80GB HBM3": "h100-sxm", "A100-SXM4-80GB": "a100-sxm-80gb", "L40S": "l40s"}
#: published quantization → (weight precision, KV precision). "Mixed" is FP16/BF16 without
#: quantization: fp16 (same bytes and tensor-core peak as bf16 on every GPU of the table).
TRTLLM_PRECISIONS = {"FP8 weights+KV cache": ("fp8", "fp8"),
                     "Mixed (FP16/BF16, no quant)": ("fp16", "fp16")}


def read_published(name: str) -> list[dict[str, str]]:
    """Rows of ``data/validation/published/<name>``."""
    text = (resources.files("wattlas.data").joinpath("validation").joinpath("published")
            .joinpath(name).read_text(encoding="utf-8"))
    return list(csv.DictReader(io.StringIO(text)))


def number(cell: str) -> float | None:
    """A published cell as a number: thousands separators and a trailing ``[D]`` (derived
    during transcription) stripped; None when blank or not a number."""
    s = re.sub(r"\[D\]$", "", (cell or "").strip()).replace(",", "").strip()
    try:
        return float(s)
    except ValueError:
        return None


def _catalog_has(kind: str, key: str) -> bool:
    from .. import catalog

    return key in catalog.ids(kind)


def _is_calibration(isl: int, osl: int) -> bool:
    return isl == 128 and osl == 128


def _why_skipped(r: dict[str, str]) -> str | None:
    from ..hardware import accelerator

    mid, gid = TRTLLM_MODELS.get(r["model"], "?"), TRTLLM_GPUS.get(r["gpu_type"], "?")
    if not _catalog_has("models", mid):
        return f"model {r['model']} not in the models catalog"
    if not _catalog_has("accelerators", gid):
        return f"accelerator {r['gpu_type']} not in the accelerators catalog"
    dom = accelerator(gid).scaleup_domain or 1
    if int(r["tp"]) > dom:
        return (f"TP{r['tp']} over PCIe: {gid} has no scale-up domain, and a replica's tensor "
                "parallelism stays in one")
    return None


def trtllm_rows() -> list[dict[str, str]]:
    """The v0.12 rows that can be predicted (model and accelerator in the catalogs, TP inside
    the accelerator's scale-up domain)."""
    return [r for r in read_published(TRTLLM_FILE) if _why_skipped(r) is None]


def skipped_rows() -> dict[str, str]:
    """v0.12 rows that are not predicted: row label → reason."""
    out = {}
    for r in read_published(TRTLLM_FILE):
        why = _why_skipped(r)
        if why is not None:
            out[r["row_label"]] = why
    return out


def trtllm_v012_cases(engine: object = TRTLLM_ENGINE, calibration_only: bool = False
                      ) -> list[Case]:
    """Max-throughput output tokens/s per TP group, one case per row of the v0.12 table
    (``calibration_only``: the ISL = OSL = 128 rows only)."""
    from ..errors import InfeasibleError
    from ..hardware import accelerator
    from ..perf.serving.plan import plan_serving
    from ..perf.serving.roofline import ServingConfig
    from ..scenario import resolve_model

    out = []
    models: dict[str, object] = {}
    for r in trtllm_rows():
        mid, gid = TRTLLM_MODELS[r["model"]], TRTLLM_GPUS[r["gpu_type"]]
        prec, kv = TRTLLM_PRECISIONS[r["quantization"]]
        tp, isl, osl = int(r["tp"]), int(r["input_len"]), int(r["output_len"])
        if calibration_only and not _is_calibration(isl, osl):
            continue
        if mid not in models:
            models[mid] = resolve_model(mid)
        cfg = ServingConfig(models[mid], accelerator(gid), tp=tp, precision=prec,
                            kv_precision=kv, engine=engine)
        published = number(r["output_tokens_per_s_total"])
        name = f"{r['model']} {gid} {prec} TP{tp} {isl}/{osl}"
        try:
            p = plan_serving(cfg, isl, osl)
        except InfeasibleError:
            out.append(Case("trtllm_max_throughput_v0.12", name, "output_tokens_per_s",
                            published, 0.0, "tokens/s",
                            calibration=_is_calibration(isl, osl),
                            detail={"infeasible": True}))
            continue
        out.append(Case("trtllm_max_throughput_v0.12", name, "output_tokens_per_s",
                        published, p.output_tokens_per_s, "tokens/s",
                        calibration=_is_calibration(isl, osl),
                        detail={"batch": p.batch, "max_batch": p.max_batch, "bound": p.bound,
                                "model": mid, "accelerator": gid, "precision": prec,
                                "tp": tp, "isl": isl, "osl": osl}))
    return out


def fit_trtllm_v012(grid: dict[str, list[float]] | None = None) -> dict[str, object]:
    """Fit ``trtllm-0.12`` on its calibration subset (the v0.12 ISL = OSL = 128 rows) by grid
    search on the median absolute throughput error; returns the best values and that error."""
    import itertools
    import statistics
    from dataclasses import replace

    from ..perf.serving.roofline import engine

    grid = grid or {"eff_mem_frac": [0.6, 0.7, 0.8],
                    "eff_compute_frac": [0.5, 0.55, 0.6, 0.65],
                    "fp8_compute_eff_frac": [0.4, 0.45, 0.5, 0.55],
                    "step_overhead_s": [0.002, 0.004]}
    base = engine(TRTLLM_ENGINE)
    best: dict[str, object] = {}
    for values in itertools.product(*grid.values()):
        eng = replace(base, **dict(zip(grid, values, strict=True)))
        errs = [abs(c.error_frac) for c in trtllm_v012_cases(eng, calibration_only=True)]
        med = statistics.median(errs)
        if not best or med < best["median_abs_error_frac"]:
            best = dict(zip(grid, values, strict=True), median_abs_error_frac=med)
    return best


TRTLLM_1X_FILE = "serving_trtllm_perf_overview_1x.csv"
TRTLLM_1X_GPUS = {"B200 180GB (DGX B200)": "b200", "GB200 192GB (GB200 NVL72)": "gb200",
                  "H200 SXM 141GB (DGX H200)": "h200-sxm", "H100 SXM 80GB (DGX H100)": "h100-sxm"}


def trtllm_1x_cases(engine: object = "trtllm-2025") -> list[Case]:
    """TensorRT-LLM 1.x perf overview (PyTorch backend), Llama-3.3-70B (= Llama-3.1-70B shape)
    on B200/GB200 TP1 with NVFP4 weights and on H200/H100 TP2 with FP8: output tokens/s per
    GPU at max throughput. FP8 KV cache with FP8/FP4 weights (the engine default modelled)."""
    from ..hardware import accelerator
    from ..perf.serving.plan import plan_serving
    from ..perf.serving.roofline import ServingConfig
    from ..scenario import resolve_model

    model = resolve_model("llama3.1-70b")
    out = []
    for r in read_published(TRTLLM_1X_FILE):
        gid = TRTLLM_1X_GPUS[r["gpu_type"]]
        prec = r["quantization"].lower()
        tp = int(r["parallelism"].removeprefix("TP"))
        isl, osl = int(r["input_len"]), int(r["output_len"])
        cfg = ServingConfig(model, accelerator(gid), tp=tp, precision=prec, engine=engine)
        p = plan_serving(cfg, isl, osl)
        out.append(Case("trtllm_perf_overview_1.x", f"Llama-3.3-70B {gid} {prec} TP{tp} "
                        f"{isl}/{osl}", "output_tokens_per_s_per_gpu",
                        float(r["output_tokens_per_s_per_gpu"]), p.output_tokens_per_s_per_gpu,
                        "tokens/s/GPU", calibration=False,
                        detail={"batch": p.batch, "bound": p.bound, "precision": prec}))
    return out


TRTLLM_V10_FILE = "serving_trtllm_perf_overview_v1_0.csv"
TRTLLM_V10_MODELS = {"Llama 3.3 70B": "llama3.1-70b", "Llama 3.1 405B": "llama3.1-405b",
                     "Llama 3.1 8B": "llama3.1-8b"}


def trtllm_v10_cases(engine: object = "trtllm-2025") -> list[Case]:
    """TensorRT-LLM v1.0 perf overview (PyTorch backend): total output tokens/s of the TP group
    at max throughput for Llama 3.1 8B, Llama 3.3 70B and Llama 3.1 405B on B200/GB200 (NVFP4)
    and H200/H100 (FP8), ten ISL/OSL pairs up to 20000/2000. Nothing fitted on this table."""
    from ..errors import InfeasibleError
    from ..hardware import accelerator
    from ..perf.serving.plan import plan_serving
    from ..perf.serving.roofline import ServingConfig
    from ..scenario import resolve_model

    models: dict[str, object] = {}
    out = []
    for r in read_published(TRTLLM_V10_FILE):
        mid = TRTLLM_V10_MODELS[r["model"]]
        gid = TRTLLM_1X_GPUS[r["gpu_type"]]
        prec = r["quantization"].lower()
        tp = int(r["parallelism"].removeprefix("TP"))
        isl, osl = int(r["input_len"]), int(r["output_len"])
        if mid not in models:
            models[mid] = resolve_model(mid)
        cfg = ServingConfig(models[mid], accelerator(gid), tp=tp, precision=prec, engine=engine)
        name = f"{r['model']} {gid} {prec} TP{tp} {isl}/{osl}"
        try:
            p = plan_serving(cfg, isl, osl)
        except InfeasibleError:
            continue
        out.append(Case("trtllm_perf_overview_v1.0", name, "output_tokens_per_s",
                        float(r["output_tokens_per_s_total"]), p.output_tokens_per_s, "tokens/s",
                        detail={"batch": p.batch, "bound": p.bound, "precision": prec,
                                "model": mid, "tp": tp, "isl": isl, "osl": osl}))
    return out


SGLANG_ENGINE = "sglang-0.4"
#: tokens per GPU per prefill step: the blog's profile setting ("16,384 tokens per device"),
#: stated for the 4K row and taken for the 1K and 2K rows too
SGLANG_PREFILL_TOKENS_PER_GPU = 16384


def _sglang_config():
    from ..hardware import accelerator
    from ..perf.serving.roofline import ServingConfig
    from ..scenario import resolve_model

    # FP8 block-scaled weights as released (DeepGEMM); SGLang's default KV cache dtype is the
    # model's 16-bit dtype (assumption: the blog states no KV quantization)
    return ServingConfig(resolve_model("deepseek-v3"), accelerator("h100-sxm"), tp=1,
                         precision="fp8", kv_precision="bf16", engine=SGLANG_ENGINE)


def _sglang_row(rows: list[dict[str, str]], label: str) -> dict[str, str]:
    return next(r for r in rows if r["row_label"] == label)


def sglang_cases() -> list[Case]:
    """SGLang DeepSeek-V3 on 96 H100 with PD disaggregation (lmsys.org, 2025-05-05), per GPU
    (= per node / 8). Prefill: EP32 over 4 nodes, DP attention, two-batch overlap, 16,384
    tokens per GPU per step, the row's prompt length. Decode: EP72 over 9 nodes, 256 sequences
    per GPU at KV length 2,000. Routing is modelled balanced: the *simulated perfect EPLB*
    row is that case; the default-EPLB rows carry the real imbalance the model leaves out.
    Nothing fitted on these rows (engine ``sglang-0.4`` = trtllm-2025 constants)."""
    from ..perf.serving import moe

    rows = read_published(SGLANG_FILE)
    cfg = _sglang_config()
    out = []
    pre = moe.MoEParallel(ep=32, dp_attention=True, two_batch_overlap=True)
    t = SGLANG_PREFILL_TOKENS_PER_GPU
    for label, isl in (("prefill-only, prompt 1K", 1024), ("prefill-only, prompt 2K", 2048),
                       ("prefill-only, prompt 4K", 4096),
                       ("prefill, simulated perfect EPLB", 4096)):
        r = _sglang_row(rows, label)
        pred = float(moe.prefill_input_tokens_per_s_per_gpu(cfg, pre, t, isl))
        parts = moe.step_parts(cfg, pre, t, isl / 2.0, 0.0, False)
        out.append(Case("sglang_deepseek_v3_pd", f"prefill EP32 {label.split(', ')[-1]}",
                        "prefill_input_tokens_per_s_per_gpu",
                        number(r["input_tokens_per_s_per_gpu"]), pred, "tokens/s/GPU",
                        detail={"isl": isl, "tokens_per_gpu": t,
                                **{k: float(v) for k, v in parts.items() if k.endswith("_s")}}))
    dec = moe.MoEParallel(ep=72, dp_attention=True, two_batch_overlap=True)
    for label in ("decode, 2K input, batch 256/device", "decode TBO, 256 tokens/device"):
        r = _sglang_row(rows, label)
        pred = float(moe.decode_output_tokens_per_s_per_gpu(cfg, dec, 256, 2000))
        parts = moe.step_parts(cfg, dec, 256, 2000, 256 * 2000, True)
        out.append(Case("sglang_deepseek_v3_pd", f"decode EP72 {label.split(', ', 1)[-1]}",
                        "output_tokens_per_s_per_gpu",
                        number(r["output_tokens_per_s_per_gpu"]), pred, "tokens/s/GPU",
                        detail={"batch_per_gpu": 256, "kv_tokens": 2000,
                                **{k: float(v) for k, v in parts.items() if k.endswith("_s")}}))
    # simulated MTP (the blog doubles the batch, halves the KV length and slows attention to
    # DeepSeek's profile; 60 % acceptance): modelled as MTP with one draft token at α = 0.6,
    # 128 sequences at KV 4,000; the slowed attention is not modelled
    for label, tbo in (("simulated MTP, TBO", True), ("simulated MTP, no TBO", False)):
        r = _sglang_row(rows, label)
        par = moe.MoEParallel(ep=72, dp_attention=True, two_batch_overlap=tbo, draft_tokens=1,
                              acceptance_frac=0.6)
        pred = float(moe.decode_output_tokens_per_s_per_gpu(cfg, par, 128, 4000))
        out.append(Case("sglang_deepseek_v3_pd simulated MTP", f"decode EP72 {label}",
                        "output_tokens_per_s_per_gpu",
                        number(r["output_tokens_per_s_per_gpu"]), pred, "tokens/s/GPU",
                        detail={"batch_per_gpu": 128, "kv_tokens": 4000}))
    return out


def cases() -> list[Case]:
    return trtllm_v012_cases() + trtllm_1x_cases() + trtllm_v10_cases() + sglang_cases()
