"""Scenario schema: unknown keys, bad values and overrides fail with the key path."""

import pytest

from wattlas import scenario
from wattlas.errors import CatalogKeyError, ScenarioError

BASE = {"model": "llama3-70b", "hardware": {"accelerator": "h100-sxm"},
        "cluster": {"gpus": 64}}


def test_unknown_key_names_path_and_allowed():
    with pytest.raises(ScenarioError, match=r"unknown key 'cluster.gpu'; allowed here: gpus"):
        scenario.validate({**BASE, "cluster": {"gpu": 8}})


def test_unknown_top_level_key():
    with pytest.raises(ScenarioError, match=r"unknown key 'trainig'; allowed here: name, "):
        scenario.validate({**BASE, "trainig": {}})


def test_negative_number_names_path():
    with pytest.raises(ScenarioError, match=r"cluster.gpus = -8: Input should be greater than 0"):
        scenario.validate({**BASE, "cluster": {"gpus": -8}})


def test_bad_literal_lists_allowed_values():
    bad = {**BASE, "training": {"tokens": 1e12, "seq_len": 4096, "global_batch": 512,
                                "layout": {"recompute": "some"}}}
    with pytest.raises(ScenarioError, match=r"training.layout.recompute = 'some': Input should "
                                            r"be 'none', 'selective', 'full' or 'op'"):
        scenario.validate(bad)


def test_set_overrides_parse_yaml_values(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("model: llama3-70b\ncluster: {gpus: 64}\n")
    scen = scenario.load(f, ["cluster.gpus=128", "training.tokens=1e12",
                             "training.seq_len=4096", "training.global_batch=256",
                             "training.layout.tp=8"])
    assert scen.cluster.gpus == 128 and scen.training.layout.tp == 8
    assert scen.training.tokens == 1e12


def test_set_without_equals_is_rejected():
    with pytest.raises(ScenarioError, match="expected key.path=value"):
        scenario.apply_override({}, "cluster.gpus")


def test_inline_model_and_unknown_model_id():
    inline = {"layers": 2, "hidden": 64, "heads": 4, "vocab": 100, "ffn": 256,
              "moe": {"experts": 4, "top_k": 1, "expert_ffn": 128}}
    spec = scenario.resolve_model(scenario.validate({"model": inline}).model)
    assert spec.is_moe and spec.moe_experts == 4
    with pytest.raises(CatalogKeyError, match="unknown model 'llama3-7b'; did you mean"):
        scenario.resolve_model("llama3-7b")


def test_missing_file():
    with pytest.raises(ScenarioError, match="scenario file 'nope.yaml' does not exist"):
        scenario.load("nope.yaml")


def test_set_indexes_lists():
    data = {"site": {"candidates": ["us-va", "is"]}}
    scenario.apply_override(data, "site.candidates.1=de-fra")
    assert data["site"]["candidates"] == ["us-va", "de-fra"]
    with pytest.raises(ScenarioError, match="'5' is not an index of a list of 2 items"):
        scenario.apply_override(data, "site.candidates.5=x")
    with pytest.raises(ScenarioError, match="'region' is not a section"):
        scenario.apply_override({"site": {"region": "is"}}, "site.region.x=1")
