"""Run-time variables in request data: ``{{$uuid}}``, ``{{$timestamp}}``, ``{{$randomInt}}``, ``{{run_id}}``...

A value that must differ on every run (a name the server keeps unique, an email) holds a
template; each run resolves it afresh, so an approved case passes again tomorrow. Built-in
variables start with ``$``; any other name is looked up in the variables given (a run's
environment, ``run_id``). Every built-in resolves to a value of fixed length, so a template
checked once against the schema (:func:`example`) fits the same limits on every run. A string that
is nothing but one named variable whose value is a number (an id a setup step captured) becomes
that number, so ``{"project_id": "{{project_id}}"}`` sends ``{"project_id": 7}``.
"""

from __future__ import annotations

import random
import re
import string
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

NAME = r"[A-Za-z_][A-Za-z0-9_.]*"
"""What a variable may be called (an environment's too); built-ins add a leading ``$``."""
TEMPLATE = re.compile(r"\{\{\s*(\$?" + NAME + r"(?::\d{1,2})?)\s*\}\}")
"""``{{name}}``, ``{{$builtin}}`` or ``{{$builtin:N}}`` (N characters, for the random ones)."""

_last_instant = [0]
"""The last millisecond ``$isoTimestamp`` gave in this process."""


def _iso_timestamp(rng: random.Random, size: int | None) -> str:
    """Now in UTC to the millisecond (``2026-12-02T04:05:06.789Z``), always later than the last one drawn: a
    setup step and its row, or two rows, never send the same instant (servers keep some date-times unique)."""
    millis = max(time.time_ns() // 1_000_000, _last_instant[0] + 1)
    _last_instant[0] = millis
    return datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


BUILTINS: dict[str, Callable[[random.Random, int | None], str]] = {
    "$uuid": lambda rng, size: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    "$timestamp": lambda rng, size: str(int(time.time())),
    "$isoTimestamp": _iso_timestamp,
    "$randomInt": lambda rng, size: str(rng.randint(10 ** ((size or 6) - 1), 10 ** (size or 6) - 1)),
    "$randomLetters": lambda rng, size: "".join(rng.choice(string.ascii_lowercase) for _ in range(size or 6)),
}
"""Each gives the same number of characters every time (a timestamp has 10 digits until 2286, an ISO one 24;
the random ones 6, or N with ``:N``)."""

EXAMPLE_VARIABLES = {"run_id": "run-0001", "$timestamp": "1767225600", "$isoTimestamp": "2026-01-01T00:00:00.000Z"}
"""What names other than the random built-ins stand for when a template is checked or shown: the clock's are
the same every time too."""


class UnknownVariable(KeyError):
    """A template names a variable that was not given."""


def has_template(value: Any) -> bool:
    """Whether any string in ``value`` (a body, a header map, a list) holds a template."""
    if isinstance(value, str):
        return TEMPLATE.search(value) is not None
    if isinstance(value, dict):
        return any(has_template(item) for item in value.values())
    if isinstance(value, list):
        return any(has_template(item) for item in value)
    return False


def looked_up(value: str) -> bool:
    """Whether a string takes a value from outside the row: a setup step's capture or the environment's, not
    a fresh one (the built-ins, ``run_id``)."""
    return any(not name.startswith("$") and name != "run_id" for name in TEMPLATE.findall(value))


def resolve(value: Any, variables: Mapping[str, Any], rng: random.Random | None = None, *,
            strict: bool = True) -> Any:
    """``value`` with every template replaced: built-ins drawn from ``rng``, other names from ``variables``.

    Raises UnknownVariable for a name that is neither. Values that hold no template are returned as they are.
    """
    draw = rng or random.Random()
    if isinstance(value, str):
        whole = TEMPLATE.fullmatch(value)
        if whole is not None and is_number(variables.get(whole.group(1))):
            return variables[whole.group(1)]
        return TEMPLATE.sub(lambda match: _value_of(match.group(1), variables, draw, strict), value)
    if isinstance(value, dict):
        return {key: resolve(item, variables, draw, strict=strict) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, variables, draw, strict=strict) for item in value]
    return value


def example(value: Any, variables: Mapping[str, Any] | None = None) -> Any:
    """``value`` resolved the same way every time: what validation checks and the reviewer sees.

    A name no one gave stays as it is written, so validation shows where it does not fit.
    """
    return resolve(value, {**EXAMPLE_VARIABLES, **(variables or {})}, random.Random(0), strict=False)


def setup_examples(steps: list[Mapping[str, Any]] | None) -> dict[str, Any]:
    """What each variable a case's setup captures stands for where rows are checked or shown before a run:
    its step's example (a name without one stays as it is written)."""
    return {name: value for step in steps or [] for name, value in (step.get("examples") or {}).items()}


def setup_filled(steps: list[Mapping[str, Any]] | None) -> set[str]:
    """The top-level body fields (as pointers) that a case's setup fills with what the server made: an id
    has no boundary of its own to try."""
    return {f"/{name}" for name in setup_examples(steps)}


def is_number(value: Any) -> bool:
    """A JSON number (not a boolean): what a captured id may be besides text."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _value_of(name: str, variables: Mapping[str, Any], rng: random.Random, strict: bool) -> str:
    if name in variables:  # a built-in too, where an example fixes it (the clock's)
        return str(variables[name])
    builtin, _, size = name.partition(":")
    if builtin in BUILTINS and (not size or int(size) > 0):
        return BUILTINS[builtin](rng, int(size) if size else None)
    if strict:
        raise UnknownVariable(name)
    return "{{" + name + "}}"
