"""`wattlas serve` and `wattlas validate inference`: JSON contract keys, exit codes, scenario."""

import json

import pytest
from typer.testing import CliRunner

from wattlas.cli import app

RUN = CliRunner()
BASE = ["serve", "--model", "llama3.1-70b", "--accelerator", "h100-sxm", "--tp", "4",
        "--precision", "fp8", "--prompt-tokens", "1024", "--output-tokens", "256"]
KEYS = {"ttft_s", "tpot_s", "output_tokens_per_s", "batch", "kv_cache_bytes",
        "energy_per_token_j", "gpus", "e2e_s", "output_tokens_per_s_per_gpu", "replicas",
        "energy_per_request_j", "max_batch", "weights_bytes", "bound"}


def _json(args):
    r = RUN.invoke(app, args + ["--format", "json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_json_contract_max_throughput():
    out = _json(BASE)
    assert KEYS <= set(out)
    assert out["mode"] == "max-throughput" and out["batch"] == out["max_batch"]
    assert out["gpus"] == 4 and out["bound"] in ("memory", "compute")


def test_rate_sizes_replicas_under_slo():
    out = _json(BASE + ["--rate", "100", "--tpot-s", "0.05", "--ttft-s", "1"])
    assert out["replicas"] * out["output_tokens_per_s"] >= 100 * 256 * 0.999
    assert out["tpot_s"] <= 0.05 and out["gpus"] == 4 * out["replicas"]


def test_scenario_with_set_override_and_flag_precedence(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("model: llama3.1-8b\nhardware: {accelerator: h100-sxm}\n"
                 "serving: {precision: fp8, prompt_tokens: 512, output_tokens: 128, batch: 8}\n")
    out = _json(["serve", str(f), "--set", "serving.batch=16"])
    assert out["batch"] == 16 and out["model"] == "llama3.1-8b"
    out = _json(["serve", str(f), "--batch", "4"])
    assert out["batch"] == 4


def test_search_meets_slo_and_reports_timing():
    out = _json(["serve", "--model", "llama3.1-70b", "--prompt-tokens", "1024",
                 "--output-tokens", "256", "--rate", "20", "--tpot-s", "0.03", "--search"])
    assert out["tpot_s"] <= 0.03
    assert out["search_candidates"] > 1000 and out["search_time_s"] < 2.0
    assert out["ranked"][0]["energy_per_token_j"] <= out["ranked"][-1]["energy_per_token_j"]


def test_csv_and_table():
    r = RUN.invoke(app, BASE + ["--format", "csv"])
    assert r.exit_code == 0 and r.output.startswith("model,")
    r = RUN.invoke(app, BASE)
    assert r.exit_code == 0 and "TPOT" in r.output


def _exit(monkeypatch, capsys, args):
    from wattlas.cli import main

    monkeypatch.setattr("sys.argv", ["wattlas", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    return exc.value.code, capsys.readouterr().err


def test_exit_codes(monkeypatch, capsys):
    code, err = _exit(monkeypatch, capsys, ["serve", "--model", "llama3.1-70b", "--accelerator",
                                            "h100-sxm", "--prompt-tokens", "128",
                                            "--output-tokens", "128"])
    assert code == 1 and "raise --tp (now 1)" in err
    code, err = _exit(monkeypatch, capsys, BASE + ["--tpot-s", "0.001", "--rate", "1"])
    assert code == 1 and "below the decode floor" in err
    code, err = _exit(monkeypatch, capsys, BASE + ["--engine", "nope"])
    assert code == 2 and "unknown engine 'nope'" in err
    code, err = _exit(monkeypatch, capsys, ["serve", "--model", "llama3.1-8b", "--accelerator",
                                            "h100-sxm", "--precision", "fp4",
                                            "--prompt-tokens", "8", "--output-tokens", "8"])
    assert code == 2 and "fp4 tensor cores" in err
    code, err = _exit(monkeypatch, capsys, ["serve", "--model", "llama3.1-8b", "--accelerator",
                                            "h100-sxm", "--output-tokens", "8"])
    assert code == 2 and "--prompt-tokens" in err


def test_validate_inference_suite():
    r = RUN.invoke(app, ["validate", "inference", "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert {c["source"] for c in out["cases"]} >= {"trtllm_max_throughput_v0.17",
                                                   "mlperf_llama2_70b_v4.1",
                                                   "inference_energy"}


def test_node_and_facility_boundaries():
    """DGX H100 host share (10.2 kW − 8 × 700 W)/8 = 575 W per GPU at full load scales with
    GPU load: node J/token = GPU J/token × (1 + 575/700); facility = node × PUE."""
    out = _json(BASE + ["--batch", "32", "--set", "energy.pue=1.25"])
    assert out["energy_per_token_node_j"] == pytest.approx(
        out["energy_per_token_j"] * (1 + 575 / 700))
    assert out["energy_per_token_facility_j"] == pytest.approx(
        out["energy_per_token_node_j"] * 1.25)
