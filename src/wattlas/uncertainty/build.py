"""Regenerate ``data/intervals.csv`` from the validation cases (split conformal).

``python -m wattlas.uncertainty.build`` runs every validation suite (as ``wattlas validate all``
does), turns each out-of-sample case into an error factor (:func:`.intervals.residual`), fits
each regime's quantiles on the fit half and measures coverage on the held-back half, and
writes the table. ``--check`` exits 1 when the shipped file differs (a stale table).
"""

from __future__ import annotations

import io
import sys
from collections import defaultdict
from importlib import resources
from pathlib import Path

from .intervals import COLUMNS, LEVELS, STAGES, Interval, Residual, choose, quantiles, residual

SOURCE = ("wattlas validate all: out-of-sample cases, fit half by SHA-256(source|case|metric) "
          "first byte even; coverage on the held-back half")


def residuals() -> list[Residual]:
    """Every validation case that says something about a planned quantity, as a residual."""
    from .. import validation

    return [r for r in (residual(c) for c in validation.run("all")) if r is not None]


def fit(res: list[Residual]) -> dict[tuple[str, str], Interval]:
    """Quantiles per (stage, regime) from the fit half; coverage of the regime's own [P10, P90]
    on its held-back cases (None when it has none)."""
    groups: dict[tuple[str, str], list[Residual]] = defaultdict(list)
    for r in res:
        for k in r.keys:
            groups[(r.stage, k)].append(r)
    out = {}
    for key in sorted(groups, key=lambda k: (STAGES.index(k[0]), k[1] != "all", k[1])):
        fit_f = [r.factor for r in groups[key] if r.fit]
        held = [r.factor for r in groups[key] if not r.fit]
        if not fit_f:
            continue
        q = quantiles(fit_f)
        cov = (sum(q[0.10] <= f <= q[0.90] for f in held) / len(held)) if held else None
        out[key] = Interval(key[0], key[1], len(fit_f), len(held),
                            tuple(q[lv] for lv in LEVELS), cov)
    return out


def coverage(res: list[Residual], intervals: dict[tuple[str, str], Interval]
             ) -> dict[str, tuple[float, int]]:
    """Per stage: the share of held-back cases inside the [P10, P90] interval the plan would
    give them (:func:`.intervals.choose`), and how many there are."""
    hits: dict[str, list[bool]] = defaultdict(list)
    for r in res:
        if not r.fit:
            iv = choose(r.stage, r.keys, intervals)
            hits[r.stage].append(iv.p10 <= r.factor <= iv.p90)
    return {s: (sum(h) / len(h), len(h)) for s, h in hits.items()}


def render(intervals: dict[tuple[str, str], Interval]) -> str:
    """The CSV text of the table (6 significant digits)."""
    import csv

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for iv in intervals.values():
        w.writerow([iv.stage, iv.regime, iv.n_fit, iv.n_held_back,
                    *(f"{f:.6g}" for f in iv.factors),
                    "" if iv.coverage_held_back_frac is None
                    else f"{iv.coverage_held_back_frac:.4f}", SOURCE])
    return buf.getvalue()


def path() -> Path:
    return Path(str(resources.files("wattlas.data").joinpath("intervals.csv")))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    res = residuals()
    text = render(fit(res))
    if "--check" in argv:
        current = path().read_text("utf-8") if path().exists() else ""
        if current != text:
            print("data/intervals.csv is stale: run python -m wattlas.uncertainty.build")
            return 1
        return 0
    path().write_text(text, "utf-8")
    for stage, (cov, n) in coverage(res, fit(res)).items():
        print(f"{stage}: nominal 80 % interval covers {cov:.1%} of {n} held-back cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
