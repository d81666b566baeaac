"""Pydantic schema of the scenario's ``routing`` section (imports only pydantic).

Units are in the key names (SI): requests per second, seconds, watts, g/kWh, USD/MWh.
Unknown keys are rejected (``extra="forbid"``) so a typo names its key path.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Section(BaseModel):
    """Unknown keys refused; numbers finite and within wattlas.bounds.LIMITS (requests, replicas,
    session calls bounded before anything is allocated); no boolean for a number."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _bounded(cls, value: Any, info: Any) -> Any:
        from ..bounds import check_model_field

        return check_model_field(cls, info.field_name, value)


class LengthDist(_Section):
    """A token-length distribution: fixed ``mean``, uniform on [low, high], or lognormal with
    the given ``mean`` and log-space ``sigma``. Draws are rounded and clipped to ≥ 1 token."""

    dist: Literal["fixed", "uniform", "lognormal"] = "fixed"
    mean: float | None = Field(default=None, gt=0)
    low: int | None = Field(default=None, gt=0)
    high: int | None = Field(default=None, gt=0)
    sigma: float = Field(default=0.6, gt=0)

    @model_validator(mode="after")
    def _check(self) -> LengthDist:
        if self.dist == "uniform":
            if self.low is None or self.high is None or self.high < self.low:
                raise ValueError("uniform lengths need low <= high (tokens)")
        elif self.mean is None:
            raise ValueError(f"{self.dist} lengths need mean (tokens)")
        return self

    @property
    def mean_tokens(self) -> float:
        if self.dist == "uniform":
            return (float(self.low) + float(self.high)) / 2.0
        return float(self.mean)


class Sinusoid(_Section):
    """Diurnal multiplier m(h) = 1 + amplitude_frac · cos(2π (h − peak_hour) / 24), local h."""

    peak_hour: float = Field(default=14.0, ge=0, lt=24)
    amplitude_frac: float = Field(default=0.5, ge=0, le=1)


class UserRegion(_Section):
    """Users in one place: coordinates (or a catalog region id), demand and daily profile."""

    name: str
    region: str | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    demand_rps: float = Field(gt=0, description="mean offered load [requests/s]")
    diurnal: list[float] | Sinusoid | None = None
    utc_offset_h: float | None = Field(default=None, ge=-12, le=14)

    @field_validator("diurnal")
    @classmethod
    def _diurnal(cls, v):
        if isinstance(v, list) and (len(v) != 24 or min(v) < 0 or max(v) <= 0):
            raise ValueError("diurnal must be 24 hourly multipliers >= 0 (not all zero)")
        return v


class SiteSpec(_Section):
    """One serving site (central data centre or edge)."""

    name: str
    kind: Literal["central", "edge"] = "central"
    region: str | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    model: str | None = None
    accelerator: str
    precision: str = "bf16"
    tp: int = Field(default=1, gt=0)
    replicas: int | None = Field(default=None, gt=0)
    power_cap_w: float | None = Field(default=None, gt=0)
    pue: float = Field(default=1.0, ge=1.0)
    grid_intensity_g_per_kwh: float | list[float] | None = None
    price_usd_per_mwh: float | None = Field(default=None, ge=0)
    price_usd_per_mwh_hourly: list[float] | None = Field(
        default=None, description="24 prices by UTC hour [USD/MWh], instead of price_usd_per_mwh")

    @field_validator("region", mode="before")
    @classmethod
    def _norway(cls, v):
        return "no" if v is False else v

    @field_validator("grid_intensity_g_per_kwh")
    @classmethod
    def _intensity(cls, v):
        if isinstance(v, list) and (len(v) != 24 or min(v) < 0):
            raise ValueError("grid_intensity_g_per_kwh: one value or 24 hourly values >= 0")
        if isinstance(v, float | int) and v < 0:
            raise ValueError("grid_intensity_g_per_kwh must be >= 0")
        return v

    @field_validator("price_usd_per_mwh_hourly")
    @classmethod
    def _price_hourly(cls, v):
        if v is not None and (len(v) != 24 or min(v) < 0):
            raise ValueError(f"price_usd_per_mwh_hourly: {len(v)} values; give 24 hourly "
                             "values >= 0 (USD/MWh, UTC hours 0-23)")
        return v

    @model_validator(mode="after")
    def _one_price(self) -> SiteSpec:
        if self.price_usd_per_mwh is not None and self.price_usd_per_mwh_hourly is not None:
            raise ValueError("give price_usd_per_mwh (flat) or price_usd_per_mwh_hourly "
                             "(24 values), not both")
        return self


class Session(_Section):
    """Agent sessions: ``calls`` sequential requests with ``tool_s`` between them."""

    calls: int = Field(default=1, gt=0)
    tool_s: float = Field(default=0.0, ge=0)


class RoutingSLO(_Section):
    ttft_s: float | None = Field(default=None, gt=0)
    tpot_s: float | None = Field(default=None, gt=0)
    e2e_s: float | None = Field(default=None, gt=0)


class RoutingSpec(_Section):
    """The ``routing`` section of a scenario."""

    model: str | None = None
    users: list[UserRegion] = Field(min_length=1)
    sites: list[SiteSpec] = Field(min_length=1)
    prompt_tokens: LengthDist = LengthDist(mean=1024)
    output_tokens: LengthDist = LengthDist(mean=256)
    session: Session = Session()
    slo: RoutingSLO = RoutingSLO()
    rtt_s: dict[str, dict[str, float]] | None = None
    policies: list[str] | None = None
    admission: bool = True
    requests: int = Field(default=20000, gt=0)
    seed: int = Field(default=0, ge=0)
    start_hour_utc: float = Field(default=0.0, ge=0, lt=24)
