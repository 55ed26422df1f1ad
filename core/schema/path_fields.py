"""Body fields that name a resource the case's setup makes take the variable its id is captured in.

``PATCH /pools/{pool_name}`` with a body ``{"name": ..., "slots": 5}``: servers refuse a body whose
``name`` differs from the path's ("pool name from request body doesn't match uri parameter"). When
the case's setup captures ``pool_name``, the body's ``pool_name``, ``name`` (the parameter's last
word) or ``pool`` becomes ``{{pool_name}}`` (the last two only where the path ends with the parameter:
the ``name`` posted to ``/pools/{pool_name}/queues`` is the new queue's), resolved to the same value as
the path at every run, and so does every field deeper down called like the parameter
(``{"dag_runs": [{"dag_id": ...}]}`` under ``/dags/{dag_id}``). A body field that refers to another
resource (``"project_id": 3``, at any depth), for which the setup creates one and captures its id under
the field's own name, becomes ``{{project_id}}`` too. Either only where the schema still accepts the row
as it means to be, checked with the setup's example values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from core.records import DataRow, SetupStep
from core.schema import variables
from core.schema.validation import intent_problem, validate_body
from core.schema.walk import escape, get_at, related, replaced

WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
ID_WORDS = frozenset({"id", "name", "key", "slug", "uuid", "code"})
PLACEHOLDER = re.compile(r"\{([^{}/]+)\}")
"""A path parameter in an operation's path: ``{pool_name}``."""


def bind(schema: dict[str, Any], rows: list[DataRow], path: str, setup: list[SetupStep]) -> list[DataRow]:
    """The rows with their fields that name what ``setup`` captures set to its variable."""
    placed = PLACEHOLDER.findall(path)
    in_path = set(placed)
    own = placed[-1] if placed and path.rstrip("/").endswith("{" + placed[-1] + "}") else None  # not a parent's
    keys = {name: names_for(name) if name == own else (name,) for step in setup for name in step["captures"]}
    known = variables.setup_examples(setup)
    return [_bound(schema, row, keys, in_path, known) for row in rows] if keys else rows


def names_for(name: str) -> tuple[str, ...]:
    """The top-level body fields that may name a path's resource: the parameter, its last word (``name``), and
    its words before an id-like last one (``pool`` for ``pool_name``)."""
    words = [word.lower() for word in WORDS.findall(name)] or [name]
    head = "_".join(words[:-1]) if len(words) > 1 and words[-1] in ID_WORDS else None
    return tuple(dict.fromkeys(item for item in (name, words[-1], head) if item))


def _bound(schema: dict[str, Any], row: DataRow, keys: dict[str, tuple[str, ...]], in_path: set[str],
           known: Mapping[str, Any]) -> DataRow:
    body = row["body"]
    if not isinstance(body, dict):
        return row
    for name, candidates in keys.items():
        for pointer in _places(body, name, candidates, in_path):
            template = "{{" + name + "}}"
            current = get_at(body, pointer)
            if current == template or (row["kind"] != "valid" and related(pointer, row["pointer"] or "/")):
                continue  # a valid row's own field too: a server refuses any other value than the path's
            trial = replaced(body, pointer, template)
            errors = validate_body(schema, variables.example(trial, known))
            if intent_problem(row["kind"], row["keyword"], row["pointer"], errors) is None:
                body = trial
    return row if body is row["body"] else DataRow(**{**row, "body": body})


def _places(body: dict[str, Any], name: str, candidates: tuple[str, ...], in_path: set[str]) -> list[str]:
    """Pointers to the fields that name ``name``'s resource: the first top-level candidate the body has, and
    every field deeper down called exactly like it (``/dag_runs/0/dag_id`` under ``/dags/{dag_id}``,
    ``/items/0/product_id``); a number only for a reference (an id a path never holds)."""
    def fits(value: Any) -> bool:
        return isinstance(value, str) or (name not in in_path and variables.is_number(value))
    top = next((key for key in candidates if fits(body.get(key))), None)
    deeper = [pointer for pointer, value in _named(body, name, "") if pointer.count("/") > 1 and fits(value)]
    return ([f"/{escape(top)}"] if top is not None else []) + deeper


def _named(value: Any, name: str, pointer: str) -> Iterator[tuple[str, Any]]:
    """(pointer, value) of every field called ``name`` in ``value``, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{pointer}/{escape(str(key))}"
            if key == name:
                yield here, item
            yield from _named(item, name, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _named(item, name, f"{pointer}/{index}")
