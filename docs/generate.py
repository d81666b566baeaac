"""Write the generated blocks of README.md, docs/validation.md and docs/tutorial.md: the
validation tables (``wattlas validate``), the demo's terminal summary (``wattlas plan`` on the
bundled example), and the output shown under every ``$ wattlas`` command of README.md and
docs/tutorial.md (re-read from a fresh run: the lines shown stay the ones chosen, their numbers
are what the command prints now; a command whose exit code contradicts its block fails).

    python docs/generate.py          # rewrite the generated blocks
    python docs/generate.py --check  # exit 1 if a block differs from a fresh run
    python docs/generate.py --check --blocks  # the marked blocks only (not the console output)

Only the text between the ``<!-- generated:NAME start/end -->`` markers and the output lines under
``$ wattlas`` commands are generated; the prose around them is written by hand.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- generated:{name} start -->", "<!-- generated:{name} end -->"
DEMO = ["plan", "examples/frontier-training.yaml", "--out", "out/frontier-training"]


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
    import tempfile

    fresh = blocks()
    stale, problems = [], []
    paths = list(dict.fromkeys([*TARGETS, *(ROOT / p for p in CONSOLE_TARGETS)]))
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            text = path.read_text()
            new = text
            for name in TARGETS.get(path, ()):
                new = fill(new, name, fresh[name])
            if path.relative_to(ROOT).as_posix() in CONSOLE_TARGETS and "--blocks" not in argv:
                new, found = console_text(new, Path(tmp))
                problems += [f"{path.relative_to(ROOT)}: {p}" for p in found]
            if new != text:
                stale.append(path.relative_to(ROOT))
                if "--check" not in argv:
                    path.write_text(new)
    for p in problems:
        print(p)
    if "--check" in argv and stale:
        print("stale generated output in " + ", ".join(map(str, stale))
              + "; run: python docs/generate.py")
    return 1 if problems or ("--check" in argv and stale) else 0



# --- every console block: "$ wattlas …" lines and the output shown under them ---------------

BOX = "┏┡└┗━╇╈┳┻"
#: terminal width of the console blocks (wide tables stay one line per row)
CONSOLE_COLUMNS = 120
#: Markdown files whose console blocks are regenerated from a fresh run of their commands
CONSOLE_TARGETS = ("README.md", "docs/tutorial.md")


def console_blocks(text: str) -> list[tuple[int, int, list[str]]]:
    """(start, end, lines) of each fenced block whose first line runs ``wattlas``; start/end
    are the offsets of the block body in `text`."""
    out = []
    for m in re.finditer(r"^```[a-z]*\n(.*?)^```", text, re.M | re.S):
        body = m.group(1)
        if body.startswith("$ wattlas "):
            out.append((m.start(1), m.end(1), body.splitlines()))
    return out


def segments(lines: list[str]) -> list[tuple[list[str], list[str]]]:
    """(command lines, output lines) of each ``$ wattlas`` command of a block (continuation
    lines ending in a backslash belong to the command)."""
    segs: list[tuple[list[str], list[str]]] = []
    cont = False
    for line in lines:
        if line.startswith("$ ") and not cont:
            segs.append(([line], []))
        elif cont:
            segs[-1][0].append(line)
        else:
            segs[-1][1].append(line)
        cont = line.rstrip().endswith("\\")
    return segs


def command_args(cmd_lines: list[str]) -> list[str]:
    """The arguments of ``$ wattlas ARGS  # comment`` (continuations joined)."""
    import shlex

    text = " ".join(line.rstrip().rstrip("\\") for line in cmd_lines)[2:]
    args = shlex.split(text, comments=True)
    assert args[0] == "wattlas", text
    return args[1:]


def run_command(args: list[str], tmp: Path, columns: int = 100) -> tuple[int, list[str]]:
    """(exit code, stdout then stderr lines) of ``wattlas ARGS`` in a terminal of `columns`, an
    ``--out`` folder moved into `tmp` (the shown command is unchanged)."""
    args = list(args)
    if "--out" in args:
        i = args.index("--out") + 1
        args[i] = str(tmp / Path(args[i]).name)
    env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1", "TERM": "dumb"}
    proc = subprocess.run([sys.executable, "-m", "wattlas.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    lines = (proc.stdout + proc.stderr).splitlines()
    return proc.returncode, [line.rstrip() for line in lines]


def _kind(line: str) -> str:
    s = line.strip()
    if s == "…":
        return "more"
    if line[:1] in BOX:
        return "border"
    if line.startswith("┃"):
        return "header"
    if line.startswith("│"):
        return "row"
    if line.startswith(" ") or not s:
        return "cont"
    return "item"


def _key(line: str) -> str:
    if line.startswith(("┃", "│")):
        return line.strip("┃│ ").split("┃")[0].split("│")[0].strip()
    return re.split(r"\s{2,}", line.strip())[0]


def _units(lines: list[str]) -> list[tuple[str, str, list[str]]]:
    """Output lines grouped as (kind, key, lines): an item with its wrapped continuation lines,
    a table row with its wrapped lines (first cell empty), a header, a title, a border."""
    units: list[tuple[str, str, list[str]]] = []
    for line in lines:
        kind = _kind(line)
        if kind == "cont" and units and units[-1][0] == "item":
            units[-1][2].append(line)
        elif kind == "row" and units and units[-1][0] == "row" and not _key(line):
            units[-1][2].append(line)
        elif kind == "header" and units and units[-1][0] == "header":
            units[-1][2].append(line)
        else:
            units.append((kind, _key(line) if kind in ("item", "header") else "", [line]))
    # a header wrapped over several lines is named by the first cell that has text
    return [(k, next((_key(x) for x in ls if _key(x)), key) if k == "header" else key, ls)
            for k, key, ls in units]


def refresh(shown: list[str], fresh: list[str]) -> list[str]:
    """The output lines `shown` under a command, re-read from `fresh`: each labelled line (and its
    wrapped lines) by its label, each title by its place, each table row by its first cell (a
    row of numbers by its place) under the header with the same first cell, "…" where it was.
    A label no longer printed is dropped."""
    if not shown:
        return []
    old, new = _units(shown), _units(fresh)
    titles = [u for u in new if u[0] == "cont"]
    used: set[int] = set()
    out: list[str] = []
    table: int | None = None  # index in `new` of the current table's header
    n_title = 0
    for kind, key, lines_ in old:
        if kind == "more":
            out.append("…")
        elif kind == "cont":
            if n_title < len(titles):
                out += titles[n_title][2]
            n_title += 1
        elif kind in ("item", "header"):
            hit = next((i for i, u in enumerate(new) if i not in used and u[0] == kind
                        and u[1] == key), None)
            if hit is None and kind == "header":  # renamed first column: the next table
                hit = next((i for i, u in enumerate(new) if i not in used and u[0] == kind),
                           None)
            if hit is not None:
                used.add(hit)
                out += new[hit][2]
                table = hit if kind == "header" else table
        elif kind == "row":
            start = table + 1 if table is not None else 0
            rows = [i for i in range(start, len(new)) if i not in used and new[i][0] == "row"]
            key = _key(lines_[0])
            named = [i for i in rows if _key(new[i][2][0]) == key]
            # a named row (a quantity, a region) by its name; a row of numbers by its place
            hit = (named[0] if named and not re.fullmatch(r"[-0-9.,]+", key)
                   else rows[0] if rows else None)
            if hit is not None:
                used.add(hit)
                out += new[hit][2]
        elif kind == "border":
            hit = next((i for i, u in enumerate(new) if i not in used and u[0] == "border"),
                       None)
            if hit is not None:
                used.add(hit)
                out += new[hit][2]
    return out


def console_text(text: str, tmp: Path) -> tuple[str, list[str]]:
    """`text` with the output under every ``$ wattlas`` command re-read from a fresh run, and
    the problems found (a command whose exit code contradicts what the block shows)."""
    problems: list[str] = []
    pieces, pos = [], 0
    for start, end, lines in console_blocks(text):
        marker = text.rfind("<!-- generated:", 0, start)
        if marker >= 0 and text.startswith(" start -->", text.index(" ", marker + 15)):
            continue  # inside a generated block (the demo): written whole by its generator
        body: list[str] = []
        for cmd, shown in segments(lines):
            code, fresh = run_command(command_args(cmd), tmp, CONSOLE_COLUMNS)
            wants_error = any(line.startswith("error:") for line in shown)
            if (code != 0) != wants_error:
                problems.append(f"`{cmd[0]}` exits {code}: " + " | ".join(fresh[-2:]))
            body += cmd + refresh(shown, fresh)
        pieces += [text[pos:start], "\n".join(body) + "\n"]
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces), problems


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
