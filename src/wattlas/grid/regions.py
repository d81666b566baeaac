"""Grid regions: connection queue, build time, carbon, price, PUE, rack density, coordinates.

A :class:`Region` is one row of the regions catalog (``catalog.rows("regions")``, columns in
``data/schema.csv``) as a frozen record. Missing values stay ``None``; where a planning default
cannot be avoided it is a named constant below with its source, and every function that uses
one says so in a ``defaults_used`` list (never a silent default).

Optional hourly or monthly profiles of carbon intensity and price can be supplied as CSV
(columns ``hour`` or ``month``, ``carbon_intensity_g_per_kwh``, ``price_usd_per_mwh``); a flat
load then sees the profile mean (months weighted by their days), which replaces the catalog's
annual average.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from ..errors import InputError

COOLING_CLASSES = ("air", "hybrid", "liquid")

# Named planning defaults, each with its source (data/reference/*.csv in the package).
AIR_RACK_CEILING_W = 60_000.0  # rack_density_cooling.csv: "air practical ceiling", STH 2024 (S20)
HYBRID_RACK_CEILING_W = 80_000.0  # rack_density_cooling.csv: rear-door heat exchanger 20-80 kW
LIQUID_RACK_CEILING_W = 140_000.0  # rack_density_cooling.csv: DLC rack-scale 120-140 kW (S20)
PUE_LIQUID_COOL_CLIMATE = 1.125  # pue.csv: planning default cold/temperate liquid 1.10-1.15 (U)
PUE_HOT_CLIMATE = 1.325  # pue.csv: planning default hot-humid 1.25-1.40 (author assumption)
PUE_AIR_NEW = 1.3  # pue.csv: new large facilities 2024, Uptime survey summary (S32)
BUILD_YEARS = (1.5, 3.0)  # datacentres.com FAQ: purpose-built DC 18-36 months to live load
ONSITE_GENERATION_YEARS = (1.0, 1.5)  # onsite.csv gas-recip: engines deploy in 12-18 months

DEFAULT_SOURCES = {
    "air_rack_ceiling_w": "rack_density_cooling.csv: air practical ceiling 60 kW (ServeTheHome "
                          "2024, S20)",
    "hybrid_rack_ceiling_w": "rack_density_cooling.csv: rear-door heat exchanger 20-80 kW (S43)",
    "liquid_rack_ceiling_w": "rack_density_cooling.csv: direct liquid cooling rack-scale "
                             "120-140 kW (S20; S12; S1)",
    "pue": "pue.csv planning defaults: liquid cold/temperate 1.10-1.15 -> 1.125, hot climate "
           "1.25-1.40 -> 1.325, air new large facilities 1.3 (Uptime 2024, S32)",
    "build_years": "datacentres.com FAQ: 18-36 months groundbreaking to live load -> 1.5-3.0 y",
    "onsite_generation_years": "onsite catalog gas-recip: reciprocating gas engines deploy in "
                               "12-18 months (Source Rock Energy Partners 2026)",
}


#: days in each month of the 365-day year the annual totals use (units.SECONDS_PER_YEAR)
DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True)
class Profile:
    """Hourly (24 or 8760 values) or monthly (12) carbon intensity and price of a region.

    The means are what a flat load sees over a year: hours weigh equally, months by their
    number of days (:data:`DAYS_IN_MONTH`, 365-day year).
    """

    period: str  # "hour" | "month"
    carbon_intensity_g_per_kwh: tuple[float, ...] | None = None
    price_usd_per_mwh: tuple[float, ...] | None = None

    def _mean(self, v: tuple[float, ...] | None) -> float | None:
        if not v:
            return None
        w = DAYS_IN_MONTH if self.period == "month" else (1,) * len(v)
        return sum(x * d for x, d in zip(v, w, strict=True)) / sum(w)

    def mean_carbon_g_per_kwh(self) -> float | None:
        return self._mean(self.carbon_intensity_g_per_kwh)

    def mean_price_usd_per_mwh(self) -> float | None:
        return self._mean(self.price_usd_per_mwh)

    def run_hours(self, pause_frac: float, by: str = "carbon") -> tuple[bool, ...]:
        """Hours a job runs when it pauses in the ⌊pause_frac · n + ½⌋ dirtiest (by="carbon")
        or dearest (by="price") of the profile's n hours (ties: the later hour pauses)."""
        if self.period != "hour":
            raise InputError("pausing in the dirtiest or dearest hours needs an hourly profile "
                             "(24 or 8760 rows); this one is monthly")
        key = (self.carbon_intensity_g_per_kwh if by == "carbon" else self.price_usd_per_mwh
               if by == "price" else None)
        if by not in ("carbon", "price"):
            raise InputError(f"energy.pause_by '{by}': allowed carbon, price")
        if not key:
            col = "carbon_intensity_g_per_kwh" if by == "carbon" else "price_usd_per_mwh"
            raise InputError(f"energy.pause_by {by}: the profile has no {col} column")
        if not (0.0 <= pause_frac < 1.0):
            raise InputError(f"energy.pause_frac = {pause_frac}: allowed 0 to < 1")
        n = len(key)
        k = int(pause_frac * n + 0.5)
        order = sorted(range(n), key=lambda i: (key[i], i), reverse=True)
        paused = set(order[:k])
        return tuple(i not in paused for i in range(n))

    def run_means(self, pause_frac: float, by: str = "carbon"
                  ) -> tuple[float | None, float | None, float]:
        """(mean intensity [g/kWh], mean price [USD/MWh], share of hours run [-]) of a job
        that pauses in the dirtiest or dearest hours (:meth:`run_hours`)."""
        run = self.run_hours(pause_frac, by)

        def mean(v: tuple[float, ...] | None) -> float | None:
            if not v:
                return None
            xs = [x for x, r in zip(v, run, strict=True) if r]
            return sum(xs) / len(xs)

        return (mean(self.carbon_intensity_g_per_kwh), mean(self.price_usd_per_mwh),
                sum(run) / len(run))


@dataclass(frozen=True)
class Region:
    """One grid region; every field as in data/schema.csv (SI units, years for time spans)."""

    id: str
    name: str | None = None
    country: str | None = None
    lat: float | None = None
    lon: float | None = None
    grid_zone: str | None = None
    queue_years_low: float | None = None
    queue_years_high: float | None = None
    build_years_low: float | None = None
    build_years_high: float | None = None
    onsite_generation: bool | None = None
    energy_mix: str | None = None
    carbon_intensity_g_per_kwh: float | None = None
    carbon_basis: str | None = None
    carbon_year: int | None = None
    price_usd_per_mwh: float | None = None
    price_basis: str | None = None
    price_year: int | None = None
    price_band_low_j_per_year: float | None = None
    price_band_high_j_per_year: float | None = None
    capacity_charge_usd_per_mw_year: float | None = None
    tariff: str | None = None
    large_load_threshold_w: float | None = None
    min_demand_frac: float | None = None
    min_demand_generation_frac: float | None = None
    min_take_basis: str | None = None
    contract_years: float | None = None
    collateral: str | None = None
    upgrade_cost_payer: str | None = None
    pue_air: float | None = None
    pue_liquid: float | None = None
    rack_density_low_w: float | None = None
    rack_density_high_w: float | None = None
    rack_density_liquid_high_w: float | None = None
    liquid_cooling: bool | None = None
    available_w: float | None = None
    headroom_added_w_per_year: float | None = None
    curtailable_headroom_0p25pct_w: float | None = None
    curtailable_headroom_w: float | None = None
    curtailable_headroom_1pct_w: float | None = None
    climate: str | None = None
    source: str | None = None
    source_detail: str | None = None
    as_of: str | None = None
    note: str | None = None
    profile: Profile | None = None


_FIELDS = {f.name for f in fields(Region)} - {"profile"}


def from_row(row: dict[str, Any]) -> Region:
    """A Region from a catalog row (unknown columns ignored, missing ones None)."""
    return Region(**{k: row.get(k) for k in _FIELDS})


def region(region_id: str) -> Region:
    """The catalog region `region_id` (CatalogKeyError with close matches if unknown)."""
    from .. import catalog

    return from_row(catalog.get("regions", region_id))


def all_regions() -> list[Region]:
    from .. import catalog

    return [from_row(r) for r in catalog.rows("regions")]


def pue(reg: Region, cooling: str) -> tuple[float, list[str]]:
    """PUE of a `cooling` facility in `reg` [−] and the defaults used to get it."""
    check_cooling(cooling)
    given = reg.pue_liquid if cooling == "liquid" else reg.pue_air
    if given is not None:
        return float(given), []
    if reg.climate in ("hot-dry", "hot-humid"):
        value = PUE_HOT_CLIMATE
    else:
        value = PUE_LIQUID_COOL_CLIMATE if cooling == "liquid" else PUE_AIR_NEW
    return value, [f"pue={value} ({DEFAULT_SOURCES['pue']})"]


def rack_limit_w(reg: Region, cooling: str) -> tuple[float | None, list[str], list[str]]:
    """Highest rack power `reg` can host with `cooling` [W], reasons it cannot, defaults used.

    air: min(region rack_density_high_w, 60 kW air ceiling); hybrid (rear-door): min(region
    high, 80 kW); liquid: region rack_density_liquid_high_w, else rack_density_high_w, unless the
    catalog says liquid_cooling false (unknown is assumed available and listed in the defaults).
    Where the region's density is unknown the cooling class's technology ceiling is returned
    and named in the defaults; :func:`rack_limit_basis` tells the two apart, and siting ranks a
    region assessed on such a ceiling only after the regions with a published density.
    """
    check_cooling(cooling)
    reasons: list[str] = []
    defaults: list[str] = []
    high = reg.rack_density_high_w
    if cooling == "liquid" and reg.rack_density_liquid_high_w is not None:
        high = reg.rack_density_liquid_high_w
    ceiling = {"air": AIR_RACK_CEILING_W, "hybrid": HYBRID_RACK_CEILING_W,
               "liquid": LIQUID_RACK_CEILING_W}[cooling]
    if cooling == "liquid":
        if reg.liquid_cooling is False:
            reasons.append(f"liquid cooling is not offered in {reg.id} (catalog liquid_cooling "
                           "false); choose --cooling air or a region with liquid cooling, or "
                           "add it with --catalog")
        elif reg.liquid_cooling is None:
            defaults.append("liquid cooling unknown in the catalog: assumed available "
                            "(check with the operator)")
        if high is None:
            defaults.append(f"liquid_rack_ceiling_w={ceiling:.0f} "
                            f"({DEFAULT_SOURCES['liquid_rack_ceiling_w']})")
            return ceiling, reasons, defaults
        return float(high), reasons, defaults
    key = f"{cooling}_rack_ceiling_w"
    if high is None:
        defaults.append(f"{key}={ceiling:.0f} ({DEFAULT_SOURCES[key]})")
        return ceiling, reasons, defaults
    return min(float(high), ceiling), reasons, defaults


def rack_density_known(reg: Region, cooling: str) -> bool:
    """Whether the catalog gives the rack density `reg` hosts with `cooling` (a published band,
    not a technology ceiling)."""
    check_cooling(cooling)
    if cooling == "liquid" and reg.rack_density_liquid_high_w is not None:
        return True
    return reg.rack_density_high_w is not None


def rack_limit_basis(reg: Region, cooling: str) -> str:
    """Where the rack limit of `reg` for `cooling` comes from: ``"region"`` (a density the
    catalog publishes for the region) or ``"default"`` (the cooling class's technology ceiling,
    which is the same in every region and is named in ``defaults_used``).

    A rack's power limit is set by the hall's cooling plant, not by the grid: where no regional
    figure is published, the technology ceiling is a statement about the cooling class, not
    about the region. Siting assesses such a region on that ceiling but ranks it after every
    region whose rack density is published (:func:`wattlas.grid.siting.rank`)."""
    return "region" if rack_density_known(reg, cooling) else "default"


def build_years(reg: Region) -> tuple[tuple[float, float], list[str]]:
    if reg.build_years_low is not None and reg.build_years_high is not None:
        return (float(reg.build_years_low), float(reg.build_years_high)), []
    return BUILD_YEARS, [f"build_years={BUILD_YEARS} ({DEFAULT_SOURCES['build_years']})"]


def check_cooling(cooling: str) -> str:
    if cooling not in COOLING_CLASSES:
        raise InputError(f"cooling '{cooling}': allowed {', '.join(COOLING_CLASSES)}")
    return cooling


def load_profile(path: str | Path) -> Profile:
    """Read a profile CSV: column ``hour`` (24 or 8760 rows) or ``month`` (12 rows), with
    ``carbon_intensity_g_per_kwh`` and/or ``price_usd_per_mwh``."""
    from ..safeio import read_text, shown_path

    p = Path(path)
    if not p.is_file():
        raise InputError(f"profile file '{shown_path(path)}' not found")
    return parse_profile(read_text(p, "profile file"), shown_path(path))


def parse_profile(text: str, origin: str = "profile") -> Profile:
    try:
        reader = csv.DictReader(io.StringIO(text))
        cols = reader.fieldnames or []
        rows = list(reader)
    except csv.Error as exc:
        raise InputError(f"{origin}: not valid CSV ({str(exc)[:60]})") from None
    period = "hour" if "hour" in cols else "month" if "month" in cols else None
    if period is None:  # the header is not echoed: the file may not be a profile at all
        raise InputError(f"{origin}: needs a column 'hour' or 'month' and "
                         "carbon_intensity_g_per_kwh and/or price_usd_per_mwh")
    allowed = {period, "carbon_intensity_g_per_kwh", "price_usd_per_mwh"}
    unknown = sorted(set(cols) - allowed)
    if unknown:
        named = [c for c in unknown if c.isidentifier() and len(c) <= 64]
        raise InputError(f"{origin}: unknown column(s) "
                         f"{', '.join(named) if named else '(not column names)'}; allowed "
                         f"{', '.join(sorted(allowed))}")
    if any(None in r for r in rows):
        raise InputError(f"{origin}: a row has more cells than the header has columns")
    sizes = (24, 8760) if period == "hour" else (12,)
    if len(rows) not in sizes:
        raise InputError(f"{origin}: {len(rows)} rows for a '{period}' profile; expected "
                         f"{' or '.join(map(str, sizes))}")
    if period == "month":  # months are weighted by their days: put them in calendar order
        try:
            months = [int(float(r["month"])) for r in rows]
        except (TypeError, ValueError, OverflowError):
            months = []
        if sorted(months) != list(range(1, 13)):
            raise InputError(f"{origin}: column month must hold 1 to 12, each once")
        rows = [r for _, r in sorted(zip(months, rows, strict=True), key=lambda p: p[0])]

    def column(name: str) -> tuple[float, ...] | None:
        if name not in cols:
            return None
        out = []
        for i, r in enumerate(rows, start=1):
            try:
                v = float(r[name])
            except (TypeError, ValueError):
                raise InputError(f"{origin} row {i}: {name} '{str(r[name])[:24]}' is not a "
                                 "number") from None
            if not (math.isfinite(v) and v >= 0):
                raise InputError(f"{origin} row {i}: {name} {v}: allowed: a finite number "
                                 ">= 0")
            out.append(v)
        return tuple(out)

    return Profile(period, column("carbon_intensity_g_per_kwh"), column("price_usd_per_mwh"))


def with_profile(reg: Region, prof: Profile) -> Region:
    return replace(reg, profile=prof)


def carbon_g_per_kwh(reg: Region) -> float | None:
    """Mean intensity a flat load sees [gCO2e/kWh]: profile mean if given, else annual."""
    if reg.profile and reg.profile.carbon_intensity_g_per_kwh:
        return reg.profile.mean_carbon_g_per_kwh()
    return reg.carbon_intensity_g_per_kwh


def price_usd_per_mwh(reg: Region, energy_j_per_year: float | None = None) -> float | None:
    """Mean price a flat load pays [USD/MWh]: profile mean if given, else annual.

    With `energy_j_per_year` [J/year], a catalog price published for a consumption band
    (``price_band_low_j_per_year`` to ``price_band_high_j_per_year``) that does not hold that
    consumption is no price for this load: None (a profile is the user's own price and is used
    as given)."""
    if reg.profile and reg.profile.price_usd_per_mwh:
        return reg.profile.mean_price_usd_per_mwh()
    if energy_j_per_year is not None and not price_band_holds(reg, energy_j_per_year):
        return None
    return reg.price_usd_per_mwh


def price_band_holds(reg: Region, energy_j_per_year: float) -> bool:
    """Whether the catalog price's consumption band holds `energy_j_per_year` [J/year]
    (True where no band is given: EIA average industrial revenue, tariffs)."""
    lo, hi = reg.price_band_low_j_per_year, reg.price_band_high_j_per_year
    return not ((lo is not None and energy_j_per_year < lo)
                or (hi is not None and energy_j_per_year >= hi))


#: (label, test) of each field the coverage table counts; a 300 MW campus uses 2,628 GWh/year
COVERAGE_CAMPUS_J_PER_YEAR = 300e6 * 8760 * 3600.0
COVERAGE_FIELDS: tuple[tuple[str, Any], ...] = (
    ("grid intensity (annual)", lambda r: r.carbon_intensity_g_per_kwh is not None),
    ("large-load queue years", lambda r: r.queue_years_low is not None
     and r.queue_years_high is not None),
    ("rack density, air (published)", lambda r: rack_density_known(r, "air")),
    ("rack density, liquid (published)", lambda r: rack_density_known(r, "liquid")),
    ("price (any band)", lambda r: r.price_usd_per_mwh is not None),
    ("price for a 300 MW campus (2,628 GWh/y)", lambda r: r.price_usd_per_mwh is not None
     and price_band_holds(r, COVERAGE_CAMPUS_J_PER_YEAR)),
    ("capacity price", lambda r: r.capacity_charge_usd_per_mw_year is not None),
    ("PUE (air or liquid)", lambda r: r.pue_air is not None or r.pue_liquid is not None),
    ("available headroom", lambda r: r.available_w is not None),
    ("curtailable headroom", lambda r: r.curtailable_headroom_w is not None),
    ("large-load tariff terms", lambda r: r.tariff is not None),
)


def coverage(regs: list[Region] | None = None) -> list[tuple[str, int, int]]:
    """(field, regions with a value, regions) for each of :data:`COVERAGE_FIELDS`."""
    regs = all_regions() if regs is None else regs
    return [(label, sum(bool(test(r)) for r in regs), len(regs))
            for label, test in COVERAGE_FIELDS]


def coverage_markdown(regs: list[Region] | None = None) -> str:
    """The coverage table of docs/siting.md (Markdown), from the shipped catalog by default."""
    lines = ["| field | regions with a value |", "|---|---|"]
    lines += [f"| {label} | {n} of {total} |" for label, n, total in coverage(regs)]
    return "\n".join(lines)
