"""Refits of the training step-time constants of :mod:`wattlas.perf.training.calibration`.

The model reads its fitted constants as data (``perf/training/calibration.py`` holds numbers and the
curves that use them); the fits run validation cases, so they live here, above the model, and
print the constants to paste there. Each fit uses only its documented subset:

* :func:`fit_vtrain_single`: the GEMM-efficiency curve and per-layer costs on vTrain
  ``ground_truth_single.csv`` (1,440 iterations on one node of 8 A100-SXM-80GB).
* :func:`fit_published`: attention, FP8, NVFP4 and Blackwell accelerator factors on the
  calibration rows (``calibration=True``) of the published tables at scale and the even-indexed
  NeMo 24.12 rows; every other row is out of sample.

Run: ``python benchmarks/fit_training.py``.
"""

from __future__ import annotations

from ..perf.training import calibration as cal


def fit_vtrain_single(max_nfev: int = 200) -> dict[str, float]:
    """Refit HD_HALF, TOK_HALF, LAYER_OVERHEAD_S, SHAPE_EXP and ELEM_TRAFFIC on vTrain
    single-node runs (EFF_MAX stays at its prior).

    Least squares (scipy.optimize.least_squares, soft-L1 loss) on log(predicted/measured).
    Returns the fitted constants and the mean absolute error after the fit."""
    import numpy as np
    from scipy.optimize import least_squares

    from .training import vtrain_predict, vtrain_rows

    rows = vtrain_rows("ground_truth_single.csv")
    measured = np.array([r["iter_s"] for r in rows])

    def resid(y):
        x = np.concatenate([[cal.EFF_MAX], y])  # EFF_MAX is a prior, not fitted
        c = dict(cal.constants(), hd_half=np.exp(x[1]), tok_half=np.exp(x[2]),
                 layer_overhead_s=np.exp(x[3]), shape_exp=x[4], elem_traffic=x[5])
        pred = vtrain_predict(rows, c)
        return np.log(pred / measured)

    x0 = np.array([cal.EFF_MAX, np.log(cal.HD_HALF), np.log(cal.TOK_HALF),
                   np.log(cal.LAYER_OVERHEAD_S), cal.SHAPE_EXP, cal.ELEM_TRAFFIC])
    sol = least_squares(resid, x0[1:], loss="soft_l1", f_scale=0.05, max_nfev=max_nfev,
                        bounds=([0.0, 0.0, np.log(1e-7), 0.3, 0.0],
                                [12.0, 14.0, np.log(1e-2), 10.0, 20.0]))
    x = np.concatenate([[cal.EFF_MAX], sol.x])
    err = np.exp(resid(sol.x)) - 1.0
    return {"EFF_MAX (prior, not fitted)": cal.EFF_MAX, "HD_HALF": float(np.exp(x[1])),
            "TOK_HALF": float(np.exp(x[2])), "LAYER_OVERHEAD_S": float(np.exp(x[3])),
            "SHAPE_EXP": float(x[4]), "ELEM_TRAFFIC": float(x[5]),
            "mean_abs_error_frac": float(np.mean(np.abs(err)))}


#: sources whose calibration rows fit the Megatron-Core-class constants of :func:`fit_published`
#: (torchtitan and NeMo AutoModel run other stacks: their calibration rows fit a stack
#: efficiency instead)
PUBLISHED_FIT_SOURCES = ("Megatron-LM README", "NeMo 25.09-26.08", "NeMo 25.02-25.07",
                         "NeMo 24.07")


PUBLISHED_FIT_ACCELERATORS = ("b200", "gb200", "gb300")


def _with(values: dict[str, float], fn):
    """Run `fn()` with constants of :mod:`wattlas.perf.training.calibration` temporarily replaced
    (`values`: name → value, names of the form ``ACCEL_EFF_FACTOR:<id>`` set one entry of
    ACCEL_EFF_FACTOR); the model reads them from the module at call time."""
    old = {k: getattr(cal, k) for k in values if ":" not in k}
    old_acc = dict(cal.ACCEL_EFF_FACTOR)
    try:
        for k, v in values.items():
            if ":" in k:
                cal.ACCEL_EFF_FACTOR[k.split(":", 1)[1]] = float(v)
            else:
                setattr(cal, k, float(v))
        return fn()
    finally:
        for k, v in old.items():
            setattr(cal, k, v)
        cal.ACCEL_EFF_FACTOR.clear()
        cal.ACCEL_EFF_FACTOR.update(old_acc)


def fit_published(max_nfev: int = 60) -> dict[str, float]:
    """Fit ATTN_EFF, FP8_EFF_FACTOR, FP4_EFF_FACTOR and the factor of each Blackwell
    accelerator on the calibration rows (``calibration=True``) of the Megatron-Core-class sources
    (:data:`PUBLISHED_FIT_SOURCES`, dense models) and the NeMo 24.12 calibration rows: least
    squares (soft-L1) on log(predicted/published). Returns the constants and the calibration
    and out-of-sample median absolute errors."""
    import numpy as np
    from scipy.optimize import least_squares

    from . import published
    from . import training as vt

    names = ["ATTN_EFF", "FP8_EFF_FACTOR", "FP4_EFF_FACTOR",
             *[f"ACCEL_EFF_FACTOR:{a}" for a in PUBLISHED_FIT_ACCELERATORS]]

    def run(values):
        def go():
            cs = [c for c in published.cases() if c.source in PUBLISHED_FIT_SOURCES]
            cs += [c for c in vt.run_cases() if c.source.startswith("NeMo")]
            return cs
        return _with(values, go)

    def resid(x):
        cs = run(dict(zip(names, x, strict=True)))
        return np.array([np.log(c.predicted / c.published) for c in cs if c.calibration])

    x0 = np.array([cal.ATTN_EFF, cal.FP8_EFF_FACTOR, cal.FP4_EFF_FACTOR,
                   *[cal.ACCEL_EFF_FACTOR.get(a, 1.0) for a in PUBLISHED_FIT_ACCELERATORS]])
    sol = least_squares(resid, x0, loss="soft_l1", f_scale=0.05, max_nfev=max_nfev,
                        bounds=(np.full(len(x0), 0.05), np.full(len(x0), 1.5)))
    values = dict(zip(names, sol.x, strict=True))
    cs = run(values)
    err_in = [abs(c.error_frac) for c in cs if c.calibration]
    err_out = [abs(c.error_frac) for c in cs if not c.calibration]
    return {**{k: float(v) for k, v in values.items()},
            "calibration_median_abs_error_frac": float(np.median(err_in)),
            "out_of_sample_median_abs_error_frac": float(np.median(err_out))}


def fit_zero3_2021_overlap() -> dict[str, float]:
    """Refit ``perf.training.sharding.ZERO3_2021_OVERLAP_FRAC`` on the GPT-3 175B ZeRO-3 rows of
    SC'21
    Table 2 (the calibration subset, chosen before fitting): scipy.optimize.minimize_scalar of
    the squared log error. Returns the constant and the mean absolute error on the fit rows and
    on the held-out GPT-530B ZeRO-3 rows."""
    import numpy as np
    from scipy.optimize import minimize_scalar

    from ..perf.training import sharding
    from . import training as vt

    def errors(f: float) -> tuple[list[float], list[float]]:
        old = sharding.ZERO3_2021_OVERLAP_FRAC
        sharding.ZERO3_2021_OVERLAP_FRAC = f
        try:
            cs = [c for c in vt.run_cases() if "ZeRO-3" in c.case]
        finally:
            sharding.ZERO3_2021_OVERLAP_FRAC = old
        fit = [c.predicted / c.published for c in cs if c.case.startswith("GPT-3 ")]
        held = [c.predicted / c.published for c in cs if not c.case.startswith("GPT-3 ")]
        return fit, held

    def loss(f: float) -> float:
        return float(sum(np.log(r) ** 2 for r in errors(f)[0]))

    sol = minimize_scalar(loss, bounds=(0.0, 1.0), method="bounded")
    fit, held = errors(float(sol.x))
    return {"ZERO3_2021_OVERLAP_FRAC": float(sol.x),
            "fit_mean_abs_error_frac": float(np.mean(np.abs(np.array(fit) - 1.0))),
            "held_out_mean_abs_error_frac": float(np.mean(np.abs(np.array(held) - 1.0)))}


def fit_grouped_gemm_eff() -> dict[str, float]:
    """Refit ``perf.training.moe.GROUPED_GEMM_EFF`` on the calibration rows of the NeMo 25.09–26.08
    MoE
    table (``calibration=True`` in :mod:`.published`): scipy.optimize.minimize_scalar of the
    squared log error. Returns the constant and the median absolute error of the calibration
    rows and of every out-of-sample MoE row."""
    import numpy as np
    from scipy.optimize import minimize_scalar

    from ..perf.training import moe
    from . import published

    def moe_cases(f: float) -> list:
        old = moe.GROUPED_GEMM_EFF
        moe.GROUPED_GEMM_EFF = f
        try:
            return [c for c in published.cases() if "(MoE)" in c.source]
        finally:
            moe.GROUPED_GEMM_EFF = old

    def loss(f: float) -> float:
        return float(sum(np.log(c.predicted / c.published) ** 2 for c in moe_cases(f)
                         if c.calibration and c.source.startswith("NeMo 25.09")))

    sol = minimize_scalar(loss, bounds=(0.05, 1.5), method="bounded")
    cs = moe_cases(float(sol.x))
    cal = [abs(c.error_frac) for c in cs if c.calibration and c.source.startswith("NeMo 25.09")]
    out = [abs(c.error_frac) for c in cs if not c.calibration]
    return {"GROUPED_GEMM_EFF": float(sol.x),
            "calibration_median_abs_error_frac": float(np.median(cal)),
            "out_of_sample_median_abs_error_frac": float(np.median(out))}


#: the software stacks of the published tables at scale, by source (dense rows)
STACKS = {"Megatron-Core (NeMo, Megatron-LM)": PUBLISHED_FIT_SOURCES,
          "torchtitan (FSDP2)": ("torchtitan",), "NeMo AutoModel (FSDP2)": ("NeMo AutoModel",)}


def fit_stack_efficiency() -> dict[str, dict[str, float]]:
    """The stack efficiency (``training.stack_efficiency_frac``) each software stack of the
    published tables reaches relative to the model: the geometric mean of published / predicted
    throughput over the stack's calibration rows (dense), with the out-of-sample median absolute
    error of the model alone and of the model × that efficiency. For the Megatron-Core stack the
    model's constants are fitted on the same rows, so its value is ≈ 1 by construction: the
    default 1.0 is what those runs reach."""
    import numpy as np

    from . import published

    cs = published.cases()
    out: dict[str, dict[str, float]] = {}
    for stack, sources in STACKS.items():
        mine = [c for c in cs if c.source in sources]
        cal = [np.log(c.published / c.predicted) for c in mine if c.calibration]
        if not cal:
            continue
        eff = float(np.exp(np.mean(cal)))
        held = [c for c in mine if not c.calibration]
        out[stack] = {
            "stack_efficiency_frac": eff, "n_calibration": len(cal), "n_out_of_sample": len(held),
            "out_of_sample_median_abs_error_frac_model": float(
                np.median([abs(c.error_frac) for c in held])),
            "out_of_sample_median_abs_error_frac_with_efficiency": float(
                np.median([abs(c.predicted * eff / c.published - 1.0) for c in held]))}
    return out
