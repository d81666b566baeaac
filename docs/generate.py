"""Write the generated blocks of README.md and docs/validation.md: the validation tables
(``wattlas validate``) and the demo's terminal summary (``wattlas plan`` on the bundled example,
its report written to a temporary folder so a rerun never meets an existing one). The output
shown under every other command of README.md and docs/ is checked and refreshed by
``docs/blocks.py``.

    python docs/generate.py          # rewrite the generated blocks
    python docs/generate.py --check  # exit 1 if a block differs from a fresh run

Only the text between the ``<!-- generated:NAME start/end -->`` markers is generated; the prose
around it is written by hand.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- generated:{name} start -->", "<!-- generated:{name} end -->"
DEMO = ["plan", "examples/frontier-training.yaml", "--out", "out/frontier-training", "--force"]


def demo_output() -> str:
    """What ``make demo`` prints, in a 100-column terminal, as a fenced block."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:  # the shown --out, written elsewhere
        code, lines = run_command(DEMO, Path(tmp))
    if code != 0:
        raise SystemExit(f"generate: wattlas {' '.join(DEMO)} exits {code}: {lines[-1:]}")
    return "\n".join(["```", "$ wattlas " + " ".join(DEMO), *lines, "```"])


def blocks() -> dict[str, str]:
    """The generated Markdown by block name: `summary`, `cases` and `demo`."""
    from wattlas import validation
    from wattlas.commands.validate import cases_markdown, summary_markdown

    cases = validation.run("all")
    return {"summary": summary_markdown(validation.summarize(cases)),
            "cases": cases_markdown([c.as_row() for c in cases]), "demo": demo_output()}


def fill(text: str, name: str, body: str) -> str:
    """`text` with the block `name` replaced by `body` (the markers must be present)."""
    start, end = START.format(name=name), END.format(name=name)
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"generate: marker {start!r} not found")
    return pattern.sub(lambda _: f"{start}\n{body}\n{end}", text)


TARGETS = {ROOT / "README.md": ("summary", "demo"),
           ROOT / "docs" / "validation.md": ("summary", "cases")}


def main(argv: list[str]) -> int:
    fresh = blocks()
    stale = []
    for path, names in TARGETS.items():
        text = path.read_text()
        new = text
        for name in names:
            new = fill(new, name, fresh[name])
        if new != text:
            stale.append(path.relative_to(ROOT))
            if "--check" not in argv:
                path.write_text(new)
    if "--check" in argv and stale:
        print("stale generated blocks in " + ", ".join(map(str, stale))
              + "; run: python docs/generate.py")
        return 1
    return 0



def run_command(args: list[str], tmp: Path, columns: int = 100) -> tuple[int, list[str]]:
    """(exit code, stdout then stderr lines) of ``wattlas ARGS`` in a terminal of `columns`,
    run in the folder `tmp` (a relative ``--out`` lands there and prints as shown; the
    repository's ``examples/`` files are read where they are)."""
    args = [str(ROOT / a) if a.startswith("examples/") else a for a in args]
    env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1", "TERM": "dumb"}
    proc = subprocess.run([sys.executable, "-m", "wattlas.cli", *args], cwd=tmp, env=env,
                          capture_output=True, text=True)
    lines = (proc.stdout + proc.stderr).splitlines()
    return proc.returncode, [line.rstrip() for line in lines]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
