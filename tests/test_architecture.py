"""Layers and import cycles of the package, from the source itself.

Every ``import`` of a ``wattlas`` module in every file under ``src/wattlas`` (module level and
inside functions alike: a lazy import is still a dependency; only ``if TYPE_CHECKING:`` blocks
are skipped) is an edge of the import graph. Two rules hold on it:

* no cycles (a strongly connected component of more than one module), and
* no upward import: each module belongs to one layer of :data:`LAYERS` (lowest first) and
  imports only its own layer or lower ones. The CLI (``commands/``, ``cli.py``) sits on top, so
  nothing else may import ``wattlas.commands``; the front door ``wattlas/__init__.py`` loads the
  API lazily and sits above everything.

The rules are checked on the real tree, on synthetic graphs, and on a copy of the tree with an
upward import injected into a stage module, so the test is known to fail when the layering
breaks.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# lowest first; a module belongs to the layer of the longest prefix it equals or extends
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("core", ("wattlas._version", "wattlas.errors", "wattlas.units", "wattlas.catalog",
              "wattlas.hardware", "wattlas.safeio", "wattlas.bounds", "wattlas.data",
              "wattlas.results", "wattlas.uncertainty.inputs")),
    ("models", ("wattlas.scenario", "wattlas.workload", "wattlas.perf", "wattlas.energy",
                "wattlas.grid", "wattlas.routing", "wattlas.governance")),
    # intervals are built from validation residuals and read by the stages
    ("validation", ("wattlas.validation", "wattlas.uncertainty.intervals",
                    "wattlas.uncertainty.build")),
    ("report", ("wattlas.report",)),
    # the plan draws input ranges and model error through the stage functions
    ("stages", ("wattlas.stages", "wattlas.compare", "wattlas.plan",
                "wattlas.uncertainty.montecarlo")),
    ("orchestration", ("wattlas.uncertainty", "wattlas.sweep")),
    ("api", ("wattlas.api",)),
    ("surfaces", ("wattlas.server",)),
    ("cli", ("wattlas.commands", "wattlas.cli")),
    ("front door", ("wattlas",)),
]


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    out: list[ast.Import | ast.ImportFrom] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                todo.extend(child.orelse)  # the else branch runs
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                out.append(child)
            todo.append(child)
    return out


def modules(src: Path) -> dict[str, tuple[Path, bool]]:
    """Dotted module name → (file, is_package) of every .py file under `src`/wattlas."""
    out = {}
    for f in sorted((src / "wattlas").rglob("*.py")):
        parts = list(f.relative_to(src).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (f, is_pkg)
    return out


def import_graph(src: Path) -> dict[str, set[str]]:
    """Module → the wattlas modules it imports (``from pkg import mod`` counts as ``pkg.mod``)."""
    mods = modules(src)
    graph: dict[str, set[str]] = {}
    for name, (path, is_pkg) in mods.items():
        package = name if is_pkg else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
                continue
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                deps.add(sub if sub in mods else target)
        graph[name] = {d for d in deps if d in mods and d != name}
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(cycles)


def layer_of(module: str, layers: list[tuple[str, tuple[str, ...]]] = LAYERS) -> int | None:
    """Index in `layers` of the most specific prefix `module` equals or extends."""
    best, best_len = None, -1
    for i, (_, prefixes) in enumerate(layers):
        for p in prefixes:
            extends = module.startswith(p + ".") and p != "wattlas"  # the root: itself only
            if (module == p or extends) and len(p) > best_len:
                best, best_len = i, len(p)
    return best


def upward_imports(graph: dict[str, set[str]],
                   layers: list[tuple[str, tuple[str, ...]]] = LAYERS) -> list[str]:
    """'a (layer) -> b (higher layer)' for every edge that points up."""
    out = []
    for a in sorted(graph):
        for b in sorted(graph[a]):
            la, lb = layer_of(a, layers), layer_of(b, layers)
            if la is not None and lb is not None and lb > la:
                out.append(f"{a} ({layers[la][0]}) -> {b} ({layers[lb][0]})")
    return out


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(SRC)


def test_every_module_has_a_layer(graph: dict[str, set[str]]) -> None:
    missing = [m for m in graph if layer_of(m) is None]
    assert not missing, f"add these modules to a layer in tests/test_architecture.py: {missing}"


def test_no_import_cycles(graph: dict[str, set[str]]) -> None:
    cycles = find_cycles(graph)
    assert cycles == [], (f"import cycles: {cycles}; move the shared part into a small module "
                          "both import (perf/codes.py, perf/serving/scenario.py are examples)")


def test_no_layer_imports_upward(graph: dict[str, set[str]]) -> None:
    up = upward_imports(graph)
    assert up == [], (f"upward imports: {up}; a refit that runs validation cases belongs in "
                      "wattlas.validation.fit, CLI logic a library caller needs in wattlas.stages")


def test_only_the_cli_imports_commands(graph: dict[str, set[str]]) -> None:
    bad = [f"{a} -> {b}" for a, deps in graph.items() for b in deps
           if b.startswith("wattlas.commands") and not (a == "wattlas.cli"
                                                       or a.startswith("wattlas.commands"))]
    assert bad == []


def test_models_load_calibration_as_data(graph: dict[str, set[str]]) -> None:
    """perf/ reads fitted constants; the fits (which run validation cases) live in validation/."""
    calib = graph["wattlas.perf.training.calibration"]
    assert not [d for d in calib if d.startswith("wattlas.validation")]


def test_the_graph_sees_every_kind_of_import(graph: dict[str, set[str]]) -> None:
    assert "wattlas.stages.site" in graph["wattlas.plan"]  # module level, relative
    assert "wattlas.perf.training.search" in graph["wattlas.stages.training"]  # inside a function
    assert "wattlas.hardware" in graph["wattlas.stages.site"]  # from .. import module
    assert "wattlas.errors" in graph["wattlas.catalog"]


# the rules themselves, on synthetic graphs ---------------------------------------------------

def test_find_cycles_on_synthetic_graphs() -> None:
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}}) == [["a", "b"],
                                                                          ["c", "d"]]


def test_upward_imports_on_a_synthetic_graph() -> None:
    layers = [("low", ("p.low",)), ("high", ("p.high",))]
    assert upward_imports({"p.high.x": {"p.low.y"}, "p.low.y": set()}, layers) == []
    assert upward_imports({"p.low.y": {"p.high.x"}, "p.high.x": set()}, layers) == [
        "p.low.y (low) -> p.high.x (high)"]


@pytest.mark.parametrize(("target", "line", "rule"), [
    ("stages/training.py", "from ..commands import train as _cli_train", "upward"),
    ("perf/training/memory.py", "from ...plan import run_plan", "upward"),
    ("errors.py", "from .catalog import get", "cycle"),
])
def test_an_injected_import_is_caught(tmp_path: Path, target: str, line: str,
                                      rule: str) -> None:
    """A copy of the tree with one bad import added fails the rule; the real tree passes it."""
    shutil.copytree(SRC / "wattlas", tmp_path / "wattlas",
                    ignore=shutil.ignore_patterns("data", "__pycache__", "*.html", "*.js"))
    path = tmp_path / "wattlas" / target
    path.write_text(path.read_text(encoding="utf-8") + f"\n\ndef _injected():\n    {line}\n",
                    encoding="utf-8")
    injected = import_graph(tmp_path)
    if rule == "upward":
        assert upward_imports(import_graph(SRC)) == []
        assert any(v.startswith(f"wattlas.{target[:-3].replace('/', '.')} ")
                   for v in upward_imports(injected))
    else:
        assert find_cycles(import_graph(SRC)) == []
        assert any("wattlas.errors" in c for c in find_cycles(injected))
