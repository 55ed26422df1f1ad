"""Candidate values for boundary and invalid rows; the row builder keeps the first that hits its row's intent."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any

from core.schema.numbers import boundary_number, off_grid, past_limit
from core.schema.values import INVALID_FORMATS, fit_text, length_range, sample, sample_array, sample_string

TRIES = 3
"""Random attempts for candidates drawn from the node itself."""

WRONG_TYPES: dict[str, tuple[Any, ...]] = {  # none that a lax parser turns into the declared type ("12" -> 12)
    "string": ({"not": "a string"}, ["not-a-string"]),
    "integer": ("not-a-number", [12]),
    "number": ("not-a-number", [12.5]),
    "boolean": ("not-a-boolean", [True]),
    "object": ("not-an-object", ["not-an-object"]),
    "array": ("not-an-array", {"item": "not-an-array"}),
    "null": ("null", 0),
}
"""Values of another JSON type, per declared type."""


def boundary_values(keyword: str, node: dict[str, Any], rng: random.Random, name: str) -> Iterator[Any]:
    """Accepted values exactly at the limit ``keyword`` sets."""
    limit: Any = node.get(keyword)
    if keyword in ("minLength", "maxLength"):
        yield from _strings(node, rng, name, limit)
    elif keyword in ("minItems", "maxItems"):
        yield from _arrays(node, rng, name, limit)
    elif keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        value = boundary_number(node, keyword)
        if value is not None:
            yield value


def invalid_values(keyword: str, node: dict[str, Any], rng: random.Random, name: str, current: Any) -> Iterator[Any]:
    """Values that break ``keyword`` (and, ideally, nothing else)."""
    limit: Any = node.get(keyword)
    if keyword == "type":
        yield from _wrong_types(node, current)
    elif keyword in ("const", "enum"):
        yield from _outside(keyword, node, rng, name, current)
    elif keyword == "minLength":
        yield from _strings(node, rng, name, limit - 1) if limit >= 1 else ()
    elif keyword == "maxLength":
        yield from _strings(node, rng, name, limit + 1)
    elif keyword == "pattern":
        yield from _pattern_breakers(current if isinstance(current, str) else "")
    elif keyword == "format":
        yield from _bad_formats(node, rng)
    elif keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        yield from past_limit(node, keyword)
    elif keyword == "multipleOf":
        yield from off_grid(node, current if isinstance(current, (int, float)) else limit)
    elif keyword == "minItems":
        yield from _arrays(node, rng, name, limit - 1) if limit >= 1 else ()
    elif keyword == "maxItems":
        yield from _arrays(node, rng, name, limit + 1)
    elif keyword == "uniqueItems":
        yield from _duplicated(node, rng, name)


def _strings(node: dict[str, Any], rng: random.Random, name: str, length: int) -> Iterator[str]:
    for _ in range(TRIES):
        text = sample_string(node, rng, name, length)
        if text is not None:
            yield text


def _arrays(node: dict[str, Any], rng: random.Random, name: str, count: int) -> Iterator[list[Any]]:
    for _ in range(TRIES):
        yield sample_array(node, rng, name, count)


def _wrong_types(node: dict[str, Any], current: Any) -> Iterator[Any]:
    declared = node.get("type")
    kinds = [str(kind) for kind in declared] if isinstance(declared, list) else [str(declared)]
    if "integer" in kinds and isinstance(current, (int, float)) and not isinstance(current, bool):
        yield current + 0.5
    for kind in kinds:
        yield from WRONG_TYPES.get(kind, ())


def _outside(keyword: str, node: dict[str, Any], rng: random.Random, name: str, current: Any) -> Iterator[Any]:
    """Values of the right type that are not the const / not in the enum."""
    if isinstance(current, bool):
        yield not current
    elif isinstance(current, (int, float)):
        yield from (current + 1, current - 1, current + 7)
    elif isinstance(current, str):
        yield from ("unknown", f"{current}_x", "other_value")
    loose = {key: value for key, value in node.items() if key != keyword}
    for _ in range(TRIES):
        yield sample(loose, rng, name)


def _pattern_breakers(text: str) -> Iterator[str]:
    """Same-length variants of ``text`` with one character swapped, then uniform strings."""
    size = max(len(text), 1)
    for bad in ("!", " ", "#", "A", "1", "-", "a"):
        for index in sorted({0, size - 1, size // 2}):
            yield text[:index] + bad + text[index + 1 :]
    for bad in ("!", "a", "A", "1"):
        yield bad * size


def _bad_formats(node: dict[str, Any], rng: random.Random) -> Iterator[str]:
    low, high = length_range(node)
    for text in INVALID_FORMATS.get(str(node.get("format", "")), ()):
        yield text
        yield fit_text(text, rng, low, high)


def _duplicated(node: dict[str, Any], rng: random.Random, name: str) -> Iterator[list[Any]]:
    count = max(2, node.get("minItems", 0))
    for _ in range(TRIES):
        items = sample_array(node, rng, name, count)
        items[1] = copy.deepcopy(items[0])
        yield items
