"""The compare stage of ``wattlas plan``: the scenario's training job on each ``compare.hardware``
entry, one row each after the scenario's own hardware (the baseline).

Every row comes from the stage functions the orchestrator passes in (the train command's code
path for training, the site stage for rack power and the best region), so a row is what
``wattlas train`` prints with the row's ``train_args``. This module imports nothing from
:mod:`wattlas.plan`; the plan calls :func:`compare_section`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Training = Callable[[Any], tuple[dict[str, Any], Any]]
Site = Callable[[Any, dict[str, Any], list[str]], dict[str, Any] | None]
RackPower = Callable[[Any, dict[str, Any], list[str]], float | None]

ROW_TRAINING_KEYS = ("accelerator", "gpus", "parallelism", "mfu", "hfu", "step_time_s",
                     "training_time_s", "gpu_hours", "memory_per_gpu_bytes", "hbm_bytes",
                     "it_power_w", "facility_power_w", "racks", "energy_j", "co2e_kg",
                     "energy_cost_usd")


def check_compare(compare: Any) -> None:
    """Each ``compare.hardware`` entry names known ids that belong together and a known scale-out
    bandwidth; raises InputError (exit 2) naming the entry's key path before any work."""
    from . import hardware
    from .errors import CatalogKeyError, InputError

    for i, alt in enumerate(compare.hardware):
        where = f"compare.hardware.{i}"
        if not (alt.accelerator or alt.system):
            raise InputError(f"{where}: give accelerator and/or system "
                             "(wattlas catalog accelerators | systems)")
        try:
            sys_ = hardware.system(alt.system) if alt.system else None
            acc = hardware.accelerator(alt.accelerator or sys_.accelerator)
        except CatalogKeyError as err:
            field = "system" if alt.system and err.kind == "system" else "accelerator"
            raise InputError(f"{where}.{field}: {err}") from None
        if sys_ is not None and sys_.accelerator != acc.id:
            raise InputError(f"{where}: system '{sys_.id}' holds {sys_.accelerator}, not "
                             f"{acc.id}; name a system of {acc.id} or leave system out")
        sys_ = sys_ or hardware.default_system(acc.id)
        try:
            hardware.fabric_for(acc, sys_, scaleout_bytes_per_s=alt.nic_bytes_per_s)
        except InputError:
            raise InputError(f"{where}: scale-out bandwidth per GPU of {acc.id}"
                             + (f" in {sys_.id}" if sys_ else "") + " is not in the catalog; "
                             f"give {where}.nic_bytes_per_s=<B/s per GPU>") from None


def alternative_scenario(scen: Any, alt: Any, layout: str = "keep") -> Any:
    """`scen` with ``hardware`` replaced by the compare entry `alt` (and ``cluster.gpus`` by
    ``alt.gpus`` when given). The training layout is kept (``dp`` left to follow a changed GPU
    count) unless `layout` is "search" or the scenario gives none."""
    from .scenario import Cluster, Hardware

    hw = Hardware(accelerator=alt.accelerator, system=alt.system,
                  nic_bytes_per_s=alt.nic_bytes_per_s)
    gpus = alt.gpus or scen.cluster.gpus
    lay = scen.training.layout
    if lay is not None and gpus != scen.cluster.gpus:
        lay = lay.model_copy(update={"dp": None})
    if layout == "search":
        lay = None
    return scen.model_copy(update={"hardware": hw, "cluster": Cluster(gpus=gpus),
                                   "training": scen.training.model_copy(update={"layout": lay})})


def train_args(base: Any, scen: Any) -> list[str]:
    """The ``wattlas train SCENARIO`` arguments that turn the scenario `base` into `scen` (an
    :func:`alternative_scenario`): the same numbers, printed by the single verb."""
    import yaml

    args: list[str] = []
    if scen.hardware != base.hardware:
        hw = yaml.safe_dump(scen.hardware.model_dump(exclude_none=True),
                            default_flow_style=True, sort_keys=False, width=1000).strip()
        args += ["--set", f"hardware={hw}"]
    if scen.cluster.gpus != base.cluster.gpus:
        args += ["--set", f"cluster.gpus={scen.cluster.gpus}"]
        if scen.training.layout is not None:
            args += ["--set", "training.layout.dp=null"]
    if scen.training.layout is None:
        if base.training.layout is not None:  # the search keeps any layout field it is given
            args += ["--set", "training.layout=null"]
        args.append("--search")
    return args


def _hardware_ids(hw: Any) -> tuple[str, str | None]:
    """(accelerator id, system id) of a hardware section: the system's accelerator when only
    the system is named, the accelerator's default system when only the accelerator is."""
    from . import hardware

    if hw.system:
        return hw.accelerator or hardware.system(hw.system).accelerator, hw.system
    sys_ = hardware.default_system(hw.accelerator)
    return hw.accelerator, sys_.id if sys_ else None


def _compare_row(scen: Any, training: dict[str, Any], notes: list[str], site_stage: Site,
                 rack_power_w: RackPower) -> dict[str, Any]:
    """One row of the hardware comparison: the training and energy numbers of `training` (the
    training stage's dict), the rack power (`rack_power_w`) and the best-ranked candidate region
    for that facility and rack power (`site_stage`)."""
    row: dict[str, Any] = {"accelerator": training["accelerator"],
                           "system": _hardware_ids(scen.hardware)[1], "fits": training["fits"],
                           "layout_searched": "search_candidates" in training}
    row.update({k: training.get(k) for k in ROW_TRAINING_KEYS if k != "accelerator"})
    power = {k: training.get(k) for k in ("it_power_w", "facility_power_w", "racks")}
    site = site_stage(scen, power, notes) if scen.site is not None else None
    row["rack_power_w"] = (site["rack_power_w"] if site is not None
                           else rack_power_w(scen, power, notes))
    ranked = [r for r in (site or {}).get("regions", []) if r.get("rank") is not None]
    best = min(ranked, key=lambda r: r["rank"]) if ranked else None
    for key in ("region", "time_to_power_years_low", "time_to_power_years_high"):
        row[key] = best[key] if best else None
    if site is not None and best is None:
        notes.append("no candidate region is feasible (see site.regions reasons)")
    return row


def _alternative_training(scen: Any, alt: Any,
                          training_stage: Training) -> tuple[Any, dict[str, Any], list[str]]:
    """(the alternative's scenario, its `training_stage` dict, notes): the kept layout where it
    applies, else the layout search. Raises WattlasError when no layout can run."""
    from .errors import WattlasError

    alt_scen = alternative_scenario(scen, alt, scen.compare.layout)
    lay = alt_scen.training.layout
    notes: list[str] = []
    if lay is not None:
        try:
            return alt_scen, training_stage(alt_scen)[0], notes
        except WattlasError as err:
            notes.append(f"layout tp={lay.tp} pp={lay.pp} cp={lay.cp} vpp={lay.vpp} "
                         f"recompute={lay.recompute} zero={lay.zero} does not apply ({err}); "
                         "searched instead")
        alt_scen = alternative_scenario(scen, alt, "search")
    return alt_scen, training_stage(alt_scen)[0], notes


def compare_section(scen: Any, training: dict[str, Any], notes: list[str], *,
                    training_stage: Training, site_stage: Site,
                    rack_power_w: RackPower) -> dict[str, Any]:
    """The ``compare`` section of ``plan.json``: the same training job on each
    ``compare.hardware`` entry, through `training_stage` (the train command's code path; it
    returns the training dict and the energy report), one row each after the scenario's own
    hardware (the baseline). `site_stage` (the site section, or None with the reason in the
    notes) and `rack_power_w` give each row's rack power and best region.

    A kept layout that is invalid or does not fit on an alternative is replaced by the layout
    search (said in `notes`); an alternative on which no layout runs gets a row with ``fits``
    false and the reason."""
    from .errors import WattlasError
    from .stages._plain import jsonable

    rows = [dict(_compare_row(scen, training, [], site_stage, rack_power_w), baseline=True,
                 train_args=train_args(scen, scen))]
    for alt in scen.compare.hardware:
        acc_id, sys_id = _hardware_ids(alt)
        label = f"{acc_id}" + (f" ({sys_id})" if sys_id else "")
        try:
            alt_scen, alt_training, alt_notes = _alternative_training(scen, alt,
                                                                      training_stage)
        except WattlasError as err:
            notes.append(f"compare {label}: not planned: {err}")
            failed = alternative_scenario(scen, alt, "search")
            rows.append({"accelerator": acc_id, "system": sys_id, "fits": False,
                         "gpus": failed.cluster.gpus, "baseline": False, "reason": str(err),
                         "train_args": train_args(scen, failed)})
            continue
        row = _compare_row(alt_scen, alt_training, alt_notes, site_stage, rack_power_w)
        rows.append(dict(row, baseline=False, train_args=train_args(scen, alt_scen)))
        notes.extend(f"compare {label}: {n}" for n in alt_notes)
    return {"layout": scen.compare.layout, "rows": jsonable(rows)}

