"""Inference planner: bytes/FLOPs transforms, KV capacity, roofline steps, plans, errors.

Models and accelerators are built inline so these tests do not depend on the catalogs.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattlas.errors import CatalogKeyError, InfeasibleError, InputError
from wattlas.hardware import Accelerator
from wattlas.perf.serving import plan as serving_plan
from wattlas.perf.serving import roofline as inf
from wattlas.perf.serving.plan import plan_serving
from wattlas.perf.serving.roofline import ServingConfig
from wattlas.workload.serving import AgentSession, plan_session
from wattlas.workload.transformer import ModelSpec, params_total

# Llama-3-70B / 8B shapes (HF config.json) and H100/H200/B200 datasheet numbers
L70 = ModelSpec(id="l70", layers=80, hidden=8192, heads=64, kv_heads=8, ffn=28672,
                vocab=128256)
L8 = ModelSpec(id="l8", layers=32, hidden=4096, heads=32, kv_heads=8, ffn=14336, vocab=128256)
MOE = ModelSpec(id="moe", layers=32, hidden=4096, heads=32, kv_heads=8, vocab=32000,
                moe_experts=8, moe_top_k=2, moe_expert_ffn=14336)
H100 = Accelerator(id="h100", bf16_flop_per_s=989.4e12, fp8_flop_per_s=1979e12,
                   hbm_bytes=80 * 2**30, hbm_bytes_per_s=3.35e12, tdp_w=700,
                   scaleup_bytes_per_s=450e9, scaleup_domain=8, scaleout_bytes_per_s=50e9)
H200 = Accelerator(id="h200", bf16_flop_per_s=989.4e12, fp8_flop_per_s=1979e12,
                   hbm_bytes=141 * 2**30, hbm_bytes_per_s=4.8e12, tdp_w=700,
                   scaleup_bytes_per_s=450e9, scaleup_domain=8, scaleout_bytes_per_s=50e9)
B200 = Accelerator(id="b200", bf16_flop_per_s=2250e12, fp8_flop_per_s=4500e12,
                   fp4_flop_per_s=9000e12, hbm_bytes=180 * 2**30, hbm_bytes_per_s=7.7e12,
                   tdp_w=1000, scaleup_bytes_per_s=900e9, scaleup_domain=8,
                   scaleout_bytes_per_s=50e9)


def test_weight_bytes_by_precision():
    n = params_total(L8)
    bf16 = inf.weights_bytes(ServingConfig(L8, H100))
    fp8 = inf.weights_bytes(ServingConfig(L8, H100, precision="fp8"))
    int4 = inf.weights_bytes(ServingConfig(L8, H100, precision="int4"))
    assert bf16 == pytest.approx(2 * n)
    # embeddings stay 16-bit, linears shrink to 1 B and 0.5 B (+ group-128 fp16 scales)
    emb = L8.vocab * L8.hidden + L8.hidden * (2 * L8.layers + 1)
    assert fp8 == pytest.approx((n - emb) * 1.0 + emb * 2.0)
    assert int4 == pytest.approx((n - emb) * 0.5 * (1 + 2 / 64) + emb * 2.0)
    sparse = inf.weights_bytes(ServingConfig(L8, H100, sparsity_2_4=True))
    assert sparse == pytest.approx((n - emb) + emb * 2.0)


def test_kv_precision_default_follows_weights():
    assert ServingConfig(L8, H100, precision="fp8").kv == "fp8"
    assert ServingConfig(L8, H100).kv == "bf16"
    assert ServingConfig(L8, H100, precision="fp8", kv_precision="bf16").kv == "bf16"


def test_moe_expected_experts_occupancy():
    # E·(1 − (1 − k/E)^b): one token touches k experts, many tokens touch all E
    assert inf.expected_experts(8, 2, 1) == pytest.approx(2.0)
    assert inf.expected_experts(8, 2, 1000) == pytest.approx(8.0)
    cfg = ServingConfig(MOE, H100)
    w1, w64 = inf.weights_read_bytes(cfg, 1.0), inf.weights_read_bytes(cfg, 64.0)
    assert w1 < w64 <= inf.weights_bytes(cfg) * (1 + 1e-12)


def test_speculative_tokens_per_step():
    cfg = ServingConfig(L70, H100, tp=8, precision="fp8", draft=L8, spec_tokens=4,
                        spec_acceptance_frac=0.8)
    # Leviathan et al. 2023 eq. 1: (1 − α^(k+1)) / (1 − α) = (1 − 0.8^5) / 0.2
    assert inf.tokens_per_step(cfg) == pytest.approx((1 - 0.8**5) / 0.2)
    plain = plan_serving(ServingConfig(L70, H100, tp=8, precision="fp8"), 512, 256, batch=1)
    spec = plan_serving(cfg, 512, 256, batch=1)
    assert spec.tpot_s < plain.tpot_s  # at batch 1 a cheap draft pays off


def test_decode_is_memory_bound_at_batch_1_and_compute_bound_when_large():
    cfg = ServingConfig(L8, H100, precision="fp8")
    small = inf.decode_parts(cfg, 1, 1024)
    big = inf.decode_parts(cfg, 2048, 256)
    assert small["memory_s"] > small["compute_s"]
    assert big["compute_s"] > big["memory_s"]


def test_vectorised_matches_scalar():
    cfg = ServingConfig(L70, H100, tp=4, precision="fp8")
    bs = np.array([1, 8, 64, 256])
    vec = inf.decode_step_time_s(cfg, bs, 1000)
    assert vec == pytest.approx([float(inf.decode_step_time_s(cfg, b, 1000)) for b in bs])
    pre = inf.prefill_time_s(cfg, np.array([128, 2048]), 4)
    assert pre[1] > pre[0]


@settings(max_examples=40, deadline=None)
@given(b=st.integers(1, 512), ctx=st.integers(16, 8192), tp=st.sampled_from([1, 2, 4, 8]))
def test_step_monotone_in_batch_context_and_bandwidth(b, ctx, tp):
    cfg = ServingConfig(L70, H200, tp=tp, precision="fp8")
    t = inf.decode_step_time_s(cfg, b, ctx)
    assert inf.decode_step_time_s(cfg, b + 1, ctx) >= t
    assert inf.decode_step_time_s(cfg, b, ctx + 1) >= t
    faster = ServingConfig(L70, Accelerator(**{**H200.__dict__, "hbm_bytes_per_s": 9.6e12}),
                           tp=tp, precision="fp8")
    assert inf.decode_step_time_s(faster, b, ctx) <= t  # more bandwidth is never slower
    p = inf.step_power_w(cfg, b, ctx)
    assert tp * 0.0 < p <= tp * H200.tdp_w


@settings(max_examples=30, deadline=None)
@given(ctx=st.integers(64, 16384))
def test_max_batch_kv_fits(ctx):
    cfg = ServingConfig(L70, H200, precision="fp8")
    mb = inf.max_batch(cfg, ctx)
    cap = inf.kv_capacity_bytes(cfg)
    assert mb * ctx * inf.kv_bytes_per_token(cfg) <= cap
    if mb < cfg.eng.max_batch:
        assert (mb + 1) * ctx * inf.kv_bytes_per_token(cfg) > cap


def test_plan_modes_and_contract_fields():
    cfg = ServingConfig(L70, H100, tp=4, precision="fp8")
    mt = plan_serving(cfg, 1024, 256)
    assert mt.mode == "max-throughput" and mt.batch == mt.max_batch
    fixed = plan_serving(cfg, 1024, 256, batch=16)
    assert fixed.batch == 16 and fixed.ttft_s < mt.ttft_s and fixed.tpot_s < mt.tpot_s
    rated = plan_serving(cfg, 1024, 256, rate_per_s=200, slo={"tpot_s": 0.05})
    assert rated.replicas >= 2 and rated.gpus == 4 * rated.replicas
    assert rated.tpot_s <= 0.05
    # replicas × throughput carries the rate
    assert rated.replicas * rated.output_tokens_per_s >= 200 * 256 * (1 - 1e-9)
    assert rated.energy_per_request_j == pytest.approx(rated.energy_per_token_j * 256)
    assert mt.bound in ("memory", "compute")
    assert mt.output_tokens_per_s_per_gpu == pytest.approx(mt.output_tokens_per_s / 4)


def test_kv_capacity_not_bandwidth_dominates_the_80gb_gap():
    """Llama-70B FP8 on one GPU, 128 → 2048 tokens: H200 (141 GB) vs H100 (80 GB). The gap is
    several times the 1.43× bandwidth ratio; giving the H100 the H200's bandwidth (same HBM)
    closes little of it, giving it the H200's capacity closes most."""
    h100 = plan_serving(ServingConfig(L70, H100, precision="fp8"), 128, 2048)
    h200 = plan_serving(ServingConfig(L70, H200, precision="fp8"), 128, 2048)
    gap = h200.output_tokens_per_s / h100.output_tokens_per_s
    assert gap > 3.0
    more_bw = Accelerator(**{**H100.__dict__, "hbm_bytes_per_s": H200.hbm_bytes_per_s})
    more_cap = Accelerator(**{**H100.__dict__, "hbm_bytes": H200.hbm_bytes})
    bw_only = plan_serving(ServingConfig(L70, more_bw, precision="fp8"), 128, 2048)
    cap_only = plan_serving(ServingConfig(L70, more_cap, precision="fp8"), 128, 2048)
    gain_bw = bw_only.output_tokens_per_s / h100.output_tokens_per_s
    gain_cap = cap_only.output_tokens_per_s / h100.output_tokens_per_s
    assert gain_cap > 2.0 * gain_bw


def test_agent_session_grows_context():
    cfg = ServingConfig(L8, H100, precision="fp8")
    sess = AgentSession(calls=4, prompt_tokens=1000, output_tokens=200, tool_result_tokens=500,
                        tool_time_s=1.5)
    plan = plan_session(cfg, sess)
    prompts = [c["prompt_tokens"] for c in plan.calls]
    assert prompts == [1000, 1700, 2400, 3100]
    ttfts = [c["ttft_s"] for c in plan.calls]
    assert ttfts == sorted(ttfts)
    assert plan.tool_time_s == pytest.approx(4.5)
    assert plan.latency_s == pytest.approx(plan.model_time_s + 4.5)
    assert plan.output_tokens == 800
    assert plan.energy_j == pytest.approx(sum(c["energy_j"] for c in plan.calls))


# errors ------------------------------------------------------------------------------------

def test_fp4_needs_fp4_tensor_cores():
    with pytest.raises(InputError, match="precision fp4 needs fp4 tensor cores; h100"):
        ServingConfig(L70, H100, precision="fp4")
    ServingConfig(L70, B200, precision="fp4")  # Blackwell has them


def test_bad_inputs():
    with pytest.raises(InputError, match="--precision 'fp2': allowed"):
        ServingConfig(L8, H100, precision="fp2")
    with pytest.raises(InputError, match="--tp 3: must divide"):
        ServingConfig(L8, H100, tp=3)
    with pytest.raises(InputError, match="--tp 16: exceeds the scale-up domain"):
        ServingConfig(L8, H100, tp=16)
    with pytest.raises(CatalogKeyError, match="unknown engine 'vllm-9'"):
        ServingConfig(L8, H100, engine="vllm-9")
    with pytest.raises(InputError, match="--batch 0: must be"):
        plan_serving(ServingConfig(L8, H100), 128, 128, batch=0)


def test_does_not_fit_is_infeasible_with_fix():
    big = L70.with_(id="l420", layers=480)
    with pytest.raises(InfeasibleError, match=r"needs .* GiB per GPU .* raise --tp \(now 1\)"):
        plan_serving(ServingConfig(big, H100), 128, 128)
    with pytest.raises(InfeasibleError, match="lower precision"):
        plan_serving(ServingConfig(big, H100, tp=8), 128, 128)


def test_slo_below_decode_floor_is_infeasible():
    cfg = ServingConfig(L70, H100, tp=8, precision="fp8")
    floor = serving_plan.decode_floor_s(cfg)
    assert floor == pytest.approx(float(inf.weights_read_bytes(cfg, 1)) / (8 * 3.35e12))
    with pytest.raises(InfeasibleError, match=r"below the decode floor 2\.\d+ ms"):
        plan_serving(cfg, 128, 128, rate_per_s=1.0, slo={"tpot_s": 0.001})


def test_batch_beyond_kv_capacity_is_infeasible():
    with pytest.raises(InfeasibleError, match="GB of KV cache at 2176 tokens"):
        plan_serving(ServingConfig(L70, H100, precision="fp8"), 128, 2048, batch=500)


def test_kv_replicated_when_fewer_kv_heads_than_tp():
    mqa = L8.with_(id="mqa", kv_heads=1)
    one = inf.kv_bytes_per_token(ServingConfig(mqa, H100, tp=1))
    eight = inf.kv_bytes_per_token(ServingConfig(mqa, H100, tp=8))
    assert eight == pytest.approx(8 * one)  # every rank holds the single KV head
    gqa = inf.kv_bytes_per_token(ServingConfig(L8, H100, tp=8))
    assert gqa == pytest.approx(inf.kv_bytes_per_token(ServingConfig(L8, H100, tp=1)))


def test_max_batch_under_slo_reported():
    cfg = ServingConfig(L70, H100, tp=4, precision="fp8")
    p = plan_serving(cfg, 1024, 256, rate_per_s=10, slo={"tpot_s": 0.03})
    assert p.max_batch_slo is not None and p.batch <= p.max_batch_slo <= p.max_batch
    # a fixed batch spreads admissions evenly: its SLO batch is at least the rate mode's
    fixed = plan_serving(cfg, 1024, 256, batch=1, slo={"tpot_s": 0.03})
    assert p.max_batch_slo <= fixed.max_batch_slo
    over = plan_serving(cfg, 1024, 256, batch=fixed.max_batch_slo + 1, slo={"tpot_s": 0.03})
    assert over.tpot_s > 0.03 and over.notes


# queueing, TTFT under load, energy boundaries (second pass) ------------------------------------

def test_queue_wait_mm1_limit():
    """Allen–Cunneen with c = 1 and c_a² = c_s² = 1 is exact M/M/1: W_q = ρ/(μ − λ)."""
    from wattlas.perf.serving.plan import erlang_c, queue_wait_s

    lam, s = 3.0, 0.25  # μ = 4 /s, ρ = 0.75
    assert erlang_c(1, lam * s) == pytest.approx(0.75)
    assert queue_wait_s(lam, s, 1, 1.0, 1.0) == pytest.approx(0.75 / (4.0 - 3.0))
    # M/D/1 (Pollaczek–Khinchine): half the M/M/1 wait
    assert queue_wait_s(lam, s, 1, 1.0, 0.0) == pytest.approx(0.375)
    # M/M/2 at a = 1: C = 1/3, W = C/(2μ − λ) (Erlang C closed form)
    assert queue_wait_s(1.0, 1.0, 2) == pytest.approx((1 / 3) / (2.0 - 1.0))
    assert queue_wait_s(4.0, s) == float("inf")
    assert queue_wait_s(0.0, s) == 0.0
    with pytest.raises(InputError, match="service time"):
        queue_wait_s(1.0, 0.0)


@given(st.floats(0.05, 0.95))
@settings(max_examples=30, deadline=None)
def test_mm1_p99_matches_exponential_tail(rho):
    """M/M/1: P(W > t) = ρ·exp(−(μ − λ)t) ⇒ the q-quantile of the wait is ln(ρ/(1−q))/(μ−λ)."""
    from wattlas.perf.serving.plan import queue_wait_s, wait_quantile_s

    mu = 10.0
    w = queue_wait_s(rho * mu, 1.0 / mu, 1, 1.0, 1.0)
    expect = max(np.log(rho / 0.01), 0.0) / (mu - rho * mu)
    assert wait_quantile_s(w, rho, 0.99) == pytest.approx(expect, abs=1e-12)


def test_ttft_with_queueing_grows_with_load():
    cfg = ServingConfig(L8, H100, precision="fp8")
    cap = plan_serving(cfg, 512, 256).capacity_requests_per_s
    plans = [plan_serving(cfg, 512, 256, rate_per_s=f * cap) for f in (0.1, 0.5, 0.8, 0.95)]
    assert all(p.replicas == 1 for p in plans)
    ttft = [p.ttft_s for p in plans]
    wait = [p.queue_wait_s for p in plans]
    assert ttft == sorted(ttft) and wait == sorted(wait) and wait[-1] > 5 * wait[1]
    # μ of the Poisson-arrival step is within 1 % of the closed-loop capacity at max batch
    assert [p.utilization_frac for p in plans] == pytest.approx([0.1, 0.5, 0.8, 0.95], rel=0.01)
    for p in plans:
        assert p.utilization_frac == pytest.approx(p.rate_per_s / p.capacity_requests_per_s)
    for p in plans:  # TTFT = wait + own prefill + first step; p99 ≥ mean
        assert p.ttft_s > p.queue_wait_s + p.prefill_s
        assert p.ttft_p99_s >= p.ttft_s


def test_poisson_pmf_moments():
    for m in (0.01, 0.3, 2.5, 60.0, 2048.0):
        k, w = inf._poisson_pmf(np.array([m]))
        assert w.sum() == pytest.approx(1.0)
        assert (k * w).sum() == pytest.approx(m, rel=1e-6)
        assert ((k - m) ** 2 * w).sum() == pytest.approx(m, rel=1e-3)


def test_poisson_pmf_of_an_element_does_not_depend_on_the_others():
    """Small means evaluated in one array with large ones keep their own integer support
    (a shared, thinned support once put k = 0, 5, 10, … under a mean of 0.3)."""
    means = np.array([0.0, 0.3, 2.5, 60.0, 2048.0, 1e5])
    k_all, w_all = inf._poisson_pmf(means)
    for i, m in enumerate(means):
        k1, w1 = inf._poisson_pmf(np.array([m]))
        assert (k_all[:, i] * w_all[:, i]).sum() == pytest.approx((k1 * w1).sum(), rel=1e-12,
                                                                  abs=1e-12)
        assert ((k_all[:, i] - m) ** 2 * w_all[:, i]).sum() == pytest.approx(
            ((k1 - m) ** 2 * w1).sum(), rel=1e-12, abs=1e-12)
        assert w_all[:, i].sum() == pytest.approx(1.0)
    assert (k_all[:, 1] * w_all[:, 1]).sum() == pytest.approx(0.3, rel=1e-9)
    assert w_all[0, 0] == 1.0  # Poisson(0) is 0 surely
    # the mixed step of a small batch is the same alone and beside a large one
    cfg = ServingConfig(L8, H100, tp=1)
    alone = inf.mixed_step_time_s(cfg, np.array([2.0]), 467, 256, poisson_arrivals=True)
    mixed = inf.mixed_step_time_s(cfg, np.array([2.0, 1500.0]), 467, 256,
                                  poisson_arrivals=True)
    assert mixed[0] == pytest.approx(alone[0], rel=1e-12)
    with pytest.raises(InputError, match="Poisson mean"):
        inf._poisson_pmf(np.array([-1.0]))


def test_residual_stream_traffic_is_replicated_on_every_tp_rank():
    """Norms, residual adds and the all-reduce buffers see the whole hidden state on every TP
    rank: the activation bytes per GPU do not shrink with TP (the weights' share does)."""
    one = inf._step(ServingConfig(L70, H100, tp=1), 64.0, 1000.0, 64e3, 64.0)
    four = inf._step(ServingConfig(L70, H100, tp=4), 64.0, 1000.0, 64e3, 64.0)
    assert float(four["activation_bytes"]) == pytest.approx(float(one["activation_bytes"]))
    assert float(one["activation_bytes"]) == pytest.approx(64 * 8192 * 2 * 80 * 4)
    assert float(four["weights_bytes"]) == pytest.approx(float(one["weights_bytes"]) / 4)


@settings(max_examples=40, deadline=None)
@given(st.floats(1.0, 4096.0), st.sampled_from([2, 4, 8]))
def test_tp_all_reduce_runs_below_the_link_rate(tokens, tp):
    """Each of the 2·L all-reduces of a step moves 2·(t−1)/t of the residual stream per rank;
    the step's all-reduce time never implies more than the 450 GB/s link per direction, and
    no all-reduce runs at TP 1."""
    step = inf._step(ServingConfig(L70, H100, tp=tp), tokens, 1000.0, tokens * 1e3, tokens)
    moved = 2 * 80 * 2.0 * (tp - 1) / tp * tokens * 8192 * 2
    assert moved / float(step["comm_s"]) <= 450e9 * (1 + 1e-9)
    assert float(step["comm_s"]) == pytest.approx(
        2 * 80 * float(inf.tp_all_reduce_s(ServingConfig(L70, H100, tp=tp), tokens * 8192 * 2,
                                           tp)))
    one = inf._step(ServingConfig(L70, H100, tp=1), tokens, 1000.0, tokens * 1e3, tokens)
    assert float(one["comm_s"]) == 0.0


def test_engine_profile_is_built_once_and_follows_user_rows(tmp_path):
    from wattlas import catalog

    assert inf.engine("trtllm-2025") is inf.engine("trtllm-2025")
    f = tmp_path / "engines-mine.csv"
    f.write_text("id,eff_mem_frac,eff_compute_frac,fp8_compute_eff_frac,step_overhead_s,"
                 "source,source_detail,as_of\n"
                 "trtllm-2025,0.5,0.5,0.5,0.004,own profile,test,2026-12-05\n",
                 encoding="utf-8")
    try:
        catalog.add_user_rows(f)
        assert inf.engine("trtllm-2025").eff_mem_frac == 0.5
    finally:
        catalog.clear_user_rows()
    assert inf.engine("trtllm-2025").eff_mem_frac == 0.70


def test_poisson_arrivals_slow_the_mixed_step_only_below_the_ridge():
    """Whole prompts arriving in Poisson numbers: same mean tokens per step, but the step time
    is convex in tokens, so memory-bound batches slow down (Jensen) while compute-bound ones
    match the evenly spread step."""
    cfg = ServingConfig(L70, H100, tp=4, precision="bf16")
    bs = np.array([8.0, 64.0, 700.0])
    even = inf.mixed_parts(cfg, bs, 467, 256)
    pois = inf.mixed_parts(cfg, bs, 467, 256, poisson_arrivals=True)
    assert np.all(pois["time_s"] >= even["time_s"] * (1 - 1e-12))
    assert pois["flop"] == pytest.approx(even["flop"], rel=1e-6)  # same work per step
    assert pois["time_s"][1] > 1.1 * even["time_s"][1]
    assert pois["time_s"][2] == pytest.approx(even["time_s"][2], rel=0.02)
    step = inf.mixed_step_time_s(cfg, bs, 467, 256, poisson_arrivals=True)
    assert step == pytest.approx(pois["time_s"])


def test_rate_mode_uses_poisson_step_fixed_batch_does_not():
    cfg = ServingConfig(L70, H100, tp=4, precision="bf16")
    r = plan_serving(cfg, 467, 256, rate_per_s=12.0)
    fixed = plan_serving(cfg, 467, 256, batch=r.batch)
    pois = float(inf.mixed_step_time_s(cfg, r.concurrency, 467, 256, poisson_arrivals=True))
    assert r.batch - 1 < r.concurrency <= r.batch
    assert r.tpot_s == pytest.approx(pois) and r.tpot_s > 1.1 * fixed.tpot_s


def test_ttft_slo_adds_replicas_when_queueing_breaks_it():
    cfg = ServingConfig(L8, H100, precision="fp8")
    cap = plan_serving(cfg, 512, 256).capacity_requests_per_s
    loose = plan_serving(cfg, 512, 256, rate_per_s=0.95 * cap)
    tight = plan_serving(cfg, 512, 256, rate_per_s=0.95 * cap,
                         slo={"ttft_s": loose.ttft_s * 0.5})
    assert tight.replicas > loose.replicas and tight.ttft_s <= loose.ttft_s * 0.5


def test_max_throughput_ttft_is_steady_state_not_whole_batch_prefill():
    cfg = ServingConfig(L70, H100, tp=4, precision="fp8")
    mt = plan_serving(cfg, 1024, 256)
    whole = float(inf.prefill_time_s(cfg, 1024, mt.batch))
    assert mt.ttft_s < 0.1 * whole
    assert mt.ttft_s > float(inf.prefill_time_s(cfg, 1024, 1))


def test_energy_boundaries_ordered_and_from_energy_module():
    from wattlas import energy

    cfg = ServingConfig(L8, H100, precision="fp8")
    p = plan_serving(cfg, 512, 256, batch=32, pue=1.3)
    assert p.energy_per_token_j < p.energy_per_token_node_j < p.energy_per_token_facility_j
    rep = p.energy
    assert rep.pue == pytest.approx(1.3)
    assert rep.facility_power_w == pytest.approx(rep.it_power_w * 1.3)
    # the GPU power is energy.device_power_w at the step's activity (one power model)
    parts = inf.mixed_parts(cfg, 32, 512, 256)
    a = inf.activity_frac(parts, cfg)
    assert p.power_w == pytest.approx(float(energy.device_power_w(H100, a)))
    tdp = plan_serving(cfg, 512, 256, batch=32,
                       energy_inputs=energy.EnergyInputs(power_basis="tdp"))
    assert tdp.power_w == pytest.approx(700.0) and tdp.energy_per_token_j > p.energy_per_token_j


def test_activity_mapping_limits():
    cfg = ServingConfig(L8, H100)
    one = np.array(1.0)
    compute = {"compute_s": one, "memory_s": 0.5 * one, "time_s": one}
    memory = {"compute_s": 0.0 * one, "memory_s": one, "time_s": one}
    idle = {"compute_s": 0.0 * one, "memory_s": 0.0 * one, "time_s": one}
    assert float(inf.activity_frac(compute, cfg)) == pytest.approx(1.0)
    assert float(inf.activity_frac(idle, cfg)) == pytest.approx(inf.BUSY_FLOOR_FRAC)
    assert float(inf.activity_frac(memory, cfg)) == pytest.approx(
        inf.BUSY_FLOOR_FRAC + (1 - inf.BUSY_FLOOR_FRAC) * inf.MEM_ACTIVITY_WEIGHT)


def test_engines_are_a_catalog():
    from wattlas import catalog

    assert "engines" in catalog.CATALOGS
    assert set(inf.engine_ids()) >= {"trtllm-2025", "trtllm-0.14", "vllm-0.11", "vllm-0.5"}
    eng = inf.engine("vllm-0.11")
    assert eng.max_batch == 1024 and eng.fp8_mem_eff_frac == pytest.approx(0.30)
    with pytest.raises(CatalogKeyError, match="engine"):
        inf.engine("no-such-engine")


def test_serving_modules_import_the_step_model_not_the_reverse():
    """The step model (inference) knows nothing of the plans, the search or compression built
    on it: no import cycle (tests/test_architecture.py checks the whole package)."""
    from wattlas.perf.serving import (
        compression as serving_compression,
    )
    from wattlas.perf.serving import (
        scenario as serving_scenario,
    )
    from wattlas.perf.serving import (
        search as serving_search,
    )

    for name in ("ServingConfig", "prefill_time_s", "decode_step_time_s", "max_batch",
                 "step_power_w"):
        assert hasattr(inf, name), name
    for name in ("plan_serving", "plan_from_scenario", "search_serving", "ServingPlan"):
        assert not hasattr(inf, name), name
    assert serving_search.plan_serving is serving_plan.plan_serving
    assert serving_compression.ServingConfig is inf.ServingConfig
    assert serving_scenario.plan_serving is serving_plan.plan_serving


@given(st.integers(1, 256), st.floats(1.0, 2.0), st.sampled_from(["bf16", "fp8"]))
@settings(max_examples=25, deadline=None)
def test_energy_boundary_ordering_property(batch, pue, precision):
    """GPU < node (+ host) < facility ((node + network) × PUE ≥ 1) for any operating point."""
    p = plan_serving(ServingConfig(L8, H100, precision=precision), 512, 128, batch=batch,
                     pue=pue)
    assert 0 < p.energy_per_token_j < p.energy_per_token_node_j < p.energy_per_token_facility_j


def test_search_rows_and_headline_agree_and_count_queueing():
    """The ranked row of a configuration prints the headline's numbers: with a rate, TTFT
    includes the queue wait in both (a row used to omit it)."""
    from wattlas.perf.serving.search import search_serving

    res = search_serving(L70, [H100], 1024, 256, rate_per_s=20.0,
                         slo={"ttft_s": 1.0, "tpot_s": 0.05}, precisions=("fp8",),
                         tps=(2, 4))
    top, best = res.ranked[0], res.best
    assert top["ttft_s"] == pytest.approx(best.ttft_s, rel=1e-12)
    assert top["tpot_s"] == pytest.approx(best.tpot_s, rel=1e-12)
    assert top["queue_wait_s"] == pytest.approx(best.queue_wait_s) and best.queue_wait_s > 0
    assert top["ttft_s"] > top["queue_wait_s"]
    assert all(r["ttft_s"] >= r["queue_wait_s"] > 0 for r in res.ranked)
