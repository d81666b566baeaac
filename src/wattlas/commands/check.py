"""Governance check: training compute against legal thresholds, export class of accelerators.

Training compute = model FLOPs per token (PaLM App. B: 6·N + 12·L·H·Q·T) × tokens, or given
directly with --training-flop. Each accelerator is classified under ECCN 3A090 from its catalog
row (TPP, die area, performance density), with the rule and its date.
Example: wattlas check --model llama3-405b --tokens 15.6e12 --seq-len 8192
--accelerator h100-sxm --accelerator h20
"""

from __future__ import annotations

from typing import Any

import typer

from . import _options

NO_ARGS_IS_HELP = True


def _table(out: dict[str, Any]) -> None:
    from ._common import print_pairs, print_table

    if out["training_flop"] is not None:
        pairs: list[tuple[str, Any]] = [("training compute", f"{out['training_flop']:.3g} FLOP "
                                         f"({out['training_flop_basis']})")]
        for t in out["thresholds"]:
            side = "at or above" if t["above_threshold"] else "below"
            if t["status"]:
                when = f" {t['status_date']}" if t["status_date"] else ""
                state = f"{t['status'].upper()}{when}: {side}"
            else:
                state = "CROSSES" if t["crossed"] else "below"
            line = (f"{state} {t['threshold_flop']:.0e} FLOP (×{t['ratio']:.2g}; effective "
                    f"{t['effective']}; confidence {t['confidence'] or '?'}, catalog as of "
                    f"{t['as_of'] or '?'})")
            pairs.append((t["instrument"], line))
            if t["note"]:
                pairs.append(("", f"note: {t['note']}"))
        print_pairs(pairs, title="wattlas check: training compute")
    if out["export_control"]:
        print_table(out["export_control"],
                    ["accelerator", "eccn", "tpp", "tpp_precision", "die_area_mm2",
                     "performance_density", "reason", "rule_date", "catalog_as_of"],
                    title=f"Export control: {out['export_control'][0]['rule']}",
                    headers={"tpp_precision": "TPP at", "die_area_mm2": "die mm²",
                             "performance_density": "PD", "rule_date": "rule date",
                             "catalog_as_of": "catalog as of"})
        notes = [(f"{c['accelerator']} (catalog as of {c['catalog_as_of'] or '?'})",
                  c["catalog_note"]) for c in out["export_control"] if c["catalog_note"]]
        if notes:
            print_pairs(notes, title="Catalog notes, as written")


def command(
    scenario: str = typer.Argument(None, help="Scenario YAML file (optional)."),
    model: str = typer.Option(None, "--model", help="Model id (wattlas catalog models)."),
    tokens: float = typer.Option(None, "--tokens", help="Training tokens [tokens]."),
    seq_len: int = typer.Option(None, "--seq-len", help="Sequence length [tokens]."),
    training_flop: float = typer.Option(None, "--training-flop",
                                        help="Training compute [FLOP], instead of --model."),
    accelerator: list[str] = typer.Option(None, "--accelerator",
                                          help="Accelerator id (repeat for several)."),
    overrides: list[str] = typer.Option(None, "--set", help="Scenario override a.b=c."),
    catalog_files: list[str] = _options.CATALOG,
    fmt: str = typer.Option("table", "--format", "-f", help="table | json"),
) -> None:
    from .. import scenario as sc
    from ..stages.governance import check_stage
    from ._common import check_format, print_json

    check_format(fmt, ("table", "json"))
    _options.load_catalogs(catalog_files)
    scen = sc.load(scenario, overrides) if (scenario or overrides) else None
    out = check_stage(scen, model=model, tokens=tokens, seq_len=seq_len,
                      training_flop=training_flop, accelerators=accelerator)
    if fmt == "json":
        print_json(out)
    else:
        _table(out)
