"""A scene's documented responses: the status each kind of row expects, and response schemas."""

from __future__ import annotations

from typing import Any

from core.records import RowKind


def documented_codes(responses: dict[str, Any]) -> list[int]:
    """The documented status codes, ascending (keys like "201"; "default" and "4XX" are ignored)."""
    return sorted(int(key) for key in responses if str(key).isdigit())


def success_status(responses: dict[str, Any]) -> int:
    """The lowest documented 2xx status, else 200."""
    return next((code for code in documented_codes(responses) if 200 <= code < 300), 200)


def error_status(responses: dict[str, Any]) -> int:
    """422 if documented, else 400 if documented, else the lowest documented 4xx, else 400."""
    codes = documented_codes(responses)
    for preferred in (422, 400):
        if preferred in codes:
            return preferred
    return next((code for code in codes if 400 <= code < 500), 400)


def statuses(responses: dict[str, Any]) -> dict[RowKind, int]:
    """The expected status of each kind of row."""
    success = success_status(responses)
    return {"valid": success, "boundary": success, "invalid": error_status(responses)}


def response_schema(responses: dict[str, Any], status: int) -> dict[str, Any] | None:
    """The documented JSON Schema of the response with ``status``, if any."""
    entry = responses.get(str(status))
    schema = entry.get("schema") if isinstance(entry, dict) else None
    return schema if isinstance(schema, dict) else None
