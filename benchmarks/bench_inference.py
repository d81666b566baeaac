"""Inference planner benchmarks: `--search` time, decode-step evaluations per second and the
validation errors, so a change in accuracy shows next to a change in speed.

Targets (issue 4): ``wattlas serve --search`` over every catalog accelerator × {bf16, fp8, fp4,
int4} × TP {1, 2, 4, 8} × batch in < 2 s; median absolute error ≤ 15 % on out-of-sample
max-throughput, ≤ 15 % on low-load ITL, ≤ 30 % on J/token.
"""

from __future__ import annotations

import statistics
import time


def _search() -> tuple[float, int]:
    from wattlas.perf.serving.search import search_accelerators, search_serving
    from wattlas.scenario import resolve_model

    model = resolve_model("llama3.1-70b")
    accs = search_accelerators()
    t0 = time.perf_counter()
    res = search_serving(model, accs, 1024, 256, rate_per_s=100.0,
                         slo={"ttft_s": 1.0, "tpot_s": 0.05})
    return time.perf_counter() - t0, res.candidates


def _steps_per_s(n: int = 100_000) -> float:
    import numpy as np

    from wattlas.hardware import accelerator
    from wattlas.perf.serving.roofline import ServingConfig, decode_step_time_s
    from wattlas.scenario import resolve_model

    cfg = ServingConfig(resolve_model("llama3.1-70b"), accelerator("h100-sxm"), tp=4,
                        precision="fp8")
    rng = np.random.default_rng(0)
    b, ctx = rng.integers(1, 1024, n), rng.integers(128, 8192, n)
    t0 = time.perf_counter()
    decode_step_time_s(cfg, b, ctx)
    return n / (time.perf_counter() - t0)


def _plan_s(n: int = 20) -> float:
    from wattlas.hardware import accelerator
    from wattlas.perf.serving.plan import plan_serving
    from wattlas.perf.serving.roofline import ServingConfig
    from wattlas.scenario import resolve_model

    cfg = ServingConfig(resolve_model("llama3.1-70b"), accelerator("h100-sxm"), tp=4,
                        precision="fp8")
    t0 = time.perf_counter()
    for _ in range(n):
        plan_serving(cfg, 1024, 256, rate_per_s=50.0, slo={"ttft_s": 1.0, "tpot_s": 0.05})
    return (time.perf_counter() - t0) / n


def _median_err(cases, pred) -> float:
    errs = [abs(c.error_frac) for c in cases if pred(c)]
    return statistics.median(errs) if errs else float("nan")


def run() -> list[dict]:
    from wattlas.validation import inference as vi

    search_s, cand = _search()
    cases = vi.cases()
    return [
        {"name": "serve --search llama3.1-70b, all accelerators", "value": search_s,
         "unit": "s", "target": "< 2"},
        {"name": "serve --search candidates", "value": cand, "unit": "1", "target": "-"},
        {"name": "decode-step evaluations per second", "value": _steps_per_s(),
         "unit": "1/s", "target": "-"},
        {"name": "max-throughput error, out of sample (median abs)",
         "value": _median_err(cases, lambda c: c.source.startswith("trtllm_max")
                              and not c.calibration), "unit": "1", "target": "<= 0.15"},
        {"name": "MLPerf v4.1 Llama-2-70B per-GPU error (median abs)",
         "value": _median_err(cases, lambda c: c.source == "mlperf_llama2_70b_v4.1"),
         "unit": "1",
         "target": "<= 0.15"},
        {"name": "low-load ITL error (median abs)",
         "value": _median_err(cases, lambda c: c.metric == "itl_s"), "unit": "1",
         "target": "<= 0.15"},
        {"name": "loaded ITL error, QPS 16-32 (median abs)",
         "value": _median_err(cases, lambda c: c.metric == "itl_s_loaded"), "unit": "1",
         "target": "-"},
        {"name": "TTFT error with queueing, TRT-LLM v0.14 (median abs)",
         "value": _median_err(cases, lambda c: c.source == "trtllm_online_v0.14 ttft"),
         "unit": "1", "target": "<= 0.15"},
        {"name": "MLPerf v4.1 Server TTFT mean+p99 error (median abs)",
         "value": _median_err(cases, lambda c: c.source == "mlperf_llama2_70b_v4.1 server"),
         "unit": "1", "target": "-"},
        {"name": "plan_serving with --rate (queueing + energy), per call",
         "value": _plan_s(), "unit": "s", "target": "< 0.05"},
        {"name": "J/token error, out of sample (median abs)",
         "value": _median_err(cases, lambda c: c.metric == "energy_per_token_j"
                              and not c.calibration), "unit": "1", "target": "<= 0.30"},
    ]


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:55s} {row['value']:>12.4g} {row['unit']:5s} target {row['target']}")
