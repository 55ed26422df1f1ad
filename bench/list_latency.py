"""How long core.service.list_tasks takes for the pages the dashboard's task table asks for."""

from __future__ import annotations

from functools import partial
from typing import Any

from bench.backends import OTHER_USERS
from bench.timing import sample, summarise
from core import service

PAGE = 25  # pages/tasks.py's PAGE_SIZE; it reloads the page every two seconds
SEARCH = "注册"  # "registration": in the names of two of the ten demo test cases


OWNER_PAGE = {"user": OTHER_USERS[0], "limit": PAGE}


def queries() -> dict[str, dict[str, Any]]:
    """The list_tasks calls measured, by the label the report shows."""
    return {
        "first page": {"limit": PAGE},
        "status = reviewing": {"status": "reviewing", "limit": PAGE},
        f"owner = {OTHER_USERS[0]}": OWNER_PAGE,
        f"search '{SEARCH}'": {"search": SEARCH, "limit": PAGE},
    }


def measure(calls: int, search_calls: int, warmup: int,
            measured: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Per query (default: :func:`queries`): the latency summary and how many tasks matched (``total``)."""
    results = {}
    for label, arguments in (measured or queries()).items():
        count = search_calls if "search" in arguments else calls
        summary: dict[str, Any] = summarise(sample(partial(_list, arguments), count, warmup))
        results[label] = {**summary, "total": service.list_tasks(**arguments)["total"]}
    return results


def _list(arguments: dict[str, Any], _index: int) -> None:
    service.list_tasks(**arguments)
