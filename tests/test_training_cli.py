"""`wattlas train` command: JSON contract keys, exit codes, scenario + flags."""

import json

from typer.testing import CliRunner

from wattlas.cli import app

RUN = CliRunner()
BASE = ["train", "--model", "llama3-8b", "--accelerator", "h100-sxm", "--gpus", "16",
        "--tokens", "1e12", "--seq-len", "4096", "--global-batch", "128"]
KEYS = {"mfu", "hfu", "model_flop_per_s_per_gpu", "hardware_flop_per_s_per_gpu", "step_time_s",
        "tokens_per_s", "memory_per_gpu_bytes", "fits", "parallelism", "model_flop_total",
        "training_time_s", "gpu_hours", "breakdown_s", "memory_bytes", "governance"}


def test_json_contract():
    r = RUN.invoke(app, BASE + ["--tp", "2", "--pp", "1", "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert KEYS <= set(out)
    assert set(out["parallelism"]) == {"tp", "pp", "dp", "cp", "ep", "vpp", "microbatch",
                                       "recompute", "zero", "sequence_parallel", "offload",
                                       "etp", "dp_shard"}
    assert out["parallelism"]["dp"] == 8
    assert abs(sum(out["breakdown_s"].values()) - out["step_time_s"]) < 1e-9


def test_search_json_and_table():
    r = RUN.invoke(app, BASE + ["--search", "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["search_candidates"] > 0 and out["search_time_s"] >= 0 and out["pareto"]
    r = RUN.invoke(app, BASE + ["--search"])
    assert r.exit_code == 0 and "MFU" in r.output


def test_scenario_with_flag_override(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("model: llama3-8b\nhardware: {accelerator: h100-sxm}\ncluster: {gpus: 8}\n"
                 "training: {tokens: 1e11, seq_len: 4096, global_batch: 64,\n"
                 "           layout: {tp: 2, recompute: full}}\n")
    r = RUN.invoke(app, ["train", str(f), "--tp", "4", "--set", "training.layout.zero=2",
                         "--format", "json"])
    assert r.exit_code == 0, r.output
    p = json.loads(r.output)["parallelism"]
    assert p["tp"] == 4 and p["dp"] == 2 and p["recompute"] == "full" and p["zero"] == 2


def _exit_code(monkeypatch, capsys, args):
    import pytest

    from wattlas.cli import main

    monkeypatch.setattr("sys.argv", ["wattlas", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    return exc.value.code, capsys.readouterr().err


def test_exit_codes(monkeypatch, capsys):
    code, err = _exit_code(monkeypatch, capsys, BASE + ["--tp", "3"])
    assert code == 2 and "tp must divide heads" in err
    code, err = _exit_code(monkeypatch, capsys, BASE + ["--tp", "1", "--recompute", "none",
                                                        "--zero", "0", "--microbatch", "8"])
    assert code == 1 and "GiB per GPU but h100-sxm has" in err


YEAR_S = 365.25 * 86400.0


def _json(args):
    r = RUN.invoke(app, BASE + ["--tp", "2", *args, "--format", "json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_power_cap_applied_to_the_plan():
    free = _json([])
    capped = _json(["--power-cap-w", "350"])
    assert free["power_cap_slowdown_frac"] == 0.0
    k = 1.0 + capped["power_cap_slowdown_frac"]
    assert k > 1.0
    for out in (free, capped):  # one result: time = steps × step / goodput, phases sum to step
        assert abs(out["training_time_s"] - out["steps"] * out["step_time_s"]
                   / out["goodput_frac"]) < 1e-6 * out["training_time_s"]
        assert abs(sum(out["breakdown_s"].values()) - out["step_time_s"]) < 1e-9
        days = out["training_time_s"] / 86400
        assert any(f"over {days:.1f} days" in line for line in out["energy_summary"])
    assert abs(capped["step_time_s"] / free["step_time_s"] - k) < 1e-12
    for name in ("training_time_s", "gpu_hours"):
        assert abs(capped[name] / free[name] - k) < 1e-9
    for name in ("tokens_per_s", "mfu", "hfu", "model_flop_per_s_per_gpu",
                 "hardware_flop_per_s_per_gpu"):
        assert abs(free[name] / capped[name] - k) < 1e-9
    assert capped["energy_j"] <= free["energy_j"] * k
    assert any("power cap 350 W per GPU" in n for n in capped["notes"])


def test_cost_flags_split_energy_capacity_hardware():
    out = _json(["--region", "us-va", "--gpu-hour-usd", "2", "--capex-usd-per-gpu", "30000",
                 "--capex-life-years", "5", "--capacity-charge-usd-per-mw-year", "100000"])
    t = out["training_time_s"]
    capex = 30000 * out["gpus"] * t / (5 * YEAR_S)
    assert abs(out["capex_cost_usd"] - capex) < 1e-6 * capex
    assert abs(out["hardware_cost_usd"] - (2 * out["gpu_hours"] + capex)) < 1e-3
    cap = out["peak_facility_power_w"] / 1e6 * 100000 * t / YEAR_S
    assert abs(out["capacity_cost_usd"] - cap) < 1e-6 * cap
    assert abs(out["cost_usd_total"] - (out["energy_cost_usd"] + out["capacity_cost_usd"]
                                        + out["hardware_cost_usd"])) < 1e-6
    for given in ("gpu_hour_price_usd=2", "capex_usd_per_gpu=30000", "capex_life_years=5",
                  "capacity_charge_usd_per_mw_year=100000"):
        assert given in out["inputs_given"]
    cost = [line for line in out["energy_summary"] if line.startswith("cost ")][0]
    assert "capacity $" in cost and "capex share $" in cost and "total $" in cost
    assert "die-area" in out["embodied_method"] and "LCA" in out["embodied_method"]


def test_cost_scenario_fields(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("model: llama3-8b\nhardware: {accelerator: h100-sxm}\ncluster: {gpus: 16}\n"
                 "training: {tokens: 1e12, seq_len: 4096, global_batch: 128, layout: {tp: 2}}\n"
                 "energy: {gpu_hour_price_usd: 3, capex_usd_per_gpu: 20000}\n")
    r = RUN.invoke(app, ["train", str(f), "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert "gpu_hour_price_usd=3" in out["inputs_given"]
    assert any("capex life 4 years" in d for d in out["defaults_used"])
    assert out["capacity_cost_usd"] is None  # no region, no charge given
    assert abs(out["hardware_cost_usd"] - 3 * out["gpu_hours"] - out["capex_cost_usd"]) < 1e-3


def test_negative_cost_inputs_rejected(monkeypatch, capsys):
    for flag, name in (("--gpu-hour-usd", "gpu_hour_price_usd"),
                       ("--capex-usd-per-gpu", "capex_usd_per_gpu"),
                       ("--capacity-charge-usd-per-mw-year", "capacity_charge_usd_per_mw_year")):
        code, err = _exit_code(monkeypatch, capsys, BASE + [flag, "-1"])
        assert code == 2 and f"{flag} = -1 (energy.{name} in a scenario file)" in err
        assert len(err.strip().splitlines()) == 1
    code, err = _exit_code(monkeypatch, capsys, BASE + ["--capex-life-years", "0"])
    assert code == 2 and "--capex-life-years = 0 (energy.capex_life_years in a scenario" in err


def test_plan_verb_applies_the_cap_like_train():
    from wattlas import scenario
    from wattlas.plan import run_plan

    data = {"model": "llama3-8b", "hardware": {"accelerator": "h100-sxm"},
            "cluster": {"gpus": 16},
            "training": {"tokens": 1e12, "seq_len": 4096, "global_batch": 128,
                         "layout": {"tp": 2}},
            "energy": {"power_cap_w": 350}}
    out = run_plan(scenario.validate(data))
    single = _json(["--power-cap-w", "350"])
    for name in ("step_time_s", "training_time_s", "gpu_hours", "mfu",
                 "power_cap_slowdown_frac"):
        assert out["training"][name] == single[name]
    assert out["training"]["power_cap_slowdown_frac"] > 0
    assert abs(out["energy"]["duration_s"] - out["training"]["training_time_s"]) < 1e-6
