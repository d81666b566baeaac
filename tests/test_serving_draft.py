"""Speculative decoding memory: the draft's weights and KV cache stay resident on the replica.

Models and accelerators are those of test_inference (Llama-3 70B / 8B shapes, H100/H200 datasheet
HBM), so the expected bytes below follow from the shapes alone.
"""

from __future__ import annotations

import math

import pytest

from test_inference import H100, H200, L8, L70  # the same Llama-3 shapes and datasheets
from wattlas.errors import InfeasibleError
from wattlas.perf.serving import roofline as inf
from wattlas.perf.serving.plan import plan_serving
from wattlas.perf.serving.roofline import ServingConfig
from wattlas.workload.transformer import ModelSpec, params_total

ISL, OSL = 1024, 256


def _kv_bf16(spec: ModelSpec) -> float:
    """K and V of every layer and KV head at 2 B [bytes per token]."""
    return 2.0 * spec.layers * spec.n_kv_heads * (spec.hidden // spec.heads) * 2.0


def test_resident_weights_are_target_plus_draft():
    """BF16 stores every parameter at 2 B, so the replica holds 2·(N_target + N_draft)."""
    plain = ServingConfig(L70, H100, tp=4)
    spec = ServingConfig(L70, H100, tp=4, draft=L8)
    want = 2.0 * (params_total(L70) + params_total(L8))
    assert inf.resident_weights_bytes(spec) == pytest.approx(want, rel=1e-12)
    assert inf.resident_weights_bytes(plain) == pytest.approx(2.0 * params_total(L70))
    assert inf.weights_bytes(spec) == inf.weights_bytes(plain)  # the target's own bytes
    p_plain = plan_serving(plain, ISL, OSL, batch=8)
    p_spec = plan_serving(spec, ISL, OSL, batch=8)
    assert p_spec.weights_bytes == pytest.approx(want, rel=1e-12)
    assert p_spec.weights_bytes - p_plain.weights_bytes == pytest.approx(2.0 * params_total(L8))
    ctx = ISL + OSL / 2
    assert p_spec.kv_cache_bytes == pytest.approx(8 * ctx * (_kv_bf16(L70) + _kv_bf16(L8)))
    assert p_plain.kv_cache_bytes == pytest.approx(8 * ctx * _kv_bf16(L70))
    assert any("draft l8" in n for n in p_spec.notes)


def test_draft_shrinks_max_batch_by_its_weights_and_kv():
    """max_batch = ⌊usable·(HBM − W/t − act)·t / (kv/token · (ISL + OSL))⌋ with W and kv/token
    summed over target and draft: 70B + 8B BF16 on 4 × H100 drops from 418 to 274."""
    plain = ServingConfig(L70, H100, tp=4)
    spec = ServingConfig(L70, H100, tp=4, draft=L8)
    usable = plain.eng.mem_usable_frac
    act = inf.activation_bytes(plain)
    full = ISL + OSL

    def expect(weights_b: float, kv_b: float) -> int:
        cap = usable * (H100.hbm_bytes - weights_b / 4 - act) * 4
        return math.floor(cap / (kv_b * full))

    w70, w8 = 2.0 * params_total(L70), 2.0 * params_total(L8)
    mb_plain, mb_spec = inf.max_batch(plain, full), inf.max_batch(spec, full)
    assert mb_plain == expect(w70, _kv_bf16(L70))
    assert mb_spec == expect(w70 + w8, _kv_bf16(L70) + _kv_bf16(L8))
    assert mb_spec < 0.7 * mb_plain
    assert plan_serving(spec, ISL, OSL).max_batch == mb_spec
    # a batch that fits the target alone but not target + draft is refused
    plan_serving(plain, ISL, OSL, batch=mb_spec + 1)
    with pytest.raises(InfeasibleError, match="KV cache"):
        plan_serving(spec, ISL, OSL, batch=mb_spec + 1)


def test_target_step_traffic_excludes_the_draft():
    """The verify step reads the target's weights and KV only; the draft's bytes are in its own
    k steps (decode_step_time_s adds them)."""
    plain = ServingConfig(L70, H100, tp=4)
    spec = ServingConfig(L70, H100, tp=4, draft=L8, spec_tokens=4)
    a = inf.decode_parts(plain, 16, 1000.0)
    b = inf.decode_parts(spec, 16, 1000.0)
    assert float(b["weights_bytes"]) == pytest.approx(float(a["weights_bytes"]))
    assert float(b["kv_read_bytes"]) == pytest.approx(float(a["kv_read_bytes"]))
    assert float(a["weights_bytes"]) == pytest.approx(2.0 * params_total(L70) / 4)


def test_draft_that_no_longer_fits_is_infeasible_like_a_too_large_target():
    """70B BF16 fits one 141 GiB H200 (≈141 GB of weights), not with an 8B draft (+16 GB), just
    as 70B BF16 does not fit one 80 GiB H100: both give max batch 0 and InfeasibleError."""
    alone = ServingConfig(L70, H200, tp=1)
    spec = ServingConfig(L70, H200, tp=1, draft=L8)
    too_big = ServingConfig(L70, H100, tp=1)
    assert inf.max_batch(alone, ISL + OSL) >= 1
    plan_serving(alone, ISL, OSL)
    assert inf.max_batch(spec, ISL + OSL) == 0 and inf.max_batch(too_big, ISL + OSL) == 0
    with pytest.raises(InfeasibleError, match=r"needs [\d.]+ GiB per GPU") as big:
        plan_serving(too_big, ISL, OSL)
    with pytest.raises(InfeasibleError, match=r"needs [\d.]+ GiB per GPU") as err:
        plan_serving(spec, ISL, OSL)
    assert "raise --tp (now 1)" in str(big.value) and "raise --tp (now 1)" in str(err.value)
    assert "with draft l8" in str(err.value)
    need = (2.0 * (params_total(L70) + params_total(L8)) + inf.activation_bytes(spec)
            + (_kv_bf16(L70) + _kv_bf16(L8)) * (ISL + OSL))
    assert f"needs {need / 2**30:.1f} GiB" in str(err.value)
