"""Published training tables at scale (``data/validation/published/``) against the planner.

Sources: Megatron-LM README weak scaling (48–6,144 H100), NeMo / Megatron-Bridge performance
summaries 24.07–26.08, torchtitan, NeMo AutoModel, DeepSpeed ZeRO-3 (the folder README names the
commit and page of every row). The tolerances below are today's out-of-sample errors with a
small margin, so a change that makes the scale buckets worse fails here.
"""

from __future__ import annotations

import statistics

import pytest

from wattlas.validation import published as P
from wattlas.validation import summarize


@pytest.fixture(scope="module")
def cases():
    return P.cases()


def test_every_training_row_is_compared_or_listed_with_a_reason(cases):
    total = sum(len(P.rows(name)) for name in P.FILES)
    skipped = P.skipped()
    assert len(cases) + len(skipped) == total
    assert all(reason for _, reason in skipped)
    # MoE models outside the catalog are named as such, not dropped
    assert any("not modelled yet" in reason for _, reason in skipped)


@pytest.mark.parametrize("name,causal", [("nemo_perf_2407_longseq.csv", False),
                                         ("nemo_perf_2502_2507_partial.csv", False),
                                         ("nemo_perf_25.csv", True)])
def test_tflops_and_tokens_agree_under_the_megatron_formula(name, causal):
    """NeMo prints both model TFLOP/s and tokens/s per GPU. Their ratio is the Megatron-LM FLOPs
    formula (used to recover tokens/s from the Megatron-LM README TFLOP/s) to 3 % on
    pre-training rows: full attention (12·L·s·h_q) up to NeMo 25.07, causal attention
    (6·L·s·h_q) from 25.09 on (the two differ by 4–11 % at 8K tokens; one 26.x H100 row sits
    2.2 % off, hence 3 %). SFT rows count packed sequences differently and are left out."""
    from wattlas.scenario import resolve_model

    checked = 0
    for r in P.rows(name):
        key = P.MODEL_IDS.get(P._key(r["model"]))
        tok, tf = P.number(r["tokens_per_s_per_gpu"]), P.number(r["model_tflops_per_gpu"])
        if (key not in ("llama3-8b", "llama3-70b", "llama3.1-405b", "llama2-7b", "llama2-70b",
                        "gpt3-175b") or not (tok and tf) or r["task"] != "pretrain"):
            continue
        s = int(P.number(r["seq_len"]))
        m = resolve_model(key)
        flop = P.megatron_flop_per_token(m, s)
        if causal:
            flop -= 6.0 * m.layers * s * m.heads * m.d_qk
        assert tf * 1e12 / tok == pytest.approx(flop, rel=0.03), r["row_label"]
        checked += 1
    assert checked >= 3


def test_calibration_subset_is_at_most_512_gpus_and_half_of_each_source(cases):
    assert all(c.detail["gpus"] <= P.CALIBRATION_MAX_GPUS for c in cases if c.calibration)
    for src in {c.source for c in cases}:
        mine = [c for c in cases if c.source == src]
        assert sum(c.calibration for c in mine) <= (len(mine) + 1) // 2


def test_published_mfu_is_in_the_project_convention(cases):
    """Published MFU × peak = published tokens/s × the plan's model FLOPs per token."""
    for c in cases[:20]:
        d = c.detail
        ratio = c.published / c.predicted
        assert ratio == pytest.approx(d["published_tokens_per_s_per_gpu"]
                                      / d["predicted_tokens_per_s_per_gpu"], rel=1e-9)
        assert 0.0 < c.published < 1.0


def test_scale_buckets_carry_a_signed_median(cases):
    by_scale = P.summarize_by(cases, "scale")
    assert "513–4,096 GPUs" in by_scale and ">4,096 GPUs" in by_scale
    for v in by_scale.values():
        assert v["median_abs_error_frac"] >= abs(v["signed_median_error_frac"]) - 1e-12
    gens = P.summarize_by(cases, "generation")
    assert {"Hopper", "Blackwell"} <= set(gens)


def test_errors_above_512_gpus_do_not_drift(cases):
    """Dense rows above 512 GPUs (all out of sample): median |error| ≤ 7 % and signed median
    within ±3 % (issue targets; 2.6 % and −0.8 % when written)."""
    errs = [c.error_frac for c in cases if c.detail["gpus"] > 512 and not c.detail["moe"]]
    assert len(errs) >= 10
    assert statistics.median(abs(e) for e in errs) <= 0.07
    assert abs(statistics.median(errs)) <= 0.03


@pytest.mark.parametrize("source,limit", [
    ("Megatron-LM README", 0.05),   # 4.1 % when written
    ("NeMo 25.09-26.08", 0.05),     # 4.4 %
    ("NeMo 24.07", 0.05),           # 3.1 %
    ("NeMo 25.02-25.07", 0.07),     # 6.1 % (target 5 % not met: Nemotron-4 15B +19 %)
])
def test_megatron_core_sources_out_of_sample(cases, source, limit):
    """Median |error| of the out-of-sample dense rows of the Megatron-Core-class sources."""
    s = summarize([c for c in cases if c.source == source])
    assert s[source]["median_abs_error_frac"] <= limit


def test_moe_models_added_to_the_catalog_are_compared_out_of_sample(cases):
    """Qwen3-235B-A22B, gpt-oss-120b and Kimi K2 rows are modelled now that the catalog has
    them; they came after the grouped-GEMM fit, so every one is out of sample and the MoE
    calibration subset (even index among the other MoE rows, ≤ 512 GPUs) is what it was."""
    late = [c for c in cases if c.detail.get("moe") and any(
        k in c.case.lower() for k in ("qwen3_235b", "gpt oss 120b", "kimi"))]
    assert len(late) >= 50
    assert not any(c.calibration for c in late)
    calib = [c for c in cases if c.calibration and c.source == "NeMo 25.09-26.08 (MoE)"]
    assert calib and all("qwen3_30b" in c.case.lower() or "deepseek" in c.case.lower()
                         for c in calib)
    # the summary keeps them with the MoE rows, never with the dense sources
    assert all(c.source.endswith("(MoE)") for c in late)


def test_moe_rows_without_a_published_ep_are_listed_not_guessed():
    assert any("expert-parallel size (ep) not published" in why for _, why in P.skipped())


def test_a_blank_global_batch_is_the_stated_local_batch_times_dp(cases):
    """torchtitan's Table 6 (Llama 3.1 405B on 512 H100, TP 8, PP 8, CP 1–8) states "local bs 8"
    per data-parallel rank and leaves the global batch blank: 8 × dp sequences, 8 pipeline
    micro-batches, not one micro-batch per rank (which planned a 7/8 pipeline bubble and
    put the rows 62–72 % too slow)."""
    rows = [c for c in cases if c.source.startswith("torchtitan") and "s32768" in c.case
            and "405B" in c.case]
    assert rows and all("gbs64" in c.case for c in rows)  # 8 × dp 8
    assert all(abs(c.error_frac) < 0.3 for c in rows)


def test_worst_rows_per_source_carry_their_features(cases):
    w = P.worst(cases, 10)
    assert {"Megatron-LM README", "NeMo 25.09-26.08", "torchtitan"} <= set(w)
    for src, rows in w.items():
        errs = [abs(r["error_frac"]) for r in rows]
        assert errs == sorted(errs, reverse=True) and len(rows) <= 10
        assert all(r["gpus"] > 0 and r["generation"] and r["case"] for r in rows)
        # the worst row of a source is its largest error
        mine = [abs(c.error_frac) for c in cases if c.source == src]
        assert errs[0] == max(mine)
