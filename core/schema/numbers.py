"""Numbers for a JSON Schema node: realistic samples, values at its limits and just past them."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from jsonschema import Draft202012Validator

NEAR = 25
"""How many grid steps to look around a limit for a value jsonschema's float arithmetic accepts."""

NUMERIC_KEYWORDS = ("type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
HINTS = (
    ("age", 20, 45),
    ("quantity", 1, 5),
    ("qty", 1, 5),
    ("count", 1, 5),
    ("price", 10, 500),
    ("amount", 10, 500),
    ("page_size", 10, 50),
    ("size", 10, 50),
    ("limit", 10, 50),
    ("page", 1, 5),
    ("year", 2000, 2024),
)
"""Property-name fragment -> a realistic range, used where the schema leaves room."""


def is_integer_type(node: dict[str, Any]) -> bool:
    """Whether the node asks for an integer."""
    declared = node.get("type")
    return declared == "integer" or (isinstance(declared, list) and "integer" in declared and "number" not in declared)


def step(node: dict[str, Any]) -> Decimal:
    """The grid values are taken from: multipleOf, else 1 for integers and 0.01 for numbers."""
    multiple = node.get("multipleOf")
    if isinstance(multiple, (int, float)) and not isinstance(multiple, bool):
        return Decimal(str(multiple))
    return Decimal(1) if is_integer_type(node) else Decimal("0.01")


def to_json(node: dict[str, Any], value: Decimal) -> int | float:
    """A grid value as the JSON number a client would send."""
    if value == value.to_integral_value() and (is_integer_type(node) or step(node) % 1 == 0):
        return int(value)
    return float(value)


def accepts(node: dict[str, Any], value: int | float) -> bool:
    """Whether jsonschema accepts ``value`` for the node's numeric keywords (float quirks included)."""
    numeric = {key: node[key] for key in NUMERIC_KEYWORDS if key in node}
    return bool(Draft202012Validator(numeric).is_valid(value))


def _ceil(value: Decimal, unit: Decimal) -> Decimal:
    return (value / unit).to_integral_value(rounding=ROUND_CEILING) * unit


def _floor(value: Decimal, unit: Decimal) -> Decimal:
    return (value / unit).to_integral_value(rounding=ROUND_FLOOR) * unit


def _limit(node: dict[str, Any], keyword: str) -> Decimal | None:
    value = node.get(keyword)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    return None


def lowest(node: dict[str, Any]) -> Decimal | None:
    """The smallest grid value the lower limits allow, or None when there is no lower limit."""
    unit = step(node)
    found = [_ceil(value, unit) for value in [_limit(node, "minimum")] if value is not None]
    exclusive = _limit(node, "exclusiveMinimum")
    if exclusive is not None:
        found.append(_floor(exclusive, unit) + unit)
    return max(found) if found else None


def highest(node: dict[str, Any]) -> Decimal | None:
    """The largest grid value the upper limits allow, or None when there is no upper limit."""
    unit = step(node)
    found = [_floor(value, unit) for value in [_limit(node, "maximum")] if value is not None]
    exclusive = _limit(node, "exclusiveMaximum")
    if exclusive is not None:
        found.append(_ceil(exclusive, unit) - unit)
    return min(found) if found else None


def walk_grid(node: dict[str, Any], start: Decimal, direction: int) -> Iterator[int | float]:
    """Grid values from ``start`` onwards in ``direction`` (+1 up, -1 down), a few dozen of them."""
    unit = step(node)
    for index in range(NEAR):
        yield to_json(node, start + direction * index * unit)


def _first_accepted(node: dict[str, Any], start: Decimal, direction: int) -> int | float | None:
    return next((value for value in walk_grid(node, start, direction) if accepts(node, value)), None)


def sample_number(node: dict[str, Any], rng: random.Random, name: str) -> int | float | None:
    """A realistic accepted number: inside the limits, on the grid, away from the limits where possible."""
    unit = step(node)
    low, high = _range(node, name)
    first, last = _ceil(low, unit), _floor(high, unit)
    span = int((last - first) / unit) if last >= first else 0
    inner = (1, span - 1) if span >= 2 else (0, span)
    start = first + rng.randint(*inner) * unit
    value = _first_accepted(node, start, 1)
    return value if value is not None else _first_accepted(node, start, -1)


def _range(node: dict[str, Any], name: str) -> tuple[Decimal, Decimal]:
    """The name's realistic range cut to the schema's limits, or the limits when they do not meet."""
    floor, ceiling = lowest(node), highest(node)
    low, high = _hint(name)
    third = (high - low) / 3
    if re.search(r"(^|_)(min|from|start)(_|$)", name):
        high = low + third
    elif re.search(r"(^|_)(max|to|end)(_|$)", name):
        low = high - third
    low = low if floor is None else max(low, floor)
    high = high if ceiling is None else min(high, ceiling)
    room = 100 * step(node)
    if low <= high:
        return low, high
    if floor is not None and ceiling is not None:
        return floor, ceiling
    if floor is not None:
        return floor, floor + room
    if ceiling is not None:
        return ceiling - room, ceiling
    return low, high


def _hint(name: str) -> tuple[Decimal, Decimal]:
    lowered = name.lower()
    for fragment, low, high in HINTS:
        if fragment in lowered:
            return Decimal(low), Decimal(high)
    return Decimal(1), Decimal(100)


def boundary_number(node: dict[str, Any], keyword: str) -> int | float | None:
    """The accepted value closest to the limit ``keyword`` sets (on the multipleOf grid)."""
    if keyword in ("minimum", "exclusiveMinimum"):
        start = lowest(node)
        return None if start is None else _first_accepted(node, start, 1)
    start = highest(node)
    return None if start is None else _first_accepted(node, start, -1)


def past_limit(node: dict[str, Any], keyword: str) -> Iterator[int | float]:
    """Grid values just beyond the limit ``keyword`` sets, nearest first."""
    unit = step(node)
    limit = _limit(node, keyword)
    if limit is None:
        return iter(())
    if keyword == "minimum":
        return walk_grid(node, _ceil(limit, unit) - unit, -1)
    if keyword == "exclusiveMinimum":
        return walk_grid(node, _floor(limit, unit), -1)
    if keyword == "maximum":
        return walk_grid(node, _floor(limit, unit) + unit, 1)
    return walk_grid(node, _ceil(limit, unit), 1)


def off_grid(node: dict[str, Any], value: int | float) -> Iterator[int | float]:
    """Values near ``value`` that are not multiples of the node's multipleOf (whole numbers first for integers)."""
    unit = step(node)
    base = Decimal(str(value))
    offsets = [Decimal(1), Decimal(2)] if is_integer_type(node) else []
    offsets += [unit * Decimal("0.5"), unit * Decimal("0.3"), unit * Decimal("0.7")]
    for offset in offsets:
        for candidate in (base + offset, base - offset):
            yield int(candidate) if candidate == candidate.to_integral_value() else float(candidate)
