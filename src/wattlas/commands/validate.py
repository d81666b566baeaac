"""Compare predictions with published measurements (training, energy, inference)."""

from __future__ import annotations

import typer

from . import _options


def command(
    suite: str = typer.Argument("all", help="training | energy | inference | all"),
    catalog_files: list[str] = _options.CATALOG,
    fmt: str = typer.Option("table", "--format", "-f", help="table | json | csv | markdown"),
    summary_only: bool = typer.Option(False, "--summary",
                                      help="Only the error summary per source."),
) -> None:
    from ..stages.validate import validate_stage
    from ._common import check_format, print_csv, print_json, print_table

    check_format(fmt, ("table", "json", "csv", "markdown"))
    _options.load_catalogs(catalog_files)
    out = validate_stage(suite)
    rows, summary = out["cases"], out["summary"]
    at_scale = {k: v for k, v in out.items() if k.startswith("summary_by_")}
    if fmt == "json":
        print_json({"cases": rows, "summary": summary, **at_scale})
    elif fmt == "csv":
        print_csv(rows)
    elif fmt == "markdown":
        typer.echo(summary_markdown(summary) if summary_only else
                   summary_markdown(summary) + "\n\n" + cases_markdown(rows))
    else:
        if not summary_only:
            print_table(rows, ["source", "case", "metric", "published", "predicted",
                               "error_frac"], title=f"wattlas validate {suite}")
        print_table([{"source": k, **v} for k, v in summary.items()], title="summary")
        for key, title in (("summary_by_generation", "published tables at scale, out of "
                            "sample, by GPU generation"),
                           ("summary_by_scale", "published tables at scale, out of sample, "
                            "by GPU count")):
            if at_scale.get(key):
                print_table([{"group": k, **v} for k, v in at_scale[key].items()], title=title)


def summary_markdown(summary: dict[str, dict]) -> str:
    """The error summary per source as a Markdown table (README, docs/validation.md)."""
    out = ["| source | n | median abs error | signed median | mean abs error | max abs error |",
           "|---|---:|---:|---:|---:|---:|"]
    for k, v in summary.items():
        out.append(f"| {k} | {v['n']} | {v['median_abs_error_frac']:.1%} | "
                   f"{v.get('signed_median_error_frac', float('nan')):+.1%} | "
                   f"{v['mean_abs_error_frac']:.1%} | {v['max_abs_error_frac']:.1%} |")
    return "\n".join(out)


def cases_markdown(rows: list[dict]) -> str:
    """Published vs predicted per case as a Markdown table (docs/validation.md)."""
    out = ["| source | case | metric | published | predicted | error |",
           "|---|---|---|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r['source']} | {r['case']} | {r['metric']} | {r['published']:.4g} | "
                   f"{r['predicted']:.4g} | {r['error_frac']:+.1%} |")
    return "\n".join(out)
