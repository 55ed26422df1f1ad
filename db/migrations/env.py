"""Alembic environment: migrates the database named by the config or DATABASE_URL."""

from __future__ import annotations

import os
import warnings

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.exc import SAWarning

from db.models import Base, own_tables_only

config = context.config

# SQLite's batch migrations reflect workflow_tasks and, through its foreign keys, users; SQLAlchemy cannot reflect
# users' index on lower(username) and says so on every upgrade. users is never copied by a batch, so its index stays.
warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index "
                        "uq_users_username_lower", category=SAWarning)


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("No database URL: set DATABASE_URL or run `python -m core db upgrade`.")
    return url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=Base.metadata, literal_binds=True, render_as_batch=True,
                      include_object=own_tables_only)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                      include_object=own_tables_only)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
