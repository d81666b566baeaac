"""schemathesis fuzzes every operation of /openapi.json (bounded examples, valid and invalid
data) as a superadmin who administers a workspace holding a scenario and a run; half the cases
aim their path ids at those real objects. No answer is a server error (5xx)."""

from __future__ import annotations

import itertools

import pytest

from conftest import SMALL_TRAINING, login, seed_user

EXAMPLES = 10


def test_openapi_fuzz_no_server_errors(sqlite_url: str) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from hypothesis.errors import Unsatisfiable

    from wattlas.server.app import create_app

    app = create_app(sqlite_url, worker=False)
    seed_user(app, "root", superadmin=True)
    root = login(app, "root")
    ws = root.post("/api/workspaces", json={"name": "team"}).json()["id"]
    sid = root.post(f"/api/workspaces/{ws}/scenarios",
                    json={"name": "t", "yaml": SMALL_TRAINING}).json()["id"]
    root.post(f"/api/workspaces/{ws}/scenarios/{sid}/runs", json={})
    token = root.post("/api/tokens", json={"name": "fuzz"}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    errors: list[str] = []
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 20
    from schemathesis.generation.modes import GenerationMode

    real = {"ws_id": ws, "sid": sid, "rid": 1, "version": 1}
    for op, mode in itertools.product(operations, GenerationMode):
        if op.path in ("/api/logout",) or op.path.endswith("/tokens/{token_id}"):
            continue  # would end the fuzzer's own session or token

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy(generation_mode=mode), aim=st.booleans())
        def run(case, aim: bool) -> None:  # noqa: ANN001
            if aim and case.meta.generation.mode == GenerationMode.POSITIVE:
                for key in real.keys() & set(case.path_parameters or {}):
                    case.path_parameters[key] = real[key]
            response = case.call(headers=headers)
            if response.status_code >= 500:
                errors.append(f"{case.method} {case.formatted_path} -> "
                              f"{response.status_code}")

        try:
            run()
        except Unsatisfiable:  # no invalid request exists for an operation without inputs
            assert mode == GenerationMode.NEGATIVE
    assert not errors, errors[:10]
