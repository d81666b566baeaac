"""Serving workloads: request shapes and agent sessions.

An agent session is ``k`` sequential model calls. Call ``i`` sees the whole conversation so far
as its prompt (system prompt + every earlier prompt, output and tool result), produces
``output_tokens`` and then waits ``tool_time_s`` for a tool or search before the next call::

    prompt_i = prompt_tokens + i · (output_tokens + tool_result_tokens)     (i = 0 … k−1)
    latency  = Σ_i (TTFT_i + output_tokens · TPOT_i) + (k − 1) · tool_time_s
    energy   = Σ_i energy_per_request_j(prompt_i)

Each call is planned with :func:`wattlas.perf.serving.plan.plan_serving` at the replica's operating
batch, so per-call TTFT grows with the context and the KV cache it holds. Prefix caching is not
modelled (every call prefills its whole context): an upper bound on prefill work.

References
----------
* S. Yao et al., "ReAct: Synergizing Reasoning and Acting in Language Models", ICLR 2023 (the
  sequential call / tool-observation loop).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import InputError


@dataclass(frozen=True)
class RequestShape:
    """One request: prompt and output length [tokens]."""

    prompt_tokens: int
    output_tokens: int

    def __post_init__(self) -> None:
        for name in ("prompt_tokens", "output_tokens"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise InputError(f"{name} = {v!r}: must be a positive integer [tokens]")


@dataclass(frozen=True)
class AgentSession:
    """k sequential calls with growing context and tool time between them."""

    calls: int
    prompt_tokens: int
    output_tokens: int
    tool_result_tokens: int = 0
    tool_time_s: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.calls, int) or self.calls < 1:
            raise InputError(f"agent calls = {self.calls!r}: must be a positive integer")
        RequestShape(self.prompt_tokens, self.output_tokens)
        if self.tool_result_tokens < 0:
            raise InputError(f"tool_result_tokens = {self.tool_result_tokens}: must be ≥ 0")
        if self.tool_time_s < 0:
            raise InputError(f"tool_time_s = {self.tool_time_s}: must be ≥ 0 s")

    def call_shapes(self) -> list[RequestShape]:
        step = self.output_tokens + self.tool_result_tokens
        return [RequestShape(self.prompt_tokens + i * step, self.output_tokens)
                for i in range(self.calls)]


@dataclass(frozen=True)
class SessionPlan:
    """Latency [s], tokens and energy [J] of one agent session."""

    latency_s: float
    model_time_s: float
    tool_time_s: float
    prompt_tokens: int
    output_tokens: int
    energy_j: float
    energy_per_output_token_j: float
    calls: list[dict[str, float]] = field(default_factory=list)


def plan_session(cfg, session: AgentSession, batch: int | None = None) -> SessionPlan:
    """Plan every call of `session` on replicas of `cfg` (a perf.serving.roofline.ServingConfig) at
    occupancy `batch` (None: 1, an otherwise idle replica)."""
    from ..perf.serving.plan import plan_serving

    calls = []
    model_s = energy = 0.0
    prompt_total = 0
    for shape in session.call_shapes():
        p = plan_serving(cfg, shape.prompt_tokens, shape.output_tokens, batch=batch or 1)
        calls.append({"prompt_tokens": shape.prompt_tokens, "ttft_s": p.ttft_s,
                      "tpot_s": p.tpot_s, "e2e_s": p.e2e_s,
                      "energy_j": p.energy_per_request_j})
        model_s += p.e2e_s
        energy += p.energy_per_request_j
        prompt_total += shape.prompt_tokens
    tool_s = (session.calls - 1) * session.tool_time_s
    out_tokens = session.calls * session.output_tokens
    return SessionPlan(latency_s=model_s + tool_s, model_time_s=model_s, tool_time_s=tool_s,
                       prompt_tokens=prompt_total, output_tokens=out_tokens, energy_j=energy,
                       energy_per_output_token_j=energy / out_tokens, calls=calls)


def session_from_scenario(scen, plan) -> SessionPlan:
    """Plan the scenario's agent sessions (serving.agent) on its replica configuration at the
    occupancy of `plan` (the replica's operating batch)."""
    from ..perf.serving.scenario import config_from_scenario

    ag = scen.serving.agent
    if ag is None:
        raise InputError("the scenario's serving section has no 'agent' (give --agent-calls)")
    session = AgentSession(calls=ag.calls, prompt_tokens=scen.serving.prompt_tokens,
                           output_tokens=scen.serving.output_tokens,
                           tool_result_tokens=ag.tool_result_tokens, tool_time_s=ag.tool_time_s)
    return plan_session(config_from_scenario(scen), session, batch=plan.batch)
