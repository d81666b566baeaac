"""Errors and hints a new user meets: each names what to change in terms the command that
prints it accepts, and each hint that can be run is run."""

import json
import re

import pytest
from typer.testing import CliRunner

from wattlas import cli
from wattlas.cli import app

RUN = CliRunner()


def _run(args):
    return RUN.invoke(app, args)


@pytest.fixture
def wattlas(capsys, monkeypatch):
    """Run ``wattlas ARGS`` through the console entry point (exit codes and one-line errors as a
    user sees them): returns (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.argv", ["wattlas", *args])
        capsys.readouterr()
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.mark.parametrize("a, b, lat", [("-33.87,151.21", "35.68,139.69", -33.87),
                                       ("35.68,139.69", "-33.87,-151.21", 35.68),
                                       ("-33.87,151.21", "us-va", -33.87)])
def test_rtt_takes_south_and_west_coordinates_as_arguments(a, b, lat):
    res = _run(["rtt", a, b, "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["a_lat"] == lat and out["distance_km"] > 0
    # the same pair as options after the points, and in the table form
    res = _run(["rtt", a, b])
    assert res.exit_code == 0 and "RTT" in res.output


def test_rtt_refuses_what_is_not_a_point(wattlas):
    code, _, err = wattlas("rtt", "-x", "us-va")
    assert code == 2 and re.search(r"'-x'", err) and "Traceback" not in err


TRAIN_70B = ["train", "--model", "llama3-70b", "--accelerator", "h100-sxm", "--tokens", "1e12",
             "--global-batch", "1024"]
FRONTIER = "examples/frontier-training.yaml"


def _hints(err: str) -> list[list[str]]:
    """The runnable hints of an error line: '--set key=value' and '--flag [value]'."""
    out = [["--set", m] for m in re.findall(r"--set (\S+=[^\s,;)]+)", err)]
    for flag, value in re.findall(r"(?<!\S)(--(?!set\b)[a-z][a-z0-9-]*)(?: (none|selective|full|"
                                  r"fp8|bf16))?", err):
        out.append([flag, value] if value else [flag])
    return out


def _flags_of(command: str) -> set[str]:
    import importlib

    from wattlas.commands._options import command_flags

    return command_flags(importlib.import_module(f"wattlas.commands.{command}").command)


def test_a_missing_flag_is_named_as_the_flag_and_the_scenario_key(wattlas):
    code, _, err = wattlas(*TRAIN_70B, "--gpus", "1024")
    assert code == 2
    assert "--seq-len is required (training.seq_len in a scenario file)" in err
    code, _, err = wattlas(*TRAIN_70B, "--gpus", "1024", "--seq-len", "-5")
    assert code == 2 and err.startswith("error: --seq-len") and "greater than 0" in err


def test_train_without_a_layout_searches_and_says_so(wattlas):
    code, out, err = wattlas(*TRAIN_70B, "--gpus", "1024", "--seq-len", "8192", "-f", "json")
    assert code == 0, err
    res = json.loads(out)
    assert res["fits"] and res["search_candidates"] > 1
    assert any("no layout given" in n for n in res["notes"])
    # a layout flag given: planned as given (dp follows from the GPU count), no search
    code, out, err = wattlas(*TRAIN_70B, "--gpus", "1024", "--seq-len", "8192", "--tp", "8",
                             "--pp", "4", "-f", "json")
    assert code == 0, err
    res = json.loads(out)
    assert "search_candidates" not in res and res["parallelism"]["dp"] == 32


def test_no_valid_layout_names_the_nearest_gpu_counts_and_they_run(wattlas):
    code, _, err = wattlas(*TRAIN_70B, "--gpus", "3072", "--seq-len", "8192")
    assert code == 2
    m = re.search(r"nearest GPU counts with a valid layout: ([0-9, ]+)", err)
    assert m, err
    counts = [int(x) for x in m.group(1).split(",")]
    assert len(counts) == 2 and counts[0] < 3072 < counts[1]
    for n in counts:
        code, _, err = wattlas(*TRAIN_70B, "--gpus", str(n), "--seq-len", "8192")
        assert code == 0, err


def test_plan_hints_use_set_and_the_hint_runs(wattlas, tmp_path):
    """`plan` has no --recompute or --search: its memory error says --set, and that runs."""
    args = ["plan", FRONTIER, "--out", str(tmp_path / "a"), "--set",
            "training.layout.recompute=none"]
    code, _, err = wattlas(*args)
    assert code == 1, err
    hints = _hints(err)
    assert hints and all(h[0] in _flags_of("plan") for h in hints), err
    assert "--search" not in err and "--recompute" not in err
    for i, hint in enumerate(hints):
        code, _, err2 = wattlas("plan", FRONTIER, "--out", str(tmp_path / f"h{i}"),
                                "--set", "training.layout.recompute=none", *hint)
        assert code == 0, (hint, err2)


def test_train_hints_are_train_flags_and_they_run(wattlas):
    args = ["train", FRONTIER, "--set", "training.layout.recompute=none"]
    code, _, err = wattlas(*args)
    assert code == 1
    hints = _hints(err)
    assert ["--recompute", "selective"] in hints and ["--set", "training.layout=null"] in hints, err
    assert all(h[0] in _flags_of("train") for h in hints)
    for hint in hints:
        code, _, err2 = wattlas(*args, *hint, "-f", "json")
        assert code == 0, (hint, err2)


def test_serving_hints_name_serve_flags_or_serving_keys():
    from wattlas.commands._options import hint_for_command

    msg = "needs 120 GiB; raise --tp (now 1), lower the precision or use --kv-precision fp8"
    assert hint_for_command(msg, _flags_of("serve"), "serving") == msg
    got = hint_for_command(msg, _flags_of("plan"), "serving")
    assert "raise serving.tp (now 1)" in got and "--set serving.kv_precision=fp8" in got


def test_searched_mfu_above_anything_measured_says_so_and_stack_efficiency_clears_it(wattlas):
    from wattlas.perf.training.calibration import MFU_MAX_VALIDATED

    args = ["train", "--model", "llama3-70b", "--accelerator", "h100-sxm", "--gpus", "1024",
            "--tokens", "2e12", "--seq-len", "8192", "--global-batch", "1024", "--search",
            "-f", "json"]
    code, out, err = wattlas(*args)
    assert code == 0, err
    res = json.loads(out)
    assert res["mfu"] > MFU_MAX_VALIDATED
    assert any("above the highest measured" in n and "--stack-efficiency" in n
               for n in res["notes"])
    code, out, err = wattlas(*args, "--stack-efficiency", "0.734")
    res = json.loads(out)
    assert res["mfu"] < MFU_MAX_VALIDATED
    assert not any("above the highest measured" in n for n in res["notes"])


def test_nearest_gpu_counts_on_a_large_cluster(wattlas):
    """98,304 GPUs have no layout for a 64-sequence batch; the nearest counts come from the
    plausible tp·cp·pp·dp products (enumerating every count within ±50 % took minutes)."""
    code, _, err = wattlas("train", "--model", "llama3.1-8b", "--accelerator", "h100-sxm",
                           "--gpus", "98304", "--tokens", "1e9", "--seq-len", "4096",
                           "--global-batch", "64", "--search")
    assert code == 2
    assert "nearest GPU counts with a valid layout: 65536, 131072" in err


def test_a_model_error_about_a_key_names_the_flag_of_the_command(wattlas):
    """An error raised past the scenario boundary about `training.lora_rank` names --lora-rank
    on the command line, and the key for scenario files."""
    code, _, err = wattlas("train", "--model", "llama3-70b", "--accelerator", "h100-sxm",
                           "--gpus", "8", "--tokens", "1e9", "--seq-len", "4096",
                           "--global-batch", "32", "--job", "lora", "--search")
    assert code == 2
    assert err.startswith("error: --lora-rank (training.lora_rank in a scenario file): ")
    code, _, err = wattlas("train", "--model", "llama3-70b", "--accelerator", "h100-sxm",
                           "--gpus", "8", "--tokens", "1e9", "--seq-len", "4096",
                           "--global-batch", "32", "--job", "lora", "--lora-rank", "16",
                           "--search")
    assert code == 0, err
