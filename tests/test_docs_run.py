"""Every Python and shell block of README.md and docs/*.md runs, and shows what it prints now.

The runner is ``docs/blocks.py`` (``make docs`` rewrites stale shown output with it); one test
per page, since the blocks of a page share their folder and Python namespace. Blocks marked
``<!-- illustrative -->`` are not run (kept to a few); ``<!-- slow: REASON -->`` blocks are run
by ``make docs`` only.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _blocks_module():
    spec = importlib.util.spec_from_file_location("docs_blocks", ROOT / "docs" / "blocks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


blocks = _blocks_module()
PAGES = [p for p in blocks.PAGES if blocks.collect([p])]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_page_blocks_run_and_show_current_output(page: Path, tmp_path: Path) -> None:
    found = blocks.collect([page])
    for b in found:
        if b.marker.startswith("slow"):
            print(f"{b.id}: not run here ({b.marker})")
    outcomes = blocks.run_page(found, tmp_path, skip_slow=True)
    problems = [f"{bid}: {p}" for bid, o in outcomes.items() for p in o.problems]
    assert not problems, ("\n".join(problems)
                          + "\n(stale shown output: run `make docs` and review the diff)")


def test_the_docs_have_runnable_blocks_and_few_illustrative_ones() -> None:
    found = blocks.collect()
    runnable = [b for b in found if b.lang in ("python", "shell")]
    python = [b for b in runnable if b.lang == "python"]
    illustrative = [b for b in runnable if b.marker == "illustrative"]
    assert len(python) >= 4 and len(runnable) >= 30
    assert len(illustrative) <= max(3, len(runnable) // 10), [b.id for b in illustrative]


def _page(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    return page


def test_a_block_that_raises_fails(tmp_path: Path) -> None:
    page = _page(tmp_path, "```python\nplan = plan_training(model)\n```\n")
    (outcome,) = blocks.run_page(blocks.collect([page]), tmp_path / "run").values()
    assert not outcome.ok and "NameError" in outcome.problems[0]


def test_stale_output_fails_and_is_rewritten(tmp_path: Path) -> None:
    page = _page(tmp_path, "Text.\n\n```console\n$ wattlas rtt us-va de-fra\n"
                           "distance              1 km  # a note\n"
                           "RTT (modelled)        92.5 ms\n```\n\n"
                           "<!-- illustrative -->\n```console\n$ wattlas nonsense\n```\n")
    found = blocks.collect([page])
    outcomes = blocks.run_page(found, tmp_path / "run")
    assert len(outcomes) == 1  # the illustrative block is not run
    (outcome,) = outcomes.values()
    assert not outcome.ok and "shown 'distance              1 km'" in outcome.problems[0]
    assert blocks.rewrite(page, found, outcomes)
    text = page.read_text(encoding="utf-8")
    assert "6,549 km  # a note" in text and "RTT (modelled)        92.5 ms" in text
    again = blocks.run_page(blocks.collect([page]), tmp_path / "run2")
    assert all(o.ok for o in again.values())


def test_an_expected_error_and_a_printed_comment_are_checked(tmp_path: Path) -> None:
    page = _page(tmp_path, "```console\n$ wattlas rtt us-va nowhere-at-all\n"
                           "error: unknown region\n```\n\n```python\n"
                           "print(f\"{2 + 2}\")  # 5\n```\n")
    outcomes = list(blocks.run_page(blocks.collect([page]), tmp_path / "run").values())
    assert outcomes[0].ok, outcomes[0].problems
    assert not outcomes[1].ok and "prints '4'" in outcomes[1].problems[0]
