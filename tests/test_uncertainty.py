"""Prediction intervals from the validation record, input ranges and the Monte Carlo.

The coverage test is the issue's acceptance test: a nominal 80 % interval fitted on one half of
the out-of-sample validation cases must cover 70–90 % of the other half, per stage, where the
held-back half is large enough for a coverage to mean something (a binomial standard error
of at most 5 points: n >= 64). The energy stage has 8 held-back cases (standard error 14
points); its coverage is reported, not tested.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattlas import errors
from wattlas import plan as pl
from wattlas import scenario as sc
from wattlas.uncertainty import build, intervals, montecarlo
from wattlas.uncertainty.inputs import parse

ROOT = Path(__file__).resolve().parents[1]
FRONTIER = ROOT / "examples" / "frontier-training.yaml"


@pytest.fixture(scope="module")
def residuals() -> list[intervals.Residual]:
    return build.residuals()


def test_shipped_intervals_are_regenerated_from_the_validation_cases(residuals) -> None:
    """data/intervals.csv is what the validation cases give today (else: python -m
    wattlas.uncertainty.build)."""
    shipped = build.path().read_text("utf-8")
    assert shipped == build.render(build.fit(residuals)), \
        "data/intervals.csv is stale: run python -m wattlas.uncertainty.build"


def test_nominal_80_percent_intervals_cover_70_to_90_percent_held_back(residuals) -> None:
    cov = build.coverage(residuals, build.fit(residuals))
    assert set(cov) == {"training", "serving", "energy"}
    tested = {s: c for s, (c, n) in cov.items() if n >= 64}
    assert {"training", "serving"} <= set(tested)
    for stage, c in tested.items():
        assert 0.70 <= c <= 0.90, f"{stage}: {c:.1%}"


def test_split_is_by_hash_and_leaves_calibration_cases_out(residuals) -> None:
    assert intervals.is_fit_case("a", "b", "c") == intervals.is_fit_case("a", "b", "c")
    fit = [r for r in residuals if r.fit]
    held = [r for r in residuals if not r.fit]
    assert 0.35 < len(fit) / len(residuals) < 0.65 and held
    from wattlas import validation

    n_cal = sum(c.calibration for c in validation.run("training"))
    assert n_cal > 0 and len(residuals) < len(validation.run("all")) - n_cal + 1


def test_conformal_ranks_on_a_known_sample() -> None:
    """n = 19 factors e^1 … e^19: P10 is the floor(0.1·20) = 2nd smallest, P90 the
    ceil(0.9·20) = 18th."""
    q = intervals.quantiles([math.exp(i) for i in range(1, 20)])
    assert q[0.10] == pytest.approx(math.exp(2)) and q[0.90] == pytest.approx(math.exp(18))
    assert q[0.50] == pytest.approx(math.exp(10))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.05, 20.0), min_size=1, max_size=80))
def test_quantiles_are_monotone_and_inside_the_sample(fs: list[float]) -> None:
    q = intervals.quantiles(fs)
    vals = [q[lv] for lv in intervals.LEVELS]
    assert vals == sorted(vals)
    assert min(fs) * (1 - 1e-12) <= vals[0] and vals[-1] <= max(fs) * (1 + 1e-12)


def test_split_conformal_covers_80_percent_of_exchangeable_data() -> None:
    """On synthetic exchangeable factors the procedure covers close to its nominal 80 %
    (1,000 repeats of 40 fit / 40 held-back: mean within 2 points)."""
    rng = np.random.default_rng(1)
    hits = []
    for _ in range(1000):
        x = np.exp(rng.normal(0.0, 0.3, 80))
        q = intervals.quantiles(list(x[:40]))
        hits.append(np.mean((x[40:] >= q[0.10]) & (x[40:] <= q[0.90])))
    assert 0.78 <= float(np.mean(hits)) <= 0.86


def test_choose_falls_back_to_broader_regimes() -> None:
    t = intervals.table()
    iv = intervals.choose("training", intervals.training_keys(16384, "Hopper", False))
    assert iv.regime == "generation Hopper" and iv.n_fit >= intervals.MIN_FIT_CASES
    assert intervals.choose("training", ("no such regime", "all")).regime == "all"
    assert all(v.p10 <= v.p50 <= v.p90 for v in t.values())


# ---- input ranges -----------------------------------------------------------------------


def _frontier(**edits):
    data = sc.load_data(FRONTIER)
    for path, value in edits.items():
        node = data
        keys = path.split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    return sc.validate(data)


def test_range_forms_take_their_median() -> None:
    s = _frontier(**{"energy.pue": {"low": 1.1, "high": 1.3}, "cluster.gpus": [8192, 16384],
                     "energy.price_usd_per_mwh": {"dist": "lognormal", "p10": 50, "p90": 120},
                     "energy.grid_intensity_g_per_kwh": {"dist": "triangular", "low": 100,
                                                         "mode": 200, "high": 400}})
    assert s.energy.pue == pytest.approx(1.2)
    assert s.cluster.gpus == 12288 and isinstance(s.cluster.gpus, int)
    assert s.energy.price_usd_per_mwh == pytest.approx(math.sqrt(50 * 120))
    keys = {r.key: r for r in s.ranges}
    assert set(keys) == {"energy.pue", "cluster.gpus", "energy.price_usd_per_mwh",
                         "energy.grid_intensity_g_per_kwh"}
    assert keys["cluster.gpus"].integer and not keys["energy.pue"].integer
    lg = keys["energy.price_usd_per_mwh"]
    assert lg.ppf(np.array([0.1]))[0] == pytest.approx(50, rel=1e-6)
    assert s.model_copy(update={"name": "x"}).ranges == s.ranges  # survives copies


@pytest.mark.parametrize(("value", "match"), [
    ({"low": 0.9, "high": 1.3}, r"energy\.pue = 0\.9: .*>= 1"),
    ([1.3, 1.1], r"energy\.pue: low = 1\.3 is above high = 1\.1"),
    ({"low": 1.1, "hi": 1.3}, r"energy\.pue: unknown key 'hi' in a range"),
    ({"dist": "beta", "low": 1.1, "high": 1.3}, r"energy\.pue\.dist = 'beta': allowed"),
    ({"dist": "lognormal", "median": 1.2}, r"energy\.pue: a lognormal needs"),
    ({"low": float("nan"), "high": 1.3}, r"energy\.pue\.low = nan: expected a finite"),
    ({"low": True, "high": 1.3}, r"energy\.pue\.low = True: expected a finite number"),
])
def test_bad_ranges_are_refused_naming_the_field(value, match) -> None:
    with pytest.raises(errors.ScenarioError, match=match):
        _frontier(**{"energy.pue": value})


def test_a_lognormal_tail_outside_the_limits_is_refused() -> None:
    """Both ends of the support (P0.1, P99.9) are checked like any number: a PUE lognormal
    whose lower tail falls below 1 is refused."""
    with pytest.raises(errors.ScenarioError, match=r"energy\.pue = 0\.\d+"):
        _frontier(**{"energy.pue": {"dist": "lognormal", "median": 1.2, "sigma": 0.2}})


def test_resolved_scenario_writes_ranges_back_as_given() -> None:
    s = _frontier(**{"energy.pue": {"low": 1.1, "high": 1.3}, "cluster.gpus": [16384, 16384],
                     "energy.price_usd_per_mwh": {"dist": "lognormal", "p10": 50, "p90": 120}})
    data = pl.resolved_scenario(s)
    assert data["energy"]["pue"] == {"low": 1.1, "high": 1.3}
    assert data["cluster"]["gpus"] == {"low": 16384, "high": 16384}
    data.pop("wattlas")
    assert sc.validate(data).ranges == s.ranges


def test_routing_lists_are_not_ranges() -> None:
    nominal, ranges = __import__("wattlas.uncertainty.inputs", fromlist=["split"]).split(
        {"routing": {"x": [1.0, 2.0]}, "energy": {"pue": [1.1, 1.2]}})
    assert nominal["routing"]["x"] == [1.0, 2.0] and [r.key for r in ranges] == ["energy.pue"]


@settings(max_examples=40, deadline=None)
@given(lo=st.floats(1.0, 3.0), span=st.floats(0.0, 2.0),
       u=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20))
def test_draws_stay_inside_the_validated_support(lo: float, span: float, u: list[float]
                                                  ) -> None:
    for spec in ({"low": lo, "high": lo + span},
                 {"dist": "triangular", "low": lo, "mode": lo + span / 3, "high": lo + span},
                 {"dist": "lognormal", "median": lo + 1, "sigma": 0.1 + span / 4}):
        r = parse(spec, ("energy", "pue"))
        x = r.ppf(np.array(u))
        assert np.all(np.isfinite(x)) and np.all(x >= r.low) and np.all(x <= r.high)


# ---- Monte Carlo through the stages ------------------------------------------------------


HEADLINE = (("training", "training_time_s"), ("energy", "facility_power_w"),
            ("energy", "energy_j"), ("energy", "energy_cost_usd"), ("energy", "co2e_kg"))


@pytest.fixture(scope="module")
def frontier_plan() -> dict:
    return pl.run_plan(sc.load(FRONTIER))


def test_plan_gives_p10_p50_p90_beside_each_headline_key(frontier_plan) -> None:
    for sec, k in HEADLINE:
        p10, p50, p90 = (frontier_plan[sec][f"{k}_p{q}"] for q in (10, 50, 90))
        assert p10 <= p50 <= p90, k
        assert p10 < frontier_plan[sec][k] * 1.0001 and p90 > frontier_plan[sec][k] * 0.9999
    tr = frontier_plan["training"]
    # the training section repeats the energy numbers of the run, with the same ranges
    assert tr["facility_power_w_p90"] == frontier_plan["energy"]["facility_power_w_p90"]
    unc = frontier_plan["uncertainty"]
    assert unc["intervals"][0]["regime"] == "generation Hopper"
    assert {r["input"] for r in unc["tornado"]} >= {"model error: training (generation Hopper)"}


def test_no_draw_beats_the_hardware(frontier_plan) -> None:
    """Time never below the all-FLOPs-at-peak time (HFU = 1); power never above the all-TDP
    peak."""
    d = montecarlo.draws(sc.load(FRONTIER), frontier_plan)
    tr, en = frontier_plan["training"], frontier_plan["energy"]
    assert d["values"]["training"]["training_time_s"].min() >= \
        tr["training_time_s"] * tr["hfu"] * (1 - 1e-9)
    assert d["values"]["energy"]["facility_power_w"].max() <= en["peak_facility_power_w"]


def test_same_seed_same_numbers_and_train_agrees(frontier_plan) -> None:
    again = pl.run_plan(sc.load(FRONTIER))
    for sec, k in HEADLINE:
        assert again[sec][f"{k}_p90"] == frontier_plan[sec][f"{k}_p90"]
    import wattlas

    t = wattlas.train(FRONTIER).to_dict()
    assert t["training_time_s_p90"] == frontier_plan["training"]["training_time_s_p90"]
    assert t["co2e_kg_p10"] == frontier_plan["training"]["co2e_kg_p10"]


def test_an_input_range_moves_what_it_feeds_and_leads_the_tornado() -> None:
    s = _frontier(**{"energy.price_usd_per_mwh": {"low": 40, "high": 160},
                     "energy.pue": [1.1, 1.3]})
    p = pl.run_plan(s)
    en = p["energy"]
    # cost spreads with the price (uniform 40-160 about 100: P10/P90 near 52/148 before the
    # model error), facility power with the PUE
    assert en["energy_cost_usd_p90"] / en["energy_cost_usd_p10"] > 2.0
    assert en["facility_power_w_p90"] > en["facility_power_w_p10"] * 1.1
    top = p["uncertainty"]["tornado"][0]
    assert top["input"] == "energy.price_usd_per_mwh"
    assert top["swings"]["days"][0] == top["swings"]["days"][1]  # price does not move time
    assert p["uncertainty"]["inputs"][0]["key"] in ("energy.price_usd_per_mwh", "energy.pue")


def test_report_shows_ranges_and_the_tornado(frontier_plan) -> None:
    from wattlas.report import html, markdown, summary_rows

    rows = {r["path"]: r["human"] for r in summary_rows(frontier_plan)}
    for path in ("training.training_time_s", "energy.facility_power_w", "energy.energy_j",
                 "energy.energy_cost_usd", "energy.co2e_kg"):
        assert "P10 / P50 / P90" in rows[path]
    page = html.render(frontier_plan)
    assert "What moves the answer most" in page and "<svg" in page
    assert "## Ranges and what moves them" in markdown.render(frontier_plan)


@settings(max_examples=4, deadline=None)
@given(lo=st.floats(1.0, 1.5), span=st.floats(0.01, 0.5), price=st.floats(10, 200))
def test_draws_keep_the_conservation_laws(lo: float, span: float, price: float) -> None:
    """Per draw facility power >= IT power (PUE >= 1) and cost = energy x price, so the same
    order and ratio hold for every percentile."""
    s = _frontier(**{"energy.pue": [lo, lo + span], "energy.price_usd_per_mwh": price})
    p = pl.run_plan(s)
    d = montecarlo.draws(s, p, samples=24)
    en = d["values"]["energy"]
    assert np.all(en["facility_power_w"] >= en["it_power_w"] * (1 - 1e-12))
    np.testing.assert_allclose(en["energy_cost_usd"], en["energy_j"] / 3.6e9 * price,
                               rtol=1e-9)
    for q in (10, 50, 90):
        assert p["energy"][f"facility_power_w_p{q}"] >= p["energy"][f"it_power_w_p{q}"]
