"""Run every stage a scenario asks for and write a report with charts.

Writes report.html (self-contained, opens offline), report.md, plan.json (all numbers, SI,
unit-suffixed keys; the same values the single-verb commands print) and scenario.resolved.yaml
(the resolved scenario with the wattlas version and a hash of each shipped catalog), and prints
a summary. Example: wattlas plan examples/frontier-training.yaml --out out/frontier-training
"""

from __future__ import annotations

import typer

from . import _options

NO_ARGS_IS_HELP = True


def write_outputs(plan: dict, resolved: dict, out_dir: str, force: bool = False,
                  flag: str = "--out") -> list[str]:
    """Write the four report files into `out_dir` (created); return their paths. An existing
    report is replaced only with `force`; files are written atomically and a symbolic link is
    never followed (:func:`wattlas.safeio.write_files`)."""
    import yaml

    from ..report import html, markdown
    from ..safeio import write_files
    from ._common import dump_json

    files = {
        "plan.json": dump_json(plan) + "\n",
        "report.md": markdown.render(plan),
        "report.html": html.render(plan),
        "scenario.resolved.yaml": yaml.safe_dump(resolved, sort_keys=False),
    }
    return write_files(out_dir, files, force=force, flag=flag)


def default_out_dir(name: str | None, scenario_path: str) -> str:
    """``out/<slug>``: the scenario's name (else the file's stem) made a plain folder name, so
    no name (``/etc/x``, ``../../y``) can place the report outside ``out/``."""
    from pathlib import Path

    from ..safeio import slug

    return str(Path("out") / slug(name or Path(scenario_path).stem))


def _summary(plan: dict, paths: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    from ..report import best_region, compare_line, summary_rows

    table = Table(title=f"wattlas plan: {plan['scenario']}", header_style="bold")
    table.add_column("quantity", no_wrap=True)
    table.add_column("value", overflow="fold")
    # the key is what a reader greps plan.json for: whole, never cut to "training.trai…"
    table.add_column("plan.json key", no_wrap=True, overflow="fold",
                     min_width=max([len(r["path"]) for r in summary_rows(plan)] + [14]))
    for r in summary_rows(plan):
        table.add_row(r["label"], r["human"], r["path"])
    best = best_region(plan)
    if best:
        table.add_row("best region", str(best["region"]), "site.regions")
    for i, r in enumerate((plan.get("compare") or {}).get("rows", [])):
        if not r.get("baseline"):
            table.add_row(f"vs {r['accelerator']}" + (f" ({r['system']})" if r.get("system")
                                                       else ""),
                          compare_line(r, short=True), f"compare.rows.{i}")
    for g in (plan.get("governance") or {}).get("accelerators", []):
        table.add_row(f"export class {g['accelerator']}", g["eccn"], "governance.accelerators")
    crossed = [g["instrument"] for g in (plan.get("governance") or {}).get("compute", [])
               if g["crossed"]]
    if crossed:
        table.add_row("compute thresholds crossed", ", ".join(crossed), "governance.compute")
    for p in (plan.get("route") or {}).get("policies", []):
        ttft = ("no request completed" if p.get("ttft_p99_s") is None
                else f"TTFT p99 {p['ttft_p99_s'] * 1e3:,.0f} ms")
        co2 = p.get("co2e_g_per_request")
        table.add_row(f"route: {p['policy']}",
                      f"{ttft}, SLO {p['slo_attainment_frac']:.1%}"
                      + ("" if co2 is None else f", {co2:.3g} g/req"), "route.policies")
    from ..report import tornado_rows

    for i, r in enumerate(tornado_rows(plan)[:3]):  # the tornado's top inputs, P10 to P90
        moved = ", ".join(f"{lab} {r[lab]}" for lab in ("days", "MW", "MWh", "cost", "tCO2e")
                          if r.get(lab))
        table.add_row(f"moves most #{i + 1}", f"{r['input']}: {moved}", "uncertainty.tornado")
    console = Console()
    console.print(table)
    for n in plan.get("notes", []):
        console.print(f"[dim]note:[/dim] {n}")
    console.print("wrote " + ", ".join(paths))


def command(
    scenario: str = typer.Argument(..., help="Scenario YAML file."),
    out: str = typer.Option(None, "--out", "-o",
                            help="Output directory (default: out/<scenario name as a plain "
                                 "folder name>); an existing report needs --force."),
    catalog_files: list[str] = _options.CATALOG,
    fmt: str = typer.Option("table", "--format", "-f", help="table | json (summary output)."),
    overrides: list[str] = typer.Option(None, "--set", help="Override a scenario field a.b=c."),
    force: bool = typer.Option(False, "--force",
                               help="Replace a report already in the output directory."),
) -> None:
    from pathlib import Path

    from .. import plan as pl
    from .. import scenario as sc
    from ..safeio import check_out_dir
    from ._common import check_format, print_json

    check_format(fmt, ("table", "json"))
    _options.load_catalogs(catalog_files)
    if out is not None:
        check_out_dir(out)  # a bad --out fails before the plan runs
    scen = sc.load(scenario, overrides or [])
    out_dir = out if out is not None else default_out_dir(scen.name, scenario)
    result = pl.run_plan(scen)
    paths = write_outputs(result, pl.resolved_scenario(scen, str(Path(scenario).parent)),
                          out_dir, force=force,
                          flag="--out" if out is not None else "output folder")
    if fmt == "json":
        print_json(result)
    else:
        _summary(result, paths)
