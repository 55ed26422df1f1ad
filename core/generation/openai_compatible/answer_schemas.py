"""The shapes of the model's answers: pydantic models, and the strict JSON Schemas sent as response formats.

Free-form values cannot be described in strict structured outputs, so a request body
travels as JSON text (``body_json``) and is parsed here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

T = TypeVar("T")
FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


class _Answer(BaseModel):
    """Strict in the schema sent (no other properties), lenient in parsing (other keys are ignored)."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"additionalProperties": False})


class PlannedRow(_Answer):
    name: str
    kind: Literal["valid", "boundary", "invalid"]
    keyword: str | None
    pointer: str
    description: str
    expected_status: int


class AnalysisAnswer(_Answer):
    intent: str
    fields: list[str]
    expected_outcome: str
    rows: list[PlannedRow]


class PlanAnswer(_Answer):
    rows: list[PlannedRow]


class BodyAnswer(_Answer):
    name: str
    body_json: str


class BodiesAnswer(_Answer):
    rows: list[BodyAnswer]


class CheckAnswer(_Answer):
    kind: Literal["status", "json_path_exists", "json_path_equals", "body_contains"]
    path: str | None
    expected: str | int | float | bool | None


class AssertionAnswer(_Answer):
    name: str
    expected_status: int
    checks: list[CheckAnswer]


class AssertionsAnswer(_Answer):
    assertions: list[AssertionAnswer]


@dataclass(frozen=True)
class AnswerSpec:
    """One answer shape: its name (the response format's) and its strict JSON Schema."""

    name: str
    model: type[_Answer]

    @property
    def schema(self) -> dict[str, Any]:
        return self.model.model_json_schema()


ANALYSIS = AnswerSpec("case_analysis", AnalysisAnswer)
PLAN = AnswerSpec("row_plan", PlanAnswer)
BODIES = AnswerSpec("row_bodies", BodiesAnswer)
ASSERTIONS = AnswerSpec("row_assertions", AssertionsAnswer)


@dataclass
class Checked(Generic[T]):
    """A parsed answer: what could be used of it, and what is wrong with it."""

    value: T
    problems: list[str] = field(default_factory=list)


class Unparseable(ValueError):
    """The answer is not a JSON object."""


def load_object(text: str) -> dict[str, Any]:
    """The JSON object of an answer (a markdown fence around it is tolerated)."""
    fenced = FENCE.match(text)
    try:
        value = json.loads(fenced.group(1) if fenced else text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise Unparseable(f"The answer is not valid JSON ({exc}).") from exc
    if not isinstance(value, dict):
        raise Unparseable(f"The answer must be a JSON object, not {type(value).__name__}.")
    return value


def items_of(data: dict[str, Any], key: str) -> list[Any]:
    """The list under ``key``; Unparseable when it is missing."""
    items = data.get(key)
    if not isinstance(items, list):
        raise Unparseable(f'The answer must have a list "{key}".')
    return items


def describe_error(error: ValidationError) -> str:
    """A pydantic error in a sentence the model can act on."""
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(part) for part in item["loc"]) or "the object"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)
