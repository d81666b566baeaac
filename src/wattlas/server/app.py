"""The planning service: the FastAPI application over the wattlas library.

``create_app(url)`` migrates the database to the newest schema, queues again any run a crash
left running, starts the run worker, and serves the JSON API (``/api/``), its schema
(``/openapi.json``) and the web pages. Every response carries a strict Content-Security-Policy
(scripts and styles only from the service's own vendored files), so text a user typed can never
run as script even if it reached a page unescaped.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from .._version import __version__
from . import db
from .jobs import Worker

HERE = Path(__file__).parent
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; "
       "object-src 'none'")


HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"SAMEORIGIN"),
           (b"cache-control", b"no-store")]


class SecurityHeaders:
    """ASGI middleware: the headers above on every response that does not set its own."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in HEADERS if k not in have]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(url: str | None = None, *, worker: bool = True) -> FastAPI:
    engine = db.make_engine(url)
    db.migrate(engine)
    maker = db.sessions(engine)
    runner = Worker(maker)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        if worker:
            runner.start()
        yield
        if worker:
            runner.close()
        engine.dispose()

    app = FastAPI(title="wattlas planning service", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.sessions = maker
    app.state.engine = engine
    app.state.worker_wake = runner.wake.set
    app.state.runner = runner

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's 422 shape, without echoing the input back (a refusal never quotes it)
        detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""),
                   "type": e.get("type", "")} for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    app.add_middleware(SecurityHeaders)

    from . import api, web

    app.include_router(api.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app
