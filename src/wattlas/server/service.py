"""What the JSON API and the web pages both do, over one request's :class:`Ctx`.

Each function checks the caller's role, makes the change, appends the audit entry and leaves
the commit to the caller. Sensitive runs: a member without the workspace's ``cleared`` flag
sees that the run exists (id, status, label), never its numbers or files.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException
from sqlalchemy import func, select

from . import auth
from .context import Ctx
from .db import ROLES, Membership, Run, ScenarioRecord, ScenarioVersion, User, Workspace
from .scenarios import BUDGET_KEYS, diff, field_errors

FILES = {"plan.json": ("plan_json", "application/json"),
         "report.html": ("report_html", "text/html; charset=utf-8"),
         "report.md": ("report_md", "text/markdown; charset=utf-8")}


class Invalid(Exception):
    """Per-field validation errors (HTTP 422)."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


# --- workspaces and members -------------------------------------------------------------------
def my_workspaces(ctx: Ctx) -> list[dict[str, Any]]:
    rows = ctx.s.execute(select(Workspace, Membership).join(
        Membership, Membership.workspace_id == Workspace.id).where(
        Membership.user_id == ctx.user.id).order_by(Workspace.name)).all()
    ctx.log("read", obj="workspaces")
    return [{"id": w.id, "name": w.name, "role": m.role, "cleared": m.cleared} for w, m in rows]


def create_workspace(ctx: Ctx, name: str) -> Workspace:
    if ctx.s.scalar(select(Workspace).where(Workspace.name == name)):
        raise Invalid([{"field": "name", "message": f"a workspace named {name!r} exists"}])
    ws = Workspace(name=name)
    ctx.s.add(ws)
    ctx.s.flush()
    ctx.s.add(Membership(workspace_id=ws.id, user_id=ctx.user.id, role="admin", cleared=False))
    ctx.log("create", workspace=name, obj=f"workspace/{ws.id}")
    return ws


def workspace_view(ctx: Ctx, ws_id: int) -> dict[str, Any]:
    ws, m = ctx.workspace(ws_id)
    members = ctx.s.execute(select(User.username, Membership.role, Membership.cleared).join(
        Membership, Membership.user_id == User.id).where(Membership.workspace_id == ws.id)
        .order_by(User.username)).all()
    ctx.log("read", workspace=ws.name, obj=f"workspace/{ws.id}")
    return {"id": ws.id, "name": ws.name, "your_role": m.role, "you_are_cleared": m.cleared,
            "budget": budget_of(ws),
            "members": [{"username": u, "role": r, "cleared": c} for u, r, c in members]}


def budget_of(ws: Workspace) -> dict[str, float | None]:
    return {key: getattr(ws, col) for key, col in BUDGET_KEYS}


def set_member(ctx: Ctx, ws_id: int, username: str, role: str, cleared: bool) -> None:
    ws, _ = ctx.workspace(ws_id, "admin")
    if role not in ROLES:
        raise Invalid([{"field": "role", "message": f"{role!r}; allowed: {', '.join(ROLES)}"}])
    user = ctx.s.scalar(select(User).where(User.username == username))
    if user is None:
        raise HTTPException(404, f"user {username!r} not found")
    m = auth.membership(ctx.s, user, ws.id)
    before = f"{m.role}, cleared={m.cleared}" if m else "not a member"
    if m is None:
        m = Membership(workspace_id=ws.id, user_id=user.id, role=role, cleared=cleared)
        ctx.s.add(m)
    else:
        m.role, m.cleared = role, cleared
    ctx.log("membership", workspace=ws.name, obj=f"user/{username}",
            detail=f"{before} -> {role}, cleared={cleared}")


def remove_member(ctx: Ctx, ws_id: int, username: str) -> None:
    ws, _ = ctx.workspace(ws_id, "admin")
    user = ctx.s.scalar(select(User).where(User.username == username))
    m = auth.membership(ctx.s, user, ws.id) if user else None
    if m is None:
        raise HTTPException(404, f"{username!r} is not a member of {ws.name!r}")
    ctx.s.delete(m)
    ctx.log("membership", workspace=ws.name, obj=f"user/{username}",
            detail=f"{m.role} -> removed")


def set_budget(ctx: Ctx, ws_id: int, limits: dict[str, float | None]) -> dict[str, Any]:
    ws, _ = ctx.workspace(ws_id, "admin")
    for key, col in BUDGET_KEYS:
        setattr(ws, col, limits.get(key))
    ctx.log("update", workspace=ws.name, obj=f"workspace/{ws.id}/budget",
            detail=json.dumps(limits, sort_keys=True))
    return budget_of(ws)


def usage(ctx: Ctx, ws_id: int) -> dict[str, Any]:
    """Cost and emissions of the workspace's finished runs, in total and per user."""
    ws, _ = ctx.workspace(ws_id)
    cols = (func.count(Run.id), func.sum(Run.cost_usd), func.sum(Run.co2e_kg),
            func.sum(Run.gpu_hours))
    base = select(*cols).where(Run.workspace_id == ws.id, Run.status == "done")
    n, usd, co2, gh = ctx.s.execute(base).one()
    per = ctx.s.execute(select(User.username, *cols).join(User, User.id == Run.created_by)
                        .where(Run.workspace_id == ws.id, Run.status == "done")
                        .group_by(User.username).order_by(User.username)).all()
    ctx.log("read", workspace=ws.name, obj=f"workspace/{ws.id}/usage")

    def row(n: int, usd: Any, co2: Any, gh: Any) -> dict[str, Any]:
        return {"runs": int(n), "cost_usd": float(usd or 0.0), "co2e_kg": float(co2 or 0.0),
                "gpu_hours": float(gh or 0.0)}

    return {"workspace": row(n, usd, co2, gh),
            "per_user": [{"username": u, **row(*rest)} for u, *rest in per]}


# --- scenarios -----------------------------------------------------------------------------
def _version_no(ctx: Ctx, sid: int) -> int:
    return int(ctx.s.scalar(select(func.max(ScenarioVersion.version))
                            .where(ScenarioVersion.scenario_id == sid)) or 0)


def create_scenario(ctx: Ctx, ws_id: int, name: str, yaml_text: str) -> ScenarioRecord:
    ws, _ = ctx.workspace(ws_id, "planner")
    _, errors = field_errors(yaml_text)
    if errors:
        raise Invalid(errors)
    rec = ScenarioRecord(workspace_id=ws.id, name=name, created_by=ctx.user.id)
    ctx.s.add(rec)
    ctx.s.flush()
    ctx.s.add(ScenarioVersion(scenario_id=rec.id, version=1, yaml_text=yaml_text,
                              created_by=ctx.user.id))
    ctx.log("create", workspace=ws.name, obj=f"scenario/{rec.id}", detail="version 1")
    return rec


def scenario(ctx: Ctx, ws_id: int, sid: int, role: str = "viewer"
             ) -> tuple[Workspace, ScenarioRecord]:
    ws, _ = ctx.workspace(ws_id, role)
    rec = ctx.s.get(ScenarioRecord, sid)
    if rec is None or rec.workspace_id != ws.id:
        raise HTTPException(404, f"scenario {sid} not found in workspace {ws.name!r}")
    return ws, rec


def new_version(ctx: Ctx, ws_id: int, sid: int, yaml_text: str) -> int:
    ws, rec = scenario(ctx, ws_id, sid, "planner")
    _, errors = field_errors(yaml_text)
    if errors:
        raise Invalid(errors)
    v = _version_no(ctx, rec.id) + 1
    ctx.s.add(ScenarioVersion(scenario_id=rec.id, version=v, yaml_text=yaml_text,
                              created_by=ctx.user.id))
    ctx.log("update", workspace=ws.name, obj=f"scenario/{rec.id}", detail=f"version {v}")
    return v


def list_scenarios(ctx: Ctx, ws_id: int) -> list[dict[str, Any]]:
    ws, _ = ctx.workspace(ws_id)
    recs = ctx.s.scalars(select(ScenarioRecord).where(ScenarioRecord.workspace_id == ws.id)
                         .order_by(ScenarioRecord.id)).all()
    ctx.log("read", workspace=ws.name, obj="scenarios")
    return [{"id": r.id, "name": r.name, "versions": _version_no(ctx, r.id)} for r in recs]


def versions(ctx: Ctx, rec: ScenarioRecord) -> list[ScenarioVersion]:
    return list(ctx.s.scalars(select(ScenarioVersion).where(
        ScenarioVersion.scenario_id == rec.id).order_by(ScenarioVersion.version)))


def scenario_view(ctx: Ctx, ws_id: int, sid: int) -> dict[str, Any]:
    """The scenario, the list of its versions and the newest version's text."""
    ws, rec = scenario(ctx, ws_id, sid)
    vs = ctx.s.execute(select(ScenarioVersion.version, ScenarioVersion.created_at).where(
        ScenarioVersion.scenario_id == rec.id).order_by(ScenarioVersion.version)).all()
    ctx.log("read", workspace=ws.name, obj=f"scenario/{rec.id}")
    text = version_text(ctx, rec, vs[-1][0]).yaml_text if vs else ""
    return {"id": rec.id, "name": rec.name, "workspace_id": ws.id,
            "versions": [{"version": v, "created_at": at} for v, at in vs], "yaml": text}


def version_text(ctx: Ctx, rec: ScenarioRecord, version: int) -> ScenarioVersion:
    v = ctx.s.scalar(select(ScenarioVersion).where(ScenarioVersion.scenario_id == rec.id,
                                                   ScenarioVersion.version == version))
    if v is None:
        raise HTTPException(404, f"scenario {rec.id} has no version {version}")
    return v


def scenario_diff(ctx: Ctx, ws_id: int, sid: int, a: int, b: int) -> str:
    ws, rec = scenario(ctx, ws_id, sid)
    va, vb = version_text(ctx, rec, a), version_text(ctx, rec, b)
    ctx.log("read", workspace=ws.name, obj=f"scenario/{rec.id}", detail=f"diff {a}..{b}")
    return diff(va.yaml_text, vb.yaml_text, f"{rec.name} v{a}", f"{rec.name} v{b}")


# --- runs ----------------------------------------------------------------------------------
def start_run(ctx: Ctx, ws_id: int, sid: int, version: int | None) -> Run:
    ws, rec = scenario(ctx, ws_id, sid, "planner")
    v = version_text(ctx, rec, version or _version_no(ctx, rec.id))
    run = Run(workspace_id=ws.id, scenario_id=rec.id, version_id=v.id,
              created_by=ctx.user.id)
    ctx.s.add(run)
    ctx.s.flush()
    ctx.log("run", workspace=ws.name, obj=f"run/{run.id}",
            detail=f"scenario/{rec.id} version {v.version}")
    return run


def get_run(ctx: Ctx, ws_id: int, rid: int) -> tuple[Workspace, Membership, Run]:
    ws, m = ctx.workspace(ws_id)
    run = ctx.s.get(Run, rid)
    if run is None or run.workspace_id != ws.id:
        raise HTTPException(404, f"run {rid} not found in workspace {ws.name!r}")
    return ws, m, run


def may_open(m: Membership, run: Run) -> bool:
    return not run.sensitive or m.cleared


def run_summary(ctx: Ctx, run: Run, m: Membership) -> dict[str, Any]:
    """A run as a member may see it: existence and label always; contents when allowed."""
    rec = ctx.s.get(ScenarioRecord, run.scenario_id)
    ver = ctx.s.get(ScenarioVersion, run.version_id)
    out: dict[str, Any] = {"id": run.id, "scenario_id": run.scenario_id,
                           "scenario": rec.name if rec else "", "version": ver.version,
                           "status": run.status, "progress_frac": run.progress_frac,
                           "created_at": run.created_at, "finished_at": run.finished_at,
                           "sensitive": run.sensitive, "restricted": not may_open(m, run)}
    if may_open(m, run):
        out.update(message=run.message, sensitivity_reason=run.sensitivity_reason,
                   facility_power_w=run.facility_power_w, gpu_hours=run.gpu_hours,
                   cost_usd=run.cost_usd, co2e_kg=run.co2e_kg,
                   over_budget=[k for k in run.over_budget.split(",") if k])
    return out


def list_runs(ctx: Ctx, ws_id: int) -> list[dict[str, Any]]:
    ws, m = ctx.workspace(ws_id)
    runs = ctx.s.scalars(select(Run).where(Run.workspace_id == ws.id).order_by(Run.id.desc())
                         .limit(500)).all()
    ctx.log("read", workspace=ws.name, obj="runs")
    return [run_summary(ctx, r, m) for r in runs]


def run_view(ctx: Ctx, ws_id: int, rid: int) -> dict[str, Any]:
    ws, m, run = get_run(ctx, ws_id, rid)
    ctx.log("read", workspace=ws.name, obj=f"run/{run.id}",
            detail="restricted" if not may_open(m, run) else "")
    return run_summary(ctx, run, m)


def run_file(ctx: Ctx, ws_id: int, rid: int, name: str) -> tuple[str, str]:
    """(content, media type) of one stored file of a finished run (an export)."""
    ws, m, run = get_run(ctx, ws_id, rid)
    if name not in FILES:
        raise HTTPException(404, f"no file {name!r}; files: {', '.join(FILES)}")
    if not may_open(m, run):
        ctx.refuse(403, f"run {run.id} is labelled sensitive; only cleared members may open "
                        "or export it", workspace=ws.name, obj=f"run/{run.id}")
    col, media = FILES[name]
    content = getattr(run, col)
    if content is None:
        raise HTTPException(409, f"run {run.id} is {run.status}: no {name}")
    ctx.log("export", workspace=ws.name, obj=f"run/{run.id}", detail=name)
    return content, media


COMPARE_KEYS = (("training.gpus", "GPUs", ""), ("training.mfu", "MFU", ""),
                ("training.training_time_s", "training time", "s"),
                ("training.gpu_hours", "GPU-hours", "h"),
                ("energy.facility_power_w", "facility power", "W"),
                ("energy.energy_j", "energy", "J"), ("energy.co2e_kg", "CO2e", "kg"),
                ("energy.cost_usd_total", "total cost", "USD"),
                ("serving.energy_per_token_j", "energy per token", "J"))


def compare(ctx: Ctx, ws_id: int, a: int, b: int) -> dict[str, Any]:
    """Two runs side by side: the headline numbers of each (both must be openable)."""
    plans = []
    for rid in (a, b):
        ws, m, run = get_run(ctx, ws_id, rid)
        if not may_open(m, run):
            ctx.refuse(403, f"run {run.id} is sensitive; only cleared members may open it",
                       workspace=ws.name, obj=f"run/{run.id}")
        if run.plan_json is None:
            raise HTTPException(409, f"run {run.id} is {run.status}: nothing to compare")
        plans.append(json.loads(run.plan_json))
    rows = []
    for path, label, unit in COMPARE_KEYS:
        vals = [_lookup(p, path) for p in plans]
        if any(v is not None for v in vals):
            rows.append({"key": path, "label": label, "unit": unit, "a": vals[0], "b": vals[1]})
    ctx.log("read", workspace=ws.name, obj=f"run/{a},run/{b}", detail="compare")
    return {"a": a, "b": b, "rows": rows}


def _lookup(plan: dict[str, Any], path: str) -> float | None:
    node: Any = plan
    for key in path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None
