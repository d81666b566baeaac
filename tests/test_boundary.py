"""Accounting boundary (gpu | node | facility): a published footprint's own arithmetic
E = GPU-hours × P × PUE, CO2 = E × intensity is reproduced exactly from the planned GPU-hours."""

from __future__ import annotations

import csv
import io
import json
from importlib import resources

import pytest
from typer.testing import CliRunner

from wattlas.energy.plan import EnergyInputs
from wattlas.errors import InputError

#: Llama 2 7B on A100-80GB; the layout is fixed so the plan does not search
BASE = ["train", "--model", "llama2-7b", "--accelerator", "a100-sxm-80gb", "--gpus", "1024",
        "--tokens", "2e12", "--seq-len", "4096", "--global-batch", "1024", "--tp", "1",
        "--pp", "1", "--zero", "1", "--format", "json"]


def _footprint(model: str) -> dict[str, str]:
    text = resources.files("wattlas").joinpath("data/reference/training_footprints.csv")
    rows = {r["model"]: r for r in csv.DictReader(io.StringIO(text.read_text("utf-8")))}
    return rows[model]


def _train(*extra: str) -> dict:
    from wattlas.cli import app

    res = CliRunner().invoke(app, BASE + list(extra))
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_gpu_boundary_reproduces_the_llama2_model_card_arithmetic():
    """Llama 2 model card (training_footprints.csv, V-primary): 400 W per A100-80GB (TDP,
    PUE folded in), 184,320 GPU-hours, 31.22 tCO2e, i.e. 0.4234 kg/kWh. With the card's own
    boundary (GPU TDP, PUE 1, its intensity) wattlas's energy and CO2 are exactly
    planned GPU-hours × 400 W and × 423.4 g/kWh (tolerance: float round-off only)."""
    card = _footprint("Llama2-7B")
    p_w, ci = float(card["power_w_per_accel"]), float(card["ci_kg_per_kwh"]) * 1000
    out = _train("--boundary", "gpu", "--power-basis", "tdp", "--pue", "1",
                 "--grid-intensity-g-per-kwh", f"{ci:g}")
    energy_j = out["gpu_hours"] * 3600.0 * p_w
    assert out["energy_j"] == pytest.approx(energy_j, rel=1e-12)
    assert out["co2e_kg"] == pytest.approx(energy_j / 3.6e6 * ci / 1000, rel=1e-12)
    assert out["it_power_w"] == pytest.approx(1024 * p_w, rel=1e-12) and out["pue"] == 1.0
    assert "boundary=gpu" in out["inputs_given"]
    # the same arithmetic on the card's GPU-hours gives the card's published tonnes
    # (its intensity is derived to 4 digits: 0.02 % tolerance)
    card_t = float(card["accel_hours"]) * p_w / 1e3 * ci / 1e6
    assert card_t == pytest.approx(float(card["tco2e_published"]), rel=2e-4)


def test_boundaries_nest():
    """gpu ≤ node ≤ facility for one plan (same GPU-hours); node = facility / PUE."""
    gpu = _train("--boundary", "gpu", "--power-basis", "tdp")
    node = _train("--boundary", "node", "--power-basis", "tdp")
    fac = _train("--boundary", "facility", "--power-basis", "tdp")
    assert gpu["gpu_hours"] == node["gpu_hours"] == fac["gpu_hours"]
    assert gpu["energy_j"] < node["energy_j"] < fac["energy_j"]
    assert node["pue"] == 1.0 and fac["pue"] > 1.0
    assert fac["energy_j"] == pytest.approx(node["energy_j"] * fac["pue"], rel=1e-12)


def test_scenario_boundary_equals_flag(tmp_path):
    from wattlas.cli import app

    f = tmp_path / "s.yaml"
    f.write_text("energy: {boundary: gpu, power_basis: tdp, pue: 1.0}\n")
    res = CliRunner().invoke(app, [BASE[0], str(f), *BASE[1:]])
    assert res.exit_code == 0, res.output
    flag = _train("--boundary", "gpu", "--power-basis", "tdp", "--pue", "1")
    assert json.loads(res.output)["energy_j"] == flag["energy_j"]


def test_bad_boundary():
    with pytest.raises(InputError, match="energy.boundary 'rack': allowed gpu, node, facility"):
        EnergyInputs(boundary="rack")
    from wattlas.cli import app

    res = CliRunner().invoke(app, BASE + ["--boundary", "rack"])
    assert res.exit_code != 0 and "--boundary = 'rack'" in str(res.exception)
