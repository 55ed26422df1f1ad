"""The configured database, and the one way core code opens a transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from core.config import get_settings
from db.session import Database, get_database


def database() -> Database:
    """The Database at DATABASE_URL."""
    return get_database(get_settings().database_url)


@contextmanager
def session_scope(*, read_only: bool = False) -> Iterator[Session]:
    """A transaction on the configured database: committed at the end, rolled back on error."""
    with database().session(read_only=read_only) as session:
        yield session
