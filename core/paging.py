"""One rule for pages of results and free-text search terms, for every listing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_

from core import inputs

MAX_PAGE = 500
"""The most items one page, or one bulk action, may hold."""
MAX_SEARCH = 200
"""The longest search term, in characters (a 100 KB one makes SQLite's LIKE give up)."""


def check(limit: Any, offset: Any = 0) -> None:
    """A limit from 1 to MAX_PAGE and an offset from 0 to the largest row number the databases count."""
    inputs.whole_number(limit, "limit", minimum=1, maximum=MAX_PAGE)
    inputs.whole_number(offset, "offset")


ESCAPE = "\\"
"""The LIKE escape character of a search's pattern."""


def search_term(search: Any) -> str | None:
    """The text a free-text search looks for, or None when there is nothing to search for."""
    if search is None:
        return None
    return inputs.text(search, "The search", limit=MAX_SEARCH).strip() or None


def containing(term: str, *columns: ColumnElement[Any]) -> ColumnElement[bool]:
    """The rows where one of ``columns`` contains ``term``, letter case aside (ILIKE).

    ``%`` and ``_`` in the term are those characters, not LIKE's wildcards: a search for
    ``order_id`` must not match ``order-id`` nor read every row for "order".
    """
    escaped = term.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return or_(*(column.ilike(f"%{escaped}%", escape=ESCAPE) for column in columns))
