"""A JSON Schema as a table QA engineers can read: one row per field with its type and constraints."""

from __future__ import annotations

import json
from typing import Any, TypedDict

from core.schema.walk import properties

MAX_DEPTH = 12


class FieldRow(TypedDict):
    """One field of a schema, as the scene viewer shows it."""

    field: str
    """Where the field is: "shipping_address.city", "items[].sku"; "(body)" for the whole body."""
    type: str
    required: bool
    constraints: str
    description: str


def outline(schema: dict[str, Any]) -> list[FieldRow]:
    """Every field of ``schema``, parents first; each shared definition ($defs) follows under its own name."""
    rows: list[FieldRow] = []
    _rows(schema, "", True, rows, 0)
    for name, sub in (schema.get("$defs") or {}).items():
        if isinstance(sub, dict):
            _rows(sub, f"<{name}>", True, rows, 0)
    return rows


def _rows(node: dict[str, Any], where: str, required: bool, out: list[FieldRow], depth: int) -> None:
    out.append(FieldRow(field=where or "(body)", type=type_of(node), required=required,
                        constraints=constraints(node), description=_text(node)))
    if depth >= MAX_DEPTH:
        return
    needed = node.get("required", [])
    for name, sub in properties(node).items():
        if isinstance(sub, dict):
            _rows(sub, f"{where}.{name}" if where else name, name in needed, out, depth + 1)
    items = node.get("items")
    if isinstance(items, dict):
        _rows(items, f"{where}[]", False, out, depth + 1)


def type_of(node: dict[str, Any]) -> str:
    """"string", "integer | null", "→ Category (defined below)", "one of: A | B"."""
    ref = node.get("$ref")
    if isinstance(ref, str):
        return f"→ {ref.rsplit('/', 1)[-1]} (defined below)"
    declared = node.get("type")
    if isinstance(declared, list):
        return " | ".join(str(item) for item in declared)
    if isinstance(declared, str):
        return declared
    for keyword, label in (("anyOf", "any of"), ("oneOf", "one of"), ("allOf", "all of")):
        branches = node.get(keyword)
        if isinstance(branches, list):
            return f"{label}: " + " | ".join(type_of(branch) for branch in branches if isinstance(branch, dict))
    if "const" in node:
        return "constant"
    return "object" if "properties" in node else "any"


def constraints(node: dict[str, Any]) -> str:
    """The node's constraints in words: "length 3-16; pattern ^[a-z]+$"."""
    parts: list[str] = []
    if "const" in node:
        parts.append(f"always {_value(node['const'])}")
    if isinstance(node.get("enum"), list):
        parts.append("one of " + ", ".join(_value(item) for item in node["enum"]))
    parts += _range("length", node.get("minLength"), node.get("maxLength"))
    parts += _range("items", node.get("minItems"), node.get("maxItems"))
    parts += _range("fields", node.get("minProperties"), node.get("maxProperties"))
    for keyword, sign in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<")):
        if isinstance(node.get(keyword), (int, float)) and not isinstance(node.get(keyword), bool):
            parts.append(f"{sign} {_value(node[keyword])}")
    if "multipleOf" in node:
        parts.append(f"multiple of {_value(node['multipleOf'])}")
    if "pattern" in node:
        parts.append(f"pattern {node['pattern']}")
    if "format" in node:
        parts.append(f"format {node['format']}")
    if node.get("uniqueItems") is True:
        parts.append("no duplicates")
    if node.get("additionalProperties") is False:
        parts.append("no other fields")
    if "default" in node:
        parts.append(f"default {_value(node['default'])}")
    return "; ".join(parts)


def _range(what: str, low: Any, high: Any) -> list[str]:
    if low is not None and high is not None:
        return [f"{what} {low}-{high}"]
    if low is not None:
        return [f"{what} ≥ {low}"]
    if high is not None:
        return [f"{what} ≤ {high}"]
    return []


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _text(node: dict[str, Any]) -> str:
    parts = [str(node[key]).strip() for key in ("title", "description") if node.get(key)]
    return " — ".join(parts)
