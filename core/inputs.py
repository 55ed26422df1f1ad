"""The rules every value entering CaseFlow obeys, one place for each, so bad input is refused with a reason
before anything is read or written.

Record ids are whole numbers from 1 to 2^63-1 (what SQLite and PostgreSQL hold). Text is a str
without NUL (PostgreSQL text columns cannot hold it; refused on every backend so both behave
alike); names are single-line. Labels (a task's name, a module, a reviewer's feedback, a row's
name) are such text of bounded length. Data (request bodies, expected values) is plain JSON that
every store can hold as it is: bounded in depth (a 100k-deep body is refused here rather than
raising RecursionError later) and in size, with finite numbers, integers that fit the
checkpoint serializer, and valid Unicode.
"""

from __future__ import annotations

import json
import math
import operator
from typing import Any

from sqlalchemy.orm import InstrumentedAttribute

from core.errors import InvalidInput
from core.messages import Text, phrase

MAX_ID = 2**63 - 1
"""The largest id SQLite and PostgreSQL (bigint) can hold; every record id is from 1 to this."""
NUL = "\x00"
"""The one character PostgreSQL cannot store in text; refused in every text CaseFlow takes in."""


def whole_number(value: Any, what: str, *, minimum: int = 0, maximum: int = MAX_ID) -> int:
    """``value`` as an int from ``minimum`` to ``maximum``; numpy integers count, bools and "12" do not."""
    if isinstance(value, bool):
        raise InvalidInput("{what} must be a whole number, not {value!r}.", what=phrase(what), value=value)
    try:
        number = operator.index(value)
    except TypeError:
        raise InvalidInput("{what} must be a whole number, not {value}.", what=phrase(what),
                           value=_shown(value)) from None
    if not minimum <= number <= maximum:
        raise InvalidInput("{what} must be from {minimum} to {maximum}, not {value}.",
                           what=phrase(what), minimum=minimum, maximum=maximum, value=_shown(number))
    return number


def record_id(value: Any, kind: str) -> int:
    """The id of a ``kind`` ("task", "test case", ...): a whole number from 1 to MAX_ID."""
    return whole_number(value, Text("The {kind} id", kind=phrase(kind)), minimum=1)


def seconds(value: Any, what: str, *, maximum: float, allow_zero: bool = False) -> float:
    """A finite duration in seconds above 0 (or from 0 with ``allow_zero``) and at most ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput("{what} must be a number of seconds, not {value}.", what=phrase(what), value=_shown(value))
    low_ok = value >= 0 if allow_zero else value > 0
    if not (math.isfinite(value) and low_ok and value <= maximum):
        low = "from 0" if allow_zero else "more than 0"
        raise InvalidInput("{what} must be {low} and at most {maximum:g} seconds, not {value!r}.",
                           what=phrase(what), low=low, maximum=maximum, value=value)
    return float(value)


def text_problem(value: Any, what: str, *, limit: int | None = None, single_line: bool = False) -> str | None:
    """What is wrong with ``value`` as text, or None.

    Text is a str without NUL characters (PostgreSQL cannot store them), at most ``limit``
    characters long. ``single_line`` text (names, not descriptions) has no control or
    invisible formatting characters at all: no tabs, newlines, escapes or bidi overrides.
    """
    if not isinstance(value, str):
        return f"{what} must be text, not {type(value).__name__}."
    if NUL in value:
        return f"{what} contains a NUL character (\\x00); remove it."
    if single_line and not value.replace(" ", "").isprintable():
        bad = next(char for char in value if char != " " and not char.isprintable())
        return f"{what} contains the control character {bad!r}; use plain text on one line."
    if limit is not None and len(value) > limit:
        return f"{what} has {len(value)} characters; at most {limit} are allowed."
    return None


def text(value: Any, what: str, *, limit: int | None = None, single_line: bool = False) -> str:
    """``value`` if it is acceptable text (see :func:`text_problem`), else InvalidInput saying why."""
    if problem := text_problem(value, what, limit=limit, single_line=single_line):
        raise InvalidInput(problem)
    return value


def optional_text(value: Any, what: str, *, limit: int | None = None, single_line: bool = False) -> str | None:
    """None, or acceptable text."""
    return None if value is None else text(value, what, limit=limit, single_line=single_line)


def _shown(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else f"{shown[:37]}..."


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
        raise InvalidInput("{what} must be text, not {value}.", what=phrase(what), value=json_type(value))
    text = value.strip()
    if NUL in text:
        raise InvalidInput("{what} contains a NUL character (\\x00), which CaseFlow does not store.", what=phrase(what))
    if not _valid_unicode(text):
        raise InvalidInput("{what} is not valid Unicode text (it holds a lone surrogate).", what=phrase(what))
    if len(text) > limit:
        raise InvalidInput("{what} has {text_count} characters; at most {limit} are allowed.",
                           what=phrase(what), text_count=len(text), limit=limit)
    return text


def plain_json(value: Any, what: str, *, max_bytes: int) -> None:
    """Refuses ``value`` unless it is JSON every store holds unchanged, of at most ``max_bytes`` (UTF-8)."""
    pending: list[tuple[Any, str, int]] = [(value, what, 1)]
    while pending:
        node, where, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise InvalidInput("{what} is nested more than {max_json_depth} levels deep (at {where}).",
                               what=phrase(what), max_json_depth=MAX_JSON_DEPTH, where=where)
        if isinstance(node, dict):
            for key, child in node.items():
                if not isinstance(key, str) or not _valid_unicode(key):
                    raise InvalidInput("{where} has a key that is not valid text: {key!r}.", where=where, key=key)
                pending.append((child, f"{where}.{_shown_key(key)}", depth + 1))
        elif isinstance(node, list):
            pending.extend((child, f"{where}[{index}]", depth + 1) for index, child in enumerate(node))
        elif problem := _scalar_problem(node):
            raise InvalidInput("{where} {problem}.", where=where, problem=problem)
    size = len(json.dumps(value, ensure_ascii=False).encode("utf-8"))
    if size > max_bytes:
        raise InvalidInput("{what} is {size:,} bytes of JSON; at most {max_bytes:,} are allowed.",
                           what=phrase(what), size=size, max_bytes=max_bytes)


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


def _shown_key(key: str) -> str:
    return key if len(key) <= SHOWN_KEY_CHARS else key[:SHOWN_KEY_CHARS] + "…"


def json_type(value: Any) -> str:
    """What a value is, in JSON's words ("a string", "a list", ...), for messages."""
    names = {str: "a string", int: "a number", float: "a number", bool: "a boolean", list: "a list",
             dict: "an object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
