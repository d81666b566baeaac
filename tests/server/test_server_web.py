"""The web pages keep the API's rules: sign-in redirect, CSRF on every form, roles, clearance
and the superadmin-only audit page; every page a member may open renders."""

from __future__ import annotations

import re

import pytest

from conftest import PASSWORD, SMALL_TRAINING, login, make_client, seed_user, wait_run


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_pages_follow_the_rules(server) -> None:  # noqa: ANN001
    seed_user(server, "root", superadmin=True)
    root = login(server, "root")
    ws = root.post("/api/workspaces", json={"name": "team"}).json()["id"]
    root.put(f"/api/workspaces/{ws}/members/root", json={"role": "admin", "cleared": True})
    sid = root.post(f"/api/workspaces/{ws}/scenarios",
                    json={"name": "t", "yaml": SMALL_TRAINING}).json()["id"]
    rid = root.post(f"/api/workspaces/{ws}/scenarios/{sid}/runs", json={}).json()["id"]
    assert wait_run(root, ws, rid)["sensitive"]
    for page in ("/", f"/w/{ws}", f"/w/{ws}/scenarios/new", f"/w/{ws}/s/{sid}",
                 f"/w/{ws}/r/{rid}", f"/w/{ws}/r/{rid}/report.html", f"/w/{ws}/audit",
                 "/audit", f"/w/{ws}/compare?a={rid}&b={rid}",
                 f"/w/{ws}/s/{sid}/diff?a=1&b=1"):
        assert root.client.get(page).status_code == 200, page

    anon = make_client(server)
    r = anon.get(f"/w/{ws}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"

    seed_user(server, "vic")
    seed_user(server, "out")
    root.put(f"/api/workspaces/{ws}/members/vic", json={"role": "viewer", "cleared": False})
    vic, out = login(server, "vic"), login(server, "out")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"',
                     vic.client.get("/").text).group(1)
    form = {"name": "x", "yaml": SMALL_TRAINING, "csrf_token": csrf}
    assert vic.client.post(f"/w/{ws}/scenarios", data=form).status_code == 403  # a viewer
    assert vic.client.get(f"/w/{ws}/r/{rid}/plan.json").status_code == 403  # not cleared
    page = vic.client.get(f"/w/{ws}/r/{rid}")
    assert page.status_code == 200 and "only members cleared" in page.text
    assert "GPU-hours" not in page.text.split("<h1>")[1]
    assert vic.client.get(f"/w/{ws}/audit").status_code == 403  # not an admin
    assert vic.client.get("/audit").status_code == 403  # not a superadmin
    assert out.client.get(f"/w/{ws}").status_code == 403  # not a member
    # a form without the session's CSRF token is refused, with a wrong one too
    root_csrf = root.csrf
    bad = {"name": "y", "yaml": SMALL_TRAINING, "csrf_token": "forged"}
    assert root.client.post(f"/w/{ws}/scenarios", data=bad).status_code == 403
    ok = {"name": "y", "yaml": SMALL_TRAINING, "csrf_token": root_csrf}
    assert root.client.post(f"/w/{ws}/scenarios", data=ok,
                            follow_redirects=False).status_code == 303
    # a superadmin creates a user from the home page; the user can sign in
    r = root.client.post("/users", data={"username": "newbie", "password": PASSWORD,
                                         "csrf_token": root_csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert login(server, "newbie").get("/api/me").json()["username"] == "newbie"
    r = vic.client.post("/users", data={"username": "x", "password": "p" * 12,
                                        "csrf_token": csrf})
    assert r.status_code == 403
    # the login form needs its own double-submit token
    r = anon.post("/login", data={"username": "root", "password": "x", "csrf_token": "x"})
    assert r.status_code == 403
