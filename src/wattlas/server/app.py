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

    @app.middleware("http")
    async def _headers(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    from . import api, web

    app.include_router(api.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app
