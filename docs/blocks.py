"""Run every Python and shell block of README.md and docs/*.md, and check or rewrite its shown
output.

    python docs/blocks.py            # run every block; rewrite stale shown output in place
    python docs/blocks.py --check    # run every block; exit 1 if one fails or its output is stale
    python docs/blocks.py docs/energy.md ...   # only these files

``tests/test_docs_run.py`` runs the same code, one test per page.

What counts as a block (fenced with three backticks):

* ``python`` / ``py``: executed; the blocks of one page share a namespace, in page order, in a
  temporary folder holding a copy of ``examples/``. A ``print(...)  # TEXT`` line says what it
  prints: the printed line must contain TEXT (rewritten from the run when stale).
* ``console`` / ``bash`` / ``sh`` / ``shell``, or an unlabelled block whose first line starts
  with ``$``: each ``$ command`` (continued by a trailing backslash) runs in bash in that folder
  with ``wattlas`` on the PATH, a 160-column terminal (tables unwrapped) and no colour. The
  lines after a command are its shown output, usually abridged: each line (less a trailing
  ``  # note``; an ellipsis ends the compared part) must appear in the command's output,
  table borders and runs of spaces ignored. A stale line is rewritten from the output line
  with the same label (the text before its first run of two spaces, or its first table cell).
  A command is expected to exit 0, unless its shown output starts with ``error:``. A block
  with no ``$`` runs each non-comment line as a command.
* A ``yaml`` block is written to a file of the page's folder when the text just above it names
  the file (``` `my-scenario.yaml`: ``` or ``<!-- file: NAME -->``).
* ``<!-- illustrative -->`` on the line before a fence: the block is not run (an excerpt, a
  syntax summary). ``<!-- slow: REASON -->``: run by ``docs/blocks.py`` but skipped by the
  test suite, with the reason. A ``<!-- generated:NAME start -->`` block is written by
  ``docs/generate.py`` and checked by ``tests/test_readme.py``.

Installation lines (``python -m venv``, ``pip install``, ``. .venv/bin/activate``, ``make
…``) are not run: the checks run inside the installed environment.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"console", "bash", "sh", "shell"}
PYTHON = {"python", "py"}
SETUP = re.compile(r"^(python3? -m venv|pip install|\. \.venv/bin/activate|source |make )")
BOX = re.compile(r"[│┃┏┓┗┛┡┩└┘┌┐├┤┬┴┼━─═╇╈╡╞╪┳┻╋▕▏]")
FENCE = re.compile(r"^```(\S*)\s*$")
FILE_HINT = re.compile(r"(?:`([\w.\-/]+\.(?:ya?ml|csv|json))`:\s*$|<!--\s*file:\s*(\S+)\s*-->)")
ENV = {"COLUMNS": "160", "NO_COLOR": "1", "TERM": "dumb"}


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str  # python | shell | file
    body: list[str]
    marker: str = ""  # illustrative | slow: REASON | file: NAME
    filename: str | None = None

    @property
    def id(self) -> str:
        page = self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page.name
        return f"{page}:{self.line}"


@dataclass
class Outcome:
    ok: bool
    problems: list[str] = field(default_factory=list)
    new_body: list[str] | None = None  # the body with stale shown output rewritten


def collect(pages: list[Path] = PAGES) -> list[Block]:
    """Every fenced block of `pages` that runs or writes a file, in page order."""
    out: list[Block] = []
    for page in pages:
        lines = page.read_text(encoding="utf-8").split("\n")
        i = 0
        while i < len(lines):
            m = FENCE.match(lines[i])
            if not m:
                i += 1
                continue
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            lang, body = m.group(1).lower(), lines[i + 1:j]
            above = [x for x in lines[max(0, i - 3):i] if x.strip()]
            marker = ""
            if above and above[-1].strip().startswith("<!--"):
                marker = above[-1].strip()[4:-3].strip()
            kind = None
            if lang in PYTHON:
                kind = "python"
            elif lang in SHELL or (lang == "" and body and body[0].startswith("$ ")):
                kind = "shell"
            elif lang in ("yaml", "yml", "csv", "json") and above:
                hint = FILE_HINT.search(above[-1])
                if hint:
                    out.append(Block(page, i + 1, "file", body, marker,
                                     hint.group(1) or hint.group(2)))
            if kind:
                out.append(Block(page, i + 1, kind, body, marker))
            i = j + 1
    return out


def workdir(base: Path) -> Path:
    """A folder with a copy of examples/ (the pages' relative paths point there)."""
    base.mkdir(parents=True, exist_ok=True)
    if not (base / "examples").exists():
        shutil.copytree(ROOT / "examples", base / "examples")
    return base


def norm(text: str) -> str:
    return " ".join(BOX.sub(" ", text).split())


def _note_split(line: str) -> tuple[str, str]:
    """(shown text, trailing '  # note') of a shown output line."""
    m = re.search(r"\s{2,}#\s.*$", line)
    return (line[:m.start()], line[m.start():]) if m else (line, "")


def _label(text: str) -> str:
    if text.startswith(("error:", "Error:")):
        return text.split(":", 1)[0]
    cells = [c for c in re.split(r"[│┃]", text) if c.strip()]
    if len(cells) > 1:
        return norm(cells[0])
    return norm(re.split(r"\s{2,}", text.strip(), maxsplit=1)[0])


def _commands(body: list[str]) -> list[tuple[str, list[int]]]:
    """(command, indices of its shown output lines in `body`) for a shell block."""
    has_prompt = any(x.startswith("$ ") for x in body)
    cmds: list[tuple[str, list[int]]] = []
    i = 0
    while i < len(body):
        line = body[i]
        if (has_prompt and line.startswith("$ ")) or (not has_prompt and line.strip()
                                                      and not line.lstrip().startswith("#")):
            text = line[2:] if has_prompt else line
            while text.rstrip().endswith("\\") and i + 1 < len(body):
                i += 1
                text = text.rstrip()[:-1] + " " + body[i].strip()
            cmds.append((text.strip(), []))
        elif has_prompt and cmds and line.strip():
            cmds[-1][1].append(i)
        i += 1
    return cmds


def _run(cmd: str, cwd: Path) -> tuple[int, str]:
    env = {**os.environ, **ENV,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


def run_shell(block: Block, cwd: Path,
              ran: dict[str, tuple[int, str]] | None = None) -> Outcome:
    """Run (or take from `ran`, command → (exit status, output)) each command of a shell
    block and check its shown output."""
    problems: list[str] = []
    body: list[str | None] = list(block.body)
    for cmd, shown in _commands(block.body):
        if SETUP.match(cmd):
            continue
        code, output = ran[cmd] if ran and cmd in ran else _run(cmd, cwd)
        expect_error = bool(shown) and block.body[shown[0]].startswith("error:")
        if expect_error != (code != 0) and "echo $?" not in cmd:
            problems.append(f"$ {cmd}: exit {code}; {output.strip()[-400:]}")
            continue
        whole = norm(output)
        used: set[int] = set()
        for group in _groups([block.body[k] for k in shown], shown):
            text = " ".join(_note_split(block.body[k])[0] for k in group)
            cut = re.split(r"\.\.\.|…", text)[0]
            if not norm(cut) or norm(cut) in whole:
                continue
            head, note = _note_split(block.body[group[0]])
            fresh = _match(head, text, _groups(output.split("\n")), used)
            if fresh is not None:
                body[group[0]] = fresh[0].rstrip() + note
                for k in group[1:]:
                    body[k] = None  # type: ignore[call-overload]
                body[group[0]] = "\n".join([body[group[0]], *(x.rstrip() for x in fresh[1:])])
            problems.append(f"$ {cmd}: shown '{text.strip()}' is not in the output"
                            + (f" (now '{' '.join(x.strip() for x in fresh)}')"
                               if fresh is not None else ""))
    lines = "\n".join(x for x in body if x is not None).split("\n")
    return Outcome(not problems, problems, lines)


def _groups(lines: list[str], index: list[int] | None = None) -> list[list]:
    """Lines grouped with their continuation lines (indented by four or more spaces, as a
    wrapped value of a two-column table); items are `index` entries (default the lines)."""
    out: list[list] = []
    items = index if index is not None else lines
    for line, item in zip(lines, items, strict=True):
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if out and indent >= 4 and not BOX.match(line.lstrip()):
            out[-1].append(item)
        else:
            out.append([item])
    return out


def _match(head: str, text: str, groups: list[list[str]], used: set[int]) -> list[str] | None:
    """The output group with the label of `head` most like `text` (each used once)."""
    import difflib

    label = _label(head)
    if not label:
        return None
    best, best_i, best_r = None, -1, 0.0
    for i, g in enumerate(groups):
        if i in used or _label(g[0]) != label:
            continue
        r = difflib.SequenceMatcher(None, norm(text), norm(" ".join(g))).ratio()
        if r > best_r:
            best, best_i, best_r = g, i, r
    if best is not None:
        used.add(best_i)
    return best


def run_python(block: Block, cwd: Path, namespace: dict) -> Outcome:
    code = "\n".join(block.body)
    buf = io.StringIO()
    old = Path.cwd()
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(buf):
            exec(compile(code, block.id, "exec"), namespace)  # noqa: S102 (docs under test)
    except Exception as exc:  # a block that raises is the failure being tested for
        return Outcome(False, [f"{type(exc).__name__}: {exc}"])
    finally:
        os.chdir(old)
    printed = buf.getvalue().split("\n")
    body, problems, n = list(block.body), [], 0
    for k, line in enumerate(block.body):
        if not line.lstrip().startswith("print("):
            continue
        m = re.search(r"\)\s+#\s*(.+)$", line)
        got = printed[n] if n < len(printed) else ""
        n += 1
        if m and norm(m.group(1)) not in norm(got):
            problems.append(f"line {k + 1} prints '{got}', the comment says '{m.group(1)}'")
            body[k] = line[:m.start(1)] + got.strip()
    return Outcome(not problems, problems, body)


def run_page(blocks: list[Block], base: Path, skip_slow: bool = False) -> dict[str, Outcome]:
    """Run the blocks of one page in `base`: its files written first, its shell commands run
    concurrently (each is independent; a page's commands write distinct --out folders), its
    Python blocks in page order in one namespace."""
    from concurrent.futures import ThreadPoolExecutor

    cwd = workdir(base)
    todo = [b for b in blocks
            if not (b.marker == "illustrative" or b.marker.startswith("generated:")
                    or (skip_slow and b.marker.startswith("slow")))]
    for b in todo:
        if b.lang == "file":
            (cwd / b.filename).write_text("\n".join(b.body) + "\n", encoding="utf-8")
    cmds = list(dict.fromkeys(c for b in todo if b.lang == "shell"
                              for c, _ in _commands(b.body) if not SETUP.match(c)))
    with ThreadPoolExecutor(max_workers=4) as pool:
        ran = dict(zip(cmds, pool.map(lambda c: _run(c, cwd), cmds), strict=True))
    namespace: dict = {"__name__": "__docs__"}
    out: dict[str, Outcome] = {}
    for b in todo:
        if b.lang == "python":
            out[b.id] = run_python(b, cwd, namespace)
        elif b.lang == "shell":
            out[b.id] = run_shell(b, cwd, ran)
    return out


def rewrite(page: Path, blocks: list[Block], outcomes: dict[str, Outcome]) -> bool:
    """Write the rewritten shown output of `page`'s blocks; True if the page changed."""
    lines = page.read_text(encoding="utf-8").split("\n")
    changed = False
    for b in sorted(blocks, key=lambda x: -x.line):  # from the end: line numbers stay valid
        o = outcomes.get(b.id)
        if o is None or o.new_body is None or o.new_body == b.body:
            continue
        lines[b.line:b.line + len(b.body)] = o.new_body
        changed = True
    if changed:
        page.write_text("\n".join(lines), encoding="utf-8")
    return changed


def main(argv: list[str]) -> int:
    import tempfile

    check = "--check" in argv
    pages = [Path(a).resolve() for a in argv if not a.startswith("--")] or PAGES
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for page in pages:
            blocks = collect([page])
            outcomes = run_page(blocks, Path(tmp) / page.stem)
            for bid, o in outcomes.items():
                for p in o.problems:
                    print(f"{bid}: {p}")
                failed += not o.ok
            if not check and rewrite(page, blocks, outcomes):
                print(f"rewrote shown output in {page}")
    return 1 if failed and check else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
