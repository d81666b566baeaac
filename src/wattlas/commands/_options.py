"""Options that several commands share (one definition, one help text). Imports only Typer,
so command start-up stays light."""

from __future__ import annotations

import typer

#: energy.* scenario fields that the shared energy flags below write
ENERGY_FLAG_KEYS = ("power_basis", "pue", "grid_intensity_g_per_kwh", "price_usd_per_mwh")

REGION = typer.Option(None, "--region", help="Region id (for energy and carbon).")
POWER_BASIS = typer.Option(None, "--power-basis", help="tdp | measured | modeled")
PUE = typer.Option(None, "--pue", help="Facility PUE [ratio ≥ 1] (default: "
                    "region/cooling).")
GRID_INTENSITY = typer.Option(None, "--grid-intensity-g-per-kwh",
                              help="Grid carbon intensity [gCO2e/kWh] (default: region).")
PRICE = typer.Option(None, "--price-usd-per-mwh", help="Electricity price [USD/MWh] (default: "
                     "region).")

#: metavar by option flag where the type alone says too little
_NAMED_METAVARS = {"--model": "ID", "--accelerator": "ID", "--system": "ID", "--region": "ID",
                   "--engine": "ID", "--draft": "ID", "--distill-to": "ID", "--format": "FORMAT",
                   "--set": "KEY=VALUE", "--catalog": "FILE", "--out": "DIR",
                   "--profile": "REGION=FILE", "--site-cap-mw": "REGION=MW"}
#: metavar by annotation (click's own names for the rest)
_TYPE_METAVARS = {int: "N", float: "X", str: "TEXT"}


def plain_metavars(func: object) -> None:
    """Give every option of a command function a metavar ("N", "X", "ID", "KEY=VALUE", …) and
    every argument its upper-case name, so help never shows a Python type ("<int>",
    "<list[str]>"). Flags (bool) take no value and keep none."""
    import inspect
    import typing

    from typer.models import ArgumentInfo, OptionInfo

    hints = typing.get_type_hints(func)
    for name, param in inspect.signature(func).parameters.items():  # type: ignore[arg-type]
        info = param.default
        if not isinstance(info, OptionInfo | ArgumentInfo) or info.metavar is not None:
            continue
        hint = hints.get(name)
        if isinstance(info, ArgumentInfo):
            info.metavar = name.upper()
            continue
        if hint is bool:
            continue
        args = typing.get_args(hint)
        base = next((a for a in args if a is not type(None)), hint) if args else hint
        if typing.get_origin(base) is list:
            base = typing.get_args(base)[0]
        flag = next((d for d in info.param_decls if d.startswith("--")), "")
        info.metavar = _NAMED_METAVARS.get(flag, _TYPE_METAVARS.get(base, "TEXT"))


#: scenario key → flag where the flag is not the key's last part with "_" → "-"
_FLAG_ALIASES = {"training.goodput_frac": "--goodput",
                 "training.stack_efficiency_frac": "--stack-efficiency",
                 "energy.gpu_hour_price_usd": "--gpu-hour-usd",
                 "energy.capacity_charge_usd_per_mw_year": "--capacity-charge-usd-per-mw-year",
                 "energy.grid_intensity_g_per_kwh": "--grid-intensity-g-per-kwh",
                 "serving.agent.calls": "--agent-calls",
                 "serving.agent.tool_time_s": "--tool-time-s",
                 "serving.agent.tool_result_tokens": "--tool-result-tokens",
                 "budget.facility_power_mw": "--budget-mw", "budget.days": "--budget-days",
                 "budget.gpus": "--budget-gpus", "budget.flop": "--budget-flop",
                 "budget.mfu_frac": "--mfu"}


def command_flags(func: object) -> set[str]:
    """The long flags ("--seq-len", …) a command function declares."""
    import inspect

    from typer.models import OptionInfo

    return {d for p in inspect.signature(func).parameters.values()  # type: ignore[arg-type]
            if isinstance(p.default, OptionInfo) for d in p.default.param_decls
            if d.startswith("--")}


def flag_for(path: str, flags: set[str]) -> str | None:
    """The flag of `flags` that sets scenario key `path`, or None when the command has none."""
    flag = _FLAG_ALIASES.get(path) or "--" + path.rsplit(".", 1)[-1].replace("_", "-")
    return flag if flag in flags else None


def validate_cli(data: dict, func: object) -> object:
    """``scenario.validate(data)`` for a command: an error about a key that a flag of the command
    sets names the flag and the key ("--seq-len is required (training.seq_len in a scenario
    file)"), so flags-only and scenario users both read what to change."""
    import re

    from .. import scenario as sc
    from ..errors import ScenarioError

    try:
        return sc.validate(data)
    except ScenarioError as exc:
        text = str(exc)
        m = re.match(r"scenario: ([A-Za-z0-9_.\[\]]+)( = .*?)?: (.*)$", text, re.S)
        flag = flag_for(m.group(1), command_flags(func)) if m else None
        if m is None or flag is None:
            raise
        path, shown, msg = m.group(1), m.group(2) or "", m.group(3)
        if msg == "Field required":
            raise ScenarioError(f"{flag} is required ({path} in a scenario file)") from None
        raise ScenarioError(f"{flag}{shown} ({path} in a scenario file): {msg}") from None


#: flag → scenario key, by the stage whose message names the flag
_HINT_KEYS = {
    "training": {f"--{k}": f"training.layout.{k}" for k in (
        "tp", "pp", "dp", "cp", "ep", "vpp", "microbatch", "recompute", "zero", "offload")}
    | {"--precision": "training.precision", "--gpus": "cluster.gpus"},
    "serving": {"--tp": "serving.tp", "--kv-precision": "serving.kv_precision",
                "--precision": "serving.precision", "--batch": "serving.batch",
                "--engine": "serving.engine", "--accelerator": "hardware.accelerator"},
}
_HINT_VALUES = r"(none|selective|full|optimizer|optimizer\+weights|activations|bf16|fp16|fp8|" \
               r"fp4|int4|[0-9]+)"


def _stage_of(exc: BaseException) -> str:
    """'serving' when the error was raised in the serving models, else 'training'."""
    tb, stage = exc.__traceback__, "training"
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename.replace("\\", "/")
        if "/perf/serving" in name or "/perf/inference" in name or "/stages/serving" in name:
            stage = "serving"
        elif "/perf/training" in name or "/perf/search" in name or "/stages/training" in name:
            stage = "training"
        tb = tb.tb_next
    return stage


def hint_for_command(message: str, flags: set[str], stage: str = "training") -> str:
    """`message` with every flag the command lacks rewritten as what the command accepts: the
    scenario key, as ``--set key=value`` where the command has ``--set``; "run --search" as
    leaving out the layout (a search keeps the fields given; without any it searches all)."""
    import re

    if stage == "training":
        # a search keeps every layout field given (scenario or flag): free them all to search
        how = ("--set training.layout=null" if "--set" in flags
               else "no training.layout in the scenario")
        message = re.sub(r"(run |or )?--search\b", lambda m: f"{m.group(1) or ''}the layout "
                         f"search ({how})", message)
    keys = _HINT_KEYS.get(stage, {})

    def swap(m: re.Match[str]) -> str:
        flag, value = m.group(1), m.group(2)
        if flag in flags or flag not in keys:
            return m.group(0)
        key = keys[flag]
        if value is not None:
            return f"--set {key}={value}" if "--set" in flags else f"{key}: {value}"
        return key
    return re.sub(rf"(--[a-z][a-z0-9-]*)(?: {_HINT_VALUES}\b)?", swap, message)


def error_text(exc: BaseException, command_func: object | None) -> str:
    """The one-line error of `exc` with its hints valid for the command that prints it."""
    import re

    text = str(exc)
    if command_func is None:
        return text
    flags = command_flags(command_func)
    # a message that starts with the scenario key a flag of this command sets names the flag
    m = re.match(r"([a-z_]+(?:\.[a-z_]+)+): (.*)$", text, re.S)
    flag = flag_for(m.group(1), flags) if m else None
    if flag is not None:
        text = f"{flag} ({m.group(1)} in a scenario file): {m.group(2)}"
    if "--" not in text:
        return text
    return hint_for_command(text, flags, _stage_of(exc))


CATALOG = typer.Option(None, "--catalog", help="CSV/YAML file adding or overriding catalog "
                       "rows (repeat for several; see docs/howto-own-catalog.md).")


def load_catalogs(files: list[str] | str | None) -> None:
    """Add the rows of each ``--catalog`` file (paths relative to the working directory)."""
    if not files:
        return
    from .. import catalog

    for f in [files] if isinstance(files, str) else files:
        catalog.add_user_rows(f)
