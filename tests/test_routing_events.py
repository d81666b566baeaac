"""Request generation: diurnal Poisson arrivals and token-length distributions."""

from __future__ import annotations

import numpy as np
import pytest

from wattlas.routing.events import diurnal_multipliers, draw_lengths, poisson_arrivals
from wattlas.routing.spec import LengthDist, Sinusoid


def test_arrivals_follow_hourly_rates_and_region_shares():
    """Counts per UTC hour match λ(h)·3600 within 4σ (Poisson σ = √count)."""
    rates = np.ones((2, 24))
    rates[1, 6:12] = 4.0  # region 1 busy from 06 to 12 UTC
    t, reg = poisson_arrivals(np.random.default_rng(0), rates, 400_000)
    assert np.all(np.diff(t) >= 0)
    hour = (t // 3600).astype(int) % 24
    full_days = int(t[-1] // 86400)
    m = t < full_days * 86400
    counts = np.bincount(hour[m], minlength=24)
    expected = rates.sum(axis=0) * 3600 * full_days
    assert np.all(np.abs(counts - expected) <= 4 * np.sqrt(expected))
    busy = m & (hour >= 6) & (hour < 12)
    assert reg[busy].mean() == pytest.approx(0.8, abs=0.01)  # 4 / (4 + 1)


def test_start_hour_shifts_the_clock():
    rates = np.zeros((1, 24))
    rates[0, 18] = 1.0
    t, _ = poisson_arrivals(np.random.default_rng(1), rates, 1000, start_hour_utc=17.5)
    hour = np.floor(t / 3600 + 17.5).astype(int) % 24
    assert np.all(hour == 18)


def test_diurnal_sinusoid_and_list():
    m = diurnal_multipliers(Sinusoid(peak_hour=14, amplitude_frac=0.5), utc_offset_h=-5)
    assert int(np.argmax(m)) == 19 and m.max() == pytest.approx(1.5)  # 14 local = 19 UTC
    prof = [1.0] * 24
    prof[3] = 5.0
    assert int(np.argmax(diurnal_multipliers(prof, 1))) == 2


def test_length_distributions_have_their_means():
    rng = np.random.default_rng(2)
    x = draw_lengths(rng, LengthDist(dist="lognormal", mean=500, sigma=0.8), 200_000)
    assert x.mean() == pytest.approx(500, rel=0.01) and x.min() >= 1
    u = draw_lengths(rng, LengthDist(dist="uniform", low=10, high=20), 10_000)
    assert u.min() == 10 and u.max() == 20
    assert set(draw_lengths(rng, LengthDist(mean=7), 5)) == {7}


def test_length_spec_errors():
    with pytest.raises(ValueError, match="uniform lengths need low <= high"):
        LengthDist(dist="uniform", low=5)
    with pytest.raises(ValueError, match="lognormal lengths need mean"):
        LengthDist(dist="lognormal")
