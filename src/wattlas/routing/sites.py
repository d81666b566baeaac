"""Serving sites and the per-replica service model the simulator uses.

A :class:`ServiceModel` is a set of lookup tables built once per site, so the event loop only
indexes arrays:

* ``ttft_s(prompt_tokens, batch)`` [s]: time from service start to the first token of one
  prompt at per-replica occupancy ``batch`` (a table over batch × log-spaced prompt lengths,
  interpolated in the prompt length);
* ``decode_step_s(batch)`` [s]: one continuous-batching step with ``batch`` sequences in
  flight, the prefill of the prompts it admits chunked into it (the TPOT at that occupancy);
* ``max_batch`` [sequences]: the KV-cache limit of one replica at prompt + output tokens;
* ``power_w(batch)`` [W]: the replica's GPU power at that batch (0 = idle).

:meth:`ServiceModel.from_inference` evaluates the one capacity model of ``wattlas serve``
(:func:`wattlas.perf.serving.plan.steady_state`): at the mean lengths a replica's capacity
b / (TTFT(b) + (OSL − 1)·step(b)) at its largest batch is ``serve``'s
``capacity_requests_per_s`` (:meth:`ServiceModel.capacity_per_s`), so the same replica has
the same capacity in both commands.
:meth:`ServiceModel.exponential` is the M/M/c reference: one request per server, service time
exponential with the given mean (Kleinrock, *Queueing Systems* Vol. 1, 1975, §3.5).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InfeasibleError, InputError


@dataclass(frozen=True)
class ServiceModel:
    """Lookup tables of one replica (see module docstring). ``exponential_mean_s`` set means
    the whole service time is exponential (no prefill/decode split)."""

    prefill_tokens: np.ndarray = field(repr=False)
    prefill_table_s: np.ndarray = field(repr=False)
    decode_table_s: np.ndarray = field(repr=False)  # index b − 1, b = 1 … max_batch
    power_table_w: np.ndarray = field(repr=False)  # index b, b = 0 … max_batch
    exponential_mean_s: float | None = None
    #: TTFT at the site [s], index (b − 1, prompt grid point); None: prefill_table_s at
    #: every batch
    ttft_table_s: np.ndarray | None = field(default=None, repr=False)
    #: the mean request lengths the tables were built for [tokens] (from_inference)
    prompt_tokens: float | None = None
    output_tokens: float | None = None

    def ttft_table(self) -> np.ndarray:
        """(max_batch, prompt grid) table of TTFT [s] at occupancy b = 1 … max_batch."""
        if self.ttft_table_s is not None:
            return self.ttft_table_s
        return np.broadcast_to(self.prefill_table_s, (self.max_batch,
                                                      len(self.prefill_table_s)))

    def ttft_s(self, prompt_tokens, batch=1):
        """Time to the first token [s] of prompts of `prompt_tokens` tokens at per-replica
        occupancy `batch` (clipped to 1 … max_batch), from service start."""
        if self.exponential_mean_s is not None:
            return np.zeros_like(np.asarray(prompt_tokens, dtype=float))
        b = int(np.clip(batch, 1, self.max_batch))
        return np.interp(prompt_tokens, self.prefill_tokens, self.ttft_table()[b - 1])

    def capacity_per_s(self, prompt_tokens: float, output_tokens: float,
                       batch: int | None = None) -> float:
        """Requests/s one replica completes at occupancy `batch` (default: its largest) with
        requests of the given lengths: b / (TTFT(b) + (OSL − 1)·step(b)) (Little's law);
        exponential service: servers / mean."""
        b = self.max_batch if batch is None else int(np.clip(batch, 1, self.max_batch))
        if self.exponential_mean_s is not None:
            return b / self.exponential_mean_s
        e2e = (float(self.ttft_s(prompt_tokens, b))
               + (float(output_tokens) - 1.0) * float(self.decode_step_s(b)))
        return b / e2e

    @property
    def max_batch(self) -> int:
        return int(len(self.decode_table_s))

    def prefill_s(self, prompt_tokens):
        """Prefill time [s] of prompts of `prompt_tokens` tokens (numpy-broadcastable)."""
        if self.exponential_mean_s is not None:
            return np.zeros_like(np.asarray(prompt_tokens, dtype=float))
        return np.interp(prompt_tokens, self.prefill_tokens, self.prefill_table_s)

    def decode_step_s(self, batch):
        """Decode step time [s] with `batch` sequences (clipped to 1 … max_batch)."""
        b = np.clip(np.asarray(batch, dtype=int), 1, self.max_batch)
        return self.decode_table_s[b - 1]

    def power_w(self, batch):
        """Replica power [W] at (possibly fractional) mean batch, linear between table points."""
        return np.interp(batch, np.arange(self.max_batch + 1), self.power_table_w)

    @classmethod
    def from_callables(cls, prefill_s: Callable[[Any], Any], decode_step_s: Callable[[Any], Any],
                       max_batch: int, power_w: Callable[[Any], Any],
                       max_prompt_tokens: int = 131072) -> ServiceModel:
        """Tabulate vectorised callables once (prefill on 64 log-spaced lengths)."""
        if max_batch < 1:
            raise InfeasibleError(f"max_batch {max_batch}: a replica must hold at least one "
                                  "sequence; use more tensor parallelism or a smaller model")
        toks = np.unique(np.round(np.geomspace(1, max(max_prompt_tokens, 2), 64)))
        b = np.arange(1, max_batch + 1)
        return cls(prefill_tokens=toks,
                   prefill_table_s=np.asarray(prefill_s(toks), dtype=float) * np.ones_like(toks),
                   decode_table_s=np.asarray(decode_step_s(b), dtype=float) * np.ones(max_batch),
                   power_table_w=np.asarray(power_w(np.arange(max_batch + 1)), dtype=float)
                   * np.ones(max_batch + 1))

    @classmethod
    def exponential(cls, mean_s: float, servers: int = 1, busy_w: float = 700.0,
                    idle_w: float = 100.0) -> ServiceModel:
        """Exponential service of mean `mean_s` [s]; `servers` requests per replica at a time
        (so a site with r replicas is an M/M/(r·servers) queue); power linear in busy servers."""
        if not mean_s > 0:
            raise InputError(f"mean service time {mean_s} s: must be > 0")
        if servers < 1:
            raise InputError(f"servers {servers}: must be >= 1")
        return cls(prefill_tokens=np.array([1.0, 2.0]), prefill_table_s=np.zeros(2),
                   decode_table_s=np.full(servers, 0.0),
                   power_table_w=idle_w + (busy_w - idle_w) * np.arange(servers + 1) / servers,
                   exponential_mean_s=float(mean_s))

    @classmethod
    def from_inference(cls, cfg: Any, prompt_tokens: float, output_tokens: float,
                       max_prompt_tokens: int = 131072) -> ServiceModel:
        """Tables of ServingConfig `cfg` serving requests of mean `prompt_tokens` →
        `output_tokens` from the one capacity model (``perf.serving.plan.steady_state``,
        admissions spread evenly): max_batch at ISL + OSL (as ``serve``), step(b) = the mixed
        continuous-batching step, TTFT(p, b) = own chunked prefill of p tokens alongside b
        sequences + the first step, power(b) of the mixed step (idle = tp × device power at
        zero activity). The prompt grid holds 64 log-spaced lengths and the mean itself."""
        from ..perf.serving import plan as sp
        from ..perf.serving import roofline as inf

        p_mean, n_out = float(prompt_tokens), float(output_tokens)
        mb = inf.max_batch(cfg, p_mean + n_out)
        if mb < 1:
            raise InfeasibleError(f"{cfg.model.id} on {cfg.tp} x {cfg.accelerator.id} "
                                  f"({cfg.precision}) has no room for the KV cache of one "
                                  f"{p_mean + n_out:.0f}-token sequence; raise tp or use fp8")
        idle = cfg.tp * float(inf.device_power_w(cfg.accelerator, 0.0))
        b = np.arange(1, mb + 1, dtype=float)
        parts = inf.mixed_parts(cfg, b, p_mean, n_out)
        busy = np.asarray(inf.parts_power_w(cfg, parts), dtype=float) * np.ones(mb)
        step = np.asarray(inf.mixed_step_time_s(cfg, b, p_mean, n_out), dtype=float)
        toks = np.unique(np.concatenate([np.round(np.geomspace(1, max_prompt_tokens, 64)),
                                         [p_mean]]))
        table = np.stack([sp.own_prefill_s(cfg, b, float(p), n_out) for p in toks], axis=1)
        table = table + step[:, None]
        return cls(prefill_tokens=toks, prefill_table_s=table[0].copy(),
                   decode_table_s=step, power_table_w=np.concatenate([[idle],
                                                                     np.maximum(busy, idle)]),
                   ttft_table_s=table, prompt_tokens=p_mean, output_tokens=n_out)


@dataclass(frozen=True)
class Site:
    """A serving site: location, replicas of one service model, power cap and grid data.

    ``intensity_g_per_kwh`` [gCO2e/kWh] and ``price_usd_per_mwh`` [USD/MWh] take one value or
    24 values by UTC hour; both are stored as 24-arrays.

    ``power_cap_w`` bounds the facility power PUE · replicas · power_w(b); the per-replica
    batch is limited to the largest b with that product ≤ cap (:attr:`batch_cap`), so a cap
    is never exceeded whatever the policy does.
    """

    name: str
    lat: float
    lon: float
    service: ServiceModel
    replicas: int
    kind: str = "central"
    power_cap_w: float | None = None
    intensity_g_per_kwh: np.ndarray = field(default_factory=lambda: np.zeros(24), repr=False)
    price_usd_per_mwh: np.ndarray = field(default_factory=lambda: np.zeros(24), repr=False)
    pue: float = 1.0

    def __post_init__(self) -> None:
        if self.replicas < 1:
            raise InputError(f"site {self.name}: replicas {self.replicas} must be >= 1")
        ci = np.broadcast_to(np.asarray(self.intensity_g_per_kwh, dtype=float), (24,)).copy()
        object.__setattr__(self, "intensity_g_per_kwh", ci)
        price = np.broadcast_to(np.asarray(self.price_usd_per_mwh, dtype=float), (24,)).copy()
        object.__setattr__(self, "price_usd_per_mwh", price)
        _ = self.batch_cap  # raises when even idle replicas exceed the cap

    def facility_power_w(self, mean_batch):
        """Facility power [W] = PUE · replicas · power_w(mean batch per replica)."""
        return self.pue * self.replicas * self.service.power_w(mean_batch)

    @property
    def batch_cap(self) -> int:
        """Largest per-replica batch whose facility power stays within the cap."""
        mb = self.service.max_batch
        if self.power_cap_w is None:
            return mb
        p = self.pue * self.replicas * self.service.power_table_w
        ok = np.nonzero(p <= self.power_cap_w * (1 + 1e-12))[0]
        if len(ok) == 0 or ok.max() < 1:
            need = p[1] if len(p) > 1 else p[0]
            fit = math.floor(self.power_cap_w / (self.pue * self.service.power_table_w[1]))
            raise InfeasibleError(
                f"site {self.name}: {self.replicas} replicas draw {need:.4g} W at batch 1 but "
                f"power_cap_w is {self.power_cap_w:.4g} W; use at most {fit} replicas or "
                "raise the cap")
        return int(ok.max())

    @property
    def slots(self) -> int:
        """Concurrent sequences the site serves: replicas × batch_cap."""
        return self.replicas * self.batch_cap

    @property
    def capacity_requests_per_s(self) -> float | None:
        """Requests/s the site completes at its batch cap with requests of the mean lengths
        its service tables were built for: replicas × ServiceModel.capacity_per_s (what
        ``wattlas serve`` reports per replica when no power cap binds); None for service
        models without lengths (exponential, tabulated callables)."""
        svc = self.service
        if svc.exponential_mean_s is not None:
            return self.replicas * self.batch_cap / svc.exponential_mean_s
        if svc.prompt_tokens is None or svc.output_tokens is None:
            return None
        return self.replicas * svc.capacity_per_s(svc.prompt_tokens, svc.output_tokens,
                                                  self.batch_cap)


def replicas_for_cap(service: ServiceModel, power_cap_w: float, pue: float = 1.0) -> int:
    """Replicas a power cap can run at full batch: ⌊cap / (PUE · power_w(max_batch))⌋ (≥ 1)."""
    return max(1, math.floor(power_cap_w / (pue * float(service.power_table_w[-1]))))
