"""Fitted constants of the training step-time model, with the subset each was fitted on.

Fit subset (and only this subset): vTrain ``ground_truth_single.csv`` (1,440 Megatron-DeepSpeed
iterations on one node of 8 A100-SXM-80GB; Bang et al., MICRO-57 2024). Everything else in
``wattlas validate training`` is out of sample. Reproduce the fit with::

    python -c "from wattlas.validation.fit import fit_vtrain_single; print(fit_vtrain_single())"

(or ``python benchmarks/fit_training.py``), which runs ``scipy.optimize.least_squares`` on the log
ratio predicted/measured iteration time and prints the constants to paste below.

GEMM efficiency is a smooth function of the per-device GEMM shape after tensor and context
parallelism (``hd = h/t`` and ``tok = b·s/cp``):

    eff(hd, tok) = EFF_MAX · r(hd/HD_HALF) · r(tok/TOK_HALF),   r(x) = x^k / (1 + x^k),
    k = SHAPE_EXP

so small hidden slices and small micro-batches lose efficiency smoothly. ``LAYER_OVERHEAD_S`` [s]
is the host time to launch one layer's kernels per forward-equivalent pass; the host runs ahead
of the GPU asynchronously, so a layer takes max(GPU time, LAYER_OVERHEAD_S) (launch-bound small
layers). ``ELEM_TRAFFIC`` scales the memory-bound elementwise work: ELEM_TRAFFIC × (activation
bytes a layer produces, Korthikanti Table 2 without recompute) / HBM bandwidth per layer per
pass (≈ 3: each byte written once and read about twice).

Identifiability: the subset has h ≤ 2048 and b·s ≥ 1024, so ``EFF_MAX`` runs to its bound
(1.0) when free and is fixed at a prior of 0.80 (large fp16 GEMMs on A100 reach roughly 80 % of
the dense peak). The least-squares problem has two local minima, ``TOK_HALF`` ≈ 1 with
``SHAPE_EXP`` ≈ 4.2 (mean error 8.4 %) and ``TOK_HALF`` ≈ 820 with ``SHAPE_EXP`` ≈ 2.6 (7.8 %);
the lower one is kept, and the refit started from the constants below returns it.

History: the first pass added LAYER_OVERHEAD_S to every layer (10.8 % on this subset, with
ELEM_TRAFFIC ≈ 0.18); alternatives tried on this subset are listed in docs/training.md.

Transfer to other accelerators: the same curve shape is used relative to each accelerator's dense
peak at the training precision, times a factor per accelerator (``ACCEL_EFF_FACTOR``: the clocks
it holds under its power limit; 1.0 where not fitted). Fused attention runs at its own fraction
``ATTN_EFF`` of the 16-bit peak whatever the GEMM precision (FP8 recipes keep attention in BF16),
on the causal half of the score matrix, with FlashAttention's backward recomputation.
``FP8_EFF_FACTOR`` and ``FP4_EFF_FACTOR`` are the fractions of their own (2×, 4×) peaks that FP8
and NVFP4 GEMMs reach relative to the 16-bit curve (scaling, casts and amax kernels). These seven
constants are fitted together by :func:`fit_published` on the calibration subset of the published
tables at scale (``wattlas.validation.published``: even-indexed rows at ≤ 512 GPUs of the
Megatron-Core-class sources) and the even-indexed NeMo 24.12 rows; every other row is out of
sample. The fits (``fit_vtrain_single``, ``fit_published``) run validation cases, so they live
in :mod:`wattlas.validation.fit`; this module holds only the numbers and the curves that read
them. Refit: ``python benchmarks/fit_training.py``.
"""

from __future__ import annotations

# fitted on vTrain single-node (see module docstring); values printed by fit_vtrain_single()
EFF_MAX = 0.80  # prior (see module docstring): the fit subset cannot identify it
HD_HALF = 177.10
TOK_HALF = 819.83
LAYER_OVERHEAD_S = 8.563e-4
SHAPE_EXP = 2.6274
ELEM_TRAFFIC = 3.0499
# FP8, FP4, attention and accelerator factors: fitted together by fit_published() on the
# calibration rows of the Megatron-Core-class published tables and NeMo 24.12 (docs/training.md)
FP8_EFF_FACTOR = 0.788
# NVFP4 GEMMs: fraction of the (2× FP8) FP4 peak reached, relative to the 16-bit curve
FP4_EFF_FACTOR = 0.554
# fused attention (FlashAttention 2/3, cuDNN): fraction of the 16-bit dense peak its kernels
# reach over forward and backward (FlashAttention-2 on H100: ~35 %, Shah et al. 2024 Fig. 5)
ATTN_EFF = 0.316
# a causal mask leaves half of the score matrix to compute (the fused kernels skip the masked
# blocks; the diagonal blocks are a 1/blocks correction, ignored)
ATTN_CAUSAL_FRAC = 0.5
# FlashAttention's backward recomputes the scores: 5 matmuls against the forward's 2 (Dao 2023,
# "FlashAttention-2", Alg. 2), so the backward is 2.5 forwards of attention FLOPs
FA_BWD_FLOP_RATIO = 2.5
# GEMM efficiency of an accelerator relative to the A100-fitted curve (clocks it sustains under
# its board power limit: B200 1,000 W and GB200 1,200 W below GB300's 1,400 W at the same
# dense peak); an accelerator not listed keeps 1.0 (B300: no dense rows in the data)
ACCEL_EFF_FACTOR: dict[str, float] = {"b200": 0.898, "gb200": 0.847, "gb300": 1.081}
# stack_efficiency_frac of the Llama 2 training stack (Meta, A100, 2023): geometric mean of
# planned / published GPU-hours of Llama 2 7B and 13B (model card; 2,048 GPUs assumed, searched
# layout); Llama 2 70B is held out. Refit: wattlas.validation.energy.fit_llama2_stack_efficiency()
LLAMA2_STACK_EFFICIENCY = 0.734
# stack_efficiency_frac of the software stacks of the published tables at scale: the geometric
# mean of published / predicted throughput over each stack's calibration rows (dense), printed
# by wattlas.validation.fit.fit_stack_efficiency(). Megatron-Core (NeMo, Megatron-LM) is ≈ 1 by
# construction (the model is fitted on its rows): the default 1.0 is what those runs reach.
STACK_EFFICIENCY_FRAC = {"megatron-core": 0.990, "torchtitan-fsdp2": 0.697,
                         "nemo-automodel-fsdp2": 0.565}
# highest MFU among the measured runs of the validation data (Korthikanti et al. 2022 Table 5,
# GPT-1T on 512 A100, selective recompute + sequence parallelism: 56.3 %); a plan above it is
# outside what the model was checked against and says so in a note
MFU_MAX_VALIDATED = 0.563
# RL rollouts are costed by the serving model (perf.serving.roofline) with this engine profile: veRL
# and OpenRLHF generate rollouts with vLLM (not fitted: no published RL step times)
ROLLOUT_ENGINE = "vllm-0.11"
# fraction of the last micro-batch's backward time that hides the data-parallel gradient
# collective (1: current Megatron-Core/NeMo overlap; validation uses 0 for 2021-22 Megatron)
DP_OVERLAP_FRAC = 1.0
# bytes moved per local parameter by the optimizer step: read fp32 master/m/v (12) and the grad
# (4), write master/m/v (12) and the 16-bit weight (2)
OPTIMIZER_STEP_BYTES_PER_PARAM = 30.0
# host memory bandwidth one GPU's CPU Adam step gets under optimizer offload [B/s]. Assumption
# (not fitted): a two-socket host with 8 DDR5-4800 channels per socket (DGX H100: 2 × Xeon 8480C)
# peaks at 2 × 8 × 38.4 GB/s = 614.4 GB/s; 75 % of it is sustained by streaming kernels, shared
# by 8 GPUs: 614.4e9 × 0.75 / 8 = 57.6e9
HOST_ADAM_BYTES_PER_S = 57.6e9


def gemm_efficiency(hd, tok, c: dict[str, float]):
    """Fraction of dense peak reached by the layer GEMMs of per-device width `hd` = h/t and
    `tok` = b·s/cp tokens per micro-batch: EFF_MAX · r(hd/HD_HALF) · r(tok/TOK_HALF) with
    r(x) = x^k / (1 + x^k), k = SHAPE_EXP (a smooth saturation, Hill curve)."""
    k = c["shape_exp"]
    x = (hd / c["hd_half"]) ** k
    y = (tok / c["tok_half"]) ** k
    return c["eff_max"] * x / (1.0 + x) * y / (1.0 + y)


def constants() -> dict[str, float]:
    """The current constants as a mapping (what the vectorised model reads); the
    accelerator factors are keyed ``accel:<accelerator id>``."""
    return {"eff_max": EFF_MAX, "hd_half": HD_HALF, "tok_half": TOK_HALF,
            "layer_overhead_s": LAYER_OVERHEAD_S, "shape_exp": SHAPE_EXP,
            "elem_traffic": ELEM_TRAFFIC, "fp8_eff_factor": FP8_EFF_FACTOR,
            "fp4_eff_factor": FP4_EFF_FACTOR, "attn_eff": ATTN_EFF,
            "dp_overlap_frac": DP_OVERLAP_FRAC,
            **{f"accel:{k}": v for k, v in ACCEL_EFF_FACTOR.items()}}


def accel_factor(acc_id: str, c: dict[str, float]) -> float:
    """GEMM efficiency of accelerator `acc_id` relative to the A100-fitted curve (1.0 when not
    fitted)."""
    return c.get(f"accel:{acc_id}", 1.0)


def precision_factor(precision: str, c: dict[str, float]) -> float:
    """GEMM efficiency of a low-precision recipe relative to the 16-bit curve (its own peak)."""
    return {"fp8": c["fp8_eff_factor"], "fp4": c["fp4_eff_factor"]}.get(precision, 1.0)
