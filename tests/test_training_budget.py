"""Compute-optimal sizing from a budget (wattlas.energy.budget, `wattlas train --budget-*`)."""

import json
import math

import pytest
from typer.testing import CliRunner

from wattlas import hardware
from wattlas.cli import app
from wattlas.energy import HOST_LOAD_FRAC, NETWORK_W_PER_GPU, EnergyInputs
from wattlas.energy.budget import DEFAULT_BUDGET_MFU_FRAC, size_from_budget
from wattlas.errors import InputError
from wattlas.workload.scaling import ALPHA, BETA

RUN = CliRunner()
H100 = hardware.accelerator("h100-sxm")
DGX = hardware.system("dgx-h100")
DAY = 86400.0


def _size(mw, days=90.0, **kw):
    return size_from_budget(H100, DGX, EnergyInputs(pue=1.15), time_s=days * DAY,
                            facility_power_w=mw * 1e6, **kw)


def test_doubling_power_doubles_the_budget_and_scales_n_and_d_by_the_fit():
    a, b = _size(50), _size(100)
    ratio = b.optimal.flop / a.optimal.flop
    assert ratio == pytest.approx(2.0, rel=1e-4)  # GPUs are whole: floor(P / p_gpu)
    assert b.gpus in (2 * a.gpus, 2 * a.gpus + 1)
    # N_opt ∝ C^(β/(α+β)), D_opt ∝ C^(α/(α+β)) (approach 3, Besiroglu et al. 2024 refit)
    assert b.optimal.params / a.optimal.params == pytest.approx(ratio ** (BETA / (ALPHA + BETA)),
                                                                rel=1e-9)
    assert b.optimal.tokens / a.optimal.tokens == pytest.approx(ratio ** (ALPHA / (ALPHA + BETA)),
                                                                rel=1e-9)
    assert b.optimal.loss < a.optimal.loss


def test_50_mw_for_90_days_on_h100():
    """The worked example of docs/training.md, from catalog values: DGX H100 10.2 kW max for
    8 × 700 W GPUs (host 575 W/GPU at 65 % load), 100 W/GPU network, PUE 1.15."""
    s = _size(50)
    per_gpu = 700 + (10_200 / 8 - 700) * HOST_LOAD_FRAC + NETWORK_W_PER_GPU
    assert s.it_power_w_per_gpu == pytest.approx(per_gpu, rel=1e-12)
    gpus = math.floor(50e6 / 1.15 / per_gpu)
    assert s.gpus == gpus
    flop = gpus * 989.4e12 * DEFAULT_BUDGET_MFU_FRAC * 90 * DAY * 0.90
    assert s.optimal.flop == pytest.approx(flop, rel=1e-12)
    # the figure stated in the docs: ≈ 37,000 GPUs, ≈ 1.0e26 FLOP (2.7 × Llama 3 405B's
    # 3.8e25), a ≈ 1.03 T model on ≈ 16.6 T tokens (Besiroglu et al. 2024 refit)
    assert 36_000 < s.gpus < 38_000 and 1.0e26 < s.optimal.flop < 1.05e26
    assert 1.0e12 < s.optimal.params < 1.06e12 and 1.6e13 < s.optimal.tokens < 1.7e13
    assert 15 < s.optimal.tokens_per_param < 17
    assert any("Besiroglu" in n and "153" in n for n in s.notes)
    assert any("mfu 0.40" in d for d in s.defaults_used)
    assert s.facility_power_w <= 50e6 and s.energy_j == pytest.approx(
        s.facility_power_w * 90 * DAY, rel=1e-12)


def test_gpu_and_flop_budgets_agree_with_the_power_budget():
    s = _size(50)
    g = size_from_budget(H100, DGX, EnergyInputs(pue=1.15), time_s=90 * DAY, gpus=s.gpus)
    assert g.optimal.flop == pytest.approx(s.optimal.flop, rel=1e-12)
    assert g.facility_power_w == pytest.approx(s.facility_power_w, rel=1e-12)
    f = size_from_budget(None, None, EnergyInputs(), flop=s.optimal.flop)
    assert f.optimal == s.optimal and f.gpus is None


@pytest.mark.parametrize("kw,match", [
    (dict(facility_power_w=50e6), "needs a time"),
    (dict(facility_power_w=50e6, gpus=10, time_s=1.0), "exactly one"),
    (dict(facility_power_w=-1.0, time_s=1.0), "facility_power"),
    (dict(facility_power_w=100.0, time_s=1.0), "below one h100-sxm"),
    (dict(gpus=8, time_s=1.0, mfu=1.5), "mfu_frac"),
])
def test_bad_budgets(kw, match):
    with pytest.raises(InputError, match=match):
        size_from_budget(H100, DGX, EnergyInputs(), **kw)


def _exit_code(monkeypatch, capsys, args):
    from wattlas.cli import main

    monkeypatch.setattr("sys.argv", ["wattlas", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    return exc.value.code, capsys.readouterr().err


def test_cli_json_table_and_exit_codes(monkeypatch, capsys):
    args = ["train", "--budget-mw", "50", "--budget-days", "90", "--accelerator", "h100-sxm",
            "--system", "dgx-h100", "--pue", "1.15"]
    r = RUN.invoke(app, args + ["--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["budget_flop"] == pytest.approx(_size(50).optimal.flop, rel=1e-12)
    for k in ("optimal_params", "optimal_tokens", "tokens_per_param", "expected_loss", "gpus",
              "facility_power_w", "it_power_w_per_gpu", "sustained_flop_per_s"):
        assert out[k] > 0
    r = RUN.invoke(app, args)
    assert r.exit_code == 0 and "optimal params" in r.output
    for bad, field in ((["--budget-mw", "-5", "--budget-days", "90"], "facility_power_mw"),
                       (["--budget-mw", "50"], "budget-days"),
                       (["--budget-mw", "50", "--budget-days", "90", "--mfu", "2"], "mfu_frac"),
                       (["--budget-mw", "0.001", "--budget-days", "9"], "below one")):
        code, err = _exit_code(monkeypatch, capsys, ["train", "--accelerator", "h100-sxm", *bad])
        assert code == 2 and field in err and "Traceback" not in err


def test_scenario_budget_section_and_plan_stage(tmp_path):
    from wattlas import scenario as sc
    from wattlas.plan import run_plan

    f = tmp_path / "budget.yaml"
    f.write_text("hardware: {accelerator: h100-sxm, system: dgx-h100}\n"
                 "energy: {pue: 1.15}\n"
                 "budget: {facility_power_mw: 50, days: 90}\n")
    r = RUN.invoke(app, ["train", str(f), "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["gpus"] == _size(50).gpus
    plan = run_plan(sc.load(str(f)))
    assert "budget" in plan["stages"] and plan["budget"]["gpus"] == _size(50).gpus


def test_scenario_budget_rejects_unknown_keys(tmp_path, monkeypatch, capsys):
    f = tmp_path / "budget.yaml"
    f.write_text("budget: {facility_power_mw: 50, days: 90, typo: 1}\n")
    code, err = _exit_code(monkeypatch, capsys, ["train", str(f)])
    assert code == 2 and "budget.typo" in err
