"""`wattlas plan`: one scenario through every stage it asks for, one code path with the
single-verb commands, and errors that stop before any work."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ["frontier-training.yaml", "moe-fp8.yaml"]


def _wattlas(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wattlas.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


@pytest.fixture(scope="module", params=EXAMPLES)
def run(request, tmp_path_factory) -> tuple[str, Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("plan")
    scen = str(ROOT / "examples" / request.param)
    return scen, out, _wattlas("plan", scen, "--out", str(out))


def test_plan_writes_the_four_files_and_prints_a_summary(run) -> None:
    _, out, proc = run
    assert proc.returncode == 0, proc.stderr
    for name in ("report.html", "report.md", "plan.json", "scenario.resolved.yaml"):
        assert (out / name).stat().st_size > 200, name
    assert "wattlas plan" in proc.stdout and "training time" in proc.stdout


def _lookup(plan: dict, path: str):
    node = plan
    for k in path.split("."):
        node = node[k]
    return node


def test_report_md_numbers_equal_plan_json(run) -> None:
    _, out, _ = run
    plan = json.loads((out / "plan.json").read_text())
    md = (out / "report.md").read_text()
    keyed = re.findall(r"^\| `([A-Za-z0-9_.]+)` \| ([-+0-9.e]+) \|", md, re.MULTILINE)
    assert len(keyed) >= 20
    for path, text in keyed:
        assert float(text) == pytest.approx(_lookup(plan, path), rel=5e-6), path
    # the region table: header keys, one row per region, same values as plan.json
    header = re.search(r"^\| `region` \|.*$", md, re.MULTILINE)
    if plan["site"] is not None:
        # header cells: `key` columns, each number's "≈" (people's units) column beside it
        cols = [c.strip().strip("`") for c in header.group(0).strip("|").split("|")]
        rows = md[header.end():].strip().splitlines()[1:1 + len(plan["site"]["regions"])]
        by_id = {r["region"]: r for r in plan["site"]["regions"]}
        for line in rows:
            cells = [c.strip() for c in line.strip("|").split("|")]
            reg = by_id[cells[0]]
            for col, cell in zip(cols, cells, strict=True):
                if col == "≈":
                    continue
                v = reg[col]
                if isinstance(v, bool) or v is None or isinstance(v, str):
                    assert cell == ("unknown" if v is None else str(v)), (cells[0], col)
                else:
                    assert float(cell) == pytest.approx(v, rel=5e-6), (cells[0], col)


def test_training_section_equals_the_train_command(run) -> None:
    scen, out, _ = run
    plan = json.loads((out / "plan.json").read_text())
    proc = _wattlas("train", scen, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    single = json.loads(proc.stdout)
    assert set(single) <= set(plan["training"])
    for key, value in single.items():
        if isinstance(value, float):
            assert plan["training"][key] == pytest.approx(value, rel=1e-12), key
        else:
            assert plan["training"][key] == value, key


def test_resolved_scenario_names_versions_and_catalog_hashes(run) -> None:
    _, out, _ = run
    res = yaml.safe_load((out / "scenario.resolved.yaml").read_text())
    assert res["wattlas"]["version"]
    hashes = res["wattlas"]["catalogs_sha256"]
    assert {"accelerators.csv", "models.csv", "regions.csv", "systems.csv"} <= set(hashes)
    assert all(re.fullmatch(r"[0-9a-f]{16}", h) for h in hashes.values())
    assert res["training"]["layout"]["recompute"] == "full"  # defaults filled in


def test_governance_section(run) -> None:
    _, out, _ = run
    gov = json.loads((out / "plan.json").read_text())["governance"]
    assert gov["accelerators"][0]["eccn"] == "3A090.a"  # H100: TPP 15,832 >= 4,800
    assert {c["instrument"] for c in gov["compute"]} >= {"EU AI Act Art 51(2)"}


@pytest.mark.parametrize("override, pattern", [
    ("training.tokenz=1e12", r"unknown key 'training\.tokenz'; allowed here: tokens, seq_len"),
    ("hardware.accelerator=h100-sxn", r"h100-sxn.*h100-sxm"),
    ("model=llama3-406b", r"llama3-406b"),
    ("training.tokens=-5", r"training\.tokens = -5.*greater than or equal to 1"),
    ("site.candidates=[us-va,mars]", r"mars"),
])
def test_bad_scenario_fails_before_any_work(tmp_path: Path, override: str,
                                            pattern: str) -> None:
    out = tmp_path / "out"
    proc = _wattlas("plan", str(ROOT / "examples" / "frontier-training.yaml"), "--out",
                    str(out), "--set", override)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert re.search(pattern, lines[0]), lines[0]
    assert not out.exists()  # nothing was written


def test_run_plan_without_stages_still_reports(tmp_path: Path) -> None:
    from wattlas.commands.plan import write_outputs
    from wattlas.plan import resolved_scenario, run_plan
    from wattlas.scenario import validate

    scen = validate({"name": "empty", "hardware": {"accelerator": "b200"}})
    plan = run_plan(scen)
    assert plan["training"] is None and plan["site"] is None
    assert plan["governance"]["accelerators"][0]["accelerator"] == "b200"
    write_outputs(plan, resolved_scenario(scen), str(tmp_path))
    page = (tmp_path / "report.html").read_text()
    assert "<h2>Governance</h2>" in page and "b200" in page  # the one stage it used
    assert "not asked for" not in page and "<h2>Training</h2>" not in page


SERVING = "serving={precision: fp8, tp: 8, prompt_tokens: 1024, output_tokens: 256}"


def test_serving_section_equals_the_serve_command(tmp_path: Path) -> None:
    scen = str(ROOT / "examples" / "frontier-training.yaml")
    proc = _wattlas("plan", scen, "--out", str(tmp_path), "--set", SERVING)
    assert proc.returncode == 0, proc.stderr
    plan = json.loads((tmp_path / "plan.json").read_text())
    proc = _wattlas("serve", scen, "--set", SERVING, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    single = json.loads(proc.stdout)
    assert "serving" in plan["stages"]
    for key, value in single.items():
        if isinstance(value, float):
            assert plan["serving"][key] == pytest.approx(value, rel=1e-12), key
        else:
            assert plan["serving"][key] == value, key


def test_route_section_equals_the_route_command(tmp_path: Path) -> None:
    scen = str(ROOT / "examples" / "global-serving.yaml")
    sets = ["--set", "routing.requests=3000"]
    proc = _wattlas("plan", scen, "--out", str(tmp_path), *sets)
    assert proc.returncode == 0, proc.stderr
    plan = json.loads((tmp_path / "plan.json").read_text())
    proc = _wattlas("route", scen, "--format", "json", *sets)
    assert proc.returncode == 0, proc.stderr
    single = json.loads(proc.stdout)
    assert plan["route"]["policies"] == single["policies"]
    assert plan["route"]["site_load"] == single["site_load"]
    q = plan["route"]["ttft_quantiles_s"]
    assert set(q) == {p["policy"] for p in single["policies"]}
    for p in single["policies"]:  # the quantiles behind the CDF chart agree with the p50
        assert sorted(q[p["policy"]]) == q[p["policy"]]
        assert q[p["policy"]][99] == pytest.approx(p["ttft_p50_s"], rel=0.1)
    md = (tmp_path / "report.md").read_text()
    for p in single["policies"]:
        assert f"| {p['policy']} | {p['offered']} |" in md
    html = (tmp_path / "report.html").read_text()
    assert "TTFT latency CDF per policy" in html and "Per-site load over time" in html
    assert {u["label"] for u in plan["map"]["users"]} == {"north-america", "europe", "asia"}


def test_site_section_equals_the_site_command(tmp_path: Path) -> None:
    scen = str(ROOT / "examples" / "campus-siting.yaml")
    proc = _wattlas("plan", scen, "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    plan = json.loads((tmp_path / "plan.json").read_text())
    proc = _wattlas("site", scen, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    single = json.loads(proc.stdout)
    assert plan["site"]["regions"] == single["regions"]
    assert plan["site"]["facility_power_w"] == single["facility_power_w"]
    assert plan["site"]["rack_power_w"] == single["rack_power_w"]
