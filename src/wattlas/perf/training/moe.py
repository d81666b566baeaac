"""Mixture-of-experts training: expert all-to-all, token imbalance, grouped GEMMs, expert
placement (expert parallelism ``ep`` and expert tensor parallelism ``etp``), on numpy arrays.

**Placement.** The routed experts of a pipeline stage are split over ``ep·etp`` of the stage's
``tp·dp·cp`` ranks: ``ep`` ranks hold disjoint sets of E/ep experts, each expert's matrices split
over ``etp`` ranks (Megatron-Core ``--expert-tensor-parallel-size``; 0 = the dense tp). The
remaining ``tp·dp·cp/(ep·etp)`` copies are the experts' data-parallel replicas: expert
gradients are reduced and expert optimizer states sharded over them. Expert parameters per
device = routed parameters of its layers / (ep·etp).

**All-to-all.** Each MoE layer dispatches every token's hidden state to the ranks of its top-k
experts and combines the results back: one all-to-all each way per forward, the same pair for
the backward, and again for a recomputed forward. The ep ranks of a group sit ``stride`` ranks
apart (Megatron order: tp innermost); ``k_node = min(ep, domain / stride)`` of them share a
scale-up domain (NVLink node or NVL72 rack). Of a token's k expert copies a fraction
``(k_node − 1)/ep`` stays on the rank's own node (NVLink) and ``(ep − k_node)/ep`` crosses the
scale-out network through the GPU's own NIC, so a dispatch of ``T`` tokens takes::

    max(T·k·(k_node−1)/ep · h·bytes / B_up,  T·c_remote · h·bytes / B_nic) + (ep−1)·α

where ``c_remote`` is the number of copies per token that leave the node: ``k·(ep−k_node)/ep``
when every expert copy travels (Megatron's all-to-all dispatcher), or, when the stack
deduplicates per node (DeepEP: a token crosses the network once per destination node and is
forwarded over NVLink inside it; DeepSeek-V3 report §3.2.2), the expected number of distinct
other nodes among k experts spread uniformly over n = ep/k_node nodes:
``(n−1)·(1 − (1 − 1/n)^k)``. Dispatch runs at the training precision's activation bytes
(FP8 recipes dispatch in FP8: 1 byte), combine and the backward in 16 bits.

**Overlap.** From ``EP_OVERLAP_FROM_YEAR`` on, pipelined stacks hide the all-to-all of one
micro-batch behind the compute of another (DualPipe's paired forward/backward chunks, DeepSeek-V3
report §3.2.1; Megatron-Core's merged forward-backward 1F1B with EP all-to-all overlap), so only
what exceeds the micro-batch's compute stays exposed: ``max(0, A − compute)`` when pp > 1.
Without a pipeline (or on an older stack) the all-to-all sits on the critical path.

**Token imbalance.** Even a balanced router assigns a random number of tokens to each rank: with
``N = T·k/ep`` assignments expected per rank, the most loaded of ep ranks receives about
``N·(1 + sqrt(2·ln(ep)/N))`` (the normal approximation of the maximum of ep Poisson counts), and
the layer waits for it: the expert GEMMs and the all-to-all of a layer are stretched by that
factor (published benchmarks that force-balance the router get the same floor).

**Grouped GEMMs.** The experts of a rank run as one grouped GEMM whose per-expert shape is
``tokens_per_expert = T·k·ep/E`` (tokens of the ep group routed to one expert) by the expert's
width ``ffn_e/etp``: the GEMM efficiency curve of :mod:`.calibration` is evaluated at that shape
instead of the dense layer's, so fine-grained experts with few tokens each run less efficiently,
times ``GROUPED_GEMM_EFF``: the grouped kernels with their token permutation, router and
un-permutation reach that fraction of a dense GEMM of the same shape. Fitted on the calibration
rows of the NeMo / Megatron-Bridge 25.09–26.08 MoE table (``calibration=True``: even row index,
≤ 512 GPUs, chosen by :mod:`wattlas.validation.published` before any fit); the other MoE rows
are out of sample. Refit: :func:`wattlas.validation.fit.fit_grouped_gemm_eff`.

References
----------
* D. Lepikhin et al., "GShard", arXiv:2006.16668 (expert parallelism, all-to-all dispatch).
* DeepSeek-AI, "DeepSeek-V3 Technical Report", arXiv:2412.19437 (§3.2.2 node-limited routing and
  deduplicated cross-node dispatch, §3.3 FP8 dispatch; Table 4 EP64 on 2,048 H800).
* D. Narayanan et al., SC'21, arXiv:2104.04473 (rank order of the parallel groups).
* T. Gale et al., "MegaBlocks: Efficient Sparse Training with Mixture-of-Experts", MLSys 2023,
  arXiv:2211.15841 (grouped / block-sparse expert GEMMs; dropless routing).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...hardware import Fabric
from .. import network
from . import calibration

#: first software year whose expert dispatch deduplicates cross-node copies (DeepEP, released
#: with the DeepSeek-V3 training stack, Feb. 2025; DeepSeek-V3 report Dec. 2024)
DEDUP_FROM_YEAR = 2025
#: first software year that overlaps the expert all-to-all with another micro-batch's compute
#: (DualPipe: DeepSeek-V3 report, arXiv:2412.19437, Dec. 2024)
EP_OVERLAP_FROM_YEAR = 2024
#: grouped-GEMM efficiency relative to a dense GEMM of the per-expert shape (fitted, see above)
GROUPED_GEMM_EFF = 0.369


def dedup(software_year: int | None) -> bool:
    """Whether the stack's expert dispatch deduplicates cross-node copies (None = today)."""
    return software_year is None or software_year >= DEDUP_FROM_YEAR


def etp_of(etp: Any, tp: Any) -> np.ndarray:
    """Expert tensor-parallel size: `etp` where > 0, else the dense `tp` (arrays)."""
    tp = np.asarray(tp, dtype=float)
    if etp is None:
        return tp
    e = np.asarray(etp, dtype=float)
    return np.where(e > 0, e, tp)


def members_per_domain(ep: Any, stride: Any, domain: float) -> np.ndarray:
    """EP ranks of one group inside one scale-up domain: min(ep, domain // stride), ≥ 1."""
    ep = np.asarray(ep, dtype=float)
    per = np.floor(domain / np.maximum(np.asarray(stride, dtype=float), 1.0))
    return np.clip(per, 1.0, np.maximum(ep, 1.0))


def remote_copies(ep: Any, k_node: Any, top_k: float, deduplicated: bool) -> np.ndarray:
    """Copies of one token that leave its node per dispatch: k·(ep − k_node)/ep, or with
    per-node deduplication the expected number of distinct other nodes among k experts:
    (n − 1)·(1 − (1 − 1/n)^k), n = ep/k_node."""
    ep = np.asarray(ep, dtype=float)
    k_node = np.asarray(k_node, dtype=float)
    plain = top_k * (ep - k_node) / np.maximum(ep, 1.0)
    if not deduplicated:
        return plain
    n = np.maximum(ep / k_node, 1.0)
    distinct = (n - 1.0) * (1.0 - (1.0 - 1.0 / n) ** top_k)
    return np.minimum(distinct, plain)


def imbalance_factor(tokens: Any, top_k: float, ep: Any) -> np.ndarray:
    """Load of the busiest of ep ranks over the mean: 1 + sqrt(2·ln(ep)/N), N = T·k/ep
    assignments per rank (1 when ep = 1)."""
    ep = np.asarray(ep, dtype=float)
    n = np.maximum(np.asarray(tokens, dtype=float) * top_k / np.maximum(ep, 1.0), 1.0)
    return 1.0 + np.sqrt(2.0 * np.log(np.maximum(ep, 1.0)) / n)


def all_to_all_pair_s(fabric: Fabric, tokens: Any, hidden: float, top_k: float, ep: Any,
                      stride: Any, dispatch_bytes: float, combine_bytes: float,
                      deduplicated: bool) -> np.ndarray:
    """Dispatch + combine time [s] of one MoE layer for `tokens` tokens per rank (see module
    docstring); zero when ep = 1."""
    ep = np.asarray(ep, dtype=float)
    k_node = members_per_domain(ep, stride, fabric.scaleup_domain)
    t = np.asarray(tokens, dtype=float)
    per_tok = hidden * (dispatch_bytes + combine_bytes)
    intra = t * top_k * (k_node - 1.0) / np.maximum(ep, 1.0) * per_tok
    inter = t * remote_copies(ep, k_node, top_k, deduplicated) * per_tok
    crosses = ep > k_node
    alpha = np.where(crosses, fabric.scaleout_latency_s, fabric.scaleup_latency_s)
    # the share of the NIC traffic that leaves a pod of an oversubscribed fat-tree runs at
    # NIC / oversubscription (perf.network; factor 1 on a non-blocking network)
    nic_bw = fabric.scaleout_bytes_per_s * network.all_to_all_pod_factor(fabric, ep, stride)
    time = np.maximum(intra / fabric.scaleup_bytes_per_s,
                      inter / nic_bw) + 2.0 * (ep - 1.0) * alpha
    return np.where(ep > 1, time * imbalance_factor(t, top_k, ep), 0.0)


def expert_gemm_extra_s(tokens: Any, top_k: float, experts: float, expert_ffn: float,
                        hidden: float, ep: Any, etp: Any, routed_flop: Any, rate_dense: Any,
                        peak: float, consts: dict[str, float], factor: Any) -> np.ndarray:
    """Extra time [s] of the routed experts' GEMMs over what the dense-layer efficiency gives:
    ``routed_flop`` run at the grouped-GEMM efficiency of the per-expert shape (tokens per
    expert × expert width ``ffn_e/etp``) and stretched by the token imbalance, minus the same
    FLOPs at `rate_dense` [FLOP/s]. `factor` scales the curve as for the dense GEMMs (sustained
    fraction × precision factor). May be negative (larger per-expert shapes than the dense
    layer's)."""
    ep = np.asarray(ep, dtype=float)
    t = np.asarray(tokens, dtype=float)
    per_expert = t * top_k * ep / experts
    width = np.minimum(hidden, expert_ffn / np.asarray(etp, dtype=float))
    eff = calibration.gemm_efficiency(width, per_expert, consts) * factor * GROUPED_GEMM_EFF
    t_grouped = routed_flop * imbalance_factor(t, top_k, ep) / (peak * eff)
    return t_grouped - routed_flop / rate_dense


def exposed_all_to_all_s(ep_s: Any, compute_s: Any, pp: Any, software_year: int | None
                         ) -> np.ndarray:
    """All-to-all time of a micro-batch left on the critical path [s]: all of it without a
    pipeline or before EP_OVERLAP_FROM_YEAR, else what exceeds the micro-batch's compute."""
    ep_s = np.asarray(ep_s, dtype=float)
    if software_year is not None and software_year < EP_OVERLAP_FROM_YEAR:
        return ep_s
    return np.where(np.asarray(pp) > 1, np.maximum(ep_s - compute_s, 0.0), ep_s)
