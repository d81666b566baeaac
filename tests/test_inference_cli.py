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
    """One power model (wattlas.energy): node = GPU + DGX H100 host share (10.2 kW − 8 × 700 W)
    / 8 = 575 W per GPU at HOST_LOAD_FRAC; facility = (node + NETWORK_W_PER_GPU) × PUE; both
    as ratios of the replica's GPU power applied to the GPU J/token."""
    from wattlas import energy

    out = _json(BASE + ["--system", "dgx-h100", "--batch", "32", "--set", "energy.pue=1.25"])
    gpu_w = out["mean_power_w"]
    host_w = 4 * 575 * energy.HOST_LOAD_FRAC
    net_w = 4 * energy.NETWORK_W_PER_GPU
    e = out["energy_per_token_j"]
    assert out["energy_per_token_node_j"] == pytest.approx(e * (gpu_w + host_w) / gpu_w)
    assert out["energy_per_token_facility_j"] == pytest.approx(
        e * (gpu_w + host_w + net_w) * 1.25 / gpu_w)
    assert e < out["energy_per_token_node_j"] < out["energy_per_token_facility_j"]


def test_deployment_energy_with_region_and_flags():
    out = _json(BASE + ["--rate", "20", "--region", "us-va", "--hours", "24"])
    for k in ("it_power_w", "facility_power_w", "energy_j", "co2e_kg", "pue",
              "grid_intensity_g_per_kwh", "deployment_energy_per_token_j", "queue_wait_s",
              "utilization_frac", "ttft_p99_s"):
        assert k in out, k
    assert out["co2e_kg"] > 0 and out["gpus"] == out["replicas"] * out["tp"]
    assert out["deployment_duration_s"] == pytest.approx(24 * 3600)
    given = _json(BASE + ["--batch", "16", "--pue", "1.4", "--grid-intensity-g-per-kwh", "100",
                          "--price-usd-per-mwh", "50"])
    assert given["pue"] == pytest.approx(1.4) and given["energy_cost_usd"] > 0
    assert given["co2e_kg"] == pytest.approx(given["energy_j"] / 3.6e6 * 100 / 1e3)
    assert given["gpus"] == 4  # one replica without --rate


def test_agent_sparsity_and_speculative_flags():
    out = _json(BASE + ["--batch", "8", "--agent-calls", "3", "--tool-time-s", "2",
                        "--tool-result-tokens", "100"])
    assert out["agent_calls"] == 3 and out["session_tool_time_s"] == pytest.approx(4.0)
    assert out["session_output_tokens"] == 3 * 256
    assert out["session_latency_s"] > out["session_tool_time_s"] + 3 * out["tpot_s"] * 256
    dense = _json(BASE + ["--batch", "8"])
    sparse = _json(BASE + ["--batch", "8", "--sparsity-2-4"])
    assert sparse["weights_bytes"] < dense["weights_bytes"]
    spec = _json(["serve", "--model", "llama3.1-70b", "--accelerator", "h100-sxm", "--tp", "4",
                  "--prompt-tokens", "1024", "--output-tokens", "256", "--batch", "4",
                  "--draft", "llama3.1-8b", "--spec-tokens", "4", "--spec-acceptance", "0.8"])
    assert any("speculative" in n for n in spec["notes"])


@pytest.mark.parametrize("batch, faster", [(4, True), (256, False)])
def test_speculative_decoding_helps_only_while_decode_is_memory_bound(batch, faster):
    """At batch 4 a verify step of k+1 = 5 tokens costs about one weight read, and
    (1 − 0.8⁵)/(1 − 0.8) = 3.36 tokens come out of it plus 4 draft steps: TPOT falls. At batch
    256 the verify step is compute-bound (5 × 256 tokens) and the extra FLOPs cost more than
    the accepted tokens save: TPOT rises (Leviathan et al. 2023: speculation trades extra
    arithmetic for fewer serial target steps, which pays only while compute sits idle)."""
    base = ["serve", "--model", "llama3.1-70b", "--accelerator", "h100-sxm", "--tp", "4",
            "--prompt-tokens", "1024", "--output-tokens", "256", "--batch", str(batch)]
    plain = _json(base)
    spec = _json(base + ["--draft", "llama3.1-8b", "--spec-tokens", "4",
                         "--spec-acceptance", "0.8"])
    assert (spec["tpot_s"] < plain["tpot_s"]) is faster
    assert (spec["energy_per_token_j"] < plain["energy_per_token_j"]) is faster
    if faster:
        assert plain["bound"] == "memory" and spec["tpot_s"] < 0.75 * plain["tpot_s"]


def test_agent_and_speculative_flag_errors(monkeypatch, capsys):
    code, err = _exit(monkeypatch, capsys, BASE + ["--tool-time-s", "2"])
    assert code == 2 and "--agent-calls" in err
    code, err = _exit(monkeypatch, capsys, BASE + ["--spec-tokens", "3"])
    assert code == 2 and "--draft" in err


def test_catalog_engines_lists_profiles():
    r = RUN.invoke(app, ["catalog", "engines", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert {"trtllm-2025", "vllm-0.11"} <= {x["id"] for x in rows}
    assert all(x["source"] for x in rows)


def test_user_engine_row_from_scenario_catalog(tmp_path):
    from wattlas import catalog

    (tmp_path / "engines-mine.csv").write_text(
        "id,name,version,date,eff_mem_frac,eff_compute_frac,fp8_compute_eff_frac,"
        "step_overhead_s,fp8_mem_eff_frac,mem_usable_frac,max_batch,sparse_kernel_eff_frac,"
        "source,source_detail,as_of,note\n"
        "my-engine,Mine,1,2026-01-01,0.5,0.5,0.4,0.005,,0.9,512,0.6,own,,2026-11-22,\n")
    f = tmp_path / "s.yaml"
    f.write_text("model: llama3.1-8b\nhardware: {accelerator: h100-sxm}\n"
                 "catalogs: [engines-mine.csv]\n"
                 "serving: {precision: fp8, prompt_tokens: 512, output_tokens: 128, batch: 8,"
                 " engine: my-engine}\n")
    try:
        mine = _json(["serve", str(f)])
        ref = _json(["serve", str(f), "--engine", "trtllm-2025"])
    finally:
        catalog.clear_user_rows()
    assert mine["engine"] == "my-engine" and mine["tpot_s"] > ref["tpot_s"]


def test_load_curve_flag_prints_the_saturation_curve(monkeypatch, capsys):
    out = _json(["serve", "--model", "llama3.1-8b", "--accelerator", "h100-sxm",
                 "--prompt-tokens", "467", "--output-tokens", "256", "--load-curve"])
    rows = out["load_curve"]
    assert [r["utilization_frac"] for r in rows] == sorted(r["utilization_frac"] for r in rows)
    assert rows[-1]["ttft_s"] > rows[0]["ttft_s"] and rows[-1]["tpot_s"] > rows[0]["tpot_s"]
    assert all(r["capacity_requests_per_s"] == pytest.approx(out["capacity_requests_per_s"])
               for r in rows)
    code, err = _exit(monkeypatch, capsys, ["serve", "--model", "llama3.1-8b", "--prompt-tokens",
                                            "467", "--output-tokens", "256", "--load-curve",
                                            "--search"])
    assert code == 2 and "--load-curve tabulates one given configuration" in err
