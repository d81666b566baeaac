"""Exact constants and unit conversions at the edges.

Inside wattlas every quantity is SI (s, J, W, bytes, FLOP). These helpers convert only for
display and for input flags that are conventionally given in other units.
"""

from __future__ import annotations

SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86400.0
SECONDS_PER_YEAR = 365.0 * SECONDS_PER_DAY  # a calendar year of 365 days, used for annual totals
J_PER_KWH = 3.6e6
J_PER_MWH = 3.6e9
W_PER_MW = 1e6
W_PER_KW = 1e3
KG_PER_T = 1e3
GIB = 2**30
GB = 1e9
TERA = 1e12
PETA = 1e15
FIBRE_KM_PER_S = 200_000.0  # light in fibre: c / n with n ≈ 1.5 (≈ 200 km per ms)

BYTES_PER_ELEMENT = {
    "fp32": 4.0,
    "tf32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "fp4": 0.5,
    "nvfp4": 0.5,
    "mxfp4": 0.5,
    "int4": 0.5,
}


def to_mw(w: float) -> float:
    return w / W_PER_MW


def to_mwh(j: float) -> float:
    return j / J_PER_MWH


def to_days(s: float) -> float:
    return s / SECONDS_PER_DAY


def to_gib(b: float) -> float:
    return b / GIB


def to_t(kg: float) -> float:
    return kg / KG_PER_T


def kwh_to_j(kwh: float) -> float:
    return kwh * J_PER_KWH


def g_per_kwh_to_kg_per_j(g_per_kwh: float) -> float:
    return g_per_kwh / 1000.0 / J_PER_KWH


def usd_per_mwh_to_usd_per_j(usd_per_mwh: float) -> float:
    return usd_per_mwh / J_PER_MWH


def show_power(w: float) -> str:
    """Power for people: MW from 1 MW up, kW below."""
    return f"{w / W_PER_MW:,.1f} MW" if w >= W_PER_MW else f"{w / W_PER_KW:,.1f} kW"


def show_energy(j: float) -> str:
    """Energy for people: MWh from 1 MWh up, kWh below."""
    return f"{j / J_PER_MWH:,.0f} MWh" if j >= J_PER_MWH else f"{j / J_PER_KWH:,.1f} kWh"


def show_usd(usd: float) -> str:
    """Money for people: $M from $1M up, whole dollars below."""
    return f"${usd / 1e6:,.2f} M" if usd >= 1e6 else f"${usd:,.0f}"


def show_co2e(kg: float) -> str:
    """CO2e for people: tonnes from 1 t up, kg below."""
    return f"{kg / KG_PER_T:,.0f} tCO2e" if kg >= KG_PER_T else f"{kg:,.0f} kgCO2e"
