"""Accelerators and systems (nodes, racks) as frozen records built from the catalogs.

Peaks are dense (no sparsity) and decimal (1 TFLOP/s = 1e12 FLOP/s), as datasheets state them;
never a binary prefix on a decimal number.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from . import catalog
from .errors import InputError

PRECISIONS = ("fp64", "tf32", "bf16", "fp16", "fp8", "fp4", "int8", "int4")
_PEAK_COLUMN = {
    "fp64": "fp64_tensor_flop_per_s",
    "tf32": "tf32_flop_per_s",
    "bf16": "bf16_flop_per_s",
    "fp16": "fp16_flop_per_s",
    "fp8": "fp8_flop_per_s",
    "fp4": "fp4_flop_per_s",
    "int8": "int8_op_per_s",
    "int4": "int4_op_per_s",
}
BITS = {"fp64": 64, "tf32": 32, "bf16": 16, "fp16": 16, "fp8": 8, "fp4": 4, "int8": 8, "int4": 4}


def _from_row(cls, row: dict[str, Any]):
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in row.items() if k in names})


@dataclass(frozen=True)
class Accelerator:
    """One accelerator's datasheet numbers (SI units)."""

    id: str
    name: str | None = None
    vendor: str | None = None
    kind: str | None = None
    fp64_flop_per_s: float | None = None
    fp64_tensor_flop_per_s: float | None = None
    tf32_flop_per_s: float | None = None
    bf16_flop_per_s: float | None = None
    fp16_flop_per_s: float | None = None
    fp8_flop_per_s: float | None = None
    fp4_flop_per_s: float | None = None
    int8_op_per_s: float | None = None
    int4_op_per_s: float | None = None
    hbm_bytes: float | None = None
    hbm_bytes_per_s: float | None = None
    tdp_w: float | None = None
    idle_w: float | None = None
    scaleup_bytes_per_s: float | None = None
    scaleup_domain: int | None = None
    scaleout_bytes_per_s: float | None = None
    host_link_bytes_per_s: float | None = None
    die_area_mm2: float | None = None
    release_year: int | None = None
    source: str | None = None

    def peak_flop_per_s(self, precision: str) -> float:
        """Dense peak at `precision`; fp16 falls back to bf16 (TPUs list bf16 only), never
        bf16 to fp16 (an fp16-only part such as V100 has no bf16 math); fp64 to the vector
        unit. Raises InputError when the accelerator has no such math."""
        if precision not in _PEAK_COLUMN:
            raise InputError(f"precision '{precision}': allowed {', '.join(PRECISIONS)}")
        value = getattr(self, _PEAK_COLUMN[precision])
        if value is None and precision == "fp16":
            value = self.bf16_flop_per_s
        if value is None and precision == "fp64":
            value = self.fp64_flop_per_s
        if not value:
            have = [p for p in PRECISIONS if getattr(self, _PEAK_COLUMN[p])]
            raise InputError(f"{self.id} has no published dense {precision} peak; "
                             f"available: {', '.join(have) or 'none'}")
        return float(value)

    def supports(self, precision: str) -> bool:
        try:
            self.peak_flop_per_s(precision)
        except InputError:
            return False
        return True

    def require(self, field: str) -> float:
        """A datasheet value the computation cannot do without."""
        value = getattr(self, field)
        if value is None:
            raise InputError(f"{self.id}: catalog value '{field}' is unknown; add it with "
                             f"--catalog FILE (a CSV row with id {self.id})")
        return float(value)


@dataclass(frozen=True)
class System:
    """A node or rack product built from one accelerator."""

    id: str
    accelerator: str
    name: str | None = None
    unit: str | None = None
    accelerators_per_node: int | None = None
    nodes_per_rack: int | None = None
    node_rack_units: int | None = None
    node_weight_kg: float | None = None
    node_max_power_w: float | None = None
    node_typical_power_w: float | None = None
    rack_max_power_w: float | None = None
    rack_weight_kg: float | None = None
    host_power_w: float | None = None
    cooling: str | None = None
    scaleup_domain: int | None = None
    nic_bytes_per_s_per_accelerator: float | None = None
    source: str | None = None
    #: False for the catalog system :func:`default_system` picks when none was named: it gives
    #: the fabric and rack form, but not the host power (one generic rule for every
    #: accelerator, :func:`wattlas.energy.plan.host_power_w`)
    named: bool = True

    @property
    def accelerators_per_rack(self) -> int | None:
        if self.accelerators_per_node and self.nodes_per_rack:
            return self.accelerators_per_node * self.nodes_per_rack
        return None


def accelerator(key: str) -> Accelerator:
    return _from_row(Accelerator, catalog.get("accelerators", key))


def system(key: str) -> System:
    return _from_row(System, catalog.get("systems", key))


def default_system(acc_id: str) -> System | None:
    """The catalog system built from `acc_id` (first listed), if any, marked ``named=False``."""
    from dataclasses import replace

    for row in catalog.rows("systems"):
        if row["accelerator"] == acc_id:
            return replace(_from_row(System, row), named=False)
    return None


@dataclass(frozen=True)
class Fabric:
    """Communication tiers seen by one accelerator: the scale-up domain (NVLink/xGMI/ICI), the
    scale-out network (NIC per device) and the host link. Bandwidths are per device per
    direction; latencies are the α of the α–β cost model."""

    scaleup_domain: int
    scaleup_bytes_per_s: float
    scaleout_bytes_per_s: float
    host_link_bytes_per_s: float | None = None
    scaleup_latency_s: float = 3e-6  # NVLink hop + NCCL launch, order of microseconds
    scaleout_latency_s: float = 10e-6  # InfiniBand/RoCE end-to-end incl. switch hops


def fabric_for(acc: Accelerator, sys: System | None = None, **overrides: float) -> Fabric:
    """The fabric of `acc` in system `sys` (system values win), with explicit overrides."""
    domain = (sys.scaleup_domain if sys and sys.scaleup_domain else acc.scaleup_domain) or 1
    nic = (overrides.get("scaleout_bytes_per_s")
           or (sys.nic_bytes_per_s_per_accelerator if sys else None) or acc.scaleout_bytes_per_s)
    if nic is None:
        raise InputError(f"{acc.id}: scale-out bandwidth per device is unknown; give "
                         "--set hardware.nic_bytes_per_s=<B/s per GPU> or a system with a NIC")
    values = dict(scaleup_domain=int(domain), scaleup_bytes_per_s=float(acc.scaleup_bytes_per_s
                                                                         or nic),
                  scaleout_bytes_per_s=float(nic), host_link_bytes_per_s=acc.host_link_bytes_per_s)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Fabric(**values)
