"""Options that several commands share (one definition, one help text). Imports only Typer,
so command start-up stays light."""

from __future__ import annotations

import typer

#: energy.* scenario fields that the shared energy flags below write
ENERGY_FLAG_KEYS = ("power_basis", "pue", "grid_intensity_g_per_kwh", "price_usd_per_mwh")

REGION = typer.Option(None, "--region", help="Region id (for energy and carbon).")
POWER_BASIS = typer.Option(None, "--power-basis", help="tdp | measured | modeled")
PUE = typer.Option(None, "--pue", help="Facility PUE (default: region/cooling).")
GRID_INTENSITY = typer.Option(None, "--grid-intensity-g-per-kwh",
                              help="Grid carbon intensity (default: region).")
PRICE = typer.Option(None, "--price-usd-per-mwh", help="Electricity price (default: region).")
