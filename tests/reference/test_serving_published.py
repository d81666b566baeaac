"""Serving at scale against published tables (data/validation/published/):

* TensorRT-LLM v0.12.0 "Performance Overview" max-throughput table (NVIDIA/TensorRT-LLM,
  docs/source/performance/perf-overview.md): 319 rows; 264 predicted (GH200 is not in the
  accelerators catalog; L40S TP > 1 runs tensor parallelism over PCIe, which a replica here
  does not). Engine ``trtllm-0.12`` is fitted on the ISL = OSL = 128 rows only
  (``fit_trtllm_v012``); the rest is out of sample.
* SGLang DeepSeek-V3 PD disaggregation on 96 H100 (lmsys.org 2025-05-05): nothing fitted.

Tolerances are the errors measured when the model was built plus about two percentage points,
so a regression (or an improvement) is seen here. Measured: v0.12 calibration median 7.6 %,
out of sample median 20.4 % (signed +20.4 %: long outputs on 70B at TP 4-8 are overpredicted
by 50-160 %); SGLang decode +8 %, prefill +36…+40 % (+18 % against the balanced-routing row).
"""

import statistics

import pytest

from wattlas.validation import serving_published as sp


@pytest.fixture(scope="module")
def v012():
    return sp.trtllm_v012_cases()


def test_every_predictable_row_is_evaluated(v012):
    skipped = sp.skipped_rows()
    assert len(v012) + len(skipped) == 319
    assert len(v012) == 264
    assert all("GH200" in k or "L40S" in k for k in skipped)
    assert sum(c.calibration for c in v012) == 53


def test_v012_calibration_subset(v012):
    errs = [abs(c.error_frac) for c in v012 if c.calibration]
    assert statistics.median(errs) <= 0.10


def test_v012_out_of_sample_known_gap(v012):
    errs = [c.error_frac for c in v012 if not c.calibration]
    assert statistics.median(abs(e) for e in errs) <= 0.23
    assert statistics.median(errs) > 0.0  # optimistic on average: long decode at TP 4-8
    short = [abs(c.error_frac) for c in v012
             if not c.calibration and c.detail.get("osl") == 128]
    assert statistics.median(short) <= 0.10  # 2048/128 rows


def test_sglang_decode_within_15pct():
    cases = {c.case: c for c in sp.sglang_cases()}
    for name, c in cases.items():
        if name.startswith("decode EP72") and c.source == "sglang_deepseek_v3_pd":
            assert abs(c.error_frac) <= 0.15, name


def test_sglang_prefill_known_gap():
    """Prefill with two-batch overlap is predicted 36-40 % high against the default-EPLB rows
    and 18 % against the simulated perfect-EPLB row: the model routes tokens evenly and its
    all-to-all runs at the DeepEP unit-test rate, which the blog says TBO does not reach."""
    pre = [c for c in sp.sglang_cases() if c.case.startswith("prefill")]
    assert len(pre) == 4
    assert all(0.10 < c.error_frac < 0.45 for c in pre)
    balanced = next(c for c in pre if "perfect" in c.case)
    assert balanced.error_frac < min(c.error_frac for c in pre if c is not balanced)


def test_fp4_efficiency_is_derived_from_the_training_calibration():
    """No serving row is fitted for FP4: NVFP4 GEMMs keep the ratio to FP8 that the training
    calibration measured on the NeMo NVFP4 and FP8 rows (FP4_EFF_FACTOR / FP8_EFF_FACTOR)."""
    from wattlas.perf.serving.roofline import engine
    from wattlas.perf.training import calibration as cal

    e = engine("trtllm-2025")
    derived = e.fp8_compute_eff_frac * cal.FP4_EFF_FACTOR / cal.FP8_EFF_FACTOR
    assert e.fp4_compute_eff_frac == pytest.approx(derived, abs=5e-4)


def test_blackwell_fp4_out_of_sample():
    """TensorRT-LLM 1.x perf overview, Llama-3.3-70B, every row out of sample. With FP4 GEMMs
    at the FP8 efficiency (0.55 of the FP4 peak) the B200/GB200 NVFP4 rows were 28-76 %
    optimistic; at the training calibration's FP4/FP8 ratio (0.387 of the FP4 peak) they are
    within +4…+16 % up to 8,192-token prompts; the 32,768/1,024 rows (long-prompt prefill)
    stay +44…+47 %, and H100/H200 FP8 +6…+27 %. Median over the 17 rows 10.9 %."""
    cases = sp.trtllm_1x_cases()
    assert not any(c.calibration for c in cases)
    fp4 = [c for c in cases if c.detail["precision"] == "fp4"]
    assert len(fp4) == 10
    short = [c for c in fp4 if "32768/" not in c.case]
    assert all(abs(c.error_frac) <= 0.18 for c in short)
    assert all(0.35 < c.error_frac < 0.55 for c in fp4 if "32768/" in c.case)
    assert statistics.median(abs(c.error_frac) for c in cases) <= 0.12


def test_trtllm_v10_dense_table_out_of_sample():
    """TensorRT-LLM v1.0 perf overview (100 rows: Llama 3.1 8B, 3.3 70B, 3.1 405B; B200/GB200
    NVFP4, H200/H100 FP8; nothing fitted on it). Measured: median 13.0 % (signed +11.8 %),
    max 59 % (405B H100 TP8 128/4096). Short outputs (…/128) are within 10 %; the KV-bound
    long-output rows of 405B on 80 GB H100 stay +20…+64 % (1000/2000: +46 %)."""
    cases = sp.trtllm_v10_cases()
    assert len(cases) == 100
    errs = [c.error_frac for c in cases]
    assert statistics.median(abs(e) for e in errs) <= 0.14
    assert max(abs(e) for e in errs) <= 0.70
    short = [abs(c.error_frac) for c in cases if c.detail["osl"] == 128]
    assert max(short) <= 0.12
    h100_405 = {c.case: c.error_frac for c in cases if "405B h100" in c.case}
    assert 0.3 < h100_405["Llama 3.1 405B h100-sxm fp8 TP8 1000/2000"] < 0.6
