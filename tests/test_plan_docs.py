"""The plan docs are executed: tutorial scenario = the example file, how-to snippets run and
print what the text says."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _blocks(path: Path, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", path.read_text(), re.MULTILINE | re.DOTALL)


def test_tutorial_scenario_is_the_example_file() -> None:
    shown = yaml.safe_load(_blocks(DOCS / "tutorial.md", "yaml")[0])
    assert shown == yaml.safe_load((ROOT / "examples" / "frontier-training.yaml").read_text())


def test_tutorial_error_line_is_what_the_cli_prints() -> None:
    text = (DOCS / "tutorial.md").read_text()
    shown = re.search(r"^error: scenario: unknown key 'training\.tokenz'.*$", text, re.M)
    proc = subprocess.run([sys.executable, "-m", "wattlas.cli", "plan",
                           str(ROOT / "examples" / "frontier-training.yaml"), "--set",
                           "training.tokenz=1e12"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert proc.stderr.strip() == shown.group(0)


def test_own_catalog_howto_runs(tmp_path: Path) -> None:
    from wattlas import catalog
    from wattlas import scenario as sc
    from wattlas.plan import resolved_scenario, run_plan

    cat, scen_text = _blocks(DOCS / "howto-own-catalog.md", "yaml")[:2]
    (tmp_path / "my-catalog.yaml").write_text(cat)
    (tmp_path / "my-scenario.yaml").write_text(scen_text)
    try:
        scen = sc.load(tmp_path / "my-scenario.yaml")
        plan = run_plan(scen)
        res = resolved_scenario(scen, str(tmp_path))
    finally:
        catalog.clear_user_rows()
    assert plan["training"]["accelerator"] == "h100-sxm-1000w"
    assert "my-campus" in {r["region"] for r in plan["site"]["regions"]}
    assert plan["governance"]["accelerators"][0]["eccn"] == "3A090.a"
    assert set(res["wattlas"]["user_catalogs_sha256"]) == {"my-catalog.yaml"}


def test_footprint_howto_snippet_prints_the_published_numbers() -> None:
    code = _blocks(DOCS / "howto-footprint.md", "python")[0]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(code, "howto-footprint.md", "exec"), {})
    out = buf.getvalue()
    assert "688.1 MWh" in out      # Llama 2 model card: 688.1 MWh derived
    assert "291.4 t CO2e" in out   # Llama 2 model card: 291.42 tCO2e


def test_footprint_howto_scenario_is_valid() -> None:
    from wattlas import scenario as sc
    from wattlas.plan import check_ids

    check_ids(sc.validate(yaml.safe_load(_blocks(DOCS / "howto-footprint.md", "yaml")[0])))


@pytest.mark.parametrize("page", ["training.md", "energy.md", "siting.md"])
def test_methodology_links_the_area_pages(page: str) -> None:
    assert f"]({page})" in (DOCS / "methodology.md").read_text()
