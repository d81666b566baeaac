"""Fixtures for the planning service: a fresh database per test (SQLite file, or a database of
its own on the machine's PostgreSQL at 127.0.0.1:5432), an app with its run worker, signed-in
clients and a seeded workspace."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PG_HOST = os.environ.get("WATTLAS_TEST_PG", "127.0.0.1:5432")
PASSWORD = "a-long-test-password"
SMALL_TRAINING = """name: small-training
model: llama3.1-8b
hardware: {accelerator: h100-sxm}
cluster: {gpus: 8}
training: {tokens: 1.0e9, seq_len: 4096, global_batch: 64}
"""
SITE_ONLY = """name: site-only
site: {power_mw: 5, rack_kw: 40, region: is}
"""


def pg_up() -> bool:
    host, port = PG_HOST.split(":")
    try:
        return subprocess.run(["pg_isready", "-h", host, "-p", port], capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL database created for this test and dropped after it."""
    if not pg_up():
        pytest.skip(f"PostgreSQL not reachable at {PG_HOST} (.ci/run starts it)")
    import psycopg

    name = "wattlas_t_" + secrets.token_hex(6)
    base = f"postgresql://postgres@{PG_HOST}/test"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@{PG_HOST}/{name}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'server.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'server.db'}"


class Api:
    """A TestClient signed in as one user, sending the session's CSRF token on changes."""

    def __init__(self, client: Any, csrf: str = "") -> None:
        self.client, self.csrf = client, csrf

    def __getattr__(self, method: str):  # get, post, put, delete
        def call(url: str, **kw: Any) -> Any:
            headers = dict(kw.pop("headers", {}) or {})
            if self.csrf and method != "get":
                headers.setdefault("X-CSRF-Token", self.csrf)
            return getattr(self.client, method)(url, headers=headers, **kw)

        return call


def make_client(app: Any) -> Any:
    from fastapi.testclient import TestClient

    return TestClient(app, base_url="https://testserver")


def seed_user(app: Any, username: str, superadmin: bool = False) -> None:
    from wattlas.server import audit, auth

    with audit.LOCK, app.state.sessions() as s:
        auth.create_user(s, username, PASSWORD, superadmin)
        audit.append(s, actor="test", action="create", obj=f"user/{username}")
        s.commit()


def login(app: Any, username: str) -> Api:
    client = make_client(app)
    r = client.post("/api/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return Api(client, r.json()["csrf_token"])


def wait_run(api: Api, ws: int, rid: int, timeout_s: float = 60.0) -> dict[str, Any]:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        r = api.get(f"/api/workspaces/{ws}/runs/{rid}")
        assert r.status_code == 200, r.text
        if r.json()["status"] in ("done", "failed"):
            return r.json()
        time.sleep(0.1)
    raise AssertionError(f"run {rid} did not finish in {timeout_s} s")


@pytest.fixture
def server(db_url: str) -> Iterator[Any]:
    from wattlas.server.app import create_app

    app = create_app(db_url)
    with make_client(app) as client:  # runs the lifespan: the worker starts
        app.state.client = client
        yield app
