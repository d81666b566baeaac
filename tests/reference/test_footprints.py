"""Published training footprints reproduced under each source's own accounting.

Source: data/reference/training_footprints.csv — Patterson et al. 2021 Table 4 (T5, Meena,
GShard, Switch, GPT-3, Evolved Transformer; via the LLMCarbon repository), LLMCarbon
database.csv (XLM), Luccioni et al. 2023 §4 (BLOOM dynamic energy), Llama 2 model card (GPU-hours,
400/350 W, tCO2e). Formula: E = accel_hours × P × PUE (PUE only where the source applied it),
CO2e = E × CI.

Tolerance: 1 % (the project's bar for rounded inputs: Patterson's days and average power are
themselves rounded, which is why T5 and GShard energy sit at −0.4 % and −0.8 %) plus half a
unit in the last published digit, the published figure's own rounding. That addition matters
for one row only: GShard-600B 4.3 tCO2e is given to two significant figures (±1.2 %); its
inputs give 4.23 t (−1.55 %), consistent with 24.1 MWh × 0.177 = 4.27 rounded up.
"""

from __future__ import annotations

import pytest

from wattlas.validation import energy as ve


def _tolerance(published: float) -> float:
    text = f"{published:g}"
    decimals = len(text.split(".")[1]) if "." in text else 0
    half_unit = 0.5 * 10 ** (-decimals)
    return 0.01 + half_unit / abs(published)


CASES = ve.footprint_cases()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.case}-{c.metric}" for c in CASES])
def test_footprint_row_reproduced(case):
    assert abs(case.error_frac) <= _tolerance(case.published) + 1e-12


def test_every_reproducible_row_is_a_case():
    names = {c.case for c in CASES}
    assert {"T5", "Meena", "GShard-600B", "Switch-1.5T", "GPT-3-175B", "XLM-0.55B",
            "BLOOM-176B-dynamic", "Llama2-7B", "Llama2-70B", "EvolvedTransformer-NAS"} <= names
    skipped = {name for name, _ in ve.skipped()}
    assert skipped == {"6B-transformer-partial"}
    assert "BLOOM-176B-lifecycle" in names  # rebuilt from dynamic + idle + embodied


def test_gpt3_patterson_numbers():
    """Patterson 2021 Table 4: 10,000 V100 × 14.8 days × 330 W × PUE 1.10 = 1,287 MWh."""
    case = next(c for c in CASES if c.case == "GPT-3-175B" and c.metric == "energy_mwh")
    assert case.predicted == pytest.approx(1289.4, rel=1e-3)
