"""Flexible interconnection: a load that accepts curtailment connects sooner or larger, and what
the curtailment costs the work it runs.

Norris, Profeta, Patiño-Echeverri and Cowie-Haskell (2025), *Rethinking Load Growth: Assessing
the Potential for Integration of Large Flexible Loads in US Power Systems*, Nicholas Institute,
Duke University (hdl.handle.net/10161/32077): across the 22 largest US balancing authorities
(95 % of US load) the existing system can absorb new load that accepts curtailment of a small
share of its maximum annual energy — *curtailment-enabled headroom* of 76 GW at 0.25 %, 98 GW at
0.5 % and 126 GW at 1 % curtailment (:data:`NORRIS_2025_HEADROOM_W`).

wattlas uses that curve for its *shape* only: a region's ``curtailable_headroom_w`` (the
headroom at 0.5 % published for its balancing area, empty where not published) is scaled to
the accepted share f by H(f) / H(0.5 %), linear between the study's points and through 0 at
f = 0, and not extrapolated beyond 1 % (:func:`headroom_scale`). Within that headroom the load
connects at build time, without the network-upgrade queue; above it, the rest waits for the
queue (a phased connection).

What the curtailment costs (a flat load, curtailed hours spread over the year):

* training: the job pauses f of the hours, so it takes 1 / (1 − f) as long (slowdown
  f / (1 − f));
* serving: f of the site's requests are served elsewhere (or dropped) during curtailed hours.
"""

from __future__ import annotations

from ..errors import InputError

#: (curtailment share of maximum annual energy [-], curtailment-enabled headroom [W]) across the
#: 22 largest US balancing authorities (Norris et al. 2025, executive summary)
NORRIS_2025_HEADROOM_W = ((0.0025, 76e9), (0.005, 98e9), (0.01, 126e9))
#: the curtailment share a region's ``curtailable_headroom_w`` refers to
REFERENCE_FRAC = 0.005


def check_frac(frac: float, name: str = "site.curtailment_frac") -> float:
    """`frac` as a float in [0, 0.5] (InputError naming `name` otherwise)."""
    try:
        f = float(frac)
    except (TypeError, ValueError):
        raise InputError(f"{name} '{frac}': expected a number in [0, 0.5]") from None
    if not (0.0 <= f <= 0.5):
        raise InputError(f"{name} = {frac}: allowed 0 to 0.5 (a share of the year's hours, "
                         "e.g. 0.005 for 0.5 %)")
    return f


def headroom_scale(frac: float) -> float:
    """H(f) / H(0.5 %) of the Norris et al. (2025) curve [-]: 0 at f = 0, linear between the
    study's points, flat beyond 1 % (not extrapolated)."""
    f = check_frac(frac)
    pts = ((0.0, 0.0), *NORRIS_2025_HEADROOM_W)
    ref = dict(NORRIS_2025_HEADROOM_W)[REFERENCE_FRAC]
    if f >= pts[-1][0]:
        return pts[-1][1] / ref
    for (f0, h0), (f1, h1) in zip(pts, pts[1:], strict=False):
        if f0 <= f <= f1:
            return (h0 + (h1 - h0) * (f - f0) / (f1 - f0)) / ref
    return 0.0  # unreachable: f in [0, 1 %] lies in one segment


def flexible_headroom_w(curtailable_headroom_w: float | None, frac: float) -> float | None:
    """Headroom [W] a load accepting curtailment share `frac` can connect to without waiting for
    network upgrades: the region's published headroom at 0.5 % × :func:`headroom_scale`; None
    where the region publishes none."""
    if curtailable_headroom_w is None:
        return None
    return float(curtailable_headroom_w) * headroom_scale(frac)


def training_slowdown_frac(frac: float) -> float:
    """Extra training time [-] when the job pauses a share `frac` of the hours: f / (1 − f)."""
    f = check_frac(frac)
    return f / (1.0 - f)


def serving_shift_frac(frac: float) -> float:
    """Share of a site's requests served elsewhere during curtailed hours [-] (= f)."""
    return check_frac(frac)



#: curtailment shares the trade-off sweeps (grid.siting.curtailment_tradeoff): firm, then the
#: study's three points
SWEEP_FRACS = (0.0, 0.0025, 0.005, 0.01)
