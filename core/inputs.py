"""The rules every value entering CaseFlow obeys: record ids, text and numbers, one place for each.

Entry points pass what users typed or uploaded straight to the service door; these checks
turn what the databases cannot hold (a NUL byte on PostgreSQL, an integer past 64 bits on
SQLite) into an InvalidInput naming the field, before anything is read or written.
"""

from __future__ import annotations

import math
import operator
from typing import Any

from core.errors import InvalidInput

MAX_ID = 2**63 - 1
"""The largest id SQLite and PostgreSQL (bigint) can hold; every record id is from 1 to this."""
NUL = "\x00"
"""The one character PostgreSQL cannot store in text; refused in every text CaseFlow takes in."""


def whole_number(value: Any, what: str, *, minimum: int = 0, maximum: int = MAX_ID) -> int:
    """``value`` as an int from ``minimum`` to ``maximum``; numpy integers count, bools and "12" do not."""
    if isinstance(value, bool):
        raise InvalidInput(f"{what} must be a whole number, not {value!r}.")
    try:
        number = operator.index(value)
    except TypeError:
        raise InvalidInput(f"{what} must be a whole number, not {_shown(value)}.") from None
    if not minimum <= number <= maximum:
        raise InvalidInput(f"{what} must be from {minimum} to {maximum}, not {_shown(number)}.")
    return number


def record_id(value: Any, kind: str) -> int:
    """The id of a ``kind`` ("task", "test case", ...): a whole number from 1 to MAX_ID."""
    return whole_number(value, f"The {kind} id", minimum=1)


def seconds(value: Any, what: str, *, maximum: float, allow_zero: bool = False) -> float:
    """A finite duration in seconds above 0 (or from 0 with ``allow_zero``) and at most ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"{what} must be a number of seconds, not {_shown(value)}.")
    low_ok = value >= 0 if allow_zero else value > 0
    if not (math.isfinite(value) and low_ok and value <= maximum):
        low = "from 0" if allow_zero else "more than 0"
        raise InvalidInput(f"{what} must be {low} and at most {maximum:g} seconds, not {value!r}.")
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
