"""Physical invariants of the one serving capacity model, on hypothesis-generated configurations.

For every generated replica (model × accelerator × precision × TP × lengths × occupancy) the
continuous-batching steady state (``perf.serving.plan.steady_state``) must respect:

* achieved FLOP/s per GPU ≤ the accelerator's peak at the precision the math runs in, for the
  step and for the request stream (requests/s × FLOPs per request ≤ TP × peak);
* HBM bytes/s per GPU ≤ the HBM bandwidth;
* weights + KV cache at the occupancy + activations ≤ HBM per GPU;
* Little's law: occupancy = requests/s × E2E (within 1 %; exact by construction, checked from
  the reported outputs);
and every plan: energy = power × time (J/request × requests/s = mean power; the deployment's
energy = its facility power × duration), TTFT ≤ E2E, and ``route`` serves the same capacity
per replica as ``serve``. A violation fails the test; nothing is printed.

The bulk test runs 2,000 examples (deadline off; about a second or two on one core).
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wattlas import hardware
from wattlas.errors import InfeasibleError, InputError
from wattlas.perf.serving import plan as sp
from wattlas.perf.serving import roofline as inf
from wattlas.scenario import resolve_model
from wattlas.workload import transformer as tf

MODELS = ("llama3.1-8b", "llama3.1-70b", "mixtral-8x7b", "qwen3-30b-a3b", "mistral-7b")
ACCELERATORS = ("h100-sxm", "h200-sxm", "a100-sxm-80gb", "b200", "mi300x", "l40s")
PRECISIONS = ("bf16", "fp8", "fp4", "int4")


@cache
def _config(model: str, acc: str, precision: str, tp: int):
    try:
        # the engine profile as a record, so the thousands of steps skip the catalog lookup
        cfg = inf.ServingConfig(resolve_model(model), hardware.accelerator(acc), tp=tp,
                                precision=precision, engine=inf.engine(inf.DEFAULT_ENGINE))
    except InputError:
        return None  # a format the accelerator lacks, or TP beyond its scale-up domain
    return cfg


configs = st.tuples(st.sampled_from(MODELS), st.sampled_from(ACCELERATORS),
                    st.sampled_from(PRECISIONS), st.sampled_from((1, 2, 4, 8)))
lengths = st.tuples(st.integers(1, 8192), st.integers(1, 4096))


def _peak_flop_per_s(cfg) -> float:
    return cfg.accelerator.peak_flop_per_s(inf.COMPUTE_PRECISION[cfg.precision])


@given(configs, lengths, st.floats(0.0, 1.0), st.booleans())
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_steady_state_obeys_physics(key, pl, frac, poisson):
    cfg = _config(*key)
    p, o = pl
    if cfg is None:
        return
    mb = inf.max_batch(cfg, p + o)
    if mb < 1:
        return
    b = 1.0 + frac * (mb - 1)
    point = sp.steady_state(cfg, b, p, o, poisson)
    parts = inf.mixed_parts(cfg, b, p, o, poisson)
    t = float(parts["time_s"])
    tp = cfg.tp
    peak = _peak_flop_per_s(cfg)
    # the step: per-GPU FLOP/s and HBM bytes/s within the datasheet peaks
    assert float(parts["flop"]) / t <= peak * (1 + 1e-9)
    assert float(parts["bytes"]) / t <= cfg.accelerator.hbm_bytes_per_s * (1 + 1e-9)
    # the request stream: every request's linear FLOPs (prompt + output tokens) at the
    # replica's completion rate fit in TP × peak
    rps = float(point["requests_per_s"])
    flop_req = 2.0 * tf.matmul_params_active(cfg.model) * (p + o)
    assert rps * flop_req <= tp * peak * (1 + 1e-9)
    # memory: weights + KV of b sequences at full context + activations ≤ HBM per GPU
    hbm = cfg.accelerator.hbm_bytes
    need = (inf.resident_weights_bytes(cfg) / tp + inf.activation_bytes(cfg)
            + mb * (p + o) * inf.resident_kv_bytes_per_token(cfg) / tp)
    assert need <= hbm * (1 + 1e-9)
    # Little's law from the reported outputs: b = (tokens/s / OSL) × E2E
    e2e = float(point["e2e_s"])
    assert float(point["output_tokens_per_s"]) / o * e2e == pytest.approx(b, rel=0.01)
    # latencies ordered and positive
    assert 0.0 < float(point["tpot_s"]) and 0.0 < float(point["ttft_s"]) <= e2e * (1 + 1e-12)


@given(configs, lengths, st.sampled_from(("max", "batch", "rate")), st.floats(0.05, 0.98))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_plans_obey_littles_law_and_energy_is_power_times_time(key, pl, mode, load):
    cfg = _config(*key)
    p, o = pl
    if cfg is None or inf.max_batch(cfg, p + o) < 1:
        return
    cap = sp.capacity_per_s(cfg, p, o)
    kw = {"max": {}, "batch": {"batch": max(1, round(load * inf.max_batch(cfg, p + o)))},
          "rate": {"rate_per_s": load * cap}}[mode]
    try:
        plan = sp.plan_serving(cfg, p, o, **kw)
    except InfeasibleError:
        return
    rps = plan.output_tokens_per_s / o
    # Little's law on the replica: concurrency = throughput × time in service
    assert plan.concurrency == pytest.approx(rps * (plan.e2e_s - plan.queue_wait_s), rel=0.01)
    assert plan.concurrency <= plan.batch * (1 + 1e-9) and plan.batch <= plan.max_batch
    assert plan.output_tokens_per_s <= plan.capacity_requests_per_s * o * (1 + 1e-9)
    if mode == "rate":  # the replicas carry exactly the offered rate
        assert plan.replicas * rps == pytest.approx(plan.rate_per_s, rel=1e-6)
    if mode == "max":
        assert plan.capacity_requests_per_s == pytest.approx(rps, rel=1e-9)
        assert plan.capacity_requests_per_s == pytest.approx(cap, rel=1e-9)
    # energy = power × time
    assert plan.energy_per_request_j * rps == pytest.approx(plan.mean_power_w, rel=1e-9)
    assert plan.energy_per_token_j * o == pytest.approx(plan.energy_per_request_j, rel=1e-9)
    rep = plan.energy
    assert rep.energy_j == pytest.approx(rep.facility_power_w * rep.duration_s, rel=1e-6)
    # achieved FLOP/s of the stream within the peak
    flop_req = 2.0 * tf.matmul_params_active(cfg.model) * (p + o)
    assert rps * flop_req <= cfg.tp * _peak_flop_per_s(cfg) * (1 + 1e-9)
    assert plan.ttft_s <= plan.e2e_s and plan.queue_wait_s <= plan.ttft_s


def test_max_throughput_batch_latency_and_throughput_agree():
    """70B FP8 TP4 H100, 1,024 + 256 tokens: batch × OSL / E2E is the reported tokens/s."""
    cfg = _config("llama3.1-70b", "h100-sxm", "fp8", 4)
    plan = sp.plan_serving(cfg, 1024, 256)
    assert plan.batch == plan.max_batch
    assert plan.batch * 256 / plan.e2e_s == pytest.approx(plan.output_tokens_per_s, rel=1e-9)
    assert plan.e2e_s == pytest.approx(plan.ttft_s + 255 * plan.tpot_s, rel=1e-12)


def _site_spec(accelerator: str, precision: str, tp: int, prompt: int, output: int):
    from wattlas.routing import RoutingSpec

    return RoutingSpec.model_validate({
        "model": "llama3.1-70b",
        "users": [{"name": "u", "lat": 40.7, "lon": -74.0, "demand_rps": 1.0}],
        "sites": [{"name": "s", "lat": 39.0, "lon": -77.5, "accelerator": accelerator,
                   "precision": precision, "tp": tp, "replicas": 2,
                   "grid_intensity_g_per_kwh": 400.0, "price_usd_per_mwh": 50.0}],
        "prompt_tokens": {"mean": prompt}, "output_tokens": {"mean": output}})


@pytest.mark.parametrize("acc, precision, tp, prompt, output", [
    ("h100-sxm", "fp8", 4, 1024, 256),   # the routing example's replica
    ("h100-sxm", "bf16", 8, 467, 256),
    ("h200-sxm", "fp8", 1, 2048, 128),
])
def test_route_and_serve_agree_on_replica_capacity(acc, precision, tp, prompt, output):
    from wattlas.routing.simulator import build_sites

    site = build_sites(_site_spec(acc, precision, tp, prompt, output))[0]
    cfg = _config("llama3.1-70b", acc, precision, tp)
    plan = sp.plan_serving(cfg, prompt, output)
    assert site.batch_cap == plan.max_batch
    assert site.service.capacity_per_s(prompt, output) == pytest.approx(
        plan.capacity_requests_per_s, rel=1e-9)
    assert site.capacity_requests_per_s == pytest.approx(
        site.replicas * plan.capacity_requests_per_s, rel=1e-9)
    # the site's step and TTFT at full batch are serve's TPOT and TTFT
    assert float(site.service.decode_step_s(plan.batch)) == pytest.approx(plan.tpot_s)
    assert float(site.service.ttft_s(prompt, plan.batch)) == pytest.approx(plan.ttft_s)


def test_route_site_capacity_within_fp8_peak():
    """2 × TP4 H100 (70B FP8, 1,024 + 256): the site can complete at most its FP8 peak's
    worth of requests; the old tables allowed ≈ 80 req/s per replica (183 % of peak)."""
    from wattlas.routing.simulator import build_sites

    site = build_sites(_site_spec("h100-sxm", "fp8", 4, 1024, 256))[0]
    cfg = _config("llama3.1-70b", "h100-sxm", "fp8", 4)
    per_replica = site.service.capacity_per_s(1024, 256)
    flop_req = 2.0 * tf.matmul_params_active(cfg.model) * (1024 + 256)
    peak = 4 * hardware.accelerator("h100-sxm").peak_flop_per_s("fp8")
    assert per_replica * flop_req < peak
    assert per_replica < 25.0
    assert math.isfinite(per_replica) and per_replica > 0
    assert np.all(np.diff(site.service.decode_table_s) >= -1e-12)  # steps slow with batch


@given(configs, lengths, st.floats(0.0, 1.0), st.floats(0.02, 1.2))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_power_cap_never_exceeded_and_never_speeds_up(key, pl, frac, cap_frac):
    """serving.power_cap_w: the capped step draws at most the cap per GPU, is never faster
    than the uncapped one, and is unchanged when the cap is above the uncapped draw."""
    from dataclasses import replace

    from wattlas.energy import idle_power_w

    cfg = _config(*key)
    p, o = pl
    if cfg is None or inf.max_batch(cfg, p + o) < 1:
        return
    idle, _ = idle_power_w(cfg.accelerator)
    cap = idle + cap_frac * (cfg.accelerator.tdp_w - idle)
    capped = replace(cfg, power_cap_w=cap)
    b = 1.0 + frac * (inf.max_batch(cfg, p + o) - 1)
    free, held = inf.mixed_parts(cfg, b, p, o), inf.mixed_parts(capped, b, p, o)
    assert float(held["time_s"]) >= float(free["time_s"]) * (1 - 1e-12)
    assert float(inf.parts_power_w(capped, held)) <= cfg.tp * cap * (1 + 1e-9)
    uncapped_w = float(inf.parts_power_w(cfg, free)) / cfg.tp
    if cap >= uncapped_w:
        assert float(held["time_s"]) == pytest.approx(float(free["time_s"]), rel=1e-12)
    # the capped step still respects the peaks
    assert float(held["flop"]) / float(held["time_s"]) <= _peak_flop_per_s(cfg)


def test_power_cap_slows_compute_bound_serving_more_than_decode():
    """Max-throughput steps are compute-bound: a 350 W cap on H100 stretches them by ≈ 1/r
    (r = ((cap − idle)/(P − idle))^(1/3)); a batch-1 decode step is HBM-bound and slows by a
    quarter of that at most (energy.MEMORY_BOUND_CAP_SENSITIVITY)."""
    from dataclasses import replace

    cfg = _config("llama3.1-70b", "h100-sxm", "fp8", 4)
    capped = replace(cfg, power_cap_w=350.0)
    full, full_c = sp.plan_serving(cfg, 1024, 256), sp.plan_serving(capped, 1024, 256)
    one, one_c = (sp.plan_serving(cfg, 1024, 256, batch=1),
                  sp.plan_serving(capped, 1024, 256, batch=1))
    slow_full = full_c.tpot_s / full.tpot_s - 1.0
    slow_one = one_c.tpot_s / one.tpot_s - 1.0
    assert slow_full > 0.05 and 0.0 <= slow_one < slow_full / 2
    assert full_c.power_w <= 4 * 350.0 * (1 + 1e-9) < full.power_w
    assert full_c.output_tokens_per_s < full.output_tokens_per_s
    assert any("power cap 350 W per GPU" in n for n in full_c.notes)
    with pytest.raises(InputError, match=r"serving.power_cap_w = 50 W: must be above the idle"):
        replace(cfg, power_cap_w=50.0)


def test_power_cap_from_the_scenario():
    from wattlas import scenario
    from wattlas.perf.serving.scenario import plan_from_scenario

    base = {"model": "llama3.1-8b", "hardware": {"accelerator": "h100-sxm"},
            "serving": {"prompt_tokens": 512, "output_tokens": 256}}
    capped = {**base, "serving": {**base["serving"], "power_cap_w": 300}}
    free = plan_from_scenario(scenario.validate(base))
    held = plan_from_scenario(scenario.validate(capped))
    assert held.power_w <= 300.0 * (1 + 1e-9) < free.power_w
    assert held.output_tokens_per_s < free.output_tokens_per_s


def test_load_curve_rises_to_saturation():
    """TTFT and TPOT against the offered rate: non-decreasing, throughput = rate × OSL, the
    wait unbounded as the rate reaches capacity; the same numbers as plan_serving."""
    from wattlas.perf.serving.load import load_curve

    cfg = _config("llama3.1-70b", "h100-sxm", "bf16", 4)
    rows = load_curve(cfg, 467, 256)
    for key in ("ttft_s", "tpot_s", "queue_wait_s", "concurrency", "e2e_s"):
        values = [r[key] for r in rows]
        assert values == sorted(values), key
    for r in rows:
        assert r["output_tokens_per_s"] == pytest.approx(r["rate_per_s"] * 256, rel=1e-6)
        assert r["ttft_p99_s"] >= r["ttft_s"]
    assert rows[-1]["queue_wait_s"] > 10 * rows[len(rows) // 2]["queue_wait_s"]
    again = sp.plan_serving(cfg, 467, 256, rate_per_s=rows[3]["rate_per_s"])
    assert again.ttft_s == rows[3]["ttft_s"] and again.tpot_s == rows[3]["tpot_s"]
    with pytest.raises(InputError, match="utilisation 1.0: must be in"):
        load_curve(cfg, 467, 256, (0.5, 1.0))
