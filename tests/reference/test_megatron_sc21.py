"""Narayanan et al., "Efficient Large-Scale Language Model Training on GPU Clusters Using
Megatron-LM", SC'21 (arXiv:2104.04473): eq. 3 and Table 1.

Table 1 reports hardware TFLOP/s per GPU counted with eq. 3 (96·B·s·l·h²·(1 + s/6h + V/16lh),
full recompute). wattlas predicts the iteration time and converts it with the same eq. 3.
The table gives no micro-batch size, so the planner's own choice is used (the fastest micro-batch
that fits, for the table's tp/pp/dp; see wattlas.validation.training). Tolerance: measured mean
absolute error 3.9 % (max 9.0 %), bound at 5 % / 10 % (inside the issue's 8 % target).
Table 2 ZeRO-3 rows: the 2021 DeepSpeed ZeRO-3 collectives run at one NIC per GPU with a prefetch
overlap fitted on the three GPT-3 rows (perf.training.sharding); measured mean 9.2 % (max 15.8 %,
the
held-out GPT-530B rows 11.7 % mean), bound at 12 % mean / 20 % max (the issue's target is 15 %),
and the held-out rows at 15 %.
"""

import statistics

import pytest

from wattlas.validation import training as vt
from wattlas.workload.transformer import megatron_flop_per_iter


def test_eq3_closed_form():
    B, s, L, h, V = 1536, 2048, 96, 12288, 51200
    eq3 = 96 * B * s * L * h**2 * (1 + s / (6 * h) + V / (16 * L * h))
    assert megatron_flop_per_iter(B, s, L, h, V, "full") == pytest.approx(eq3, rel=1e-12)
    # without recompute: 72·B·s·l·h²·(1 + s/6h) + the same logits term (3 passes of the LM head)
    no_rc = 72 * B * s * L * h**2 * (1 + s / (6 * h)) + 6 * B * s * h * V
    assert megatron_flop_per_iter(B, s, L, h, V, "none") == pytest.approx(no_rc, rel=1e-12)


def test_table1_tflops():
    cases = [c for c in vt.run_cases() if c.source == "Narayanan2021_SC21 T1"]
    assert len(cases) == 10
    e = [abs(c.error_frac) for c in cases]
    assert statistics.fmean(e) <= 0.05
    assert max(e) <= 0.10


def test_table2_zero3_reported():
    cases = [c for c in vt.run_cases() if c.source == "Narayanan2021_SC21 T2"]
    assert len(cases) == 6
    e = [abs(c.error_frac) for c in cases]
    assert statistics.fmean(e) <= 0.12
    assert max(e) <= 0.20
    held_out = [abs(c.error_frac) for c in cases if c.case.startswith("GPT-530B")]
    assert len(held_out) == 3 and statistics.fmean(held_out) <= 0.15
    # throughput falls with the GPU count at a fixed batch, as measured (comm-bound)
    by_model = {}
    for c in cases:
        by_model.setdefault(c.case.split(" gpus")[0], []).append(c)
    for rows in by_model.values():
        preds = [c.predicted for c in sorted(rows, key=lambda c: int(c.case.split("=")[1]))]
        assert all(a > b for a, b in zip(preds, preds[1:], strict=False))
