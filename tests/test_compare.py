"""`compare` in a scenario: the same training job on alternative hardware, each row the numbers
`wattlas train` prints for that hardware (one code path), checked ids before any work, and a
report table that follows the key-path convention."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from wattlas.report import charts, html, layout_text, markdown

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "examples" / "frontier-training.yaml")
#: compare.rows keys that are the train command's own keys
TRAIN_KEYS = ("accelerator", "gpus", "parallelism", "mfu", "hfu", "step_time_s",
              "training_time_s", "gpu_hours", "memory_per_gpu_bytes", "hbm_bytes", "it_power_w",
              "facility_power_w", "racks", "energy_j", "co2e_kg", "energy_cost_usd", "fits")


def _wattlas(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wattlas.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def _train_json(*args: str) -> dict:
    proc = _wattlas("train", EXAMPLE, *args, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _assert_row_is(row: dict, single: dict) -> None:
    for key in TRAIN_KEYS:
        if isinstance(single[key], float):
            assert row[key] == pytest.approx(single[key], rel=1e-12), key
        else:
            assert row[key] == single[key], key


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> tuple[dict, str, Path]:
    out = tmp_path_factory.mktemp("compare")
    proc = _wattlas("plan", EXAMPLE, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return json.loads((out / "plan.json").read_text()), proc.stdout, out


def test_the_example_compares_h100_b200_gb200(planned) -> None:
    plan, stdout, _ = planned
    rows = plan["compare"]["rows"]
    assert [(r["accelerator"], r["system"]) for r in rows] == [
        ("h100-sxm", "dgx-h100"), ("b200", "dgx-b200"), ("gb200", "gb200-nvl72")]
    assert [r["baseline"] for r in rows] == [True, False, False]
    assert all(r["gpus"] == 16384 and r["fits"] for r in rows)
    assert "compare" in plan["stages"]
    assert "vs b200 (dgx-b200)" in stdout and "vs gb200 (gb200-nvl72)" in stdout
    accs = [g["accelerator"] for g in plan["governance"]["accelerators"]]
    assert accs == ["h100-sxm", "b200", "gb200"]  # export class of every chip compared


def test_baseline_row_is_the_plans_training_energy_and_site(planned) -> None:
    plan, _, _ = planned
    base = plan["compare"]["rows"][0]
    tr, en, site = plan["training"], plan["energy"], plan["site"]
    for key in ("mfu", "training_time_s", "gpu_hours", "parallelism", "gpus"):
        assert base[key] == tr[key], key
    for key in ("it_power_w", "facility_power_w", "racks", "energy_j", "co2e_kg",
                "energy_cost_usd"):
        assert base[key] == en[key], key
    assert base["rack_power_w"] == site["rack_power_w"]
    best = min((r for r in site["regions"] if r["rank"] is not None), key=lambda r: r["rank"])
    assert base["region"] == best["region"]
    assert base["time_to_power_years_high"] == best["time_to_power_years_high"]
    assert base["train_args"] == [] and base["layout_searched"] is False


@pytest.mark.parametrize("index, args", [
    (1, ["--set", "hardware.accelerator=b200", "--set", "hardware.system=dgx-b200"]),
    (2, ["--set", "hardware.accelerator=gb200", "--set", "hardware.system=gb200-nvl72",
         "--set", "hardware.nic_bytes_per_s=50e9"]),
])
def test_each_alternative_is_what_wattlas_train_prints(planned, index: int,
                                                       args: list[str]) -> None:
    plan, _, _ = planned
    row = plan["compare"]["rows"][index]
    assert row["layout_searched"] is False  # the example's layout fits on Blackwell
    _assert_row_is(row, _train_json(*args))
    _assert_row_is(row, _train_json(*row["train_args"]))  # the row's own recipe


def test_a_layout_that_does_not_apply_is_searched_and_said(tmp_path: Path) -> None:
    # 12,288 GPUs: tp 8 × pp 16 leaves dp 96, which does not divide the 2,048-sequence batch
    proc = _wattlas("plan", EXAMPLE, "--out", str(tmp_path), "--set",
                    "compare.hardware=[{accelerator: b200, system: dgx-b200, gpus: 12288}]")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads((tmp_path / "plan.json").read_text())
    row = plan["compare"]["rows"][1]
    assert row["layout_searched"] is True and row["gpus"] == 12288
    assert "--search" in row["train_args"]
    assert any(n.startswith("compare b200 (dgx-b200): layout tp=8 pp=16") and
               "searched instead" in n for n in plan["notes"])
    _assert_row_is(row, _train_json("--set", "hardware.accelerator=b200", "--set",
                                    "hardware.system=dgx-b200", "--set", "cluster.gpus=12288",
                                    "--set", "training.layout=null", "--search"))


def test_a_changed_gpu_count_keeps_the_layout_shape() -> None:
    from wattlas import scenario as sc
    from wattlas.plan import run_plan

    scen = sc.load(EXAMPLE, ["compare.hardware=[{accelerator: b200, gpus: 8192}]"])
    row = run_plan(scen)["compare"]["rows"][1]
    assert row["layout_searched"] is False
    assert (row["parallelism"]["tp"], row["parallelism"]["pp"], row["parallelism"]["dp"]) == (
        8, 16, 64)
    assert row["train_args"][-2:] == ["--set", "training.layout.dp=null"]


def test_an_alternative_with_no_valid_layout_is_a_row_that_says_why() -> None:
    from wattlas import scenario as sc
    from wattlas.plan import run_plan

    scen = sc.load(EXAMPLE, ["compare.hardware=[{accelerator: b200, gpus: 1000}]"])
    plan = run_plan(scen)
    row = plan["compare"]["rows"][1]
    assert row["fits"] is False and "no valid layout of 1000 GPUs" in row["reason"]
    assert "training_time_s" not in row
    assert "not planned" in markdown.render(plan)
    assert any("compare b200 (dgx-b200): not planned" in n for n in plan["notes"])


def test_compare_without_training_is_a_note() -> None:
    from wattlas.plan import run_plan
    from wattlas.scenario import validate

    plan = run_plan(validate({"hardware": {"accelerator": "h100-sxm"},
                              "compare": {"hardware": [{"accelerator": "b200"}]}}))
    assert plan["compare"] is None and "compare" not in plan["stages"]
    assert any(n.startswith("compare: not run") for n in plan["notes"])


@pytest.mark.parametrize("override, pattern", [
    ("compare.hardware=[{accelerator: b20}]",
     r"^error: compare\.hardware\.0\.accelerator: unknown accelerator 'b20'; did you mean "
     r"b200, gb200"),
    ("compare.hardware=[{accelerator: b200}, {system: gb200-nvl27}]",
     r"^error: compare\.hardware\.1\.system: unknown system 'gb200-nvl27'; did you mean "
     r"gb200-nvl72"),
    ("compare.hardware=[{accelerator: gb200, system: dgx-b200}]",
     r"compare\.hardware\.0: system 'dgx-b200' holds b200, not gb200"),
    ("compare.hardware=[{accelerator: mi300x}]",
     r"compare\.hardware\.0: scale-out bandwidth per GPU of mi300x in mi300x-platform is not in "
     r"the catalog; give compare\.hardware\.0\.nic_bytes_per_s="),
    ("compare.hardware=[{}]", r"compare\.hardware\.0: give accelerator and/or system"),
    ("compare.hardware=[{accelerator: b200, gpu: 8}]",
     r"unknown key 'compare\.hardware\.0\.gpu'; allowed here: accelerator, system, "
     r"nic_bytes_per_s, gpus"),
    ("compare.layout=best", r"compare\.layout = 'best'.*'keep' or 'search'"),
])
def test_bad_compare_fails_before_any_work(tmp_path: Path, override: str, pattern: str) -> None:
    out = tmp_path / "out"
    proc = _wattlas("plan", EXAMPLE, "--out", str(out), "--set", override)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert re.search(pattern, lines[0]), lines[0]
    assert not out.exists()


def test_report_comparison_table_numbers_are_plan_json(planned) -> None:
    plan, _, out = planned
    md = (out / "report.md").read_text()
    header = re.search(r"^\| `accelerator` \| `system` \|.*$", md, re.MULTILINE)
    # header cells: `key` columns, each number's "≈" (people's units) column beside it
    cols = [c.strip().strip("`") for c in header.group(0).strip("|").split("|")]
    assert {"training_time_s", "facility_power_w", "energy_j", "co2e_kg", "racks",
            "rack_power_w", "region", "time_to_power_years_low"} <= set(cols)
    rows = plan["compare"]["rows"]
    lines = md[header.end():].strip().splitlines()[1:1 + len(rows)]
    assert len(lines) == len(rows)
    for row, line in zip(rows, lines, strict=True):
        cells = [c.strip() for c in line.strip("|").split("|")]
        for col, cell in zip(cols, cells, strict=True):
            if col == "≈":
                continue
            v = row[col]
            if col == "parallelism":
                assert cell == layout_text(v)
            elif isinstance(v, bool) or v is None or isinstance(v, str):
                assert cell == ("unknown" if v is None else str(v)), (row["accelerator"], col)
            else:
                assert float(cell) == pytest.approx(v, rel=5e-6), (row["accelerator"], col)
    assert "- gb200 on gb200-nvl72 (16,384 GPUs): " in md
    page = (out / "report.html").read_text()
    assert 'aria-label="Hardware comparison"' in page and "<h2>Hardware comparison</h2>" in page


def test_comparison_chart_has_three_axes_with_units(planned) -> None:
    plan, _, _ = planned
    svg = charts.hardware_comparison(plan["compare"]["rows"])
    root = ET.fromstring(svg)
    assert root.get("aria-label") == "Hardware comparison"
    for unit in ("training time [days]", "facility power [MW]", "energy [GWh]"):
        assert unit in svg
    assert svg.count("<rect") == 3 * 3 + 3  # a bar per hardware per panel, a legend key each
    assert "gb200 (gb200-nvl72)" in svg
    assert "<svg" not in charts.hardware_comparison([])
    assert "no data in the plan" in charts.hardware_comparison(None)


def test_a_training_report_without_compare_has_no_comparison_section() -> None:
    plan = {"scenario": "x", "wattlas_version": "0", "stages": ["training"], "notes": [],
            "training": {"model": "m", "accelerator": "h100-sxm", "gpus": 8,
                         "precision": "bf16", "fits": True, "parallelism": {"tp": 8}}}
    page = html.render(plan)
    assert "Hardware comparison" not in page and "not asked for" not in page
    assert "## Hardware comparison" not in markdown.render(plan)


def test_tutorial_shows_the_comparison_the_report_prints(planned) -> None:
    _, _, out = planned
    text = (ROOT / "docs" / "tutorial.md").read_text()
    section = text[text.index("## 6. Compare hardware"):text.index("## 7.")]
    shown = re.search(r"^```text\n(.*?)^```", section, re.MULTILINE | re.DOTALL).group(1)
    md = (out / "report.md").read_text()
    for line in shown.strip().splitlines():
        assert line in md.splitlines(), line
    args = re.search(r"^\$ wattlas train (\S+) --set '(.*)'$", section, re.MULTILINE)
    plan = json.loads((out / "plan.json").read_text())
    assert ["--set", args.group(2)] == plan["compare"]["rows"][1]["train_args"]
