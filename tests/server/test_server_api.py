"""The JSON API end to end, on SQLite and on PostgreSQL: sign in, tokens, a workspace, scenario
versions and their diff, validation per field, runs as background jobs with stored files,
comparison, budgets, sensitivity labels, usage, and an intact audit chain."""

from __future__ import annotations

import json

from conftest import PASSWORD, SITE_ONLY, SMALL_TRAINING, login, make_client, seed_user, wait_run


def _setup(app):  # noqa: ANN001, ANN202
    seed_user(app, "root", superadmin=True)
    seed_user(app, "ann")
    root = login(app, "root")
    ws = root.post("/api/workspaces", json={"name": "team"}).json()["id"]
    return root, ws


def test_plan_workflow(server) -> None:  # noqa: ANN001
    root, ws = _setup(server)
    assert root.put(f"/api/workspaces/{ws}/members/root",
                    json={"role": "admin", "cleared": True}).status_code == 200
    # a bad value is refused per field before anything is stored or run
    r = root.post(f"/api/workspaces/{ws}/scenarios",
                  json={"name": "x", "yaml": SMALL_TRAINING.replace("gpus: 8", "gpus: -8")})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "cluster", "gpus"]
    r = root.post(f"/api/workspaces/{ws}/validate",
                  json={"yaml": SMALL_TRAINING.replace("h100-sxm", "h999")})
    assert r.json()["valid"] is False
    assert r.json()["errors"][0]["field"] == "hardware.accelerator"

    sid = root.post(f"/api/workspaces/{ws}/scenarios",
                    json={"name": "small", "yaml": SMALL_TRAINING}).json()["id"]
    r = root.put(f"/api/workspaces/{ws}/scenarios/{sid}",
                 json={"yaml": SMALL_TRAINING.replace("gpus: 8", "gpus: 16")})
    assert r.json()["version"] == 2
    d = root.get(f"/api/workspaces/{ws}/scenarios/{sid}/diff", params={"a": 1, "b": 2})
    assert "-cluster: {gpus: 8}" in d.json()["diff"]
    assert "+cluster: {gpus: 16}" in d.json()["diff"]

    r1 = root.post(f"/api/workspaces/{ws}/scenarios/{sid}/runs", json={"version": 1}).json()
    r2 = root.post(f"/api/workspaces/{ws}/scenarios/{sid}/runs", json={}).json()
    a, b = wait_run(root, ws, r1["id"]), wait_run(root, ws, r2["id"])
    assert a["status"] == b["status"] == "done", (a, b)
    # the same library function as the CLI: plan.json is wattlas.plan(...).to_dict()
    import wattlas

    plan = json.loads(root.get(f"/api/workspaces/{ws}/runs/{a['id']}/files/plan.json").text)
    assert plan["training"]["gpu_hours"] == wattlas.plan(SMALL_TRAINING).to_dict()[
        "training"]["gpu_hours"]
    assert a["gpu_hours"] == plan["training"]["gpu_hours"]
    html = root.get(f"/api/workspaces/{ws}/runs/{a['id']}/files/report.html")
    assert html.status_code == 200 and "<html" in html.text.lower()
    assert "sandbox" in html.headers["content-security-policy"]
    assert root.get(f"/api/workspaces/{ws}/runs/{a['id']}/files/report.md").status_code == 200
    # h100-sxm is ECCN 3A090.a in the catalog: the run is labelled sensitive
    assert a["sensitive"] and "3A090" in a["sensitivity_reason"]
    cmp = root.get(f"/api/workspaces/{ws}/compare", params={"a": a["id"], "b": b["id"]}).json()
    gpus = next(r for r in cmp["rows"] if r["key"] == "training.gpus")
    assert (gpus["a"], gpus["b"]) == (8.0, 16.0)

    # budgets: a GPU-hour limit below the run's use flags the next run
    root.put(f"/api/workspaces/{ws}/budget", json={"gpu_hours": a["gpu_hours"] / 2})
    r3 = root.post(f"/api/workspaces/{ws}/scenarios/{sid}/runs", json={"version": 1}).json()
    assert wait_run(root, ws, r3["id"])["over_budget"] == ["gpu_hours"]
    usage = root.get(f"/api/workspaces/{ws}/usage").json()
    assert usage["workspace"]["runs"] == 3
    assert usage["per_user"][0]["username"] == "root"
    assert abs(usage["workspace"]["gpu_hours"] - (2 * a["gpu_hours"] + b["gpu_hours"])) < 1e-6

    # a member without clearance sees that a sensitive run exists, not its contents
    root.put(f"/api/workspaces/{ws}/members/ann", json={"role": "planner", "cleared": False})
    ann = login(server, "ann")
    seen = ann.get(f"/api/workspaces/{ws}/runs/{a['id']}").json()
    assert seen["sensitive"] and seen["restricted"] and "gpu_hours" not in seen
    assert ann.get(f"/api/workspaces/{ws}/runs/{a['id']}/files/plan.json").status_code == 403
    # a site-only plan names no accelerator and no training compute: not labelled
    sid2 = ann.post(f"/api/workspaces/{ws}/scenarios",
                    json={"name": "site", "yaml": SITE_ONLY}).json()["id"]
    r4 = ann.post(f"/api/workspaces/{ws}/scenarios/{sid2}/runs", json={}).json()
    done = wait_run(ann, ws, r4["id"])
    assert done["status"] == "done" and not done["sensitive"] and not done["restricted"]
    assert ann.get(f"/api/workspaces/{ws}/runs/{r4['id']}/files/plan.json").status_code == 200

    # every action above is in the audit chain, and it verifies
    from wattlas.server import audit

    with server.state.sessions() as s:
        verdict = audit.verify(s)
    assert verdict.ok, verdict.line()
    actions = {e["action"] for e in root.get("/api/audit", params={"limit": 5000}).json()}
    assert {"login", "create", "update", "read", "run", "export", "membership", "denied",
            "run-done"} <= actions


def test_scenario_cannot_name_server_files(server) -> None:  # noqa: ANN001
    root, ws = _setup(server)
    for text, field in (("catalogs: [/etc/passwd]\n" + SMALL_TRAINING, "catalogs"),
                        (SITE_ONLY.replace("region: is}", "region: is, profiles: "
                                           "{is: /etc/shadow}}"), "site.profiles")):
        r = root.post(f"/api/workspaces/{ws}/scenarios", json={"name": "evil", "yaml": text})
        assert r.status_code == 422, r.text
        assert field in [".".join(e["loc"][1:]) for e in r.json()["detail"]]
        assert "root:" not in r.text
    assert root.get(f"/api/workspaces/{ws}/scenarios").json() == []
    # text that reached the database some other way is checked again before it runs
    sid = root.post(f"/api/workspaces/{ws}/scenarios",
                    json={"name": "ok", "yaml": SITE_ONLY}).json()["id"]
    from sqlalchemy import update

    from wattlas.server.db import ScenarioVersion

    with server.state.sessions() as s:
        s.execute(update(ScenarioVersion).values(yaml_text="catalogs: [/etc/passwd]\n"
                                                 + SITE_ONLY))
        s.commit()
    run = root.post(f"/api/workspaces/{ws}/scenarios/{sid}/runs", json={}).json()
    done = wait_run(root, ws, run["id"])
    assert done["status"] == "failed" and done["message"].startswith("catalogs:")


def test_login_tokens_and_csrf(server) -> None:  # noqa: ANN001
    root, ws = _setup(server)
    anon = make_client(server)
    r = anon.post("/api/login", json={"username": "root", "password": "wrong-password"})
    assert r.status_code == 401
    assert anon.get("/api/workspaces").status_code == 401
    # the session cookie is HttpOnly, Secure and SameSite
    r = anon.post("/api/login", json={"username": "root", "password": PASSWORD})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie
    # a cookie-authenticated change without the CSRF header is refused
    assert anon.post(f"/api/workspaces/{ws}/scenarios",
                     json={"name": "a", "yaml": SITE_ONLY}).status_code == 403
    made = root.post("/api/tokens", json={"name": "ci"}).json()
    bearer = make_client(server)
    h = {"Authorization": f"Bearer {made['token']}"}
    assert bearer.get("/api/workspaces", headers=h).status_code == 200
    # hashed at rest: the token itself is nowhere in the database
    from sqlalchemy import select

    from wattlas.server.db import ApiToken

    with server.state.sessions() as s:
        stored = s.scalars(select(ApiToken.token_hash)).all()
    assert made["token"] not in stored and len(stored) == 1
    assert root.delete(f"/api/tokens/{made['id']}").status_code == 200
    assert bearer.get("/api/workspaces", headers=h).status_code == 401
    actions = [e["action"] for e in root.get("/api/audit").json()]
    assert "token-use" in actions and "login-failed" in actions


def test_bad_input_is_422_naming_the_field(server) -> None:  # noqa: ANN001
    root, ws = _setup(server)
    r = root.put(f"/api/workspaces/{ws}/budget", json={"gpu_hours": -1})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "gpu_hours"]
    r = root.put(f"/api/workspaces/{ws}/members/ann", json={"role": "owner"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "role"]
    assert "openapi" in root.get("/openapi.json").json()
