"""``wattlas train`` in budget mode: a facility power, GPU count or FLOP budget → GPUs, FLOP
budget and the Chinchilla-optimal model (:mod:`wattlas.energy.budget`)."""

from __future__ import annotations

from typing import Any


def _table(out: dict[str, Any]) -> None:
    from ..units import SECONDS_PER_DAY, show_energy, show_power
    from ._common import print_pairs

    pairs: list[tuple[str, str]] = []
    if out["gpus"] is not None:
        pairs += [
            ("facility power", f"{show_power(out['facility_power_w'])} (PUE {out['pue']:.2f}); "
                               f"IT {show_power(out['it_power_w'])}"),
            ("GPUs", f"{out['gpus']:,} × {out['accelerator']} at "
                     f"{out['it_power_w_per_gpu']:,.0f} W IT each"),
            ("sustained", f"{out['sustained_flop_per_s']:.3g} FLOP/s (MFU {out['mfu']:.0%} of "
                          f"{out['peak_flop_per_s_per_gpu'] / 1e12:,.0f} TFLOP/s "
                          f"{out['precision']})"),
            ("time", f"{out['time_s'] / SECONDS_PER_DAY:,.1f} days (goodput "
                     f"{out['goodput_frac']:.0%})"),
            ("energy", show_energy(out["energy_j"])),
        ]
    pairs += [
        ("FLOP budget", f"{out['budget_flop']:.3g} FLOP"),
        ("optimal params", f"{out['optimal_params'] / 1e9:,.1f} B"),
        ("optimal tokens", f"{out['optimal_tokens'] / 1e12:,.2f} T"),
        ("tokens/param", f"{out['tokens_per_param']:,.1f}"),
        ("expected loss", f"{out['expected_loss']:.3f} nats/token"),
    ]
    pairs += [("default", d) for d in out["defaults_used"]]
    pairs += [("note", n) for n in out["notes"]]
    print_pairs(pairs, title="wattlas train: compute-optimal model for the budget "
                             "(Chinchilla)")


def run_budget(scen: Any, fmt: str) -> None:
    from ..stages.budget import budget_stage
    from ._common import print_csv, print_json

    out = budget_stage(scen)
    if fmt == "json":
        print_json(out)
    elif fmt == "csv":
        print_csv([{k: v for k, v in out.items() if not isinstance(v, list)}])
    else:
        _table(out)
