"""The benchmark runner reads every target form the benchmarks use (`make bench` itself is
measured, not run in tests)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
spec = importlib.util.spec_from_file_location("bench_run", RUN)
bench_run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_run)


@pytest.mark.parametrize("value, target, ok", [
    (0.25, "<= 0.3", True), (0.31, "<= 0.3", False), (1.2e5, ">= 100000", True),
    (0.9, "≤ 1 %", True), (1.5, "1 % + published rounding", None),
    (-14.0, "within ±15", True), (-16.0, "within ±15", False),
    (3.0, "< 2", False), (0.4, "report", None), (0.4, "", None), (0.4, None, None),
    (0.36, "Llama 3 paper: 0.38-0.43", None),
])
def test_meets_reads_every_target_form(value, target, ok):
    assert bench_run.meets(value, target) is ok

