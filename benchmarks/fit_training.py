"""Reproduce the fitted constants of wattlas.perf.training.calibration (prints them to paste there).

1. GEMM-efficiency curve and per-layer costs on vTrain single-node (the documented subset).
2. Attention, FP8, NVFP4 and Blackwell accelerator factors on the calibration subset of the
   published tables at scale and the even-indexed NeMo 24.12 rows (validation.fit.fit_published).
3. The stack efficiency of each software stack of those tables (fit_stack_efficiency).
Run: python benchmarks/fit_training.py
"""

from wattlas.validation.fit import fit_published, fit_stack_efficiency, fit_vtrain_single

if __name__ == "__main__":
    print(fit_vtrain_single())
    print(fit_published())
    print(fit_stack_efficiency())
