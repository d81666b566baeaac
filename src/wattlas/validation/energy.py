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
``wattlas.perf.training`` (layout given by the source where it gives one, else the fastest
layout found by ``search_layouts``), then the source's own power/PUE/CI accounting:

* BLOOM-176B: 384 A100-80GB, 366B tokens, seq 2048, global batch 2048, TP 4 × PP 12 × DP 8
  (Le Scao et al. 2022, BLOOM §3.4; Megatron-DeepSpeed of 2022: no sequence parallelism,
  no FlashAttention); 400 W TDP, no PUE, 57 g/kWh (Luccioni et al. 2023).
* Llama-2-70B: 2T tokens, seq 4096, 4M-token batches (Touvron et al. 2023 §2.2) on A100-80GB;
  the cluster size is not published: 2,048 GPUs assumed; 400 W, 423.5 g/kWh (model card).
* GPT-3 175B: 300B tokens, seq 2048, batch 1,536 sequences (3.2M tokens, Brown et al. 2020
  Table 2.1) on 10,000 V100 (Patterson et al. 2021); 330 W measured, PUE 1.10, 429 g/kWh.
  No layout of exactly 10,000 GPUs divides a 1,536-sequence batch with TP ≤ 8 and PP | 96
  layers, so 9,216 GPUs (TP 8 × PP 12 × DP 96 possible) are planned; GPU-hours are compared,
  which depend on the count only through efficiency.
"""

from __future__ import annotations

import csv
import io
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

    rows = {r["model"]: r for r in _rows()}
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


#: (case, model id, accelerator id, gpus, tokens, seq_len, global batch, precision, layout or
#:  None for search, power W, PUE, CI g/kWh, published footprint row)
PREDICTED_RUNS: tuple[tuple[Any, ...], ...] = (
    ("BLOOM-176B predicted", "bloom-176b", "a100-sxm-80gb", 384, 366e9, 2048, 2048, "bf16",
     {"tp": 4, "pp": 12, "dp": 8, "recompute": "full", "zero": 1,
      "sequence_parallel": False, "flash_attention": False}, 400.0, 1.0, 57.0,
     "BLOOM-176B-dynamic"),
    ("Llama2-70B predicted", "llama2-70b", "a100-sxm-80gb", 2048, 2e12, 4096, 1024, "bf16",
     None, 400.0, 1.0, 423.5, "Llama2-70B"),
    ("GPT-3-175B predicted", "gpt3-175b", "v100", 9216, 300e9, 2048, 1536, "fp16",
     None, 330.0, 1.10, 429.0, "GPT-3-175B"),
)


def _plan(model: str, acc_id: str, gpus: int, tokens: float, seq: int, batch: int,
          precision: str, layout: dict[str, Any] | None) -> Any:
    from .. import hardware
    from ..perf.training import Layout, TrainingJob, plan_training
    from ..scenario import resolve_model

    acc = hardware.accelerator(acc_id)
    job = TrainingJob(model=resolve_model(model), tokens=tokens, seq_len=seq,
                      global_batch=batch, precision=precision)
    if layout is not None:
        return plan_training(job, acc, Layout(**layout), gpus=gpus, allow_uneven_pp=True)
    from ..perf.search import search_layouts

    res = search_layouts(job, acc, gpus, allow_uneven_pp=True)
    return res.best


def predicted_cases() -> list[Case]:
    """End-to-end cases; empty (with nothing raised) while the planner or catalog rows are
    missing. The planner's default goodput (0.90) applies: published GPU-hours are wall-clock
    hours, failures and restarts included."""
    try:
        import wattlas.perf.training  # noqa: F401
    except ImportError:
        return []
    from ..errors import WattlasError

    published = {r["model"]: r for r in _rows()}
    out: list[Case] = []
    for (name, model, acc_id, gpus, tokens, seq, batch, prec, layout, power, pue, ci,
         ref) in PREDICTED_RUNS:
        try:
            plan = _plan(model, acc_id, gpus, tokens, seq, batch, prec, layout)
        except (WattlasError, ImportError, AttributeError):
            continue
        hours = float(plan.gpu_hours)
        energy = footprint_energy_j(1, hours, power, pue)
        row = published[ref]
        pub_h = _f(row, "accel_hours")
        pub_e = _f(row, "energy_mwh_published") or _f(row, "energy_mwh_derived")
        pub_c = _f(row, "tco2e_published")
        detail = {"mfu": plan.mfu, "layout": str(plan.layout)}
        if pub_h:
            out.append(Case(SOURCE_PREDICTED, name, "gpu_hours", pub_h, hours, "h",
                            detail=detail))
        if pub_e:
            out.append(Case(SOURCE_PREDICTED, name, "energy_mwh", pub_e, energy / J_PER_MWH,
                            "MWh", detail=detail))
        if pub_c:
            out.append(Case(SOURCE_PREDICTED, name, "tco2e", pub_c,
                            float(co2e_kg(energy, ci)) / 1e3, "t", detail=detail))
    return out


@cache
def _cached() -> tuple[Case, ...]:
    return tuple(footprint_cases() + predicted_cases())


def cases() -> list[Case]:
    return list(_cached())
