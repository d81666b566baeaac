"""Collective costs on the tiered α–β model (wattlas.perf.comm)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wattlas.hardware import Fabric
from wattlas.perf import comm

FAB = Fabric(scaleup_domain=8, scaleup_bytes_per_s=450e9, scaleout_bytes_per_s=50e9)


def test_all_reduce_closed_form():
    # 2(n−1)/n · S/B + 2·min(n−1, ⌈log2 n⌉)·α with n = 8, S = 1 GB, B = 100 GB/s, α = 5 µs
    t = comm.all_reduce_s(1e9, 8, 100e9, 5e-6)
    assert t == pytest.approx(2 * 7 / 8 * 1e9 / 100e9 + 2 * 3 * 5e-6, rel=1e-12)
    # n = 2: ring and tree both take one hop
    assert comm.all_reduce_s(0.0, 2, 1e9, 1e-3) == pytest.approx(2e-3)


def test_reduce_scatter_plus_all_gather_equals_all_reduce():
    s, n, b = 3e8, 16, 50e9
    rs_ag = comm.reduce_scatter_s(s, n, b) + comm.all_gather_s(s, n, b)
    assert rs_ag == pytest.approx(comm.all_reduce_s(s, n, b))


def test_single_rank_costs_nothing():
    assert comm.all_reduce_s(1e9, 1, 1e9, 1.0) == 0.0
    assert comm.all_to_all_s(1e9, 1, 1e9, 1.0) == 0.0


def test_tier_inside_and_across_domain():
    bw, al = comm.tier(FAB, 8, 1)
    assert bw == 450e9 and al == FAB.scaleup_latency_s
    # dp group of 64 with stride 8 (tp = 8): one member per node -> one NIC
    bw, al = comm.tier(FAB, 64, 8)
    assert bw == 50e9 and al == FAB.scaleout_latency_s
    # dp group of 64 with stride 1: 8 members per node share 8 NICs in parallel
    bw, _ = comm.tier(FAB, 64, 1)
    assert bw == 400e9


@given(st.floats(1e3, 1e11), st.integers(2, 4096), st.floats(1e9, 1e12), st.floats(1.01, 10))
def test_more_bandwidth_never_slower(size, n, bw, factor):
    assert comm.all_reduce_s(size, n, bw * factor) <= comm.all_reduce_s(size, n, bw)
    assert comm.p2p_s(size, bw * factor) <= comm.p2p_s(size, bw)


def test_arrays_broadcast():
    t = comm.all_reduce_s(np.array([1e9, 2e9]), np.array([2, 4]), 1e11)
    assert t.shape == (2,) and t[1] > t[0]
