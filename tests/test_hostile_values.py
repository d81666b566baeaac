"""Hostile values: every number finite, typed and within its stated limit, for scenario fields
and CLI flags alike; sizes that would allocate are refused before anything is allocated; every
refusal names the field or flag, the value (shortened) and what is allowed."""

from __future__ import annotations

import math
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattlas import bounds
from wattlas import scenario as sc
from wattlas.errors import ScenarioError

TRAIN = {"model": "llama3.1-8b", "hardware": {"accelerator": "h100-sxm"},
         "cluster": {"gpus": 8},
         "training": {"tokens": 1e9, "seq_len": 4096, "global_batch": 64}}
SERVE = {"model": "llama3.1-8b", "hardware": {"accelerator": "h100-sxm"},
         "serving": {"prompt_tokens": 512, "output_tokens": 128,
                     "agent": {"calls": 2}, "slo": {"ttft_s": 1.0}}}
ROUTE = {"model": "llama3.1-8b", "routing": {
    "users": [{"name": "na", "lat": 40.7, "lon": -74.0, "demand_rps": 5}],
    "sites": [{"name": "va", "region": "us-va", "accelerator": "h100-sxm", "replicas": 1}],
    "requests": 300}}
SITE = {"site": {"power_mw": 50, "rack_kw": 40, "allocate": {"it_power_mw": 10}}}
INLINE = {**TRAIN, "model": {"layers": 4, "hidden": 512, "heads": 8, "ffn": 2048,
                             "vocab": 32000, "moe": {"experts": 4, "top_k": 2,
                                                     "expert_ffn": 1024}}}

#: (base scenario, dotted path) of numeric fields, each with a LIMITS entry
FIELDS = [
    (TRAIN, "cluster.gpus"), (TRAIN, "training.tokens"), (TRAIN, "training.seq_len"),
    (TRAIN, "training.global_batch"), (TRAIN, "training.goodput_frac"),
    (TRAIN, "training.stack_efficiency_frac"), (TRAIN, "training.software_year"),
    (TRAIN, "energy.pue"), (TRAIN, "energy.grid_intensity_g_per_kwh"),
    (TRAIN, "energy.price_usd_per_mwh"), (TRAIN, "energy.power_cap_w"),
    (TRAIN, "hardware.nic_bytes_per_s"), (TRAIN, "training.layout.tp"),
    (SERVE, "serving.prompt_tokens"), (SERVE, "serving.output_tokens"),
    (SERVE, "serving.batch"), (SERVE, "serving.rate_per_s"), (SERVE, "serving.slo.ttft_s"),
    (SERVE, "serving.agent.calls"), (SERVE, "serving.agent.tool_time_s"),
    (ROUTE, "routing.requests"), (ROUTE, "routing.seed"),
    (ROUTE, "routing.users.0.demand_rps"), (ROUTE, "routing.sites.0.replicas"),
    (ROUTE, "routing.sites.0.pue"), (SITE, "site.power_mw"), (SITE, "site.rack_kw"),
    (SITE, "site.allocate.it_power_mw"), (INLINE, "model.layers"), (INLINE, "model.vocab"),
]


def with_value(base: dict, path: str, value: object) -> dict:
    import copy

    data = copy.deepcopy(base)
    node: object = data
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node.setdefault(k, {})
    if isinstance(node, list):
        node[int(keys[-1])] = value
    else:
        node[keys[-1]] = value
    return data


def field_value(scen: sc.Scenario, path: str) -> object:
    node: object = scen
    for k in path.split("."):
        node = node[int(k)] if isinstance(node, list | tuple) else getattr(node, k)
    return node


def limit_of(path: str) -> bounds.Limit:
    parts = path.split(".")
    section = {"site": "Site", "allocate": "Allocate", "sites": "SiteSpec"}.get(
        parts[-2] if not parts[-2].isdigit() else parts[-3], "")
    lim = bounds.limit_for(section, parts[-1]) or (
        bounds.Limit(0, 1) if parts[-1].endswith("_frac") else None)
    assert lim is not None, path
    return lim


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FIELDS), st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**40, 10**40),
    st.booleans(), st.text(max_size=12), st.sampled_from(["yes", "no", "off", "1:30", "1e9",
                                                         ".inf", "nan", "-0"]),
    st.lists(st.integers(), max_size=3)))
def test_a_field_is_refused_with_its_path_or_accepted_within_its_limit(field, value) -> None:
    base, path = field
    try:
        scen = sc.validate(with_value(base, path, value))
    except ScenarioError as err:
        text = str(err)
        assert path.rsplit(".", 1)[-1] in text and "\n" not in text and len(text) < 400
        return
    got = field_value(scen, path)
    assert not isinstance(got, bool) and isinstance(got, int | float)
    assert math.isfinite(got) and limit_of(path).ok(float(got)), (path, value, got)
    assert not isinstance(value, bool)
    if isinstance(value, list):  # [low, high]: a range (wattlas.uncertainty.inputs)
        assert len(value) == 2 and not path.startswith("routing")
        assert all(limit_of(path).ok(float(v)) for v in value)


@pytest.mark.parametrize("base, path", FIELDS)
def test_every_stated_limit_is_enforced(base: dict, path: str) -> None:
    lim = limit_of(path)
    above = lim.hi * 10 if lim.hi > 0 else lim.hi + 10
    below = lim.lo - 1 if not lim.lo_open else lim.lo
    for bad in (above, below, float("nan"), float("inf"), True):
        with pytest.raises(ScenarioError, match=path.rsplit(".", 1)[-1]):
            sc.validate(with_value(base, path, bad))


# --- CLI flags (in-process, exit codes and one-line messages) ----------------------------------

def cli(monkeypatch, capsys, *argv: str) -> tuple[int, str, str]:
    from wattlas import catalog
    from wattlas import cli as wcli

    monkeypatch.setattr(sys, "argv", ["wattlas", *argv])
    code = 0
    try:
        wcli.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        catalog.clear_user_rows()
    out, err = capsys.readouterr()
    return code, out, err


TRAIN_FLAGS = ("train", "--model", "llama3.1-8b", "--accelerator", "h100-sxm", "--gpus", "8",
               "--tokens", "1e9", "--seq-len", "4096", "--global-batch", "64", "--format",
               "json")
SERVE_FLAGS = ("serve", "--model", "llama3.1-8b", "--accelerator", "h100-sxm",
               "--prompt-tokens", "512", "--output-tokens", "128", "--format", "json")
SITE_FLAGS = ("site", "--power-mw", "50", "--rack-kw", "40", "--format", "json")


def replaced(argv: tuple[str, ...], flag: str, value: str) -> list[str]:
    out = list(argv)
    if flag in out:
        out[out.index(flag) + 1] = value
    else:
        out += [flag, value]
    return out


@pytest.mark.parametrize("argv, says", [
    (replaced(TRAIN_FLAGS, "--tokens", "inf"), "--tokens inf: expected a finite number"),
    (replaced(TRAIN_FLAGS, "--tokens", "1e300"), r"--tokens 1e\+300: Input should be less "
                                                 r"than or equal to 1e\+17 tokens"),
    (replaced(TRAIN_FLAGS, "--tokens", "-5"), "--tokens -5: Input should be greater"),
    (replaced(TRAIN_FLAGS, "--gpus", "1e300"), "Invalid value for '--gpus': '1e300' is not a "
                                               "whole number"),
    (replaced(TRAIN_FLAGS, "--seq-len", "1" + "0" * 30), "--seq-len"),
    (replaced(TRAIN_FLAGS, "--pue", "nan"), "--pue nan: expected a finite number"),
    (replaced(SERVE_FLAGS, "--rate", "inf"), "--rate inf: expected a finite number"),
    (replaced(SERVE_FLAGS, "--hours", "nan"), "--hours nan: expected a finite number"),
    (replaced(SERVE_FLAGS, "--hours", "-1"), "--hours -1: Input should be greater than or "
                                             "equal to 0.001"),
    (replaced(SERVE_FLAGS, "--agent-calls", "1e30"), "Invalid value for '--agent-calls': "
                                                     "'1e30'"),
    (replaced(SERVE_FLAGS, "--agent-calls", "100000000"), r"--agent-calls = 100000000 "
                                                          r"\(serving\.agent\.calls"),
    (replaced(SERVE_FLAGS, "--draft", "llama-nope"), r"serving\.draft \(--draft, the draft "
                                                     r"model\): unknown model 'llama-nope'"),
    ([*SITE_FLAGS, "--regions", "is,is"], "--regions: is given more than once"),
    ([*SITE_FLAGS, "--regions", ","], "--regions ',': no region id"),
    ([*SITE_FLAGS, "--regions", "is,,no"], "an empty id between commas"),
    ([*SITE_FLAGS, "--users", "nan,nan"], "--users 'nan,nan': a value is NaN or infinite"),
    ([*SITE_FLAGS, "--weights", "time=nan"], "--weights time=nan"),
    ([*TRAIN_FLAGS, "--set", "training..tokens=5"], r"--set 'training\.\.tokens=5': empty "
                                                    r"key"),
    ([*TRAIN_FLAGS, "--set", "=5"], "empty key path"),
    ([*TRAIN_FLAGS, "--set", "training.tokens"], "expected key.path=value"),
    (["rtt", "nan,nan", "is"], "rtt|lat|point|nan"),
])
def test_bad_flags_are_one_line_errors(monkeypatch, capsys, argv, says) -> None:
    import re

    code, out, err = cli(monkeypatch, capsys, *argv)
    assert code == 2, err
    assert re.search(says, err), err
    assert err.count("\n") == 1 and "Traceback" not in err and out == ""


@pytest.mark.parametrize("argv", [
    ["route", "{route}", "-n", "100000000"], ["route", "{route}", "-n", "1000000000000"],
    ["route", "{route}", "--set", "routing.requests=1e9"],
    ["route", "{route}", "--set", "routing.sites.0.replicas=1000000000"],
    ["route", "{route}", "--set", "routing.session.calls=1e30"],
    ["route", "{route}", "--seed", "-1"],
    ["serve", *SERVE_FLAGS[1:], "--agent-calls", "100000000"],
])
def test_sizes_are_refused_before_allocating(monkeypatch, capsys, tmp_path: Path,
                                             argv: list[str]) -> None:
    import yaml

    route = tmp_path / "route.yaml"
    route.write_text(yaml.safe_dump(ROUTE))
    argv = [str(route) if a == "{route}" else a for a in argv]
    tracemalloc.start()
    t = time.perf_counter()
    code, _, err = cli(monkeypatch, capsys, *argv)
    elapsed = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert code == 2 and "allowed" in err and err.count("\n") == 1, err
    assert elapsed < 5.0 and peak < 50e6


@pytest.mark.parametrize("data, says", [
    (with_value(SERVE, "serving.rate_per_s", float("inf")), r"serving\.rate_per_s = inf"),
    (with_value(INLINE, "model.moe.dense_layers", 99),
     "moe.dense_layers = 99 but the model has 4 layers"),
    (with_value(ROUTE, "routing.users.0.diurnal", [1.0] * 23 + [float("nan")]),
     r"diurnal = \[1\.0, 1\.0, 1\.0, \.\.\.\]: item 23 = nan: Input should be a finite"),
    (with_value(ROUTE, "routing.sites.0.grid_intensity_g_per_kwh", [100.0] * 23 + [-1.0]),
     "grid_intensity_g_per_kwh"),
    (with_value(TRAIN, "site", {"candidates": ["is", "is"]}), "is given more than once"),
    (with_value(TRAIN, "site", {"candidates": []}), "an empty list"),
    (with_value(TRAIN, "name", "n" * 100_000), r"name = 'nnnn.*nnn': text of 100,000 "),
    (with_value(TRAIN, "site", {"candidates": ["is"] * 100_000}), "a list of 100,000 items"),
    (with_value(SERVE, "model", 5), r"model = 5: expected one of: a valid string; a valid "
                                    r"dictionary"),
    (with_value(INLINE, "model.layers", -4), r"model\.layers = -4: Input should be greater"),
])
def test_scenario_values(data: dict, says: str) -> None:
    with pytest.raises(ScenarioError, match=says) as err:
        sc.validate(data)
    assert len(str(err.value)) < 400


def test_a_refused_huge_value_is_never_expanded_in_the_message() -> None:
    shared = ["x"] * 1000
    value = [shared] * 1000  # a million leaves, two references deep
    t = time.perf_counter()
    with pytest.raises(ScenarioError) as err:
        sc.validate(with_value(TRAIN, "cluster.gpus", value))
    assert time.perf_counter() - t < 1.0 and len(str(err.value)) < 300


def test_numeric_text_is_a_number_and_other_text_is_refused() -> None:
    assert sc.validate(with_value(TRAIN, "training.tokens", "2.0e12")).training.tokens == 2e12
    for text in ("yes", "1:30", "nan", "inf", "2e400"):
        with pytest.raises(ScenarioError, match="tokens"):
            sc.validate(with_value(TRAIN, "training.tokens", text))


def test_docs_list_every_limit() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "limits.md").read_text()
    tables = [(k if isinstance(k, str) else f"{k[0]}.{k[1]}", lim)
              for k, lim in bounds.LIMITS.items()]
    tables += list(bounds.FLAG_LIMITS.items()) + list(bounds.CATALOG_LIMITS)
    for name, lim in tables:
        assert f"| `{name}` | {lim.describe()} |" in doc, f"docs/limits.md: {name}"


@pytest.mark.parametrize("text", ["", "# only a comment\n", "name: x\n"])
@pytest.mark.parametrize("verb", ["train", "serve", "route", "check"])
def test_an_empty_scenario_is_a_clear_error(monkeypatch, capsys, tmp_path: Path, text: str,
                                            verb: str) -> None:
    (tmp_path / "s.yaml").write_text(text)
    code, out, err = cli(monkeypatch, capsys, verb, str(tmp_path / "s.yaml"))
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
