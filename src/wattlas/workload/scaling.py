"""Compute-optimal model sizing (Chinchilla).

The parametric loss of Hoffmann et al. 2022, approach 3,

    L(N, D) = E + A / N^α + B / D^β     [nats/token]

with training compute C ≈ 6·N·D [FLOP]. Minimising L under C = 6·N·D gives

    N_opt = G · (C/6)^a,  D_opt = G⁻¹ · (C/6)^b,  G = (α·A / (β·B))^(1/(α+β)),
    a = β/(α+β), b = α/(α+β).

Two sets of coefficients are kept, each a :class:`ScalingFit`:

* :data:`BESIROGLU_2024` (the default): Besiroglu et al.'s refit of approach 3 on the data they
  reconstructed from Hoffmann et al.'s Figure 4 (their Table 1: E 1.8172, A 482.01,
  B 2085.43, α 0.3478, β 0.3658). Its a = 0.51 agrees with Hoffmann's approaches 1 and 2
  (a ≈ 0.50) and gives 16–19 tokens per parameter over 10²³–10²⁶ FLOP, matching the ≈ 20 of
  Hoffmann's Table 3 (approach 1); the Table 3 model sizes are reproduced within −8 % to +23 %
  from 400 M to 10 T parameters.
* :data:`HOFFMANN_2022`: the rounded coefficients printed in Hoffmann et al. (§3.3 and eq. 10:
  E 1.69, A 406.4, B 410.7, α 0.34, β 0.28). Their tokens per parameter grow with C (93 at
  5.76·10²³ FLOP, 153 at 10²⁶), inconsistent with the paper's other two approaches; Besiroglu
  et al. trace this to the rounding and to an optimiser stopped before convergence. Kept for
  comparison.

A time or power budget is turned into a FLOP budget by the caller's achieved FLOP/s
(:func:`flop_budget`).

References
----------
* J. Hoffmann et al., "Training Compute-Optimal Large Language Models", NeurIPS 2022,
  arXiv:2203.15556, §3.3, Table 3, Appendix D.2 (eq. 10) and D.3 (Table A3).
* T. Besiroglu, E. Erdil, M. Barnett, J. You, "Chinchilla Scaling: A replication attempt",
  arXiv:2404.10102 (2024), Table 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError


@dataclass(frozen=True)
class ScalingFit:
    """Coefficients of L(N, D) = E + A/N^α + B/D^β [nats/token] and where they come from."""

    name: str
    e_loss: float
    a_coef: float
    b_coef: float
    alpha: float
    beta: float
    source: str

    @property
    def params_exponent(self) -> float:
        """a in N_opt ∝ C^a."""
        return self.beta / (self.alpha + self.beta)

    @property
    def tokens_exponent(self) -> float:
        """b in D_opt ∝ C^b."""
        return self.alpha / (self.alpha + self.beta)


BESIROGLU_2024 = ScalingFit(
    "besiroglu-2024", 1.8172, 482.01, 2085.43, 0.3478, 0.3658,
    "Besiroglu et al. 2024, 'Chinchilla Scaling: A replication attempt', arXiv:2404.10102, "
    "Table 1 (refit of Hoffmann et al. approach 3)")
HOFFMANN_2022 = ScalingFit(
    "hoffmann-2022", 1.69, 406.4, 410.7, 0.34, 0.28,
    "Hoffmann et al. 2022, arXiv:2203.15556, eq. 10 (approach 3, rounded as printed)")
#: The fit used unless one is named.
DEFAULT_FIT = BESIROGLU_2024
FITS = {f.name: f for f in (BESIROGLU_2024, HOFFMANN_2022)}

# Module-level names of the default fit's coefficients.
E_LOSS = DEFAULT_FIT.e_loss
A_COEF = DEFAULT_FIT.a_coef
B_COEF = DEFAULT_FIT.b_coef
ALPHA = DEFAULT_FIT.alpha
BETA = DEFAULT_FIT.beta


@dataclass(frozen=True)
class ComputeOptimal:
    """Chinchilla-optimal size for a FLOP budget: parameters, tokens and expected loss
    [nats/token] under `fit`."""

    flop: float
    params: float
    tokens: float
    loss: float
    fit: str = DEFAULT_FIT.name

    @property
    def tokens_per_param(self) -> float:
        return self.tokens / self.params


def loss(params: float, tokens: float, fit: ScalingFit = DEFAULT_FIT) -> float:
    """Expected pre-training loss L(N, D) = E + A/N^α + B/D^β [nats/token]."""
    if params <= 0 or tokens <= 0:
        raise InputError(f"params = {params}, tokens = {tokens}: both must be > 0")
    return fit.e_loss + fit.a_coef / params**fit.alpha + fit.b_coef / tokens**fit.beta


def compute_optimal(flop: float, fit: ScalingFit = DEFAULT_FIT) -> ComputeOptimal:
    """N_opt, D_opt and L(N_opt, D_opt) for a training budget of `flop` FLOP (C = 6·N·D)."""
    if not flop > 0:
        raise InputError(f"compute budget = {flop!r} FLOP: must be > 0")
    g = (fit.alpha * fit.a_coef / (fit.beta * fit.b_coef)) ** (1.0 / (fit.alpha + fit.beta))
    n = g * (flop / 6.0) ** fit.params_exponent
    d = (flop / 6.0) ** fit.tokens_exponent / g
    return ComputeOptimal(flop=flop, params=n, tokens=d, loss=loss(n, d, fit), fit=fit.name)


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
