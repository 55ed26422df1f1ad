"""Bringing a database to the current schema: Alembic migrations, then LangGraph's checkpoint tables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from core import encryption
from core.config import PROJECT_ROOT, get_settings
from core.database import database, safe_url
from core.errors import DatabaseUnavailable
from core.workflow.checkpointer import setup_checkpoints
from db.session import Database

MIGRATION_LOCK_KEY = 7_314_020_611  # any constant; shared by every CaseFlow process
UPGRADE_HINT = "run `python -m core setup` (a new database) or `python -m core db upgrade`"


def upgrade() -> None:
    """Migrates the configured database to the newest revision; safe to run again, and at once."""
    db = database()
    config = alembic_config()
    config.set_main_option("sqlalchemy.url", db.url.render_as_string(hide_password=False).replace("%", "%%"))
    with _exclusive(db):
        try:
            with db.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except RuntimeError as error:  # a migration that refuses the data it finds says why
            raise DatabaseUnavailable("The database cannot be upgraded: {error}", error=error) from None
        setup_checkpoints(db)


def check_ready() -> None:
    """DatabaseUnavailable unless DATABASE_URL opens, the database answers and it has the newest schema.

    Writes nothing: a SQLite file that does not exist yet is not created.
    """
    url = get_settings().database_url
    shown = safe_url(url)
    _check_sqlite_file(url, shown)
    db = database()
    try:
        with db.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig is not None else type(error).__name__
        raise DatabaseUnavailable("Cannot reach the database at {shown}: {reason}",
                                  shown=shown, reason=reason) from None
    newest = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    if current != newest:
        found = ", ".join(sorted(current)) or "none"
        raise DatabaseUnavailable("The database at {shown} does not have CaseFlow's current schema (revision "
                                  "{found}, expected {value}): {upgrade_hint}.",
                                  shown=shown, found=found, value=', '.join(sorted(newest)), upgrade_hint=UPGRADE_HINT)


def _check_sqlite_file(url: str, shown: str) -> None:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return  # database() says what is wrong with the URL
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).exists():
        raise DatabaseUnavailable("There is no database file at {shown}: {upgrade_hint}.",
                                  shown=shown, upgrade_hint=UPGRADE_HINT)


def alembic_config() -> Config:
    """Alembic's config, with core.encryption for the migrations that convert stored secrets."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["secrets"] = encryption
    return config


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
