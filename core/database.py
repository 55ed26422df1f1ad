"""The configured database, and the one way core code opens a transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session

from core.config import get_settings
from core.errors import DatabaseUnavailable
from db.session import Database, get_database

URL_EXAMPLES = "sqlite:///path/to/caseflow.db or postgresql+psycopg2://user:password@host:5432/caseflow"


def database() -> Database:
    """The Database at DATABASE_URL; DatabaseUnavailable when the URL names nothing CaseFlow can open."""
    url = get_settings().database_url
    try:
        return get_database(url)
    except (NoSuchModuleError, ImportError):  # an unknown dialect, or its driver is not installed
        raise DatabaseUnavailable("DATABASE_URL {value} names a database CaseFlow has no driver for; use "
                                  "{url_examples}.",
                                  value=safe_url(url), url_examples=URL_EXAMPLES) from None
    except (ArgumentError, ValueError):  # unparseable, or a port that is not a number
        raise DatabaseUnavailable("DATABASE_URL is not a database URL; use {url_examples}.",
                                  url_examples=URL_EXAMPLES) from None
    except OSError as error:  # the SQLite file's folder cannot be created
        raise DatabaseUnavailable("DATABASE_URL {value} cannot be opened: {error_strerror}.",
                                  value=safe_url(url), error_strerror=error.strerror) from None


def safe_url(url: str) -> str:
    """The URL with its password hidden, or a placeholder when it does not parse (it might hold one)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "(unparseable)"


@contextmanager
def session_scope(*, read_only: bool = False) -> Iterator[Session]:
    """A transaction on the configured database: committed at the end, rolled back on error."""
    with database().session(read_only=read_only) as session:
        yield session
