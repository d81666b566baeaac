"""ML.ENERGY leaderboard findings (data/reference/mlenergy_findings.csv, inference_energy.csv):
Llama-3.1-8B on one H100, vLLM 0.5.4 → 0.11.1 at batch 64: 0.20 → 0.12 J/token (GPU boundary);
FP8 vs BF16 costs energy at batch 8-16 and saves it at 65-256; larger batch lowers J/token 3-5x.

The two J/token anchors calibrate the vllm-0.5 / vllm-0.11 engine profiles and the activity
mapping (BUSY_FLOOR_FRAC, MEM_ACTIVITY_WEIGHT; ISL = OSL = 512 assumed), so they must stay
within 5 % (measured 0.2 %); the EcoLogits-derived rows (8B 1×H100 0.162 J/token, 70B 4×H100
1.16 J/token) are out of sample: measured −26 % and −28 %, within the 30 % target.
"""

import pytest

from wattlas.hardware import accelerator
from wattlas.perf.serving.plan import plan_serving
from wattlas.perf.serving.roofline import ServingConfig
from wattlas.scenario import resolve_model
from wattlas.validation import inference as vi


def _jt(model, tp, prec, batch, engine="vllm-0.11"):
    cfg = ServingConfig(resolve_model(model), accelerator("h100-sxm"), tp=tp, precision=prec,
                        engine=engine)
    return plan_serving(cfg, 512, 512, batch=batch).energy_per_token_j


def test_energy_anchors():
    cases = vi.energy_cases()
    for c in cases:
        limit = 0.05 if c.calibration else 0.30
        assert abs(c.error_frac) < limit, c


def test_engine_generation_lowers_energy():
    new, old = _jt("llama3.1-8b", 1, "bf16", 64), _jt("llama3.1-8b", 1, "bf16", 64, "vllm-0.5")
    assert new / old == pytest.approx(0.12 / 0.20, rel=0.05)


@pytest.mark.parametrize("model,tp", [("llama3.1-8b", 1), ("llama3.1-70b", 4)])
def test_fp8_energy_sign_flips_with_batch(model, tp):
    """FP8 vs BF16 energy: +30 % median at batch 8-16 (FP8 worse), −11 % at 65-256.

    The model reproduces the direction of the flip but not the size at small batch: FP8 saves
    nothing there (8B +3.3/+1.1 %, 70B TP4 +0.6/−0.06 % at batch 8/16, ISL = OSL = 512) and
    saves 8-36 % at 128-256. Tolerance at small batch: FP8 no more than 1 % cheaper."""
    for b in (8, 16):
        assert _jt(model, tp, "fp8", b) > 0.99 * _jt(model, tp, "bf16", b)
    for b in (128, 256):
        assert _jt(model, tp, "fp8", b) < 0.95 * _jt(model, tp, "bf16", b)


@pytest.mark.parametrize("model,tp", [("llama3.1-8b", 1), ("llama3.1-70b", 4)])
def test_larger_batch_lowers_energy_3_to_5x(model, tp):
    ratio = _jt(model, tp, "bf16", 32) / _jt(model, tp, "bf16", 256)
    assert 3.0 <= ratio <= 5.0


def test_power_fit_reproduces_shipped_constants():
    """validation.inference.fit_power (ML.ENERGY anchors only) returns the constants shipped
    in perf.serving.roofline, so the calibration is reproducible."""
    from wattlas.perf.serving import roofline as inf

    best = vi.fit_power()
    assert best["busy_floor_frac"] == pytest.approx(inf.BUSY_FLOOR_FRAC)
    assert best["mem_activity_weight"] == pytest.approx(inf.MEM_ACTIVITY_WEIGHT)
    assert best["mean_abs_error_frac"] < 0.01
