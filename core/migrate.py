"""Bringing a database to the current schema: Alembic migrations, then LangGraph's checkpoint tables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from core.config import PROJECT_ROOT
from core.database import database
from core.workflow.checkpointer import setup_checkpoints
from db.session import Database

MIGRATION_LOCK_KEY = 7_314_020_611  # any constant; shared by every CaseFlow process


def upgrade() -> None:
    """Migrates the configured database to the newest revision; safe to run again, and at once."""
    db = database()
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", db.url.render_as_string(hide_password=False).replace("%", "%%"))
    with _exclusive(db):
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        setup_checkpoints(db)


@contextmanager
def _exclusive(db: Database) -> Iterator[None]:
    """On PostgreSQL, one migrating process at a time (concurrent checkpoint setups race)."""
    if db.is_sqlite:  # SQLite's BEGIN IMMEDIATE already serialises writers
        yield
        return
    with db.engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            connection.commit()
