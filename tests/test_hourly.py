"""Hourly grids: the energy stage uses a region's hourly profile, and a training job can pause
in the dirtiest or dearest hours for the time it costs."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from wattlas.errors import InputError
from wattlas.grid import regions as rg

#: a typical day: 100 g/kWh for 18 hours, 500 g/kWh for 6 evening hours; price the reverse
CARBON = [100.0] * 16 + [500.0] * 6 + [100.0] * 2
PRICE = [60.0] * 16 + [20.0] * 6 + [60.0] * 2


def _profile_csv(tmp_path):
    f = tmp_path / "day.csv"
    f.write_text("hour,carbon_intensity_g_per_kwh,price_usd_per_mwh\n" + "".join(
        f"{h},{c},{p}\n" for h, (c, p) in enumerate(zip(CARBON, PRICE, strict=True))))
    return f


def test_pausing_the_dirtiest_quarter_removes_the_evening_peak():
    prof = rg.Profile("hour", tuple(CARBON), tuple(PRICE))
    assert prof.mean_carbon_g_per_kwh() == pytest.approx(200.0)
    ci, price, run = prof.run_means(0.25, "carbon")  # 6 of 24 hours
    assert run == pytest.approx(0.75) and ci == pytest.approx(100.0) and price == 60.0
    ci, price, run = prof.run_means(0.25, "price")  # the dearest 6 hours are the clean ones
    assert price == pytest.approx((60 * 12 + 20 * 6) / 18) and ci > 200.0


@given(st.lists(st.floats(0, 1000), min_size=24, max_size=24), st.floats(0, 0.9))
@settings(max_examples=100, deadline=None)
def test_pausing_by_carbon_never_raises_the_mean(values, frac):
    prof = rg.Profile("hour", tuple(values), None)
    ci, _, run = prof.run_means(frac, "carbon")
    assert ci <= prof.mean_carbon_g_per_kwh() + 1e-9
    assert run == pytest.approx(1 - int(frac * 24 + 0.5) / 24)


def test_monthly_profile_cannot_schedule_hours():
    prof = rg.Profile("month", tuple([100.0] * 12), None)
    with pytest.raises(InputError, match="needs an hourly profile"):
        prof.run_means(0.1)


def _train(tmp_path, energy: str) -> dict:
    from wattlas.cli import app

    f = tmp_path / "s.yaml"
    f.write_text(
        "model: llama3-8b\nhardware: {accelerator: h100-sxm}\ncluster: {gpus: 64}\n"
        "training: {tokens: 1.0e9, seq_len: 4096, global_batch: 64, "
        "layout: {tp: 1, pp: 1, zero: 1}}\n"
        f"site: {{region: us-va, profiles: {{us-va: {_profile_csv(tmp_path)}}}}}\n"
        f"energy: {{power_basis: tdp{energy}}}\n")
    res = CliRunner().invoke(app, ["train", str(f), "--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_training_pause_trades_time_for_carbon(tmp_path):
    """The profile mean (200 g/kWh) replaces the annual value; pausing the dirtiest 25 % runs at
    100 g/kWh: half the carbon for the same energy, and 4/3 of the wall time."""
    flat = _train(tmp_path, "")
    paused = _train(tmp_path, ", pause_frac: 0.25")
    assert flat["grid_intensity_g_per_kwh"] == pytest.approx(200.0)
    assert paused["grid_intensity_g_per_kwh"] == pytest.approx(100.0)
    assert paused["energy_j"] == pytest.approx(flat["energy_j"], rel=1e-12)
    assert paused["co2e_kg"] == pytest.approx(flat["co2e_kg"] / 2, rel=1e-12)
    assert any("wall time × 1.333" in n for n in paused["energy_notes"])
    assert paused["wall_time_s"] == pytest.approx(flat["training_time_s"] * 4 / 3)
    assert "wall_time_s" not in flat
