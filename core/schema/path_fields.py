"""A body field that names the resource the path names takes the path's variable.

``PATCH /pools/{pool_name}`` with a body ``{"name": ..., "slots": 5}``: servers refuse a body whose
``name`` differs from the path's ("pool name from request body doesn't match uri parameter"). When
the case's setup captures ``pool_name``, the body's ``pool_name`` or ``name`` (the parameter's last
word) becomes ``{{pool_name}}``, resolved to the same value as the path at every run — where the
schema still accepts the row as it means to be.
"""

from __future__ import annotations

import re
from typing import Any

from core.records import DataRow
from core.schema import variables
from core.schema.validation import intent_problem, validate_body
from core.schema.walk import related

WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def bind(schema: dict[str, Any], rows: list[DataRow], names: list[str]) -> list[DataRow]:
    """The rows with their top-level fields that name a path variable of ``names`` set to it."""
    return [_bound(schema, row, names) for row in rows] if names else rows


def _bound(schema: dict[str, Any], row: DataRow, names: list[str]) -> DataRow:
    body = row["body"]
    if not isinstance(body, dict):
        return row
    for name in names:
        words = WORDS.findall(name)
        key = next((key for key in (name, words[-1].lower() if words else name) if isinstance(body.get(key), str)),
                   None)
        template = "{{" + name + "}}"
        if key is None or body[key] == template or related(f"/{key}", row["pointer"] or "/"):
            continue
        trial = {**body, key: template}
        errors = validate_body(schema, variables.example(trial))
        if intent_problem(row["kind"], row["keyword"], row["pointer"], errors) is None:
            body = trial
    return row if body is row["body"] else DataRow(**{**row, "body": body})
