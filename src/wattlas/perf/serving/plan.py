"""Serving plans on replicas: operating modes, TTFT under load (queueing), energy boundaries.

Above the step model (:mod:`wattlas.perf.serving.roofline`); a scenario's serving section is planned
by :mod:`wattlas.perf.serving.scenario`.

TTFT under continuous batching (Kwon et al. 2023; chunked prefill as in Sarathi-Serve,
Agrawal et al. 2024)::

    TTFT = W_q + n_chunks · t_step(b decode tokens + one chunk of the prompt) + t_step(b)
    n_chunks = ⌈P / (CHUNK_TOKENS − b·q)⌉

i.e. the wait in the replica's queue, the request's own prefill processed in chunks alongside
the running batch of ``b`` decodes (``q`` tokens each), and the first decode step. Under a
rate the mixed steps admit Poisson numbers of whole prompts and their time is the expectation
over that number (``mixed_parts(..., poisson_arrivals=True)``); a fixed batch spreads the
admitted prefill evenly over the steps. The wait
comes from a G/G/1 queue per replica whose service time is the replica's request service time
``S = 1 / μ`` (``μ`` = requests/s the replica completes at its largest batch), with the
Allen–Cunneen approximation (exact for M/M/c; Kingman's formula for c = 1)::

    W_q ≈ C(c, a) / (c·μ − λ) · (c_a² + c_s²) / 2,     a = λ/μ,  ρ = a/c < 1

Arrivals are Poisson (c_a² = 1); at fixed prompt/output lengths every request needs the same
work, so c_s² = SERVICE_CV2 = 0 (M/D/1, half the M/M/1 wait). Max-throughput operation is a
saturated closed loop: its TTFT is the steady-state TTFT of continuous batching at the largest
batch (own prefill alongside that batch + first step), not the prefill of the whole batch.

Energy boundaries (one power model, :mod:`wattlas.energy`): GPU = Σ device power × time;
node = GPU + host (``energy.host_power_w`` × ``energy.HOST_LOAD_FRAC``); facility = (node +
network switches) × PUE, all from :func:`wattlas.energy.serving_energy`.

References
----------
* W. Kwon et al., "Efficient Memory Management for LLM Serving with PagedAttention", SOSP 2023.
* A. Agrawal et al., "Taming Throughput-Latency Tradeoff in LLM Inference with Sarathi-Serve",
  OSDI 2024 (chunked prefill interleaved with decode).
* A. O. Allen, "Probability, Statistics, and Queueing Theory", 2nd ed., 1990, §6 (Allen–Cunneen
  G/G/c approximation); J. F. C. Kingman, "The single server queue in heavy traffic", Proc.
  Cambridge Phil. Soc. 57, 1961; Erlang C for M/M/c (Kleinrock, "Queueing Systems" vol. 1, 1975).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ...errors import InfeasibleError, InputError
from .roofline import (
    CHUNK_TOKENS,
    ServingConfig,
    _step,
    activation_bytes,
    device_power_w,
    kv_capacity_bytes,
    max_batch,
    mixed_parts,
    mixed_step_time_s,
    node_system,
    parts_power_w,
    resident_kv_bytes_per_token,
    resident_weights_bytes,
    tokens_per_step,
    weights_read_bytes,
)

#: Squared coefficient of variation of a request's service time at fixed prompt and output
#: lengths: every request needs the same work, so 0 (M/D/1). Poisson arrivals: c_a² = 1.
SERVICE_CV2 = 0.0
ARRIVAL_CV2 = 1.0
#: Smallest prefill chunk a step gives a new prompt when the batch's decode tokens fill the
#: token budget [tokens].
MIN_CHUNK_TOKENS = 512


@dataclass(frozen=True)
class ServingPlan:
    """A serving operating point (SI units; per replica unless named otherwise).

    ``weights_bytes`` and ``kv_cache_bytes`` (at the batch and mean context) are what the
    replica holds: with speculative decoding they include the draft's weights and KV cache.
    """

    model: str
    accelerator: str
    engine: str
    precision: str
    kv_precision: str
    tp: int
    prompt_tokens: int
    output_tokens: int
    ttft_s: float
    tpot_s: float
    e2e_s: float
    batch: int
    max_batch: int
    output_tokens_per_s: float
    output_tokens_per_s_per_gpu: float
    kv_cache_bytes: float
    weights_bytes: float
    energy_per_token_j: float
    energy_per_request_j: float
    gpus: int
    replicas: int
    bound: str
    power_w: float
    mode: str
    rate_per_s: float | None = None
    decode_floor_s: float = 0.0
    max_batch_slo: int | None = None
    energy_per_token_node_j: float | None = None
    energy_per_token_facility_j: float | None = None
    breakdown: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    queue_wait_s: float = 0.0
    ttft_p99_s: float | None = None
    prefill_s: float = 0.0
    utilization_frac: float | None = None
    capacity_requests_per_s: float = 0.0
    mean_power_w: float = 0.0
    energy: Any = field(default=None, compare=False)
    #: distillation/pruning: the teacher served the same way and the ratios (compare_teacher)
    compression: dict[str, Any] | None = None
    #: mean requests in service on a replica (time-averaged; ``batch`` is its ceiling) and
    #: the mean continuous-batching step [s]: Little's law concurrency = requests/s × E2E₀
    concurrency: float = 0.0
    step_s: float = 0.0


def decode_floor_s(cfg: ServingConfig) -> float:
    """Physical decode floor [s]: active weight bytes / (t × HBM bandwidth), at batch 1."""
    w = float(weights_read_bytes(cfg, 1.0))
    return w / (cfg.tp * cfg.accelerator.require("hbm_bytes_per_s"))


def _check_fits(cfg: ServingConfig, context: float) -> int:
    mb = max_batch(cfg, context)
    if mb >= 1:
        return mb
    hbm = cfg.accelerator.require("hbm_bytes")
    need = (resident_weights_bytes(cfg) / cfg.tp + activation_bytes(cfg)
            + resident_kv_bytes_per_token(cfg) * context / cfg.tp)
    fix = (f"raise --tp (now {cfg.tp})" if cfg.tp < (cfg.accelerator.scaleup_domain or 1)
           else "use a lower precision (fp8/int4) or an accelerator with more HBM")
    served = cfg.model.id + (f" with draft {cfg.draft.id}" if cfg.draft is not None else "")
    raise InfeasibleError(
        f"{served} at {cfg.precision} needs {need / 2**30:.1f} GiB per GPU for the "
        f"weights and one sequence of {context:.0f} tokens but {cfg.accelerator.id} offers "
        f"{hbm / 2**30:.1f} GiB; {fix}")


# queueing ---------------------------------------------------------------------------------------

def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival waits in an M/M/c queue, C(c, a) with a = λ/μ [1]
    (Erlang C, Kleinrock 1975 eq. 3.42); 1 when a ≥ c."""
    c, a = int(servers), float(offered_load)
    if c < 1:
        raise InputError(f"servers = {servers}: must be ≥ 1")
    if a >= c:
        return 1.0
    term, total = 1.0, 1.0  # Σ_{k<c} a^k/k!, built iteratively
    for k in range(1, c):
        term *= a / k
        total += term
    top = term * a / c / (1.0 - a / c)  # a^c / c! · 1/(1 − ρ)
    return top / (total + top)


def queue_wait_s(rate_per_s: float, service_s: float, servers: int = 1,
                 arrival_cv2: float = ARRIVAL_CV2, service_cv2: float = 1.0) -> float:
    """Mean wait in queue [s] of a G/G/c queue (Allen–Cunneen)::

        W_q ≈ C(c, a) / (c·μ − λ) · (c_a² + c_s²) / 2,   μ = 1/service_s, a = λ/μ

    Exact for M/M/c (c_a² = c_s² = 1; M/M/1: ρ/(μ − λ)); Pollaczek–Khinchine for M/G/1.
    Returns inf when ρ = λ/(c·μ) ≥ 1 (the queue grows without bound)."""
    if rate_per_s < 0 or service_s <= 0:
        raise InputError(f"queue: rate {rate_per_s} /s and service time {service_s} s must be "
                         "≥ 0 and > 0")
    if rate_per_s == 0:
        return 0.0
    mu = 1.0 / service_s
    if rate_per_s >= servers * mu:
        return math.inf
    c = erlang_c(servers, rate_per_s / mu)
    return c / (servers * mu - rate_per_s) * (arrival_cv2 + service_cv2) / 2.0


def wait_quantile_s(mean_wait_s: float, utilization_frac: float, q: float = 0.99) -> float:
    """Quantile `q` of the wait in queue [s] under Kingman's heavy-traffic exponential tail,
    P(W > t) ≈ ρ·exp(−ρ·t / W_q) (exact for M/M/1, where W_q = ρ/(μ − λ)); 0 when the
    probability of waiting ρ is below 1 − q."""
    rho = float(utilization_frac)
    if not 0.0 < q < 1.0:
        raise InputError(f"quantile {q}: must be in (0, 1)")
    if mean_wait_s == math.inf:
        return math.inf
    if rho <= 1.0 - q or mean_wait_s <= 0.0:
        return 0.0
    return mean_wait_s / rho * math.log(rho / (1.0 - q))


# TTFT -------------------------------------------------------------------------------------------

def own_prefill_s(cfg: ServingConfig, batch, prompt_tokens: float, output_tokens: float):
    """Time to prefill one prompt in chunks alongside `batch` running decodes [s]
    (numpy-broadcastable over batch): ⌈P / (CHUNK_TOKENS − b·q)⌉ steps, each carrying the
    batch's decode tokens and one chunk (Sarathi-Serve chunked prefill)."""
    b = np.asarray(batch, dtype=float)
    p = float(prompt_tokens)
    q = cfg.spec_tokens + 1 if cfg.draft is not None else 1
    ctx = p + float(output_tokens) / 2.0
    budget = np.maximum(CHUNK_TOKENS - b * q, MIN_CHUNK_TOKENS)
    n = np.maximum(np.ceil(p / budget), 1.0)
    chunk = p / n
    tokens = b * q + chunk
    mean_ctx = (b * q * ctx + chunk * p / 2.0) / tokens
    return n * _step(cfg, tokens, mean_ctx, b * ctx, tokens)["time_s"]


def ttft_under_load_s(cfg: ServingConfig, batch, prompt_tokens: float, output_tokens: float,
                      wait_s: float = 0.0, poisson_arrivals: bool = False):
    """TTFT [s] = queue wait + own chunked prefill alongside `batch` decodes + first decode
    step (a mixed continuous-batching step at `batch`; ``poisson_arrivals``: see
    :func:`wattlas.perf.serving.roofline.mixed_parts`)."""
    pre = own_prefill_s(cfg, batch, prompt_tokens, output_tokens)
    return wait_s + pre + mixed_step_time_s(cfg, batch, prompt_tokens, output_tokens,
                                            poisson_arrivals)


def meets_slo(slo: dict[str, float], ttft_s: Any, tpot_s: Any, e2e_s: Any) -> np.ndarray:
    """Where each of the SLO's limits that is given (``ttft_s``, ``tpot_s``, ``e2e_s``) holds."""
    ok = np.ones(np.shape(ttft_s), dtype=bool)
    for key, value in (("ttft_s", ttft_s), ("tpot_s", tpot_s), ("e2e_s", e2e_s)):
        if key in slo:
            ok &= np.asarray(value) <= slo[key]
    return ok


def steady_state(cfg: ServingConfig, batch, prompt_tokens: float, output_tokens: float,
                 poisson_arrivals: bool = False) -> dict[str, np.ndarray]:
    """The one capacity model: a replica in continuous batching at occupancy `batch` (requests
    holding KV cache; numpy-broadcastable, fractional = time-averaged), prefill chunked into
    the same steps as decode (:func:`wattlas.perf.serving.roofline.mixed_step_time_s`)::

        TPOT  = t_mixed(b) / tokens per step
        TTFT₀ = own chunked prefill alongside b + first step     (no queueing)
        E2E₀  = TTFT₀ + (OSL − 1) · TPOT
        μ(b)  = b / E2E₀                                          (Little's law) [requests/s]

    Returns arrays ``step_s``, ``tpot_s``, ``ttft_s``, ``e2e_s`` [s], ``requests_per_s`` and
    ``output_tokens_per_s`` = μ·OSL. Every command (serve, its search, the energy stage,
    route's service tables) takes its latencies and capacity from here."""
    b = np.asarray(batch, dtype=float)
    n_out = float(output_tokens)
    step = np.asarray(mixed_step_time_s(cfg, b, prompt_tokens, output_tokens,
                                        poisson_arrivals), dtype=float)
    tpot = step / tokens_per_step(cfg)
    # = ttft_under_load_s without a wait: own chunked prefill + the first (mixed) step
    ttft = np.asarray(own_prefill_s(cfg, b, prompt_tokens, output_tokens), dtype=float) + step
    e2e = ttft + (n_out - 1.0) * tpot
    rps = b / e2e
    return {"step_s": step, "tpot_s": tpot, "ttft_s": ttft, "e2e_s": e2e,
            "requests_per_s": rps, "output_tokens_per_s": rps * n_out}


def replica_capacity_per_s(cfg: ServingConfig, batch: int, prompt_tokens: float,
                           output_tokens: float, poisson_arrivals: bool = False) -> float:
    """Requests/s a replica completes in continuous batching at occupancy `batch`
    (:func:`steady_state`: Little's law b / E2E₀, without queueing). A replica's capacity is
    this at its largest batch with admissions spread evenly (a saturated queue feeds the
    batch continuously): :func:`capacity_per_s`."""
    return float(steady_state(cfg, batch, prompt_tokens, output_tokens,
                              poisson_arrivals)["requests_per_s"])


def capacity_per_s(cfg: ServingConfig, prompt_tokens: float, output_tokens: float) -> float:
    """The replica's capacity [requests/s]: :func:`replica_capacity_per_s` at the largest
    batch whose KV cache fits at ISL + OSL, evenly spread admissions. ``serve`` reports it
    as ``capacity_requests_per_s`` and ``route`` serves at most this per replica."""
    mb = _check_fits(cfg, float(prompt_tokens) + float(output_tokens))
    return replica_capacity_per_s(cfg, mb, prompt_tokens, output_tokens)


def _solve_occupancy(cfg: ServingConfig, share_per_s: float, b_hi: float, prompt_tokens: float,
                     output_tokens: float, poisson_arrivals: bool,
                     grid_per_s: np.ndarray | None = None) -> float:
    """Mean occupancy b in (0, b_hi] at which μ(b) = `share_per_s` (bisection; μ grows with
    b; below b = 1 the replica idles, μ = b / E2E₀(1)); b_hi when even b_hi does not carry
    the share. `grid_per_s`, μ at b = 1, 2, …, brackets the root first."""
    def mu(b: float) -> float:
        return replica_capacity_per_s(cfg, max(b, 1.0), prompt_tokens, output_tokens,
                                      poisson_arrivals) * min(b, 1.0)

    lo, hi = 0.0, float(b_hi)
    if grid_per_s is not None:
        above = np.flatnonzero(grid_per_s[:int(b_hi)] >= share_per_s)
        if not len(above):
            return float(b_hi)
        hi = float(above[0] + 1)
        # the vectorised grid is a bracket only: confirm it with scalar evaluations
        while hi < b_hi and mu(hi) < share_per_s:
            hi += 1.0
        while hi > 1.0 and mu(hi - 1.0) >= share_per_s:
            hi -= 1.0
        if mu(hi) < share_per_s:
            return float(b_hi)
        lo = hi - 1.0
    elif mu(hi) <= share_per_s:
        return hi
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if mu(mid) < share_per_s:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-7 * max(hi, 1.0):
            break
    return hi


# energy -----------------------------------------------------------------------------------------

def _energy_inputs(energy_inputs: Any, pue: float | None) -> Any:
    from dataclasses import replace

    from ... import energy

    inputs = energy_inputs if energy_inputs is not None else energy.EnergyInputs()
    if pue is not None and inputs.pue is None:
        inputs = replace(inputs, pue=pue)
    energy.check_inputs(inputs)
    return inputs


def deployment_energy(cfg: ServingConfig, gpus: int, mean_power_w_per_replica: float,
                      output_tokens_per_s: float, inputs: Any = None,
                      hours: float = 8760.0) -> Any:
    """EnergyReport (wattlas.energy.serving_energy) of `gpus` GPUs of `cfg` drawing
    `mean_power_w_per_replica` per tp GPUs and producing `output_tokens_per_s` in all."""
    from ... import energy

    inputs = _energy_inputs(inputs, None)
    return energy.serving_energy(int(gpus), mean_power_w_per_replica / cfg.tp,
                                 float(output_tokens_per_s), inputs,
                                 system=node_system(cfg), hours=hours,
                                 accelerator=cfg.accelerator)


# plan -------------------------------------------------------------------------------------------

def plan_serving(cfg: ServingConfig, prompt_tokens: int, output_tokens: int,
                 batch: int | None = None, rate_per_s: float | None = None,
                 slo: dict[str, float] | None = None, pue: float | None = None,
                 energy_inputs: Any = None, hours: float = 8760.0) -> ServingPlan:
    """Serve `prompt_tokens` → `output_tokens` requests on replicas of `cfg`.

    Every mode is a point of the one capacity model, :func:`steady_state` (continuous
    batching, chunked prefill sharing each step with decode), so batch, latency and
    throughput obey Little's law: ``concurrency = output_tokens_per_s / OSL × (E2E − W_q)``.

    * neither batch nor rate: max-throughput operation at the largest batch that fits
      (KV capacity at ISL + OSL), admissions spread evenly over the steps; throughput is the
      replica's capacity (:func:`capacity_per_s`) × OSL; TTFT without queueing.
    * ``batch``: continuous batching at that occupancy; TTFT = own prefill + first step.
    * ``rate_per_s``: the largest batch meeting the SLO sets the replica count
      ⌈rate / μ(b_SLO)⌉; each replica runs at the mean occupancy b where μ(b) equals its
      share λ (fractional: time-averaged; ``batch`` reports ⌈b⌉), and TTFT adds the G/G/1
      wait at utilisation λ / capacity; replicas are added while the wait breaks the TTFT
      SLO. Steps admit Poisson numbers of whole prompts.

    ``slo`` keys: ttft_s, tpot_s, e2e_s. ``energy_per_token_j`` is GPU-boundary (mean power /
    throughput, idle time included below an occupancy of one); node and facility boundaries
    and the deployment's EnergyReport (``energy``; replicas for a rate, else one replica;
    `hours` of operation) come from :mod:`wattlas.energy` with `energy_inputs` (an
    ``energy.EnergyInputs``; ``pue`` is a shortcut for its pue).
    """
    if prompt_tokens < 1 or output_tokens < 1:
        raise InputError(f"prompt/output tokens {prompt_tokens}/{output_tokens}: must be ≥ 1")
    if batch is not None and batch < 1:
        raise InputError(f"--batch {batch}: must be ≥ 1")
    if rate_per_s is not None and rate_per_s <= 0:
        raise InputError(f"--rate {rate_per_s}: must be > 0 requests/s")
    inputs = _energy_inputs(energy_inputs, pue)
    basis = inputs.power_basis
    slo = {k: v for k, v in (slo or {}).items() if v}
    ctx = prompt_tokens + output_tokens / 2.0
    # the scheduler admits a request only when its whole sequence can be cached (TRT-LLM's
    # GUARANTEED_NO_EVICT policy; vLLM would preempt instead), so capacity is at ISL + OSL
    full = prompt_tokens + output_tokens
    mb = _check_fits(cfg, full)
    floor = decode_floor_s(cfg)
    if "tpot_s" in slo and slo["tpot_s"] < floor:
        raise InfeasibleError(
            f"TPOT SLO {slo['tpot_s'] * 1e3:.2f} ms is below the decode floor "
            f"{floor * 1e3:.2f} ms (weights {weights_read_bytes(cfg, 1.0) / 1e9:.1f} GB / "
            f"({cfg.tp} × {cfg.accelerator.require('hbm_bytes_per_s') / 1e12:.2f} TB/s)); "
            "raise --tp, lower the precision or relax the SLO")
    notes: list[str] = []
    replicas = 1
    b_slo_max: int | None = None
    n_out = float(output_tokens)
    per_tok = tokens_per_step(cfg)
    wait = 0.0
    util: float | None = None
    # open-loop Poisson arrivals (--rate without --batch) admit whole prompts in Poisson
    # numbers per step; fixed occupancy and max-throughput spread them evenly (mixed_parts)
    poisson = rate_per_s is not None and batch is None
    cap_max = replica_capacity_per_s(cfg, mb, prompt_tokens, output_tokens)
    if batch is None and rate_per_s is None:
        mode, b = "max-throughput", float(mb)
        point = steady_state(cfg, b, prompt_tokens, output_tokens)
        lat = {"ttft_s": float(point["ttft_s"]), "tpot_s": float(point["tpot_s"]),
               "e2e_s": float(point["e2e_s"])}
        missed = [k for k, v in slo.items() if lat.get(k, 0.0) > v]
        if missed:
            notes.append(f"max-throughput operation misses the SLO on {', '.join(missed)}; "
                         "give --rate or --batch to plan under it")
        notes.append("max-throughput: the largest batch that fits, prefill chunked into the "
                     "decode steps; TTFT is the steady-state TTFT at that batch, without "
                     "queueing")
    else:
        mode = "batch" if batch is not None else "rate"
        bs = np.arange(1, mb + 1, dtype=float)
        grid = steady_state(cfg, bs, prompt_tokens, output_tokens, poisson)
        ttft_b, tpot_b, e2e_b = grid["ttft_s"], grid["tpot_s"], grid["e2e_s"]
        ok = meets_slo(slo, ttft_b, tpot_b, e2e_b)
        if not ok.any():
            raise InfeasibleError(
                f"no batch meets the SLO {slo}: at batch 1 TTFT {ttft_b[0]:.3f} s, TPOT "
                f"{tpot_b[0] * 1e3:.2f} ms (decode floor {floor * 1e3:.2f} ms); raise --tp, "
                "lower the precision or relax the SLO")
        b_slo_max = int(bs[ok].max())
        cap_b = grid["requests_per_s"]  # requests/s at occupancy b (Little's law)
        if batch is not None:
            if batch > mb:
                kv_need = batch * full * resident_kv_bytes_per_token(cfg)
                raise InfeasibleError(
                    f"--batch {batch} needs {kv_need / 1e9:.1f} GB of KV cache at "
                    f"{full} tokens per sequence but "
                    f"{max(kv_capacity_bytes(cfg), 0) / 1e9:.1f} GB fit (max batch {mb}); "
                    "raise --tp or use --kv-precision fp8")
            b = float(batch)
            if slo and not ok[batch - 1]:
                notes.append(f"batch {batch} misses the SLO; the largest batch meeting it is "
                             f"{b_slo_max}")
            if rate_per_s is not None:
                replicas = max(math.ceil(rate_per_s / float(cap_b[batch - 1])), 1)
        else:
            replicas = max(math.ceil(rate_per_s / float(cap_b[b_slo_max - 1]) - 1e-12), 1)
            limit = 64 * replicas + 64
            while True:
                share = rate_per_s / replicas
                b = _solve_occupancy(cfg, share, b_slo_max, prompt_tokens, output_tokens,
                                     poisson, cap_b)
                ttft0 = float(steady_state(cfg, max(b, 1.0), prompt_tokens, output_tokens,
                                           poisson)["ttft_s"])
                wait = queue_wait_s(share, 1.0 / cap_max, 1, ARRIVAL_CV2, SERVICE_CV2)
                met = wait < math.inf and ("ttft_s" not in slo or ttft0 + wait <= slo["ttft_s"])
                if met or replicas >= limit:
                    break
                replicas += 1
            if not met:
                raise InfeasibleError(
                    f"queueing keeps TTFT at {ttft0 + wait:.3f} s above the SLO "
                    f"{slo.get('ttft_s')} s even with {replicas} replicas; relax the SLO")
        if rate_per_s is not None:
            share = rate_per_s / replicas
            util = share / cap_max
            wait = queue_wait_s(share, 1.0 / cap_max, 1, ARRIVAL_CV2, SERVICE_CV2)
    point = steady_state(cfg, max(b, 1.0), prompt_tokens, output_tokens, poisson)
    step, tpot = float(point["step_s"]), float(point["tpot_s"])
    ttft0, e2e0 = float(point["ttft_s"]), float(point["e2e_s"])
    busy = min(b, 1.0)  # below an occupancy of one the replica idles part of the time
    rps = busy * float(point["requests_per_s"])  # = b / E2E₀ (Little's law)
    concurrency = rps * e2e0
    tps = rps * n_out
    ttft = wait + ttft0
    e2e = ttft + (n_out - 1.0) * tpot
    pre_own = float(own_prefill_s(cfg, max(b, 1.0), prompt_tokens, output_tokens))
    # power of the mixed steps (they carry the admitted prompts' prefill) and while idle
    parts = mixed_parts(cfg, max(b, 1.0), prompt_tokens, output_tokens, poisson)
    power = float(parts_power_w(cfg, parts, basis))
    idle = cfg.tp * float(device_power_w(cfg.accelerator, 0.0, basis))
    mean_power = busy * power + (1.0 - busy) * idle  # the replica's GPUs [W]
    e_req = mean_power / rps  # energy = power × time: J/request = W / (requests/s)
    e_tok = e_req / n_out
    if cfg.draft is not None:
        notes.append(f"speculative decoding: {per_tok:.2f} tokens per target step; "
                     f"weights_bytes and kv_cache_bytes include draft {cfg.draft.id}'s "
                     "weights and KV cache")
    if cfg.power_cap_w is not None:
        free_cfg = replace(cfg, power_cap_w=None)
        b1 = max(b, 1.0)
        free_step = float(steady_state(free_cfg, b1, prompt_tokens, output_tokens,
                                       poisson)["step_s"])
        free_w = float(parts_power_w(free_cfg, mixed_parts(free_cfg, b1, prompt_tokens,
                                                           output_tokens, poisson), basis))
        notes.append(f"power cap {cfg.power_cap_w:g} W per GPU: steps "
                     f"{step / free_step - 1.0:.1%} slower at this batch, drawing "
                     f"{power / 1e3:.3g} kW instead of {free_w / 1e3:.3g} kW")
    if wait == math.inf:
        notes.append(f"the offered {rate_per_s / replicas:.3g} req/s per replica reaches its "
                     f"capacity {cap_max:.3g} req/s: the queue grows without bound")
    # boundaries as ratios of the same replica's power: node = GPU + host, facility =
    # (node + network) × PUE (energy.serving_energy), applied to the GPU J/token
    one = deployment_energy(cfg, cfg.tp, mean_power, tps, inputs, hours)
    e_node = e_tok * (one.gpu_power_w + one.host_power_w) / one.gpu_power_w
    e_fac = e_tok * one.facility_power_w / one.gpu_power_w
    report = deployment_energy(cfg, cfg.tp * replicas, mean_power, tps * replicas, inputs,
                               hours)
    bound = "compute" if float(parts["compute_s"]) > float(parts["memory_s"]) else "memory"
    return ServingPlan(
        model=cfg.model.id, accelerator=cfg.accelerator.id, engine=cfg.eng.id,
        precision=cfg.precision, kv_precision=cfg.kv, tp=cfg.tp,
        prompt_tokens=int(prompt_tokens), output_tokens=int(output_tokens),
        ttft_s=float(ttft), tpot_s=float(tpot), e2e_s=float(e2e),
        batch=max(math.ceil(b - 1e-9), 1), max_batch=mb,
        output_tokens_per_s=float(tps), output_tokens_per_s_per_gpu=float(tps) / cfg.tp,
        kv_cache_bytes=float(concurrency * ctx * resident_kv_bytes_per_token(cfg)),
        weights_bytes=float(resident_weights_bytes(cfg)),
        energy_per_token_j=e_tok, energy_per_request_j=e_req,
        gpus=cfg.tp * replicas, replicas=replicas, bound=bound, power_w=power, mode=mode,
        rate_per_s=rate_per_s, decode_floor_s=floor, max_batch_slo=b_slo_max,
        energy_per_token_node_j=e_node,
        energy_per_token_facility_j=e_fac,
        breakdown={k: float(v) for k, v in parts.items()}, notes=tuple(notes),
        queue_wait_s=float(wait), prefill_s=pre_own,
        ttft_p99_s=(float(ttft0 + wait_quantile_s(wait, util)) if util is not None
                    else None), utilization_frac=util,
        capacity_requests_per_s=float(cap_max), mean_power_w=float(mean_power), energy=report,
        concurrency=float(concurrency), step_s=step)
