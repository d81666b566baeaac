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


# the cluster network (wattlas.perf.network) ---------------------------------------------------

from wattlas.errors import InputError  # noqa: E402
from wattlas.perf import network  # noqa: E402

NET = network.network(FAB)


def test_default_network_is_the_plain_fabric():
    """A Network with no pods, no oversubscription and no in-network reduction gives the tiers
    every calibrated constant was fitted with."""
    for size, stride in ((8, 1), (64, 8), (64, 1), (16384, 8), (3, 4)):
        assert comm.tier(NET, size, stride) == comm.tier(FAB, size, stride)


def test_ring_for_large_buffers_tree_for_many_ranks():
    pick = network.all_reduce_algorithm
    # 1 GB over 16 nodes: bandwidth dominates, the ring's (n−1)/n beats the tree's 2·S/B
    assert network.ALGORITHMS[int(pick(NET, 1e9, 16, 8))] == "ring"
    # 1 MB over 2,048 data-parallel ranks: 2·2047·α of the ring against 2·11·α of the tree
    assert network.ALGORITHMS[int(pick(NET, 1e6, 2048, 8))] == "tree"
    # inside one NVLink domain NCCL has no tree: ring unless the switch reduces (NVLS)
    assert network.ALGORITHMS[int(pick(NET, 1e6, 8, 1))] == "ring"
    nvls = network.network(FAB, nvls=True)
    assert network.ALGORITHMS[int(pick(nvls, 1e8, 8, 1))] == "nvls"
    sharp = network.network(FAB, sharp=True)
    assert network.ALGORITHMS[int(pick(sharp, 1e8, 256, 8))] == "sharp"


def test_picked_algorithm_is_the_fastest_and_latency_grows_with_ranks():
    sizes = np.array([2, 8, 64, 512, 4096, 32768])
    t = network.all_reduce_s(NET, 1e6, sizes, 8)
    assert np.all(np.diff(t) > 0)
    bw, al = comm.tier(NET, sizes, 8)
    ring = network.ring_all_reduce_s(1e6, sizes, bw, al)
    tree = network.tree_all_reduce_s(1e6, sizes, bw, al)
    assert np.allclose(t, np.minimum(ring, tree))


@given(st.floats(1e3, 1e10), st.integers(2, 65536), st.sampled_from([1, 2, 4, 8]),
       st.booleans(), st.booleans())
def test_all_reduce_never_beats_the_links(size, n, stride, nvls, sharp):
    """Every byte leaves and enters each rank at least once: time ≥ S / B of the tier (the
    in-network algorithms reach that bound; ring and tree need about twice)."""
    net = network.network(FAB, nvls=nvls, sharp=sharp)
    bw, _ = comm.tier(net, n, stride)
    assert network.all_reduce_s(net, size, n, stride) >= size / bw * (1 - 1e-12)
    # in-network reduction is an option NCCL takes only when faster
    assert network.all_reduce_s(net, size, n, stride) <= \
        network.all_reduce_s(NET, size, n, stride) * (1 + 1e-12)


def test_oversubscription_above_the_pod():
    """Llama 3's cluster: 3,072-GPU pods at full bisection, 1:7 above (arXiv:2407.21783
    §3.3.1). A data-parallel ring keeps many members per pod, so it barely notices; an
    all-to-all spread over pods sends most of its bytes through the oversubscribed layer."""
    meta = network.network(FAB, pod_gpus=3072, oversubscription=7.0)
    # dp 2,048 ranks 8 apart (tp 8): 384 members per pod, far above 7 → no slowdown
    assert comm.tier(meta, 2048, 8) == comm.tier(FAB, 2048, 8)
    # a group spread one member per pod (stride 3,072) is cut to 1/7
    bw, _ = comm.tier(meta, 4, 3072)
    assert bw == pytest.approx(comm.tier(FAB, 4, 3072)[0] / 7.0)
    # inside a pod nothing changes
    assert comm.tier(meta, 256, 8) == comm.tier(FAB, 256, 8)
    # all-to-all over 8 pods (ep 8 × 3,072 apart): 7/8 of the bytes leave → factor 1/(1/8+7/8·7)
    f = network.all_to_all_pod_factor(meta, 8, 3072)
    assert f == pytest.approx(1.0 / (1.0 / 8 + 7.0 / 8 * 7.0))


@given(st.integers(1, 100000), st.sampled_from([1, 2, 8, 64, 3072]), st.floats(1.0, 16.0))
def test_oversubscription_never_speeds_up(n, stride, over):
    net = network.network(FAB, pod_gpus=1024, oversubscription=over)
    assert comm.tier(net, n, stride)[0] <= comm.tier(FAB, n, stride)[0]
    assert network.all_to_all_pod_factor(net, n, stride) <= 1.0


def test_network_fields_are_checked():
    with pytest.raises(InputError, match="oversubscription"):
        network.network(FAB, oversubscription=0.5)
    with pytest.raises(InputError, match="pod_gpus"):
        network.network(FAB, pod_gpus=-1)
    with pytest.raises(InputError, match="unknown field"):
        network.network(FAB, spine_gbps=1)


def test_training_on_an_oversubscribed_network_is_never_faster():
    """The same MoE layout (ep 64 over 8 nodes) on a fabric whose pods hold 16 GPUs at 1:7:
    its expert all-to-all leaves the pod, so the step is slower; a dense layout whose groups
    stay in the pod is unchanged."""
    from wattlas.hardware import accelerator, fabric_for
    from wattlas.perf.training.step import Layout, TrainingJob, plan_training
    from wattlas.scenario import resolve_model

    acc = accelerator("h100-sxm")
    fab = fabric_for(acc)
    tight = network.network(fab, pod_gpus=16, oversubscription=7.0)
    job = TrainingJob(resolve_model("deepseek-v3"), tokens=1e9, seq_len=4096,
                      global_batch=256, precision="fp8")
    lay = Layout(tp=1, pp=1, dp=64, ep=64, microbatch=1, recompute="full", zero=1)
    a = plan_training(job, acc, lay, fab, 64, allow_oom=True)
    b = plan_training(job, acc, lay, tight, 64, allow_oom=True)
    assert b.breakdown_s["ep_comm"] > 1.5 * a.breakdown_s["ep_comm"] > 0
    assert b.step_time_s > a.step_time_s
    dense = TrainingJob(resolve_model("llama3-8b"), tokens=1e9, seq_len=8192, global_batch=16)
    lay = Layout(tp=8, pp=1, dp=2, microbatch=1)
    assert plan_training(dense, acc, lay, tight, 16, allow_oom=True).step_time_s == \
        pytest.approx(plan_training(dense, acc, lay, fab, 16, allow_oom=True).step_time_s)


def test_a_scenario_states_its_network():
    """hardware.network in a scenario (or --set) plans on that network: Meta's Llama 3 cluster
    (3,072-GPU pods, 1:7 above) slows the frontier 405B plan only where its groups leave a pod:
    the pipeline boundaries (1,024 GPUs per stage, three stages per pod), not the data-parallel
    ring (inside a pod); the plan says which network it assumed."""
    from pathlib import Path

    from wattlas import scenario
    from wattlas.perf.training.step import plan_from_scenario

    frontier = Path(__file__).resolve().parents[1] / "examples" / "frontier-training.yaml"
    base = scenario.load(frontier)
    meta = scenario.load(frontier, overrides=[
        "hardware.network={pod_gpus: 3072, oversubscription: 7}"])
    a, b = plan_from_scenario(base), plan_from_scenario(meta)
    assert b.breakdown_s["pp_comm"] > 2.0 * a.breakdown_s["pp_comm"]
    assert b.breakdown_s["dp_comm"] == pytest.approx(a.breakdown_s["dp_comm"])
    assert b.breakdown_s["tp_comm"] == pytest.approx(a.breakdown_s["tp_comm"])
    assert any(n.startswith("network: full-bisection pods of 3,072 GPUs, 1:7") for n in b.notes)
    assert not any(n.startswith("network:") for n in a.notes)
