"""Authorisation matrix: every API endpoint × role (viewer, planner, admin) × member or not ×
cleared or not, plus the anonymous caller. A 2xx where the rules say no fails the test, and so
does a refusal where they say yes. Every route under /api/ must be in the table."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from conftest import SITE_ONLY, SMALL_TRAINING, login, make_client, seed_user, wait_run

ROLES = ("viewer", "planner", "admin")
ANY, SUPER = "any", "super"


def _endpoints(ws: int, sid: int, rs: int, rn: int) -> list[tuple[str, str, str, Any, Any]]:
    """(method, route template, url, body, rule); rule: ANY, SUPER or (min role, cleared?)."""
    w = f"/api/workspaces/{ws}"
    return [
        ("get", "/api/me", "/api/me", None, ANY),
        ("post", "/api/logout", "/api/logout", None, ANY),
        ("post", "/api/users", "/api/users", {"username": "u{n}", "password": "x" * 12}, SUPER),
        ("post", "/api/tokens", "/api/tokens", {"name": "t"}, ANY),
        ("get", "/api/tokens", "/api/tokens", None, ANY),
        ("delete", "/api/tokens/{token_id}", "/api/tokens/{own_token}", None, ANY),
        ("get", "/api/workspaces", "/api/workspaces", None, ANY),
        ("post", "/api/workspaces", "/api/workspaces", {"name": "w{n}"}, SUPER),
        ("get", "/api/audit", "/api/audit", None, SUPER),
        ("get", "/api/workspaces/{ws_id}", w, None, ("viewer", False)),
        ("put", "/api/workspaces/{ws_id}/members/{username}", f"{w}/members/dummy",
         {"role": "viewer", "cleared": False}, ("admin", False)),
        ("delete", "/api/workspaces/{ws_id}/members/{username}", f"{w}/members/dummy2", None,
         ("admin", False)),
        ("put", "/api/workspaces/{ws_id}/budget", f"{w}/budget", {"gpu_hours": 1e9},
         ("admin", False)),
        ("get", "/api/workspaces/{ws_id}/usage", f"{w}/usage", None, ("viewer", False)),
        ("get", "/api/workspaces/{ws_id}/audit", f"{w}/audit", None, ("admin", False)),
        ("post", "/api/workspaces/{ws_id}/validate", f"{w}/validate", {"yaml": SITE_ONLY},
         ("viewer", False)),
        ("get", "/api/workspaces/{ws_id}/scenarios", f"{w}/scenarios", None, ("viewer", False)),
        ("post", "/api/workspaces/{ws_id}/scenarios", f"{w}/scenarios",
         {"name": "s", "yaml": SITE_ONLY}, ("planner", False)),
        ("get", "/api/workspaces/{ws_id}/scenarios/{sid}", f"{w}/scenarios/{sid}", None,
         ("viewer", False)),
        ("put", "/api/workspaces/{ws_id}/scenarios/{sid}", f"{w}/scenarios/{sid}",
         {"yaml": SITE_ONLY}, ("planner", False)),
        ("get", "/api/workspaces/{ws_id}/scenarios/{sid}/versions/{version}",
         f"{w}/scenarios/{sid}/versions/1", None, ("viewer", False)),
        ("get", "/api/workspaces/{ws_id}/scenarios/{sid}/diff",
         f"{w}/scenarios/{sid}/diff?a=1&b=1", None, ("viewer", False)),
        ("post", "/api/workspaces/{ws_id}/scenarios/{sid}/runs", f"{w}/scenarios/{sid}/runs",
         {}, ("planner", False)),
        ("get", "/api/workspaces/{ws_id}/runs", f"{w}/runs", None, ("viewer", False)),
        ("get", "/api/workspaces/{ws_id}/runs/{rid}", f"{w}/runs/{rs}", None,
         ("viewer", False)),
        ("get", "/api/workspaces/{ws_id}/runs/{rid}", f"{w}/runs/{rn}", None,
         ("viewer", False)),
        ("get", "/api/workspaces/{ws_id}/runs/{rid}/files/{name}",
         f"{w}/runs/{rs}/files/plan.json", None, ("viewer", True)),
        ("get", "/api/workspaces/{ws_id}/runs/{rid}/files/{name}",
         f"{w}/runs/{rn}/files/report.md", None, ("viewer", False)),
        ("get", "/api/workspaces/{ws_id}/compare", f"{w}/compare?a={rs}&b={rn}", None,
         ("viewer", True)),
        ("get", "/api/workspaces/{ws_id}/compare", f"{w}/compare?a={rn}&b={rn}", None,
         ("viewer", False)),
    ]


def _allowed(rule: Any, role: str, member: bool, cleared: bool, superadmin: bool) -> bool:
    if rule == ANY:
        return True
    if rule == SUPER:
        return superadmin
    need, clear = rule
    return member and ROLES.index(role) >= ROLES.index(need) and (cleared or not clear)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_authorisation_matrix(server) -> None:  # noqa: ANN001
    app = server
    seed_user(app, "root", superadmin=True)
    root = login(app, "root")
    ws = root.post("/api/workspaces", json={"name": "team"}).json()["id"]
    other = root.post("/api/workspaces", json={"name": "elsewhere"}).json()["id"]
    root.put(f"/api/workspaces/{ws}/members/root", json={"role": "admin", "cleared": True})
    s_train = root.post(f"/api/workspaces/{ws}/scenarios",
                        json={"name": "t", "yaml": SMALL_TRAINING}).json()["id"]
    sid = root.post(f"/api/workspaces/{ws}/scenarios",
                    json={"name": "site", "yaml": SITE_ONLY}).json()["id"]
    rs = root.post(f"/api/workspaces/{ws}/scenarios/{s_train}/runs", json={}).json()["id"]
    rn = root.post(f"/api/workspaces/{ws}/scenarios/{sid}/runs", json={}).json()["id"]
    assert wait_run(root, ws, rs)["sensitive"] and not wait_run(root, ws, rn)["sensitive"]
    for name in ("dummy", "dummy2"):
        seed_user(app, name)

    endpoints = _endpoints(ws, sid, rs, rn)
    routes = {(m, path) for path, ops in app.openapi()["paths"].items() for m in ops}
    covered = {(m, tpl) for m, tpl, *_ in endpoints}
    assert routes - {("post", "/api/login")} == covered, routes ^ covered

    unexpected, refused, n = [], [], 0
    actors = list(itertools.product(ROLES, (True, False), (True, False)))
    for i, (role, member, cleared) in enumerate(actors):
        name = f"{role}-{'m' if member else 'x'}-{'c' if cleared else 'n'}"
        seed_user(app, name)
        root.put(f"/api/workspaces/{other if not member else ws}/members/{name}",
                 json={"role": role, "cleared": cleared})
        api = login(app, name)
        for method, _tpl, url, body, rule in endpoints:
            if method == "post" and url == "/api/logout":
                continue  # checked last: it ends the session
            n += 1
            if "dummy2" in url:
                root.put(url, json={"role": "viewer", "cleared": False})
            if "{own_token}" in url:
                url = url.replace("{own_token}", str(api.post(
                    "/api/tokens", json={"name": "x"}).json()["id"]))
            if isinstance(body, dict):
                body = {k: v.replace("{n}", f"{i}-{n}") if isinstance(v, str) else v
                        for k, v in body.items()}
            r = getattr(api, method)(url, **({"json": body} if body is not None else {}))
            ok = _allowed(rule, role, member, cleared, False)
            if 200 <= r.status_code < 300 and not ok:
                unexpected.append((name, method, url, r.status_code))
            if ok and not 200 <= r.status_code < 300:
                refused.append((name, method, url, r.status_code, r.text[:120]))
            if ok and url.endswith(f"/runs/{rs}"):  # sees it exists; contents only if cleared
                assert r.json()["restricted"] is (not cleared)
                assert ("gpu_hours" in r.json()) is cleared
        assert api.post("/api/logout").status_code == 200
        assert api.get("/api/me").status_code == 401  # the session ended
    # anonymous: every endpoint refuses
    anon = make_client(app)
    for method, _tpl, url, body, _rule in endpoints:
        r = getattr(anon, method)(url.replace("{own_token}", "1"),
                                  **({"json": body} if body is not None else {}))
        n += 1
        if 200 <= r.status_code < 300:
            unexpected.append(("anonymous", method, url, r.status_code))
    assert not unexpected, unexpected
    assert not refused, refused
    assert n >= len(actors) * (len(endpoints) - 1)
