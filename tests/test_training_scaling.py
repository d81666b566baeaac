"""Chinchilla compute-optimal sizing (wattlas.workload.scaling), Hoffmann et al. 2022 approach 3
with the Besiroglu et al. 2024 refit as default (tables in tests/reference/test_chinchilla.py)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wattlas.errors import InputError
from wattlas.workload.scaling import HOFFMANN_2022, compute_optimal, flop_budget, loss


@given(st.floats(1e18, 1e27))
def test_optimum_spends_the_budget_and_is_a_minimum(c):
    opt = compute_optimal(c)
    assert 6 * opt.params * opt.tokens == pytest.approx(c, rel=1e-9)
    for f in (0.8, 1.25):  # move along C = 6ND: the loss only rises
        n = opt.params * f
        assert loss(n, c / (6 * n)) >= opt.loss - 1e-12


def test_loss_formula_and_exponents():
    assert loss(1e9, 1e12, HOFFMANN_2022) == pytest.approx(
        1.69 + 406.4 / 1e9**0.34 + 410.7 / 1e12**0.28)
    assert loss(1e9, 1e12) == pytest.approx(1.8172 + 482.01 / 1e9**0.3478
                                            + 2085.43 / 1e12**0.3658)
    a, b = compute_optimal(1e22, HOFFMANN_2022), compute_optimal(1e24, HOFFMANN_2022)
    # N_opt ∝ C^(β/(α+β)) = C^0.4516
    assert b.params / a.params == pytest.approx(100 ** (0.28 / 0.62), rel=1e-9)


def test_budgets_and_errors():
    assert flop_budget(1e18, time_s=10) == 1e19
    assert flop_budget(1e18, energy_j=1e6, power_w=1e5) == 1e19
    with pytest.raises(InputError, match="compute budget"):
        compute_optimal(0)
    with pytest.raises(InputError, match="give time_s"):
        flop_budget(1e18)
