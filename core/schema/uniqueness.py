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
    other_than_null,
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
SUFFIX_SIZES = {suffix: len(variables.example(suffix)) for suffix in SUFFIXES}
"""How long each suffix's value is (the examples are as long as the values of a run)."""


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
    """The row with each unique-looking string made a template its field accepts, where the row still does
    what it means: all at once when the body then keeps its intent (one validation of the whole body), else
    one string at a time (a rule across fields may refuse one of them)."""
    body = row["body"]
    chances = _chances(resolved, row, known)
    at_once = body
    for pointer, candidates, node in chances:
        fitting = next((candidate for candidate in candidates
                        if accepts(node, variables.example(candidate, known))), None)
        at_once = at_once if fitting is None else replaced(at_once, pointer, fitting)
    if at_once is not body and _keeps_intent(schema, row, at_once, known):
        return DataRow(**{**row, "body": at_once})
    for pointer, candidates, _ in chances if at_once is not body else ():
        trial = next((trial for candidate in candidates
                      if _keeps_intent(schema, row, trial := replaced(body, pointer, candidate), known)), None)
        body = body if trial is None else trial
    return row if body is row["body"] else DataRow(**{**row, "body": body})


def _chances(resolved: dict[str, Any], row: DataRow, known: Mapping[str, Any]) -> list[tuple[str, list[str], Any]]:
    """(pointer, templates, schema) of each string of the row's body to vary: not one already a template, nor
    the one an invalid row breaks the schema with."""
    body = row["body"]
    shown = variables.example(body, known)  # what the branches are told by (a template is no integer)
    nodes: dict[str, dict[str, Any] | None] = {"": resolved}
    found = []
    for pointer, current in list(_strings(body, "")):
        field = _field_at(nodes, shown, pointer)
        if field is None or not _varied(field) or variables.has_template(current):
            continue
        if row["kind"] == "invalid" and related(pointer, row["pointer"]):
            continue
        exact = row["kind"] == "boundary" and pointer == row["pointer"]  # keep the length it tests
        found.append((pointer, templates(current, field.schema, exact), field.schema))
    return found


def _keeps_intent(schema: dict[str, Any], row: DataRow, body: Any, known: Mapping[str, Any]) -> bool:
    errors = validate_body(schema, variables.example(body, known))
    return intent_problem(row["kind"], row["keyword"], row["pointer"], errors) is None


def _field_at(nodes: dict[str, dict[str, Any] | None], body: Any, pointer: str) -> Field | None:
    """The field at ``pointer`` in ``body``, through the oneOf/anyOf branch each value on the way takes
    (a bulk request's ``actions``: create, update and delete items, each with its own entities).
    ``nodes``: the schema found at each pointer of the body so far (None: none), shared by its strings."""
    node, value, name, here = nodes[""], body, "", ""
    for part in parse_pointer(pointer):
        below = f"{here}/{escape(part)}"
        if below not in nodes:
            nodes[below] = _child(_taken(node, value), value, part) if node is not None else None
        node, here = nodes[below], below
        if isinstance(value, dict):
            value, name = value.get(part), part
        else:
            value = value[int(part)]
        if node is None:
            return None
    return Field(pointer=pointer, name=name, schema=_taken(node, value), required=False, depth=pointer.count("/"))


def _child(node: dict[str, Any], value: Any, part: str) -> dict[str, Any] | None:
    """The schema of a member or an item of ``value``, which ``node`` describes."""
    if isinstance(value, dict):
        found = properties(node).get(part, node.get("additionalProperties"))
    elif isinstance(value, list) and part.isdigit():
        found = node.get("items")
    else:
        found = None
    return found if isinstance(found, dict) else None


def _taken(node: dict[str, Any], value: Any) -> dict[str, Any]:
    """The node as the branch ``value`` takes, when it has branches and one fits (a nullable field's other
    branch without asking: the value on the way to a string is no null)."""
    found = branches_of(node)
    if not found or other_than_null(found) is not None:
        return non_null(node)
    candidates = (branch(node, index) for index in range(len(found)))
    return next((candidate for candidate in candidates if _fits(candidate, value)), node)


def _fits(node: dict[str, Any], value: Any) -> bool:
    """Whether ``value`` has the shape of ``node``: its type, and for an object its required members, no
    member it forbids, and the fixed values it names (a union's tag: ``"action": "create"``). Not a full
    validation: a recursive union (a trigger made of triggers) inlines to a schema too large to check for
    every string in a body."""
    kind = json_type(node)
    if kind == "object":
        if not isinstance(value, dict) or not set(node.get("required", [])) <= set(value):
            return False
        declared = properties(node)
        if node.get("additionalProperties") is False and not set(value) <= set(declared):
            return False
        return all(_member_fits(declared[name], value[name]) for name in value if name in declared)
    if kind in ("integer", "number"):
        return variables.is_number(value)
    expected = {"array": list, "string": str, "boolean": bool}.get(kind)
    return expected is None or isinstance(value, expected)


def _member_fits(node: dict[str, Any], value: Any) -> bool:
    if "const" in node:
        return bool(node["const"] == value)
    members = node.get("enum")
    return value in members if isinstance(members, list) else True


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
    for suffix, size in SUFFIX_SIZES.items():
        keep = len(head) if limit is None else min(len(head), limit - size - len(at) - len(domain))
        if keep >= 1:
            found.append(f"{head[:keep]}{suffix}{at}{domain}")
    if not found and exact and head:  # too short for a suffix: the whole head drawn at random, as long as it is
        found.append(f"{{{{$randomLetters:{min(len(head), 99)}}}}}{at}{domain}")
    return found

