"""The CLI skeleton: version, catalog listing, one-line errors with exit codes."""

import json
import subprocess
import sys

import pytest

from wattlas import __version__


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wattlas.cli", *args], capture_output=True,
                          text=True, timeout=120)


def test_version():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"wattlas {__version__}"


def test_catalog_accelerators_json_has_sources():
    r = run("catalog", "accelerators", "--format", "json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert len(rows) >= 20
    for row in rows:
        assert row["id"] and row["source"], row
    ids = {row["id"] for row in rows}
    assert {"a100-sxm-80gb", "h100-sxm", "b200", "gb200", "mi300x", "tpu-v5p"} <= ids


def test_catalog_models_show_param_counts():
    r = run("catalog", "models", "--format", "json")
    assert r.returncode == 0, r.stderr
    rows = {row["id"]: row for row in json.loads(r.stdout)}
    assert rows["mixtral-8x7b"]["params_active"] < rows["mixtral-8x7b"]["params_total"]
    assert rows["llama3-70b"]["params_active"] == rows["llama3-70b"]["params_total"]


@pytest.mark.parametrize("name", ["systems", "regions"])
def test_catalog_tables_render(name):
    r = run("catalog", name)
    assert r.returncode == 0, r.stderr
    assert "source" in r.stdout


def test_unknown_catalog_is_one_line_exit_2():
    r = run("catalog", "acelerators")
    assert r.returncode == 2
    assert r.stderr.strip() == "error: unknown catalog 'acelerators'; did you mean accelerators?"
    assert "Traceback" not in r.stderr


def test_bad_format_is_rejected():
    r = run("catalog", "models", "--format", "xml")
    assert r.returncode == 2
    assert "--format 'xml': allowed table, json, csv" in r.stderr


@pytest.mark.parametrize("args, says", [
    (("plan", "examples/frontier-training.yaml", "--bogus"), "No such option: --bogus"),
    (("train", "--tp", "x"), "Invalid value for '--tp'"),
])
def test_usage_errors_exit_2_without_traceback(args, says):
    r = run(*args)
    assert r.returncode == 2
    assert says in r.stderr
    assert "Traceback" not in r.stderr
