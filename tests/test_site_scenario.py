"""`wattlas site SCENARIO`, allocation, geo-distributed training and profiles from a scenario:
one code path with `wattlas plan`, checked against the grid functions called directly."""

from __future__ import annotations

import calendar
import json
import math
import subprocess
import sys

import pytest

from wattlas import catalog

pytestmark = pytest.mark.skipif(
    not {"us-va", "de-fra", "is", "no", "ca-qc", "se"} <= set(catalog.ids("regions")),
    reason="regions catalog not present")


def wattlas(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wattlas.cli", *args], capture_output=True,
                          text=True, timeout=300)


def invoke(*args: str) -> str:
    """stdout of a successful command, run in-process (exit codes: :func:`wattlas`)."""
    from typer.testing import CliRunner

    from wattlas.cli import app

    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == 0, (r.output, r.exception)
    return r.output


def as_json(*args: str) -> dict:
    return json.loads(invoke(*args, "--format", "json"))


def plan_json(scenario: str, tmp_path, *args: str) -> dict:
    invoke("plan", scenario, "--out", str(tmp_path / "out"), *args)
    return json.loads((tmp_path / "out" / "plan.json").read_text())


SERVING = """
name: serve-site
model: llama3-8b
hardware: {accelerator: h100-sxm}
serving: {precision: fp8, prompt_tokens: 512, output_tokens: 128, rate_per_s: 50}
site: {cooling: air, candidates: [us-va, de-fra, is, 'no']}
"""


def test_site_scenario_regions_equal_plan_training(tmp_path):
    """The frontier training scenario: facility and rack power from the energy stage, so the
    ranked regions are those of plan.json."""
    site = as_json("site", "examples/frontier-training.yaml")
    plan = plan_json("examples/frontier-training.yaml", tmp_path)
    assert site["regions"] == plan["site"]["regions"]
    assert site["it_power_w"] == pytest.approx(plan["energy"]["it_power_w"])
    assert site["rack_power_w"] == plan["site"]["rack_power_w"]


def test_site_scenario_regions_equal_plan_serving(tmp_path):
    f = tmp_path / "serve.yaml"
    f.write_text(SERVING)
    site = as_json("site", str(f))
    plan = plan_json(str(f), tmp_path)
    assert plan["site"]["regions"] and site["regions"] == plan["site"]["regions"]
    assert site["it_power_w"] == pytest.approx(plan["energy"]["it_power_w"])


def test_no_feasible_region_exits_1_with_reasons():
    r = wattlas("site", "--power-mw", "100", "--rack-kw", "120", "--cooling", "air",
                "--regions", "us-va,de-fra")
    assert r.returncode == 1
    err = r.stderr.strip()
    assert err.count("\n") == 0 and "no candidate region is feasible" in err
    assert "us-va: rack 120 kW exceeds the 60 kW" in err and "de-fra: rack 120 kW" in err


def test_defaults_collapse_into_one_line_per_default():
    text = invoke("site", "--power-mw", "100", "--rack-kw", "120", "--cooling", "liquid")
    lines = [ln for ln in text.splitlines() if "liquid cooling unknown" in ln]
    assert len(lines) == 1
    regions = as_json("site", "--power-mw", "100", "--rack-kw", "120")["regions"]
    unknown = [x["region"] for x in regions
               if any("liquid cooling unknown" in d for d in x["defaults_used"])]
    assert len(unknown) > 1 and all(rid in lines[0] for rid in unknown)


CAPS = {"is": 120.0, "no": 150.0, "ca-qc": 100.0, "se": 80.0}


def _direct(regs, rack_w, it_w=None, gpus=None, gpr=None, caps_mw=CAPS):
    from wattlas.grid import allocation as al
    from wattlas.grid import regions as rg

    sites, left = al.region_sites([rg.region(r) for r in regs], "liquid", rack_w,
                                  {k: v * 1e6 for k, v in caps_mw.items()})
    return sites, left, al.allocate(sites, rack_w, demand_w=it_w, gpus=gpus, gpus_per_rack=gpr)


def test_allocate_cli_respects_caps_and_equals_allocate():
    regs = ["is", "no", "ca-qc", "se", "us-va"]
    caps = [f"--site-cap-mw={k}={v:g}" for k, v in CAPS.items()]
    out = as_json("site", "--power-mw", "100", "--rack-kw", "120", "--regions", ",".join(regs),
                  "--allocate-it-mw", "300", *caps)
    a = out["allocation"]
    sites, left, direct = _direct(regs, 120e3, it_w=300e6)
    assert a["feasible"] and a["racks_total"] == direct.racks_total == math.ceil(300e3 / 120)
    assert {s["region"]: s["racks"] for s in a["sites"]} == direct.racks
    assert a["objective"] == pytest.approx(direct.objective)
    assert a["energy_cost_usd_per_year"] == pytest.approx(direct.energy_cost_usd_per_year)
    assert sum(t["value"] for t in a["objective_terms"]) == pytest.approx(a["objective"])
    for s in a["sites"]:
        assert s["facility_power_w"] <= s["cap_w"] * (1 + 1e-12)
        assert s["cap_w"] == CAPS[s["region"]] * 1e6
        assert s["facility_power_w"] == pytest.approx(direct.facility_power_w[s["region"]])
    assert [e["region"] for e in a["left_out"]] == ["us-va"] == [e["region"] for e in left]


def test_allocate_scenario_gpus(tmp_path):
    f = tmp_path / "alloc.yaml"
    f.write_text("hardware: {accelerator: gb200, system: gb200-nvl72}\n"
                 "site:\n  power_mw: 100\n  candidates: [is, 'no', se]\n"
                 "  allocate: {gpus: 20000, caps_mw: {is: 20, no: 20, se: 200}}\n")
    out = as_json("site", str(f))
    a = out["allocation"]
    from wattlas import hardware

    sysm = hardware.system("gb200-nvl72")
    gpr = sysm.accelerators_per_rack
    _, _, direct = _direct(["is", "no", "se"], out["rack_power_w"], gpus=20000, gpr=gpr,
                           caps_mw={"is": 20, "no": 20, "se": 200})
    assert {s["region"]: s["gpus"] for s in a["sites"]} == direct.gpus
    assert a["gpus"] >= 20000 and a["racks_total"] == math.ceil(20000 / gpr)
    assert all(s["facility_power_w"] <= s["cap_w"] for s in a["sites"])
    # the same split lands in plan.json
    plan = plan_json(str(f), tmp_path)
    assert plan["site"]["allocation"] == a
    from test_nomenclature import check

    check(out)
    for row in a["sites"] + a["objective_terms"]:
        check({k: v for k, v in row.items() if k not in ("weight", "value")})
    assert "### Allocation" in (tmp_path / "out" / "report.md").read_text()


def test_allocate_errors(tmp_path):
    base = ["site", "--power-mw", "100", "--rack-kw", "120", "--regions", "is,no"]
    r = wattlas(*base, "--allocate-it-mw", "300", "--site-cap-mw", "is=10",
                "--site-cap-mw", "no=10")
    assert r.returncode == 1 and "needs 2500 racks" in r.stderr
    r = wattlas(*base, "--allocate-it-mw", "3", "--site-cap-mw", "se=10")
    assert r.returncode == 2 and "site cap for se: not among the candidate regions" in r.stderr
    r = wattlas(*base, "--allocate-it-mw", "3", "--allocate-gpus", "10")
    assert r.returncode == 2 and "give exactly one of it_power_mw or gpus" in r.stderr
    r = wattlas(*base, "--site-cap-mw", "is=x")
    assert r.returncode == 2 and "expected REGION=MW" in r.stderr


GEO = "training.geo={sites: [us-va, ca-qc], wan_bytes_per_s: 12.5e9, sync_every_steps: %d}"


@pytest.mark.parametrize("every", [1, 100])
def test_geo_training_equals_geo_step(every):
    from wattlas import hardware
    from wattlas.grid import geo, geodist
    from wattlas.grid import regions as rg
    from wattlas.perf.training.layout import DP_GRAD_BYTES
    from wattlas.scenario import resolve_model
    from wattlas.workload.transformer import params_total

    out = as_json("train", "examples/frontier-training.yaml", "--set", GEO % every)
    g = out["geo"]
    dp = out["parallelism"]["dp"]
    gpr = out["gpus"] // dp
    va, qc = rg.region("us-va"), rg.region("ca-qc")
    direct = geodist.geo_step(
        params_total(resolve_model("llama3-405b")) * DP_GRAD_BYTES,
        out["step_time_s"] - out["breakdown_s"]["dp_comm"], [dp // 2, dp // 2], 12.5e9,
        float(geo.rtt_s(va.lat, va.lon, qc.lat, qc.lon)),
        intra_bytes_per_s_per_gpu=hardware.system("dgx-h100").nic_bytes_per_s_per_accelerator
        * gpr, scheme="hierarchical" if every == 1 else "diloco", sync_every_steps=every,
        power_per_gpu_w=out["facility_power_w"] / dp)
    assert g["slowdown_frac"] >= 0
    assert g["slowdown_frac"] == pytest.approx(direct.slowdown_frac, rel=1e-12)
    assert g["step_time_s"] == pytest.approx(direct.step_time_s, rel=1e-12)
    assert [s["facility_power_w"] for s in g["sites"]] == pytest.approx(
        list(direct.power_per_site_w))
    assert sum(s["facility_power_w"] for s in g["sites"]) == pytest.approx(
        out["facility_power_w"])
    assert sum(s["gpus"] for s in g["sites"]) == out["gpus"]
    assert g["training_time_s"] == pytest.approx(out["training_time_s"]
                                                 * (1 + g["slowdown_frac"]))


def test_geo_in_plan_and_report(tmp_path):
    plan = plan_json("examples/frontier-training.yaml", tmp_path, "--set", GEO % 1,
                     "--set", "compare=null")
    train = as_json("train", "examples/frontier-training.yaml", "--set", GEO % 1)
    assert plan["training"]["geo"] == train["geo"]
    from test_nomenclature import check

    check(train)
    for row in train["geo"]["sites"]:
        check(row)
    assert plan["training"]["geo"]["slowdown_frac"] > 0.5  # 810 GB over 100 Gb/s every step
    md = (tmp_path / "out" / "report.md").read_text()
    assert "### Geo-distributed training" in md and "`training.geo.slowdown_frac`" in md
    assert "geo-distributed" not in invoke("train", "examples/frontier-training.yaml")
    assert "geo-distributed" in invoke("train", "examples/frontier-training.yaml",
                                       "--set", GEO % 1)


@pytest.mark.parametrize(("value", "message"), [
    ("{sites: [us-va], wan_bytes_per_s: 1e9}", "training.geo.sites"),
    ("{sites: [us-va, isx], wan_bytes_per_s: 1e9}", "training.geo.sites: unknown region 'isx'"),
    ("{sites: [us-va, is], wan_bytes_per_s: 0}", "training.geo.wan_bytes_per_s"),
    ("{sites: [us-va, is], wan_bytes_per_s: 1e9, scheme: hierarchical, sync_every_steps: 4}",
     "needs scheme: diloco"),
    ("{sites: [us-va, is], wan: 1e9}", "unknown key 'training.geo.wan'"),
])
def test_geo_errors_one_line(value, message):
    r = wattlas("train", "examples/frontier-training.yaml", "--set", f"training.geo={value}")
    assert r.returncode == 2 and message in r.stderr and r.stderr.strip().count("\n") == 0


def test_scenario_profiles_relative_and_day_weighted(tmp_path):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "va.csv").write_text(
        "month,carbon_intensity_g_per_kwh,price_usd_per_mwh\n"
        + "".join(f"{m},{100 * m},50\n" for m in range(1, 13)))
    f = tmp_path / "s.yaml"
    f.write_text("site:\n  power_mw: 10\n  rack_kw: 40\n  cooling: air\n"
                 "  candidates: [us-va, de-fra]\n  profiles: {us-va: profiles/va.csv}\n")
    days = [calendar.monthrange(2023, m)[1] for m in range(1, 13)]
    mean = sum(100 * m * d for m, d in zip(range(1, 13), days, strict=True)) / sum(days)
    out = as_json("site", str(f))
    rows = {r["region"]: r for r in out["regions"]}
    assert rows["us-va"]["carbon_intensity_g_per_kwh"] == pytest.approx(mean)
    assert rows["us-va"]["co2e_kg_per_year"] == pytest.approx(10e6 * 8760 / 1e3 * mean / 1e3)
    assert rows["de-fra"]["carbon_intensity_g_per_kwh"] == catalog.get("regions", "de-fra")[
        "carbon_intensity_g_per_kwh"]
    plan = plan_json(str(f), tmp_path)
    assert plan["site"]["regions"] == out["regions"]
    f.write_text(f.read_text().replace("us-va: profiles", "se: profiles"))
    r = wattlas("site", str(f))
    assert r.returncode == 2 and "site.profiles.se: 'se' is not among the candidate" in r.stderr


def test_energy_stage_uses_the_site_region_profile(tmp_path):
    """A profile of the plan's own region sets the energy stage's intensity and price (its
    flat-load means); explicit energy inputs still win."""
    (tmp_path / "va.csv").write_text(
        "month,carbon_intensity_g_per_kwh,price_usd_per_mwh\n"
        + "".join(f"{m},{100 * m},{10 * m}\n" for m in range(1, 13)))
    days = [calendar.monthrange(2023, m)[1] for m in range(1, 13)]
    ci = sum(100 * m * d for m, d in zip(range(1, 13), days, strict=True)) / sum(days)
    f = tmp_path / "s.yaml"
    f.write_text("model: llama3-8b\nhardware: {accelerator: h100-sxm, system: dgx-h100}\n"
                 "cluster: {gpus: 64}\n"
                 "training: {tokens: 1e11, seq_len: 4096, global_batch: 256,\n"
                 "           layout: {tp: 1, pp: 1, zero: 1, recompute: none}}\n"
                 "site: {region: us-va, candidates: [us-va, de-fra], profiles: {us-va: va.csv}}\n")
    out = as_json("train", str(f))
    assert out["grid_intensity_g_per_kwh"] == pytest.approx(ci)
    assert out["price_usd_per_mwh"] == pytest.approx(ci / 10)
    assert out["co2e_kg"] == pytest.approx(out["energy_j"] / 3.6e6 * ci / 1e3, rel=1e-9)
    assert any("mean of the profile" in n for n in out["energy_notes"])
    given = as_json("train", str(f), "--grid-intensity-g-per-kwh", "50")
    assert given["grid_intensity_g_per_kwh"] == 50.0
    plan = plan_json(str(f), tmp_path)
    assert plan["energy"]["grid_intensity_g_per_kwh"] == pytest.approx(ci)
