"""The plan as Markdown (``report.md``): the same numbers as ``plan.json``, by key path.

Every table names the plan.json key of each number (a key path in the first column, or the
contract key as the column header) and prints it with 6 significant digits, with a human-unit
column beside it; tests parse these tables back and compare them with ``plan.json``.
"""

from __future__ import annotations

from typing import Any

from . import (
    ALLOCATION,
    ALLOCATION_SITE_COLUMNS,
    BUDGET,
    COMPARE_COLUMNS,
    COMPARE_INTRO,
    GEO,
    GEO_SITE_COLUMNS,
    GIB,
    OBJECTIVE_COLUMNS,
    best_region,
    budget_lines,
    compare_line,
    compare_rows,
    exact,
    geo_text,
    hardware_label,
    labelled_rows,
    lookup,
    site_demand_text,
    summary_rows,
    with_human,
)

REGION_COLUMNS = ("region", "rank", "feasible", "pareto", "time_to_power_years_low",
                  "time_to_power_years_high", "energy_cost_usd_per_year", "co2e_kg_per_year")
POLICY_COLUMNS = ("policy", "offered", "completed", "rejected", "ttft_p50_s", "ttft_p99_s",
                  "e2e_p99_s", "slo_attainment_frac", "energy_per_token_j", "co2e_g_per_request")
SESSION_COLUMNS = ("sessions_completed", "session_latency_p50_s", "session_latency_p95_s",
                   "session_latency_p99_s")
ONE_CALL_SESSIONS = ("One call per session: session latency is the E2E latency (set "
                     "routing.session.calls for multi-call agent sessions).")


def multi_call_sessions(policies: list[dict[str, Any]]) -> bool:
    """Whether sessions have several calls (fewer sessions than requests offered)."""
    return any(r.get("sessions_offered") is not None and r["sessions_offered"] != r["offered"]
               for r in policies)


def policy_columns(policies: list[dict[str, Any]]) -> tuple[str, ...]:
    """:data:`POLICY_COLUMNS`, with the session latency quantiles after the E2E latency where
    sessions have several calls (with one call a session's latency is its E2E latency)."""
    if not multi_call_sessions(policies):
        return POLICY_COLUMNS
    return (*POLICY_COLUMNS[:7], *SESSION_COLUMNS, *POLICY_COLUMNS[7:])


def session_note(policies: list[dict[str, Any]]) -> str:
    """:data:`ONE_CALL_SESSIONS` where the policies report one-call sessions, else ''."""
    one = any("sessions_offered" in r for r in policies) and not multi_call_sessions(policies)
    return ONE_CALL_SESSIONS if one else ""


def _cell(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, list):
        return "; ".join(str(x) for x in v).replace("|", "/")
    if isinstance(v, int | float):
        return exact(v)
    return str(v).replace("|", "/")


def table(rows: list[dict[str, Any]], columns: tuple[str, ...] | list[str]) -> list[str]:
    """A Markdown table of `rows` with the plan.json keys as headers (in code font; a
    human-unit column such as 'facility [MW]' in plain text)."""
    cols = [c for c in columns if any(c in r for r in rows)]
    out = ["| " + " | ".join(f"`{c}`" if c.isidentifier() else c for c in cols) + " |",
           "|" + "|".join("---" for _ in cols) + "|"]
    for r in rows:
        out.append("| " + " | ".join(_cell(r.get(c)) for c in cols) + " |")
    return out


def keyed(prefix: str, values: dict[str, Any], human=None) -> list[str]:
    """A (key path, value, human) table of a flat dict of numbers."""
    out = ["| key | value | |", "|---|---:|---|"]
    for k, v in values.items():
        if isinstance(v, int | float) and not isinstance(v, bool):
            out.append(f"| `{prefix}.{k}` | {exact(v)} | {human(v) if human else ''} |")
    return out


def labelled(rows: list[dict[str, str]]) -> list[str]:
    """A (key path, value, human, label) table of :func:`wattlas.report.labelled_rows`."""
    out = ["| key | value | | |", "|---|---:|---|---|"]
    return out + [f"| `{r['path']}` | {r['value']} | {r['human']} | {r['label']} |"
                  for r in rows]


def human_table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> list[str]:
    """:func:`table` with a human-unit column after each power (:func:`with_human`)."""
    return table(*with_human(rows, columns))


def escape_text(text: str) -> str:
    """User text made inert in Markdown: no raw HTML or autolinks (``<``, ``>``, ``&`` as
    entities), no code spans, links or images (backticks and ``](`` escaped), no table
    breaks (``|``) and no line breaks that could start a heading or a list."""
    text = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\\", "\\\\").replace("`", "\\`").replace("](", "\\](")
            .replace("|", "/"))
    lines = text.splitlines()
    return " ".join(lines) if len(lines) > 1 else text


def _escaped(obj: Any) -> Any:
    """`obj` with every text value passed through :func:`escape_text` (keys and numbers as
    they are)."""
    if isinstance(obj, str):
        return escape_text(obj)
    if isinstance(obj, dict):
        return {k: _escaped(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_escaped(v) for v in obj]
    return obj


def render(plan: dict[str, Any]) -> str:
    """The whole report as Markdown text; every text value of `plan` (scenario name, ids,
    notes) is escaped first (:func:`escape_text`), as the HTML report escapes it."""
    plan = _escaped(plan)
    md = [f"# wattlas plan: {plan['scenario']}", "",
          f"wattlas {plan['wattlas_version']}; stages run: {', '.join(plan['stages'])}.", ""]
    rows = summary_rows(plan)
    if rows:
        md += ["## Summary", ""] + labelled(rows)
    best = best_region(plan)
    if best:
        md += ["", f"Best-ranked region: **{best['region']}** (Pareto: "
                   f"{'yes' if best.get('pareto') else 'no'})."]
    tr = plan.get("training")
    if tr:
        p = tr["parallelism"]
        md += ["", "## Training", "",
               f"{tr['model']} on {tr['gpus']:,} × {tr['accelerator']} ({tr['precision']}), "
               f"fits: {'yes' if tr['fits'] else 'no'}. Layout: "
               + ", ".join(f"{k}={v}" for k, v in p.items()) + ".", ""]
        md += ["### Step time breakdown", ""]
        md += keyed("training.breakdown_s", tr.get("breakdown_s", {}),
                    lambda v: f"{v * 1e3:,.1f} ms")
        md += ["", "### Memory per GPU", ""]
        md += keyed("training.memory_bytes", tr.get("memory_bytes", {}),
                    lambda v: f"{v / GIB:.2f} GiB")
        geo = tr.get("geo")
        if geo:
            md += ["", "### Geo-distributed training", "", geo_text(geo), ""]
            md += labelled(labelled_rows(plan, GEO))
            md += [""] + human_table(geo["sites"], GEO_SITE_COLUMNS)
    budget = plan.get("budget")
    if budget:
        md += ["", "## Compute budget", ""] + labelled(labelled_rows(plan, BUDGET))
        md += [""] + [f"- {line}" for line in budget_lines(budget)]
    sv = plan.get("serving")
    if sv:
        md += ["", "## Serving", ""]
        md += keyed("serving", {k: v for k, v in sv.items() if not isinstance(v, dict | list)})
    en = plan.get("energy")
    if en:
        md += ["", "## Power and energy", ""]
        md += keyed("energy", {k: v for k, v in en.items() if not isinstance(v, dict | list)})
        md += [""] + [f"- {line}" for line in en.get("energy_summary", [])]
        for label in ("inputs_given", "inputs_predicted", "defaults_used"):
            if en.get(label):
                md += [f"- {label.replace('_', ' ')}: {'; '.join(map(str, en[label]))}"]
        for part in ("components_w", "components_j"):
            if isinstance(en.get(part), dict):
                md += [""] + keyed(f"energy.{part}", en[part])
    site = plan.get("site")
    if site:
        md += ["", "## Site ranking", "",
               f"Demand: {site_demand_text(site)}, "
               f"{site['rack_power_w'] / 1e3:,.0f} kW per rack, {site['cooling']} cooling.", ""]
        md += table(site["regions"], REGION_COLUMNS)
        reasons = [(r["region"], r.get("reasons")) for r in site["regions"] if r.get("reasons")]
        if reasons:
            md += [""] + [f"- {rid}: {'; '.join(map(str, why))}" for rid, why in reasons]
        alloc = site.get("allocation")
        if alloc and alloc.get("feasible"):
            md += ["", "### Allocation", ""] + labelled(labelled_rows(plan, ALLOCATION))
            md += [""] + human_table(alloc["sites"], ALLOCATION_SITE_COLUMNS)
            if alloc.get("objective_terms"):
                md += ["", "Objective terms:", ""]
                md += table(alloc["objective_terms"], OBJECTIVE_COLUMNS)
            if alloc.get("left_out"):
                md += [""] + [f"- left out {e['region']}: {e['reason']}"
                              for e in alloc["left_out"]]
        elif alloc:
            md += ["", "### Allocation", "", f"Allocation infeasible: {alloc['reason']}"]
    rows = compare_rows(plan)
    if rows:
        md += ["", "## Hardware comparison", "", COMPARE_INTRO, ""]
        md += table(rows, COMPARE_COLUMNS)
        md += [""] + [f"- {hardware_label(r)}: {compare_line(r)}" for r in rows]
    route = plan.get("route")
    if route and route.get("policies"):
        md += ["", "## Routing", ""]
        md += table(route["policies"], policy_columns(route["policies"]))
        note = session_note(route["policies"])
        md += ["", note] if note else []
    gov = plan.get("governance") or {}
    md += ["", "## Governance", ""]
    if gov.get("compute"):
        md += [f"Training compute `governance.training_compute_flop` = "
               f"{exact(gov['training_compute_flop'])} FLOP.", ""]
        md += table(gov["compute"], ("instrument", "jurisdiction", "threshold_flop", "crossed",
                                     "status", "status_date", "ratio", "effective", "note"))
        md += [""]
    if not gov.get("compute") and not gov.get("accelerators"):
        md += ["Not asked for (no training run and no accelerator named)."]
    if gov.get("accelerators"):
        md += table(gov["accelerators"], ("accelerator", "tpp", "tpp_precision",
                                          "performance_density", "eccn", "reason", "rule",
                                          "rule_date"))
    if plan.get("notes"):
        md += ["", "## Notes", ""] + [f"- {n}" for n in plan["notes"]]
    md += ["", "All numbers are SI (the key suffix names the unit); the human column converts.",
           ""]
    return "\n".join(md)


__all__ = ["render", "table", "keyed", "lookup"]
