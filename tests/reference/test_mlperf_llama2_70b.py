"""MLPerf Inference v4.1, Llama-2-70B, NVIDIA closed-division Offline results
(data/reference/mlperf_llama2_70b.csv: DGX-H100 8×H100-SXM-80GB, 8×H200-SXM-141GB, 1×B200
preview). Out of sample: no constant was fitted on MLPerf.

Assumptions (stated in wattlas.validation.inference): mean ISL = OSL ≈ 290 tokens (OSL from
tokens/s ÷ samples/s), H100 replicas TP2, H200 and B200 one GPU per replica, B200 at FP4.
Tolerance: H100/H200 per-GPU throughput within 15 % (measured 5 % and 9 %); B200 within 40 %
(measured +37 %: preview silicon and an FP4 software stack the trtllm-2025 profile was not fitted
on).
"""

import pytest

from wattlas.validation import inference as vi


@pytest.fixture(scope="module")
def cases():
    return {c.case.split()[0]: c for c in vi.mlperf_cases()}


def test_hopper_per_gpu_throughput(cases):
    for key in ("H100", "H200"):
        assert abs(cases[key].error_frac) < 0.15, cases[key]


def test_b200_within_40pct(cases):
    assert abs(cases["B200"].error_frac) < 0.40


def test_h200_beats_h100_per_gpu(cases):
    """Published 3913 vs 3066 tokens/s/GPU (1.28x); the model's sign and size agree."""
    pub = cases["H200"].published / cases["H100"].published
    pred = cases["H200"].predicted / cases["H100"].predicted
    assert pub == pytest.approx(3913 / 3066)
    assert 1.0 < pred < 1.6
