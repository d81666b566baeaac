"""The library API: the public names, one code path with the CLI (``.to_dict()`` is the JSON the
command prints), frozen results, frames with one row per entity, and the CLI's error classes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wattlas
from wattlas import errors

ROOT = Path(__file__).resolve().parents[1]
FRONTIER = ROOT / "examples" / "frontier-training.yaml"

PUBLIC = [
    "__version__",
    "load", "plan", "train", "serve", "site", "route", "rtt", "check", "validate",
    "Scenario", "Plan", "TrainResult", "BudgetResult", "ServeResult", "SiteResult",
    "RouteResult", "RttResult", "CheckResult", "ValidationResult",
    "WattlasError", "InputError", "CatalogKeyError", "ScenarioError", "InfeasibleError",
]

# a small training job with its layout fixed (no search: the numbers are deterministic)
TRAIN = dict(model="llama3-8b", accelerator="h100-sxm", gpus=64, tokens=1e11, seq_len=4096,
             global_batch=256, tp=2, pp=1, dp=32, microbatch=1, recompute="selective", zero=1)
SERVE = dict(model="llama3-70b", accelerator="h100-sxm", tp=4, precision="fp8",
             prompt_tokens=1024, output_tokens=256)


def _flags(kw: dict) -> list[str]:
    out = []
    for k, v in kw.items():
        out += [f"--{k.replace('_', '-')}", str(v)]
    return out


def _cli_json(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "wattlas.cli", *args, "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_public_api_is_pinned() -> None:
    assert wattlas.__all__ == PUBLIC
    for name in PUBLIC:
        assert getattr(wattlas, name) is not None, name
    assert issubclass(wattlas.InfeasibleError, wattlas.WattlasError)
    assert wattlas.InputError is errors.InputError


def test_import_is_light_and_the_api_loads_on_first_use() -> None:
    code = ("import sys, wattlas; heavy = [m for m in ('numpy', 'pydantic', 'pandas', "
            "'wattlas.api', 'wattlas.plan', 'scipy') if m in sys.modules]; print(heavy); "
            "wattlas.rtt; print('wattlas.api' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    assert out[0] == "[]" and out[1] == "True"


def test_train_is_the_train_command() -> None:
    res = wattlas.train(**TRAIN)
    assert isinstance(res, wattlas.TrainResult)
    assert res.to_dict() == _cli_json("train", *_flags(TRAIN))
    assert 0 < res.mfu < 1 and res.parallelism["tp"] == 2 and res.gpus == 64


def test_serve_is_the_serve_command() -> None:
    res = wattlas.serve(**SERVE)
    assert res.to_dict() == _cli_json("serve", *_flags(SERVE))
    assert res.ttft_s > 0 and res.tpot_s > 0 and res.gpus == 4


def test_serve_search_is_serve_search() -> None:
    kw = dict(model="llama3.1-8b", prompt_tokens=512, output_tokens=128, rate_per_s=5.0,
              tpot_s=0.05)
    res = wattlas.serve(**kw, accelerator="h100-sxm", search=True)
    cli = _cli_json("serve", "--model", "llama3.1-8b", "--prompt-tokens", "512",
                    "--output-tokens", "128", "--rate", "5", "--tpot-s", "0.05",
                    "--accelerator", "h100-sxm", "--search")
    wall = {"search_time_s": None}  # the search's own wall time, not a result
    assert res.to_dict() | wall == cli | wall
    assert len(res.to_frame()) == len(res.ranked) >= 1 and res.tpot_s <= 0.05


def test_site_rtt_and_check_are_their_commands() -> None:
    site = wattlas.site(power_mw=50, rack_kw=40, cooling="liquid", regions="us-va,is,no")
    cli = _cli_json("site", "--power-mw", "50", "--rack-kw", "40", "--cooling", "liquid",
                    "--regions", "us-va,is,no")
    assert site.to_dict() == cli
    frame = site.to_frame()
    assert sorted(frame["region"]) == ["is", "no", "us-va"] and len(frame) == 3
    assert wattlas.rtt("us-va", "de-fra").to_dict() == _cli_json("rtt", "us-va", "de-fra")
    check = wattlas.check(model="llama3-405b", tokens=15.6e12, seq_len=8192,
                          accelerators=["h100-sxm", "h20"])
    assert check.to_dict() == _cli_json("check", "--model", "llama3-405b", "--tokens",
                                        "15.6e12", "--seq-len", "8192", "--accelerator",
                                        "h100-sxm", "--accelerator", "h20")
    assert list(check.to_frame("export_control")["accelerator"]) == ["h100-sxm", "h20"]


def test_route_and_validate_are_their_commands() -> None:
    scen = ROOT / "examples" / "global-serving.yaml"
    res = wattlas.route(str(scen), requests=300, seed=7)
    assert res.to_dict() == _cli_json("route", str(scen), "--requests", "300", "--seed", "7")
    frame = res.to_frame()
    assert len(frame) == len(res.policies) > 1 and (frame["offered"] == 300).all()
    val = wattlas.validate("energy")
    assert val.to_dict() == _cli_json("validate", "energy")
    cases = val.to_frame()
    assert len(cases) == len(val.cases) > 0 and {"source", "error_frac"} <= set(cases.columns)


def test_plan_is_plan_json(tmp_path: Path) -> None:
    from wattlas.plan import run_plan

    scen = wattlas.load(FRONTIER)
    p = wattlas.plan(scen)
    assert isinstance(p, wattlas.Plan)
    assert p.to_dict() == json.loads(json.dumps(run_plan(scen)))
    proc = subprocess.run([sys.executable, "-m", "wattlas.cli", "plan", str(FRONTIER), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert p.to_dict() == json.loads((tmp_path / "out" / "plan.json").read_text())
    # typed stage results inside the plan; compare rows as the default frame
    assert isinstance(p.training, wattlas.TrainResult) and p.serving is None
    assert p.training.to_dict() == p.to_dict()["training"]
    rows = p.to_frame()
    assert len(rows) == len(p.compare["rows"]) and "accelerator" in rows.columns
    assert list(p.to_frame("site")["region"]) == [r["region"] for r in p.site.regions]


def test_plan_is_callable_even_after_the_module_is_imported() -> None:
    import wattlas.plan as plan_module

    assert wattlas.plan is plan_module and callable(wattlas.plan)
    text = FRONTIER.read_text(encoding="utf-8")
    assert wattlas.plan(text, set={"compare": None}) == wattlas.plan(
        str(FRONTIER), set={"compare": None})


def test_load_takes_a_path_a_mapping_or_yaml_text() -> None:
    from_path = wattlas.load(FRONTIER)
    from_text = wattlas.load(FRONTIER.read_text(encoding="utf-8"))
    from_dict = wattlas.load(from_path.model_dump(mode="json", exclude_none=True))
    assert from_path == from_text == from_dict
    assert wattlas.load(from_path) is from_path
    assert wattlas.load(from_path, set={"cluster.gpus": 8192}).cluster.gpus == 8192


def test_results_are_frozen_and_to_dict_is_a_copy() -> None:
    res = wattlas.rtt("us-va", "is")
    with pytest.raises(AttributeError, match="frozen"):
        res.rtt_s = 0.0  # type: ignore[misc]
    site = wattlas.site(power_mw=20, rack_kw=40, regions=["us-va", "is"])
    with pytest.raises(TypeError):
        site.regions[0]["region"] = "x"  # type: ignore[index]
    d = site.to_dict()
    d["regions"].clear()
    assert len(site.regions) == 2 and site == wattlas.site(power_mw=20, rack_kw=40,
                                                           regions=["us-va", "is"])
    assert json.loads(site.to_json()) == site.to_dict()


def test_repr_and_html_show_the_headline() -> None:
    res = wattlas.train(**TRAIN)
    text = repr(res)
    assert text.startswith("TrainResult(llama3-8b on 64 × h100-sxm") and "MFU" in text
    assert f"{res.mfu:.1%}" in text
    html = res._repr_html_()
    assert "<table>" in html and f"{res.mfu:.1%}" in html


def test_compare_is_the_compare_flag() -> None:
    res = wattlas.train(**TRAIN, compare="b200,dgx-h200")
    assert res.to_dict() == _cli_json("train", *_flags(TRAIN), "--compare", "b200,dgx-h200")
    rows = res.compare["rows"]
    assert [r["baseline"] for r in rows] == [True, False, False]
    served = wattlas.serve(**SERVE, compare=["h200-sxm"])
    assert served.to_dict() == _cli_json("serve", *_flags(SERVE), "--compare", "h200-sxm")
    assert [r["accelerator"] for r in served.compare["rows"]] == ["h100-sxm", "h200-sxm"]
    with pytest.raises(errors.InputError, match="unknown id 'h300'"):
        wattlas.train(**TRAIN, compare="h300")


def test_train_days_is_train_days() -> None:
    kw = {k: TRAIN[k] for k in ("model", "accelerator", "tokens", "seq_len", "global_batch")}
    res = wattlas.train(**kw, days=2)
    cli = _cli_json("train", *_flags(kw), "--days", "2")
    wall = {"search_time_s": None}  # the search's own wall time, not a result
    assert res.to_dict() | wall == cli | wall
    assert res.training_time_s <= 2 * 86400 and res.gpus % 8 == 0
    with pytest.raises(errors.InputError, match="drop gpus=64"):
        wattlas.train(**kw, days=2, gpus=64)


def test_train_search_keeps_fixed_fields_and_frames_the_pareto_front() -> None:
    kw = {k: v for k, v in TRAIN.items() if k not in ("pp", "dp", "microbatch", "recompute",
                                                      "zero")}
    res = wattlas.train(**kw, search=True)
    assert res.parallelism["tp"] == 2 and res.search_candidates > 1
    frame = res.to_frame()
    assert len(frame) == len(res.pareto) >= 1 and (frame["tp"] == 2).all()


def test_errors_are_the_cli_classes_with_the_cli_message() -> None:
    with pytest.raises(errors.CatalogKeyError) as err:
        wattlas.train(**dict(TRAIN, accelerator="h100-sxn"))
    proc = subprocess.run([sys.executable, "-m", "wattlas.cli", "train",
                           *_flags(dict(TRAIN, accelerator="h100-sxn"))],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == err.value.exit_code == 2
    assert proc.stderr.strip() == f"error: {err.value}"
    with pytest.raises(errors.InputError, match=r"unknown argument\(s\) gpu; allowed: .*gpus"):
        wattlas.train(gpu=8)
    with pytest.raises(errors.InfeasibleError, match="below the decode floor") as inf:
        wattlas.serve(**SERVE, tpot_s=1e-4)
    proc = subprocess.run([sys.executable, "-m", "wattlas.cli", "serve", *_flags(SERVE),
                           "--tpot-s", "1e-4"], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert proc.returncode == inf.value.exit_code == 1
    assert proc.stderr.strip() == f"error: {inf.value}"
    with pytest.raises(errors.InputError, match="not a scenario"):
        wattlas.load(42)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter's own path migration notes
def test_the_notebook_example_executes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(ROOT / "examples" / "notebook.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")  # stored clean
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "examples")}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the MFU / MW figure
    text = " ".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "h100-sxm" in text and "h200-sxm" in text and "b200" in text


@settings(max_examples=12, deadline=None)
@given(tp=st.sampled_from([1, 2, 4, 8]), microbatch=st.sampled_from([1, 2]),
       recompute=st.sampled_from(["none", "selective", "full"]), zero=st.integers(0, 3))
def test_train_and_plan_answer_the_same_question_alike(tp: int, microbatch: int,
                                                       recompute: str, zero: int) -> None:
    """One code path: the train verb and the plan's training section agree, or both refuse
    with the same error; a plan that runs stays under the physical bounds."""
    kw = dict(TRAIN, tp=tp, dp=64 // tp, microbatch=microbatch, recompute=recompute, zero=zero)
    scen = {"model": kw["model"], "hardware": {"accelerator": kw["accelerator"]},
            "cluster": {"gpus": kw["gpus"]},
            "training": {"tokens": kw["tokens"], "seq_len": kw["seq_len"],
                         "global_batch": kw["global_batch"],
                         "layout": {k: kw[k] for k in ("tp", "pp", "dp", "microbatch",
                                                       "recompute", "zero")}}}
    try:
        res = wattlas.train(**kw)
    except errors.WattlasError as err:
        with pytest.raises(type(err), match=None) as again:
            wattlas.plan(scen)
        assert str(again.value) == str(err)
        return
    assert res.to_dict() == wattlas.plan(scen).training.to_dict()
    assert 0 < res.mfu <= res.hfu <= 1
    assert not res.fits or res.memory_per_gpu_bytes <= res.hbm_bytes
    assert res.gpus == res.parallelism["tp"] * res.parallelism["pp"] * res.parallelism["dp"]
