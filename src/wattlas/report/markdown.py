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
    HUMAN_COLUMNS,
    INTERVAL_COLUMNS,
    OBJECTIVE_COLUMNS,
    TORNADO_COLUMNS,
    UNCERTAINTY_INTRO,
    best_region,
    budget_lines,
    compare_line,
    compare_rows,
    exact,
    geo_text,
    hardware_label,
    has_human,
    human,
    interval_rows,
    labelled_rows,
    lookup,
    site_demand_text,
    summary_rows,
    tornado_rows,
    with_human,
)

#: what the site table's `score` and `rank` mean (grid.siting.rank)
SCORE_NOTE = ("`score`: Σ w·(x − min)/(max − min) over time to full power, annual energy "
              "cost, annual CO2e (and latency where users are given), min and max taken over "
              "the candidates (feasible regions with every metric known), default weights 1; "
              "0 = best on every weighted metric, lower ranks first. An infeasible region or "
              "one with data missing has no score or rank and is listed after the ranked ones.")
#: what the routing cost column counts
ROUTE_COST_NOTE = ("`cost_usd_per_million_tokens` counts electricity only (energy × the "
                   "site's price); hardware and GPU-hours are not in it.")
REGION_COLUMNS = ("region", "rank", "score", "feasible", "pareto", "time_to_power_years_low",
                  "time_to_power_years_high", "energy_cost_usd_per_year", "co2e_kg_per_year")
POLICY_COLUMNS = ("policy", "offered", "completed", "rejected", "ttft_p50_s", "ttft_p99_s",
                  "e2e_p99_s", "slo_attainment_frac", "energy_per_token_j", "co2e_g_per_request",
                  "cost_usd_per_million_tokens")
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


#: how a report table shows a number the plan does not have (never a dash that reads as zero)
MISSING = "unknown"


def _cell(v: Any) -> str:
    if v is None:
        return MISSING
    if isinstance(v, list):
        return "; ".join(str(x) for x in v).replace("|", "/")
    if isinstance(v, int | float):
        return exact(v)
    return str(v).replace("|", "/")


def _with_approx(c: str, cols: list[str]) -> bool:
    """Whether column `c` gets a "≈" column (not when a human column for it is already shown)."""
    return has_human(c) and (c not in HUMAN_COLUMNS or HUMAN_COLUMNS[c][0] not in cols)


def table(rows: list[dict[str, Any]], columns: tuple[str, ...] | list[str]) -> list[str]:
    """A Markdown table of `rows` with the plan.json keys as headers (in code font; a
    human-unit column such as 'facility [MW]' in plain text)."""
    cols = [c for c in columns if any(c in r for r in rows)]
    heads = []
    for c in cols:
        heads.append(f"`{c}`" if c.isidentifier() else c)
        if _with_approx(c, cols):
            heads.append("≈")  # the number beside it in people's units
    out = ["| " + " | ".join(heads) + " |", "|" + "|".join("---" for _ in heads) + "|"]
    for r in rows:
        cells = []
        for c in cols:
            cells.append(_cell(r.get(c)))
            if _with_approx(c, cols):
                cells.append(human(c, r.get(c)) if isinstance(r.get(c), int | float) else "")
        out.append("| " + " | ".join(cells) + " |")
    return out


def keyed(prefix: str, values: dict[str, Any], show=None) -> list[str]:
    """A (key path, value, ≈ in people's units) table of a flat dict of numbers (`show`, else
    the unit suffix of the key or of its parent, :func:`wattlas.report.human`)."""
    out = ["| key | value | ≈ |", "|---|---:|---|"]
    for k, v in values.items():
        if isinstance(v, int | float) and not isinstance(v, bool):
            unit_key = k if has_human(k) else prefix.rsplit(".", 1)[-1]  # components_w.GPUs
            shown = show(v) if show else human(unit_key, v)
            out.append(f"| `{prefix}.{k}` | {exact(v)} | {shown} |")
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
        md += ["", SCORE_NOTE]
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
        if any("cost_usd_per_million_tokens" in r for r in route["policies"]):
            md += ["", ROUTE_COST_NOTE]
        note = session_note(route["policies"])
        md += ["", note] if note else []
    unc = plan.get("uncertainty")
    if unc:
        md += ["", "## Ranges and what moves them", "",
               f"{UNCERTAINTY_INTRO} {unc['samples']:,} draws, seed {unc['seed']}.", ""]
        md += table(interval_rows(plan), INTERVAL_COLUMNS)
        if unc.get("inputs"):
            md += [""] + table(unc["inputs"], ("key", "dist", "low", "median", "high"))
        if unc.get("tornado"):
            md += ["", "What moves the answer most (one input alone, from its P10 to its P90):", ""]
            md += table(tornado_rows(plan), TORNADO_COLUMNS)
    gov = plan.get("governance") or {}
    if gov.get("compute") or gov.get("accelerators"):
        md += ["", "## Governance", ""]
    if gov.get("compute"):
        md += [f"Training compute `governance.training_compute_flop` = "
               f"{exact(gov['training_compute_flop'])} FLOP.", ""]
        md += table(gov["compute"], ("instrument", "jurisdiction", "threshold_flop", "crossed",
                                     "status", "status_date", "ratio", "effective", "note"))
        md += [""]
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
