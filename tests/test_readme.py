"""README and docs/validation.md show what the code prints now: their generated blocks (the
validation tables and the demo's summary) equal a fresh run of docs/generate.py. (The output
shown under every other command of README.md and docs/ is checked by tests/test_docs_run.py.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_generated_blocks_are_fresh() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "docs" / "generate.py"), "--check"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_readme_starts_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    first_block = text.split("```")[1].strip().splitlines()
    assert [line.split("#")[0].strip() for line in first_block] == ["make demo", "make test"]


def test_the_demo_generator_leaves_no_report_in_the_repository(tmp_path) -> None:
    """The demo block is generated from a run whose --out is a temporary folder, so `make docs`
    twice in a row works (wattlas plan refuses to overwrite a report)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen", ROOT / "docs" / "generate.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    code, lines = gen.run_command(["plan", "examples/frontier-training.yaml", "--out",
                                   "out/frontier-training"], tmp_path)
    assert code == 0, lines[-2:]
    assert (tmp_path / "out" / "frontier-training" / "plan.json").is_file()
    assert any(line.startswith("wrote out/frontier-training/plan.json") for line in lines)
