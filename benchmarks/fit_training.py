"""Reproduce the fitted constants of wattlas.perf.calibration (prints them to paste there).

1. GEMM-efficiency curve and per-layer costs on vTrain single-node (the documented subset).
2. FP8 efficiency factor on the even-indexed NeMo 24.12 H100 rows with shapes.
Run: python benchmarks/fit_training.py
"""

from wattlas.perf.calibration import fit_fp8_factor, fit_vtrain_single

if __name__ == "__main__":
    print(fit_vtrain_single())
    print(fit_fp8_factor())
