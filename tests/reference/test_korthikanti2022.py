"""Korthikanti et al., "Reducing Activation Recomputation in Large Transformer Models"
(arXiv:2205.05198): Fig. 1 memory per GPU and Table 5 iteration times.

Fig. 1 activations follow Table 2's formulas exactly (sbh(10 + 24/t + 5as/ht) without sequence
parallelism, 34sbh/t selective + SP, × (1 + (p−1)/(pv)) interleaving with v from Table 5), so
they are checked to 0.1 % (the figure's values are given to 1/64 GiB). Weights + gradients +
optimizer: the figure counts the 12·l·h² block parameters of one pipeline stage (no embedding) at
18 bytes each (fp16 weights, fp32 main grads, 12 bytes Adam); the validation compares that
convention (a middle stage), so those are also checked to 0.1 % (measured max 0.02 %).
Table 5 iteration times: measured mean absolute error 4.15 % (max 9.8 %, GPT-22B selective on 8
GPUs), bound at 4.7 % / 10.5 % (inside the issue's 8 % target). The table's MFU/HFU (72BSLH2
convention) follow from the same times and are reported by `wattlas validate`.
"""

import statistics

import pytest

from wattlas.validation import training as vt


@pytest.fixture(scope="module")
def fig1():
    return [c for c in vt.memory_cases() if c.source == "Korthikanti2022 Fig1"]


def test_fig1_activations_exact(fig1):
    acts = [c for c in fig1 if c.metric == "activations"]
    assert len(acts) == 8
    for c in acts:
        assert c.predicted == pytest.approx(c.published, rel=1e-3), c.case


def test_fig1_states_and_mean(fig1):
    states = [c for c in fig1 if c.metric == "weights+grads+optimizer"]
    assert len(states) == 4
    assert all(abs(c.error_frac) <= 1e-3 for c in states)
    assert statistics.fmean(abs(c.error_frac) for c in fig1) <= 0.05


def test_table5_iteration_times():
    t5 = [c for c in vt.run_cases() if c.source == "Korthikanti2022 T5"
          and c.metric == "iteration_time"]
    assert len(t5) == 8
    e = [abs(c.error_frac) for c in t5]
    assert statistics.fmean(e) <= 0.047
    assert max(e) <= 0.105
    # selective recompute is faster than full for every model, as in the paper
    by_model = {}
    for c in t5:
        by_model.setdefault(c.case.split(" gpus")[0], {})["sel" if "selective" in c.case
                                                          else "full"] = c.predicted
    assert all(v["sel"] < v["full"] for v in by_model.values())
