"""Distance and modelled network round-trip time between two points.

A and B are region ids (wattlas catalog regions), city names of the built-in table, or
"lat,lon" in degrees. rtt_floor_s is light in fibre (200 km/ms) both ways; rtt_s multiplies it
by a route stretch that falls from ≈2 (short haul) to 1.4 (long haul).
Example: wattlas rtt us-va de-fra
"""

from __future__ import annotations

import typer

from . import _options

NO_ARGS_IS_HELP = True
#: "-33.87,151.21" (south or west) is a point, not an option: unknown options pass through as
#: arguments, and a leftover that is not a point is refused by geo.resolve_point.
CONTEXT_SETTINGS = {"ignore_unknown_options": True}


def command(
    a: str = typer.Argument(..., help="Region id, city or 'lat,lon'."),
    b: str = typer.Argument(..., help="Region id, city or 'lat,lon'."),
    catalog_files: list[str] = _options.CATALOG,
    fmt: str = typer.Option("table", "--format", "-f", help="table | json | csv"),
) -> None:
    from ..stages.route import rtt_stage
    from ._common import check_format, print_csv, print_json, print_pairs

    check_format(fmt)
    _options.load_catalogs(catalog_files)
    out = rtt_stage(a, b)
    la, lb, d = out["a"], out["b"], out["distance_km"]
    if fmt == "json":
        print_json(out)
    elif fmt == "csv":
        print_csv([out])
    else:
        print_pairs([("distance", f"{d:,.0f} km"),
                     ("RTT floor (fibre)", f"{out['rtt_floor_s'] * 1e3:.1f} ms"),
                     ("route stretch", f"{out['route_stretch']:.2f}"),
                     ("RTT (modelled)", f"{out['rtt_s'] * 1e3:.1f} ms")],
                    title=f"wattlas rtt: {la} → {lb}")
