"""Run every benchmark (`make bench`) and print one table: name, value, unit, target, ok.

Each ``benchmarks/bench_*.py`` exposes ``run() -> list[dict]`` with keys name, value, unit,
target — measured here, never asserted in tests. A target "<op> <number>" (op one of <=, >=,
<, >, ≤, ≥, or "within ±" for an absolute bound) is checked; any other text ("report", a
published range) is shown as it is.
"""

from __future__ import annotations

import importlib.util
import json
import operator
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt,
       "≤": operator.le, "≥": operator.ge, "within ±": lambda v, bound: abs(v) <= bound}
TARGET = re.compile(r"^(<=|>=|≤|≥|<|>|within ±)\s*([-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?)")


def bench_cli_startup() -> list[dict]:
    """Wall time of `wattlas --help` (median of 7 runs after one warm-up)."""
    cmd = [sys.executable, "-m", "wattlas.cli", "--help"]
    subprocess.run(cmd, capture_output=True, check=True)
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    times.sort()
    return [{"name": "cli --help start-up", "value": times[3], "unit": "s", "target": "<= 0.3"}]


def meets(value: float, target: str | None) -> bool | None:
    """Whether `value` meets a checkable `target`; None when the target is only text."""
    match = TARGET.match(target or "")
    return OPS[match[1]](value, float(match[2])) if match else None


def main() -> int:
    results = bench_cli_startup()
    for path in sorted(HERE.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        results.extend(module.run())
    from rich.console import Console
    from rich.table import Table

    table = Table(title="wattlas benchmarks")
    for col in ("benchmark", "value", "unit", "target", "ok"):
        table.add_column(col)
    for r in results:
        ok = meets(r["value"], r.get("target"))
        table.add_row(r["name"], f"{r['value']:.4g}", r["unit"], r.get("target") or "",
                      {True: "yes", False: "NO", None: ""}[ok])
    Console().print(table)
    missed = [r["name"] for r in results if meets(r["value"], r.get("target")) is False]
    print(f"{len(missed)} of {sum(meets(r['value'], r.get('target')) is not None for r in results)}"
          " checkable targets not met" + (": " + "; ".join(missed) if missed else ""))
    (HERE.parent / "out").mkdir(exist_ok=True)
    (HERE.parent / "out" / "bench.json").write_text(json.dumps(results, indent=2))
    return 0  # benchmarks measure and report; tests are what gate


if __name__ == "__main__":
    sys.exit(main())
