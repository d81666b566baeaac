"""Power at load, facility overhead, energy, carbon and cost of a plan.

Layers (pvlib style): small pure functions of scalars/arrays at the top of this module
(:func:`device_power_w`, :func:`capped_phase`, :func:`footprint_energy_j`), then the two
orchestrators :func:`training_energy` and :func:`serving_energy` that return an
:class:`EnergyReport` listing which inputs were given, which were predicted and which defaults
were used. Nothing falls back silently to a world-average grid intensity: with neither a region
nor an intensity, carbon is ``None`` and a note says so.

Formulas
--------
* Device power [W]: ``P = P_idle + (P_tdp − P_idle) · a``, ``a ∈ [0, 1]`` the activity of the
  phase (compute-bound GEMMs run at the power limit; memory-bound and communication phases
  less; pipeline bubbles near idle).
* Power cap: dynamic power ``P − P_idle ∝ f·V² ≈ f^k`` with ``k = 3`` (CMOS dynamic power with
  voltage scaled with frequency in the DVFS range; Weste & Harris, *CMOS VLSI Design*, §5.1).
  A cap ``c`` below a phase's draw gives the frequency ratio ``r = ((c − P_idle) /
  (P − P_idle))^(1/k)``; compute-bound time scales by ``1/r``, memory-bound and communication
  time by ``1 + MEMORY_BOUND_CAP_SENSITIVITY·(1/r − 1)`` (HBM and links are not clocked with
  the SMs). Measured slowdowns are usually smaller than ``k = 3`` implies, so this is
  conservative for throughput.
* Node: ``P_node = n · P_gpu + P_host · HOST_LOAD_FRAC`` (host = CPUs, memory, NICs, NVSwitch,
  fans; systems catalog ``host_power_w`` or ``node_max_power_w − n · tdp``), network switches
  ``NETWORK_W_PER_GPU`` per GPU; IT = nodes + network; facility = IT × PUE.
* Every published footprint: ``E = N × hours × P × PUE`` (Patterson et al. 2021, eq. 1;
  Luccioni et al. 2023 §4) and ``CO2e = E × CI``.

References
----------
Patterson et al. 2021, "Carbon Emissions and Large Neural Network Training", arXiv:2104.10350.
Luccioni, Viguier, Ligozat 2023, "Estimating the Carbon Footprint of BLOOM", JMLR 24(253).
Faiz et al. 2024, "LLMCarbon", ICLR (die-area embodied carbon).
EcoLogits / BoaviztAPI methodology (server LCA embodied carbon), ADEME Lees-Perasso 2026.
Latif et al. 2024, single-node power of an 8×H100 HGX during training (8.4 kW of 10.2 kW).
"""

from __future__ import annotations

from .physics import (
    COMPUTE_BOUND_PHASES,
    COOLINGS,
    DECODE_ACTIVITY,
    DEFAULT_HOST_W_PER_GPU,
    DEFAULT_IDLE_FRAC,
    DEFAULT_PUE,
    DEFAULT_RACK_W,
    HARDWARE_LIFETIME_S,
    HOST_LOAD_FRAC,
    LCA_GPU_KG,
    LCA_SERVER_KG_PER_GPU,
    LLMCARBON_KG_PER_MM2,
    MEMORY_BOUND_CAP_SENSITIVITY,
    NETWORK_W_PER_GPU,
    PHASE_ACTIVITY,
    POWER_BASES,
    POWER_FREQUENCY_EXPONENT,
    amortised_embodied_kg,
    capped_phase,
    co2e_kg,
    device_power_w,
    energy_of_trace_j,
    footprint_energy_j,
    idle_power_w,
)
from .plan import (
    EnergyInputs,
    EnergyReport,
    check_inputs,
    host_power_w,
    inputs_from_scenario,
    serving_energy,
    training_energy,
)

__all__ = [
    "COMPUTE_BOUND_PHASES", "COOLINGS", "DECODE_ACTIVITY", "DEFAULT_HOST_W_PER_GPU",
    "DEFAULT_IDLE_FRAC", "DEFAULT_PUE", "DEFAULT_RACK_W", "HARDWARE_LIFETIME_S",
    "HOST_LOAD_FRAC", "LCA_GPU_KG", "LCA_SERVER_KG_PER_GPU", "LLMCARBON_KG_PER_MM2",
    "MEMORY_BOUND_CAP_SENSITIVITY", "NETWORK_W_PER_GPU", "PHASE_ACTIVITY", "POWER_BASES",
    "POWER_FREQUENCY_EXPONENT", "EnergyInputs", "EnergyReport", "amortised_embodied_kg",
    "capped_phase", "check_inputs", "co2e_kg", "device_power_w", "energy_of_trace_j",
    "footprint_energy_j", "host_power_w", "idle_power_w", "inputs_from_scenario",
    "serving_energy", "training_energy",
]
