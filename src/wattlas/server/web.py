"""The web pages: server-rendered Jinja2 templates over the same service functions as the API.

A form with errors is shown again with the errors beside it (HTTP 200, as a page; the JSON API
answers 401/422 for the same input).

Templates escape every value (Jinja2 autoescape); forms carry the session's CSRF token; the only
scripts are the service's own files under ``/static`` (no CDN, no inline script).
"""

from __future__ import annotations

import base64
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from . import auth, service
from .api import REPORT_HEADERS, audit_rows, set_session_cookie
from .context import Ctx, ctx_dependency
from .scenarios import BUDGET_KEYS

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
C = Annotated[Ctx, Depends(ctx_dependency)]
F = Annotated[str, Form()]
CSRF = Annotated[str, Form()]


def page(ctx: Ctx, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    ctx.commit()
    return templates.TemplateResponse(ctx.request, template, {"user": ctx.user, "csrf": ctx.csrf,
                                                          **values}, status_code=status)


def signed_in(ctx: Ctx) -> bool:
    return ctx.identify() is not None and ctx.via == "session"


def to_login() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


def see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- sign in ---------------------------------------------------------------------------------
@router.get("/login")
def login_form(ctx: C) -> Response:
    token = secrets.token_urlsafe(24)
    resp = page(ctx, "login.html", login_csrf=token, error="")
    resp.set_cookie(auth.LOGIN_CSRF_COOKIE, token, httponly=True, secure=True,
                    samesite="strict", path="/login")
    return resp


@router.post("/login")
def login(ctx: C, username: F, password: F, csrf_token: CSRF) -> Response:
    cookie = ctx.request.cookies.get(auth.LOGIN_CSRF_COOKIE, "")
    if not cookie or not auth.same(cookie, csrf_token):
        ctx.refuse(403, "login form expired (CSRF); reload the page")
    from .db import User

    user_id = auth.password_ok(ctx.request.app.state.sessions, username[:64], password[:1000])
    if user_id is None:
        ctx.log("login-failed", obj=f"user/{username[:64]}")
        return page(ctx, "login.html", status=200, login_csrf=csrf_token,
                    error="wrong user name or password")
    user = ctx.s.get(User, user_id)
    token, _ = auth.new_session(ctx.s, user)
    ctx.user = user
    ctx.log("login", obj=f"user/{user.username}", detail="web")
    ctx.commit()
    resp = see("/")
    set_session_cookie(resp, token)
    resp.delete_cookie(auth.LOGIN_CSRF_COOKIE, path="/login")
    return resp


@router.post("/logout")
def logout(ctx: C, csrf_token: CSRF) -> Response:
    if not signed_in(ctx):
        return to_login()
    ctx.require_user(csrf_token)
    from sqlalchemy import delete

    from .db import LoginSession

    ctx.s.execute(delete(LoginSession).where(LoginSession.token_hash == auth.digest(
        ctx.request.cookies.get(auth.SESSION_COOKIE, ""))))
    ctx.log("logout")
    ctx.commit()
    resp = see("/login")
    resp.delete_cookie(auth.SESSION_COOKIE, path="/")
    return resp


# --- workspaces ------------------------------------------------------------------------------
@router.get("/")
def home(ctx: C) -> Response:
    if not signed_in(ctx):
        return to_login()
    return page(ctx, "home.html", workspaces=service.my_workspaces(ctx), error="")


@router.post("/users")
def new_user(ctx: C, username: F, password: F, csrf_token: CSRF) -> Response:
    """A superadmin creates a user (then adds it to workspaces as a member)."""
    if not signed_in(ctx):
        return to_login()
    ctx.require_user(csrf_token)
    if not ctx.user.is_superadmin:
        ctx.refuse(403, "only a superadmin may create users")
    import re

    from sqlalchemy import select

    from .db import User

    username = username.strip()
    error = ""
    if not re.fullmatch(r"[A-Za-z0-9_.@-]{1,64}", username):
        error = "user name: allowed: 1-64 of A-Z a-z 0-9 _ . @ -"
    elif not 12 <= len(password) <= 1000:
        error = "password: allowed: 12 to 1000 characters"
    elif ctx.s.scalar(select(User).where(User.username == username)):
        error = f"user name: {username!r} exists"
    if error:
        return page(ctx, "home.html", workspaces=service.my_workspaces(ctx), error=error)
    auth.create_user(ctx.s, username, password)
    ctx.log("create", obj=f"user/{username}")
    ctx.commit()
    return see("/")


@router.post("/workspaces")
def new_workspace(ctx: C, name: F, csrf_token: CSRF) -> Response:
    if not signed_in(ctx):
        return to_login()
    ctx.require_user(csrf_token)
    if not ctx.user.is_superadmin:
        ctx.refuse(403, "only a superadmin may create workspaces")
    name = name.strip()[:200]
    try:
        if not name:
            raise service.Invalid([{"field": "name", "message": "give a name"}])
        ws = service.create_workspace(ctx, name)
    except service.Invalid as exc:
        return page(ctx, "home.html", status=200, workspaces=service.my_workspaces(ctx),
                    error=str(exc))
    ctx.commit()
    return see(f"/w/{ws.id}")


@router.get("/w/{ws_id}")
def workspace(ws_id: int, ctx: C) -> Response:
    if not signed_in(ctx):
        return to_login()
    view = service.workspace_view(ctx, ws_id)
    return page(ctx, "workspace.html", ws=view, scenarios=service.list_scenarios(ctx, ws_id),
                runs=service.list_runs(ctx, ws_id), usage=service.usage(ctx, ws_id),
                budget_keys=[k for k, _ in BUDGET_KEYS])


@router.post("/w/{ws_id}/members")
def set_member(ws_id: int, ctx: C, username: F, role: F, csrf_token: CSRF,
               cleared: Annotated[str, Form()] = "") -> Response:
    if not signed_in(ctx):
        return to_login()
    ctx.require_user(csrf_token)
    try:
        service.set_member(ctx, ws_id, username.strip()[:64], role, cleared == "on")
    except service.Invalid as exc:
        raise HTTPException(422, str(exc)) from None
    ctx.commit()
    return see(f"/w/{ws_id}")


@router.post("/w/{ws_id}/budget")
def set_budget(ws_id: int, ctx: C, csrf_token: CSRF,
               facility_power_mw: Annotated[str, Form()] = "",
               gpu_hours: Annotated[str, Form()] = "", cost_usd: Annotated[str, Form()] = "",
               co2e_t: Annotated[str, Form()] = "") -> Response:
    """Limits typed in MW and tCO2e, stored in W and kg."""
    if not signed_in(ctx):
        return to_login()
    ctx.require_user(csrf_token)
    limits: dict[str, float | None] = {}
    for key, text, scale in (("facility_power_w", facility_power_mw, 1e6),
                             ("gpu_hours", gpu_hours, 1.0), ("cost_usd", cost_usd, 1.0),
                             ("co2e_kg", co2e_t, 1e3)):
        text = text.strip()
        if not text:
            limits[key] = None
            continue
        try:
            value = float(text)
        except ValueError:
            raise HTTPException(422, f"budget {key}: {text[:40]!r} is not a number") from None
        if not (0 < value < 1e24):
            raise HTTPException(422, f"budget {key}: {value:g}; allowed: > 0")
        limits[key] = value * scale
    service.set_budget(ctx, ws_id, limits)
    ctx.commit()
    return see(f"/w/{ws_id}")


# --- scenarios -------------------------------------------------------------------------------
NEW_TEXT = """name: my-plan
model: llama3.1-8b
hardware: {accelerator: h100-sxm}
cluster: {gpus: 64}
training: {tokens: 1.0e12, seq_len: 8192, global_batch: 256}
"""


@router.get("/w/{ws_id}/scenarios/new")
def new_scenario_form(ws_id: int, ctx: C) -> Response:
    if not signed_in(ctx):
        return to_login()
    ws, _ = ctx.workspace(ws_id, "planner")
    return page(ctx, "scenario_new.html", ws=ws, name="", text=NEW_TEXT, errors=[])


@router.post("/w/{ws_id}/scenarios")
def new_scenario(ws_id: int, ctx: C, name: F, yaml: F, csrf_token: CSRF) -> Response:
    if not signed_in(ctx):
        return to_login()
    ctx.require_user(csrf_token)
    ws, _ = ctx.workspace(ws_id, "planner")
    name = name.strip()[:200]
    try:
        if not name:
            raise service.Invalid([{"field": "name", "message": "give the scenario a name"}])
        rec = service.create_scenario(ctx, ws_id, name, yaml)
    except service.Invalid as exc:
        return page(ctx, "scenario_new.html", status=200, ws=ws, name=name, text=yaml,
                    errors=exc.errors)
    ctx.commit()
    return see(f"/w/{ws_id}/s/{rec.id}")


@router.get("/w/{ws_id}/s/{sid}")
def scenario(ws_id: int, sid: int, ctx: C) -> Response:
    if not signed_in(ctx):
        return to_login()
    view = service.scenario_view(ctx, ws_id, sid)
    ws, m = ctx.workspace(ws_id)
    return page(ctx, "scenario.html", ws=ws, role=m.role, sc=view, text=view["yaml"],
                errors=[], runs=[r for r in service.list_runs(ctx, ws_id)
                                 if r["scenario_id"] == sid])


@router.post("/w/{ws_id}/s/{sid}")
def save_scenario(ws_id: int, sid: int, ctx: C, yaml: F, csrf_token: CSRF) -> Response:
    if not signed_in(ctx):
        return to_login()
    ctx.require_user(csrf_token)
    try:
        service.new_version(ctx, ws_id, sid, yaml)
    except service.Invalid as exc:
        view = service.scenario_view(ctx, ws_id, sid)
        ws, m = ctx.workspace(ws_id)
        return page(ctx, "scenario.html", status=200, ws=ws, role=m.role, sc=view, text=yaml,
                    errors=exc.errors, runs=[])
    ctx.commit()
    return see(f"/w/{ws_id}/s/{sid}")


@router.post("/w/{ws_id}/s/{sid}/run")
def run_scenario(ws_id: int, sid: int, ctx: C, csrf_token: CSRF) -> Response:
    if not signed_in(ctx):
        return to_login()
    ctx.require_user(csrf_token)
    run = service.start_run(ctx, ws_id, sid, None)
    ctx.commit()
    ctx.request.app.state.worker_wake()
    return see(f"/w/{ws_id}/r/{run.id}")


@router.get("/w/{ws_id}/s/{sid}/diff")
def diff(ws_id: int, sid: int, ctx: C, a: Annotated[int, Query(ge=1)],
         b: Annotated[int, Query(ge=1)]) -> Response:
    if not signed_in(ctx):
        return to_login()
    text = service.scenario_diff(ctx, ws_id, sid, a, b)
    ws, _ = ctx.workspace(ws_id)
    return page(ctx, "diff.html", ws=ws, sid=sid, a=a, b=b, lines=text.splitlines())


# --- runs ------------------------------------------------------------------------------------
@router.get("/w/{ws_id}/r/{rid}")
def run(ws_id: int, rid: int, ctx: C) -> Response:
    if not signed_in(ctx):
        return to_login()
    view = service.run_view(ctx, ws_id, rid)
    ws, _ = ctx.workspace(ws_id)
    others = [r for r in service.list_runs(ctx, ws_id) if r["id"] != rid
              and r["status"] == "done" and not r["restricted"]]
    return page(ctx, "run.html", ws=ws, run=view, others=others)


@router.get("/w/{ws_id}/r/{rid}/{name}")
def run_file(ws_id: int, rid: int, name: str, ctx: C) -> Response:
    if not signed_in(ctx):
        return to_login()
    content, media = service.run_file(ctx, ws_id, rid, name)
    ctx.commit()
    headers = dict(REPORT_HEADERS)
    if name != "report.html":
        headers["Content-Disposition"] = f'attachment; filename="run-{rid}-{name}"'
    return Response(content, media_type=media, headers=headers)


@router.get("/w/{ws_id}/compare")
def compare(ws_id: int, ctx: C, a: Annotated[int, Query(ge=1)],
            b: Annotated[int, Query(ge=1)]) -> Response:
    if not signed_in(ctx):
        return to_login()
    from ..report.charts import bar_chart

    result = service.compare(ctx, ws_id, a, b)
    ws, _ = ctx.workspace(ws_id)
    # each chart as an image: an SVG shown through <img> runs no script and needs no inline
    # style permission on the page
    charts = []
    for r in result["rows"]:
        svg = bar_chart(r["label"] + (f" ({r['unit']})" if r["unit"] else ""),
                        {f"run {a}": r["a"], f"run {b}": r["b"]}, r["unit"], width=360)
        charts.append("data:image/svg+xml;base64,"
                      + base64.b64encode(svg.encode("utf-8")).decode("ascii"))
    return page(ctx, "compare.html", ws=ws, cmp=result, charts=charts)


@router.get("/w/{ws_id}/audit")
def workspace_audit(ws_id: int, ctx: C, action: str = "", actor: str = "") -> Response:
    if not signed_in(ctx):
        return to_login()
    ws, _ = ctx.workspace(ws_id, "admin")
    rows = audit_rows(ctx, ws.name, action[:32] or None, actor[:64] or None, 500)
    ctx.log("read", workspace=ws.name, obj="audit")
    return page(ctx, "audit.html", ws=ws, rows=rows, action=action, actor=actor)


@router.get("/audit")
def all_audit(ctx: C, action: str = "", actor: str = "") -> Response:
    if not signed_in(ctx):
        return to_login()
    if not ctx.user.is_superadmin:
        ctx.refuse(403, "only a superadmin may read the whole audit log")
    rows = audit_rows(ctx, None, action[:32] or None, actor[:64] or None, 500)
    ctx.log("read", obj="audit")
    return page(ctx, "audit.html", ws=None, rows=rows, action=action, actor=actor)


