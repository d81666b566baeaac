"""The plan as one self-contained HTML page (``report.html``): inline CSS, inline SVG charts, no
scripts, no external fonts or images, so it opens offline and prints cleanly."""

from __future__ import annotations

from html import escape
from typing import Any

from . import (
    ALLOCATION,
    ALLOCATION_SITE_COLUMNS,
    BUDGET,
    COMPARE_COLUMNS,
    COMPARE_INTRO,
    GEO,
    GEO_SITE_COLUMNS,
    HUMAN_COLUMNS,
    INTERVAL_COLUMNS,
    OBJECTIVE_COLUMNS,
    TORNADO_COLUMNS,
    UNCERTAINTY_INTRO,
    best_region,
    budget_lines,
    charts,
    compare_line,
    compare_rows,
    exact,
    geo_text,
    hardware_label,
    has_human,
    human,
    interval_rows,
    labelled_rows,
    markdown,
    site_demand_text,
    summary_rows,
    tornado_nominal,
    tornado_rows,
    with_human,
)

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:0;
color:#1b1b1b;background:#fff;line-height:1.45}
main{max-width:980px;margin:0 auto;padding:24px}
h1{font-size:1.6em;margin:0 0 4px}h2{border-bottom:2px solid #0072B2;padding-bottom:2px;
margin-top:32px}
table{border-collapse:collapse;margin:8px 0 16px;font-size:0.9em}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}td.num{text-align:right;
font-variant-numeric:tabular-nums}th{background:#f2f5f8}
code{font-size:0.85em;color:#555}.muted{color:#666}.not-asked{color:#666;font-style:italic}
td.missing{color:#999;font-style:italic}
.charts{display:flex;flex-direction:column;gap:16px}svg.chart{width:100%;height:auto;
border:1px solid #eee;background:#fff}
.card{display:inline-block;min-width:150px;margin:4px 8px 4px 0;padding:8px 12px;
border:1px solid #ddd;border-radius:6px}.card b{display:block;font-size:1.3em}
.wide{overflow-x:auto;max-width:100%}
@media print{h2{break-after:avoid}svg.chart{break-inside:avoid}}
"""


def _with_approx(c: str, cols: list[str]) -> bool:
    """Whether column `c` gets a "≈" column (not when a human column for it is already shown)."""
    return has_human(c) and (c not in HUMAN_COLUMNS or HUMAN_COLUMNS[c][0] not in cols)


def _table(rows: list[dict[str, Any]], columns: tuple[str, ...] | list[str]) -> str:
    """A table of `rows` with the plan keys as headers; a number with a unit suffix gets a
    "≈" column in people's units beside its SI value; a number the plan lacks reads
    "unknown" (never a dash that reads as zero)."""
    cols = [c for c in columns if any(c in r for r in rows)]
    head = "".join(f"<th>{escape(c)}</th>"
                   + ("<th title='in people&#39;s units'>≈</th>" if _with_approx(c, cols) else "")
                   for c in cols)
    body = []
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c)
            if _with_approx(c, cols):
                extra = (f'<td class="num">{escape(human(c, v))}</td>'
                         if isinstance(v, int | float) and not isinstance(v, bool) else "<td></td>")
            else:
                extra = ""
            if v is None:
                cells.append(f'<td class="missing">{markdown.MISSING}</td>{extra}')
            elif isinstance(v, bool):
                cells.append(f"<td>{'yes' if v else 'no'}</td>")
            elif isinstance(v, int | float):
                cells.append(f'<td class="num">{exact(v)}</td>{extra}')
            elif isinstance(v, list):
                cells.append(f"<td>{escape('; '.join(map(str, v)))}</td>")
            else:
                cells.append(f"<td>{escape(str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _labelled(rows: list[dict[str, str]]) -> str:
    """A (quantity, value in people's units, plan.json key, exact value) table of
    :func:`wattlas.report.labelled_rows`."""
    return _table([{"quantity": r["label"], "value": r["human"], "plan.json key": r["path"],
                    "exact": r["value"]} for r in rows],
                  ("quantity", "value", "plan.json key", "exact"))


def _list(lines: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(str(x))}</li>" for x in lines) + "</ul>" if lines else ""


def _geo(plan: dict[str, Any]) -> str:
    geo = plan["training"].get("geo")
    if not geo:
        return ""
    return (f"<h3>Geo-distributed training</h3><p>{escape(geo_text(geo))}</p>"
            + _labelled(labelled_rows(plan, GEO))
            + _table(*with_human(geo.get("sites") or [], GEO_SITE_COLUMNS)))


def _allocation(plan: dict[str, Any]) -> str:
    alloc = plan["site"].get("allocation")
    if not alloc:
        return ""
    if not alloc.get("feasible"):
        return f"<h3>Allocation</h3><p>Allocation infeasible: {escape(str(alloc['reason']))}</p>"
    terms = alloc.get("objective_terms") or []
    return ("<h3>Allocation</h3>" + _labelled(labelled_rows(plan, ALLOCATION))
            + '<div class="wide">'
            + _table(*with_human(alloc["sites"], ALLOCATION_SITE_COLUMNS)) + "</div>"
            + (("<p>Objective terms:</p>" + _table(terms, OBJECTIVE_COLUMNS)) if terms else "")
            + _list([f"left out {e['region']}: {e['reason']}"
                     for e in alloc.get("left_out") or []]))


def _reasons(regions: list[dict[str, Any]]) -> str:
    items = [f"<li><b>{escape(str(r['region']))}</b>: {escape('; '.join(map(str, r['reasons'])))}"
             "</li>" for r in regions if r.get("reasons")]
    return f"<p>Why regions are infeasible:</p><ul>{''.join(items)}</ul>" if items else ""


def _section(title: str, *parts: str) -> str:
    return f"<section><h2>{escape(title)}</h2>{''.join(parts)}</section>"


def _route_series(route: dict[str, Any] | None) -> tuple[dict, str, list, dict]:
    """(TTFT quantiles per policy [s], the policy whose load is drawn, times [s], utilisation
    per site) from the route section, where given."""
    if not route:
        return {}, "", [], {}
    lat = route.get("ttft_quantiles_s") or {}
    loads = route.get("site_load") or {}
    if not loads:
        return lat, "", [], {}
    policy = next(iter(loads))
    rows = [r for r in loads[policy] if r.get("series_t_s")]
    if not rows:
        return lat, policy, [], {}
    times = rows[0]["series_t_s"]
    per_site = {r["site"]: r["series_utilisation_frac"] for r in rows
                if len(r.get("series_utilisation_frac") or []) == len(times)}
    return lat, policy, times, per_site


def render(plan: dict[str, Any]) -> str:
    """The whole report as an HTML document (a string)."""
    tr, en, site = plan.get("training"), plan.get("energy"), plan.get("site")
    cards = "".join(f'<div class="card"><span class="muted">{escape(r["label"])}</span>'
                    f'<b>{escape(r["human"])}</b><code>{escape(r["path"])} = '
                    f'{escape(r["value"])}</code></div>' for r in summary_rows(plan))
    best = best_region(plan)
    head = (f"<h1>wattlas plan: {escape(str(plan['scenario']))}</h1>"
            f"<p class='muted'>wattlas {escape(plan['wattlas_version'])}; stages run: "
            f"{escape(', '.join(plan['stages']))}."
            + (f" Best-ranked region: <b>{escape(best['region'])}</b>." if best else "")
            + "</p>")
    parts = [head] + ([_section("Summary", cards)] if cards else [])

    if tr:
        lay = ", ".join(f"{k}={v}" for k, v in tr["parallelism"].items())
        parts.append(_section(
            "Training",
            f"<p>{escape(tr['model'])} on {tr['gpus']:,} × {escape(tr['accelerator'])} "
            f"({escape(tr['precision'])}); layout {escape(lay)}; fits: "
            f"{'yes' if tr['fits'] else '<b>no</b>'}.</p>",
            '<div class="charts">',
            charts.step_time_breakdown(tr.get("breakdown_s")),
            charts.memory_per_gpu(tr.get("memory_bytes"), tr.get("hbm_bytes")),
            "</div>", _geo(plan)))

    if plan.get("budget"):
        parts.append(_section("Compute budget", _labelled(labelled_rows(plan, BUDGET)),
                              _list(budget_lines(plan["budget"]))))

    if plan.get("serving"):
        sv = plan["serving"]
        rows = [{"key": f"serving.{k}", "value": v, "≈": human(k, v)} for k, v in sv.items()
                if isinstance(v, int | float) and not isinstance(v, bool)]
        parts.append(_section("Serving", _table(rows, ["key", "value", "≈"])))

    if en:
        rows = [{"key": f"energy.{k}", "value": v, "≈": human(k, v)} for k, v in en.items()
                if isinstance(v, int | float) and not isinstance(v, bool)]
        lines = [*en.get("energy_summary", []),
                 *(f"{k.replace('_', ' ')}: {'; '.join(map(str, en[k]))}"
                   for k in ("inputs_given", "inputs_predicted", "defaults_used") if en.get(k))]
        parts.append(_section(
            "Power and energy",
            _list(lines), _table(rows, ["key", "value", "≈"]), '<div class="charts">',
            charts.power_by_component(en.get("components_w")),
            charts.energy_by_component(en.get("components_j")), "</div>"))

    mp = plan.get("map") or {}
    if site:
        parts.append(_section(
            "Site ranking",
            f"<p>Demand {escape(site_demand_text(site))}, "
            f"{site['rack_power_w'] / 1e3:,.0f} kW racks, {escape(site['cooling'])} "
            "cooling.</p>",
            '<div class="charts">', charts.region_scatter(site["regions"]),
            charts.site_map(mp.get("sites"), mp.get("users")), *_site_supply_charts(site),
            "</div>",
            f'<div class="wide">{_table(site["regions"], markdown.REGION_COLUMNS)}</div>',
            f"<p class='muted'>{escape(markdown.SCORE_NOTE)}</p>",
            _reasons(site["regions"]),
            _allocation(plan)))
    elif mp.get("sites") or mp.get("users"):
        parts.append(_section("Sites and users",
                              charts.site_map(mp.get("sites"), mp.get("users"))))

    rows = compare_rows(plan)
    if rows:
        parts.append(_section(
            "Hardware comparison",
            f"<p>{escape(COMPARE_INTRO)}</p>",
            "<ul>" + "".join(f"<li><b>{escape(hardware_label(r))}</b>: "
                             f"{escape(compare_line(r))}</li>" for r in rows) + "</ul>",
            '<div class="charts">', charts.hardware_comparison(plan["compare"]["rows"]),
            '</div><div class="wide">', _table(rows, COMPARE_COLUMNS), "</div>"))

    route = plan.get("route")
    lat, policy, times, per_site = _route_series(route)
    pols = (route or {}).get("policies") or []
    note = markdown.session_note(pols)
    cost = markdown.ROUTE_COST_NOTE if any("cost_usd_per_million_tokens" in r
                                           for r in pols) else ""
    if route:
        parts.append(_section(
            "Routing",
            f'<div class="wide">{_table(pols, markdown.policy_columns(pols))}</div>'
            if pols else "",
            f"<p class='muted'>{escape(cost)}</p>" if cost else "",
            f"<p class='muted'>{escape(note)}</p>" if note else "",
            '<div class="charts">', charts.latency_cdf(lat),
            charts.site_load(times, per_site, "utilisation [fraction of slots]",
                             f"Per-site load over time ({policy})" if policy else None),
            "</div>"))

    unc = plan.get("uncertainty")
    if unc:
        parts.append(_section(
            "Ranges and what moves them",
            f"<p>{escape(UNCERTAINTY_INTRO)} {unc['samples']:,} draws, seed {unc['seed']}.</p>",
            _table(interval_rows(plan), INTERVAL_COLUMNS),
            _table(unc["inputs"], ("key", "dist", "low", "median", "high"))
            if unc.get("inputs") else "",
            '<div class="charts">', charts.tornado(unc.get("tornado"), tornado_nominal(plan)),
            "</div>", _table(tornado_rows(plan), TORNADO_COLUMNS)))

    gov = plan.get("governance") or {}
    gparts = []
    if gov.get("compute"):
        gparts.append(f"<p>Training compute {exact(gov['training_compute_flop'])} FLOP.</p>")
        gparts.append(_table(gov["compute"], ("instrument", "jurisdiction", "threshold_flop",
                                              "crossed", "status", "status_date", "ratio",
                                              "effective", "note", "source")))
    if gov.get("accelerators"):
        gparts.append(_table(gov["accelerators"], ("accelerator", "tpp", "tpp_precision",
                                                   "die_area_mm2", "performance_density",
                                                   "eccn", "reason", "rule", "rule_date")))
    if gparts:
        parts.append(_section("Governance", *gparts))
    if plan.get("notes"):
        parts.append(_section("Notes", "<ul>" + "".join(
            f"<li>{escape(n)}</li>" for n in plan["notes"]) + "</ul>"))
    parts.append("<p class='muted'>All numbers SI; key suffixes name the unit. Generated "
                 "offline by wattlas; this page loads nothing from the network.</p>")
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>wattlas plan: {escape(str(plan['scenario']))}</title>"
            f"<style>{CSS}</style></head><body><main>{''.join(parts)}</main></body></html>")


def _site_supply_charts(site: dict[str, Any]) -> list[str]:
    """Curtailment trade-off, grid vs hybrid supply and the bill by item of the first region
    with a known cost (the best ranked), where the plan asked for them."""
    out = []
    if site.get("curtailment_tradeoff"):
        out.append(charts.curtailment_tradeoff(site["curtailment_tradeoff"]))
    best = next((r for r in site["regions"] if r.get("energy_cost_usd_per_year") is not None),
                None)
    if best is not None and best.get("supply_options"):
        out.append(charts.supply_comparison(best["supply_options"], best["region"]))
    if best is not None and best.get("cost_by_payer"):
        out.append(charts.cost_by_payer(best["cost_by_payer"], best["region"]))
    return out
