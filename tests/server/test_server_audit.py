"""The audit chain: `wattlas server audit verify` exits 0 on an intact log and 1 on an edited,
deleted or reordered entry, naming the first bad one; `audit export` writes JSON lines."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from conftest import login, seed_user
from wattlas.cli import app as cli


def _log(app) -> None:  # noqa: ANN001
    seed_user(app, "root", superadmin=True)
    root = login(app, "root")
    ws = root.post("/api/workspaces", json={"name": "team"}).json()["id"]
    for _ in range(3):
        root.get(f"/api/workspaces/{ws}")


def _verify(url: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, ["server", "audit", "verify", "--db", url])
    return r.exit_code, r.output


@pytest.mark.parametrize("tamper, first_bad, why", [
    ("UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 3", 3, "edited"),
    ("DELETE FROM audit_log WHERE seq = 4", 5, "deleted"),
    ("UPDATE audit_log SET seq = -seq WHERE seq IN (4, 5);"
     "UPDATE audit_log SET seq = 9 WHERE seq = -4;"
     "UPDATE audit_log SET seq = 4 WHERE seq = -5;"
     "UPDATE audit_log SET seq = 5 WHERE seq = 9", 4, "reordered"),
])
def test_verify_names_the_first_bad_entry(server, db_url: str, tamper: str, first_bad: int,
                                          why: str) -> None:  # noqa: ANN001
    _log(server)
    code, out = _verify(db_url)
    assert code == 0, out
    assert "intact" in out
    with server.state.engine.begin() as conn:
        for stmt in tamper.split(";"):
            conn.execute(text(stmt))
    code, out = _verify(db_url)
    assert code == 1, out
    assert f"entry seq {first_bad} " in out, out
    assert why in out or "prev_hash" in out or "sequence" in out


def test_export_writes_json_lines(server, tmp_path) -> None:  # noqa: ANN001
    _log(server)
    url = str(server.state.engine.url)
    out = tmp_path / "audit.jsonl"
    r = CliRunner().invoke(cli, ["server", "audit", "export", "--db", url, "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["seq"] for e in rows] == list(range(1, len(rows) + 1))
    assert all(rows[i]["prev_hash"] == rows[i - 1]["hash"] for i in range(1, len(rows)))
    assert {"actor", "at", "workspace", "object", "action", "client"} <= set(rows[0])
    again = CliRunner().invoke(cli, ["server", "audit", "export", "--db", url, "--out",
                                     str(out)])
    assert again.exit_code != 0  # never overwrites
