"""One rule for pages of results and free-text search terms, for every listing."""

from __future__ import annotations

from core.errors import InvalidInput

MAX_PAGE = 500
"""The most items one page, or one bulk action, may hold."""


def check(limit: int, offset: int = 0) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be from 1 to {MAX_PAGE}.")
    if offset < 0:
        raise InvalidInput("offset cannot be negative.")


def search_term(search: str | None) -> str | None:
    """The LIKE pattern for a free-text search, or None when there is nothing to search for."""
    if search is None or not search.strip():
        return None
    return f"%{search.strip()}%"
