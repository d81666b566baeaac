"""Compute-optimal model sizing (Chinchilla).

Hoffmann et al. 2022, approach 3: the fitted loss

    L(N, D) = E + A / N^α + B / D^β,   E = 1.69, A = 406.4, B = 410.7, α = 0.34, β = 0.28

with training compute C ≈ 6·N·D [FLOP]. Minimising L under C = 6·N·D gives

    N_opt = G · (C/6)^a,  D_opt = G⁻¹ · (C/6)^b,  G = (α·A / (β·B))^(1/(α+β)),
    a = β/(α+β), b = α/(α+β).

A time or power budget is turned into a FLOP budget by the caller's achieved FLOP/s
(:func:`flop_budget`).

References
----------
* J. Hoffmann et al., "Training Compute-Optimal Large Language Models", NeurIPS 2022,
  arXiv:2203.15556, §3.3 and Appendix D.2 (eq. 10).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError

E_LOSS = 1.69
A_COEF = 406.4
B_COEF = 410.7
ALPHA = 0.34
BETA = 0.28


@dataclass(frozen=True)
class ComputeOptimal:
    """Chinchilla-optimal size for a FLOP budget: parameters, tokens and expected loss
    [nats/token]."""

    flop: float
    params: float
    tokens: float
    loss: float

    @property
    def tokens_per_param(self) -> float:
        return self.tokens / self.params


def loss(params: float, tokens: float) -> float:
    """Expected pre-training loss L(N, D) = E + A/N^α + B/D^β [nats/token]."""
    if params <= 0 or tokens <= 0:
        raise InputError(f"params = {params}, tokens = {tokens}: both must be > 0")
    return E_LOSS + A_COEF / params**ALPHA + B_COEF / tokens**BETA


def compute_optimal(flop: float) -> ComputeOptimal:
    """N_opt, D_opt and L(N_opt, D_opt) for a training budget of `flop` FLOP (C = 6·N·D)."""
    if not flop > 0:
        raise InputError(f"compute budget = {flop!r} FLOP: must be > 0")
    g = (ALPHA * A_COEF / (BETA * B_COEF)) ** (1.0 / (ALPHA + BETA))
    a, b = BETA / (ALPHA + BETA), ALPHA / (ALPHA + BETA)
    n = g * (flop / 6.0) ** a
    d = (flop / 6.0) ** b / g
    return ComputeOptimal(flop=flop, params=n, tokens=d, loss=loss(n, d))


def flop_budget(flop_per_s: float, time_s: float | None = None, energy_j: float | None = None,
                power_w: float | None = None) -> float:
    """FLOP budget from a sustained cluster rate [FLOP/s] and a time [s], or an energy [J] at a
    power [W] (time = energy / power)."""
    if flop_per_s <= 0:
        raise InputError(f"flop_per_s = {flop_per_s}: must be > 0")
    if time_s is None:
        if energy_j is None or not power_w:
            raise InputError("give time_s, or energy_j and power_w")
        time_s = energy_j / power_w
    if time_s <= 0:
        raise InputError(f"time_s = {time_s}: must be > 0")
    return flop_per_s * time_s
