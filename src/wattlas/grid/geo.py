"""Great-circle distance and network round-trip time between two points.

RTT model: the fibre floor is the round trip at the speed of light in glass,
``rtt_floor_s = 2 · d / 200 000 km/s`` (refractive index ≈ 1.5), and the modelled RTT is the
floor times a *route stretch* that falls with distance (short paths detour proportionally more
through metro rings and exchange points; long-haul cables run closer to great circles):

    stretch(d) = S_LONG + (S_SHORT − S_LONG) · exp(−d / D_DECAY_KM)

with ``S_SHORT − S_LONG`` setting ≈ 2.4 at 0 km, ≈ 2.0 at 640 km and → 1.4 long haul.

Calibration (``data/reference/network_rtt.csv``, 2024 measurements): the constants were chosen
on the five pairs for which the file gives a great-circle distance (Washington DC–Frankfurt,
Washington DC–London, Dallas–Frankfurt, Frankfurt–London, Tokyo–Osaka); the three pairs without
one (Washington DC–Toronto, Washington DC–Dallas, Frankfurt–Madrid) were geocoded with the city
table below and kept out of the fit. Errors on every pair are pinned in
``tests/reference/test_network_rtt.py`` and quoted in ``docs/siting.md``; Washington DC–Toronto
(19–20 ms over ≈ 560 km, stretch ≈ 3.4) is an outlier that no monotone function of distance can
match together with Frankfurt–London (12–13 ms over 637 km): the model gives it ≈ 11.7 ms (−40 %).

References
----------
Singla et al., "The Internet at the Speed of Light", HotNets 2014 (fibre paths 2–3× c-latency
on short paths, ≈1.5× on long haul). Bozkurt et al., "Why is the Internet so slow?!", PAM 2017.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..units import FIBRE_KM_PER_S

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius R1
S_SHORT = 2.4  # stretch at zero distance (fit on Tokyo–Osaka 2.25, Frankfurt–London 1.9–2.0)
S_LONG = 1.4  # long-haul stretch (fit on DC–Frankfurt 1.37–1.50, Dallas–Frankfurt 1.48)
D_DECAY_KM = 1500.0  # e-folding distance between the two regimes

# City centre coordinates (source: "city centre coordinates", rounded to 0.01°), used to
# geocode the measured pairs of network_rtt.csv and accepted by resolve_point().
CITIES: dict[str, tuple[float, float]] = {
    "washington dc": (38.91, -77.04),
    "frankfurt": (50.11, 8.68),
    "london": (51.51, -0.13),
    "toronto": (43.65, -79.38),
    "dallas": (32.78, -96.80),
    "madrid": (40.42, -3.70),
    "tokyo": (35.68, 139.69),
    "osaka": (34.69, 135.50),
    "new york": (40.71, -74.01),
    "amsterdam": (52.37, 4.90),
    "paris": (48.86, 2.35),
    "singapore": (1.29, 103.85),
}
CITIES_SOURCE = "city centre coordinates"


def distance_km(lat1, lon1, lat2, lon2):
    """Great-circle distance by the haversine formula [km]; numpy-broadcastable.

    d = 2 R asin( sqrt( sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2) ) ), R = 6371.0088 km.
    Inputs in degrees.
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    d = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return float(d) if np.ndim(d) == 0 else d


def rtt_floor_s(distance_km):
    """Round-trip time at the speed of light in fibre [s]: 2 · d / (200 000 km/s)."""
    r = 2.0 * np.asarray(distance_km, dtype=float) / FIBRE_KM_PER_S
    return float(r) if np.ndim(r) == 0 else r


def route_stretch(distance_km):
    """Route stretch (path length / great-circle length) as a function of distance [−], ≥ 1.

    S_LONG + (S_SHORT − S_LONG) · exp(−d / D_DECAY_KM): ≈ 2 for short haul (< 1000 km),
    → 1.4 for long haul. Constants fitted on network_rtt.csv (see module docstring).
    """
    d = np.asarray(distance_km, dtype=float)
    s = np.maximum(1.0, S_LONG + (S_SHORT - S_LONG) * np.exp(-np.maximum(d, 0.0) / D_DECAY_KM))
    return float(s) if np.ndim(s) == 0 else s


def rtt_s(lat1, lon1, lat2, lon2):
    """Modelled round-trip time between two points [s] = floor × stretch (never below floor)."""
    d = distance_km(lat1, lon1, lat2, lon2)
    r = rtt_floor_s(d) * route_stretch(d)
    return float(r) if np.ndim(r) == 0 else r


def resolve_point(text: str) -> tuple[float, float, str]:
    """(lat, lon, label) of a region id, a city of CITIES or a "lat,lon" string [degrees]."""
    raw = str(text).strip()
    if "," in raw:
        parts = raw.split(",")
        try:
            lat, lon = float(parts[0]), float(parts[1])
        except (ValueError, IndexError):
            raise InputError(f"point '{raw}': expected 'lat,lon' in degrees, e.g. 39.04,-77.49, "
                             "or a region id") from None
        if len(parts) != 2 or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InputError(f"point '{raw}': latitude must be in [-90, 90] and longitude in "
                             "[-180, 180] degrees ('lat,lon')")
        return lat, lon, f"{lat:.4g},{lon:.4g}"
    if raw.lower() in CITIES:
        lat, lon = CITIES[raw.lower()]
        return lat, lon, raw.lower()
    from .. import catalog

    row = catalog.get("regions", raw)
    if row.get("lat") is None or row.get("lon") is None:
        raise InputError(f"region '{raw}' has no lat/lon in the regions catalog; give 'lat,lon'")
    return float(row["lat"]), float(row["lon"]), raw
