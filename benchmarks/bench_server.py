"""Load on the planning service over loopback: mixed reads and writes at a fixed rate.

Starts ``wattlas server`` (SQLite in a temporary folder, 127.0.0.1 only), creates an admin, a
workspace and scenarios, then sends requests on an open-loop schedule (each request has its
start time; late senders do not slow the schedule down): 70 % reads (a scenario, the run list,
the workspace), 30 % writes (a new scenario version whose text carries a unique marker).
Afterwards the database is read directly: every acknowledged write must be stored exactly once
(lost = acknowledged but missing, duplicated = stored more than once), and the audit chain must
verify.

    python benchmarks/bench_server.py [--rate 200] [--duration 60]

``run()`` (for ``benchmarks/run.py``) measures 200 requests/s for 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WATTLAS = [sys.executable, "-m", "wattlas.cli"]
PASSWORD = "bench-password-123"
SCENARIO = """name: {marker}
site: {{power_mw: 5, rack_kw: 40, region: is}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_url: str, port: int) -> subprocess.Popen:
    """``wattlas server`` on 127.0.0.1:`port`; returns once it answers."""
    proc = subprocess.Popen([*WATTLAS, "server", "--db", db_url, "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, cwd=ROOT)
    import httpx

    end = time.monotonic() + 60
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop(proc, signal.SIGKILL)
    raise RuntimeError("server did not start in 60 s")


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Send `sig` (SIGKILL: a crash) and reap the server."""
    if proc.poll() is None:
        proc.send_signal(sig)
    proc.wait(timeout=30)
    if proc.stderr is not None:
        proc.stderr.close()


def bootstrap(base: str, db_url: str, scenarios: int = 4) -> dict[str, Any]:
    """An admin (via ``create-admin``), an API token, a workspace and `scenarios` scenarios."""
    import httpx

    env = {**os.environ, "WATTLAS_ADMIN_PASSWORD": PASSWORD}
    subprocess.run([*WATTLAS, "server", "create-admin", "--username", "bench", "--db", db_url],
                   check=True, capture_output=True, env=env, cwd=ROOT)
    r = httpx.post(f"{base}/api/login", json={"username": "bench", "password": PASSWORD})
    r.raise_for_status()
    cookie = {"Cookie": f"wattlas_session={r.cookies['wattlas_session']}",
              "X-CSRF-Token": r.json()["csrf_token"]}
    token = httpx.post(f"{base}/api/tokens", json={"name": "bench"}, headers=cookie).json()
    h = {"Authorization": f"Bearer {token['token']}"}
    ws = httpx.post(f"{base}/api/workspaces", json={"name": "bench"}, headers=h).json()["id"]
    sids = [httpx.post(f"{base}/api/workspaces/{ws}/scenarios", headers=h, json={
        "name": f"s{i}", "yaml": SCENARIO.format(marker=f"seed-{i}")}).json()["id"]
        for i in range(scenarios)]
    return {"headers": h, "ws": ws, "sids": sids}


def load(base: str, setup: dict[str, Any], rate_per_s: float, duration_s: float,
         write_frac: float = 0.3, threads: int = 32, runs_frac: float = 0.0,
         seed: int = 1) -> dict[str, Any]:
    """Send `rate_per_s` × `duration_s` requests on a fixed schedule; latencies [s], the
    markers of acknowledged writes, and counts of errors."""
    import httpx

    rng = random.Random(seed)
    n = int(rate_per_s * duration_s)
    plan = []
    for i in range(n):
        u = rng.random()
        kind = "run" if u < runs_frac else ("write" if u < runs_frac + write_frac else "read")
        plan.append((i / rate_per_s, kind, rng.choice(setup["sids"]), rng.randrange(3)))
    lock = threading.Lock()
    out: dict[str, Any] = {"latency_s": [], "acked": [], "sent_writes": [], "errors": {},
                           "late_s": [], "runs": []}
    nxt = [0]
    t0 = time.monotonic() + 0.2
    h, ws = setup["headers"], setup["ws"]

    def worker() -> None:
        with httpx.Client(base_url=base, headers=h, timeout=30) as c:
            while True:
                with lock:
                    if nxt[0] >= n:
                        return
                    at, kind, sid, which = plan[nxt[0]]
                    nxt[0] += 1
                wait = t0 + at - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                start = time.monotonic()
                marker = None
                try:
                    if kind == "write":
                        marker = f"m-{uuid.uuid4().hex}"
                        with lock:
                            out["sent_writes"].append(marker)
                        r = c.put(f"/api/workspaces/{ws}/scenarios/{sid}",
                                  json={"yaml": SCENARIO.format(marker=marker)})
                    elif kind == "run":
                        r = c.post(f"/api/workspaces/{ws}/scenarios/{sid}/runs", json={})
                    else:
                        url = (f"/api/workspaces/{ws}/scenarios/{sid}",
                               f"/api/workspaces/{ws}/runs", f"/api/workspaces/{ws}")[which]
                        r = c.get(url)
                    status = r.status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                end = time.monotonic()
                with lock:
                    out["latency_s"].append(end - start)
                    out["late_s"].append(max(0.0, start - (t0 + at)))
                    if isinstance(status, int) and 200 <= status < 300:
                        if marker:
                            out["acked"].append(marker)
                        if kind == "run":
                            out["runs"].append(r.json()["id"])
                    else:
                        out["errors"][str(status)] = out["errors"].get(str(status), 0) + 1

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out["wall_s"] = time.monotonic() - t0
    out["requests"] = n
    return out


def stored_markers(db_url: str) -> dict[str, int]:
    """How many times each marker is stored in the scenario versions."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for (t,) in conn.execute(text("SELECT yaml_text FROM scenario_versions")):
            marker = t.split("\n", 1)[0].removeprefix("name: ")
            counts[marker] = counts.get(marker, 0) + 1
    engine.dispose()
    return counts


def check_writes(db_url: str, acked: list[str], sent: list[str]) -> dict[str, int]:
    counts = stored_markers(db_url)
    lost = sum(1 for m in acked if counts.get(m, 0) == 0)
    duplicated = sum(1 for m in sent if counts.get(m, 0) > 1)
    return {"lost_writes": lost, "duplicated_writes": duplicated,
            "stored_unacknowledged": sum(1 for m in set(sent) - set(acked) if counts.get(m))}


def audit_verify(db_url: str) -> tuple[int, str]:
    r = subprocess.run([*WATTLAS, "server", "audit", "verify", "--db", db_url],
                       capture_output=True, text=True, cwd=ROOT)
    return r.returncode, r.stdout.strip()


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


def measure(rate_per_s: float, duration_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        port = free_port()
        proc = start_server(db_url, port)
        try:
            base = f"http://127.0.0.1:{port}"
            setup = bootstrap(base, db_url)
            res = load(base, setup, rate_per_s, duration_s)
        finally:
            stop(proc)
        writes = check_writes(db_url, res["acked"], res["sent_writes"])
        code, line = audit_verify(db_url)
    return {"rate_per_s": rate_per_s, "duration_s": duration_s, "requests": res["requests"],
            "achieved_per_s": res["requests"] / res["wall_s"],
            "p50_latency_s": pct(res["latency_s"], 0.50),
            "p99_latency_s": pct(res["latency_s"], 0.99),
            "p99_send_lateness_s": pct(res["late_s"], 0.99),
            "errors": res["errors"], "writes_acknowledged": len(res["acked"]), **writes,
            "audit_verify_exit": code, "audit_verify": line}


def run() -> list[dict[str, Any]]:
    m = measure(200.0, 60.0)
    return [
        {"name": "server: requests/s achieved (200/s offered, 60 s)",
         "value": m["achieved_per_s"], "unit": "1/s", "target": ">= 190"},
        {"name": "server: p50 latency", "value": m["p50_latency_s"] * 1e3, "unit": "ms",
         "target": "report"},
        {"name": "server: p99 latency", "value": m["p99_latency_s"] * 1e3, "unit": "ms",
         "target": "report"},
        {"name": "server: lost writes", "value": m["lost_writes"], "unit": "",
         "target": "<= 0"},
        {"name": "server: duplicated writes", "value": m["duplicated_writes"], "unit": "",
         "target": "<= 0"},
        {"name": "server: failed requests", "value": sum(m["errors"].values()), "unit": "",
         "target": "<= 0"},
        {"name": "server: audit verify exit code", "value": m["audit_verify_exit"],
         "unit": "", "target": "<= 0"},
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=200.0, help="requests per second")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds")
    a = ap.parse_args()
    print(json.dumps(measure(a.rate, a.duration), indent=2))


if __name__ == "__main__":
    main()
