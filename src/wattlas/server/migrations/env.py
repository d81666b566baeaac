"""Alembic environment: runs on the connection :func:`wattlas.server.db.migrate` passes in."""

from __future__ import annotations

from alembic import context

from wattlas.server.db import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - the service always passes its connection
    raise RuntimeError("run migrations through wattlas.server.db.migrate")
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
