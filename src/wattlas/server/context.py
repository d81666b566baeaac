"""One request's unit of work: the database session, who is asking, and the audit trail.

Every request that touches the database runs under :data:`wattlas.server.audit.LOCK` (so the
audit chain and the change it records commit together, in order); the handler calls
:meth:`Ctx.commit` before it answers. A refusal (401/403/404) is audited and committed before
the error is raised.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from sqlalchemy.orm import Session

from . import audit, auth
from .db import Membership, User, Workspace


class Ctx:
    def __init__(self, request: Request, s: Session) -> None:
        self.request, self.s = request, s
        self.user: User | None = None
        self.via = ""  # "session" | "token"
        self.csrf = ""
        self.client = (request.client.host if request.client else "")[:64]

    # --- identity -------------------------------------------------------------------------
    def identify(self) -> User | None:
        found = auth.token_of(self.s, self.request.headers.get("authorization"))
        if found:
            self.user, token = found
            self.via = "token"
            self.log("token-use", obj=f"token/{token.id}",
                     detail=f"{self.request.method} {self.request.url.path}")
            return self.user
        found_s = auth.session_of(self.s, self.request.cookies.get(auth.SESSION_COOKIE))
        if found_s:
            self.user, row = found_s
            self.via, self.csrf = "session", row.csrf_token
        return self.user

    def require_user(self, csrf_field: str | None = None) -> User:
        """The signed-in user; 401 without one. A cookie-authenticated change needs the
        session's CSRF token (header ``X-CSRF-Token`` or the form field)."""
        if self.identify() is None:
            self.refuse(401, "sign in (session cookie) or send 'Authorization: Bearer <token>'")
        if (self.via == "session" and self.request.method not in ("GET", "HEAD", "OPTIONS")):
            given = csrf_field or self.request.headers.get("x-csrf-token") or ""
            if not auth.same(given, self.csrf):
                self.refuse(403, "CSRF token missing or wrong (X-CSRF-Token header or "
                                 "csrf_token form field)")
        return self.user  # type: ignore[return-value]

    @property
    def name(self) -> str:
        return self.user.username if self.user else "anonymous"

    # --- workspace access ------------------------------------------------------------------
    def workspace(self, ws_id: int, role: str = "viewer") -> tuple[Workspace, Membership]:
        ws = self.s.get(Workspace, ws_id)
        if ws is None:
            self.refuse(404, f"workspace {ws_id} not found")
        m = auth.membership(self.s, self.user, ws.id)
        if m is None:
            self.refuse(403, f"not a member of workspace {ws.name!r}", workspace=ws.name)
        if not auth.at_least(m, role):
            self.refuse(403, f"needs role {role} in workspace {ws.name!r}; you are {m.role}",
                        workspace=ws.name)
        return ws, m

    # --- audit and commit -----------------------------------------------------------------
    def log(self, action: str, *, workspace: str = "", obj: str = "", detail: str = "") -> None:
        audit.append(self.s, actor=self.name, action=action, workspace=workspace, obj=obj,
                     client=self.client, detail=detail)

    def refuse(self, status: int, message: str, workspace: str = "", obj: str = "") -> Any:
        self.s.rollback()
        self.log("denied", workspace=workspace, obj=obj or self.request.url.path,
                 detail=f"{status} {self.request.method}: {message}")
        self.s.commit()
        raise HTTPException(status, message)

    def commit(self) -> None:
        self.s.commit()


def ctx_dependency(request: Request):  # noqa: ANN201 - a FastAPI dependency with yield
    maker = request.app.state.sessions
    audit.LOCK.acquire()
    try:
        with maker() as s:
            yield Ctx(request, s)
    finally:
        audit.LOCK.release()
