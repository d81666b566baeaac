"""Planner questions on the command line: --catalog on every command, --compare on train and
serve (the same job on other hardware, through the same stage functions as `wattlas plan`)."""

import importlib
import json

import pytest
from typer.testing import CliRunner

from wattlas.cli import COMMANDS, app
from wattlas.commands._options import command_flags

RUN = CliRunner()
TRAIN = ["train", "--model", "llama3-70b", "--accelerator", "h100-sxm", "--gpus", "1024",
         "--tokens", "1e12", "--seq-len", "8192", "--global-batch", "1024"]
SERVE = ["serve", "--model", "llama3-70b", "--accelerator", "h100-sxm", "--precision", "fp8",
         "--tp", "2", "--prompt-tokens", "1024", "--output-tokens", "256"]
MY_ACC = """accelerators:
  - id: h100-sxm-1000w
    name: H100 SXM at a 1,000 W power limit (hypothetical)
    vendor: nvidia
    kind: gpu
    bf16_flop_per_s: 989.4e12
    fp8_flop_per_s: 1978.9e12
    hbm_bytes: 85899345920
    hbm_bytes_per_s: 3.35e12
    tdp_w: 1000
    scaleup_bytes_per_s: 450e9
    scaleup_domain: 8
    scaleout_bytes_per_s: 50e9
    die_area_mm2: 814
    source: test
    as_of: 2026-11-01
"""


def _json(args):
    res = RUN.invoke(app, [*args, "-f", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_catalog(command):
    func = importlib.import_module(f"wattlas.commands.{command}").command
    assert "--catalog" in command_flags(func)


def test_catalog_rows_reach_train_serve_and_check(tmp_path):
    cat = tmp_path / "mine.yaml"
    cat.write_text(MY_ACC)
    out = _json([*TRAIN[:3], "--accelerator", "h100-sxm-1000w", *TRAIN[5:], "--catalog",
                 str(cat)])
    assert out["accelerator"] == "h100-sxm-1000w"
    out = _json([*SERVE[:3], "--accelerator", "h100-sxm-1000w", *SERVE[5:], "--catalog",
                 str(cat)])
    assert out["accelerator"] == "h100-sxm-1000w"
    out = _json(["check", "--accelerator", "h100-sxm-1000w", "--catalog", str(cat)])
    assert out["export_control"][0]["eccn"] == "3A090.a"


def test_train_compare_rows_are_what_train_prints_for_that_hardware():
    out = _json([*TRAIN, "--compare", "b200,mi300x"])
    rows = out["compare"]["rows"]
    assert [r["accelerator"] for r in rows] == ["h100-sxm", "b200", "mi300x"]
    assert rows[0]["baseline"] and rows[0]["training_time_s"] == out["training_time_s"]
    assert rows[1]["fits"] and rows[1]["training_time_s"] < rows[0]["training_time_s"]
    assert rows[2]["fits"] is False and "scale-out" in rows[2]["reason"]
    # the row is what `wattlas train` prints with the accelerator changed
    b200 = _json([*TRAIN[:3], "--accelerator", "b200", *TRAIN[5:]])
    assert b200["training_time_s"] == pytest.approx(rows[1]["training_time_s"], rel=1e-12)


def test_serve_compare_rows_match_serve_on_that_accelerator():
    out = _json([*SERVE, "--compare", "h200-sxm,v100"])
    rows = out["compare"]["rows"]
    assert [r["accelerator"] for r in rows] == ["h100-sxm", "h200-sxm", "v100"]
    h200 = _json([*SERVE[:3], "--accelerator", "h200-sxm", *SERVE[5:]])
    assert rows[1]["energy_per_token_j"] == pytest.approx(h200["energy_per_token_j"], rel=1e-12)
    assert rows[1]["tpot_s"] == pytest.approx(h200["tpot_s"], rel=1e-12)
    assert rows[2]["served"] is False and "fp8" in rows[2]["reason"]


def test_compare_refuses_unknown_ids_naming_the_flag():
    res = RUN.invoke(app, [*SERVE, "--compare", "h2000"])
    assert res.exit_code != 0 and "--compare: unknown id 'h2000'" in str(res.exception)


DAYS = ["train", "--model", "llama3-70b", "--accelerator", "h100-sxm", "--tokens", "2e12",
        "--seq-len", "8192", "--global-batch", "1024"]


def test_days_finds_the_fewest_gpus_that_finish_in_time_and_train_agrees():
    out = _json([*DAYS, "--days", "30"])
    n, t = out["gpus"], out["training_time_s"]
    assert t <= 30 * 86400 == out["target_training_time_s"]
    slower = [x for x in out["gpus_tried"] if x["gpus"] < n and x["training_time_s"]]
    assert slower and all(x["training_time_s"] > 30 * 86400 for x in slower)
    assert any(f"--days 30: {n:,} GPUs" in note for note in out["notes"])
    # the same count through `wattlas train --gpus N` (layout search) prints the same plan
    same = _json([*DAYS, "--gpus", str(n), "--search"])
    assert same["training_time_s"] == pytest.approx(t, rel=1e-12)
    assert same["parallelism"] == out["parallelism"]
    # a longer deadline never needs more GPUs
    assert _json([*DAYS, "--days", "60"])["gpus"] <= n


def test_days_refuses_gpus_and_impossible_deadlines():
    res = RUN.invoke(app, [*DAYS, "--days", "30", "--gpus", "512"])
    assert res.exit_code != 0 and "drop --gpus 512" in str(res.exception)
    res = RUN.invoke(app, [*DAYS, "--days", "0.01"])
    assert res.exit_code != 0 and "global batch limits data parallelism" in str(res.exception)
