"""Structured pruning and distillation (workload.compression) through the serving model: the
served shape changes, and weights, KV cache and FLOPs follow from the same accounting."""

import json
import math

import pytest
from typer.testing import CliRunner

from wattlas import catalog
from wattlas.cli import app
from wattlas.errors import InputError
from wattlas.hardware import accelerator
from wattlas.perf.serving import roofline as inf
from wattlas.perf.serving.plan import plan_serving
from wattlas.workload import transformer as tf
from wattlas.workload.compression import Prune, prune_model
from wattlas.workload.transformer import ModelSpec

RUN = CliRunner()
H100 = accelerator("h100-sxm")
SHAPE = ["--accelerator", "h100-sxm", "--tp", "4", "--precision", "fp8", "--prompt-tokens",
         "1024", "--output-tokens", "256"]


def _spec(model_id):
    return ModelSpec.from_mapping(catalog.get("models", model_id), id=model_id)


def _cfg(spec, **kw):
    kw.setdefault("tp", 4)
    kw.setdefault("precision", "fp8")
    return inf.ServingConfig(spec, H100, **kw)


def _json(args):
    r = RUN.invoke(app, args + ["--format", "json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def _exit(monkeypatch, capsys, args):
    from wattlas.cli import main

    monkeypatch.setattr("sys.argv", ["wattlas", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    return exc.value.code, capsys.readouterr().err


def test_half_ffn_removes_the_ffn_share_of_weights_and_raises_batch_and_throughput():
    """Llama-3.1-70B ffn 28672 → 14336 (a multiple of 128, no rounding): the weights lose
    exactly half the MLP parameters at 1 B each (fp8), so the KV cache gets the room."""
    spec = _spec("llama3.1-70b")
    pruned = prune_model(spec, Prune(ffn_frac=0.5), tp=4)
    assert pruned.ffn == 14336 and pruned.layers == spec.layers
    dense, small = _cfg(spec), _cfg(pruned)
    mlp = tf.param_parts(spec)["mlp"]
    assert inf.weights_bytes(dense) - inf.weights_bytes(small) == pytest.approx(0.5 * mlp * 1.0,
                                                                                rel=1e-12)
    assert inf.kv_bytes_per_token(small) == inf.kv_bytes_per_token(dense)
    assert inf.max_batch(small, 1280) > inf.max_batch(dense, 1280)
    p_dense = plan_serving(dense, 1024, 256)
    p_small = plan_serving(small, 1024, 256)
    assert p_small.output_tokens_per_s > p_dense.output_tokens_per_s
    assert p_small.energy_per_token_j < p_dense.energy_per_token_j
    # decode FLOPs of the linears fall by the MLP share too
    f_d = inf.decode_parts(dense, 8, 1024)["flop"]
    f_s = inf.decode_parts(small, 8, 1024)["flop"]
    assert float(f_d - f_s) == pytest.approx(2 * 0.5 * mlp * 8 / 4, rel=1e-9)


@pytest.mark.parametrize("frac", [0.25, 0.3, 0.5, 0.8, 1.0])
def test_pruning_layers_scales_kv_bytes_per_token_linearly(frac):
    spec = _spec("llama3.1-70b")
    pruned = prune_model(spec, Prune(layers_frac=frac), tp=4)
    assert pruned.layers == math.floor(80 * frac + 0.5)
    ratio = inf.kv_bytes_per_token(_cfg(pruned)) / inf.kv_bytes_per_token(_cfg(spec))
    assert ratio == pytest.approx(pruned.layers / 80, rel=1e-12)


@pytest.mark.parametrize("tp", [1, 2, 4, 8])
@pytest.mark.parametrize("frac", [0.1, 0.3, 0.5, 0.66, 0.9])
def test_head_pruning_keeps_gqa_groups_and_tp_valid(tp, frac):
    spec = _spec("llama3.1-70b")  # 64 heads in 8 KV groups of 8
    pruned = prune_model(spec, Prune(heads_frac=frac), tp=tp)
    assert pruned.heads // pruned.n_kv_heads == 8 and pruned.heads % pruned.n_kv_heads == 0
    assert pruned.heads % tp == 0 and pruned.d_head == spec.d_head == 128
    assert abs(pruned.n_kv_heads - 8 * frac) <= 0.5 + 1e-9  # the closest group count
    _cfg(pruned, tp=tp)  # a servable shape (ServingConfig checks TP divides the heads)
    kv = tf.kv_cache_bytes_per_token(pruned) / tf.kv_cache_bytes_per_token(spec)
    assert kv == pytest.approx(pruned.n_kv_heads / 8)


def test_mqa_prunes_query_heads_and_ffn_rounds_to_tile_and_tp():
    mqa = ModelSpec(id="mqa", layers=4, hidden=4096, heads=32, kv_heads=1, ffn=11008,
                    vocab=32000)
    p = prune_model(mqa, Prune(heads_frac=0.4, ffn_frac=0.3), tp=4)
    assert p.n_kv_heads == 1 and p.heads == 12 and p.heads % 4 == 0 and p.d_head == 128
    assert p.ffn % 128 == 0 and abs(p.ffn - 11008 * 0.3) <= 64
    p3 = prune_model(mqa.with_(heads=48, hidden=6144), Prune(ffn_frac=0.3), tp=3)
    assert p3.ffn % math.lcm(128, 3) == 0 and abs(p3.ffn - 11008 * 0.3) <= 192


def test_moe_pruning_scales_expert_width_and_dense_layers():
    ds = _spec("deepseek-v3")
    p = prune_model(ds, Prune(layers_frac=0.5, ffn_frac=0.5), tp=8)
    assert p.layers == 31 and p.moe_dense_layers == 2
    assert p.moe_expert_ffn == ds.moe_expert_ffn // 2 and p.moe_experts == ds.moe_experts
    assert tf.params_total(p) < 0.3 * tf.params_total(ds)


def test_identity_prune_is_the_model_itself():
    spec = _spec("llama3-8b")
    assert prune_model(spec, Prune(), tp=2) is spec


@pytest.mark.parametrize("bad", [0, -0.1, 1.5, True, "half"])
def test_prune_fractions_are_validated(bad):
    with pytest.raises(InputError, match=r"serving\.prune\.ffn_frac = .*: must be in \(0, 1\]"):
        Prune(ffn_frac=bad)


def test_sparsity_and_pruning_compose():
    """2:4 sparsity halves the linears of the pruned shape: one transform after the other."""
    pruned = prune_model(_spec("llama3.1-70b"), Prune(layers_frac=0.75, ffn_frac=0.5), tp=4)
    both, only = _cfg(pruned, sparsity_2_4=True), _cfg(pruned)
    lin = sum(v for k, v in tf.param_parts(pruned).items()
              if k not in ("embedding", "position", "norms"))
    assert inf.weights_bytes(only) - inf.weights_bytes(both) == pytest.approx(0.5 * lin * 1.0,
                                                                              rel=1e-12)
    sparse = _cfg(_spec("llama3.1-70b"), sparsity_2_4=True)
    assert inf.weights_bytes(both) < min(inf.weights_bytes(only), inf.weights_bytes(sparse))
    out = _json(["serve", "--model", "llama3.1-70b", *SHAPE, "--batch", "16", "--sparsity-2-4",
                 "--prune-layers-frac", "0.75", "--prune-ffn-frac", "0.5"])
    assert out["weights_bytes"] == pytest.approx(inf.weights_bytes(both), rel=1e-12)
    assert out["compression"]["student"]["layers_kept_frac"] == pytest.approx(60 / 80)


def test_distill_to_is_serving_the_student_plus_the_teacher_comparison():
    direct = _json(["serve", "--model", "llama3-8b", *SHAPE])
    teacher = _json(["serve", "--model", "llama3-70b", *SHAPE])
    out = _json(["serve", "--model", "llama3-70b", "--distill-to", "llama3-8b", *SHAPE])
    for k, v in direct.items():
        if k != "notes":
            assert out[k] == v, k
    comp = out["compression"]
    assert comp["methods"] == ["distillation"] and comp["quality_modelled"] is False
    assert comp["teacher"]["model"] == "llama3-70b" and comp["student"]["model"] == "llama3-8b"
    assert comp["teacher"]["params_total"] == tf.params_total(_spec("llama3-70b"))
    assert comp["student"]["params_total"] == tf.params_total(_spec("llama3-8b"))
    assert comp["teacher"]["energy_per_token_j"] == pytest.approx(teacher["energy_per_token_j"])
    ratio = {x["metric"]: x["ratio"] for x in comp["vs_teacher"]}
    assert ratio["energy_per_token_j"] == pytest.approx(
        direct["energy_per_token_j"] / teacher["energy_per_token_j"])
    assert ratio["energy_per_token_j"] < 1 < ratio["output_tokens_per_s_per_gpu"]
    assert any("not modelled" in n for n in out["notes"])
    units = ("_s", "_j", "_bytes", "_per_s", "_per_gpu", "_frac")
    counts = {"tp", "gpus", "batch", "max_batch", "params_total", "params_active"}
    for side in ("teacher", "student"):
        for k, v in comp[side].items():
            if isinstance(v, int | float) and not isinstance(v, bool):
                assert k.endswith(units) or k in counts, k


def test_teacher_that_does_not_fit_is_planned_at_a_wider_tp():
    """141 GB of BF16 weights do not fit one 80 GB GPU: the teacher goes to the smallest TP
    (doubling) where the same batch fits."""
    out = _json(["serve", "--model", "llama3-70b", "--distill-to", "llama3-8b",
                 "--accelerator", "h100-sxm", "--tp", "1", "--precision", "bf16",
                 "--prompt-tokens", "1024", "--output-tokens", "256", "--batch", "8"])
    t = out["compression"]["teacher"]
    assert out["tp"] == 1 and t["tp"] >= 2 and t["batch"] == 8
    below = _cfg(_spec("llama3-70b"), tp=t["tp"] // 2, precision="bf16")
    assert inf.max_batch(below, 1280) < 8 <= inf.max_batch(_cfg(_spec("llama3-70b"), tp=t["tp"],
                                                                 precision="bf16"), 1280)


def test_distill_unknown_id_and_bad_fraction_exit_2(monkeypatch, capsys):
    code, err = _exit(monkeypatch, capsys, ["serve", "--model", "llama3-70b", *SHAPE,
                                            "--distill-to", "llama3-8c"])
    assert code == 2 and "serving.distill_to" in err and "did you mean llama3-8b" in err
    code, err = _exit(monkeypatch, capsys, ["serve", "--model", "llama3-70b", *SHAPE,
                                            "--prune-layers-frac", "1.5"])
    assert code == 2 and "serving.prune.layers_frac = 1.5" in err


def test_scenario_inline_student_pruned_and_search(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("model: llama3-70b\nhardware: {accelerator: h100-sxm}\n"
                 "serving:\n  precision: fp8\n  tp: 2\n  prompt_tokens: 512\n"
                 "  output_tokens: 128\n  batch: 8\n"
                 "  distill_to: {id: small, layers: 16, hidden: 2048, heads: 16, kv_heads: 4,"
                 " ffn: 8192, vocab: 128256}\n  prune: {layers_frac: 0.5}\n")
    out = _json(["serve", str(f)])
    comp = out["compression"]
    assert out["model"] == "small-pruned" and comp["methods"] == ["distillation", "pruning"]
    assert comp["student"]["layers_kept_frac"] == pytest.approx(0.5)  # of the student's 16
    found = _json(["serve", "--model", "llama3.1-70b", "--prompt-tokens", "1024",
                   "--output-tokens", "256", "--rate", "20", "--tpot-s", "0.03", "--search",
                   "--prune-layers-frac", "0.5"])
    assert found["model"] == "llama3.1-70b-pruned" and found["tpot_s"] <= 0.03
    assert found["compression"]["teacher"]["model"] == "llama3.1-70b"
