"""Design sweeps: designs, points through plan, the table, the CLI, and a real two-worker Dask
cluster giving the same table as the in-process run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattlas import errors
from wattlas import plan as pl
from wattlas import scenario as sc
from wattlas.uncertainty import executors, sweep

ROOT = Path(__file__).resolve().parents[1]
FRONTIER = ROOT / "examples" / "frontier-training.yaml"


def _wattlas(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wattlas.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


def test_vary_values_are_read_as_yaml() -> None:
    a = sweep.parse_vary("cluster.gpus=8192,16384")
    assert a.values == (8192, 16384) and a.path == ("cluster", "gpus")
    assert sweep.parse_vary("site.region=us-va,no").values == ("us-va", "no")
    c = sweep.parse_vary("energy.pue=1.1..1.4")
    assert (c.low, c.high, c.values) == (1.1, 1.4, ())


@pytest.mark.parametrize(("spec", "match"), [
    ("cluster.gpus", r"--vary 'cluster.gpus': expected key.path=v1,v2"),
    ("=1,2", r"empty key"),
    ("energy.pue=1.4..1.1", r"low <= high"),
    ("energy.pue=1.1,", r"an empty value"),
])
def test_bad_vary_is_refused(spec: str, match: str) -> None:
    with pytest.raises(errors.InputError, match=match):
        sweep.parse_vary(spec)


def test_cross_product_and_sampled_designs() -> None:
    axes = [sweep.parse_vary("a.x=1,2,3"), sweep.parse_vary("b.y=u,v")]
    pts = sweep.design(axes)
    assert len(pts) == 6 and pts[0] == {"a.x": 1, "b.y": "u"} and pts[-1] == {"a.x": 3,
                                                                               "b.y": "v"}
    cont = [sweep.parse_vary("energy.pue=1.1..1.4"), axes[1]]
    with pytest.raises(errors.InputError, match="give --samples N"):
        sweep.design(cont)
    s = sweep.design(cont, samples=50, seed=3)
    assert s == sweep.design(cont, samples=50, seed=3) != sweep.design(cont, samples=50,
                                                                       seed=4)
    xs = sorted(p["energy.pue"] for p in s)  # one point per stratum of the range
    assert all(1.1 + 0.3 * i / 50 <= x < 1.1 + 0.3 * (i + 1) / 50 for i, x in enumerate(xs))
    with pytest.raises(errors.InputError, match="given twice"):
        sweep.design([axes[0], axes[0]])


def test_a_point_is_the_plan_of_its_scenario() -> None:
    data = sc.load_data(FRONTIER)
    axes = [sweep.parse_vary("energy.pue=1.25")]
    row = sweep.run_point(sweep.base_data(data, axes), {"energy.pue": 1.25}, str(FRONTIER.parent))
    d = sc.load_data(FRONTIER, ["energy.pue=1.25"])
    d.pop("compare")
    plan = pl.run_plan(sc.validate(d), ranges=False)
    assert row["ok"] and row["facility_power_w"] == plan["energy"]["facility_power_w"]
    assert row["training_time_s"] == plan["training"]["training_time_s"]
    assert row["best_region"] == next(r["region"] for r in plan["site"]["regions"]
                                      if r["feasible"])


def test_a_failing_point_keeps_its_row_and_error() -> None:
    data = sweep.base_data(sc.load_data(FRONTIER), [])
    bad = sweep.run_point(data, {"cluster.gpus": 8192})
    assert not bad["ok"] and "GPU count 8192" in bad["error"]
    out_of_range = sweep.run_point(data, {"energy.pue": 0.5})
    assert not out_of_range["ok"] and "energy.pue = 0.5" in out_of_range["error"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(1, 100), st.floats(1, 100), st.floats(1, 100)),
                min_size=1, max_size=30))
def test_pareto_rows_are_not_dominated(objs) -> None:
    rows = [dict(zip(sweep.PARETO, o, strict=True), ok=True) for o in objs]
    flags = sweep.pareto_flags(rows)
    assert any(flags)
    for i, r in enumerate(rows):
        dominated = any(all(q[k] <= r[k] for k in sweep.PARETO)
                        and any(q[k] < r[k] for k in sweep.PARETO) for q in rows)
        assert flags[i] == (not dominated)


def test_cli_writes_parquet_csv_and_chart_and_refuses_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "sw"
    args = ("sweep", str(FRONTIER), "--vary", "site.region=us-va,is", "--vary",
            "energy.pue=1.1,1.3", "--out", str(out), "--format", "json")
    proc = _wattlas(*args)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["points"] == 4 and summary["ok"] == 4
    df = pd.read_parquet(out / "sweep.parquet")
    assert len(df) == 4 and list(df.columns) == summary["columns"]
    assert df.equals(pd.read_csv(out / "sweep.csv")[df.columns].astype(df.dtypes.to_dict()))
    assert {"training_time_s", "facility_power_w", "energy_j", "co2e_kg", "cost_usd_total",
            "pareto"} <= set(df.columns)
    assert (out / "pareto.svg").read_text().startswith("<svg")
    again = _wattlas(*args)
    assert again.returncode == 2 and "--force" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("args", "match"), [
    (("--vary", "energy.pue=1.1..1.3"), "give --samples N"),
    (("--vary", "energy.pue=1,2", "--executor", "ray://h:1"), "Ray is not supported"),
    (("--vary", "energy.pue=1,2", "--executor", "dask://nohost"), "expected dask://HOST:PORT"),
    (("--vary", "energy.puee=1.1,1.2"), "--vary energy.puee: unknown key 'energy.puee'"),
])
def test_cli_bad_input_is_one_line_exit_2(args, match) -> None:
    proc = _wattlas("sweep", str(FRONTIER), *args)
    assert proc.returncode == 2 and match in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_two_worker_dask_cluster_gives_the_in_process_table() -> None:
    distributed = pytest.importorskip("distributed")
    data = sc.load_data(FRONTIER)
    axes = [sweep.parse_vary("energy.pue=1.1..1.4"), sweep.parse_vary("site.region=us-va,is"),
            sweep.parse_vary("energy.price_usd_per_mwh=40..160")]
    points = sweep.design(axes, samples=60, seed=7)
    base = sweep.base_data(data, axes)
    local = executors.run(points, base, str(FRONTIER.parent))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        addr = cluster.scheduler_address.removeprefix("tcp://")
        remote = executors.run(points, base, str(FRONTIER.parent), f"dask://{addr}",
                               chunk_points=7)
    assert remote == local and all(r["ok"] for r in local)
