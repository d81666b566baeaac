"""Compute-optimal sizing from a budget: facility power and time → GPUs → FLOP → N, D, loss.

The chain (each step a named assumption, reported in ``defaults_used``)::

    IT power      P_IT   = P_facility / PUE                     (PUE: given, region, or default)
    per-GPU IT    p_gpu  = P_device(a_compute) + P_host · HOST_LOAD_FRAC + NETWORK_W_PER_GPU
    GPUs          n      = ⌊P_IT / p_gpu⌋
    FLOP/s        R      = n · F_peak(precision) · MFU
    FLOP budget   C      = R · T · goodput
    Chinchilla    N_opt, D_opt, L(N_opt, D_opt) = compute_optimal(C)     (C = 6·N·D)

``p_gpu`` is the energy model's draw of one GPU during the compute phases of training (activity
``PHASE_ACTIVITY["compute"]`` = 1, the highest sustained draw of a step: a facility budget has to
carry it), with the host at its training load and the network switches: the same functions
:func:`wattlas.energy.training_energy` uses. A budget can also be given as a GPU count (the
facility power follows) or directly in FLOP.

MFU: :data:`DEFAULT_BUDGET_MFU_FRAC` = 0.40 unless given. The model being sized is the output, so
the layout search cannot supply an MFU without a model; 0.40 is the middle of the 38–43 % BF16
MFU Meta reports for Llama 3 405B on 8,192–16,384 H100 (Grattafiori et al. 2024, Table 4), and
``wattlas train --search`` gives 36 % (44 % with uneven pipelines) for that run.

References
----------
* J. Hoffmann et al., "Training Compute-Optimal Large Language Models", arXiv:2203.15556.
* T. Besiroglu et al., "Chinchilla Scaling: A replication attempt", arXiv:2404.10102 (the
  coefficients used, :data:`wattlas.workload.scaling.DEFAULT_FIT`).
* A. Grattafiori et al., "The Llama 3 Herd of Models", arXiv:2407.21783, Table 4 (MFU) and
  §3.3.4 (goodput).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from ..hardware import Accelerator, System
from ..units import SECONDS_PER_DAY
from ..workload.scaling import (
    DEFAULT_FIT,
    HOFFMANN_2022,
    ComputeOptimal,
    compute_optimal,
    flop_budget,
)
from .physics import HOST_LOAD_FRAC, NETWORK_W_PER_GPU, PHASE_ACTIVITY, device_power_w
from .plan import EnergyInputs, facility_pue, host_power_w

#: How the sizing names its scaling law (notes and reports).
CHOSEN_FIT_NOTE = (f"Chinchilla approach 3 refit by Besiroglu et al. 2024 (arXiv:2404.10102 "
                   f"Table 1: E {DEFAULT_FIT.e_loss:g}, A {DEFAULT_FIT.a_coef:g}, "
                   f"B {DEFAULT_FIT.b_coef:g}, α {DEFAULT_FIT.alpha:g}, β {DEFAULT_FIT.beta:g})")
#: MFU when none is given (module docstring: Llama 3 405B, 38–43 % BF16 on H100).
DEFAULT_BUDGET_MFU_FRAC = 0.40
#: Goodput when none is given: the training planner's default (Llama 3 paper §3.3.4, > 90 %).
DEFAULT_BUDGET_GOODPUT_FRAC = 0.90
#: Activity of a GPU in the compute phases of a training step (the energy model's).
TRAINING_COMPUTE_ACTIVITY = PHASE_ACTIVITY["compute"]


@dataclass(frozen=True)
class BudgetSizing:
    """A budget turned into GPUs, a FLOP budget and the Chinchilla-optimal model (SI units)."""

    accelerator: str | None
    precision: str
    time_s: float | None
    facility_power_w: float | None
    it_power_w: float | None
    it_power_w_per_gpu: float | None
    pue: float | None
    gpus: int | None
    peak_flop_per_s_per_gpu: float | None
    mfu: float | None
    goodput_frac: float | None
    sustained_flop_per_s: float | None
    energy_j: float | None
    optimal: ComputeOptimal
    inputs_given: list[str] = field(default_factory=list)
    defaults_used: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_keys(self) -> dict[str, Any]:
        """JSON keys (unit-suffixed; params, tokens and loss [nats/token] are dimensionless)."""
        o = self.optimal
        return {"accelerator": self.accelerator, "precision": self.precision,
                "time_s": self.time_s, "facility_power_w": self.facility_power_w,
                "it_power_w": self.it_power_w, "it_power_w_per_gpu": self.it_power_w_per_gpu,
                "pue": self.pue, "gpus": self.gpus,
                "peak_flop_per_s_per_gpu": self.peak_flop_per_s_per_gpu, "mfu": self.mfu,
                "goodput_frac": self.goodput_frac,
                "sustained_flop_per_s": self.sustained_flop_per_s, "energy_j": self.energy_j,
                "budget_flop": o.flop, "optimal_params": o.params, "optimal_tokens": o.tokens,
                "tokens_per_param": o.tokens_per_param, "expected_loss": o.loss,
                "inputs_given": list(self.inputs_given),
                "defaults_used": list(self.defaults_used), "notes": list(self.notes)}


def it_power_w_per_gpu(acc: Accelerator, system: System | None,
                       activity_frac: float = TRAINING_COMPUTE_ACTIVITY
                       ) -> tuple[float, list[str]]:
    """(IT power per GPU during training [W], defaults used): device power at `activity_frac`
    + host at HOST_LOAD_FRAC of its maximum + network switches per GPU."""
    host_max, host_default = host_power_w(system, acc)
    defaults = [host_default] if host_default else []
    defaults.append(f"network {NETWORK_W_PER_GPU:g} W/GPU (switch planning value)")
    if acc.idle_w is None and activity_frac < 1.0:
        defaults.append("idle power 12% of TDP")
    w = float(device_power_w(acc, activity_frac)) + host_max * HOST_LOAD_FRAC + NETWORK_W_PER_GPU
    return w, defaults


def _positive(name: str, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise InputError(f"{name} = {value!r}: must be a finite number > 0")


def size_from_budget(acc: Accelerator | None, system: System | None, inputs: EnergyInputs,
                     time_s: float | None = None, facility_power_w: float | None = None,
                     gpus: int | None = None, flop: float | None = None,
                     mfu: float | None = None, goodput_frac: float | None = None,
                     precision: str = "bf16") -> BudgetSizing:
    """Size a Chinchilla-optimal model for exactly one of `facility_power_w` [W], `gpus` or
    `flop` [FLOP]; power and GPU budgets also need `time_s` [s] and `acc` (see module
    docstring)."""
    given_budgets = [n for n, v in (("facility power", facility_power_w), ("gpus", gpus),
                                    ("flop", flop)) if v is not None]
    if len(given_budgets) != 1:
        raise InputError("budget: give exactly one of --budget-mw, --budget-gpus or "
                         f"--budget-flop (got {', '.join(given_budgets) or 'none'})")
    _positive("budget.facility_power_mw (as W)", facility_power_w)
    _positive("budget.flop", flop)
    _positive("budget time (s)", time_s)
    if gpus is not None and not (isinstance(gpus, int) and gpus > 0):
        raise InputError(f"budget.gpus = {gpus!r}: must be a positive integer")
    if mfu is not None and not 0 < mfu <= 1:
        raise InputError(f"budget.mfu_frac = {mfu!r}: must be in (0, 1]")
    if goodput_frac is not None and not 0 < goodput_frac <= 1:
        raise InputError(f"budget.goodput_frac = {goodput_frac!r}: must be in (0, 1]")
    if flop is not None:
        return BudgetSizing(acc.id if acc else None, precision, time_s, None, None, None, None,
                            None,
                            None, None, None, None, None, compute_optimal(flop),
                            inputs_given=[f"flop={flop:g}"],
                            notes=["FLOP budget given: no power, GPU or time conversion",
                                   CHOSEN_FIT_NOTE])
    if acc is None:
        raise InputError("budget: a power or GPU budget needs --accelerator (or "
                         "hardware.accelerator / hardware.system)")
    if time_s is None:
        raise InputError("budget: a power or GPU budget needs a time (--budget-days or "
                         "budget.days)")
    given = [f"time_s={time_s:g}"]
    pue, pue_given, defaults, notes = facility_pue(inputs)
    given += pue_given
    per_gpu, more = it_power_w_per_gpu(acc, system)
    defaults += more
    if facility_power_w is not None:
        given.append(f"facility_power_w={facility_power_w:g}")
        n = math.floor(facility_power_w / pue / per_gpu)
        if n < 1:
            raise InputError(f"budget.facility_power_mw = {facility_power_w / 1e6:g} MW: below "
                             f"one {acc.id} ({per_gpu * pue / 1e3:.2f} kW facility power per "
                             "GPU); raise the budget")
    else:
        given.append(f"gpus={gpus}")
        n = int(gpus)
    peak = acc.peak_flop_per_s(precision)
    if mfu is None:
        mfu = DEFAULT_BUDGET_MFU_FRAC
        defaults.append(f"mfu {mfu:.2f} (Llama 3 405B on H100: 38-43% BF16, arXiv:2407.21783 "
                        "Table 4; the model being sized is the output, so no layout search)")
    else:
        given.append(f"mfu={mfu:g}")
    if goodput_frac is None:
        goodput_frac = DEFAULT_BUDGET_GOODPUT_FRAC
        defaults.append(f"goodput {goodput_frac:.2f} (Llama 3 paper §3.3.4)")
    else:
        given.append(f"goodput_frac={goodput_frac:g}")
    if inputs.power_cap_w is not None:
        notes = notes + ["power cap not applied to budget sizing (GPUs drawn at TDP)"]
    rate = n * peak * mfu
    c = flop_budget(rate, time_s=time_s * goodput_frac)
    it_w = n * per_gpu
    notes = notes + [
        f"{n:,} GPUs at {per_gpu:,.0f} W IT each (GPU at training compute activity, host, "
        "network)",
        "C = 6·N·D (Chinchilla) is matched to model FLOPs at the MFU; attention FLOPs, which "
        "MFU counts and 6·N·D does not, are a few percent at these sizes",
        f"{CHOSEN_FIT_NOTE}; {compute_optimal(c).tokens_per_param:.1f} tokens per parameter "
        "(Hoffmann et al.'s rounded approach-3 coefficients would give "
        f"{compute_optimal(c, HOFFMANN_2022).tokens_per_param:.0f})"]
    return BudgetSizing(acc.id, precision, time_s, it_w * pue, it_w, per_gpu, pue, n, peak, mfu,
                        goodput_frac, rate, it_w * pue * time_s, compute_optimal(c),
                        inputs_given=given, defaults_used=defaults, notes=notes)


def sizing_from_scenario(scen: Any) -> BudgetSizing:
    """The sizing a scenario's ``budget`` section asks for (hardware from ``hardware``, PUE from
    ``energy``/``site``): ``facility_power_mw`` and ``days`` convert at this edge."""
    from .. import hardware
    from ..errors import ScenarioError
    from .plan import inputs_from_scenario

    b = scen.budget
    if b is None:
        raise ScenarioError("scenario: a 'budget' section (or --budget-mw/--budget-gpus/"
                            "--budget-flop) is needed for budget sizing")
    hw = scen.hardware
    sys_ = hardware.system(hw.system) if hw is not None and hw.system else None
    acc_id = (hw.accelerator if hw is not None and hw.accelerator
              else sys_.accelerator if sys_ is not None else None)
    acc = hardware.accelerator(acc_id) if acc_id is not None else None
    if sys_ is None and acc is not None:
        sys_ = hardware.default_system(acc.id)
    return size_from_budget(
        acc, sys_, inputs_from_scenario(scen),
        time_s=b.days * SECONDS_PER_DAY if b.days is not None else None,
        facility_power_w=b.facility_power_mw * 1e6 if b.facility_power_mw is not None else None,
        gpus=b.gpus, flop=b.flop, mfu=b.mfu_frac, goodput_frac=b.goodput_frac,
        precision=b.precision)
