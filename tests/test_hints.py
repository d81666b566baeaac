"""Errors and hints a new user meets: each names what to change in terms the command that
prints it accepts, and each hint that can be run is run."""

import json
import re

import pytest
from typer.testing import CliRunner

from wattlas import cli
from wattlas.cli import app

RUN = CliRunner()


def _run(args):
    return RUN.invoke(app, args)


@pytest.fixture
def wattlas(capsys, monkeypatch):
    """Run ``wattlas ARGS`` through the console entry point (exit codes and one-line errors as a
    user sees them): returns (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.argv", ["wattlas", *args])
        capsys.readouterr()
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.mark.parametrize("a, b, lat", [("-33.87,151.21", "35.68,139.69", -33.87),
                                       ("35.68,139.69", "-33.87,-151.21", 35.68),
                                       ("-33.87,151.21", "us-va", -33.87)])
def test_rtt_takes_south_and_west_coordinates_as_arguments(a, b, lat):
    res = _run(["rtt", a, b, "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["a_lat"] == lat and out["distance_km"] > 0
    # the same pair as options after the points, and in the table form
    res = _run(["rtt", a, b])
    assert res.exit_code == 0 and "RTT" in res.output


def test_rtt_refuses_what_is_not_a_point(wattlas):
    code, _, err = wattlas("rtt", "-x", "us-va")
    assert code == 2 and re.search(r"'-x'", err) and "Traceback" not in err
