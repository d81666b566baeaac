"""The governance stage: training compute against the thresholds of the compute-threshold
catalog, and the export-control class of every accelerator the scenario uses or compares."""

from __future__ import annotations

import dataclasses
from typing import Any

from ._plain import plain


def governance_stage(scen: Any, training: dict[str, Any] | None) -> dict[str, Any]:
    """Training compute vs thresholds and the export-control class of the accelerators used or
    compared."""
    from .. import catalog, governance, hardware

    accs = []
    if scen.hardware is not None and scen.hardware.accelerator:
        accs.append(scen.hardware.accelerator)
    for alt in scen.compare.hardware if scen.compare is not None else []:
        accs.append(alt.accelerator or hardware.system(alt.system).accelerator)
    for s in (get_field(scen.routing, "sites") or []) if scen.routing is not None else []:
        if get_field(s, "accelerator"):
            accs.append(get_field(s, "accelerator"))
    accs = list(dict.fromkeys(accs))
    out: dict[str, Any] = {"accelerators": [
        dataclasses.asdict(governance.classify(catalog.get("accelerators", a))) for a in accs]}
    if training is not None:
        out["training_compute_flop"] = training["model_flop_total"]
        out["compute"] = governance.compute_check(training["model_flop_total"])
    return plain(out)


def get_field(obj: Any, name: str) -> Any:
    """`name` of a mapping or an object (routing sites and users come as either)."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)



def check_dict(training_flop: float | None, accelerators: list[str],
               flop_basis: str | None = None) -> dict[str, Any]:
    """The governance summary as one JSON-able mapping."""
    from .. import catalog
    from ..governance import classify, compute_check

    out: dict[str, Any] = {"training_flop": training_flop, "training_flop_basis": flop_basis}
    out["thresholds"] = compute_check(training_flop) if training_flop is not None else []
    classes = []
    for acc in accelerators:
        c = classify(catalog.get("accelerators", acc))
        row = catalog.get("accelerators", acc)
        classes.append({"accelerator": acc, "eccn": c.eccn, "tpp": c.tpp,
                        "tpp_precision": c.tpp_precision, "die_area_mm2": c.die_area_mm2,
                        "performance_density": c.performance_density, "reason": c.reason,
                        "rule": c.rule, "rule_date": c.rule_date,
                        "catalog_as_of": row.get("as_of") or None,
                        "catalog_note": row.get("note") or None})
    out["export_control"] = classes
    return out



def check_stage(scen: Any = None, model: Any = None, tokens: float | None = None,
                seq_len: int | None = None, training_flop: float | None = None,
                accelerators: list[str] | None = None) -> dict[str, Any]:
    """What ``wattlas check --format json`` prints: the training compute (given, or PaLM
    6N + 12LHQT × tokens of `model`) against the compute thresholds, and the export-control
    class of each accelerator. Arguments given win over the scenario's fields."""
    from ..errors import InputError
    from ..scenario import resolve_model

    model_ref: Any = model
    if model_ref is None and scen is not None:
        model_ref = scen.model
    if tokens is None and scen is not None and scen.training is not None:
        tokens = scen.training.tokens
    if seq_len is None and scen is not None and scen.training is not None:
        seq_len = scen.training.seq_len
    accs = list(accelerators or [])
    if not accs and scen is not None and scen.hardware is not None:
        hw = scen.hardware
        if hw.accelerator:
            accs = [hw.accelerator]
        elif hw.system:
            from ..hardware import system

            accs = [system(hw.system).accelerator]
    basis = None
    if training_flop is not None:
        if not training_flop > 0:
            raise InputError(f"--training-flop {training_flop}: must be > 0 FLOP")
        basis = "given"
    elif model_ref is not None:
        if tokens is None or seq_len is None:
            raise InputError("--model needs --tokens N and --seq-len N (or training.tokens and "
                             "training.seq_len in the scenario)")
        if not tokens > 0 or not seq_len > 0:
            raise InputError(f"--tokens {tokens}, --seq-len {seq_len}: both must be > 0")
        from ..workload.transformer import training_flop_per_token

        spec = resolve_model(model_ref)
        training_flop = training_flop_per_token(spec, int(seq_len)) * float(tokens)
        basis = f"PaLM 6N+12LHQT × {float(tokens):.3g} tokens of {spec.id}"
    if training_flop is None and not accs:
        raise InputError("nothing to check: give --model with --tokens and --seq-len, "
                         "--training-flop X, and/or --accelerator ID")
    return plain(check_dict(training_flop, accs, basis))
