"""Which fields of a valid body make a server fail or refuse it: found by sending the body with fields left out.

A server defect tied to one optional field ("state.data" stored as an artifact and read back outside its
session) fails (5xx) every row that sends the field, whatever the row tests; a rule the document does not
state ("remove work_pool_name": a queue given for a deployment without a pool) refuses (4xx) every row that
sends one. The sandbox finds the field so that the rows can leave it out (step 6) and the reviewer is told
why, instead of every row failing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Literal

from core.schema.walk import escape, get_at, has_at, remove_at

Outcome = Literal["fails", "accepted", "refused"]
Answer = Callable[[Any], Outcome | None]
"""Sends a body: the server "fails" it as it did the whole body, "accepted" it (2xx) or "refused" it another
way (it needs what was left out); None: nothing came back."""


class Budget:
    """How many more bodies may be sent."""

    def __init__(self, sends: int) -> None:
        self.left = sends

    def spend(self) -> bool:
        self.left -= 1
        return self.left >= 0


def failing_fields(answer: Answer, body: Any, budget: Budget) -> list[str]:
    """The JSON pointers of the fewest members (the deepest found) whose absence turns the server's failure into a
    2xx; [] when none does within the budget (the failure has another cause)."""
    if not isinstance(body, dict) or not body:
        return []
    return _within(answer, body, "", budget)


def _within(answer: Answer, body: dict[str, Any], at: str, budget: Budget) -> list[str]:
    """Left out one after another: a member whose absence still fails stays out, one whose absence is refused
    otherwise (the server needs it) goes back; when the answer turns 2xx, those left out are put back one by one
    while it stays 2xx. Each member found that is an object is narrowed to its own members the same way, and
    when none is found, the members inside each object the server needs are tried."""
    node = get_at(body, at) if at else body
    left_out: list[str] = []
    needed: list[str] = []
    for key in list(node):
        pointer = f"{at}/{escape(str(key))}"
        outcome = _answer(answer, body, [*left_out, pointer], budget)
        if outcome is None:
            return []
        if outcome == "fails":
            left_out.append(pointer)
        elif outcome == "accepted":
            found = _fewest(answer, body, [*left_out, pointer], budget)
            return [deeper for pointer in found for deeper in _narrowed(answer, body, found, pointer, budget)]
        elif isinstance(node[key], dict) and node[key]:
            needed.append(pointer)
    rest = _removed(body, left_out)  # a member the server needs (a required filter) may hold what fails it
    found = next((found for pointer in needed if (found := _within(answer, rest, pointer, budget))), [])
    return _fewest(answer, body, [*left_out, *found], budget) if found else []  # found with those left out


def _fewest(answer: Answer, body: Any, left_out: list[str], budget: Budget) -> list[str]:
    """``left_out`` (whose absence the server answers 2xx) without the members it accepts back."""
    needed = list(left_out)
    for pointer in left_out[:-1]:
        if _answer(answer, body, [other for other in needed if other != pointer], budget) == "accepted":
            needed.remove(pointer)
    return needed


def _narrowed(answer: Answer, body: Any, found: list[str], pointer: str, budget: Budget) -> list[str]:
    """``pointer``, or the members inside it that fail the server (the others found left out meanwhile)."""
    inner = get_at(body, pointer)
    if not isinstance(inner, dict) or not inner:
        return [pointer]
    rest = _removed(body, [other for other in found if other != pointer])
    return _within(answer, rest, pointer, budget) or [pointer]


def _answer(answer: Answer, body: Any, left_out: list[str], budget: Budget) -> Outcome | None:
    return answer(_removed(body, left_out)) if budget.spend() else None


def _removed(body: Any, pointers: list[str]) -> Any:
    """A copy of ``body`` without the members at ``pointers`` (each one present)."""
    result = copy.deepcopy(body)
    for pointer in pointers:
        if has_at(result, pointer):
            remove_at(result, pointer)
    return result
