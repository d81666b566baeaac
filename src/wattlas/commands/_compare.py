"""``--compare ACC[,ACC…]`` on ``wattlas train`` and ``wattlas serve``: the same job on other
hardware, one row each after the baseline, through the same stage functions (training: the
plan's compare stage, :func:`wattlas.compare.compare_section`; serving: the serving stage on
the scenario with its ``hardware`` replaced)."""

from __future__ import annotations

from typing import Any

from ..stages.hardware_compare import (  # noqa: F401  (train and serve import them here)
    compare_entries,
    serve_compare,
    train_compare,
)


def print_train_compare(section: dict[str, Any]) -> None:
    from ..units import GIB, SECONDS_PER_DAY
    from ._common import print_table

    shown = []
    for r in section["rows"]:
        if not r.get("fits", True) or r.get("training_time_s") is None:
            shown.append({"hardware": _label(r), "days": None, "note": "not planned (below)"})
            continue
        shown.append({"hardware": _label(r), "GPUs": r["gpus"],
                      "days": r["training_time_s"] / SECONDS_PER_DAY, "MFU": f"{r['mfu']:.1%}",
                      "facility MW": r["facility_power_w"] / 1e6,
                      "MWh": r["energy_j"] / 3.6e9,
                      "tCO2e": None if r.get("co2e_kg") is None else r["co2e_kg"] / 1e3,
                      "GiB/GPU": r["memory_per_gpu_bytes"] / GIB,
                      "note": "layout searched" if r.get("layout_searched") else ""})
    print_table(shown, title="compare: the same job on other hardware (compare.rows; "
                             "— = not planned, see note)")
    for n in section.get("notes", []):
        print(f"note: {n}")


def print_serve_compare(section: dict[str, Any]) -> None:
    from ._common import print_table

    shown = []
    for r in section["rows"]:
        if not r["served"]:
            shown.append({"hardware": _label(r), "note": "not served (below)"})
            continue
        shown.append({"hardware": _label(r), "GPUs": r["gpus"], "batch": r["batch"],
                      "TTFT ms": r["ttft_s"] * 1e3, "TPOT ms": r["tpot_s"] * 1e3,
                      "tok/s per GPU": r["output_tokens_per_s_per_gpu"],
                      "J/token (GPU)": r["energy_per_token_j"],
                      "J/token (facility)": r["energy_per_token_facility_j"], "note": ""})
    print_table(shown, title="compare: the same serving workload on other hardware "
                             "(compare.rows; — = not served, see note)")
    for r in section["rows"]:
        if not r["served"]:
            print(f"note: {_label(r)}: not served: {r['reason']}")


def _label(r: dict[str, Any]) -> str:
    acc, sys_ = r.get("accelerator"), r.get("system")
    base = " (baseline)" if r.get("baseline") else ""
    return (f"{acc} on {sys_}" if acc and sys_ else acc or sys_ or "?") + base
