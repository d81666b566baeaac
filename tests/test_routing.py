"""Routing simulator: conservation, power caps, RTT floors, Little's law, policies, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattlas.errors import CatalogKeyError, InfeasibleError, InputError, ScenarioError
from wattlas.grid import geo
from wattlas.routing import POLICIES, RoutingSpec, ServiceModel, Site, simulate_routing
from wattlas.routing.metrics import littles_law, occupancy_steps

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "global-serving.yaml"


def toy_service(max_batch: int = 16) -> ServiceModel:
    """A small replica: prefill 20 ms + 20 µs/token, step 10 ms + 0.5 ms/sequence."""
    return ServiceModel.from_callables(
        prefill_s=lambda p: 0.02 + 2e-5 * np.asarray(p, dtype=float),
        decode_step_s=lambda b: 0.01 + 5e-4 * np.asarray(b, dtype=float),
        max_batch=max_batch, power_w=lambda b: 300.0 + 25.0 * np.asarray(b, dtype=float),
        max_prompt_tokens=8192)


USERS = [{"name": "nyc", "lat": 40.71, "lon": -74.01, "demand_rps": 40},
         {"name": "paris", "lat": 48.86, "lon": 2.35, "demand_rps": 30,
          "diurnal": {"peak_hour": 14, "amplitude_frac": 0.5}},
         {"name": "tokyo", "lat": 35.68, "lon": 139.69, "demand_rps": 20,
          "diurnal": [1.0] * 12 + [2.0] * 12}]
PLACES = {"va": (39.04, -77.49, 400.0), "qc": (45.5, -73.57, 40.0),
          "fra": (50.11, 8.68, 340.0), "tyo": (35.68, 139.69, 460.0)}


def toy(replicas=(2, 1, 1, 1), caps=(None, None, 800.0, 800.0), slo=None, admission=True,
        calls=1, tool_s=0.0, requests=3000, seed=0, users=USERS):
    spec = RoutingSpec.model_validate({
        "users": users,
        "sites": [{"name": n, "lat": la, "lon": lo, "accelerator": "toy"}
                  for n, (la, lo, _) in PLACES.items()],
        "prompt_tokens": {"dist": "lognormal", "mean": 512, "sigma": 0.7},
        "output_tokens": {"dist": "uniform", "low": 16, "high": 256},
        "session": {"calls": calls, "tool_s": tool_s},
        "slo": slo or {"ttft_s": 0.5, "e2e_s": 20.0},
        "admission": admission, "requests": requests, "seed": seed})
    sites = [Site(n, la, lo, toy_service(), replicas=r, power_cap_w=cap,
                  kind="edge" if cap else "central", intensity_g_per_kwh=np.full(24, ci),
                  price_usd_per_mwh=ci / 4)
             for (n, (la, lo, ci)), r, cap in zip(PLACES.items(), replicas, caps, strict=True)]
    return spec, sites


def check_invariants(res):
    for row in res.policies:
        log = res.logs[row["policy"]]
        # conservation: completed + rejected = offered, in total and per site
        assert row["completed"] + row["rejected"] == row["offered"] == int(log.offered.sum())
        loads = res.site_load[row["policy"]]
        assert sum(ld["requests"] for ld in loads) == row["completed"]
        for j, (site, ld) in enumerate(zip(res.sites, loads, strict=True)):
            m = log.site == j
            # power cap never exceeded: from the reported peak and from the event log
            _, n = occupancy_steps(log.start_s[m], log.end_s[m])
            if len(n):
                assert n.max() <= site.slots
                peak = float(site.facility_power_w(n.max() / site.replicas))
                if site.power_cap_w is not None:
                    assert peak <= site.power_cap_w * (1 + 1e-9)
                    assert ld["max_power_w"] <= site.power_cap_w * (1 + 1e-9)
            # Little's law from the event log: L = λ W
            ll = littles_law(log.site_arrival_s[m], log.end_s[m])
            assert ll["l"] == pytest.approx(ll["lambda_w"], rel=1e-9, abs=1e-12)
        done = log.completed
        ttft = log.first_token_s[done] - log.arrival_s[done]
        e2e = log.completion_s[done] - log.arrival_s[done]
        assert np.all(e2e >= ttft - 1e-12)
        assert np.all(ttft >= log.rtt_s[done] - 1e-12)


def test_all_policies_keep_invariants_and_floor():
    spec, sites = toy()
    res = simulate_routing(spec, sites=sites)
    assert [r["policy"] for r in res.policies] == list(POLICIES)
    check_invariants(res)
    # every latency is above the fibre floor of its user-site distance
    log = res.logs["least-latency"]
    done = log.completed
    ulat = np.array([u.lat for u in spec.users])[log.region[done]]
    ulon = np.array([u.lon for u in spec.users])[log.region[done]]
    slat = np.array([s.lat for s in sites])[log.site[done]]
    slon = np.array([s.lon for s in sites])[log.site[done]]
    floor = geo.rtt_floor_s(geo.distance_km(ulat, ulon, slat, slon))
    assert np.all(log.first_token_s[done] - log.arrival_s[done] >= floor)


@settings(max_examples=12, deadline=None)
@given(rep=st.lists(st.integers(1, 3), min_size=4, max_size=4),
       cap=st.floats(400.0, 1500.0), calls=st.integers(1, 3), seed=st.integers(0, 10_000),
       admission=st.booleans())
def test_invariants_property(rep, cap, calls, seed, admission):
    spec, sites = toy(replicas=tuple(rep), caps=(None, cap * rep[1], cap * rep[2], None),
                      calls=calls, tool_s=1.0, requests=600, seed=seed, admission=admission)
    check_invariants(simulate_routing(spec, sites=sites))


def test_deterministic_for_a_seed():
    spec, sites = toy(requests=1000)
    a = simulate_routing(spec, ["least-latency"], sites=sites, seed=3).policies
    b = simulate_routing(spec, ["least-latency"], sites=sites, seed=3).policies
    c = simulate_routing(spec, ["least-latency"], sites=sites, seed=4).policies
    assert a == b and a != c


def test_admission_rejects_what_cannot_meet_the_slo():
    tight = {"ttft_s": 0.03}
    spec, sites = toy(slo=tight, requests=1000)
    row = simulate_routing(spec, ["nearest"], sites=sites).policies[0]
    assert row["rejected"] > 0 and row["rejected_frac"] > 0
    spec, sites = toy(slo=tight, requests=1000, admission=False)
    row = simulate_routing(spec, ["nearest"], sites=sites).policies[0]
    assert row["rejected"] == 0 and row["slo_attainment_frac"] < 1


def test_sessions_release_follow_ups_after_tool_time():
    spec, sites = toy(calls=3, tool_s=2.0, requests=900)
    res = simulate_routing(spec, ["nearest"], sites=sites)
    log = res.logs["nearest"]
    assert res.policies[0]["offered"] == 900
    a, c = log.arrival_s.reshape(-1, 3), log.completion_s.reshape(-1, 3)
    assert np.all(a[:, 1:] >= c[:, :-1] + 2.0 - 1e-9)


def test_one_call_session_latency_is_e2e():
    spec, sites = toy(slo={"ttft_s": 0.04}, requests=1500)  # tight: some calls are rejected
    res = simulate_routing(spec, ["nearest", "least-latency"], sites=sites)
    for row in res.policies:
        assert row["rejected"] > 0
        assert row["sessions_offered"] == row["offered"]
        assert row["sessions_completed"] == row["completed"]
        for q in ("p50", "p95", "p99"):
            assert row[f"session_latency_{q}_s"] == row[f"e2e_{q}_s"]


def test_session_latency_at_zero_load_meets_the_floor():
    k, tool = 3, 1.5
    quiet = [dict(u, demand_rps=u["demand_rps"] * 1e-4) for u in USERS]  # no queueing
    spec, sites = toy(calls=k, tool_s=tool, requests=300, users=quiet)
    res = simulate_routing(spec, ["nearest", "carbon-aware"], sites=sites)
    for row in res.policies:
        log = res.logs[row["policy"]]
        assert np.array_equal(log.start_s, log.site_arrival_s)  # zero load: nobody waits
        assert row["sessions_offered"] == row["sessions_completed"] == 100
        done = log.completed
        ulat = np.array([u.lat for u in spec.users])[log.region]
        ulon = np.array([u.lon for u in spec.users])[log.region]
        slat = np.array([s.lat for s in sites])[log.site]
        slon = np.array([s.lon for s in sites])[log.site]
        floor = geo.rtt_floor_s(geo.distance_km(ulat, ulon, slat, slon)).reshape(-1, k)
        a, c = log.arrival_s.reshape(-1, k), log.completion_s.reshape(-1, k)
        sess = c[:, -1] - a[:, 0]
        assert done.all()
        assert np.all(sess >= floor.sum(axis=1) + (k - 1) * tool)
        # first call's arrival to last call's completion = Σ E2E + tool time between calls
        np.testing.assert_allclose(sess, (c - a).sum(axis=1) + (k - 1) * tool, rtol=1e-12)
        assert row["session_latency_p50_s"] == pytest.approx(np.percentile(sess, 50))
        assert row["session_latency_p99_s"] >= row["session_latency_p95_s"] \
            >= row["session_latency_p50_s"] >= k * floor.min() + (k - 1) * tool


def test_sessions_with_a_rejected_call_fail():
    spec, sites = toy(calls=3, tool_s=0.5, slo={"ttft_s": 0.04}, requests=1500)
    res = simulate_routing(spec, ["nearest"], sites=sites)
    row, log = res.policies[0], res.logs["nearest"]
    whole = log.completed.reshape(-1, 3).all(axis=1)
    assert row["sessions_offered"] == 500
    assert 0 < row["sessions_completed"] == int(whole.sum()) < 500
    assert row["completed"] >= 3 * row["sessions_completed"]


def test_session_metrics_deterministic_for_a_seed():
    spec, sites = toy(calls=2, tool_s=1.0, requests=1000)
    a, b, c = (simulate_routing(spec, ["carbon-aware"], sites=sites, seed=s).policies[0]
               for s in (7, 7, 8))
    keys = [k for k in a if k.startswith("session")]
    assert len(keys) == 5
    assert [a[k] for k in keys] == [b[k] for k in keys]
    assert a["session_latency_p50_s"] != c["session_latency_p50_s"]


def test_hourly_price_weights_energy_by_hour():
    from wattlas.routing.metrics import J_PER_MWH, site_energy

    price = [0.0] * 24
    price[5], price[6] = 10.0, 30.0
    site = Site("s", 0.0, 0.0, toy_service(), replicas=1, price_usd_per_mwh=price)
    # one sequence in service for two hours from 05:00 UTC: 3600 s at 10 and 3600 s at 30
    en = site_energy(site, np.array([0.0]), np.array([7200.0]), 7200.0, start_hour_utc=5.0)
    p1 = float(site.facility_power_w(1.0))
    assert en["energy_j"] == pytest.approx(p1 * 7200.0)
    assert en["energy_cost_usd"] == pytest.approx(p1 * 3600.0 / J_PER_MWH * (10.0 + 30.0))


def test_hourly_price_in_spec_steers_cost_aware():
    from wattlas.routing.simulator import build_sites
    from wattlas.scenario import validate

    cheap_am = [20.0] * 12 + [200.0] * 12
    site = {"name": "s", "lat": 0.0, "lon": 0.0, "accelerator": "h100-sxm", "replicas": 1,
            "grid_intensity_g_per_kwh": 100.0, "price_usd_per_mwh_hourly": cheap_am}
    spec = RoutingSpec.model_validate({"model": "llama3-8b", "users": [{"name": "u",
                                       "demand_rps": 1}], "sites": [site]})
    assert build_sites(spec)[0].price_usd_per_mwh.tolist() == cheap_am
    with pytest.raises(ScenarioError, match="price_usd_per_mwh_hourly"):
        validate({"routing": {"users": [{"name": "u", "demand_rps": 1}],
                              "sites": [dict(site, price_usd_per_mwh_hourly=[1.0] * 23)]}})
    with pytest.raises(ScenarioError, match="not both"):
        validate({"routing": {"users": [{"name": "u", "demand_rps": 1}],
                              "sites": [dict(site, price_usd_per_mwh=50.0)]}})
    # two equal sites with opposite price profiles: cost-aware follows the cheap hours
    spec, _ = toy(requests=400)
    for h0, cheap in ((3.0, 0), (15.0, 1)):
        sp = spec.model_copy(update={"start_hour_utc": h0})
        two = [Site(n, 45.0, -74.0, toy_service(), replicas=12,
                    price_usd_per_mwh=p, intensity_g_per_kwh=np.full(24, 100.0))
               for n, p in (("a", cheap_am), ("b", cheap_am[12:] + cheap_am[:12]))]
        res = simulate_routing(sp, ["cost-aware"], sites=two)
        assert res.site_load["cost-aware"][cheap]["requests"] == res.policies[0]["completed"]


def test_power_cap_below_idle_is_infeasible():
    with pytest.raises(InfeasibleError, match="power_cap_w is 500 W; use at most 1 replicas"):
        Site("edge", 0.0, 0.0, toy_service(), replicas=3, power_cap_w=500.0)


def test_cap_limits_batch():
    s = Site("edge", 0.0, 0.0, toy_service(16), replicas=2, power_cap_w=2 * (300 + 25 * 5))
    assert s.batch_cap == 5 and s.slots == 10


def test_unknown_policy_names_the_choices():
    spec, sites = toy(requests=10)
    with pytest.raises(CatalogKeyError, match="unknown routing policy 'greedy'.*known: nearest"):
        simulate_routing(spec, ["greedy"], sites=sites)


def test_spec_errors():
    from wattlas.scenario import validate

    with pytest.raises(ScenarioError, match="routing.users.0.demand"):
        validate({"routing": {"users": [{"name": "x", "demand": 3}], "sites": []}})
    with pytest.raises(ScenarioError, match="24 hourly"):
        validate({"routing": {"users": [{"name": "x", "demand_rps": 3, "diurnal": [1, 2]}],
                              "sites": [{"name": "s", "accelerator": "h100-sxm"}]}})
    spec = RoutingSpec.model_validate({"users": [{"name": "x", "demand_rps": 1}],
                                       "sites": [{"name": "s", "accelerator": "h100-sxm"}]})
    with pytest.raises(InputError, match="routing site 's': no model"):
        simulate_routing(spec)


def test_from_inference_agrees_with_perf_inference():
    from wattlas import hardware
    from wattlas.perf.serving import plan as sp
    from wattlas.perf.serving import roofline as inf
    from wattlas.scenario import resolve_model

    cfg = inf.ServingConfig(model=resolve_model("llama3-8b"),
                            accelerator=hardware.accelerator("h100-sxm"), tp=1)
    sm = ServiceModel.from_inference(cfg, 1024.0, 1024.0, 8192)
    assert sm.max_batch == inf.max_batch(cfg, 2048.0)
    b = np.array([1, 8, sm.max_batch])
    point = sp.steady_state(cfg, b, 1024.0, 1024.0)
    np.testing.assert_allclose(sm.decode_step_s(b), point["step_s"])
    np.testing.assert_allclose([sm.ttft_s(1024, x) for x in b], point["ttft_s"])
    # between grid points the TTFT interpolates within 2 %
    other = float(sp.steady_state(cfg, 8, 700.0, 1024.0)["ttft_s"])
    np.testing.assert_allclose(sm.ttft_s(700, 8), other, rtol=0.02)
    np.testing.assert_allclose(sm.power_w(8), inf.parts_power_w(
        cfg, inf.mixed_parts(cfg, 8, 1024.0, 1024.0)))


def test_example_carbon_aware_beats_nearest_within_slo():
    from wattlas import scenario
    from wattlas.routing import routing_from_scenario

    scen = scenario.load(EXAMPLE)
    assert len({s.region for s in scen.routing.sites}) >= 4
    assert sum(s.kind == "edge" for s in scen.routing.sites) >= 2
    res = routing_from_scenario(scen, ["nearest", "carbon-aware", "least-latency"],
                                requests=6000)
    check_invariants(res)
    rows = {r["policy"]: r for r in res.policies}
    assert rows["carbon-aware"]["co2e_g_per_request"] < rows["nearest"]["co2e_g_per_request"]
    assert rows["carbon-aware"]["slo_attainment_frac"] >= 0.99
    # ... and pays for it in latency
    assert rows["carbon-aware"]["ttft_p50_s"] > rows["least-latency"]["ttft_p50_s"]


def test_cli_json_contract():
    r = subprocess.run([sys.executable, "-m", "wattlas.cli", "route", str(EXAMPLE),
                        "--policy", "nearest", "--policy", "carbon-aware", "--requests", "2000",
                        "--seed", "1", "--format", "json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    keys = {"policy", "offered", "completed", "rejected", "ttft_p50_s", "ttft_p99_s",
            "e2e_p99_s", "slo_attainment_frac", "energy_per_token_j", "co2e_g_per_request",
            "ttft_p95_s", "tpot_p95_s", "e2e_p95_s", "sessions_offered", "sessions_completed",
            "session_latency_p50_s", "session_latency_p95_s", "session_latency_p99_s"}
    assert [p["policy"] for p in out["policies"]] == ["nearest", "carbon-aware"]
    assert keys <= set(out["policies"][0])
    assert len(out["site_load"]["nearest"]) == 6


def test_cli_unknown_policy_exit_2():
    r = subprocess.run([sys.executable, "-m", "wattlas.cli", "route", str(EXAMPLE),
                        "--policy", "fastest"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "unknown routing policy 'fastest'" in r.stderr
