"""Alembic environment: run against the connection handed over by engine.persistence.schema."""

from __future__ import annotations

from alembic import context

from engine.persistence.tables import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - always called through engine.persistence.schema
    raise RuntimeError("run migrations through `budgetflow init`, which passes a connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
