"""Request-level simulation of routing across sites: the event loop and the orchestrator.

Each site is a FIFO multi-server queue with ``slots = replicas × batch_cap`` servers (one per
sequence a replica can batch under its KV-cache and power limits), kept as a heap of
slot-free times (Kiefer–Wolfowitz recursion: start = max(arrival, earliest free slot); Kiefer &
Wolfowitz 1955, Trans. AMS 78:1). A request's service is TTFT(prompt, b) followed by
(n_out − 1) steps of ``step(b)``, where b is the per-replica batch at dispatch and both come
from the one capacity model of ``wattlas serve`` (continuous batching, prefill chunked into
the decode steps; the batch frozen at admission is a documented simplification).
Arrivals are processed in order of the user's send time; agent-session follow-ups enter a
second heap when their previous call completes. The router predicts each site's TTFT/E2E from
that state (see :mod:`policies`).

References: Kleinrock, *Queueing Systems* Vol. 1 (1975) for M/M/c; Little (1961) for L = λW;
Agrawal et al., "Vidur" (MLSys 2024) for the events / entities / policies / metrics split.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from ..units import SECONDS_PER_HOUR
from . import metrics as mx
from . import policies as pol
from .events import Workload, diurnal_multipliers, generate
from .sites import ServiceModel, Site, replicas_for_cap

INF = float("inf")


@dataclass(frozen=True)
class Log:
    """Event log of one policy run; arrays indexed by call i (NaN / −1 where not offered)."""

    offered: np.ndarray  # bool
    site: np.ndarray  # int, −1 = rejected or not offered
    region: np.ndarray  # int
    arrival_s: np.ndarray  # a: sent by the user
    site_arrival_s: np.ndarray  # a + RTT/2
    start_s: np.ndarray  # service start at the site
    end_s: np.ndarray  # last token at the site
    first_token_s: np.ndarray  # f at the user
    completion_s: np.ndarray  # c at the user
    rtt_s: np.ndarray
    output_tokens: np.ndarray
    calls: int = 1  # k: calls i = s·k … s·k + k − 1 form session s

    @property
    def completed(self) -> np.ndarray:
        return self.site >= 0


@dataclass(frozen=True)
class RoutingResult:
    """Per-policy metrics (``policies``), per-site load (``sites`` per policy) and logs."""

    policies: list[dict[str, Any]]
    site_load: dict[str, list[dict[str, Any]]]
    logs: dict[str, Log] = field(repr=False)
    sites: list[Site] = field(repr=False)
    calls: int = 1  # calls per session (k)


def simulate_policy(sites: list[Site], rtt_s: np.ndarray, wl: Workload, policy: pol.Policy,
                    slo: dict[str, float] | None = None, admission: bool = True,
                    start_hour_utc: float = 0.0, progress: bool = False) -> Log:
    """Run one policy over the workload; returns the event log."""
    slo = slo or {}
    s_ttft, s_tpot, s_e2e = (slo.get(k) or INF for k in ("ttft_s", "tpot_s", "e2e_s"))
    k = wl.calls
    n_sess = len(wl.first_arrival_s)
    n = n_sess * k
    order = policy.order(rtt_s, sites).tolist()
    kind = policy.kind
    rtt = rtt_s.tolist()
    half = (rtt_s / 2).tolist()
    free = [[0.0] * s.slots for s in sites]
    active: list[list[float]] = [[] for _ in sites]
    rep = [s.replicas for s in sites]
    bcap = [s.batch_cap for s in sites]
    dec = [s.service.decode_table_s.tolist() for s in sites]
    expo = [s.service.exponential_mean_s for s in sites]
    # TTFT(prompt, b) by linear interpolation in the prompt on each site's table: per site a
    # grid index and weight per request, and the table's rows by batch
    grid_at: dict[int, tuple[list, list, list, list]] = {}
    for s in sites:
        svc = s.service
        if id(svc) not in grid_at:
            g = svc.prefill_tokens
            x = np.clip(wl.prompt_tokens.astype(float), g[0], g[-1])
            j = np.clip(np.searchsorted(g, x, side="right") - 1, 0, len(g) - 2)
            w = (x - g[j]) / (g[j + 1] - g[j])
            tab = svc.ttft_table()
            grid_at[id(svc)] = (j.tolist(), w.tolist(), tab[:, :-1].tolist(),
                                (tab[:, 1:] - tab[:, :-1]).tolist())
    pre_j, pre_w, pre_t, pre_d = (list(x) for x in zip(*(grid_at[id(s.service)]
                                                          for s in sites), strict=True))
    outs = wl.output_tokens.tolist()
    work = wl.work.tolist()
    first = wl.first_arrival_s.tolist()
    regs = wl.region.tolist()
    h0 = start_hour_utc
    hop = heapq.heappop
    out_site = [-1] * n
    out_reg = [-1] * n
    out = {key: [math.nan] * n for key in ("a", "ts", "st", "en", "f", "c", "rtt")}
    oa, ots, ost, oen, of, oc, ortt = (out[x] for x in ("a", "ts", "st", "en", "f", "c", "rtt"))
    pend: list[tuple[float, int, int]] = []
    bar = _progress(n) if progress else None

    def predict(s: int, t: float, r: int, i: int) -> tuple:
        ts = t + half[r][s]
        act = active[s]
        while act and act[0] <= ts:
            hop(act)
        b = len(act) // rep[s] + 1
        if b > bcap[s]:
            b = bcap[s]
        fr = free[s][0]
        start = fr if fr > ts else ts
        if expo[s] is not None:
            step, p, dur = 0.0, 0.0, expo[s] * work[i]
        else:
            step = dec[s][b - 1]
            j = pre_j[s][i]
            p = pre_t[s][b - 1][j] + pre_w[s][i] * pre_d[s][b - 1][j]
            dur = (outs[i] - 1) * step
        ttft = rtt[r][s] + (start - ts) + p
        e2e = ttft + dur
        ok = ttft <= s_ttft and e2e <= s_e2e and step <= s_tpot
        return ok, e2e, ts, start, p, dur, fr <= ts

    i_sess = 0
    done = 0
    while i_sess < n_sess or pend:
        if pend and (i_sess >= n_sess or pend[0][0] < first[i_sess]):
            t, i, r = hop(pend)
        else:
            t, r, i = first[i_sess], regs[i_sess], i_sess * k
            i_sess += 1
        oa[i] = t
        out_reg[i] = r
        pref = order[int(t / SECONDS_PER_HOUR + h0) % 24][r]
        choice = None
        if kind == "first":
            choice = predict(pref[0], t, r, i) + (pref[0],)
            if admission and not choice[0]:
                if not any(predict(s, t, r, i)[0] for s in pref[1:]):
                    choice = None
        else:
            preds = [predict(s, t, r, i) + (s,) for s in pref]
            if kind == "fit":
                choice = next((x for x in preds if x[0]), None)
            elif kind == "free":
                choice = next((x for x in preds if x[0] and x[6]), None)
            if choice is None:
                fits = [x for x in preds if x[0]]
                if fits or not admission:
                    choice = min(fits or preds, key=lambda x: x[1])
        done += 1
        if bar is not None and not done & 0x3FFF:
            bar[0].update(bar[1], completed=done)
        if choice is None:
            continue  # rejected: the session stops here
        _, _, ts, start, p, dur, _, s = choice
        end = start + p + dur
        heapq.heapreplace(free[s], end)
        heapq.heappush(active[s], end)
        h = half[r][s]
        out_site[i] = s
        ots[i], ost[i], oen[i], ortt[i] = ts, start, end, rtt[r][s]
        of[i] = start + p + h
        oc[i] = end + h
        if i % k < k - 1:
            heapq.heappush(pend, (oc[i] + wl.tool_s, i + 1, r))
    if bar is not None:
        bar[0].update(bar[1], completed=done)
        bar[0].stop()
    a = np.array(oa)
    return Log(offered=~np.isnan(a), site=np.array(out_site), region=np.array(out_reg),
               arrival_s=a, site_arrival_s=np.array(ots), start_s=np.array(ost),
               end_s=np.array(oen), first_token_s=np.array(of), completion_s=np.array(oc),
               rtt_s=np.array(ortt), output_tokens=wl.output_tokens, calls=k)


def _progress(total: int):
    if total < 200_000:
        return None
    from rich.progress import Progress

    prog = Progress(transient=True)
    prog.start()
    return prog, prog.add_task("simulating requests", total=total)


def summarize(policy: str, log: Log, sites: list[Site], slo: dict[str, float] | None,
              start_hour_utc: float = 0.0, horizon_s: float | None = None,
              ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Policy metrics (see :mod:`metrics`) and per-site load of one run. Energy integrates
    every site's power (idle included) over [0, horizon_s]; default: the run's last event.
    Pass one common horizon when comparing policies so idle energy is counted alike."""
    slo = slo or {}
    done = log.completed
    offered = int(log.offered.sum())
    n_done = int(done.sum())
    a, f, c = log.arrival_s[done], log.first_token_s[done], log.completion_s[done]
    nout = log.output_tokens[done].astype(float)
    ttft, e2e = f - a, c - a
    with np.errstate(invalid="ignore", divide="ignore"):
        tpot = np.where(nout > 1, (c - f) / np.maximum(nout - 1, 1), 0.0)
    ok = np.ones(n_done, dtype=bool)
    for key, x in (("ttft_s", ttft), ("tpot_s", tpot), ("e2e_s", e2e)):
        if slo.get(key):
            ok &= x <= slo[key] * (1 + 1e-9)
    t0 = float(np.nanmin(log.arrival_s)) if offered else 0.0
    horizon = float(np.nanmax(log.end_s)) if n_done else 1.0
    horizon = max(horizon, float(np.nanmax(log.arrival_s)) if offered else 0.0, 1e-9)
    if horizon_s is not None:
        horizon = max(horizon, horizon_s)
    loads = []
    e_tot = co2 = cost = 0.0
    for j, s in enumerate(sites):
        m = log.site == j
        en = mx.site_energy(s, log.start_s[m], log.end_s[m], horizon, start_hour_utc)
        e_tot += en["energy_j"]
        co2 += en["co2e_g"]
        cost += en["energy_cost_usd"]
        ll = mx.littles_law(log.site_arrival_s[m], log.end_s[m])
        loads.append({"site": s.name, "kind": s.kind, "requests": int(m.sum()),
                      "replicas": s.replicas, "slots": s.slots,
                      "capacity_requests_per_s": s.capacity_requests_per_s,
                      "utilisation_frac": float(np.mean(en["series_utilisation_frac"])),
                      "mean_power_w": en["mean_power_w"], "max_power_w": en["max_power_w"],
                      "power_cap_w": s.power_cap_w, "energy_j": en["energy_j"],
                      "co2e_g": en["co2e_g"], "littles_l": ll["l"],
                      "littles_lambda_w": ll["lambda_w"],
                      "series_t_s": en["series_t_s"], "series_power_w": en["series_power_w"],
                      "series_utilisation_frac": en["series_utilisation_frac"]})
    tokens = float(nout.sum())
    p_ttft, p_e2e, p_tpot = mx.percentiles(ttft), mx.percentiles(e2e), mx.percentiles(tpot)
    n_sess, sess = mx.session_latency(log.arrival_s, log.completion_s, done, log.calls)
    p_sess = mx.percentiles(sess)
    row = {"policy": policy, "offered": offered, "completed": n_done,
           "rejected": offered - n_done,
           "rejected_frac": (offered - n_done) / offered if offered else 0.0,
           "ttft_p50_s": p_ttft[0], "ttft_p95_s": p_ttft[1], "ttft_p99_s": p_ttft[2],
           "tpot_p50_s": p_tpot[0], "tpot_p95_s": p_tpot[1], "tpot_p99_s": p_tpot[2],
           "e2e_p50_s": p_e2e[0], "e2e_p95_s": p_e2e[1], "e2e_p99_s": p_e2e[2],
           "sessions_offered": n_sess, "sessions_completed": int(len(sess)),
           "session_latency_p50_s": p_sess[0], "session_latency_p95_s": p_sess[1],
           "session_latency_p99_s": p_sess[2],
           "slo_attainment_frac": float(ok.sum()) / offered if offered else 0.0,
           "throughput_tokens_per_s": tokens / (horizon - t0) if horizon > t0 else 0.0,
           "energy_j": e_tot,
           "energy_per_token_j": e_tot / tokens if tokens else None,
           "co2e_g_per_request": co2 / n_done if n_done else None,
           "cost_usd_per_million_tokens": cost / tokens * 1e6 if tokens else None,
           "horizon_s": horizon}
    return row, loads


# building from a spec --------------------------------------------------------------------------

def _point(obj, what: str) -> tuple[float, float]:
    if obj.lat is not None and obj.lon is not None:
        return float(obj.lat), float(obj.lon)
    if obj.region:
        from .. import catalog

        row = catalog.get("regions", obj.region)
        return float(row["lat"]), float(row["lon"])
    raise InputError(f"routing {what} '{obj.name}': give lat and lon (degrees) or a region id")


def _region_value(site_spec, field_name: str):
    if not site_spec.region:
        return None
    from .. import catalog

    v = catalog.get("regions", site_spec.region).get(field_name)
    return None if v in (None, "") else float(v)


def build_sites(spec, default_model: Any = None) -> list[Site]:
    """Sites with service tables from perf.serving.roofline (one table per distinct
    configuration)."""
    from .. import hardware
    from ..perf.serving import roofline as inf
    from ..scenario import resolve_model

    p_mean, o_mean = spec.prompt_tokens.mean_tokens, spec.output_tokens.mean_tokens
    max_prompt = int(max(spec.prompt_tokens.mean_tokens * 32, spec.prompt_tokens.high or 0, 8))
    cache: dict[tuple, ServiceModel] = {}
    out = []
    for ss in spec.sites:
        model = ss.model or spec.model or default_model
        if model is None:
            raise InputError(f"routing site '{ss.name}': no model; set routing.sites[].model, "
                             "routing.model or the scenario's model")
        key = (str(model), ss.accelerator, ss.precision, ss.tp)
        if key not in cache:
            cfg = inf.ServingConfig(model=resolve_model(model),
                                    accelerator=hardware.accelerator(ss.accelerator),
                                    tp=ss.tp, precision=ss.precision)
            cache[key] = ServiceModel.from_inference(cfg, p_mean, o_mean, max_prompt)
        svc = cache[key]
        lat, lon = _point(ss, "site")
        ci = ss.grid_intensity_g_per_kwh
        if ci is None:
            ci = _region_value(ss, "carbon_intensity_g_per_kwh")
        if ci is None:
            raise InputError(f"routing site '{ss.name}': no grid intensity; give "
                             "grid_intensity_g_per_kwh or a catalog region id")
        price = ss.price_usd_per_mwh_hourly
        if price is None:
            price = ss.price_usd_per_mwh
        if price is None:
            price = _region_value(ss, "price_usd_per_mwh")
        if price is None:
            raise InputError(f"routing site '{ss.name}': no electricity price; give "
                             "price_usd_per_mwh, price_usd_per_mwh_hourly or a catalog "
                             "region id")
        replicas = ss.replicas
        if replicas is None:
            if ss.power_cap_w is None:
                raise InputError(f"routing site '{ss.name}': give replicas or power_cap_w "
                                 "(replicas are then derived from the cap)")
            replicas = replicas_for_cap(svc, ss.power_cap_w, ss.pue)
        out.append(Site(name=ss.name, lat=lat, lon=lon, service=svc, replicas=replicas,
                        kind=ss.kind, power_cap_w=ss.power_cap_w,
                        intensity_g_per_kwh=np.asarray(ci, dtype=float),
                        price_usd_per_mwh=np.asarray(price, dtype=float), pue=ss.pue))
    return out


def rtt_matrix(spec, sites: list[Site]) -> np.ndarray:
    """(R, S) round-trip times [s]: the spec's matrix where given, else grid.geo.rtt_s."""
    from ..grid import geo

    names = [s.name for s in sites]
    m = np.zeros((len(spec.users), len(sites)))
    for i, u in enumerate(spec.users):
        given = (spec.rtt_s or {}).get(u.name, {})
        unknown = set(given) - set(names)
        if unknown:
            raise InputError(f"routing.rtt_s.{u.name}: unknown site(s) {sorted(unknown)}; "
                             f"sites are {names}")
        lat = lon = None
        for j, s in enumerate(sites):
            if s.name in given:
                if given[s.name] < 0:
                    raise InputError(f"routing.rtt_s.{u.name}.{s.name} = {given[s.name]}: "
                                     "must be >= 0 s")
                m[i, j] = given[s.name]
                continue
            if lat is None:
                lat, lon = _point(u, "user region")
            m[i, j] = geo.rtt_s(lat, lon, s.lat, s.lon)
    return m


def user_rates(spec) -> np.ndarray:
    """(R, 24) request rate [1/s] by UTC hour: demand_rps × diurnal multiplier normalised to a
    daily mean of 1."""
    rows = []
    for u in spec.users:
        off = u.utc_offset_h
        if off is None:
            off = round(_point(u, "user region")[1] / 15.0) if (u.lon is not None or u.region) \
                else 0.0
        m = diurnal_multipliers(u.diurnal, off)
        rows.append(u.demand_rps * m / m.mean())
    return np.array(rows)


def simulate_routing(spec, policies: list[str] | None = None, requests: int | None = None,
                     seed: int | None = None, sites: list[Site] | None = None,
                     default_model: Any = None, progress: bool = False) -> RoutingResult:
    """Simulate every policy on the same seeded workload (common random numbers)."""
    names = policies or spec.policies or list(pol.POLICIES)
    objs = [pol.get(p) for p in names]
    sites = sites if sites is not None else build_sites(spec, default_model)
    rtt = rtt_matrix(spec, sites)
    n = requests if requests is not None else spec.requests
    if n < 1:
        raise InputError(f"--requests {n}: must be >= 1")
    wl = generate(spec, user_rates(spec), n, spec.seed if seed is None else seed)
    slo = spec.slo.model_dump(exclude_none=True)
    rows, loads, logs = [], {}, {}
    for p in objs:
        logs[p.name] = simulate_policy(sites, rtt, wl, p, slo, spec.admission,
                                       spec.start_hour_utc, progress)
    common = max(float(np.nanmax(np.append(lg.end_s, lg.arrival_s))) for lg in logs.values())
    for name, log in logs.items():
        row, load = summarize(name, log, sites, slo, spec.start_hour_utc, common)
        rows.append(row)
        loads[name] = load
    return RoutingResult(policies=rows, site_load=loads, logs=logs, sites=sites,
                         calls=wl.calls)


def routing_from_scenario(scen, policies: list[str] | None = None, requests: int | None = None,
                          seed: int | None = None, progress: bool = False) -> RoutingResult:
    """simulate_routing on a validated Scenario's ``routing`` section."""
    spec = scen.routing
    if spec is None:
        raise InputError("the scenario has no 'routing' section (users, sites, slo); see "
                         "examples/global-serving.yaml")
    if isinstance(spec, dict):
        from .spec import RoutingSpec

        spec = RoutingSpec.model_validate(spec)
    return simulate_routing(spec, policies, requests, seed, default_model=scen.model,
                            progress=progress)
