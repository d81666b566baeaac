"""Prefill/decode disaggregation (perf.serving.disagg): pool rates, capacity, Little's law in
the decode pool, KV hand-off over the NIC or NVLink, the P:D search and its errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattlas.errors import InputError
from wattlas.hardware import Accelerator
from wattlas.perf.serving import disagg as sd
from wattlas.perf.serving.roofline import ServingConfig
from wattlas.workload.transformer import ModelSpec, kv_cache_bytes_per_token

# DeepSeek-V3 and Llama-3-70B shapes (HF config.json); H100 and GB200 datasheet numbers
DSV3 = ModelSpec(id="dsv3", layers=61, hidden=7168, heads=128, kv_heads=128, head_dim=128,
                 ffn=18432, vocab=129280, moe_experts=256, moe_top_k=8, moe_shared_experts=1,
                 moe_expert_ffn=2048, moe_dense_layers=3, mla_q_lora_rank=1536,
                 mla_kv_lora_rank=512, mla_qk_nope_head_dim=128, mla_qk_rope_head_dim=64,
                 mla_v_head_dim=128)
H100 = Accelerator(id="h100", bf16_flop_per_s=989.4e12, fp8_flop_per_s=1979e12,
                   hbm_bytes=80 * 2**30, hbm_bytes_per_s=3.35e12, tdp_w=700,
                   scaleup_bytes_per_s=450e9, scaleup_domain=8, scaleout_bytes_per_s=50e9)
L70 = ModelSpec(id="l70", layers=80, hidden=8192, heads=64, kv_heads=8, ffn=28672,
                vocab=128256)
NVL72 = Accelerator(id="gb200", bf16_flop_per_s=2500e12, fp8_flop_per_s=5000e12,
                    fp4_flop_per_s=10000e12, hbm_bytes=186 * 2**30, hbm_bytes_per_s=8e12,
                    tdp_w=1200, scaleup_bytes_per_s=900e9, scaleup_domain=72,
                    scaleout_bytes_per_s=50e9)


def dense(acc=H100, tp=4):
    return ServingConfig(L70, acc, tp=tp, precision="fp8")


def test_capacity_is_the_slower_pool():
    p = sd.plan_disaggregated(dense(), 2048, 256, 4, 8)
    assert p.capacity_requests_per_s == pytest.approx(min(p.prefill_requests_per_s,
                                                          p.decode_requests_per_s))
    assert p.bottleneck == ("prefill" if p.prefill_requests_per_s < p.decode_requests_per_s
                            else "decode")
    assert p.prefill_requests_per_s == pytest.approx(
        4 * p.prefill_input_tokens_per_s_per_gpu / 2048)
    assert p.gpus == 12 and p.pd_ratio == 0.5


@settings(max_examples=40, deadline=None)
@given(isl=st.integers(64, 8192), osl=st.integers(16, 2048), p=st.sampled_from([4, 8, 16]),
       d=st.sampled_from([4, 8, 16, 32]))
def test_decode_pool_obeys_littles_law(isl, osl, p, d):
    """Sequences held by the decode pool = its completion rate × time in decode
    (D·b = λ_D · OSL · TPOT) within 1 %."""
    plan = sd.plan_disaggregated(dense(), isl, osl, p, d)
    held = d * plan.decode_batch_per_gpu
    assert held == pytest.approx(plan.decode_requests_per_s * osl * plan.tpot_s, rel=0.01)
    assert 0.0 <= plan.kv_link_utilization_frac <= 1.0
    assert plan.ttft_s > plan.kv_transfer_s > 0.0


def test_kv_transfer_over_nic_and_nvlink():
    node = sd.plan_disaggregated(dense(), 4096, 256, 4, 4)
    assert node.kv_link == "nvlink"  # both pools in one 8-GPU NVLink node
    nic = sd.plan_disaggregated(dense(), 4096, 256, 8, 8)
    kv = 4096 * kv_cache_bytes_per_token(L70, "fp8")
    assert nic.kv_link == "nic"
    assert nic.kv_bytes_per_request == pytest.approx(kv)
    # TP4: each rank sends its shard over its own 50 GB/s NIC
    assert nic.kv_transfer_s == pytest.approx(kv / (4 * 50e9) + 10e-6)
    assert nic.kv_transfer_energy_j > 0.0
    rack = sd.plan_disaggregated(dense(NVL72), 4096, 256, 8, 16)
    assert rack.kv_link == "nvlink" and rack.kv_transfer_energy_j == 0.0
    assert rack.kv_transfer_s < nic.kv_transfer_s


def test_slow_link_caps_prefill():
    slow = Accelerator(**{**H100.__dict__, "id": "slow", "scaleout_bytes_per_s": 1e6})
    plan = sd.plan_disaggregated(dense(slow), 4096, 256, 8, 8)
    assert plan.kv_link_utilization_frac == pytest.approx(1.0)
    assert plan.prefill_requests_per_s == pytest.approx(8 * 1e6 / plan.kv_bytes_per_request)
    assert any("KV link" in n for n in plan.notes)


def test_tpot_slo_sets_the_decode_batch():
    free = sd.plan_disaggregated(dense(), 1024, 256, 4, 8)
    tight = sd.plan_disaggregated(dense(), 1024, 256, 4, 8, slo={"tpot_s": 0.03})
    assert tight.tpot_s <= 0.03 < free.tpot_s
    assert tight.decode_batch_per_gpu < free.decode_batch_per_gpu


def test_search_finds_the_fewest_gpus():
    slo = {"ttft_s": 2.0, "tpot_s": 0.05}
    best = sd.search_pd_ratio(dense(), 1024, 256, 20.0, slo)
    assert best.capacity_requests_per_s >= 20.0
    assert best.tpot_s <= 0.05 and best.ttft_s <= 2.0
    for p, d in ((best.prefill_gpus - 4, best.decode_gpus),
                 (best.prefill_gpus, best.decode_gpus - 4)):
        if p < 4 or d < 4:
            continue
        smaller = sd.plan_disaggregated(dense(), 1024, 256, p, d, slo=slo)
        assert smaller.capacity_requests_per_s < 20.0 or smaller.notes
    rows = sd.compare_with_aggregated(dense(), 1024, 256, 20.0, slo)
    assert [r["mode"] for r in rows] == ["aggregated", "disaggregated"]
    assert rows[1]["gpus"] == best.gpus


def test_moe_pools_with_expert_parallelism():
    c = ServingConfig(DSV3, H100, tp=1, precision="fp8", kv_precision="bf16")
    p = sd.plan_disaggregated(c, 2000, 500, 32, 72, ep=72, dp_attention=True)
    assert p.ep == 72 and p.dp_attention
    # prefill is compute-bound, decode bound by the all-to-all and the KV reads (SGLang: 7.2k
    # vs 2.8k tokens/s per GPU)
    assert p.prefill_input_tokens_per_s_per_gpu > 2 * p.output_tokens_per_s_per_gpu
    # DP attention: one GPU owns the request, so its whole cache leaves through one NIC
    assert p.kv_transfer_s == pytest.approx(p.kv_bytes_per_request / 50e9 + 10e-6)


def test_errors_name_the_flag():
    with pytest.raises(InputError, match="--prefill-gpus 6: must be a multiple of --tp 4"):
        sd.plan_disaggregated(dense(), 1024, 256, 6, 8)
    with pytest.raises(InputError, match="--decode-gpus 0"):
        sd.plan_disaggregated(dense(), 1024, 256, 4, 0)
    with pytest.raises(InputError, match="--ep 8: l70 has no experts"):
        sd.plan_disaggregated(dense(), 1024, 256, 4, 8, ep=8)
    with pytest.raises(InputError, match="--dp-attention needs --ep"):
        c = ServingConfig(DSV3, H100, tp=1, precision="fp8")
        sd.plan_disaggregated(c, 1024, 256, 8, 8, dp_attention=True)
    with pytest.raises(InputError, match="--rate 0"):
        sd.search_pd_ratio(dense(), 1024, 256, 0.0)


# CLI and scenario --------------------------------------------------------------------------

def _cli(args, code=0):
    import json

    from typer.testing import CliRunner

    from wattlas.cli import app

    r = CliRunner().invoke(app, args)
    assert r.exit_code == code, r.output
    return json.loads(r.output) if code == 0 and "--format" in args else r.output


CLI = ["serve", "--model", "llama3.1-70b", "--accelerator", "h100-sxm", "--tp", "4",
       "--precision", "fp8", "--prompt-tokens", "1024", "--output-tokens", "256"]


def test_cli_json_keys_and_same_numbers_as_the_library():
    out = _cli(CLI + ["--disaggregated", "--prefill-gpus", "8", "--decode-gpus", "16",
                      "--format", "json"])
    assert out["mode"] == "disaggregated" and out["gpus"] == 24
    for k in ("prefill_input_tokens_per_s_per_gpu", "output_tokens_per_s_per_gpu",
              "kv_transfer_s", "kv_transfer_energy_j", "capacity_requests_per_s",
              "ttft_s", "tpot_s", "energy_per_token_j"):
        assert out[k] > 0, k
    from wattlas.hardware import accelerator
    from wattlas.scenario import resolve_model

    lib = sd.plan_disaggregated(ServingConfig(resolve_model("llama3.1-70b"),
                                              accelerator("h100-sxm"), tp=4, precision="fp8"),
                                1024, 256, 8, 16)
    assert out["output_tokens_per_s_per_gpu"] == pytest.approx(lib.output_tokens_per_s_per_gpu)


def test_cli_scenario_section_and_search(tmp_path):
    f = tmp_path / "pd.yaml"
    f.write_text("model: llama3.1-70b\nhardware: {accelerator: h100-sxm}\n"
                 "serving: {precision: fp8, tp: 4, prompt_tokens: 1024, output_tokens: 256,\n"
                 "          rate_per_s: 20, slo: {ttft_s: 2.0, tpot_s: 0.05},\n"
                 "          disaggregated: {prefill_gpus: 8, decode_gpus: 8}}\n")
    out = _cli(["serve", str(f), "--search", "--format", "json"])
    assert out["prefill_gpus"] == 8 and out["utilization_frac"] > 0
    assert [r["mode"] for r in out["comparison"]] == ["aggregated", "disaggregated"]


def test_cli_errors_exit_2(monkeypatch, capsys):
    from wattlas.cli import main

    def run(args):
        monkeypatch.setattr("sys.argv", ["wattlas", *args])
        with pytest.raises(SystemExit) as exc:
            main()
        return exc.value.code, capsys.readouterr().err

    for extra, msg in ((["--ep", "8"], "give --disaggregated too"),
                       (["--disaggregated"], "--disaggregated needs --prefill-gpus"),
                       (["--disaggregated", "--prefill-gpus", "6", "--decode-gpus", "8"],
                        "--prefill-gpus 6: must be a multiple"),
                       (["--disaggregated", "--prefill-gpus", "8", "--decode-gpus", "8",
                         "--search"], "give --rate")):
        code, err = run(CLI + extra)
        assert code == 2 and msg in err and "Traceback" not in err


def test_plan_and_serve_print_the_same_disaggregated_numbers(tmp_path):
    """`wattlas plan` runs the same serving stage as `wattlas serve` for a scenario with
    serving.disaggregated, so plan.json's serving section and its energy equal serve's JSON."""
    import json
    from pathlib import Path

    scen = str(Path(__file__).resolve().parents[1] / "examples" / "deepseek-pd.yaml")
    served = _cli(["serve", scen, "--format", "json"])
    _cli(["plan", scen, "--out", str(tmp_path / "out")], code=0)
    plan = json.loads((tmp_path / "out" / "plan.json").read_text())
    assert "serving" in plan["stages"] and "energy" in plan["stages"]
    for k in ("prefill_input_tokens_per_s_per_gpu", "output_tokens_per_s_per_gpu",
              "capacity_requests_per_s", "ttft_s", "tpot_s", "energy_j", "co2e_kg"):
        assert plan["serving"][k] == pytest.approx(served[k]), k
    assert plan["energy"]["energy_j"] == pytest.approx(served["energy_j"])
    # 100 req/s against the pools' capacity; energy = power × time over the deployment
    assert served["utilization_frac"] == pytest.approx(100 / served["capacity_requests_per_s"])
    assert served["energy_j"] == pytest.approx(served["it_power_w"] * served["pue"]
                                               * served["deployment_duration_s"], rel=0.02)
