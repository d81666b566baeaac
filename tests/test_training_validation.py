"""Training validation sources without a reference-test file of their own: BLOOM-176B (measured
memory per GPU and TFLOP/s, BigScience tr11 benchmarks), NeMo 24.12 H100 FP8 and the Narayanan
et al. 2021 §5.1 end-to-end estimates.

Tolerances are the errors measured after the second-pass refit plus about half a percentage
point (measured: BLOOM memory mean 4.65 %, max 6.8 %, all under; BLOOM bench TFLOP/s mean 8.2 %;
NeMo FP8 fit half 5.5 %, held-out half 11.2 %), so a regression fails here.
"""

import statistics

import pytest

from wattlas.validation import training as vt


@pytest.fixture(scope="module")
def cases():
    return vt.cases()


def _errs(cases, source):
    return [c.error_frac for c in cases if c.source == source]


def test_bloom_memory(cases):
    # DeepSpeed BF16 optimizer grads (bf16 .grad + fp32 accumulation, 6 B/param) modelled;
    # allocator fragmentation is not, so every prediction stays a little under the measurement
    e = _errs(cases, "BLOOM measured memory")
    assert len(e) == 5
    assert statistics.fmean(abs(x) for x in e) <= 0.05
    assert all(-0.075 <= x <= 0.0 for x in e)


def test_bloom_throughput(cases):
    e = _errs(cases, "BLOOM2022 bench")
    assert len(e) == 5
    assert statistics.fmean(abs(x) for x in e) <= 0.09


def test_nemo_fp8_held_out_half(cases):
    held = [c.error_frac for c in cases if c.source == "NeMo24.12 perf" and not c.calibration]
    assert len(held) == 3
    assert statistics.fmean(abs(x) for x in held) <= 0.12


def test_narayanan_end_to_end_estimates(cases):
    # §5.1: GPT-3 175B on 1,024 A100 in 34 days, 1T on 3,072 in 84 (measured −8.4 %, −1.2 %)
    e = _errs(cases, "Narayanan2021 §5.1 (estimate)")
    assert len(e) == 2
    assert all(abs(x) <= 0.09 for x in e)
