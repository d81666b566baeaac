"""The same training or serving job on other hardware (``--compare ACC[,ACC…]`` on ``wattlas
train`` and ``wattlas serve``, ``compare=`` in :func:`wattlas.train` and :func:`wattlas.serve`):
one row each after the baseline, through the same stage functions (training: the plan's compare
stage, :func:`wattlas.compare.compare_section`; serving: the serving stage on the scenario with
its ``hardware`` replaced)."""

from __future__ import annotations

from typing import Any

#: the serving keys one comparison row carries (SI, as ``wattlas serve --format json``)
SERVE_ROW_KEYS = ("gpus", "batch", "ttft_s", "tpot_s", "output_tokens_per_s",
                  "output_tokens_per_s_per_gpu", "energy_per_token_j",
                  "energy_per_token_facility_j")


def compare_entries(text: str | list[str]) -> list[dict[str, str]]:
    """The ``compare.hardware`` entries of ``--compare a,b,…`` (or a list of ids): each id a
    system of the catalog (``{system: id}``) or an accelerator (``{accelerator: id}``); an
    unknown id is an error naming the flag."""
    from .. import catalog
    from ..errors import InputError

    parts = text.split(",") if isinstance(text, str) else list(text or [])
    ids = [t.strip() for t in parts if t.strip()]
    if not ids:
        raise InputError(f"--compare '{text}': give accelerator or system ids, comma-separated "
                         "(wattlas catalog accelerators | systems)")
    systems = {r["id"] for r in catalog.rows("systems")}
    accelerators = {r["id"] for r in catalog.rows("accelerators")}
    out = []
    for i in ids:
        if i in systems:
            out.append({"system": i})
        elif i in accelerators:
            out.append({"accelerator": i})
        else:
            raise InputError(f"--compare: unknown id '{i}'; give accelerator or system ids "
                             "(wattlas catalog accelerators | systems)")
    return out


def train_compare(scen: Any, training: dict[str, Any], entries: list[dict[str, str]]
                  ) -> dict[str, Any]:
    """The ``compare`` section of `training` (the baseline's train keys) on `entries`, as
    ``wattlas plan`` computes it for a scenario's ``compare`` section."""
    from ..compare import compare_section
    from ..scenario import Compare
    from .site import rack_power_w, site_stage
    from .training import training_stage

    layout = scen.compare.layout if scen.compare is not None else "keep"
    # no check_compare: an entry that cannot be planned (no NIC bandwidth in the catalog, …)
    # becomes a row that says why, beside the others
    comp = Compare.model_validate({"hardware": entries, "layout": layout})
    scen = scen.model_copy(update={"compare": comp})
    notes: list[str] = []
    section = compare_section(scen, training, notes, training_stage=training_stage,
                              site_stage=site_stage, rack_power_w=rack_power_w)
    return dict(section, notes=notes)


def serve_compare(scen: Any, out: dict[str, Any], entries: list[dict[str, str]],
                  hours: float) -> dict[str, Any]:
    """Rows of the serving keys (:data:`SERVE_ROW_KEYS`) for the baseline `out` and each entry:
    the scenario's serving section on that hardware (a row that cannot be served says why)."""
    from ..errors import WattlasError
    from ..scenario import Hardware
    from .serving import serving_stage

    rows = [dict({k: out.get(k) for k in SERVE_ROW_KEYS}, accelerator=out.get("accelerator"),
                 system=scen.hardware.system if scen.hardware else None, baseline=True,
                 served=True)]
    for e in entries:
        alt = scen.model_copy(update={"hardware": Hardware(**e)})
        row: dict[str, Any] = {"accelerator": e.get("accelerator"), "system": e.get("system"),
                               "baseline": False}
        try:
            res, plan = serving_stage(alt, hours=hours)
        except WattlasError as err:
            rows.append(dict(row, served=False, reason=str(err)))
            continue
        row["accelerator"] = res.get("accelerator") or plan.config.accelerator.id
        rows.append(dict(row, served=True, **{k: res.get(k) for k in SERVE_ROW_KEYS}))
    return {"rows": rows}

