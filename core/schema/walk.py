"""Walking a request JSON Schema: its fields, the constraints rows target, and JSON pointers."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from core.records import RowKind

LIMIT_KEYWORDS = (
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
)
"""Keywords with a limit: each gets a boundary row exactly at the limit as well as an invalid row."""

NODE_KEYWORDS = (
    "type",
    "const",
    "enum",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "additionalProperties",
)
"""Keywords of one schema node that rows target, in the order rows are planned."""

FORMATS = ("email", "date", "date-time", "uuid", "uri")
"""Formats the offline provider targets and the validator really checks."""

MAX_REF_DEPTH = 8


class InvalidSchemaError(ValueError):
    """The scene's request schema cannot be used (bad JSON Schema, unresolvable $ref)."""


@dataclass(frozen=True, kw_only=True)
class Field:
    """One place in a request body the schema describes."""

    pointer: str
    """Instance pointer; "" for the body, array items as ".../0"."""
    name: str
    """Property name (for array items: the array's name); "" for the body."""
    schema: dict[str, Any]
    required: bool
    """Listed in its parent object's ``required``."""
    depth: int

    @property
    def node(self) -> dict[str, Any]:
        """The schema a value other than null follows: a nullable field's other branch (see non_null)."""
        return non_null(self.schema)


@dataclass(frozen=True, kw_only=True)
class Target:
    """One constraint a boundary or invalid row aims at."""

    kind: RowKind
    keyword: str
    field: Field
    """The constrained field; for "required" the missing property itself."""


def resolve_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` with local "#/..." references inlined (cycles cut after MAX_REF_DEPTH levels).

    Treat the copy as read-only: a part that recurs at the same reference depth is inlined once and shared
    wherever it recurs. As a tree, the copy of a recursive schema grows exponentially with MAX_REF_DEPTH (four
    million nodes, twenty seconds, for one of Prefect's trigger schemas); shared, it stays as small as the schema.
    """
    resolved: dict[str, Any] = _Inliner(schema).inline(schema, 0)
    return resolved


class _Inliner:
    """Inlines the references of one schema, each (node, reference depth) once."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.done: dict[tuple[int, int], tuple[Any, Any]] = {}
        """(id(node), depth) -> (node, its copy); the node is kept so that its id is not reused meanwhile."""

    def inline(self, node: Any, depth: int) -> Any:
        if not isinstance(node, (dict, list)):
            return node
        key = (id(node), depth)
        if key not in self.done:
            self.done[key] = (node, self._copy(node, depth))
        return self.done[key][1]

    def _copy(self, node: dict[str, Any] | list[Any], depth: int) -> Any:
        if isinstance(node, list):
            return [self.inline(item, depth) for item in node]
        ref = node.get("$ref")
        if isinstance(ref, str):
            if depth >= MAX_REF_DEPTH:
                return {}
            target = _lookup(self.root, ref)
            merged = {**target, **{key: value for key, value in node.items() if key != "$ref"}}
            return self.inline(merged, depth + 1)
        return {key: self.inline(value, depth) for key, value in node.items()}


def _lookup(root: dict[str, Any], ref: str) -> dict[str, Any]:
    if not ref.startswith("#"):
        raise InvalidSchemaError(f"Only local $ref values are supported, got {ref!r}.")
    node: Any = root
    for part in parse_pointer(ref[1:]):
        if not isinstance(node, dict) or part not in node:
            raise InvalidSchemaError(f"The $ref {ref!r} points to nothing in the schema.")
        node = node[part]
    if not isinstance(node, dict):
        raise InvalidSchemaError(f"The $ref {ref!r} does not point to a schema object.")
    return node


def properties(node: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Declared properties plus required names without a declaration (as empty schemas)."""
    declared = node.get("properties")
    result = dict(declared) if isinstance(declared, dict) else {}
    for name in node.get("required", []):
        result.setdefault(name, {})
    return result


def branches_of(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The oneOf (else anyOf) branches of a node, as schemas."""
    found = node.get("oneOf") or node.get("anyOf")
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def branch(node: dict[str, Any], index: int) -> dict[str, Any]:
    """The node with its oneOf/anyOf replaced by the branch at ``index`` (the node's own keywords kept)."""
    merged = {key: value for key, value in node.items() if key not in ("anyOf", "oneOf")}
    chosen = branches_of(node)[index]
    if "properties" in merged and "properties" in chosen:
        return {**merged, **chosen, "properties": {**merged["properties"], **chosen["properties"]},
                "required": [*merged.get("required", []), *chosen.get("required", [])]}
    return {**merged, **chosen}


def non_null(node: dict[str, Any]) -> dict[str, Any]:
    """A nullable field's other branch with the node's own keywords (``anyOf: [{"type": "string", "format":
    "date-time"}, {"type": "null"}]``, pydantic's optional field), else the node as it is."""
    index = other_than_null(branches_of(node))
    return node if index is None else branch(node, index)


def other_than_null(branches: list[Any]) -> int | None:
    """The index of X in a nullable pair of branches [X, {"type": "null"}] (either order), else None."""
    others = [index for index, part in enumerate(branches)
              if not (isinstance(part, dict) and part.get("type") == "null")]
    return others[0] if len(branches) == 2 and len(others) == 1 else None


def walk(schema: dict[str, Any]) -> list[Field]:
    """Every field of the schema, parents before children, in declaration order."""
    fields: list[Field] = []
    _walk(Field(pointer="", name="", schema=schema, required=True, depth=0), fields)
    return fields


def _walk(field: Field, out: list[Field]) -> None:
    out.append(field)
    node = field.node  # an optional object's fields are fields too (pydantic: anyOf [{object}, {null}])
    required = node.get("required", [])
    for name, sub in properties(node).items():
        child = Field(
            pointer=f"{field.pointer}/{escape(name)}",
            name=name,
            schema=sub,
            required=name in required,
            depth=field.depth + 1,
        )
        _walk(child, out)
    items = node.get("items")
    if isinstance(items, dict):
        item = Field(
            pointer=f"{field.pointer}/0", name=field.name, schema=items, required=False, depth=field.depth + 1
        )
        _walk(item, out)


def targets(schema: dict[str, Any]) -> list[Target]:
    """The boundary and invalid targets of every field, in walk order."""
    result: list[Target] = []
    for field in walk(schema):
        if field.required and field.depth > 0 and "default" not in field.schema:  # a server fills a default in
            result.append(Target(kind="invalid", keyword="required", field=field))
        for keyword in NODE_KEYWORDS:
            if not constrains(field, keyword):
                continue
            if keyword in LIMIT_KEYWORDS:
                result.append(Target(kind="boundary", keyword=keyword, field=field))
            result.append(Target(kind="invalid", keyword=keyword, field=field))
    return result


def constrains(field: Field, keyword: str) -> bool:
    """Whether ``keyword`` is a constraint of ``field`` that rows can target (a nullable field's, of its other
    branch: a value breaking it is refused whatever the null branch allows)."""
    node = field.node
    if keyword == "type":
        return field.depth > 0 and "type" in node
    if keyword == "format":
        return node.get("format") in FORMATS
    if keyword == "uniqueItems":
        return node.get("uniqueItems") is True
    if keyword == "additionalProperties":
        return node.get("additionalProperties") is False
    if keyword in ("exclusiveMinimum", "exclusiveMaximum"):
        value = node.get(keyword)
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return keyword in node


def escape(name: str) -> str:
    """One JSON pointer segment for a property name."""
    return name.replace("~", "~0").replace("/", "~1")


def parse_pointer(pointer: str) -> list[str]:
    """The unescaped segments of a JSON pointer ("" is the whole document)."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"A JSON pointer must start with '/', got {pointer!r}.")
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


def _container(doc: Any, parts: list[str]) -> Any:
    for part in parts:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def set_at(doc: Any, pointer: str, value: Any) -> None:
    """Set the value at ``pointer`` (its parent must exist) in place."""
    parts = parse_pointer(pointer)
    parent = _container(doc, parts[:-1])
    if isinstance(parent, list):
        parent[int(parts[-1])] = value
    else:
        parent[parts[-1]] = value


def replaced(doc: Any, pointer: str, value: Any) -> Any:
    """A deep copy of ``doc`` with ``value`` at ``pointer``; ``value`` itself for the whole document ("")."""
    if pointer == "":
        return copy.deepcopy(value)
    result = copy.deepcopy(doc)
    set_at(result, pointer, copy.deepcopy(value))
    return result


def without(doc: Any, pointer: str) -> Any:
    """A deep copy of ``doc`` without the object member (or the array item) at ``pointer``."""
    result = copy.deepcopy(doc)
    remove_at(result, pointer)
    return result


def remove_at(doc: Any, pointer: str) -> None:
    """Delete the object member (or the array item) at ``pointer`` in place."""
    parts = parse_pointer(pointer)
    container = _container(doc, parts[:-1])
    del container[int(parts[-1]) if isinstance(container, list) else parts[-1]]


def get_at(doc: Any, pointer: str) -> Any:
    """The value at ``pointer``; KeyError, IndexError or TypeError when absent."""
    return _container(doc, parse_pointer(pointer))


def members(value: Any, pointer: str = "") -> Iterator[str]:
    """The pointer of every object member in ``value``, at any depth, parents first (array items themselves are
    not members)."""
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{pointer}/{escape(str(key))}"
            yield child
            yield from members(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from members(item, f"{pointer}/{index}")


def has_at(doc: Any, pointer: str) -> bool:
    """Whether ``doc`` has a value (null too) at ``pointer``."""
    try:
        get_at(doc, pointer)
    except (KeyError, IndexError, TypeError, ValueError):
        return False
    return True


def display(pointer: str) -> str:
    """A pointer as QA engineers write it: "/items/0/sku" -> "items[0].sku"."""
    text = ""
    for part in parse_pointer(pointer):
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text or "the request body"


_ITEM_INDEX = re.compile(r"/\d+(?=/|$)")


def schema_pointer(pointer: str) -> str:
    """The walk's name for a body pointer: every array index becomes /0, as walk() names items."""
    return _ITEM_INDEX.sub("/0", pointer)


def related(pointer: str, target: str) -> bool:
    """Whether two pointers are the same field or one lies inside the other."""
    return pointer == target or pointer.startswith(f"{target}/") or target.startswith(f"{pointer}/")
