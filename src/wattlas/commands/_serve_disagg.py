"""`wattlas serve --disaggregated`: print a prefill/decode-disaggregated plan."""

from __future__ import annotations

from typing import Any


def show(scen: Any, search: bool, fmt: str, hours: float = 8760.0) -> None:
    """Plan the scenario's disaggregated serving and print it as table, json or csv."""
    from ..perf.serving.disagg import from_scenario
    from ._common import print_csv, print_json, print_pairs, print_table

    out, _ = from_scenario(scen, search=search, hours=hours)
    if fmt == "json":
        print_json(out)
        return
    if fmt == "csv":
        flat = {k: v for k, v in out.items() if not isinstance(v, dict | list)}
        flat.update({f"breakdown.{k}": v for k, v in out["breakdown"].items()})
        flat["notes"] = "; ".join(out["notes"])
        flat["energy_summary"] = "; ".join(out["energy_summary"])
        print_csv([flat])
        return
    ep = f", EP {out['ep']}" + (" with DP attention" if out["dp_attention"] else "") \
        if out["ep"] else ""
    pairs = [
        ("pools", f"{out['prefill_gpus']} prefill + {out['decode_gpus']} decode GPUs = "
                  f"{out['gpus']} (P:D {out['pd_ratio']:.2f}{ep})"),
        ("prefill", f"{out['prefill_input_tokens_per_s_per_gpu']:,.0f} input tokens/s per GPU "
                    f"({out['prefill_tokens_per_gpu']:,.0f} tokens per GPU step); "
                    f"{out['prefill_requests_per_s']:.3g} req/s"),
        ("decode", f"{out['output_tokens_per_s_per_gpu']:,.0f} output tokens/s per GPU at "
                   f"{out['decode_batch_per_gpu']:,.1f} sequences per GPU; "
                   f"{out['decode_requests_per_s']:.3g} req/s"),
        ("capacity", f"{out['capacity_requests_per_s']:.3g} req/s ({out['bottleneck']} bound)"),
        ("TTFT / TPOT", f"{out['ttft_s'] * 1e3:,.1f} ms / {out['tpot_s'] * 1e3:,.2f} ms "
                        "(no queueing)"),
        ("KV hand-off", f"{out['kv_bytes_per_request'] / 1e6:,.1f} MB per request over "
                        f"{out['kv_link']} in {out['kv_transfer_s'] * 1e3:,.2f} ms, "
                        f"{out['kv_transfer_energy_j']:.3g} J; link "
                        f"{out['kv_link_utilization_frac'] * 100:.1f} % busy"),
        ("energy", f"{out['energy_per_token_j']:.3g} J/output token (GPU, at capacity)"),
    ]
    if out.get("utilization_frac") is not None:
        pairs.append(("load", f"{out['rate_per_s']:g} req/s = "
                              f"{out['utilization_frac'] * 100:.0f} % of capacity"))
    pairs += [("deployment", line) for line in out["energy_summary"]]
    pairs += [("note", n) for n in out["notes"]]
    print_pairs(pairs, title=f"wattlas serve --disaggregated: {out['model']} on "
                             f"{out['accelerator']} ({out['precision']} weights, "
                             f"{out['kv_precision']} KV)")
    if out.get("comparison"):
        print_table(out["comparison"], ["mode", "gpus", "prefill_gpus", "decode_gpus",
                                        "ttft_s", "tpot_s", "energy_per_token_j",
                                        "infeasible"],
                    title=f"aggregated vs disaggregated at {out['rate_per_s']:g} req/s")
