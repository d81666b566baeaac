"""Distance and modelled network round-trip time between two points.

A and B are region ids (wattlas catalog regions), city names of the built-in table, or
"lat,lon" in degrees. rtt_floor_s is light in fibre (200 km/ms) both ways; rtt_s multiplies it
by a route stretch that falls from ≈2 (short haul) to 1.4 (long haul).
Example: wattlas rtt us-va de-fra
"""

from __future__ import annotations

import typer

NO_ARGS_IS_HELP = True
#: "-33.87,151.21" (south or west) is a point, not an option: unknown options pass through as
#: arguments, and a leftover that is not a point is refused by geo.resolve_point.
CONTEXT_SETTINGS = {"ignore_unknown_options": True}


def command(
    a: str = typer.Argument(..., help="Region id, city or 'lat,lon'."),
    b: str = typer.Argument(..., help="Region id, city or 'lat,lon'."),
    fmt: str = typer.Option("table", "--format", "-f", help="table | json | csv"),
) -> None:
    from ..grid import geo
    from ._common import check_format, print_csv, print_json, print_pairs

    check_format(fmt)
    lat1, lon1, la = geo.resolve_point(a)
    lat2, lon2, lb = geo.resolve_point(b)
    d = geo.distance_km(lat1, lon1, lat2, lon2)
    out = {"a": la, "b": lb, "a_lat": lat1, "a_lon": lon1, "b_lat": lat2, "b_lon": lon2,
           "distance_km": d, "rtt_floor_s": geo.rtt_floor_s(d),
           "route_stretch": geo.route_stretch(d), "rtt_s": geo.rtt_s(lat1, lon1, lat2, lon2)}
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
