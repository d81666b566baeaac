"""Siting rules: unknown data is ranked apart and never above known data; headroom refuses or
phases a load; a banded price only prices loads inside its band; the catalog's coverage."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattlas import catalog
from wattlas.grid import regions as rg
from wattlas.grid.siting import SiteDemand, rank_sites

GWH_J = 3.6e12


def _reg(id_, **kw):
    base = dict(id=id_, lat=40.0, lon=-75.0, rack_density_low_w=80e3, rack_density_high_w=140e3,
                queue_years_low=3, queue_years_high=5, build_years_low=1.5, build_years_high=3.0,
                price_usd_per_mwh=80.0, carbon_intensity_g_per_kwh=400.0)
    base.update(kw)
    return rg.Region(**base)


def test_default_rack_density_is_stated_and_ranked_after_published_density():
    """Without a published rack density the cooling class's technology ceiling (140 kW liquid)
    is applied, named in defaults_used, and the region is ranked after the region whose density
    is published, even though it is cheaper, cleaner and faster (each group scored apart)."""
    known = _reg("known", rack_density_high_w=140e3)
    blank = _reg("blank", rack_density_low_w=None, rack_density_high_w=None, queue_years_low=0,
                 queue_years_high=1, price_usd_per_mwh=20.0, carbon_intensity_g_per_kwh=10.0)
    out = rank_sites(SiteDemand(100e6, 132e3, "liquid"), regions=[blank, known])
    assert [r["region"] for r in out] == ["known", "blank"]
    k, b = out
    assert k["status"] == "feasible" and k["rank"] == 1 and k["score"] == 0
    assert k["rack_limit_basis"] == "region" and k["pareto"]
    assert b["status"] == "feasible" and b["rank"] == 2 and b["score"] == 0
    assert b["rack_limit_basis"] == "default" and b["rack_limit_w"] == rg.LIQUID_RACK_CEILING_W
    assert not b["data_missing"]
    assert any(d.startswith("liquid_rack_ceiling_w=140000") for d in b["defaults_used"])
    assert not any("rack_ceiling_w" in d for d in k["defaults_used"])


def test_default_rack_density_still_refuses_a_rack_above_the_class_ceiling():
    """The stated default is a limit too: a 150 kW rack exceeds the 140 kW liquid ceiling and a
    70 kW rack the 60 kW air ceiling in a region without a published density."""
    blank = _reg("blank", rack_density_low_w=None, rack_density_high_w=None)
    liq = rank_sites(SiteDemand(10e6, 150e3, "liquid"), regions=[blank])[0]
    air = rank_sites(SiteDemand(10e6, 70e3, "air"), regions=[blank])[0]
    assert liq["status"] == "infeasible" and "140 kW liquid-cooled" in liq["reasons"][0]
    assert air["status"] == "infeasible" and "60 kW air-cooled" in air["reasons"][0]


def test_known_refusal_wins_over_missing_data():
    """A region a known limit refuses is infeasible (with its reason), not unknown."""
    r = _reg("r", rack_density_high_w=60e3, queue_years_low=None, queue_years_high=None)
    out = rank_sites(SiteDemand(10e6, 132e3, "liquid"), regions=[r])[0]
    assert out["status"] == "infeasible" and out["feasible"] is False
    assert "exceeds the 60 kW liquid-cooled rack limit" in out["reasons"][0]


def test_order_ranked_then_infeasible_then_unknown():
    regs = [_reg("unk", price_usd_per_mwh=None), _reg("bad", rack_density_high_w=50e3),
            _reg("ok")]
    out = rank_sites(SiteDemand(10e6, 100e3, "liquid"), regions=regs)
    assert [r["status"] for r in out] == ["feasible", "infeasible", "unknown"]


def test_headroom_refuses_without_a_published_upgrade_rate():
    r = _reg("a", available_w=200e6)
    out = rank_sites(SiteDemand(300e6, 100e3, "liquid"), regions=[r])[0]
    assert out["status"] == "infeasible" and not out["phased"]
    assert out["available_w"] == 200e6
    assert "exceeds the 200.0 MW available" in out["reasons"][0]


def test_headroom_phases_with_a_published_upgrade_rate():
    """300 MW against 200 MW now + 40 MW/year: full power (300 − 200) / 40 = 2.5 years after
    first power; the schedule adds 40 MW a year and stops at the load."""
    r = _reg("a", available_w=200e6, headroom_added_w_per_year=40e6)
    out = rank_sites(SiteDemand(300e6, 100e3, "liquid"), regions=[r])[0]
    assert out["status"] == "phased" and out["feasible"] and out["phased"]
    assert out["phase_years"] == pytest.approx(2.5)
    assert out["full_power_years_high"] == pytest.approx(out["time_to_power_years_high"] + 2.5)
    avail = [p["available_w"] for p in out["phase_schedule"]]
    assert avail == [200e6, 240e6, 280e6, 300e6]
    assert out["rank"] == 1  # phased loads are ranked, on their time to full power


def test_phased_region_ranks_on_full_power_time():
    fast_phased = _reg("p", queue_years_low=0, queue_years_high=1, available_w=100e6,
                       headroom_added_w_per_year=10e6)  # full power 20 years after first
    slow_firm = _reg("f")
    out = rank_sites(SiteDemand(300e6, 100e3, "liquid"), regions=[fast_phased, slow_firm],
                     weights="time=1,cost=0,carbon=0")
    assert out[0]["region"] == "f"


def test_price_band_prices_only_loads_inside_it():
    """Iceland-like row: a price for 2-20 GWh/year customers. 1 MW (8.76 GWh/year) is priced;
    300 MW (2,628 GWh/year) is not: the price is unknown for that load and the row unranked."""
    r = _reg("is-like", price_band_low_j_per_year=2 * GWH_J,
             price_band_high_j_per_year=20 * GWH_J)
    small = rank_sites(SiteDemand(1e6, 100e3, "liquid"), regions=[r])[0]
    big = rank_sites(SiteDemand(300e6, 100e3, "liquid"), regions=[r])[0]
    assert small["price_usd_per_mwh"] == 80.0 and small["status"] == "feasible"
    assert big["price_usd_per_mwh"] is None and big["energy_cost_usd_per_year"] is None
    assert big["status"] == "unknown"
    assert any("2,628 GWh/year" in u for u in big["unknown"])


@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.floats(10, 200)), min_size=1,
                max_size=12))
@settings(max_examples=60, deadline=None)
def test_no_unknown_region_sits_above_a_known_one(spec):
    regs = [_reg(f"r{i}", rack_density_high_w=None if no_rack else 140e3,
                 price_usd_per_mwh=None if no_price else price)
            for i, (no_rack, no_price, price) in enumerate(spec)]
    out = rank_sites(SiteDemand(10e6, 100e3, "liquid"), regions=regs)
    status = [r["status"] for r in out]
    first_unknown = status.index("unknown") if "unknown" in status else len(status)
    assert all(s == "unknown" for s in status[first_unknown:])
    basis = [r["rack_limit_basis"] for r in out if r["rank"] is not None]
    assert basis == sorted(basis, key=lambda b: b == "default")  # published density first
    for r in out:
        assert (r["rank"] is None) == (r["status"] != "feasible")
        if r["status"] == "unknown":
            assert r["score"] is None and r["data_missing"]


def test_catalog_covers_forty_regions_on_five_continents():
    rows = catalog.rows("regions")
    assert len(rows) >= 40
    countries = {r["country"] for r in rows}
    assert {"US", "CA"} <= countries  # North America
    assert {"DE", "FR", "IE", "GB", "NL"} <= countries  # Europe
    assert {"NO", "SE", "FI", "IS", "DK"} <= countries  # Nordics
    assert {"AE", "SA", "QA"} <= countries  # Middle East
    assert {"JP", "SG", "KR", "AU", "IN"} <= countries  # Asia-Pacific
    for r in rows:
        assert r["source"] and r["as_of"] and r["carbon_intensity_g_per_kwh"] is not None


def _site_json(*args: str) -> tuple[int, dict, str]:
    p = subprocess.run([sys.executable, "-m", "wattlas.cli", "site", *args, "--format", "json"],
                       capture_output=True, text=True, timeout=300)
    return p.returncode, json.loads(p.stdout), p.stderr


@pytest.mark.skipif("us-va" not in catalog.ids("regions"), reason="regions catalog not present")
def test_cli_300_mw_132_kw_liquid_rules():
    """`wattlas site --power-mw 300 --rack-kw 132 --cooling liquid`: only regions with data are
    ranked, the unknown ones are listed apart (after every assessed one), headroom is respected."""
    rc, out, err = _site_json("--power-mw", "300", "--rack-kw", "132", "--cooling", "liquid")
    rows = out["regions"]
    assert len(rows) == len(catalog.ids("regions"))
    status = [r["status"] for r in rows]
    first_unknown = status.index("unknown")
    assert all(s == "unknown" for s in status[first_unknown:])
    assert all(s != "unknown" for s in status[:first_unknown])
    for r in rows:
        if r["rank"] is not None:  # ranked only with every input known
            assert not r["data_missing"] and r["status"] in ("feasible", "phased")
            assert r["rack_limit_w"] >= 132e3
        if r["status"] == "unknown":
            assert r["feasible"] is None and r["score"] is None and r["data_missing"]
        if r["available_w"] is not None and r["facility_power_w"] > r["available_w"]:
            assert r["status"] in ("infeasible", "phased")
            assert r["phased"] == (r["status"] == "phased")
    by = {r["region"]: r for r in rows}
    assert by["sg"]["status"] == "infeasible"  # 300 MW > the 200 MW of DC-CFA2
    assert by["ie"]["status"] == "infeasible"  # Dublin connections paused (available 0)
    assert by["us-va"]["status"] == "infeasible"  # 132 kW > 60 kW
    assert by["nl-ams"]["status"] == "infeasible"  # Amsterdam: no new permits before 2035
    assert by["us-tx"]["status"] == "feasible" and by["us-tx"]["rank"] == 1
    assert by["us-tx"]["rack_limit_basis"] == "default"  # 140 kW liquid ceiling, stated
    assert any("liquid_rack_ceiling_w" in d for d in by["us-tx"]["defaults_used"])
    for r in rows:  # a rack density is never "missing": published, or the stated default
        assert not any("rack_density" in m for m in r["data_missing"])
    if not any(r["feasible"] for r in rows):
        assert rc == 1 and "not assessed (data unknown)" in err
    else:
        assert rc == 0


def test_docs_coverage_table_is_generated_from_the_catalog():
    """docs/siting.md holds the table `regions.coverage_markdown()` prints for the shipped
    catalog (regenerate it with that function after editing data/regions.csv)."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "siting.md").read_text()
    assert rg.coverage_markdown() in doc


def test_coverage_counts_fields():
    a = _reg("a", available_w=1e8)
    b = _reg("b", queue_years_low=None, price_band_low_j_per_year=2 * GWH_J,
             price_band_high_j_per_year=20 * GWH_J)
    cov = {label: (n, t) for label, n, t in rg.coverage([a, b])}
    assert cov["large-load queue years"] == (1, 2)
    assert cov["price (any band)"] == (2, 2)
    assert cov["price for a 300 MW campus (2,628 GWh/y)"] == (1, 2)
    assert cov["available headroom"] == (1, 2)
