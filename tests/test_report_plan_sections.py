"""The optional plan stages reach both reports: the budget sizing, geo-distributed training,
the fleet allocation and multi-call session latency, each number by its plan.json value."""

from __future__ import annotations

from pathlib import Path

import pytest

from wattlas import scenario as sc
from wattlas.plan import run_plan
from wattlas.report import exact, html, markdown

ROOT = Path(__file__).resolve().parents[1]
GEO = "training.geo={sites: [us-va, ca-qc], wan_bytes_per_s: 12.5e9, sync_every_steps: 1}"
BUDGET = ("hardware: {accelerator: h100-sxm, system: dgx-h100}\nenergy: {pue: 1.15}\n"
          "budget: {facility_power_mw: 50, days: 90}\n")
ALLOCATE = ("hardware: {accelerator: gb200, system: gb200-nvl72}\n"
            "site:\n  power_mw: 100\n  candidates: [is, 'no', se]\n"
            "  allocate: {gpus: 20000, caps_mw: {is: 20, no: 20, se: 200}}\n")


def _plan(tmp_path: Path, text: str | None = None, example: str | None = None,
          sets: tuple[str, ...] = ()) -> dict:
    if text is not None:
        path = tmp_path / "scenario.yaml"
        path.write_text(text)
    else:
        path = ROOT / "examples" / str(example)
    return run_plan(sc.load(path, list(sets)))


def _numbers(node: dict, skip: tuple[str, ...] = ()) -> dict[str, float]:
    """Numeric leaves of a flat dict and of its lists of rows, by key."""
    out = {}
    for k, v in node.items():
        if k in skip:
            continue
        if isinstance(v, int | float) and not isinstance(v, bool):
            out[k] = v
        elif isinstance(v, list):
            for i, row in enumerate(v):
                if isinstance(row, dict):
                    out.update({f"{k}[{i}].{kk}": vv for kk, vv in _numbers(row).items()})
    return out


def _assert_all_shown(values: dict[str, float], *reports: str) -> None:
    for text in reports:
        missing = [k for k, v in values.items() if exact(v) not in text]
        assert missing == [], missing


def test_budget_sizing_in_both_reports(tmp_path: Path) -> None:
    plan = _plan(tmp_path, BUDGET)
    b = plan["budget"]
    page, md = html.render(plan), markdown.render(plan)
    assert "<h2>Compute budget</h2>" in page and "## Compute budget" in md
    _assert_all_shown(_numbers(b), page, md)
    assert len(_numbers(b)) >= 15
    for human in ("50.0 MW", "90.0 days", f"{b['gpus']:,}",
                  f"{b['optimal_params'] / 1e9:,.1f} B", f"{b['optimal_tokens'] / 1e12:,.2f} T"):
        assert human in page and human in md, human
    assert "budget.optimal_tokens" in page and "h100-sxm, bf16" in page


def test_flop_budget_shows_only_the_model_sizing(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "budget: {flop: 1e24}\n")
    page = html.render(plan)
    assert "budget.optimal_params" in page and "1e+24" in page
    assert "budget.gpus" not in page and "budget.facility_power_w" not in page
    assert "FLOP budget given" in page


def test_geo_training_in_both_reports(tmp_path: Path) -> None:
    plan = _plan(tmp_path, example="frontier-training.yaml", sets=(GEO, "compare=null"))
    geo = plan["training"]["geo"]
    page, md = html.render(plan), markdown.render(plan)
    assert "<h3>Geo-distributed training</h3>" in page and "### Geo-distributed" in md
    _assert_all_shown(_numbers(geo), page, md)
    days = f"{geo['training_time_s'] / 86400:,.1f} days"
    mw = f"{geo['sites'][0]['facility_power_w'] / 1e6:,.1f}"
    for human in (days, f"×{1 + geo['slowdown_frac']:.3f}", "100 Gb/s", "facility [MW]", mw):
        assert human in page and human in md, human


def test_allocation_in_both_reports(tmp_path: Path) -> None:
    plan = _plan(tmp_path, ALLOCATE)
    alloc = plan["site"]["allocation"]
    assert alloc["feasible"]
    page, md = html.render(plan), markdown.render(plan)
    assert "<h3>Allocation</h3>" in page and "### Allocation" in md
    _assert_all_shown(_numbers(alloc), page, md)
    used = [s for s in alloc["sites"] if s["racks"]]
    for human in (f"{alloc['facility_power_w'] / 1e6:,.1f} MW", "cap [MW]",
                  f"{used[0]['cap_w'] / 1e6:,.1f}", "Objective terms"):
        assert human in page and human in md, human


def test_multi_call_session_latency_in_the_routing_table(tmp_path: Path) -> None:
    plan = _plan(tmp_path, example="global-serving.yaml",
                 sets=("routing.session={calls: 3, tool_s: 2}", "routing.requests=600"))
    page, md = html.render(plan), markdown.render(plan)
    for col in ("session_latency_p50_s", "session_latency_p95_s", "session_latency_p99_s"):
        assert f"<th>{col}</th>" in page and f"`{col}`" in md
        _assert_all_shown({p["policy"]: p[col] for p in plan["route"]["policies"]}, page, md)
    assert markdown.ONE_CALL_SESSIONS not in md


def test_one_call_sessions_say_so_instead_of_repeating_e2e(tmp_path: Path) -> None:
    plan = _plan(tmp_path, example="global-serving.yaml", sets=("routing.requests=600",))
    page, md = html.render(plan), markdown.render(plan)
    assert "session_latency_p50_s" not in page and "session_latency_p50_s" not in md
    assert markdown.ONE_CALL_SESSIONS in md and markdown.ONE_CALL_SESSIONS in page


@pytest.mark.parametrize("example", ["frontier-training.yaml", "campus-siting.yaml"])
def test_sections_left_out_where_the_plan_has_none(example: str) -> None:
    plan = run_plan(sc.load(ROOT / "examples" / example))
    page, md = html.render(plan), markdown.render(plan)
    for title in ("Compute budget", "Geo-distributed training", "Allocation"):
        assert title not in page and title not in md


def test_budget_only_plan_has_headline_numbers(tmp_path: Path) -> None:
    from wattlas.report import summary_rows

    plan = _plan(tmp_path, BUDGET)
    rows = {r["path"]: r for r in summary_rows(plan)}
    assert {"budget.gpus", "budget.budget_flop", "budget.optimal_params"} <= set(rows)
    assert rows["budget.gpus"]["human"] == f"{plan['budget']['gpus']:,}"
