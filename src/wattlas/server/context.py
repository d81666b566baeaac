"""One request's unit of work: the database session, who is asking, and the audit trail.

Audit entries are collected during the request and appended to the chain at
:meth:`Ctx.commit`, in the same transaction as the change they record, under
:data:`wattlas.server.audit.LOCK`. A request that may change data (any method but GET/HEAD/
OPTIONS) holds the lock from its start, so no two writers wait on each other's database lock;
a read takes it only to append its entries and commit. A refusal (401/403) is audited and
committed before the error is raised.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from . import audit, auth
from .db import Membership, User, Workspace

READ_METHODS = ("GET", "HEAD", "OPTIONS")


class Ctx:
    def __init__(self, request: Request, maker: sessionmaker) -> None:
        self.request, self._maker = request, maker
        self._s: Session | None = None
        self.user: User | None = None
        self.via = ""  # "session" | "token"
        self.csrf = ""
        self.client = (request.client.host if request.client else "")[:64]
        self.pending: list[dict[str, str]] = []
        self.holds_lock = False
        self.writes = request.method not in READ_METHODS

    @property
    def s(self) -> Session:
        """The request's database session, opened on first use inside the handler's thread; a
        request that may write takes the audit lock first, so its transaction starts after
        every earlier writer committed."""
        if self._s is None:
            if self.writes and not self.holds_lock:
                audit.LOCK.acquire()
                self.holds_lock = True
            self._s = self._maker()
        return self._s

    def close(self) -> None:
        if self._s is not None:
            self._s.close()
            self._s = None
        if self.holds_lock:
            self.holds_lock = False
            audit.LOCK.release()

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
        self.pending.append({"actor": self.name, "action": action, "workspace": workspace,
                             "obj": obj, "client": self.client, "detail": detail})

    def refuse(self, status: int, message: str, workspace: str = "", obj: str = "") -> Any:
        self.s.rollback()
        self.log("denied", workspace=workspace, obj=obj or self.request.url.path,
                 detail=f"{status} {self.request.method}: {message}")
        self.commit()
        raise HTTPException(status, message)

    def commit(self) -> None:
        """Append the pending audit entries and commit, as one transaction."""
        s = self.s  # a writer takes the lock here if it has not touched the database yet
        if self.holds_lock:
            self._commit()
            return
        # a read: end its read transaction, then append under the lock in a fresh one
        s.commit()
        with audit.LOCK:
            self._commit()

    def _commit(self) -> None:
        audit.append_many(self.s, self.pending)
        self.pending.clear()
        self.s.commit()


async def ctx_dependency(request: Request):  # noqa: ANN201 - a FastAPI dependency with yield
    """The request's :class:`Ctx`. Set up and torn down on the event loop (no worker thread is
    needed to release the lock, so waiting writers can never starve the holder of one)."""
    ctx = Ctx(request, request.app.state.sessions)
    try:
        yield ctx
    finally:
        ctx.close()
