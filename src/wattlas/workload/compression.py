"""Model compression as shape transforms: structured pruning and distillation.

Both change *which* model is served, never how it is served: the result is a
:class:`~wattlas.workload.transformer.ModelSpec` that flows through the same parameter, byte
and FLOP accounting (:mod:`wattlas.workload.transformer`) as any catalog model.

* **Distillation** serves a smaller student (a catalog model or an inline shape) in place of the
  teacher. Nothing here models how well the student matches the teacher.
* **Structured pruning** keeps a fraction of the layers (depth), of the MLP inner width and of
  the attention heads (width), as Minitron does, and serves the pruned shape as if it had been
  retrained. Rounding keeps the shape servable::

      layers' = max(1, round(L · layers_frac))
      ffn'    = max(m, round(ffn · ffn_frac / m) · m),   m = lcm(128, tp)   (also MoE expert_ffn)
      GQA:  whole KV groups are removed, so the group size H / n_kv stays:
            n_kv' ∈ {1 … n_kv} closest to n_kv · heads_frac with (n_kv' · H / n_kv) mod tp = 0
      MQA (n_kv = 1) and MLA: heads' ∈ {1 … H} closest to H · heads_frac with heads' mod tp = 0

  The head dimension and the hidden size stay. A fraction of 1 leaves that dimension exactly as
  it was. MoE: the leading dense layers scale with the layers kept; experts are not pruned.

Quality (accuracy, perplexity) of a pruned or distilled model is not modelled.

References
----------
* S. Muralidharan et al., "Compact Language Models via Pruning and Knowledge Distillation"
  (Minitron), arXiv:2407.14679 (depth, MLP-width and attention-head pruning followed by
  distillation).
* G. Hinton, O. Vinyals, J. Dean, "Distilling the Knowledge in a Neural Network",
  arXiv:1503.02531.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import InputError
from .transformer import ModelSpec

#: the MLP inner width is rounded to a multiple of this (and of the TP width): tensor-core tile
#: and the granularity released checkpoints use (Llama 3 8B ffn 14336 = 112 × 128).
FFN_MULTIPLE = 128


@dataclass(frozen=True)
class Prune:
    """Fractions kept [0–1] of the layers, of the MLP inner width and of the attention heads."""

    layers_frac: float = 1.0
    ffn_frac: float = 1.0
    heads_frac: float = 1.0

    def __post_init__(self) -> None:
        for name in ("layers_frac", "ffn_frac", "heads_frac"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 < v <= 1.0:
                raise InputError(f"serving.prune.{name} = {v!r}: must be in (0, 1], the "
                                 "fraction kept (--prune-" + name.replace("_", "-") + ")")

    @property
    def is_identity(self) -> bool:
        return self.layers_frac == self.ffn_frac == self.heads_frac == 1.0


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def _round_to(x: float, m: int) -> int:
    return max(m, _round_half_up(x / m) * m)


def _closest(candidates: list[int], target: float) -> int | None:
    """The candidate closest to `target`, the larger one on a tie; None when there is none."""
    if not candidates:
        return None
    return min(candidates, key=lambda k: (abs(k - target), -k))


def pruned_heads(spec: ModelSpec, heads_frac: float, tp: int = 1) -> tuple[int, int | None]:
    """(heads, kv_heads) kept by pruning `heads_frac` of the attention heads at TP width `tp`
    (module docstring); kv_heads None keeps the spec's convention (None = one per head)."""
    h, n_kv = spec.heads, spec.n_kv_heads
    if heads_frac == 1.0:
        return h, spec.kv_heads
    if spec.is_mla or n_kv == 1:
        k = _closest([c for c in range(1, h + 1) if c % tp == 0], h * heads_frac)
        if k is None:
            raise InputError(f"serving.prune.heads_frac = {heads_frac}: no head count keeps "
                             f"{spec.id}'s heads divisible by --tp {tp}; lower --tp")
        return k, spec.kv_heads
    g = h // n_kv
    k = _closest([c for c in range(1, n_kv + 1) if (c * g) % tp == 0], n_kv * heads_frac)
    if k is None:
        raise InputError(f"serving.prune.heads_frac = {heads_frac}: no count of {g}-head KV "
                         f"groups keeps {spec.id}'s heads divisible by --tp {tp}; lower --tp")
    return k * g, (k if spec.kv_heads is not None else None)


def prune_model(spec: ModelSpec, prune: Prune, tp: int = 1) -> ModelSpec:
    """The pruned shape of `spec` at TP width `tp` (module docstring); `spec` itself when
    nothing is pruned. Its id is ``<id>-pruned``."""
    if prune.is_identity:
        return spec
    if not isinstance(tp, int) or tp < 1:
        raise InputError(f"--tp {tp!r}: must be a positive integer")
    m = math.lcm(FFN_MULTIPLE, tp)
    changes: dict = {"id": f"{spec.id}-pruned"}
    if prune.layers_frac < 1.0:
        layers = max(1, _round_half_up(spec.layers * prune.layers_frac))
        changes["layers"] = layers
        if spec.is_moe and spec.moe_dense_layers:
            dense = _round_half_up(spec.moe_dense_layers * prune.layers_frac)
            changes["moe_dense_layers"] = min(dense, layers - 1)
    if prune.ffn_frac < 1.0:
        if spec.ffn:
            changes["ffn"] = _round_to(spec.ffn * prune.ffn_frac, m)
        if spec.is_moe:
            changes["moe_expert_ffn"] = _round_to(spec.moe_expert_ffn * prune.ffn_frac, m)
    if prune.heads_frac < 1.0:
        heads, kv = pruned_heads(spec, prune.heads_frac, tp)
        changes["heads"], changes["kv_heads"] = heads, kv
        if not spec.is_mla:
            changes["head_dim"] = spec.d_head  # heads are removed whole: d_head stays
    return spec.with_(**changes)


def kept_fracs(teacher: ModelSpec, student: ModelSpec) -> dict[str, float]:
    """Fractions [0–1] of the teacher's layers, MLP width, heads and KV heads the student keeps
    (after rounding)."""
    t_ffn = teacher.moe_expert_ffn if teacher.is_moe else teacher.ffn
    s_ffn = student.moe_expert_ffn if student.is_moe else student.ffn
    return {"layers_kept_frac": student.layers / teacher.layers,
            "ffn_kept_frac": s_ffn / t_ffn,
            "heads_kept_frac": student.heads / teacher.heads,
            "kv_heads_kept_frac": student.n_kv_heads / teacher.n_kv_heads}
