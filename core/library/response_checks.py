"""Checking one response against a data row's assertions.

Standard library only: the exported pytest files embed this module's source, so a case
passes or fails for the same reasons in the app's runner and in a team's own CI.
"""

from __future__ import annotations

import json
from typing import Any

MISSING = object()


def row_checks(row: dict[str, Any]) -> list[Any]:
    """The row's checks; its expected status is always one of them.

    A stored row may predate CaseFlow's checks on reviewers' rows: checks that are not a
    list or not objects are kept as they are, so that they fail the row with a reason.
    """
    given = row.get("checks")
    checks = [] if given is None else list(given) if isinstance(given, list) else [given]
    if not any(isinstance(check, dict) and check.get("kind") == "status" for check in checks):
        checks.insert(0, {"kind": "status", "path": None, "expected": row.get("expected_status")})
    return checks


def judge(row: dict[str, Any], status_code: int, text: str) -> tuple[list[str], dict[str, int] | None]:
    """Why the response fails the row's checks, and the spec drift it shows (None when none).

    A server that answers another status of the same class than documented (201 for 200, 400 for
    422) keeps to the row's meaning: that is spec drift, reported with both values, not a failure.
    """
    checks = row_checks(row)
    expected = next((check.get("expected") for check in checks if isinstance(check, dict)
                     and check.get("kind") == "status"), None)
    drift = None
    if isinstance(expected, int) and expected != status_code and expected // 100 == status_code // 100 in (2, 4):
        drift = {"documented": expected, "answered": status_code}
        checks = [{**check, "expected": status_code} if isinstance(check, dict) and check.get("kind") == "status"
                  else check for check in checks]
    return failures(checks, status_code, text), drift


def failures(checks: list[Any], status_code: int, text: str) -> list[str]:
    """Why the response fails each check it fails, in check order; empty when it passes them all."""
    found = [check_failure(check, status_code, text) for check in checks]
    return [message for message in found if message]


def check_failure(check: Any, status_code: int, text: str) -> str | None:
    """Why the response fails ``check``, or None when it holds."""
    if not isinstance(check, dict):
        return f"not a check: {check!r}"
    kind, path, expected = check.get("kind"), check.get("path"), check.get("expected")
    if kind == "status":
        return None if status_code == expected else f"status: expected {expected}, got {status_code}"
    if kind == "body_contains":
        return None if str(expected) in text else f"body_contains: the response does not contain {expected!r}"
    if kind not in ("json_path_exists", "json_path_equals"):
        return f"{kind}: unknown check"
    if path is not None and not isinstance(path, str):
        return f"{kind}: the path {path!r} is not text"
    actual = value_at(text, path or "")
    if actual is MISSING:
        return f"{kind} {path}: the response has no {path!r}"
    if kind == "json_path_equals" and actual != expected:
        return f"json_path_equals {path}: expected {expected!r}, got {actual!r}"
    return None


def value_at(text: str, path: str) -> Any:
    """The value at a dotted path ("data.items.0.id") of a JSON text; MISSING when absent or not JSON."""
    try:
        node: Any = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python can parse
        return MISSING
    for part in path.split(".") if path else []:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and (index := _list_index(part, len(node))) is not None:
            node = node[index]
        else:
            return MISSING
    return node


def _list_index(part: str, size: int) -> int | None:
    """``part`` as a position in a list of ``size`` items, or None: ASCII digits, short enough for int()."""
    if not (part.isascii() and part.isdigit()) or len(part) > 18:
        return None
    index = int(part)
    return index if index < size else None
