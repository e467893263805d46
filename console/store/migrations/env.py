"""Alembic environment: runs on the engine the console hands it (no alembic.ini needed)."""

from __future__ import annotations

from alembic import context

from console.store.schema import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    context.run_migrations()
