"""Every option of every command has help text, a numeric option names its unit in brackets,
and help never shows a Python type as a metavar."""

import re

import pytest
import typer.main
from typer.testing import CliRunner

from wattlas.cli import COMMANDS, app

RUN = CliRunner()
UNIT = re.compile(r"\[[^\]]+\]")
#: numeric options with no unit at all (a seed is a label, not a quantity)
NO_UNIT = {"--seed"}


def _params():
    group = typer.main.get_command(app)
    for name in COMMANDS:
        for p in group.commands[name].params:
            if p.name != "help":
                yield name, p


PARAMS = list(_params())


@pytest.mark.parametrize("command, param", PARAMS,
                         ids=[f"{c}:{p.opts[-1]}" for c, p in PARAMS])
def test_every_option_has_help_and_numbers_have_units(command, param):
    assert (param.help or "").strip(), f"wattlas {command} {param.opts[-1]} has no help"
    annotation = param.type_descriptor.annotation
    if annotation in (int, float) and param.opts[-1] not in NO_UNIT:
        assert UNIT.search(param.help), (
            f"wattlas {command} {param.opts[-1]}: help {param.help!r} names no unit in "
            "brackets ([tokens], [GPUs], [W], [0-1] …)")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_units_and_no_python_types(command):
    res = RUN.invoke(app, [command, "--help"])
    assert res.exit_code == 0
    assert not re.search(r"<(str|int|float|bool|list\[[a-z]+\])>", res.output), res.output
    if command == "train":
        for text in ("Sequence length [tokens]", "Global batch [sequences]",
                     "--tp N", "Tensor-parallel width [GPUs]", "Micro-batch [sequences]"):
            assert text in res.output.replace("\n" + " " * 34, " ")


def test_metavars_name_what_is_expected():
    res = RUN.invoke(app, ["train", "--help"])
    for text in ("--model ID", "--set KEY=VALUE", "--gpus N", "--tokens X", "SCENARIO"):
        assert text in res.output
