"""FP4 weight formats: NVFP4 (``fp4`` = ``nvfp4``: E2M1 with one E4M3 scale per 16 values) and
MXFP4 (OCP microscaling: one E8M0 scale per 32 values), FP4 math on accelerators with FP4
tensor cores, MXFP4 weight-only (16-bit math) elsewhere."""

import pytest

from wattlas.errors import InputError
from wattlas.hardware import Accelerator
from wattlas.perf.serving import roofline as inf
from wattlas.perf.serving.plan import plan_serving
from wattlas.perf.serving.roofline import ServingConfig
from wattlas.workload.transformer import ModelSpec

L70 = ModelSpec(id="l70", layers=80, hidden=8192, heads=64, kv_heads=8, ffn=28672,
                vocab=128256)
H100 = Accelerator(id="h100", bf16_flop_per_s=989.4e12, fp8_flop_per_s=1979e12,
                   hbm_bytes=80 * 2**30, hbm_bytes_per_s=3.35e12, tdp_w=700,
                   scaleup_bytes_per_s=450e9, scaleup_domain=8, scaleout_bytes_per_s=50e9)
B200 = Accelerator(id="b200", bf16_flop_per_s=2250e12, fp8_flop_per_s=4500e12,
                   fp4_flop_per_s=9000e12, hbm_bytes=180 * 2**30, hbm_bytes_per_s=7.7e12,
                   tdp_w=1000, scaleup_bytes_per_s=900e9, scaleup_domain=8,
                   scaleout_bytes_per_s=50e9)


def test_scale_overheads():
    lin, _ = inf._linear_params(L70)
    nv = inf.weights_bytes(ServingConfig(L70, B200, precision="nvfp4"))
    mx = inf.weights_bytes(ServingConfig(L70, B200, precision="mxfp4"))
    assert nv - mx == pytest.approx(lin * 0.5 * (0.125 - 0.0625))
    assert inf.weights_bytes(ServingConfig(L70, B200, precision="fp4")) == nv


def test_fp4_is_nvfp4():
    a = plan_serving(ServingConfig(L70, B200, precision="fp4"), 1024, 1024)
    b = plan_serving(ServingConfig(L70, B200, precision="nvfp4"), 1024, 1024)
    assert a.output_tokens_per_s == b.output_tokens_per_s


def test_mxfp4_is_weight_only_without_fp4_tensor_cores():
    cfg = ServingConfig(L70, H100, tp=2, precision="mxfp4")
    assert inf.math_precision("mxfp4", H100) == "bf16"
    assert inf.math_precision("mxfp4", B200) == "fp4"
    assert cfg.kv == "fp8"
    plan = plan_serving(cfg, 1024, 1024)
    # 16-bit math: never faster than the bf16 peak allows
    assert plan.breakdown["flop"] / plan.breakdown["compute_s"] <= 989.4e12 * (1 + 1e-9)
    with pytest.raises(InputError, match="--precision nvfp4: precision fp4 needs fp4 tensor "
                                         "cores; h100 has none"):
        ServingConfig(L70, H100, tp=2, precision="nvfp4")
