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
                                       "recompute", "zero", "sequence_parallel", "offload"}
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
