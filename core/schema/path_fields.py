"""Body fields that name a resource the case's setup makes take the variable its id is captured in.

``PATCH /pools/{pool_name}`` with a body ``{"name": ..., "slots": 5}``: servers refuse a body whose
``name`` differs from the path's ("pool name from request body doesn't match uri parameter"). When
the case's setup captures ``pool_name``, the body's ``pool_name`` or ``name`` (the parameter's last
word) becomes ``{{pool_name}}``, resolved to the same value as the path at every run. A body field
that refers to another resource (``"project_id": 3``), for which the setup creates one and captures
its id under the field's own name, becomes ``{{project_id}}`` too. Either only where the schema still
accepts the row as it means to be, checked with the setup's example values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from core.records import DataRow, SetupStep
from core.schema import variables
from core.schema.validation import intent_problem, validate_body
from core.schema.walk import related

WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
PLACEHOLDER = re.compile(r"\{([^{}/]+)\}")
"""A path parameter in an operation's path: ``{pool_name}``."""


def bind(schema: dict[str, Any], rows: list[DataRow], path: str, setup: list[SetupStep]) -> list[DataRow]:
    """The rows with their top-level fields that name what ``setup`` captures set to its variable."""
    in_path = set(PLACEHOLDER.findall(path))
    keys = {name: _keys(name) if name in in_path else (name,) for step in setup for name in step["captures"]}
    known = variables.setup_examples(setup)
    return [_bound(schema, row, keys, in_path, known) for row in rows] if keys else rows


def _keys(name: str) -> tuple[str, ...]:
    """The body fields that may name a path's resource: the parameter, and its last word (``name``)."""
    words = WORDS.findall(name)
    return tuple(dict.fromkeys((name, words[-1].lower() if words else name)))


def _bound(schema: dict[str, Any], row: DataRow, keys: dict[str, tuple[str, ...]], in_path: set[str],
           known: Mapping[str, Any]) -> DataRow:
    body = row["body"]
    if not isinstance(body, dict):
        return row
    for name, candidates in keys.items():
        key = next((key for key in candidates if isinstance(body.get(key), str)
                    or (name not in in_path and variables.is_number(body.get(key)))), None)
        template = "{{" + name + "}}"
        if key is None or body[key] == template or related(f"/{key}", row["pointer"] or "/"):
            continue
        trial = {**body, key: template}
        errors = validate_body(schema, variables.example(trial, known))
        if intent_problem(row["kind"], row["keyword"], row["pointer"], errors) is None:
            body = trial
    return row if body is row["body"] else DataRow(**{**row, "body": body})
