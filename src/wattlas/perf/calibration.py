"""Fitted constants of the training step-time model, with the subset each was fitted on.

Fit subset (and only this subset): vTrain ``ground_truth_single.csv`` (1,440 Megatron-DeepSpeed
iterations on one node of 8 A100-SXM-80GB; Bang et al., MICRO-57 2024). Everything else in
``wattlas validate training`` is out of sample. Reproduce the fit with::

    python -c "from wattlas.perf.calibration import fit_vtrain_single; print(fit_vtrain_single())"

(or ``python benchmarks/fit_training.py``), which runs ``scipy.optimize.least_squares`` on the log
ratio predicted/measured iteration time and prints the constants to paste below.

GEMM efficiency is a smooth function of the per-device GEMM shape after tensor and context
parallelism (``hd = h/t`` and ``tok = b·s/cp``):

    eff(hd, tok) = EFF_MAX · hd/(hd + HD_HALF) · tok/(tok + TOK_HALF)

so small hidden slices and small micro-batches lose efficiency smoothly. ``LAYER_OVERHEAD_S`` is a
fixed kernel-launch / elementwise cost per layer per forward-equivalent pass.

Transfer to other accelerators: the same curve shape is used relative to each accelerator's dense
peak at the training precision (no H100 data in the fit subset). FP8 reaches a lower fraction of
its (2×) peak because attention, norms and casts stay in 16-bit: ``FP8_EFF_FACTOR`` was fitted on
the even-indexed NeMo 24.12 rows with shapes (documented in validation/training.py) and reported
on the odd-indexed half. FP4 uses the FP8 factor (no data).
"""

from __future__ import annotations

# fitted on vTrain single-node (see module docstring); values printed by fit_vtrain_single()
EFF_MAX = 0.80
HD_HALF = 256.0
TOK_HALF = 512.0
LAYER_OVERHEAD_S = 2.0e-4
# fitted on the even half of the NeMo 24.12 H100 FP8 rows (validation/training.py)
FP8_EFF_FACTOR = 0.6
# exposed fraction of the data-parallel gradient collective that backward cannot hide
DP_OVERLAP_FRAC = 1.0
# bytes moved per local parameter by the optimizer step: read fp32 master/m/v (12) and the grad
# (4), write master/m/v (12) and the 16-bit weight (2)
OPTIMIZER_STEP_BYTES_PER_PARAM = 30.0


def constants() -> dict[str, float]:
    """The current constants as a mapping (what the vectorised model reads)."""
    return {"eff_max": EFF_MAX, "hd_half": HD_HALF, "tok_half": TOK_HALF,
            "layer_overhead_s": LAYER_OVERHEAD_S, "fp8_eff_factor": FP8_EFF_FACTOR,
            "dp_overlap_frac": DP_OVERLAP_FRAC}


def fit_vtrain_single(max_nfev: int = 200) -> dict[str, float]:
    """Refit EFF_MAX, HD_HALF, TOK_HALF and LAYER_OVERHEAD_S on vTrain single-node runs.

    Least squares (scipy.optimize.least_squares, soft-L1 loss) on log(predicted/measured).
    Returns the fitted constants and the mean absolute error after the fit."""
    import numpy as np
    from scipy.optimize import least_squares

    from ..validation.training import vtrain_rows, vtrain_predict

    rows = vtrain_rows("ground_truth_single.csv")
    measured = np.array([r["iter_s"] for r in rows])

    def resid(x):
        c = dict(constants(), eff_max=x[0], hd_half=np.exp(x[1]), tok_half=np.exp(x[2]),
                 layer_overhead_s=np.exp(x[3]))
        pred = vtrain_predict(rows, c)
        return np.log(pred / measured)

    x0 = np.array([EFF_MAX, np.log(HD_HALF), np.log(TOK_HALF), np.log(LAYER_OVERHEAD_S)])
    sol = least_squares(resid, x0, loss="soft_l1", f_scale=0.05, max_nfev=max_nfev,
                        bounds=([0.2, 0.0, 0.0, np.log(1e-7)], [1.0, 12.0, 14.0, np.log(1e-2)]))
    x = sol.x
    err = np.exp(resid(x)) - 1.0
    return {"EFF_MAX": float(x[0]), "HD_HALF": float(np.exp(x[1])),
            "TOK_HALF": float(np.exp(x[2])), "LAYER_OVERHEAD_S": float(np.exp(x[3])),
            "mean_abs_error_frac": float(np.mean(np.abs(err)))}
