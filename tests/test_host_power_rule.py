"""One host-power rule for every accelerator: a named system's host, else the generic
150 W/GPU, listed in defaults_used every time (the system picked by default sets the fabric and
racks, never the host)."""

import json

import pytest
from typer.testing import CliRunner

from wattlas import hardware
from wattlas.cli import app
from wattlas.energy.physics import DEFAULT_HOST_W_PER_GPU
from wattlas.energy.plan import host_power_w

RUN = CliRunner()


@pytest.mark.parametrize("acc", ["h100-sxm", "h200-sxm", "b200", "b300", "mi300x"])
def test_no_system_named_gives_the_generic_host_for_every_accelerator(acc):
    a = hardware.accelerator(acc)
    w, default = host_power_w(hardware.default_system(acc), a)
    assert w == DEFAULT_HOST_W_PER_GPU and "no system named" in default
    assert host_power_w(None, a) == (w, default)


def test_a_named_system_gives_its_host_and_no_default():
    w, default = host_power_w(hardware.system("dgx-h100"), hardware.accelerator("h100-sxm"))
    assert w == pytest.approx(10_200 / 8 - 700) and default is None


@pytest.mark.parametrize("acc", ["h100-sxm", "h200-sxm", "b300"])
def test_serve_lists_the_host_default_for_each_accelerator(acc):
    res = RUN.invoke(app, ["serve", "--model", "llama3-70b", "--accelerator", acc, "--precision",
                           "fp8", "--tp", "2", "--prompt-tokens", "1024", "--output-tokens",
                           "256", "-f", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert any(d.startswith("host power 150 W/GPU") for d in out["defaults_used"]), out
