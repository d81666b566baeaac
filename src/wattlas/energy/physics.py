"""Device power, power caps and the small pure formulas of energy accounting.

See :mod:`wattlas.energy` for the model and references; every constant here names its source.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import InputError
from ..hardware import Accelerator
from ..units import SECONDS_PER_HOUR

POWER_BASES = ("tdp", "measured", "modeled")
COOLINGS = ("air", "liquid")

#: Idle power as a fraction of TDP when the catalog has no idle_w. Assumption: an idle H100 SXM
#: reads 60–100 W on nvidia-smi (of 700 W), an idle A100 SXM ≈ 50–60 W (of 400 W); 0.12 sits
#: between them. Reported in ``defaults_used`` whenever it is used.
DEFAULT_IDLE_FRAC = 0.12

#: Activity ``a`` per training phase (keys of TrainingPlan.breakdown_s). Compute-bound kernels
#: run at the power limit (a = 1); collectives and optimizer/offload are memory/link bound;
#: bubble is waiting. With HOST_LOAD_FRAC these give ≈ 8.4 kW for an 8×H100 node at MFU-typical
#: phase mixes, the measured HGX H100 training draw (Latif et al.; power_pue_grid_constants.csv).
PHASE_ACTIVITY = {
    "compute": 1.0, "recompute": 1.0, "tp_comm": 0.5, "cp_comm": 0.5, "ep_comm": 0.5,
    "pp_comm": 0.3, "dp_comm": 0.5, "bubble": 0.1, "optimizer": 0.5, "offload": 0.3,
}
COMPUTE_BOUND_PHASES = ("compute", "recompute")
#: Decode is memory-bound: ML.ENERGY measurements show LLM decode drawing well below TDP.
DECODE_ACTIVITY = 0.6
#: Fraction of the host's maximum (CPUs, NICs, NVSwitch, fans) drawn during training; fitted so
#: an 8×H100 node with 700 W GPUs at ~90 % compute time sums to the measured 8.4 kW.
HOST_LOAD_FRAC = 0.65
#: Network switches per GPU [W]: a 64-port NDR InfiniBand switch draws ≈ 1.7 kW (NVIDIA
#: QM9700 class); a three-tier fat tree uses ≈ 5 switch ports per GPU ⇒ 5/64 × 1.7 kW ≈ 130 W;
#: two tiers ≈ 80 W. Planning assumption: 100 W per GPU.
NETWORK_W_PER_GPU = 100.0
#: P − P_idle ∝ f^k (see module docstring).
POWER_FREQUENCY_EXPONENT = 3.0
MEMORY_BOUND_CAP_SENSITIVITY = 0.25
#: PUE when the region gives none: air = Uptime Institute 2023 global average 1.58
#: (power_pue_grid_constants.csv, PUE_Uptime_global 2023); liquid = planning value 1.15 for a
#: new direct-liquid-cooled hall (between hyperscale fleets 1.08–1.10 and the global average).
DEFAULT_PUE = {"air": 1.58, "liquid": 1.15}
#: Rack power limit when neither the system nor the region gives one: air 40 kW (low end of the
#: DESIGN seed table's air-cooled density), liquid 120 kW (GB200 NVL72 rack, constants CSV).
DEFAULT_RACK_W = {"air": 40_000.0, "liquid": 120_000.0}
#: Host power when the systems catalog has none: EcoLogits (BoaviztAPI) p5.48xlarge server
#: without GPUs averages 1.2 kW per 8-GPU node.
DEFAULT_HOST_W_PER_GPU = 1200.0 / 8
#: Embodied carbon per accelerator [kg CO2e]. Low: LLMCarbon die-area method, H100 14.65 kg for
#: 814 mm² ⇒ 0.018 kg/mm². High: server LCA (EcoLogits/BoaviztAPI, ADEME 2026): 273 kg per
#: H100 + 5,700 kg per 8-GPU server without GPUs.
LLMCARBON_KG_PER_MM2 = 14.65 / 814.0
LCA_GPU_KG = 273.0
LCA_SERVER_KG_PER_GPU = 5700.0 / 8
#: Names of the two methods behind the embodied range, for the output (``embodied_method``).
EMBODIED_METHOD_LOW = "die-area (LLMCarbon, Faiz et al. 2024)"
EMBODIED_METHOD_HIGH = "server LCA (EcoLogits/BoaviztAPI, ADEME 2026)"
#: Hardware lifetime used to amortise embodied carbon over a run [s] (4 years, EcoLogits).
HARDWARE_LIFETIME_S = 4 * 365.25 * 86400.0
SECONDS_PER_YEAR = 365.25 * 86400.0


# --------------------------------------------------------------------------- pure functions

def idle_power_w(acc: Accelerator) -> tuple[float, bool]:
    """(Idle power [W], whether DEFAULT_IDLE_FRAC was used)."""
    if acc.idle_w is not None:
        return float(acc.idle_w), False
    return DEFAULT_IDLE_FRAC * acc.require("tdp_w"), True


def device_power_w(accelerator: Accelerator, activity_frac: Any,
                   power_basis: str = "modeled") -> Any:
    """Device power [W] = idle + (TDP − idle) × activity (numpy-broadcastable in activity).

    ``power_basis='tdp'`` returns TDP whatever the activity (the accounting of model cards).
    """
    if power_basis not in POWER_BASES:
        raise InputError(f"power_basis '{power_basis}': allowed {', '.join(POWER_BASES)}")
    a = np.asarray(activity_frac, dtype=float)
    if np.any((a < 0) | (a > 1)):
        raise InputError(f"activity_frac = {activity_frac}: must be in [0, 1]")
    tdp = accelerator.require("tdp_w")
    if power_basis == "tdp":
        out = np.full_like(a, tdp)
    else:
        idle, _ = idle_power_w(accelerator)
        out = idle + (tdp - idle) * a
    return float(out) if out.ndim == 0 else out


def capped_phase(power_w: Any, idle_w: float, cap_w: float | None,
                 compute_bound: bool = True) -> tuple[Any, Any]:
    """(power [W], time multiplier ≥ 1) of a phase under a power cap; see module docstring
    (P − P_idle ∝ f^k, k = POWER_FREQUENCY_EXPONENT)."""
    p = np.asarray(power_w, dtype=float)
    if cap_w is None:
        return p, np.ones_like(p)
    if cap_w <= idle_w:
        raise InputError(f"energy.power_cap_w = {cap_w:g} W: must be above the idle power "
                         f"{idle_w:g} W of the accelerator")
    over = p > cap_w
    r = np.where(over, ((cap_w - idle_w) / np.maximum(p - idle_w, 1e-9))
                 ** (1.0 / POWER_FREQUENCY_EXPONENT), 1.0)
    slow = 1.0 / r if compute_bound else 1.0 + MEMORY_BOUND_CAP_SENSITIVITY * (1.0 / r - 1.0)
    # at reduced frequency the phase draws idle + (P − idle)·r^k (= the cap when compute bound)
    power = np.where(over, idle_w + (p - idle_w) * r ** POWER_FREQUENCY_EXPONENT, p)
    return power, slow


def footprint_energy_j(n_accel: float, hours: float, power_w: float, pue: float = 1.0) -> float:
    """E = N × hours × P × PUE [J] (Patterson et al. 2021, eq. 1)."""
    return n_accel * hours * SECONDS_PER_HOUR * power_w * pue


def co2e_kg(energy_j: Any, grid_intensity_g_per_kwh: Any) -> Any:
    """CO2e [kg] = E [kWh] × CI [g/kWh] / 1000."""
    return np.asarray(energy_j) / 3.6e6 * np.asarray(grid_intensity_g_per_kwh) / 1e3


def amortised_embodied_kg(gpus: float, gpus_per_server: float, gpu_kg: float,
                          server_kg: float, run_s: float, lifetime_s: float,
                          use_frac: float = 1.0) -> float:
    """Embodied CO2e [kg] charged to a run: (GPUs × gpu_kg + servers × server_kg) × run time /
    (lifetime × use fraction) (Luccioni et al. 2023 §4.1: 6-year life, 85 % use)."""
    total = gpus * gpu_kg + math.ceil(gpus / gpus_per_server) * server_kg
    return total * run_s / (lifetime_s * use_frac)


def embodied_method(has_die_area: bool) -> str:
    """The methods behind ``embodied_co2e_kg_low``/``_high``: low = die-area
    (LLMCARBON_KG_PER_MM2 × die mm²), high = server LCA (LCA_GPU_KG + LCA_SERVER_KG_PER_GPU);
    both the run's share of HARDWARE_LIFETIME_S."""
    low = EMBODIED_METHOD_LOW if has_die_area else "none (no die_area_mm2 in the catalog)"
    return (f"low: {low}; high: {EMBODIED_METHOD_HIGH}; "
            f"run's share of a {HARDWARE_LIFETIME_S / SECONDS_PER_YEAR:g}-year life")


def capex_share_usd(capex_usd_per_gpu: float, gpus: float, run_s: float,
                    life_s: float) -> float:
    """Hardware capital cost charged to a run [USD] = capex per GPU × GPUs × run time / life
    (straight-line depreciation, no residual value, no cost of capital)."""
    return capex_usd_per_gpu * gpus * run_s / life_s


def energy_of_trace_j(power_w: Any, dt_s: Any) -> float:
    """∫ P dt [J] of a piecewise-constant power trace."""
    return float(np.sum(np.asarray(power_w, float) * np.asarray(dt_s, float)))
