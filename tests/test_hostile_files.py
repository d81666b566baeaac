"""Hostile files: YAML 1.2 reading, bounded parsing, UTF-8, user catalogs and profiles.

Each refusal is one line that names the file or key and what is allowed, and never quotes a
line of the file (a canary string is planted in every hostile file).
"""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattlas import catalog
from wattlas import scenario as sc
from wattlas.errors import InputError, ScenarioError
from wattlas.safeio import MAX_DEPTH, MAX_FILE_BYTES, load_yaml, read_text

CANARY = "CANARY-7f3a"
BASE = """name: t
model: llama3.1-8b
hardware: {accelerator: h100-sxm}
cluster: {gpus: 8}
training: {tokens: 1.0e9, seq_len: 4096, global_batch: 64}
site: {region: us-va, candidates: [us-va, is]}
"""


def bomb(levels: int = 9) -> str:
    """A billion-laughs document: 9^levels values once expanded, a few hundred bytes."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, text: str | bytes, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


# --- YAML 1.2 core schema ----------------------------------------------------------------------

@pytest.mark.parametrize("word", ["no", "No", "NO", "off", "Off", "OFF", "on", "yes", "Yes",
                                  "y", "n"])
def test_yaml_11_booleans_stay_text(word: str) -> None:
    assert load_yaml(f"a: {word}", "t") == {"a": word}


@pytest.mark.parametrize("literal, value", [
    ("true", True), ("False", False), ("1e9", 1e9), ("15.6e12", 15.6e12), ("0x10", 16),
    ("0o17", 15), ("-3", -3), ("~", None), ("1:30", "1:30"), ("1_000", "1_000"),
    ("2024-01-01", "2024-01-01"), (".inf", float("inf")),
])
def test_yaml_12_core_scalars(literal: str, value: object) -> None:
    assert load_yaml(f"a: {literal}", "t") == {"a": value}


def test_region_off_is_not_norway(tmp_path: Path) -> None:
    scen = sc.load(write(tmp_path, BASE.replace("region: us-va", "region: off")))
    assert scen.site.region == "off"
    from wattlas.errors import CatalogKeyError
    from wattlas.plan import check_ids

    with pytest.raises(CatalogKeyError, match="unknown region 'off'"):
        check_ids(scen)
    assert sc.load(write(tmp_path, BASE.replace("region: us-va", "region: no"))).site.region \
        == "no"


def test_training_tokens_true_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"training\.tokens = true: expected a number, not "
                                            r"a boolean"):
        sc.load(write(tmp_path, BASE.replace("tokens: 1.0e9", "tokens: true")))


@pytest.mark.parametrize("text, says", [
    (BASE + "model: llama3.1-70b\n", r"duplicate key 'model' \(line 8\)"),
    (BASE.replace("gpus: 8}", "gpus: 8, gpus: 16}"), "duplicate key 'gpus'"),
    ("model: " + "[" * 1000 + "]" * 1000, "nesting"),  # libyaml's own limit or ours
    ("model: " + "[" * 40 + "]" * 40, f"nesting deeper than {MAX_DEPTH} levels"),
    ("a:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 60)), "nesting deeper than"),
    (BASE.replace("gpus: 8", "gpus: " + "9" * 5000), "an integer of 5,000 digits"),
    (BASE + "x: !!python/object/apply:os.system [ls]\n", "tag 'tag:yaml.org,2002:python"),
    (BASE + "x: !!binary aGVsbG8=\n", "tag 'tag:yaml.org,2002:binary'"),
    (BASE + "x: &a [*a]\n", "recursive alias"),
    (BASE + "training: [a: b\n", r"line \d+: not valid YAML"),
    (f"- {CANARY}\n", "the top level must be a mapping"),
    (BASE + "? [1, 2]\n: x\n", "a mapping key that is a list or mapping"),
])
def test_malformed_scenarios_are_one_line_errors(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(ScenarioError, match=says) as err:
        sc.load(write(tmp_path, f"# {CANARY}\n" + text))
    assert "\n" not in str(err.value) and CANARY not in str(err.value)
    assert len(str(err.value)) < 300


@pytest.mark.parametrize("where", ["name: *a8", "model: *a8", "cluster: {gpus: *a8}",
                                   "training: {tokens: *a8}"])
def test_alias_bombs_are_refused_cheaply(tmp_path: Path, where: str) -> None:
    path = write(tmp_path, bomb() + where + "\n")
    tracemalloc.start()
    t = time.perf_counter()
    with pytest.raises(ScenarioError, match="more than 200,000 values once aliases are "
                                            "expanded"):
        sc.load(path)
    elapsed = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 2.0 and peak < 20e6  # 9^9 = 387 million values were never built


def test_alias_bomb_in_set_is_refused() -> None:
    flow = "{" + ", ".join(["a0: &a0 [x, x, x, x, x, x, x, x, x]"] + [
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]) + "}"
    with pytest.raises(InputError, match="--set 'name': more than 200,000 values"):
        sc.load_data(None, [f"name={flow}"])


@pytest.mark.parametrize("content", [
    (BASE + "# café\n").encode("latin-1"),
    BASE.encode("utf-16"),
    bytes(range(256)) * 4,
])
def test_non_utf8_files_are_refused(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(ScenarioError, match=r"not UTF-8 text \(byte \d+ on line \d+\); save "
                                            r"it as UTF-8"):
        sc.load(write(tmp_path, content))


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    assert sc.load(write(tmp_path, ("\ufeff" + BASE).encode("utf-8"))).name == "t"


def test_oversized_and_special_files_are_refused(tmp_path: Path) -> None:
    big = write(tmp_path, "#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(InputError, match="larger than 4,000,000 bytes"):
        read_text(big, "scenario file")
    with pytest.raises(ScenarioError, match="does not exist or is not a regular file"):
        sc.load("/dev/zero")
    with pytest.raises(ScenarioError, match="does not exist or is not a regular file"):
        sc.load(tmp_path)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="[]{}:,&*!-|>'\"#\n\t ab01.~?%@`\\", max_size=80))
def test_any_text_loads_or_fails_cleanly(text: str) -> None:
    try:
        load_yaml(text, "t")
    except InputError as err:
        assert "\n" not in str(err)


# --- user catalogs -----------------------------------------------------------------------------

HEADER = "id,name,kind,bf16_flop_per_s,hbm_bytes,hbm_bytes_per_s,tdp_w,source,as_of"
GOOD = "my-acc,Mine,gpu,1e15,8.6e10,3.35e12,700,datasheet,2025-01-01"


def test_a_good_user_row_is_added(tmp_path: Path) -> None:
    assert catalog.add_user_rows(write(tmp_path, f"{HEADER}\n{GOOD}\n",
                                       "accelerators-mine.csv")) == {"accelerators": 1}
    assert catalog.get("accelerators", "my-acc")["tdp_w"] == 700.0


@pytest.mark.parametrize("name, text, says", [
    ("accelerators-x.csv", f"{HEADER}\n{GOOD},extra,cells\n",
     "row 1: more cells than the header has columns"),
    ("accelerators-x.csv", f"{HEADER}\n", "has no rows"),
    ("accelerators-x.csv", "", "is empty"),
    ("accelerators-x.csv", f"{HEADER},speed\n{GOOD},9\n", "unknown column"),
    ("accelerators-x.csv", f"{HEADER}\n{GOOD.replace(',700,', ',-700,')}\n",
     r"column 'tdp_w' = '-700' W: Input should be greater than 0"),
    ("accelerators-x.csv", f"{HEADER}\n{GOOD.replace(',700,', ',nan,')}\n",
     "column 'tdp_w' = 'nan' W: Input should be a finite number"),
    ("accelerators-x.csv", f"{HEADER}\n{GOOD.replace('1e15', '-1e15')}\n",
     "column 'bf16_flop_per_s'"),
    ("accelerators-x.csv", f"{HEADER}\n{GOOD.replace('3.35e12', '0')}\n",
     "column 'hbm_bytes_per_s'"),
    ("regions-x.csv", "id,pue_air,source,as_of\nr,0.5,s,2025\n",
     r"column 'pue_air' = '0.5': Input should be greater than or equal to 1"),
    ("models-x.csv", "id,layers,hidden,heads,ffn,vocab,moe_experts,moe_top_k,moe_expert_ffn,"
                     "moe_dense_layers,source,as_of\nm,4,512,8,2048,32000,4,2,1024,99,s,2025\n",
     "moe_dense_layers = 99 but layers = 4"),
    ("models-x.csv", "id,layers,source,as_of\nm,1e400,s,2025\n",
     "column 'layers' has '1e400', expected a whole number"),
    ("x.yaml", "accelerators: [\n", "not valid YAML"),
    ("x.yaml", "gizmos: []\n", "unknown catalog 'gizmos'"),
    ("x.yaml", "accelerators:\n  - {id: a, tdp_w: true, source: s, as_of: '2025'}\n",
     "column 'tdp_w' has True, expected float"),
    ("x.yaml", f"- {CANARY}\n", "expected a mapping of catalog name"),
    ("x.yaml", "accelerators: []\naccelerators: []\n", "duplicate key 'accelerators'"),
    ("x.yaml", f"accelerators: [{CANARY}]\n", "expected a mapping of column to value"),
])
def test_bad_catalogs_are_clear_errors(tmp_path: Path, name: str, text: str,
                                       says: str) -> None:
    with pytest.raises(InputError, match=says) as err:
        catalog.add_user_rows(write(tmp_path, f"# {CANARY}\n" + text if name.endswith(".yaml")
                                    else text, name))
    assert "\n" not in str(err.value)
    assert catalog.ids("accelerators").count("my-acc") == 0  # nothing added on an error


@pytest.mark.parametrize("name", ["passwd", "accelerators-passwd.csv", "p.yaml"])
def test_a_system_file_read_as_a_catalog_is_not_echoed(tmp_path: Path, name: str) -> None:
    text = (f"root:x:0:0:{CANARY}:/root:/bin/bash\ndaemon:x:1:1:{CANARY}:/usr/sbin:/bin/sh\n")
    with pytest.raises(InputError) as err:
        catalog.add_user_rows(write(tmp_path, text, name))
    assert CANARY not in str(err.value) and "root:x" not in str(err.value)


@pytest.mark.parametrize("text, says", [
    (f'{HEADER}\n"my-acc,{GOOD[7:]}\n', "column|row 1"),
    (f"{HEADER}\n{GOOD}\0\n", "contains NUL characters"),
])
def test_csv_syntax_errors_are_clear(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(InputError, match=says) as err:
        catalog.add_user_rows(write(tmp_path, text, "accelerators-q.csv"))
    assert "\n" not in str(err.value)


# --- hourly profiles ---------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["nan", "inf", "-1", "abc"])
def test_profile_with_a_non_finite_or_negative_hour_is_refused(bad: str) -> None:
    from wattlas.grid.regions import parse_profile

    rows = ["hour,carbon_intensity_g_per_kwh"] + [f"{h},100" for h in range(23)] + [f"23,{bad}"]
    with pytest.raises(InputError, match="row 24: carbon_intensity_g_per_kwh"):
        parse_profile("\n".join(rows) + "\n", "p.csv")


def test_profile_header_is_not_echoed() -> None:
    from wattlas.grid.regions import parse_profile

    with pytest.raises(InputError) as err:
        parse_profile(f"root:x:0:0:{CANARY}\n", "p.csv")
    assert CANARY not in str(err.value)
