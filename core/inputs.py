"""Checks for values entering CaseFlow, so bad input is refused with a reason before anything is written.

Two kinds of value come in. Labels (a task's name, a module, a reviewer's feedback, a row's
name) are text of bounded length without NUL: PostgreSQL text columns cannot hold NUL,
and it is refused on every backend so that both behave alike. Data (request bodies,
expected values) is plain JSON that every store can hold as it is: bounded in depth
(a 100k-deep body is refused here rather than raising RecursionError later) and in size,
with finite numbers, integers that fit the checkpoint serializer, and valid Unicode.
"""

from __future__ import annotations

import json
import math
from typing import Any

from sqlalchemy.orm import InstrumentedAttribute

from core.errors import InvalidInput

MAX_JSON_DEPTH = 64
"""Nesting levels a JSON value may have; real request bodies use a handful."""
INTEGER_RANGE = range(-(2**63), 2**64)
"""Integers the workflow's checkpoints can hold (msgpack: signed or unsigned 64 bits)."""
SHOWN_KEY_CHARS = 40


def max_length(column: InstrumentedAttribute[Any]) -> int:
    """The length of a String column: the most characters a value stored in it may have."""
    return int(column.type.length)


def label(value: Any, what: str, limit: int) -> str:
    """``value`` stripped of surrounding whitespace, if it is text of at most ``limit`` characters without NUL."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text, not {json_type(value)}.")
    text = value.strip()
    if "\x00" in text:
        raise InvalidInput(f"{what} contains a NUL character (\\x00), which CaseFlow does not store.")
    if not _valid_unicode(text):
        raise InvalidInput(f"{what} is not valid Unicode text (it holds a lone surrogate).")
    if len(text) > limit:
        raise InvalidInput(f"{what} has {len(text)} characters; at most {limit} are allowed.")
    return text


def plain_json(value: Any, what: str, *, max_bytes: int) -> None:
    """Refuses ``value`` unless it is JSON every store holds unchanged, of at most ``max_bytes`` (UTF-8)."""
    pending: list[tuple[Any, str, int]] = [(value, what, 1)]
    while pending:
        node, where, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise InvalidInput(f"{what} is nested more than {MAX_JSON_DEPTH} levels deep (at {where}).")
        if isinstance(node, dict):
            for key, child in node.items():
                if not isinstance(key, str) or not _valid_unicode(key):
                    raise InvalidInput(f"{where} has a key that is not valid text: {key!r}.")
                pending.append((child, f"{where}.{_shown(key)}", depth + 1))
        elif isinstance(node, list):
            pending.extend((child, f"{where}[{index}]", depth + 1) for index, child in enumerate(node))
        elif problem := _scalar_problem(node):
            raise InvalidInput(f"{where} {problem}.")
    size = len(json.dumps(value, ensure_ascii=False).encode("utf-8"))
    if size > max_bytes:
        raise InvalidInput(f"{what} is {size:,} bytes of JSON; at most {max_bytes:,} are allowed.")


def _scalar_problem(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return None if _valid_unicode(value) else "is not valid Unicode text (it holds a lone surrogate)"
    if isinstance(value, int):
        return None if value in INTEGER_RANGE else "is an integer beyond 64 bits"
    if isinstance(value, float):
        return None if math.isfinite(value) else f"is {value}, which JSON cannot hold"
    return f"is {json_type(value)}, not a JSON value"


def _valid_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(key: str) -> str:
    return key if len(key) <= SHOWN_KEY_CHARS else key[:SHOWN_KEY_CHARS] + "…"


def json_type(value: Any) -> str:
    """What a value is, in JSON's words ("a string", "a list", ...), for messages."""
    names = {str: "a string", int: "a number", float: "a number", bool: "a boolean", list: "a list",
             dict: "an object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
