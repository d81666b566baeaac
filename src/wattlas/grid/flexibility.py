"""Flexible interconnection: a load that accepts curtailment connects sooner or larger, and what
the curtailment costs the work it runs.

Norris, Profeta, Patiño-Echeverri and Cowie-Haskell (2025), *Rethinking Load Growth: Assessing
the Potential for Integration of Large Flexible Loads in US Power Systems*, Nicholas Institute,
Duke University (hdl.handle.net/10161/32077): across the 22 largest US balancing authorities
(95 % of US load) the existing system can absorb new load that accepts curtailment of a small
share of its maximum annual energy — *curtailment-enabled headroom* of 76 GW at 0.25 %, 98 GW at
0.5 % and 126 GW at 1 % curtailment (:data:`NORRIS_2025_HEADROOM_W`).

The study's Figure 1 gives the headroom per balancing authority (e.g. PJM 13.3 / 17.8 /
23.6 GW, ERCOT 6.5 / 10.0 / 14.7 GW at 0.25 / 0.5 / 1 %): the regions catalog carries them
(``curtailable_headroom_0p25pct_w``, ``curtailable_headroom_w``, ``curtailable_headroom_1pct_w``).
A region's headroom at the accepted share f is linear between its points and through 0 at
f = 0, flat beyond 1 % (not extrapolated); with only the 0.5 % value the national curve's
shape H(f) / H(0.5 %) scales it (:func:`headroom_scale`). Within that headroom the load connects
at build time, without the network-upgrade queue; above it, the rest waits for the queue (a
phased connection). The headroom is area-wide and shared by every new flexible load there, and
the study counts no transmission constraint (its Limitations): a local connection can still
take longer than the build. Mean curtailment event: 1.7, 2.1 and 2.5 h at 0.25, 0.5 and 1 %
(:data:`NORRIS_2025_EVENT_HOURS`).

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
#: (curtailment share [-], mean duration of a curtailment event [h]) (Norris et al. 2025,
#: Summary of Analysis and Findings)
NORRIS_2025_EVENT_HOURS = ((0.0025, 1.7), (0.005, 2.1), (0.01, 2.5))


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


def _interp(points: tuple[tuple[float, float], ...], f: float) -> float:
    """Linear through (0, 0) and `points` (share, value), flat beyond the last point."""
    pts = ((0.0, 0.0), *points)
    if f >= pts[-1][0]:
        return pts[-1][1]
    for (f0, h0), (f1, h1) in zip(pts, pts[1:], strict=False):
        if f0 <= f <= f1:
            return h0 + (h1 - h0) * (f - f0) / (f1 - f0)
    return 0.0


def flexible_headroom_w(curtailable_headroom_w: float | None, frac: float,
                        at_0p25pct_w: float | None = None,
                        at_1pct_w: float | None = None) -> float | None:
    """Headroom [W] a load accepting curtailment share `frac` can connect to without waiting for
    network upgrades: linear through the region's published points (0.25, 0.5, 1 %), or its
    0.5 % value × :func:`headroom_scale` when only that is known; None where none is
    published."""
    f = check_frac(frac)
    if curtailable_headroom_w is None:
        return None
    if at_0p25pct_w is not None and at_1pct_w is not None:
        return _interp(((0.0025, float(at_0p25pct_w)), (REFERENCE_FRAC,
                                                         float(curtailable_headroom_w)),
                        (0.01, float(at_1pct_w))), f)
    return float(curtailable_headroom_w) * headroom_scale(f)


def event_hours(frac: float) -> float | None:
    """Mean duration of a curtailment event [h] at share `frac` (Norris et al. 2025), linear
    between the study's points, None outside 0.25-1 %."""
    f = check_frac(frac)
    pts = NORRIS_2025_EVENT_HOURS
    if not (pts[0][0] <= f <= pts[-1][0]):
        return None
    for (f0, h0), (f1, h1) in zip(pts, pts[1:], strict=False):
        if f0 <= f <= f1:
            return h0 + (h1 - h0) * (f - f0) / (f1 - f0)
    return None


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
