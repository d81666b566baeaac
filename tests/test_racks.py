"""Racks from the system's form factor: power density and rack space, whichever binds."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from wattlas import hardware
from wattlas.energy.racks import RACK_UNITS, rack_layout


def test_ten_dgx_h100_do_not_fit_one_rack():
    """10 DGX H100 (8U, 10.2 kW max, air-cooled; user guide Table 2) under a liquid budget of
    140 kW: power alone would allow 13 per rack; 42U / 8U allows 5, so two racks."""
    dgx = hardware.system("dgx-h100")
    assert dgx.node_rack_units == 8 and dgx.cooling == "air"
    lay = rack_layout(80, 10 * 10.2e3, dgx, "liquid", region_rack_w=140e3)
    assert lay.cooling == "air"  # an air-cooled server is planned in air-cooled racks
    assert lay.nodes_per_rack == 5 and lay.racks == 2 and lay.bound == "space"
    assert lay.rack_weight_kg == 5 * 130.45


def test_air_default_limit_binds_without_a_region():
    dgx = hardware.system("dgx-h100")
    lay = rack_layout(80, 10 * 10.2e3, dgx, "liquid")
    assert lay.bound == "power" and lay.nodes_per_rack * 10.2e3 <= lay.limit_w
    assert lay.racks == math.ceil(10 / lay.nodes_per_rack) >= 3
    assert any("air default" in d for d in lay.defaults)


def test_rack_product_holds_a_fixed_count():
    nvl = hardware.system("gb200-nvl72")
    lay = rack_layout(1000, 1000 * 1.7e3, nvl, "liquid")
    assert lay.racks == math.ceil(1000 / 72) and lay.bound == "product"


def test_unknown_form_factor_packs_by_power_and_says_so():
    lay = rack_layout(64, 64 * 1.2e3, None, "liquid", region_rack_w=40e3)
    assert lay.bound == "power" and lay.nodes_per_rack == 4 and lay.racks == 2


@given(gpus=st.integers(1, 4096), node_kw=st.floats(1.0, 30.0),
       limit_kw=st.floats(10.0, 200.0), node_u=st.sampled_from([1, 2, 4, 6, 8, 10]))
@settings(max_examples=150, deadline=None)
def test_no_rack_exceeds_its_power_or_space(gpus, node_kw, limit_kw, node_u):
    sys_ = hardware.System(id="x", accelerator="h100-sxm", accelerators_per_node=8,
                           node_rack_units=node_u, cooling="liquid")
    nodes = math.ceil(gpus / 8)
    lay = rack_layout(gpus, gpus / 8 * node_kw * 1e3, sys_, "liquid",
                      region_rack_w=limit_kw * 1e3)
    if lay.nodes_per_rack is None:  # a node above the rack limit
        assert node_kw > limit_kw
        return
    assert lay.nodes_per_rack * node_kw * 1e3 <= lay.limit_w * (1 + 1e-8)
    assert lay.nodes_per_rack * node_u <= RACK_UNITS
    assert lay.racks * lay.nodes_per_rack >= nodes > (lay.racks - 1) * lay.nodes_per_rack


def test_train_cli_reports_racks_from_space_and_power():
    from wattlas.cli import app

    res = CliRunner().invoke(app, ["train", "--model", "llama3-8b", "--accelerator", "h100-sxm",
                                   "--system", "dgx-h100", "--gpus", "80", "--tokens", "1e9",
                                   "--seq-len", "4096", "--global-batch", "80", "--format",
                                   "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["racks"] >= 2
    assert any("dgx-h100" in n and "42U / 8U" in n for n in out["energy_notes"])
