"""Benchmark: `wattlas plan` on the shipped examples (all stages + Markdown + HTML rendering)."""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _time_plan(example: str, overrides: list[str] | None = None) -> tuple[float, float]:
    from wattlas import scenario as sc
    from wattlas.plan import run_plan
    from wattlas.report import html, markdown

    scen = sc.load(ROOT / "examples" / example, overrides or [])
    t0 = time.perf_counter()
    plan = run_plan(scen)
    t1 = time.perf_counter()
    html.render(plan)
    markdown.render(plan)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def run() -> list[dict]:
    out = []
    for example in ("frontier-training.yaml", "moe-fp8.yaml", "global-serving.yaml"):
        plan_s, render_s = _time_plan(example)
        stem = example.removesuffix(".yaml")
        out.append({"name": f"plan {stem}: all stages", "value": plan_s, "unit": "s",
                    "target": "<= 5"})
        out.append({"name": f"plan {stem}: render html+md", "value": render_s, "unit": "s",
                    "target": "<= 0.5"})
    return out


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:45s} {row['value']:.3f} {row['unit']} (target {row['target']})")
