"""README and docs show what the code prints now: their generated blocks (the validation tables
and the demo's summary) equal a fresh run of docs/generate.py, and every ``$ wattlas`` command
of README.md and docs/tutorial.md runs, exits as its block shows (an ``error:`` line: non-zero;
otherwise 0) and prints the output lines shown under it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)


def test_generated_blocks_are_fresh() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "docs" / "generate.py"), "--check",
                           "--blocks"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_readme_starts_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    first_block = text.split("```")[1].strip().splitlines()
    assert [line.split("#")[0].strip() for line in first_block] == ["make demo", "make test"]


def _commands():
    for name in gen.CONSOLE_TARGETS:
        text = (ROOT / name).read_text()
        for start, _end, lines in gen.console_blocks(text):
            marker = text.rfind("<!-- generated:", 0, start)
            if marker >= 0 and "start -->" in text[marker:start].splitlines()[0]:
                continue  # the demo block: test_generated_blocks_are_fresh
            for cmd, shown in gen.segments(lines):
                yield pytest.param(cmd, shown, id=f"{name}:{' '.join(cmd)[2:60]}")


@pytest.mark.parametrize("cmd, shown", list(_commands()))
def test_shown_command_runs_and_prints_what_is_shown(cmd, shown, tmp_path) -> None:
    code, fresh = gen.run_command(gen.command_args(cmd), tmp_path, gen.CONSOLE_COLUMNS)
    wants_error = any(line.startswith("error:") for line in shown)
    assert (code != 0) == wants_error, f"exit {code}: " + "\n".join(fresh[-3:])
    assert shown == gen.refresh(shown, fresh), (
        "shown output is stale; run: python docs/generate.py\n" + "\n".join(fresh))


def test_hand_written_example_output_is_refreshed_in_place() -> None:
    """The regeneration keeps the lines a block chose (by label, table row name, "…")."""
    shown = ["        wattlas train: x", "training time     1.0 days", "layout            old",
             "┃ q ┃ v ┃", "│ b │ 2 │", "…"]
    fresh = ["   wattlas train: y", "training time     2.0 days", "GPU-hours   9",
             "layout            tp=8", "                  wrapped", "┃ q ┃ v ┃", "│ a │ 1 │",
             "│ b │ 3 │", "│ c │ 4 │"]
    assert gen.refresh(shown, fresh) == ["   wattlas train: y", "training time     2.0 days",
                                         "layout            tp=8", "                  wrapped",
                                         "┃ q ┃ v ┃", "│ b │ 3 │", "…"]
