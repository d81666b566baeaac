"""The JSON API under ``/api/`` (its schema is ``/openapi.json``).

Authentication: a session cookie (``POST /api/login``; changes then need the ``X-CSRF-Token``
header) or ``Authorization: Bearer <token>``. Bodies reject unknown keys; a bad value is HTTP
422 naming the field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from . import audit, auth, service
from .context import Ctx, ctx_dependency
from .db import ApiToken, AuditEntry, User, now

router = APIRouter(prefix="/api")
C = Annotated[Ctx, Depends(ctx_dependency)]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
UserName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
QueryId = Annotated[int, Query(ge=1, le=2**31 - 1)]
PId = Annotated[int, Path(ge=1, le=2**31 - 1)]
PUser = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Login(Body):
    username: UserName
    password: Annotated[str, Field(min_length=1, max_length=1000)]


class NewUser(Login):
    password: Annotated[str, Field(min_length=12, max_length=1000)]


class NewToken(Body):
    name: Name


class NewWorkspace(Body):
    name: Name


class Member(Body):
    role: Literal["viewer", "planner", "admin"]
    cleared: bool = False


Limit = Annotated[float | None, Field(default=None, gt=0, le=1e30)]


class BudgetIn(Body):
    facility_power_w: Limit = None
    gpu_hours: Limit = None
    cost_usd: Limit = None
    co2e_kg: Limit = None


class ScenarioIn(Body):
    name: Name
    yaml: Annotated[str, Field(max_length=200_000)]


class VersionIn(Body):
    yaml: Annotated[str, Field(max_length=200_000)]


class RunIn(Body):
    version: Id | None = None


class ValidateIn(Body):
    yaml: Annotated[str, Field(max_length=200_000)]


def _invalid(exc: service.Invalid) -> HTTPException:
    return HTTPException(422, [{"loc": ["body", *e["field"].split(".")], "msg": e["message"],
                                "type": "value_error"} for e in exc.errors])


def _ok(ctx: Ctx, value: Any) -> Any:
    ctx.commit()
    return value


# --- identity --------------------------------------------------------------------------------
@router.post("/login")
def login(body: Login, response: Response, ctx: C) -> dict[str, Any]:
    """Sign in; sets the session cookie and returns the CSRF token for changes."""
    user_id = auth.password_ok(ctx.request.app.state.sessions, body.username, body.password)
    if user_id is None:
        ctx.log("login-failed", obj=f"user/{body.username}")
        ctx.commit()
        raise HTTPException(401, "wrong user name or password")
    user = ctx.s.get(User, user_id)
    token, row = auth.new_session(ctx.s, user)
    ctx.user = user
    ctx.log("login", obj=f"user/{user.username}", detail="api")
    set_session_cookie(response, token)
    return _ok(ctx, {"username": user.username, "csrf_token": row.csrf_token})


def set_session_cookie(response: Response, token: str) -> None:
    response.set_cookie(auth.SESSION_COOKIE, token, max_age=int(auth.SESSION_S), httponly=True,
                        secure=True, samesite="strict", path="/")


@router.post("/logout")
def logout(response: Response, ctx: C) -> dict[str, str]:
    ctx.require_user()
    if ctx.via == "session":
        from .db import LoginSession

        row = ctx.s.scalar(select(LoginSession).where(LoginSession.token_hash == auth.digest(
            ctx.request.cookies.get(auth.SESSION_COOKIE, ""))))
        if row is not None:
            ctx.s.delete(row)
    ctx.log("logout")
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return _ok(ctx, {"status": "signed out"})


@router.get("/me")
def me(ctx: C) -> dict[str, Any]:
    user = ctx.require_user()
    ctx.log("read", obj=f"user/{user.username}")
    return _ok(ctx, {"username": user.username, "superadmin": user.is_superadmin,
                     "csrf_token": ctx.csrf or None})


@router.post("/users", status_code=201)
def create_user(body: NewUser, ctx: C) -> dict[str, Any]:
    """Create a user (superadmin only)."""
    user = ctx.require_user()
    if not user.is_superadmin:
        ctx.refuse(403, "only a superadmin may create users")
    if ctx.s.scalar(select(User).where(User.username == body.username)):
        raise HTTPException(409, f"user {body.username!r} exists")
    new = auth.create_user(ctx.s, body.username, body.password)
    ctx.log("create", obj=f"user/{new.username}")
    return _ok(ctx, {"id": new.id, "username": new.username})


@router.post("/tokens", status_code=201)
def create_token(body: NewToken, ctx: C) -> dict[str, Any]:
    """A new API token for the caller; the token is shown once (only its hash is kept)."""
    user = ctx.require_user()
    token, row = auth.new_token(ctx.s, user, body.name)
    ctx.log("create", obj=f"token/{row.id}", detail=body.name)
    return _ok(ctx, {"id": row.id, "name": row.name, "token": token})


@router.get("/tokens")
def list_tokens(ctx: C) -> list[dict[str, Any]]:
    user = ctx.require_user()
    rows = ctx.s.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                         .order_by(ApiToken.id)).all()
    ctx.log("read", obj="tokens")
    return _ok(ctx, [{"id": r.id, "name": r.name, "created_at": r.created_at,
                      "revoked_at": r.revoked_at} for r in rows])


@router.delete("/tokens/{token_id}")
def revoke_token(token_id: PId, ctx: C) -> dict[str, Any]:
    user = ctx.require_user()
    row = ctx.s.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise HTTPException(404, f"token {token_id} not found")
    row.revoked_at = row.revoked_at or now()
    ctx.log("update", obj=f"token/{row.id}", detail="revoked")
    return _ok(ctx, {"id": row.id, "revoked_at": row.revoked_at})


# --- workspaces ------------------------------------------------------------------------------
@router.get("/workspaces")
def workspaces(ctx: C) -> list[dict[str, Any]]:
    ctx.require_user()
    return _ok(ctx, service.my_workspaces(ctx))


@router.post("/workspaces", status_code=201)
def create_workspace(body: NewWorkspace, ctx: C) -> dict[str, Any]:
    """Create a workspace (superadmin only); the creator becomes its admin."""
    user = ctx.require_user()
    if not user.is_superadmin:
        ctx.refuse(403, "only a superadmin may create workspaces")
    try:
        ws = service.create_workspace(ctx, body.name)
    except service.Invalid as exc:
        raise _invalid(exc) from None
    return _ok(ctx, {"id": ws.id, "name": ws.name})


@router.get("/workspaces/{ws_id}")
def workspace(ws_id: PId, ctx: C) -> dict[str, Any]:
    ctx.require_user()
    return _ok(ctx, service.workspace_view(ctx, ws_id))


@router.put("/workspaces/{ws_id}/members/{username}")
def set_member(ws_id: PId, username: PUser, body: Member, ctx: C) -> dict[str, Any]:
    """Add a member or change a member's role and clearance (workspace admin)."""
    ctx.require_user()
    try:
        service.set_member(ctx, ws_id, username, body.role, body.cleared)
    except service.Invalid as exc:
        raise _invalid(exc) from None
    return _ok(ctx, {"username": username, "role": body.role, "cleared": body.cleared})


@router.delete("/workspaces/{ws_id}/members/{username}")
def remove_member(ws_id: PId, username: PUser, ctx: C) -> dict[str, Any]:
    ctx.require_user()
    service.remove_member(ctx, ws_id, username)
    return _ok(ctx, {"username": username, "removed": True})


@router.put("/workspaces/{ws_id}/budget")
def set_budget(ws_id: PId, body: BudgetIn, ctx: C) -> dict[str, Any]:
    """Limits on facility power [W], GPU-hours, cost [USD] and CO2e [kg] (null: none)."""
    ctx.require_user()
    return _ok(ctx, service.set_budget(ctx, ws_id, body.model_dump()))


@router.get("/workspaces/{ws_id}/usage")
def usage(ws_id: PId, ctx: C) -> dict[str, Any]:
    ctx.require_user()
    return _ok(ctx, service.usage(ctx, ws_id))


@router.get("/workspaces/{ws_id}/audit")
def workspace_audit(ws_id: PId, ctx: C, action: str | None = Query(None, max_length=32),
                    actor: str | None = Query(None, max_length=64),
                    limit: int = Query(200, ge=1, le=5000)) -> list[dict[str, Any]]:
    """The workspace's audit entries, newest first (workspace admin)."""
    ctx.require_user()
    ws, _ = ctx.workspace(ws_id, "admin")
    rows = audit_rows(ctx, ws.name, action, actor, limit)
    ctx.log("read", workspace=ws.name, obj="audit")
    return _ok(ctx, rows)


@router.get("/audit")
def all_audit(ctx: C, action: str | None = Query(None, max_length=32),
              actor: str | None = Query(None, max_length=64),
              workspace: str | None = Query(None, max_length=200),
              limit: int = Query(200, ge=1, le=5000)) -> list[dict[str, Any]]:
    """The whole audit log, newest first (superadmin)."""
    user = ctx.require_user()
    if not user.is_superadmin:
        ctx.refuse(403, "only a superadmin may read the whole audit log")
    rows = audit_rows(ctx, workspace, action, actor, limit)
    ctx.log("read", obj="audit")
    return _ok(ctx, rows)


def audit_rows(ctx: Ctx, workspace: str | None, action: str | None, actor: str | None,
               limit: int) -> list[dict[str, Any]]:
    q = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if workspace is not None:
        q = q.where(AuditEntry.workspace == workspace)
    if action:
        q = q.where(AuditEntry.action == action)
    if actor:
        q = q.where(AuditEntry.actor == actor)
    return [audit.as_dict(e) for e in ctx.s.scalars(q)]


# --- scenarios -------------------------------------------------------------------------------
@router.post("/workspaces/{ws_id}/validate")
def validate(ws_id: PId, body: ValidateIn, ctx: C) -> dict[str, Any]:
    """Per-field errors of scenario text, before anything runs (empty list: it may run)."""
    ctx.require_user()
    ctx.workspace(ws_id)
    from .scenarios import field_errors

    _, errors = field_errors(body.yaml)
    return _ok(ctx, {"valid": not errors, "errors": errors})


@router.get("/workspaces/{ws_id}/scenarios")
def scenarios(ws_id: PId, ctx: C) -> list[dict[str, Any]]:
    ctx.require_user()
    return _ok(ctx, service.list_scenarios(ctx, ws_id))


@router.post("/workspaces/{ws_id}/scenarios", status_code=201)
def create_scenario(ws_id: PId, body: ScenarioIn, ctx: C) -> dict[str, Any]:
    ctx.require_user()
    try:
        rec = service.create_scenario(ctx, ws_id, body.name, body.yaml)
    except service.Invalid as exc:
        raise _invalid(exc) from None
    return _ok(ctx, {"id": rec.id, "name": rec.name, "version": 1})


@router.get("/workspaces/{ws_id}/scenarios/{sid}")
def scenario(ws_id: PId, sid: PId, ctx: C) -> dict[str, Any]:
    ctx.require_user()
    return _ok(ctx, service.scenario_view(ctx, ws_id, sid))


@router.put("/workspaces/{ws_id}/scenarios/{sid}")
def new_version(ws_id: PId, sid: PId, body: VersionIn, ctx: C) -> dict[str, Any]:
    """Store a new version of the scenario."""
    ctx.require_user()
    try:
        v = service.new_version(ctx, ws_id, sid, body.yaml)
    except service.Invalid as exc:
        raise _invalid(exc) from None
    return _ok(ctx, {"id": sid, "version": v})


@router.get("/workspaces/{ws_id}/scenarios/{sid}/versions/{version}")
def version(ws_id: PId, sid: PId, version: PId, ctx: C) -> dict[str, Any]:
    ctx.require_user()
    ws, rec = service.scenario(ctx, ws_id, sid)
    v = service.version_text(ctx, rec, version)
    ctx.log("read", workspace=ws.name, obj=f"scenario/{rec.id}", detail=f"version {version}")
    return _ok(ctx, {"version": v.version, "yaml": v.yaml_text, "created_at": v.created_at})


@router.get("/workspaces/{ws_id}/scenarios/{sid}/diff")
def diff(ws_id: PId, sid: PId, ctx: C, a: QueryId, b: QueryId) -> dict[str, Any]:
    """Unified diff from version `a` to version `b`."""
    ctx.require_user()
    return _ok(ctx, {"a": a, "b": b, "diff": service.scenario_diff(ctx, ws_id, sid, a, b)})


# --- runs ------------------------------------------------------------------------------------
@router.post("/workspaces/{ws_id}/scenarios/{sid}/runs", status_code=202)
def start_run(ws_id: PId, sid: PId, body: RunIn, ctx: C) -> dict[str, Any]:
    """Queue a run of ``plan`` on a version (default: the newest)."""
    ctx.require_user()
    run = service.start_run(ctx, ws_id, sid, body.version)
    ctx.commit()
    ctx.request.app.state.worker_wake()
    return {"id": run.id, "status": run.status}


@router.get("/workspaces/{ws_id}/runs")
def runs(ws_id: PId, ctx: C) -> list[dict[str, Any]]:
    ctx.require_user()
    return _ok(ctx, service.list_runs(ctx, ws_id))


@router.get("/workspaces/{ws_id}/runs/{rid}")
def run(ws_id: PId, rid: PId, ctx: C) -> dict[str, Any]:
    """A run's status and progress; its numbers unless it is sensitive and you are not
    cleared."""
    ctx.require_user()
    return _ok(ctx, service.run_view(ctx, ws_id, rid))


@router.get("/workspaces/{ws_id}/runs/{rid}/files/{name}")
def run_file(ws_id: PId, rid: PId, name: Literal["plan.json", "report.html", "report.md"],
             ctx: C) -> Response:
    """Export plan.json, report.html or report.md of a finished run."""
    ctx.require_user()
    content, media = service.run_file(ctx, ws_id, rid, name)
    ctx.commit()
    return Response(content, media_type=media, headers=REPORT_HEADERS)


@router.get("/workspaces/{ws_id}/compare")
def compare(ws_id: PId, ctx: C, a: QueryId, b: QueryId) -> dict[str, Any]:
    """Two runs' headline numbers side by side."""
    ctx.require_user()
    return _ok(ctx, service.compare(ctx, ws_id, a, b))


# a stored report is shown in its own sandbox: scripts in it run in an opaque origin with no
# access to the service's cookies or pages
REPORT_HEADERS = {"Content-Security-Policy": "sandbox allow-scripts; default-src 'none'; "
                  "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:",
                  "X-Content-Type-Options": "nosniff"}
