"""vTrain ground truth (Bang et al., MICRO-57 2024; VIA-Research/vTrain, MIT licence).

Single-node file (1,440 A100 iterations) is the calibration subset of
wattlas.perf.training.calibration;
the multi-node file (109 iterations on 64–512 A100) is out of sample. Tolerances are the errors
measured after the second-pass refit (multi-node: mean 9.45 %, median 7.8 %, max 38.6 %;
single-node: mean 7.8 %) plus about half a percentage point, and never looser than the issue's
multi-node target (mean ≤ 10 %), so a regression fails here.
For comparison: Calculon ≈ 11 % mean, vTrain's own 14.7 % multi-node, constant efficiency ≈ 17.5 %
(data/validation/README.md).
"""

import statistics

import pytest

from wattlas.validation import training as vt


@pytest.fixture(scope="module")
def cases():
    return vt.vtrain_cases()


def _errs(cases, source):
    return [abs(c.error_frac) for c in cases if c.source == source]


def test_all_rows_evaluated(cases):
    assert len(_errs(cases, "vTrain single-node")) == 1440
    assert len(_errs(cases, "vTrain multi-node")) == 109


def test_multi_node_out_of_sample(cases):
    e = _errs(cases, "vTrain multi-node")
    assert statistics.fmean(e) <= 0.10
    assert statistics.median(e) <= 0.085
    assert max(e) <= 0.40  # worst case reported, not hidden


def test_single_node_calibration_fit(cases):
    e = _errs(cases, "vTrain single-node")
    assert statistics.fmean(e) <= 0.085
