"""Packaging: the licence is an SPDX expression (no setuptools licence-table deprecation
warning) and `make demo` installs the package alone, not the dev extras."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_licence_is_an_spdx_string_with_a_setuptools_that_reads_it():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "Apache-2.0"
    req = next(r for r in meta["build-system"]["requires"] if r.startswith("setuptools"))
    assert int(re.search(r">=\s*(\d+)", req).group(1)) >= 77  # PEP 639 strings since 77


def _recipe_chain(makefile: str, target: str) -> list[str]:
    """The recipe lines `target` runs, its prerequisites' first (one level of variables)."""
    vars_ = dict(re.findall(r"^([A-Z_]+) :?= (.+)$", makefile, re.M))

    def expand(s: str) -> str:
        for _ in range(3):
            s = re.sub(r"\$\((\w+)\)", lambda m: vars_.get(m.group(1), m.group(0)), s)
        return s

    rules = {}
    for m in re.finditer(r"^(\S[^:\n=]*):([^=\n]*)\n((?:\t.*\n?)*)", makefile, re.M):
        rules[expand(m.group(1).strip())] = ([expand(p) for p in m.group(2).split()
                                              if not p.startswith("#")],
                                             m.group(3).splitlines())
    out, todo = [], [target]
    while todo:
        deps, lines = rules.get(todo.pop(), ([], []))
        out += lines
        todo += [d for d in deps if d in rules]
    return out


def test_make_demo_installs_only_the_package():
    chain = _recipe_chain((ROOT / "Makefile").read_text(), "demo")
    installs = [line for line in chain if "pip install" in line and "--upgrade pip" not in line]
    assert installs and all("[dev]" not in line for line in installs), installs
    assert any("wattlas plan" in line for line in chain)
    # `make demo` twice in a row replaces its own report (plan refuses to overwrite otherwise)
    assert any("wattlas plan" in line and "--force" in line for line in chain)
