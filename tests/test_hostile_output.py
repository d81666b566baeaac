"""Hostile outputs: reports stay in their folder, are never overwritten without --force, are
written atomically, never through a planted symbolic link; no NaN or infinity is ever written
(the JSON writer refuses instead of writing null); report.md escapes injected text."""

from __future__ import annotations

import json
import math
import os
import re
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wattlas.commands._common import check_finite, dump_json
from wattlas.errors import InputError, NonFiniteOutputError
from wattlas.safeio import slug, write_files

SITE_ONLY = "site: {power_mw: 10, rack_kw: 40, candidates: [us-va, is]}\n"
FILES = ("plan.json", "report.md", "report.html", "scenario.resolved.yaml")


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


@pytest.mark.parametrize("name, folder", [
    ("frontier-training-405b", "frontier-training-405b"), ("/etc/x", "etc-x"),
    ("../../../tmp/y", "tmp-y"), ("..", "plan"), (".", "plan"), ("", "plan"),
    ("Llama 3 / 405B", "llama-3-405b"), ("~root/$HOME", "root-home"), ("a\nb\x00c", "a-b-c"),
    ("-rf", "rf"), ("x" * 300, "x" * 64),
])
def test_slug_is_a_plain_folder_name(name: str, folder: str) -> None:
    assert slug(name) == folder


@settings(max_examples=200)
@given(st.text(max_size=300))
def test_slug_never_leaves_its_folder(name: str) -> None:
    s = slug(name)
    assert s and len(s) <= 64 and "/" not in s and s not in (".", "..")
    assert os.path.normpath(os.path.join("out", s)).startswith("out" + os.sep)


@pytest.mark.parametrize("name", ["/etc/hostile-x", "../../../tmp/hostile-y", "a/../../b"])
def test_plan_default_folder_stays_under_out(monkeypatch, capsys, tmp_path: Path,
                                             name: str) -> None:
    work = tmp_path / "a" / "b" / "work"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    (work / "s.yaml").write_text(f"name: '{name}'\n" + SITE_ONLY)
    code, _, err = cli(monkeypatch, capsys, "plan", "s.yaml", "--format", "json")
    assert code == 0, err
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert all(w.startswith("a/b/work/out/") for w in written if not w.endswith("s.yaml"))
    assert len([w for w in written if w.startswith("a/b/work/out/")]) == 4
    assert not Path("/etc/hostile-x").exists() and not Path("/tmp/hostile-y").exists()


def test_out_refuses_to_overwrite_a_report_without_force(monkeypatch, capsys,
                                                         tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    Path("s.yaml").write_text("name: s\n" + SITE_ONLY)
    assert cli(monkeypatch, capsys, "plan", "s.yaml", "--out", "r", "-f", "json")[0] == 0
    before = Path("r/plan.json").read_text()
    Path("r/plan.json").write_text("{}")
    code, _, err = cli(monkeypatch, capsys, "plan", "s.yaml", "--out", "r")
    assert code == 2 and "--out 'r' already holds plan.json; pass --force" in err
    assert Path("r/plan.json").read_text() == "{}"  # untouched
    assert cli(monkeypatch, capsys, "plan", "s.yaml", "--out", "r", "--force",
               "-f", "json")[0] == 0
    assert json.loads(Path("r/plan.json").read_text()) == json.loads(before)
    assert sorted(p.name for p in Path("r").iterdir()) == sorted(FILES)  # no temporary files


def test_a_planted_symlink_is_never_followed(monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    Path("s.yaml").write_text("name: s\n" + SITE_ONLY)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    Path("r").mkdir()
    Path("r/report.md").symlink_to(victim)
    for extra in ((), ("--force",)):
        code, _, err = cli(monkeypatch, capsys, "plan", "s.yaml", "--out", "r", *extra)
        assert code == 2 and "report.md is a symbolic link" in err
    assert victim.read_text() == "keep"
    Path("elsewhere").mkdir()
    Path("linked").symlink_to(tmp_path / "elsewhere")
    code, _, err = cli(monkeypatch, capsys, "plan", "s.yaml", "--out", "linked")
    assert code == 2 and "is a symbolic link; give a real folder" in err
    assert not any(Path("elsewhere").iterdir())


def test_write_files_replaces_atomically(tmp_path: Path) -> None:
    paths = write_files(tmp_path / "o", {"a.txt": "one", "b.txt": "two"})
    assert [Path(p).read_text() for p in paths] == ["one", "two"]
    with pytest.raises(InputError, match="already holds a.txt"):
        write_files(tmp_path / "o", {"a.txt": "x"})
    inode = os.stat(tmp_path / "o" / "a.txt").st_ino
    write_files(tmp_path / "o", {"a.txt": "three"}, force=True)
    assert (tmp_path / "o" / "a.txt").read_text() == "three"
    assert os.stat(tmp_path / "o" / "a.txt").st_ino != inode  # a new file renamed in place
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["a.txt", "b.txt"]
    with pytest.raises(InputError, match="not a plain name"):
        write_files(tmp_path / "o", {"../x.txt": "x"})


@pytest.mark.parametrize("out, says", [
    ("{file}", "is a file, not a folder"),
    ("/proc/hostile", "is under /proc"), ("/proc/self", "is under /proc"),
    ("/sys/hostile", "is under /sys"), ("/dev/null", "is under /dev"),
    ("o" * 300, "a folder name of 300 bytes; allowed: at most 255"),
    ("/".join(["d" * 50] * 100), "5,099 characters; allowed: at most 1024"),
    ("", "empty"),
])
def test_bad_out_is_a_clear_error(monkeypatch, capsys, tmp_path: Path, out: str,
                                  says: str) -> None:
    monkeypatch.chdir(tmp_path)
    Path("s.yaml").write_text("name: s\n" + SITE_ONLY)
    Path("afile").write_text("x")
    out = out.replace("{file}", "afile")
    code, stdout, err = cli(monkeypatch, capsys, "plan", "s.yaml", "--out", out)
    assert code == 2 and says in err and err.count("\n") == 1, err
    assert stdout == ""


# --- no NaN or infinity in any output -----------------------------------------------------------

@pytest.mark.parametrize("obj, path", [
    ({"a": math.nan}, "a"), ({"x": [1.0, {"y": math.inf}]}, "x.1.y"),
    ([0.0, -math.inf], "1"),
])
def test_json_writer_refuses_non_finite_numbers(obj: object, path: str) -> None:
    with pytest.raises(NonFiniteOutputError, match=f"output '{path}' is"):
        dump_json(obj)


def test_json_writer_refuses_numpy_nan() -> None:
    import numpy as np

    with pytest.raises(NonFiniteOutputError, match="'v.2'"):
        dump_json({"v": np.array([1.0, 2.0, np.nan])})
    assert NonFiniteOutputError.exit_code == 3  # a defect, never an answer


def _assert_finite_json(text: str) -> None:
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in the output"))
    check_finite(data)


FAST = settings(max_examples=12, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(gpus=st.sampled_from([8, 16, 64, 512]),
       tokens=st.floats(1, 1e17), seq_len=st.integers(1, 2**17),
       batch=st.integers(1, 10**6), pue=st.one_of(st.none(), st.floats(1, 10)),
       intensity=st.one_of(st.none(), st.floats(0, 5000)))
def test_train_outputs_are_finite_or_refused(monkeypatch, capsys, gpus, tokens, seq_len,
                                             batch, pue, intensity) -> None:
    argv = ["train", "--model", "llama3.1-8b", "--accelerator", "h100-sxm", "--gpus",
            str(gpus), "--tokens", repr(tokens), "--seq-len", str(seq_len), "--global-batch",
            str(batch), "--region", "us-va", "--format", "json"]
    if pue is not None:
        argv += ["--pue", repr(pue)]
    if intensity is not None:
        argv += ["--grid-intensity-g-per-kwh", repr(intensity)]
    code, out, err = cli(monkeypatch, capsys, *argv)
    assert code in (0, 1, 2), err
    assert "internal error" not in err and "Traceback" not in err
    if code == 0:
        _assert_finite_json(out)
    else:
        assert err.count("\n") == 1


@FAST
@given(prompt=st.integers(1, 200_000), output=st.integers(1, 20_000),
       rate=st.one_of(st.none(), st.floats(1e-9, 1e9)), hours=st.floats(1e-3, 876_000),
       tp=st.sampled_from([1, 2, 8]))
def test_serve_outputs_are_finite_or_refused(monkeypatch, capsys, prompt, output, rate, hours,
                                             tp) -> None:
    argv = ["serve", "--model", "llama3.1-8b", "--accelerator", "h100-sxm", "--tp", str(tp),
            "--prompt-tokens", str(prompt), "--output-tokens", str(output), "--hours",
            repr(hours), "--region", "is", "--format", "json"]
    if rate is not None:
        argv += ["--rate", repr(rate)]
    code, out, err = cli(monkeypatch, capsys, *argv)
    assert code in (0, 1, 2), err
    assert "internal error" not in err and "Traceback" not in err
    if code == 0:
        _assert_finite_json(out)
    else:
        assert err.count("\n") == 1


@FAST
@given(power=st.floats(1e-6, 1e5), rack=st.floats(0.01, 1e4),
       users=st.lists(st.tuples(st.floats(-90, 90), st.floats(-180, 180)), max_size=3))
def test_site_outputs_are_finite_or_refused(monkeypatch, capsys, power, rack, users) -> None:
    argv = ["site", "--power-mw", repr(power), "--rack-kw", repr(rack), "--format", "json"]
    if users:
        argv += ["--users", ";".join(f"{a!r},{b!r}" for a, b in users)]
    code, out, err = cli(monkeypatch, capsys, *argv)
    assert code in (0, 1, 2), err
    assert "internal error" not in err and "Traceback" not in err
    if code in (0, 1) and out.strip():
        _assert_finite_json(out)


# --- report.md escapes injected text -----------------------------------------------------------

def test_report_md_escapes_injected_text(monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    evil = "<script>alert(1)</script> [x](javascript:alert(1)) `rm -rf` | col"
    Path("s.yaml").write_text(f"name: '{evil}'\n" + SITE_ONLY)
    code, _, err = cli(monkeypatch, capsys, "plan", "s.yaml", "--out", "r", "-f", "json")
    assert code == 0, err
    md = Path("r/report.md").read_text()
    assert "<script>" not in md
    assert not re.search(r"(?<!\\)\]\(javascript:", md)  # the link is escaped: \](
    assert not re.search(r"(?<!\\)`rm -rf", md)  # no code span
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "<script>" not in Path("r/report.html").read_text()


def test_latency_quantiles_of_nothing_are_none() -> None:
    import numpy as np

    from wattlas.routing.metrics import percentiles

    assert percentiles(np.array([])) == [None, None, None]


@FAST
@given(demand=st.floats(1e-3, 1e5), replicas=st.integers(1, 20),
       calls=st.integers(1, 4), ttft=st.floats(1e-4, 10), admission=st.booleans(),
       cap=st.one_of(st.none(), st.floats(500, 1e6)), requests=st.integers(1, 400))
def test_route_outputs_are_finite_or_refused(monkeypatch, capsys, tmp_path_factory, demand,
                                             replicas, calls, ttft, admission, cap,
                                             requests) -> None:
    import yaml

    site = {"name": "va", "region": "us-va", "accelerator": "h100-sxm", "precision": "fp8",
            "tp": 2, "replicas": replicas}
    if cap is not None:
        site["power_cap_w"] = cap
    scen = {"model": "llama3.1-8b", "routing": {
        "users": [{"name": "na", "lat": 40.7, "lon": -74.0, "demand_rps": demand}],
        "sites": [site], "session": {"calls": calls, "tool_s": 0.5},
        "slo": {"ttft_s": ttft}, "admission": admission, "requests": requests}}
    path = tmp_path_factory.mktemp("route") / "r.yaml"
    path.write_text(yaml.safe_dump(scen))
    code, out, err = cli(monkeypatch, capsys, "route", str(path), "--format", "json")
    assert code in (0, 1, 2), err
    assert "internal error" not in err and "Traceback" not in err
    if code == 0:
        _assert_finite_json(out)


def test_route_with_every_request_refused_writes_no_nan(monkeypatch, capsys,
                                                        tmp_path: Path) -> None:
    import yaml

    scen = {"model": "llama3.1-8b", "routing": {
        "users": [{"name": "na", "lat": 40.7, "lon": -74.0, "demand_rps": 50}],
        "sites": [{"name": "va", "region": "us-va", "accelerator": "h100-sxm", "tp": 1,
                   "replicas": 1}],
        "session": {"calls": 2, "tool_s": 0.5}, "slo": {"ttft_s": 1e-4},
        "admission": True, "requests": 200}}
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(scen))
    code, out, err = cli(monkeypatch, capsys, "route", str(tmp_path / "r.yaml"), "--format",
                         "json")
    assert code == 0, err
    _assert_finite_json(out)
    rows = json.loads(out)["policies"]
    assert any(r["completed"] == 0 and r["ttft_p99_s"] is None for r in rows), rows


def test_a_planted_out_link_is_not_followed(monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    Path("s.yaml").write_text("name: s\n" + SITE_ONLY)
    Path("elsewhere").mkdir()
    Path("out").symlink_to(tmp_path / "elsewhere")
    code, _, err = cli(monkeypatch, capsys, "plan", "s.yaml")
    assert code == 2 and "output folder 'out/s': 'out' is a symbolic link" in err
    assert not any(Path("elsewhere").iterdir())


def test_csv_and_table_writers_refuse_non_finite_numbers(capsys) -> None:
    from wattlas.commands._common import fmt_num, print_csv

    with pytest.raises(NonFiniteOutputError, match="'row 1.b'"):
        print_csv([{"a": 1.0, "b": 2.0}, {"a": 1.0, "b": math.nan}])
    with pytest.raises(NonFiniteOutputError, match="a table cell"):
        fmt_num(math.inf)
    assert fmt_num(None) == "—"  # unknown stays a dash, never a number
