"""Flexible interconnection (Norris et al. 2025): curtailment buys an earlier or larger
connection where a region publishes curtailable headroom, and costs training time."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattlas.errors import InputError
from wattlas.grid import flexibility as fx
from wattlas.grid import regions as rg
from wattlas.grid.siting import SiteDemand, rank_sites


def _reg(**kw):
    base = dict(id="r", lat=40.0, lon=-75.0, rack_density_low_w=40e3, rack_density_high_w=60e3,
                queue_years_low=3, queue_years_high=5, build_years_low=1.5, build_years_high=3.0,
                price_usd_per_mwh=80.0, carbon_intensity_g_per_kwh=400.0)
    base.update(kw)
    return rg.Region(**base)


def test_headroom_curve_passes_through_the_published_points():
    """76, 98 and 126 GW at 0.25, 0.5 and 1 % (Norris et al. 2025), relative to 0.5 %."""
    assert fx.headroom_scale(0.0) == 0.0
    assert fx.headroom_scale(0.0025) == pytest.approx(76 / 98)
    assert fx.headroom_scale(0.005) == pytest.approx(1.0)
    assert fx.headroom_scale(0.01) == pytest.approx(126 / 98)
    assert fx.headroom_scale(0.05) == pytest.approx(126 / 98)  # not extrapolated


@given(st.floats(0, 0.5), st.floats(0, 0.5))
@settings(max_examples=100, deadline=None)
def test_more_curtailment_never_less_headroom_and_always_slower(a, b):
    lo, hi = min(a, b), max(a, b)
    assert fx.headroom_scale(lo) <= fx.headroom_scale(hi)
    assert fx.training_slowdown_frac(lo) <= fx.training_slowdown_frac(hi)


def test_training_slowdown_and_serving_shift():
    assert fx.training_slowdown_frac(0.01) == pytest.approx(0.01 / 0.99)
    assert fx.serving_shift_frac(0.01) == 0.01
    with pytest.raises(InputError, match=r"site.curtailment_frac = 0.7: allowed 0 to 0.5"):
        fx.check_frac(0.7)


def test_flexible_load_within_headroom_skips_the_queue():
    """200 MW curtailable headroom at 0.5 %: a 100 MW load accepting 0.5 % connects at build
    time (1.5-3 years) instead of queue + build (4.5-8 years)."""
    r = _reg(curtailable_headroom_w=200e6)
    firm = rank_sites(SiteDemand(100e6, 40e3, "air"), regions=[r])[0]
    flex = rank_sites(SiteDemand(100e6, 40e3, "air", curtailment_frac=0.005), regions=[r])[0]
    assert firm["time_to_power_years_high"] == 8.0 and firm["power_path"] == "grid"
    assert flex["time_to_power_years_low"] == 1.5 and flex["time_to_power_years_high"] == 3.0
    assert flex["power_path"] == "flexible" and not flex["phased"]
    assert flex["time_to_power_firm_years_high"] == 8.0
    assert flex["flexible_headroom_w"] == pytest.approx(200e6)
    assert flex["curtailment_training_slowdown_frac"] == pytest.approx(0.005 / 0.995)


def test_flexible_load_above_headroom_is_phased():
    """At 0.25 % the headroom is 200 × 76/98 = 155 MW: a 300 MW load gets 155 MW at build time
    and the rest with the firm connection (5 more years at the high end)."""
    r = _reg(curtailable_headroom_w=200e6)
    out = rank_sites(SiteDemand(300e6, 40e3, "air", curtailment_frac=0.0025), regions=[r])[0]
    assert out["status"] == "phased" and out["power_path"] == "flexible+grid"
    assert out["flexible_headroom_w"] == pytest.approx(200e6 * 76 / 98)
    assert out["time_to_power_years_high"] == 3.0 and out["full_power_years_high"] == 8.0
    sched = out["phase_schedule"]
    assert sched[0]["available_w"] == pytest.approx(200e6 * 76 / 98)
    assert sched[-1]["available_w"] == 300e6 and sched[-1]["years_after_first_power"] == 5.0


def test_curtailment_without_published_headroom_changes_nothing_and_says_so():
    r = _reg()
    firm = rank_sites(SiteDemand(100e6, 40e3, "air"), regions=[r])[0]
    flex = rank_sites(SiteDemand(100e6, 40e3, "air", curtailment_frac=0.01), regions=[r])[0]
    assert flex["time_to_power_years_high"] == firm["time_to_power_years_high"]
    assert any(u.startswith("curtailable_headroom_w") for u in flex["unknown"])


def test_cli_flag_and_bad_value():
    import json

    from typer.testing import CliRunner

    from wattlas.cli import app

    res = CliRunner().invoke(app, ["site", "--power-mw", "10", "--rack-kw", "40", "--cooling",
                                   "air", "--regions", "us-va", "--curtailment-frac", "0.005",
                                   "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["regions"][0]["curtailment_frac"] == 0.005
    res = CliRunner().invoke(app, ["site", "--power-mw", "10", "--rack-kw", "40",
                                   "--curtailment-frac", "0.9"])
    assert res.exit_code != 0 and "curtailment" in str(res.exception)


def test_region_points_from_norris_figure_1():
    """PJM (Figure 1): 13.3 / 17.8 / 23.6 GW at 0.25 / 0.5 / 1 %; the catalog's us-va carries
    them and the headroom at 0.75 % is the straight line between 0.5 and 1 %."""
    va = rg.region("us-va")
    assert (va.curtailable_headroom_0p25pct_w, va.curtailable_headroom_w,
            va.curtailable_headroom_1pct_w) == (13.3e9, 17.8e9, 23.6e9)
    h = fx.flexible_headroom_w(va.curtailable_headroom_w, 0.0075,
                               va.curtailable_headroom_0p25pct_w, va.curtailable_headroom_1pct_w)
    assert h == pytest.approx((17.8e9 + 23.6e9) / 2)
    assert fx.event_hours(0.005) == 2.1 and fx.event_hours(0.001) is None
    out = rank_sites(SiteDemand(100e6, 40e3, "air", curtailment_frac=0.0025), regions=[va])[0]
    assert out["power_path"] == "flexible" and out["time_to_power_years_high"] == 3.0
    assert out["time_to_power_firm_years_high"] == 8.0 and "transmission" in out["flexible_note"]
