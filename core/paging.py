"""One rule for pages of results and free-text search terms, for every listing."""

from __future__ import annotations

from typing import Any

from core import inputs

MAX_PAGE = 500
"""The most items one page, or one bulk action, may hold."""
MAX_SEARCH = 200
"""The longest search term, in characters (a 100 KB one makes SQLite's LIKE give up)."""


def check(limit: Any, offset: Any = 0) -> None:
    """A limit from 1 to MAX_PAGE and an offset from 0 to the largest row number the databases count."""
    inputs.whole_number(limit, "limit", minimum=1, maximum=MAX_PAGE)
    inputs.whole_number(offset, "offset")


def search_term(search: Any) -> str | None:
    """The LIKE pattern for a free-text search, or None when there is nothing to search for."""
    if search is None:
        return None
    term = inputs.text(search, "The search", limit=MAX_SEARCH).strip()
    return f"%{term}%" if term else None
