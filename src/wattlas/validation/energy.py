"""Energy validation: published training footprints under their own accounting, then three runs
predicted end to end (GPU-hours from the training planner).

Source: ``data/reference/training_footprints.csv`` (Patterson et al. 2021 Table 4 via the
LLMCarbon repository; LLMCarbon database.csv; Luccioni et al. 2023 BLOOM; Llama 2 model card).

Own accounting (Patterson et al. 2021 eq. 1): ``E = accel_hours × P × PUE`` where the row says
the PUE was applied (``pue_applied = yes``; ``folded``/``no`` mean P already includes it or the
source did not apply it), ``accel_hours`` from the row or ``n_accel × days × 24``;
``CO2e = E × CI``. Each row is compared with ``energy_mwh_published`` (or ``energy_mwh_derived``
when nothing is published) and ``tco2e_published``. Rows without a power figure cannot be
reproduced from inputs and are listed by :func:`skipped` (the CodeCarbon 6B partial run), except
the BLOOM lifecycle total, rebuilt by :func:`bloom_lifecycle_case` from its parts as Luccioni et
al. 2023 Table 3 adds them: dynamic (the BLOOM-176B-dynamic row) + idle energy
(``training_totals.csv`` BLOOM_LCA, 256,646 kWh) × the same intensity + embodied (150 kg per
A100 and 2,500 kg per 8-GPU server, ``power_pue_grid_constants.csv``, amortised over a 6-year
life at 85 % use, §4.1).

Predicted cases (names contain ``predicted``): GPU-hours from
``wattlas.perf.training.step`` (layout given by the source where it gives one, else the fastest
layout found by ``search_layouts``), then the source's own power/PUE/CI accounting:

* BLOOM-176B: 384 A100-80GB, 366B tokens, seq 2048, global batch 2048, TP 4 × PP 12 × DP 8
  (Le Scao et al. 2022, BLOOM §3.4; Megatron-DeepSpeed of 2022: no sequence parallelism,
  no FlashAttention); 400 W TDP, no PUE, 57 g/kWh (Luccioni et al. 2023).
* Llama 2 7B, 13B, 34B, 70B: 2T tokens, seq 4096, 4M-token batches (Touvron et al. 2023 §2.2)
  on A100-80GB with the software of 2023; the cluster size is not published: 2,048 GPUs assumed;
  the model card's power (400 W; 350 W for 34B, below the A100's 400 W TDP, so 34B is planned
  under a 350 W power cap: :func:`power_cap_w`) and intensity. The stack efficiency
  (``calibration.LLAMA2_STACK_EFFICIENCY``) is fitted on 7B and 13B (calibration cases,
  :func:`fit_llama2_stack_efficiency`); 34B and 70B are held out.
* GPT-3 175B: 300B tokens, seq 2048, batch 1,536 sequences (3.2M tokens, Brown et al. 2020
  Table 2.1) on 10,000 V100 (Patterson et al. 2021) with the software of 2020 (Brown et al.
  2020); 330 W measured, PUE 1.10, 429 g/kWh.
  No layout of exactly 10,000 GPUs divides a 1,536-sequence batch with TP ≤ 8 and PP | 96
  layers, so 9,216 GPUs are planned; GPU-hours are compared, which depend on the count only
  through efficiency.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ..energy import co2e_kg, footprint_energy_j
from . import Case

SOURCE = "training_footprints"
SOURCE_PREDICTED = "training_footprints (predicted)"
J_PER_MWH = 3.6e9


def _rows() -> list[dict[str, str]]:
    text = (resources.files("wattlas.data").joinpath("reference")
            .joinpath("training_footprints.csv").read_text(encoding="utf-8-sig"))
    return list(csv.DictReader(io.StringIO(text)))


@cache
def _by_model() -> dict[str, dict[str, str]]:
    """The footprint rows by ``model`` (read once; callers copy a row before changing it)."""
    return {r["model"]: r for r in _rows()}


def _f(row: dict[str, str], key: str) -> float | None:
    v = (row.get(key) or "").strip()
    return float(v) if v else None


def own_accounting(row: dict[str, str]) -> tuple[float, float | None] | None:
    """(energy [J], CO2e [kg] or None) of one footprint row under its own accounting; None
    when the row gives no power figure or no hours."""
    power = _f(row, "power_w_per_accel")
    hours = _f(row, "accel_hours")
    if hours is None and _f(row, "n_accel") and _f(row, "days"):
        hours = _f(row, "n_accel") * _f(row, "days") * 24.0
    if power is None or hours is None:
        return None
    pue = _f(row, "pue") if row.get("pue_applied", "").strip() == "yes" else 1.0
    energy = footprint_energy_j(1, hours, power, pue or 1.0)
    ci = _f(row, "ci_kg_per_kwh")
    return energy, (float(co2e_kg(energy, ci * 1e3)) if ci is not None else None)


def skipped() -> list[tuple[str, str]]:
    return [(r["model"], "no power_w_per_accel or hours: nothing to reproduce from")
            for r in _rows() if own_accounting(r) is None and r["model"] != LIFECYCLE_ROW]


LIFECYCLE_ROW = "BLOOM-176B-lifecycle"
BLOOM_GPUS = 384
BLOOM_LIFETIME_S = 6 * 365.25 * 86400.0  # Luccioni et al. 2023 §4.1
BLOOM_USE_FRAC = 0.85


def _constant(item: str) -> float:
    text = (resources.files("wattlas.data").joinpath("reference")
            .joinpath("power_pue_grid_constants.csv").read_text(encoding="utf-8-sig"))
    for r in csv.DictReader(io.StringIO(text)):
        if r["item"] == item:
            return float(r["value"])
    raise KeyError(item)


def bloom_lifecycle_case() -> Case | None:
    """BLOOM lifecycle tCO2e = dynamic + idle + embodied (see module docstring)."""
    import re

    from ..energy import amortised_embodied_kg

    rows = _by_model()
    life, dyn = rows.get(LIFECYCLE_ROW), rows.get("BLOOM-176B-dynamic")
    text = (resources.files("wattlas.data").joinpath("validation")
            .joinpath("training_totals.csv").read_text(encoding="utf-8-sig"))
    totals = [r for r in csv.DictReader(io.StringIO(text)) if r["source"] == "BLOOM_LCA"]
    if life is None or dyn is None or not totals:
        return None
    m = re.search(r"([\d.]+)\(idle\)", totals[0]["energy_kwh"])
    got = own_accounting(dyn)
    if m is None or got is None:
        return None
    ci = _f(life, "ci_kg_per_kwh")
    idle_kg = float(m.group(1)) * ci
    hours = _f(dyn, "accel_hours")
    run_s = hours / BLOOM_GPUS * 3600.0
    embodied = amortised_embodied_kg(BLOOM_GPUS, 8, _constant("A100_embodied_BLOOM"),
                                     _constant("server_wo_GPU_embodied_BLOOM"), run_s,
                                     BLOOM_LIFETIME_S, BLOOM_USE_FRAC)
    total = got[1] + idle_kg + embodied
    return Case(SOURCE, LIFECYCLE_ROW, "tco2e", _f(life, "tco2e_published"), total / 1e3, "t",
                detail={"dynamic_kg": got[1], "idle_kg": idle_kg, "embodied_kg": embodied})


def footprint_cases() -> list[Case]:
    out: list[Case] = []
    for r in _rows():
        got = own_accounting(r)
        if got is None:
            continue
        energy_j, co2 = got
        pub_e = _f(r, "energy_mwh_published")
        ref_e = pub_e if pub_e is not None else _f(r, "energy_mwh_derived")
        if ref_e is not None:
            out.append(Case(SOURCE, r["model"], "energy_mwh" if pub_e else "energy_mwh_derived",
                            ref_e, energy_j / J_PER_MWH, "MWh",
                            detail={"source": r["source"], "power_basis": r["power_basis"]}))
        pub_c = _f(r, "tco2e_published")
        if pub_c is not None and co2 is not None:
            out.append(Case(SOURCE, r["model"], "tco2e", pub_c, co2 / 1e3, "t",
                            detail={"source": r["source"]}))
    life = bloom_lifecycle_case()
    if life is not None:
        out.append(life)
    return out


@dataclass(frozen=True)
class PredictedRun:
    """One end-to-end case: the job as the source describes it and the software it ran on;
    energy and CO2e follow the footprint row's own accounting with the planned GPU-hours."""

    name: str
    model: str
    accelerator: str
    gpus: int
    tokens: float
    seq_len: int
    global_batch: int
    precision: str
    layout: dict[str, Any] | None  # None: the fastest layout search_layouts finds
    software_year: int
    footprint_row: str
    #: throughput of the stack relative to the calibrated model: a number, or "llama2" for
    #: calibration.LLAMA2_STACK_EFFICIENCY (fitted on the runs marked calibration)
    stack: float | str = 1.0
    calibration: bool = False


_LLAMA2 = dict(accelerator="a100-sxm-80gb", gpus=2048, tokens=2e12, seq_len=4096,
               global_batch=1024, precision="bf16", layout=None, software_year=2023,
               stack="llama2")
PREDICTED_RUNS: tuple[PredictedRun, ...] = (
    PredictedRun("BLOOM-176B predicted", "bloom-176b", "a100-sxm-80gb", 384, 366e9, 2048, 2048,
                 "bf16", {"tp": 4, "pp": 12, "dp": 8, "recompute": "full", "zero": 1,
                          "sequence_parallel": False, "flash_attention": False},
                 2022, "BLOOM-176B-dynamic"),
    PredictedRun("Llama2-7B predicted", "llama2-7b", footprint_row="Llama2-7B",
                 calibration=True, **_LLAMA2),
    PredictedRun("Llama2-13B predicted", "llama2-13b", footprint_row="Llama2-13B",
                 calibration=True, **_LLAMA2),
    PredictedRun("Llama2-34B predicted", "llama2-34b", footprint_row="Llama2-34B", **_LLAMA2),
    PredictedRun("Llama2-70B predicted", "llama2-70b", footprint_row="Llama2-70B", **_LLAMA2),
    PredictedRun("GPT-3-175B predicted", "gpt3-175b", "v100", 9216, 300e9, 2048, 1536, "fp16",
                 None, 2020, "GPT-3-175B"),
)


def _stack_efficiency(run: PredictedRun, fitted: float | None = None) -> float:
    if isinstance(run.stack, str):
        from ..perf.training import calibration

        return calibration.LLAMA2_STACK_EFFICIENCY if fitted is None else fitted
    return run.stack


def _plan(run: PredictedRun, stack_efficiency_frac: float) -> Any:
    from .. import hardware
    from ..perf.training.step import Layout, TrainingJob, plan_training
    from ..scenario import resolve_model

    acc = hardware.accelerator(run.accelerator)
    job = TrainingJob(model=resolve_model(run.model), tokens=run.tokens, seq_len=run.seq_len,
                      global_batch=run.global_batch, precision=run.precision,
                      software_year=run.software_year,
                      stack_efficiency_frac=stack_efficiency_frac)
    if run.layout is not None:
        plan = plan_training(job, acc, Layout(**run.layout), gpus=run.gpus,
                             allow_uneven_pp=True)
    else:
        from ..perf.training.search import search_layouts

        plan = search_layouts(job, acc, run.gpus, allow_uneven_pp=True).best
    cap_w = power_cap_w(run)
    if cap_w is None:
        return plan
    from .. import energy
    from ..perf.training.step import capped_plan

    rep = energy.training_energy(plan, energy.EnergyInputs(power_cap_w=cap_w),
                                 hardware.default_system(acc.id))
    return capped_plan(plan, rep.slowdown_frac, rep.phase_time_factors, cap_w)


def power_cap_w(run: PredictedRun) -> float | None:
    """The per-GPU power limit the footprint row implies: a peak-power (TDP-basis) figure below
    the accelerator's catalog TDP (Llama 2 34B: 350 W on 400 W A100s), else None."""
    from .. import hardware

    row = _by_model()[run.footprint_row]
    power = _f(row, "power_w_per_accel")
    tdp = hardware.accelerator(run.accelerator).tdp_w
    if power is None or tdp is None or not row["power_basis"].upper().startswith("TDP"):
        return None
    return power if power < tdp else None


def fit_llama2_stack_efficiency() -> dict[str, float]:
    """Refit ``calibration.LLAMA2_STACK_EFFICIENCY``: the geometric mean over the calibration
    runs of (planned GPU-hours at stack efficiency 1) / (published GPU-hours)."""
    import math

    published = _by_model()
    logs = [math.log(_plan(r, 1.0).gpu_hours / _f(published[r.footprint_row], "accel_hours"))
            for r in PREDICTED_RUNS if r.calibration and r.stack == "llama2"]
    return {"LLAMA2_STACK_EFFICIENCY": math.exp(sum(logs) / len(logs))}


def predicted_cases() -> list[Case]:
    """End-to-end cases; empty (with nothing raised) while the planner or catalog rows are
    missing. The planner's default goodput (0.90) applies: published GPU-hours are wall-clock
    hours, failures and restarts included."""
    try:
        import wattlas.perf.training.step  # noqa: F401
    except ImportError:
        return []
    from ..errors import WattlasError

    published = _by_model()
    out: list[Case] = []
    for run in PREDICTED_RUNS:
        eff = _stack_efficiency(run)
        try:
            plan = _plan(run, eff)
        except (WattlasError, ImportError, AttributeError):
            continue
        hours = float(plan.gpu_hours)
        row = published[run.footprint_row]
        energy, co2 = own_accounting(dict(row, accel_hours=repr(hours)))
        pub_h = _f(row, "accel_hours")
        pub_e = _f(row, "energy_mwh_published") or _f(row, "energy_mwh_derived")
        pub_c = _f(row, "tco2e_published")
        detail = {"mfu": plan.mfu, "layout": str(plan.layout),
                  "software_year": run.software_year, "stack_efficiency_frac": eff,
                  "power_cap_w": power_cap_w(run)}
        for metric, pub, got, unit in (
                ("gpu_hours", pub_h, hours, "h"),
                ("energy_mwh", pub_e, energy / J_PER_MWH, "MWh"),
                ("tco2e", pub_c, (co2 or 0.0) / 1e3, "t")):
            if pub:
                out.append(Case(SOURCE_PREDICTED, run.name, metric, pub, got, unit,
                                calibration=run.calibration, detail=detail))
    return out


@cache
def _cached() -> tuple[Case, ...]:
    return tuple(footprint_cases() + predicted_cases())


def cases() -> list[Case]:
    return list(_cached())
