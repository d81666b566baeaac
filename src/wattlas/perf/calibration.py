"""Fitted constants of the training step-time model, with the subset each was fitted on.

Fit subset (and only this subset): vTrain ``ground_truth_single.csv`` (1,440 Megatron-DeepSpeed
iterations on one node of 8 A100-SXM-80GB; Bang et al., MICRO-57 2024). Everything else in
``wattlas validate training`` is out of sample. Reproduce the fit with::

    python -c "from wattlas.perf.calibration import fit_vtrain_single; print(fit_vtrain_single())"

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
peak at the training precision (no H100 data in the fit subset). FP8 reaches a lower fraction of
its (2×) peak because attention, norms and casts stay in 16-bit: ``FP8_EFF_FACTOR`` was fitted on
the even-indexed NeMo 24.12 rows with shapes (documented in validation/training.py) and reported
on the odd-indexed half. FP4 uses the FP8 factor (no data).
"""

from __future__ import annotations

# fitted on vTrain single-node (see module docstring); values printed by fit_vtrain_single()
EFF_MAX = 0.80  # prior (see module docstring): the fit subset cannot identify it
HD_HALF = 177.10
TOK_HALF = 819.83
LAYER_OVERHEAD_S = 8.563e-4
SHAPE_EXP = 2.6274
ELEM_TRAFFIC = 3.0499
# fitted on the even half of the NeMo 24.12 H100 FP8 rows (validation/training.py)
FP8_EFF_FACTOR = 0.686
# stack_efficiency_frac of the Llama 2 training stack (Meta, A100, 2023): geometric mean of
# planned / published GPU-hours of Llama 2 7B and 13B (model card; 2,048 GPUs assumed, searched
# layout); Llama 2 70B is held out. Refit: wattlas.validation.energy.fit_llama2_stack_efficiency()
LLAMA2_STACK_EFFICIENCY = 0.699
# highest MFU among the measured runs of the validation data (Korthikanti et al. 2022 Table 5,
# GPT-1T on 512 A100, selective recompute + sequence parallelism: 56.3 %); a plan above it is
# outside what the model was checked against and says so in a note
MFU_MAX_VALIDATED = 0.563
# RL rollouts are costed by the serving model (perf.inference) with this engine profile: veRL
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
    """The current constants as a mapping (what the vectorised model reads)."""
    return {"eff_max": EFF_MAX, "hd_half": HD_HALF, "tok_half": TOK_HALF,
            "layer_overhead_s": LAYER_OVERHEAD_S, "shape_exp": SHAPE_EXP,
            "elem_traffic": ELEM_TRAFFIC, "fp8_eff_factor": FP8_EFF_FACTOR,
            "dp_overlap_frac": DP_OVERLAP_FRAC}


def fit_vtrain_single(max_nfev: int = 200) -> dict[str, float]:
    """Refit EFF_MAX, HD_HALF, TOK_HALF and LAYER_OVERHEAD_S on vTrain single-node runs.

    Least squares (scipy.optimize.least_squares, soft-L1 loss) on log(predicted/measured).
    Returns the fitted constants and the mean absolute error after the fit."""
    import numpy as np
    from scipy.optimize import least_squares

    from ..validation.training import vtrain_predict, vtrain_rows

    rows = vtrain_rows("ground_truth_single.csv")
    measured = np.array([r["iter_s"] for r in rows])

    def resid(y):
        x = np.concatenate([[EFF_MAX], y])  # EFF_MAX is a prior, not fitted
        c = dict(constants(), hd_half=np.exp(x[1]), tok_half=np.exp(x[2]),
                 layer_overhead_s=np.exp(x[3]), shape_exp=x[4], elem_traffic=x[5])
        pred = vtrain_predict(rows, c)
        return np.log(pred / measured)

    x0 = np.array([EFF_MAX, np.log(HD_HALF), np.log(TOK_HALF), np.log(LAYER_OVERHEAD_S),
                   SHAPE_EXP, ELEM_TRAFFIC])
    sol = least_squares(resid, x0[1:], loss="soft_l1", f_scale=0.05, max_nfev=max_nfev,
                        bounds=([0.0, 0.0, np.log(1e-7), 0.3, 0.0],
                                [12.0, 14.0, np.log(1e-2), 10.0, 20.0]))
    x = np.concatenate([[EFF_MAX], sol.x])
    err = np.exp(resid(sol.x)) - 1.0
    return {"EFF_MAX (prior, not fitted)": EFF_MAX, "HD_HALF": float(np.exp(x[1])),
            "TOK_HALF": float(np.exp(x[2])), "LAYER_OVERHEAD_S": float(np.exp(x[3])),
            "SHAPE_EXP": float(x[4]), "ELEM_TRAFFIC": float(x[5]),
            "mean_abs_error_frac": float(np.mean(np.abs(err)))}


def fit_fp8_factor() -> dict[str, float]:
    """Refit FP8_EFF_FACTOR on the even-indexed NeMo 24.12 rows with shapes (calibration=True in
    ``wattlas validate training``): scipy.optimize.minimize_scalar of the squared log error."""
    import numpy as np
    from scipy.optimize import minimize_scalar

    from ..validation import training as vt

    def loss(f: float) -> float:
        old = globals()["FP8_EFF_FACTOR"]
        globals()["FP8_EFF_FACTOR"] = f
        try:
            cs = [c for c in vt.run_cases() if c.source.startswith("NeMo") and c.calibration]
        finally:
            globals()["FP8_EFF_FACTOR"] = old
        return float(sum(np.log(c.predicted / c.published) ** 2 for c in cs))

    sol = minimize_scalar(loss, bounds=(0.2, 1.0), method="bounded")
    return {"FP8_EFF_FACTOR": float(sol.x)}
