"""`kill -9` of a real ``wattlas server`` (uvicorn, SQLite file, 127.0.0.1) in the middle of
writes and runs, then a restart: the database passes SQLite's integrity check, every
acknowledged write is stored exactly once, every stored version has its audit entry, no run
stays "running", and `audit verify` passes."""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_server as bench  # noqa: E402


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_kill_during_writes_then_restart(tmp_path: Path) -> None:
    import httpx
    from sqlalchemy import create_engine, text

    db_url = f"sqlite:///{tmp_path / 'crash.db'}"
    port = bench.free_port()
    base = f"http://127.0.0.1:{port}"
    proc = bench.start_server(db_url, port)
    try:
        setup = bench.bootstrap(base, db_url, scenarios=2)
        result: dict = {}
        loader = threading.Thread(target=lambda: result.update(bench.load(
            base, setup, rate_per_s=60, duration_s=4, threads=8, runs_frac=0.05)))
        loader.start()
        time.sleep(2.0)
        bench.stop(proc, signal.SIGKILL)
        loader.join(timeout=120)
    finally:
        bench.stop(proc, signal.SIGKILL)
    assert result["acked"], "no write was acknowledged before the kill"
    assert result["errors"], "the kill happened after the load ended"

    proc = bench.start_server(db_url, port)  # restart on the same file
    try:
        h, ws = setup["headers"], setup["ws"]
        end = time.monotonic() + 90
        while time.monotonic() < end:
            runs = httpx.get(f"{base}/api/workspaces/{ws}/runs", headers=h).json()
            if all(r["status"] in ("done", "failed") for r in runs):
                break
            time.sleep(0.3)
        assert all(r["status"] in ("done", "failed") for r in runs), runs
        assert {r["id"] for r in runs} >= set(result["runs"])
    finally:
        bench.stop(proc)

    writes = bench.check_writes(db_url, result["acked"], result["sent_writes"])
    assert writes["lost_writes"] == 0 and writes["duplicated_writes"] == 0, writes
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        versions = conn.execute(text(
            "SELECT scenario_id, version FROM scenario_versions WHERE version > 1")).all()
        logged = {(o, d) for o, d in conn.execute(text(
            "SELECT object, detail FROM audit_log WHERE action = 'update'"))}
        assert all((f"scenario/{sid}", f"version {v}") in logged for sid, v in versions)
        assert not conn.execute(text("SELECT count(*) FROM runs WHERE status = 'running'"
                                     )).scalar()
    engine.dispose()
    code, line = bench.audit_verify(db_url)
    assert code == 0, line
