"""Run many variants of a scenario through plan: one table row per point.

--vary KEY=V1,V2,… sets a scenario field (dotted path, values read as YAML) to each value;
several --vary give their cross product, or --samples N points of a Latin hypercube
(KEY=LOW..HIGH varies a number continuously). Writes sweep.parquet and sweep.csv (one row per
point, unit-suffixed columns, the Pareto points of time, facility power and cost flagged) and
pareto.svg. --executor dask://HOST:PORT runs the points on a Dask cluster; the table is the
same as in-process. Example: wattlas sweep examples/frontier-training.yaml --vary
energy.pue=1.1,1.3 --vary site.region=us-va,is --out out/pue-by-region
"""

from __future__ import annotations

import typer

from . import _options

NO_ARGS_IS_HELP = True


def _progress(total: int, enabled: bool):
    """A rich progress bar on stderr (a no-op context when disabled)."""
    import contextlib

    if not enabled:
        return contextlib.nullcontext(None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress("sweep", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True), transient=True)


def command(
    scenario: str = typer.Argument(..., help="Scenario YAML file."),
    vary: list[str] = typer.Option(..., "--vary", help="KEY=V1,V2,… or KEY=LOW..HIGH "
                                   "(a scenario field by dotted path); repeat for more keys."),
    samples: int = typer.Option(None, "--samples", help="Latin-hypercube points [points] "
                                "instead of the cross product."),
    seed: int = typer.Option(0, "--seed", help="Seed of the sampled design [integer]."),
    executor: str = typer.Option("local", "--executor",
                                 help="local | dask://HOST:PORT (a running Dask scheduler)."),
    out: str = typer.Option(None, "--out", "-o", help="Output directory (default: "
                            "out/<scenario name>-sweep); existing files need --force."),
    catalog_files: list[str] = _options.CATALOG,
    fmt: str = typer.Option("table", "--format", "-f", help="table | json (summary output)."),
    overrides: list[str] = typer.Option(None, "--set", help="Override a scenario field a.b=c "
                                        "in every point."),
    force: bool = typer.Option(False, "--force", help="Replace files already in the output "
                               "directory."),
) -> None:
    import io
    import time
    from pathlib import Path

    from .. import scenario as sc
    from ..safeio import check_out_dir, slug, write_files
    from ..uncertainty import executors, sweep
    from ._common import check_format, print_json

    check_format(fmt, ("table", "json"))
    _options.load_catalogs(catalog_files)
    executor = executors.check_executor(executor)
    if out is not None:
        check_out_dir(out)
    axes = [sweep.parse_vary(v) for v in vary]
    points = sweep.design(axes, samples, seed)
    data = sc.load_data(scenario, overrides or [])
    scen = sc.prepare(sc.validate(data), scenario)  # the base scenario is valid on its own
    out_dir = out if out is not None else str(Path("out") / (slug(scen.name or Path(
        scenario).stem) + "-sweep"))
    check_out_dir(out_dir)
    base = sweep.base_data(data, axes)
    sweep.check_keys(base, axes)  # a misspelt key fails here, not in every point
    t0 = time.perf_counter()
    with _progress(len(points), fmt == "table") as bar:
        task = bar.add_task("sweep", total=len(points)) if bar is not None else None
        rows = executors.run(points, base, str(Path(scenario).parent), executor,
                             progress=(lambda n: bar.advance(task, n)) if bar is not None
                             else None)
    elapsed = time.perf_counter() - t0
    df = sweep.frame(rows, axes)
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    from ..report.charts import pareto_scatter

    files: dict[str, str | bytes] = {
        "sweep.parquet": buf.getvalue(),
        "sweep.csv": df.to_csv(index=False),
        "pareto.svg": pareto_scatter(df.to_dict("records"), "training_time_s",
                                     "facility_power_w", "cost_usd_total") + "\n",
    }
    paths = write_files(out_dir, files, force=force)
    ok = int(df["ok"].sum())
    summary = {"points": len(rows), "ok": ok, "failed": len(rows) - ok,
               "pareto": int(df["pareto"].sum()), "elapsed_s": elapsed,
               "points_per_s": len(rows) / elapsed if elapsed > 0 else 0.0,
               "executor": executor, "columns": list(df.columns), "files": paths}
    if fmt == "json":
        print_json(summary)
        return
    from rich.console import Console

    console = Console()
    console.print(f"sweep: {len(rows):,} points ({ok:,} ok, {len(rows) - ok:,} failed) in "
                  f"{elapsed:,.2f} s ({summary['points_per_s']:,.0f} points/s, {executor}); "
                  f"{summary['pareto']} on the Pareto front of time, power and cost")
    errors = df.loc[~df["ok"], "error"] if "error" in df.columns else []
    for e in list(dict.fromkeys(errors))[:3]:
        console.print(f"[dim]failed:[/dim] {e}")
    console.print("wrote " + ", ".join(paths))
