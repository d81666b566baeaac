"""Runs of ``plan`` as background jobs: one worker thread, state and progress in the database.

A run is ``queued`` → ``running`` → ``done`` | ``failed``. The worker takes the oldest queued run,
calls the library's :func:`wattlas.api.plan` on the stored scenario version (the same function
``wattlas plan`` runs) and stores plan.json, report.html and report.md in the run's row.
Progress is stage-level (validated, planned, reports rendered). At start, a run left
``running`` by a crash is queued again, so none stays stuck.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from . import audit
from .db import Run, ScenarioVersion, Workspace, now
from .scenarios import field_errors, headline, over_budget, sensitivity


def requeue_interrupted(maker: sessionmaker) -> int:
    """Queue again every run a crash left ``running``; how many there were."""
    with audit.LOCK, maker() as s:
        n = s.execute(update(Run).where(Run.status == "running").values(
            status="queued", progress_frac=0.0,
            message="interrupted by a restart; queued again")).rowcount
        if n:
            audit.append(s, actor="system", action="run-requeue", detail=f"{n} run(s)")
        s.commit()
        return int(n or 0)


def _set(maker: sessionmaker, run_id: int, **values: Any) -> None:
    with audit.LOCK, maker() as s:
        s.execute(update(Run).where(Run.id == run_id).values(**values))
        s.commit()


def execute(maker: sessionmaker, run_id: int) -> None:
    """Run one claimed run to its end, storing results or the error."""
    from .. import api
    from ..errors import WattlasError
    from ..report import html, markdown

    with maker() as s:
        run = s.get(Run, run_id)
        text = s.get(ScenarioVersion, run.version_id).yaml_text
    data, errors = field_errors(text)
    if errors or data is None:
        _finish(maker, run_id, "failed", "; ".join(f"{e['field']}: {e['message']}"
                                                   for e in errors), {})
        return
    try:
        _set(maker, run_id, progress_frac=0.1, message="planning")
        plan = api.plan(data).to_dict()
        _set(maker, run_id, progress_frac=0.7, message="rendering the reports")
        plan_json = json.dumps(plan, indent=2, allow_nan=False)
        files = {"plan_json": plan_json, "report_html": html.render(plan),
                 "report_md": markdown.render(plan)}
    except WattlasError as exc:
        _finish(maker, run_id, "failed", f"{type(exc).__name__}: {exc}", {})
        return
    except Exception as exc:  # noqa: BLE001 - a failed run is recorded, the worker goes on
        _finish(maker, run_id, "failed", f"internal error: {type(exc).__name__}: {exc}", {})
        return
    _finish(maker, run_id, "done", "done", files, plan)


def _finish(maker: sessionmaker, run_id: int, status: str, message: str,
            files: dict[str, str], plan: dict[str, Any] | None = None) -> None:
    with audit.LOCK, maker() as s:
        run = s.get(Run, run_id)
        ws = s.get(Workspace, run.workspace_id)
        values: dict[str, Any] = {"status": status, "message": message[:2000],
                                  "finished_at": now(), **files}
        if plan is not None:
            numbers = headline(plan)
            reason = sensitivity(plan)
            values.update(numbers, progress_frac=1.0, sensitive=bool(reason),
                          sensitivity_reason=reason,
                          over_budget=",".join(over_budget(numbers, ws)))
        s.execute(update(Run).where(Run.id == run_id).values(**values))
        audit.append(s, actor="system", action=f"run-{status}", workspace=ws.name,
                     obj=f"run/{run_id}")
        s.commit()


def claim(maker: sessionmaker) -> int | None:
    """Mark the oldest queued run ``running`` and return its id (None when none waits)."""
    with audit.LOCK, maker() as s:
        run_id = s.scalar(select(Run.id).where(Run.status == "queued").order_by(Run.id)
                          .limit(1))
        if run_id is None:
            return None
        done = s.execute(update(Run).where(Run.id == run_id, Run.status == "queued")
                         .values(status="running", progress_frac=0.05,
                                 message="validated; starting")).rowcount
        s.commit()
        return run_id if done else None


class Worker:
    """One background thread that works through queued runs."""

    def __init__(self, maker: sessionmaker) -> None:
        self.maker = maker
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="wattlas-runs", daemon=True)

    def start(self) -> None:
        requeue_interrupted(self.maker)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.wake.set()
        self.thread.join(timeout=30)

    def _loop(self) -> None:
        while not self.stop.is_set():
            run_id = claim(self.maker)
            if run_id is None:
                self.wake.wait(1.0)
                self.wake.clear()
                continue
            execute(self.maker, run_id)
