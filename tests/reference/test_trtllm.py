"""TensorRT-LLM published performance tables (NVIDIA TensorRT-LLM docs, "Performance
Overview": max-throughput table of v0.17 and online-latency table of v0.14; FP8 vs FP16 table of
the "FP8 quantization" guide for Llama-3.3-70B on 4×H100).

Calibration: engine ``trtllm-2025`` was fitted on the max-throughput ISL = OSL = 128 rows only
(data/engines.csv); the other max-throughput rows are out of sample. Tolerances are the errors
measured at fitting time plus about two percentage points, so a regression fails here:
calibration median 2.5 %, out-of-sample median 14.7 % (max 48 %, TP8 2048/2048, where the model
overpredicts long-context decode). The online-latency ITL at low load is underpredicted by
~30-45 % (the table does not state precision; FP8 assumed): pinned here as a known gap so that a
change in either direction is seen.
"""

import statistics

import pytest

from wattlas.validation import inference as vi


@pytest.fixture(scope="module")
def max_tp():
    return vi.trtllm_max_throughput_cases()


def test_every_row_evaluated(max_tp):
    assert len(max_tp) == 15
    assert sum(c.calibration for c in max_tp) == 9


def test_calibration_subset_error(max_tp):
    errs = [abs(c.error_frac) for c in max_tp if c.calibration]
    assert statistics.median(errs) <= 0.05


def test_out_of_sample_throughput_median_within_15pct(max_tp):
    errs = [abs(c.error_frac) for c in max_tp if not c.calibration]
    assert statistics.median(errs) <= 0.17
    assert max(errs) <= 0.55


def test_70b_tp1_long_output_is_kv_capacity_bound(max_tp):
    """Llama-3.1-70B FP8 on one 80 GB H100: 128/2048 runs ~4x below 128/128 because the KV
    cache of only ~30 sequences fits next to 70 GB of weights (published 911.6 vs 3378 tok/s)."""
    row = next(c for c in max_tp if c.case == "Llama-3.1-70B H100 FP8 TP1 128/2048")
    assert row.published == pytest.approx(911.62)
    assert row.detail["batch"] < 64
    assert abs(row.error_frac) < 0.15


def test_fp8_vs_fp16_ratios():
    """FP8 weights give +37 %, FP8 weights + KV +114 % throughput over tuned FP16 (table);
    both within 10 % as ratios (ISL/OSL of the table are not published: 2048/~2048 assumed)."""
    for c in vi.fp8_table_cases():
        assert c.predicted > 1.0
        assert abs(c.error_frac) < 0.10


def test_online_itl_known_gap():
    low = [c for c in vi.trtllm_online_cases() if c.metric == "itl_s"]
    assert len(low) == 5
    errs = [c.error_frac for c in low]
    assert all(-0.65 < e < 0.0 for e in errs)  # underpredicted, see module docstring
