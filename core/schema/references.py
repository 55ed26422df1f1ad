"""Body fields that refer to another resource, and leaving out the optional ids that nothing makes.

A field named like ``project_id`` or ``flowId`` refers to a resource of another collection. When the
case's setup makes one, the field takes its variable (core.schema.path_fields). When nothing does,
an invented id names nothing: a server answers 404, or 409 for a broken foreign key, to a body that
is otherwise right ("default_queue_id": a uuid no queue has). Such a field, when it is optional and
holds an id no person could have chosen (a uuid or an integer), is left out of the rows (a required
one that may be null is sent as null), except where a row targets it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from core.records import DataRow
from core.schema import variables
from core.schema.validation import intent_problem, validate_body
from core.schema.values import json_type
from core.schema.walk import Field, get_at, members, related, replaced, resolve_refs, schema_pointer, walk, without

REFERENCE = re.compile(r"(?P<noun>[A-Za-z][A-Za-z0-9_]*?)_?(?:[iI]d|ID|[uU]uid|[nN]ame)")
"""A field that refers to another resource: ``project_id``, ``flowId``, ``owner_uuid``, ``work_pool_name`` (by
its name: the created resource's ``name`` is captured, never its id)."""
BY_ID = re.compile(r"(?P<noun>[A-Za-z][A-Za-z0-9_]*?)_?(?:[iI]d|ID|[uU]uid)")
"""A reference by an id (not by a name, which a person may choose)."""


def word(text: str) -> str:
    """Letters and digits only, lower case: how a field's noun and a collection's name are compared."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def without_made_up_ids(schema: dict[str, Any], rows: list[DataRow], path: str, captured: set[str],
                        known: Mapping[str, Any] | None = None) -> list[DataRow]:
    """The rows without their optional uuid or integer references to resources that neither the path names
    nor the setup makes (``captured``: the variables its steps capture); a required one that may be null is
    null."""
    own = {word(part) for part in path.split("/") if part and "{" not in part}
    own |= {item[:-1] for item in own if item.endswith("s")}
    fields = {field.pointer: field for field in walk(resolve_refs(schema)) if _made_up(field, own, captured)}
    return [_without(schema, fields, row, known or {}) for row in rows] if fields else rows


def _made_up(field: Field, own: set[str], captured: set[str]) -> bool:
    match = BY_ID.fullmatch(field.name) if field.depth >= 1 and (not field.required or _nullable(field)) else None
    if match is None or field.name in captured or word(match["noun"]) in own:
        return False
    node = field.node
    return (json_type(node) == "integer" or (json_type(node) == "string" and node.get("format") == "uuid")) \
        and "enum" not in node and "const" not in node


def _nullable(field: Field) -> bool:
    declared = field.schema.get("type")
    return field.node is not field.schema or (isinstance(declared, list) and "null" in declared)


def _without(schema: dict[str, Any], fields: dict[str, Field], row: DataRow, known: Mapping[str, Any]) -> DataRow:
    body = row["body"]
    for pointer in reversed(list(members(body))):  # the last first: earlier array indexes stay right
        field = fields.get(schema_pointer(pointer))
        if field is None or related(pointer, row["pointer"] or "/") or get_at(body, pointer) is None:
            continue
        trial = replaced(body, pointer, None) if field.required else without(body, pointer)
        errors = validate_body(schema, variables.example(trial, known))
        if intent_problem(row["kind"], row["keyword"], row["pointer"], errors) is None:
            body = trial
    return row if body is row["body"] else DataRow(**{**row, "body": body})

