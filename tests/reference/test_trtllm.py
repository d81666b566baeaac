"""TensorRT-LLM published performance tables (NVIDIA TensorRT-LLM docs, "Performance
Overview": max-throughput table of v0.17 and online-latency table of v0.14; FP8 vs FP16 table of
the "FP8 quantization" guide for Llama-3.3-70B on 4×H100).

Calibration: engine ``trtllm-2025`` was fitted on the max-throughput ISL = OSL = 128 rows only
(data/engines.csv); the other max-throughput rows are out of sample. Tolerances are the errors
measured at fitting time plus about two percentage points, so a regression fails here:
calibration median 4.4 %, out-of-sample median 12.0 % (max 32 %). One roofline per operator
(linears, attention) brought the long-context worst case (TP8 2048/2048) from +48 % to within
32 %; fp8_compute_eff_frac was refitted on the same calibration rows with that change.

Online-latency table (v0.14; out of sample, no constant fitted on it). Its precision is not
stated; BF16 is assumed (docs/inference.md): with the efficiencies fitted on v0.17 the BF16
ITL at low load (QPS ≤ 8, 5 rows) is within +14/−28 %, median 10.0 %; FP8 would be 29-61 % low.
TTFT (queue wait + own prefill + first step) median 16 % over 8 rows. Rate-mode steps admit
Poisson numbers of whole prompts (perf.serving.roofline.mixed_parts). Known gaps pinned so a change
in
either direction is seen: at QPS 16-32 the ITL is underpredicted by 20 % and 56 %; the
saturated capacity (QPS = INF rows) is within +3 % and +20 %.
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
    both within 15 % as ratios (ISL/OSL of the table are not published: 2048/~2048 assumed).
    Measured −6 % and −13 %: at max throughput the BF16 baseline runs small, HBM-bound
    continuous-batching steps that carry the admitted prompts' prefill under the weight reads,
    which the published FP16 run gains less from (docs/inference.md, Validation)."""
    for c in vi.fp8_table_cases():
        assert c.predicted > 1.0
        assert abs(c.error_frac) < 0.15


@pytest.fixture(scope="module")
def online():
    return vi.trtllm_online_cases()


def test_online_itl_low_load_within_15pct_median(online):
    low = [c for c in online if c.metric == "itl_s"]
    assert len(low) == 5
    errs = [abs(c.error_frac) for c in low]
    # measured 10.0 % (7.2 % before the Poisson-arrival step); the target is 15 %
    assert statistics.median(errs) <= 0.12
    assert max(errs) <= 0.30  # 70B TP4 at 7 req/s: −28 %


def test_online_bf16_assumption_fits_better_than_fp8(online):
    """The stated precision assumption: FP8 weights would put low-load ITL 29-61 % low."""
    fp8 = [abs(c.error_frac) for c in vi.trtllm_online_cases("fp8") if c.metric == "itl_s"]
    bf16 = [abs(c.error_frac) for c in online if c.metric == "itl_s"]
    assert statistics.median(bf16) < 0.5 * statistics.median(fp8)


def test_online_ttft_with_queueing(online):
    ttft = [c for c in online if c.metric == "ttft_s"]
    assert len(ttft) == 8
    # measured 16.0 % (11.7 % when one roofline covered the whole step: the queue waits now
    # come from a capacity within 20 % of the published one instead of 32-50 % high)
    assert statistics.median(abs(c.error_frac) for c in ttft) <= 0.18
    # TTFT rises with the offered load along each model's rows, as published
    for model in ("Llama-3.1-8B TP1 467/256", "Llama-3.1-70B TP4 467/256"):
        rows = [c for c in ttft if c.case.startswith(model)]
        assert [c.predicted for c in rows] == sorted(c.predicted for c in rows)


def test_online_loaded_known_gaps(online):
    loaded = [c.error_frac for c in online if c.metric == "itl_s_loaded"]
    # 0, −29, −57 % with the Poisson-arrival step (−7, −39, −66 % with evenly spread prefill)
    assert len(loaded) == 3 and all(-0.65 < e < 0.05 for e in loaded)
    assert statistics.median(abs(e) for e in loaded) <= 0.32
    cap = [c.error_frac for c in online if c.metric == "capacity_requests_per_s"]
    # +3 % and +20 % with one roofline per operator (+50 % and +32 % with one per step)
    assert len(cap) == 2 and all(abs(e) < 0.23 for e in cap)
