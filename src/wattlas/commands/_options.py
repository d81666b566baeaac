"""Options that several commands share (one definition, one help text). Imports only Typer,
so command start-up stays light."""

from __future__ import annotations

import typer

#: energy.* scenario fields that the shared energy flags below write
ENERGY_FLAG_KEYS = ("power_basis", "pue", "grid_intensity_g_per_kwh", "price_usd_per_mwh")

REGION = typer.Option(None, "--region", help="Region id (for energy and carbon).")
POWER_BASIS = typer.Option(None, "--power-basis", help="tdp | measured | modeled")
PUE = typer.Option(None, "--pue", help="Facility PUE [ratio ≥ 1] (default: "
                    "region/cooling).")
GRID_INTENSITY = typer.Option(None, "--grid-intensity-g-per-kwh",
                              help="Grid carbon intensity [gCO2e/kWh] (default: region).")
PRICE = typer.Option(None, "--price-usd-per-mwh", help="Electricity price [USD/MWh] (default: "
                     "region).")

#: metavar by option flag where the type alone says too little
_NAMED_METAVARS = {"--model": "ID", "--accelerator": "ID", "--system": "ID", "--region": "ID",
                   "--engine": "ID", "--draft": "ID", "--distill-to": "ID", "--format": "FORMAT",
                   "--set": "KEY=VALUE", "--catalog": "FILE", "--out": "DIR",
                   "--profile": "REGION=FILE", "--site-cap-mw": "REGION=MW"}
#: metavar by annotation (click's own names for the rest)
_TYPE_METAVARS = {int: "N", float: "X", str: "TEXT"}


def plain_metavars(func: object) -> None:
    """Give every option of a command function a metavar ("N", "X", "ID", "KEY=VALUE", …) and
    every argument its upper-case name, so help never shows a Python type ("<int>",
    "<list[str]>"). Flags (bool) take no value and keep none."""
    import inspect
    import typing

    from typer.models import ArgumentInfo, OptionInfo

    hints = typing.get_type_hints(func)
    for name, param in inspect.signature(func).parameters.items():  # type: ignore[arg-type]
        info = param.default
        if not isinstance(info, OptionInfo | ArgumentInfo) or info.metavar is not None:
            continue
        hint = hints.get(name)
        if isinstance(info, ArgumentInfo):
            info.metavar = name.upper()
            continue
        if hint is bool:
            continue
        args = typing.get_args(hint)
        base = next((a for a in args if a is not type(None)), hint) if args else hint
        if typing.get_origin(base) is list:
            base = typing.get_args(base)[0]
        flag = next((d for d in info.param_decls if d.startswith("--")), "")
        info.metavar = _NAMED_METAVARS.get(flag, _TYPE_METAVARS.get(base, "TEXT"))
