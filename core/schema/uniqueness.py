"""Values a server may keep unique (names, slugs, keys, codes, emails, date-times) made different on every run.

Servers refuse a second "alice_chen" with 409, so a case that passed once fails the next day.
Each such string gets a run-time variable (core.schema.variables) where the field's schema
still accepts it and the row still does what it means: a boundary row keeps its exact length,
an invalid row keeps the value it breaks the schema with. A date-time becomes the moment of the
run (``{{$isoTimestamp}}``): some are keys (a run's logical date), and fields resolved in order
keep a start before its end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from core.records import DataRow
from core.schema import variables
from core.schema.validation import accepts, intent_problem, validate_body
from core.schema.values import json_type
from core.schema.walk import (
    Field,
    branch,
    branches_of,
    escape,
    non_null,
    parse_pointer,
    properties,
    related,
    replaced,
    resolve_refs,
)

HINTS = frozenset({"id", "name", "username", "login", "slug", "key", "code", "email", "mail", "handle", "title",
                   "label", "alias", "sku", "account", "identifier", "nick", "nickname"})
"""Words of field names (snake_case or camelCase) whose values servers often keep unique (an id the client
chooses, ``connection_id``, is a key by definition)."""
WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
SUFFIXES = ("_{{$randomInt}}", "-{{$randomInt}}", "{{$randomInt}}", "{{$randomLetters}}", "_{{$randomLetters}}")


def vary(schema: dict[str, Any], rows: list[DataRow], known: Mapping[str, Any] | None = None) -> list[DataRow]:
    """The rows with their unique-looking strings turned into templates that differ on every run (``known``:
    the example values of the variables a case's setup captures)."""
    resolved = resolve_refs(schema)
    return [_vary_row(schema, resolved, row, known or {}) for row in rows]


def may_be_unique(field: Field) -> bool:
    """A string that names or keys something: a uuid, or a field whose name has one of the HINTS."""
    node = field.node
    return _free(node) and (node.get("format") == "uuid"
                            or any(word.lower() in HINTS for word in WORD.findall(field.name)))


def _varied(field: Field) -> bool:
    node = field.node
    return may_be_unique(field) or (_free(node) and node.get("format") == "date-time")


def _free(node: dict[str, Any]) -> bool:
    """A string the document does not fix (no ``enum``/``const``)."""
    return json_type(node) == "string" and "enum" not in node and "const" not in node


def _vary_row(schema: dict[str, Any], resolved: dict[str, Any], row: DataRow, known: Mapping[str, Any]) -> DataRow:
    body = row["body"]
    shown = variables.example(body, known)  # what the branches are told by (a template is no integer)
    for pointer, current in list(_strings(body, "")):
        field = _field_at(resolved, shown, pointer)
        if field is None or not _varied(field) or variables.has_template(current):
            continue
        if row["kind"] == "invalid" and related(pointer, row["pointer"]):
            continue
        exact = row["kind"] == "boundary" and pointer == row["pointer"]  # keep the length it tests
        for candidate in templates(current, field.schema, exact):
            trial = replaced(body, pointer, candidate)
            errors = validate_body(schema, variables.example(trial, known))
            if intent_problem(row["kind"], row["keyword"], row["pointer"], errors) is None:
                body = trial
                break
    return row if body is row["body"] else DataRow(**{**row, "body": body})


def _field_at(schema: dict[str, Any], body: Any, pointer: str) -> Field | None:
    """The field at ``pointer`` in ``body``, through the oneOf/anyOf branch each value on the way is valid
    against (a bulk request's ``actions``: create, update and delete items, each with its own entities)."""
    node, value, name = schema, body, ""
    for part in parse_pointer(pointer):
        node = _taken(node, value)
        if isinstance(value, dict):
            extra = node.get("additionalProperties")
            node, value, name = properties(node).get(part, extra), value.get(part), part
        elif isinstance(value, list) and isinstance(node.get("items"), dict) and part.isdigit():
            node, value = node["items"], value[int(part)]
        else:
            return None
        if not isinstance(node, dict):
            return None
    return Field(pointer=pointer, name=name, schema=_taken(node, value), required=False, depth=pointer.count("/"))


def _taken(node: dict[str, Any], value: Any) -> dict[str, Any]:
    """The node as the branch ``value`` is valid against, when it has branches and one fits."""
    candidates = (branch(node, index) for index in range(len(branches_of(node))))
    return next((candidate for candidate in candidates if accepts(candidate, value)), node)


def _strings(value: Any, pointer: str) -> Iterator[tuple[str, str]]:
    """(pointer, text) of every string in ``value``."""
    if isinstance(value, str):
        yield pointer, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{pointer}/{escape(str(key))}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{pointer}/{index}")


def templates(value: str, node: dict[str, Any], exact: bool) -> list[str]:
    """Templates for ``value``: as long as it when ``exact``, else within the field's maximum length."""
    node = non_null(node)
    if node.get("format") == "uuid":
        return ["{{$uuid}}"]
    if node.get("format") == "date-time":
        return [] if exact else ["{{$isoTimestamp}}"]
    head, at, domain = value.partition("@") if node.get("format") == "email" else (value, "", "")
    limit = len(value) if exact else node.get("maxLength")
    found = []
    for suffix in SUFFIXES:
        size = len(variables.example(suffix))
        keep = len(head) if limit is None else min(len(head), limit - size - len(at) - len(domain))
        if keep >= 1:
            found.append(f"{head[:keep]}{suffix}{at}{domain}")
    if not found and exact and head:  # too short for a suffix: the whole head drawn at random, as long as it is
        found.append(f"{{{{$randomLetters:{min(len(head), 99)}}}}}{at}{domain}")
    return found

