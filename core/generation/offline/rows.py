"""Offline rows: names and descriptions of the schema's targets, and request bodies that hit them."""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Iterator
from typing import Any

from core.generation.offline.variants import boundary_values, invalid_values
from core.records import RowKind, RowPlan
from core.schema.validation import intent_problem, validate_body
from core.schema.values import sample
from core.schema.walk import (
    Field,
    Target,
    branch,
    branches_of,
    constrains,
    display,
    get_at,
    has_at,
    properties,
    replaced,
    set_at,
    targets,
    walk,
    without,
)

BASELINE = "baseline_valid"
EXTRA_PROPERTY = "unexpected_field"
MAX_CANDIDATES = 40
"""Candidate bodies tried per row before giving up on it."""


def row_name(kind: str, keyword: str, pointer: str) -> str:
    """A snake_case row name: "/items/0/quantity" + maximum + invalid -> "items_quantity_maximum_invalid"."""
    parts = [part for part in pointer.strip("/").split("/") if part]
    last = len(parts) - 1
    words = [("item" if index == last else "") if part.isdigit() else part for index, part in enumerate(parts)]
    field = "_".join(re.sub(r"\W+", "_", word).strip("_") for word in words if word) or "body"
    return f"{field}_{keyword}_{kind}"


def describe(target: Target) -> str:
    """A short sentence saying what the row does, for QA engineers."""
    keyword, node, field = target.keyword, target.field.node, display(target.field.pointer)
    limit = node.get(keyword)
    if target.kind == "boundary":
        unit = "item(s)" if keyword.endswith("Items") else "character(s)" if keyword.endswith("Length") else ""
        side = "smallest" if keyword.startswith(("min", "exclusiveMin")) else "largest"
        if unit:
            return f"Send {field} with exactly {limit} {unit}, the {side} count allowed."
        return f"Set {field} to the {side} value allowed by {keyword} {limit}."
    return _invalid_sentences(field, limit, node).get(keyword, f"Break {keyword} on {field}.")


def _invalid_sentences(field: str, limit: Any, node: dict[str, Any]) -> dict[str, str]:
    return {
        "required": f"Leave out the required field {field}.",
        "type": f"Send {field} with the wrong JSON type (expected {node.get('type')}).",
        "const": f"Set {field} to something other than its fixed value {json.dumps(limit, ensure_ascii=False)}.",
        "enum": f"Set {field} to a value outside the allowed list {json.dumps(limit, ensure_ascii=False)}.",
        "minLength": f"Make {field} one character shorter than the minimum length {limit}.",
        "maxLength": f"Make {field} one character longer than the maximum length {limit}.",
        "pattern": f"Set {field} to a value that does not match the pattern {limit}.",
        "format": f"Set {field} to a value that is not a valid {limit}.",
        "minimum": f"Set {field} just below the minimum {limit}.",
        "maximum": f"Set {field} just above the maximum {limit}.",
        "exclusiveMinimum": f"Set {field} to {limit} or less, which the exclusive minimum forbids.",
        "exclusiveMaximum": f"Set {field} to {limit} or more, which the exclusive maximum forbids.",
        "multipleOf": f"Set {field} to a value that is not a multiple of {limit}.",
        "minItems": f"Send {field} with fewer than {limit} item(s).",
        "maxItems": f"Send {field} with more than {limit} item(s).",
        "uniqueItems": f"Send {field} with the same item twice.",
        "additionalProperties": f"Add an undocumented property {EXTRA_PROPERTY!r} to {field}.",
    }


def baseline_plan(status: int) -> RowPlan:
    """The plain valid row: every documented field with realistic values."""
    return RowPlan(
        name=BASELINE,
        kind="valid",
        keyword=None,
        pointer="",
        description="A complete valid request with every documented field filled in realistically.",
        expected_status=status,
    )


def target_plans(schema: dict[str, Any], statuses: dict[RowKind, int]) -> list[tuple[RowPlan, Target]]:
    """One plan per boundary or invalid target of the schema, names made unique."""
    plans: list[tuple[RowPlan, Target]] = []
    seen = {BASELINE}
    for target in targets(schema):
        name = row_name(target.kind, target.keyword, target.field.pointer)
        unique, number = name, 2
        while unique in seen:
            unique, number = f"{name}_{number}", number + 1
        seen.add(unique)
        plan = RowPlan(
            name=unique,
            kind=target.kind,
            keyword=target.keyword,
            pointer=target.field.pointer,
            description=describe(target),
            expected_status=statuses[target.kind],
        )
        plans.append((plan, target))
    return plans


MAX_ENUM_VARIANTS = 6
"""Valid rows per enum at most (each member once, the baseline's own member excluded)."""
MIN_VALID_ROWS = 3
"""Valid rows per operation at least: alternatives with other values make up the count."""


def valid_plans(schema: dict[str, Any], base: Any, status: int) -> list[RowPlan]:
    """Valid rows beside the baseline: the required fields only, each enum member and boolean value,
    each oneOf/anyOf branch once, then alternatives with other values up to MIN_VALID_ROWS."""
    plans = [_valid("required_only_valid", "required", "", "Send only the required fields.", status)]
    for field in walk(schema):
        node, where = field.schema, display(field.pointer)
        present = has_at(base, field.pointer) if field.pointer else True
        if present and field.pointer and isinstance(choices := _choices(field.node), list):
            current = get_at(base, field.pointer)
            for value in [item for item in choices if item != current][:MAX_ENUM_VARIANTS]:
                label = json.dumps(value, ensure_ascii=False)
                plans.append(_valid(_variant_name(field.pointer, "enum", value), "enum", field.pointer,
                                    f"Set {where} to {label}, another allowed value.", status, value))
        for index in range(1, len(branches_of(node))) if present else ():
            keyword = "oneOf" if node.get("oneOf") else "anyOf"
            plans.append(_valid(_variant_name(field.pointer, keyword, index), keyword, field.pointer,
                                f"Send {where} as the {keyword} branch number {index + 1}.", status, index))
    for number in range(2, MIN_VALID_ROWS + 1):
        plans.append(_valid(f"alternative_valid_{number}", None, "", "A complete valid request with other values.",
                            status, number))
    return plans


def _choices(node: dict[str, Any]) -> list[Any]:
    """The values a field may take one by one: its enum, both booleans, and null where it is nullable."""
    if "const" in node:
        return []
    declared = node.get("type")
    types = declared if isinstance(declared, list) else [declared]
    choices = list(node["enum"]) if isinstance(node.get("enum"), list) else [True, False] if "boolean" in types else []
    return [*choices, None] if "null" in types and None not in choices else choices


_NO_VALUE = object()


def _valid(name: str, keyword: str | None, pointer: str, description: str, status: int,
           value: Any = _NO_VALUE) -> RowPlan:
    plan = RowPlan(name=name, kind="valid", keyword=keyword, pointer=pointer, description=description,
                   expected_status=status)
    if value is not _NO_VALUE:
        plan["value"] = value
    return plan


def _variant_name(pointer: str, keyword: str, value: Any) -> str:
    slug = re.sub(r"\W+", "_", str(value).lower()).strip("_")[:24] or "empty"
    return row_name("valid", f"{keyword}_{slug}", pointer)


def valid_body(resolved: dict[str, Any], base: Any, plan: RowPlan, rng: random.Random) -> Any:
    """The body of a valid row: the baseline, or the variant ``plan`` names."""
    keyword, pointer = plan["keyword"], plan["pointer"]
    if keyword is None:
        return copy.deepcopy(base) if "value" not in plan else base_body(resolved, rng)
    if keyword == "required" and not pointer:
        return sample(resolved, rng, optional=False)
    field = next((item for item in walk(resolved) if item.pointer == pointer), None)
    if field is None or not has_at(base, pointer):
        return None
    if keyword == "enum":
        return replaced(base, pointer, plan.get("value"))
    if keyword in ("oneOf", "anyOf") and isinstance(plan.get("value"), int):
        if plan["value"] >= len(branches_of(field.schema)):
            return None
        return replaced(base, pointer, sample(branch(field.schema, plan["value"]), rng, field.name))
    return None


def base_body(schema: dict[str, Any], rng: random.Random) -> Any:
    """The baseline body: every property, realistic values (an array or a scalar where the schema says so)."""
    return sample(schema, rng)


def build_body(
    schema: dict[str, Any], resolved: dict[str, Any], base: dict[str, Any], plan: RowPlan, seed: str
) -> dict[str, Any] | None:
    """A body that validates exactly as ``plan`` intends, derived from ``base``; None when none is found.

    ``schema`` is the scene's schema as given (for validation); ``resolved`` the same with
    references inlined (for walking).
    """
    if plan["kind"] == "valid":
        body = valid_body(resolved, base, plan, random.Random(f"{seed}|{plan['name']}"))
        return body if body is not None and not validate_body(schema, body) else None
    field = next((item for item in walk(resolved) if item.pointer == plan["pointer"]), None)
    if field is None or not _applies(field, plan["keyword"]):
        return None
    rng = random.Random(f"{seed}|{plan['name']}")
    for index, body in enumerate(_candidates(plan, field, base, rng)):
        if index >= MAX_CANDIDATES:
            break
        if intent_problem(plan["kind"], plan["keyword"], plan["pointer"], validate_body(schema, body)) is None:
            return body
    return None


def _candidates(plan: RowPlan, field: Field, base: dict[str, Any], rng: random.Random) -> Iterator[dict[str, Any]]:
    keyword, pointer = plan["keyword"] or "", plan["pointer"]
    if not has_at(base, pointer):
        return
    if keyword == "required":
        yield without(base, pointer)
        return
    if keyword == "additionalProperties":
        body = copy.deepcopy(base)
        extra = EXTRA_PROPERTY if EXTRA_PROPERTY not in properties(field.node) else f"{EXTRA_PROPERTY}_x"
        set_at(body, f"{pointer}/{extra}", "not documented")
        yield body
        return
    current = get_at(base, pointer)
    values = (
        invalid_values(keyword, field.node, rng, field.name, current)
        if plan["kind"] == "invalid"
        else boundary_values(keyword, field.node, rng, field.name)
    )
    for value in values:
        yield replaced(base, pointer, value)


def _applies(field: Field, keyword: str | None) -> bool:
    """Whether rows can target ``keyword`` on ``field`` (a plan may come from elsewhere)."""
    if keyword == "required":
        return field.required
    return keyword is not None and constrains(field, keyword)

