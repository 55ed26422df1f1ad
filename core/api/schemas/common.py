"""Shared pieces of the API's schemas: text that every database takes, error bodies, id limits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

MAX_ID = 2**31 - 1
"""Ids are 32-bit integers in PostgreSQL: anything larger names nothing."""
MAX_OFFSET = 10**9
NO_NUL = r"^[^\x00]*$"
"""PostgreSQL text cannot hold NUL characters."""

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]


def encodable(value: Any) -> Any:
    """Rejects lone surrogates anywhere in a JSON value (a JSON "\\ud800" escape), which no database stores."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text must be valid Unicode (no lone surrogate escapes)") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            encodable(key)
            encodable(item)
    elif isinstance(value, list):
        for item in value:
            encodable(item)
    return value


def _text(max_length: int, *, min_length: int = 0) -> Any:
    """A string type of at most ``max_length`` characters that every backend stores."""
    return Annotated[
        str,
        StringConstraints(min_length=min_length, max_length=max_length, pattern=NO_NUL),
        AfterValidator(encodable),
    ]


Key = _text(100, min_length=1)
"""A scene id, a thread id, a module or a username."""
Label = _text(300)
Feedback = _text(2000)
Search = _text(200)
Name = _text(100)
Url = _text(1000, min_length=1)
SecretText = _text(200)


class ErrorDetail(BaseModel):
    loc: list[str | int] = Field(description="Where the problem is, e.g. [\"body\", \"test_case_id\"]")
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error answer: a stable code and a message saying what is wrong."""

    error: str = Field(description="not_found, invalid_input, conflict, forbidden, unauthorized, ...",
                       examples=["not_found"])
    message: str = Field(examples=["No task with id 456."])
    details: list[ErrorDetail] | None = Field(default=None, description="Each invalid field, on 422 answers")


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these error statuses."""
    described = {
        400: "The request is well formed but not acceptable (e.g. a rejection without feedback)",
        401: "No API token, or an unknown or revoked one",
        403: "The token's user may not do this (viewers read only)",
        404: "No such task, test case, scene or automation case",
        409: "The task is not in a state that allows this, or someone decided first",
        422: "The request does not match the schema",
    }
    return {status: {"model": ErrorBody, "description": described[status]} for status in statuses}
