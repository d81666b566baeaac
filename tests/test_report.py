"""Report layer on a hand-built plan dict (test data with the contract keys): charts, Markdown,
HTML. No catalog or planning stage is needed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from wattlas.report import charts, html, markdown, summary_rows

GIB = 2.0**30


@pytest.fixture()
def plan() -> dict:
    return {
        "scenario": "fixture", "wattlas_version": "0.0.0",
        "stages": ["training", "energy", "site", "route", "governance"], "notes": ["a note"],
        "training": {
            "model": "m", "accelerator": "h100-sxm", "gpus": 1024, "precision": "bf16",
            "mfu": 0.41, "hfu": 0.52, "step_time_s": 5.5, "tokens_per_s": 1.5e6,
            "memory_per_gpu_bytes": 60 * GIB, "hbm_bytes": 80 * GIB, "fits": True,
            "parallelism": {"tp": 8, "pp": 4, "dp": 32, "cp": 1, "ep": 1, "vpp": 1,
                            "microbatch": 1, "recompute": "selective", "zero": 1},
            "model_flop_total": 3.2e24, "training_time_s": 2.0e6, "gpu_hours": 5.7e5,
            "breakdown_s": {"compute": 4.0, "tp_comm": 0.7, "pp_comm": 0.1, "dp_comm": 0.2,
                            "bubble": 0.5, "cp_comm": 0.0},
            "memory_bytes": {"weights": 10 * GIB, "grads": 20 * GIB, "optimizer": 5 * GIB,
                             "activations": 25 * GIB},
        },
        "energy": {"it_power_w": 1.2e6, "facility_power_w": 1.4e6, "energy_j": 2.8e12,
                   "co2e_kg": 3.0e5, "energy_cost_usd": 7.0e4, "racks": 16,
                   "components_w": {"GPUs": 9e5, "hosts": 1.5e5, "network": 1.5e5,
                                    "cooling": 2e5},
                   "components_j": {"GPUs": 1.8e12, "hosts": 3e11, "network": 3e11,
                                    "cooling": 4e11}},
        "site": {"facility_power_w": 1.4e6, "it_power_w": 1.2e6, "rack_power_w": 8e4,
                 "cooling": "liquid", "regions": [
                     {"region": "is", "feasible": True, "reasons": [], "rank": 1,
                      "time_to_power_years_low": 1.0, "time_to_power_years_high": 2.0,
                      "energy_cost_usd_per_year": 5e5, "co2e_kg_per_year": 1e5,
                      "pareto": True},
                     {"region": "us-va", "feasible": False, "reasons": ["rack too dense"],
                      "rank": None, "time_to_power_years_low": 3.0,
                      "time_to_power_years_high": 5.0, "energy_cost_usd_per_year": 9e5,
                      "co2e_kg_per_year": 4e6, "pareto": False}]},
        "route": {"policies": [
            {"policy": "nearest", "offered": 1000, "completed": 990, "rejected": 10,
             "ttft_p50_s": 0.2, "ttft_p99_s": 0.9, "e2e_p99_s": 4.0,
             "slo_attainment_frac": 0.97, "energy_per_token_j": 0.4,
             "co2e_g_per_request": 0.3},
            {"policy": "carbon-aware", "offered": 1000, "completed": 1000, "rejected": 0,
             "ttft_p50_s": 0.25, "ttft_p99_s": 1.1, "e2e_p99_s": 4.5,
             "slo_attainment_frac": 0.95, "energy_per_token_j": 0.4,
             "co2e_g_per_request": 0.1}],
            "ttft_quantiles_s": {"nearest": [0.1, 0.2, 0.3, 0.9],
                                 "carbon-aware": [0.15, 0.25, 0.5, 1.1]},
            "site_load": {"nearest": [
                {"site": "is", "requests": 500, "series_t_s": [0, 3600, 7200],
                 "series_utilisation_frac": [0.1, 0.5, 0.3]},
                {"site": "us-va", "requests": 490, "series_t_s": [0, 3600, 7200],
                 "series_utilisation_frac": [0.2, 0.2, 0.4]}]}},
        "governance": {"training_compute_flop": 3.2e24, "compute": [
            {"instrument": "EU AI Act Art 51(2)", "jurisdiction": "EU", "threshold_flop": 1e25,
             "crossed": False, "ratio": 0.32, "effective": "2025"}],
            "accelerators": [{"accelerator": "h100-sxm", "tpp": 15832.0, "eccn": "3A090.a",
                              "reason": "TPP ≥ 4800", "rule": "3A090",
                              "rule_date": "2023-10-25"}]},
        "map": {"sites": [{"label": "is", "lat": 64.1, "lon": -21.9},
                          {"label": "us-va", "lat": 39.0, "lon": -77.5}],
                "users": [{"label": "eu", "lat": 50.1, "lon": 8.7}]},
    }


def _parse_svg(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert len(list(root)) > 3
    return root


def test_each_chart_is_valid_svg_with_axes_labels_and_units(plan: dict) -> None:
    tr, en = plan["training"], plan["energy"]
    svgs = {
        "s": charts.step_time_breakdown(tr["breakdown_s"]),
        "GiB": charts.memory_per_gpu(tr["memory_bytes"], tr["hbm_bytes"]),
        "MW": charts.power_by_component(en["components_w"]),
        "MWh": charts.energy_by_component(en["components_j"]),
        "years": charts.region_scatter(plan["site"]["regions"]),
        "longitude": charts.site_map(plan["map"]["sites"], plan["map"]["users"]),
        "TTFT [ms]": charts.latency_cdf(plan["route"]["ttft_quantiles_s"]),
        "time [min]": charts.site_load([0, 600, 1200], {"is": [0.1, 0.5, 0.3]}),
    }
    for unit, svg in svgs.items():
        _parse_svg(svg)
        assert unit in svg, unit
        assert "<script" not in svg


def test_memory_chart_draws_the_capacity_line(plan: dict) -> None:
    svg = charts.memory_per_gpu(plan["training"]["memory_bytes"], 80 * GIB)
    assert "HBM 80 GiB" in svg
    assert 'stroke-dasharray="5,3"' in svg


def test_region_scatter_marks_the_pareto_front(plan: dict) -> None:
    svg = charts.region_scatter(plan["site"]["regions"])
    assert "Pareto front" in svg
    assert svg.count('stroke="#C00" stroke-width="3"') == 1  # only "is" is on the front


def test_charts_without_data_say_so() -> None:
    for out in (charts.step_time_breakdown(None), charts.memory_per_gpu({}, None),
                charts.power_by_component({}), charts.region_scatter([]),
                charts.site_map([], []), charts.latency_cdf({}), charts.site_load([], {})):
        assert "<svg" not in out
        assert "no data in the plan" in out


def test_zero_parts_are_left_out_of_the_stack(plan: dict) -> None:
    svg = charts.step_time_breakdown(plan["training"]["breakdown_s"])
    assert "cp_comm" not in svg and "tp_comm" in svg


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
       st.floats(min_value=1e-6, max_value=1e9, allow_nan=False))
@example(lo=-6.103515625e-05, span=250001.0)  # 0 covers a hair below zero on a 1e5 step
def test_nice_ticks_cover_the_range(lo: float, span: float) -> None:
    hi = lo + span
    ticks = charts.nice_ticks(lo, hi)
    slack = 1e-9 * max(1.0, abs(lo), abs(hi), span)  # float noise, relative to the axis
    assert ticks[0] <= lo + slack
    assert ticks[-1] >= hi - slack
    assert 2 <= len(ticks) <= 13
    assert all(b > a for a, b in zip(ticks, ticks[1:], strict=False))


def _numbers_by_path(md: str) -> dict[str, float]:
    return {m[1]: float(m[2]) for m in
            re.finditer(r"^\| `([A-Za-z0-9_.]+)` \| ([-+0-9.e]+) \|", md, re.MULTILINE)}


def _lookup(plan: dict, path: str):
    node = plan
    for k in path.split("."):
        node = node[k]
    return node


def test_markdown_numbers_are_the_plan_numbers(plan: dict) -> None:
    md = markdown.render(plan)
    found = _numbers_by_path(md)
    assert "training.step_time_s" in found and "training.breakdown_s.compute" in found
    assert "energy.components_w.GPUs" in found
    for path, value in found.items():
        assert value == pytest.approx(_lookup(plan, path), rel=5e-6), path
    # each SI number with its "≈" column in people's units beside it
    assert ("| is | 1 | True | True | 1 | 1.0 years | 2 | 2.0 years | 500000 | $500,000/y | "
            "100000 | 100 tCO2e/y |") in md
    assert "nearest" in md and "0.97" in md
    assert "- us-va: rack too dense" in md


def test_summary_rows_show_exact_and_human_values(plan: dict) -> None:
    rows = {r["path"]: r for r in summary_rows(plan)}
    assert rows["training.training_time_s"]["human"] == "23.1 days"
    assert rows["energy.facility_power_w"]["human"] == "1.4 MW"
    assert rows["training.mfu"]["value"] == "0.41"


def test_html_is_self_contained(plan: dict) -> None:
    page = html.render(plan)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "@import" not in page and "<link" not in page
    assert page.count("<svg") == 8
    assert "Why regions are infeasible" in page


def test_reports_of_an_empty_plan_have_no_sections_for_stages_not_run() -> None:
    """A stage the scenario does not use gets no section, no empty summary and no "not asked
    for" placeholder; the header says which stages ran."""
    empty = {"scenario": "x", "wattlas_version": "0", "stages": [], "notes": []}
    page, md = html.render(empty), markdown.render(empty)
    assert "<svg" not in page and "not asked for" not in page.lower()
    assert "<h2>" not in page and "stages run: ." in page
    assert "## " not in md and "not asked for" not in md.lower()


def test_a_plan_with_training_only_shows_training_and_energy_only(plan: dict) -> None:
    for key in ("site", "route"):
        plan.pop(key, None)
    plan["governance"] = {}
    page = html.render(plan)
    assert "<h2>Training</h2>" in page and "<h2>Power and energy</h2>" in page
    for absent in ("Site ranking", "Routing", "Hardware comparison", "Governance"):
        assert f"<h2>{absent}</h2>" not in page


def test_report_tables_show_people_units_beside_si_and_missing_as_unknown(plan: dict) -> None:
    plan["site"]["regions"][0]["energy_cost_usd_per_year"] = None
    plan["route"]["policies"][0]["cost_usd_per_million_tokens"] = 0.05
    page, md = html.render(plan), markdown.render(plan)
    assert "e+06" not in page.split("<h2>Power and energy</h2>")[1].split("</table>")[0]
    assert ">unknown<" in page and "| unknown |" in md
    assert "—" not in md.split("## Site ranking")[1].split("##")[0]
    assert "`score`: Σ w·(x − min)/(max − min)" in md and "Σ w·(x − min)/(max − min)" in page
    assert "counts electricity only" in md and "counts electricity only" in page


def test_budget_and_geo_rows_parse_back_to_the_plan(plan: dict) -> None:
    plan["budget"] = {"accelerator": "h100-sxm", "precision": "bf16", "gpus": 4096,
                      "facility_power_w": 6.1e6, "time_s": 30 * 86400.0,
                      "budget_flop": 2.5e24, "optimal_params": 6.4e10,
                      "optimal_tokens": 6.5e12, "inputs_given": ["gpus=4096"],
                      "defaults_used": [], "notes": ["a budget note"]}
    plan["training"]["geo"] = {"scheme": "diloco", "sync_every_steps": 50, "slowdown_frac": 0.04,
                               "step_time_s": 5.72, "training_time_s": 2.08e6, "sites": [
                                   {"region": "is", "replicas": 16, "gpus": 512,
                                    "facility_power_w": 7e5}]}
    md = markdown.render(plan)
    found = _numbers_by_path(md)
    for path in ("budget.gpus", "budget.optimal_tokens", "training.geo.slowdown_frac"):
        assert path in found, path
    for path, value in found.items():
        assert value == pytest.approx(_lookup(plan, path), rel=5e-6), path
    page = html.render(plan)
    for text in (md, page):
        assert "6.1 MW" in text and "30.0 days" in text and "×1.040" in text
        assert "a budget note" in text and "diloco sync every 50 step(s) across is" in text
    assert "| is | 16 | 512 | 700000 | 0.7 |" in md  # the site's facility power, then in MW
    assert '<td class="num">700000</td><td>0.7</td>' in page


def test_infeasible_allocation_says_why(plan: dict) -> None:
    plan["site"]["allocation"] = {"feasible": False, "reason": "the caps hold 10 racks"}
    for text in (markdown.render(plan), html.render(plan)):
        assert "Allocation infeasible: the caps hold 10 racks" in text
