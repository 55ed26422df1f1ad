"""Validating request bodies against a scene's JSON Schema and checking each row hits its intent."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, TypedDict

from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from jsonschema.exceptions import SchemaError
from referencing.exceptions import Unresolvable

from core.records import DataRow
from core.schema import variables
from core.schema.walk import FORMATS, InvalidSchemaError, escape, other_than_null

EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


class BodyError(TypedDict):
    """One way a body breaks the schema."""

    keyword: str
    pointer: str
    """Where in the body; for "required" the pointer of the missing field."""
    message: str


class RowValidation(TypedDict):
    """How one row's body fares against the schema, and whether that is what the row meant."""

    name: str
    valid: bool
    errors: list[BodyError]
    matches_intent: bool
    problem: str | None


class ValidationResult(TypedDict):
    """Validation of all rows of a task."""

    rows: list[RowValidation]
    all_match: bool
    mismatched: list[str]


def _format_checker() -> FormatChecker:
    checker = FormatChecker()
    missing = [name for name in FORMATS if name not in checker.checkers]
    if missing:
        raise ImportError(
            f"jsonschema cannot check the formats {missing}: install rfc3339-validator and rfc3986-validator."
        )
    checker.checks("email")(lambda instance: not isinstance(instance, str) or bool(EMAIL.match(instance)))
    return checker


FORMAT_CHECKER = _format_checker()
"""Checks email (strictly: local@domain.tld), date, date-time, uuid and uri, among others."""


@lru_cache(maxsize=64)
def _validator(schema_json: str) -> Draft202012Validator:
    schema = json.loads(schema_json)
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise InvalidSchemaError(f"The request schema is not valid JSON Schema: {exc.message}") from exc
    return Draft202012Validator(schema, format_checker=FORMAT_CHECKER)


def accepts(schema: dict[str, Any], value: Any) -> bool:
    """Whether ``value`` is valid against ``schema`` (a node of a scene's schema, say)."""
    try:
        return not validate_body(schema, value)
    except InvalidSchemaError:
        return False


def validate_body(schema: dict[str, Any], body: Any) -> list[BodyError]:
    """Every error of ``body`` against ``schema``, in a stable order."""
    validator = _validator(json.dumps(schema, sort_keys=True))
    try:
        raw = list(validator.iter_errors(body))
    except Unresolvable as exc:
        raise InvalidSchemaError(f"The request schema has a reference that cannot be resolved: {exc}") from exc
    errors: list[BodyError] = []
    for error in raw:
        for item in _body_errors(error):
            if item not in errors:
                errors.append(item)
    return sorted(errors, key=lambda item: (item["pointer"], item["keyword"], item["message"]))


def _body_errors(error: ValidationError) -> list[BodyError]:
    branch = _only_branch(error)
    if branch is not None:  # a nullable field's value breaks its other branch: those errors, not "anyOf"
        return [item for sub in error.context or [] if sub.relative_schema_path[0] == branch
                for item in _body_errors(sub)]
    pointer = "".join(f"/{escape(str(part))}" for part in error.absolute_path)
    keyword = str(error.validator)
    if keyword != "required" or not isinstance(error.instance, dict):
        return [BodyError(keyword=keyword, pointer=pointer, message=error.message)]
    missing = [name for name in error.validator_value if name not in error.instance]
    return [
        BodyError(keyword="required", pointer=f"{pointer}/{escape(name)}", message=f"{name!r} is a required property")
        for name in missing
    ]


def intent_problem(kind: str, keyword: str | None, pointer: str, errors: list[BodyError]) -> str | None:
    """Why a body with ``errors`` does not do what its row means, or None when it does."""
    where = pointer or "/"
    if kind in ("valid", "boundary"):
        return f"The row should be accepted but its body breaks {_places(errors)}." if errors else None
    if keyword is None:
        return "An invalid row must name the keyword it breaks."
    if not errors:
        return f"The row should break {keyword} at {where} but its body is valid."
    stray = [item for item in errors if item["keyword"] != keyword or item["pointer"] != pointer]
    if stray:
        return f"The row should break only {keyword} at {where} but its body also breaks {_places(stray)}."
    return None


def _places(errors: list[BodyError]) -> str:
    return ", ".join(f"{item['keyword']} at {item['pointer'] or '/'}" for item in errors)


def validate_rows(schema: dict[str, Any], rows: list[DataRow],
                  known: Mapping[str, Any] | None = None) -> ValidationResult:
    """Validate every row's body and check it matches the row's kind, keyword and pointer.

    A body's run-time variables are checked as their example values (see core.schema.variables); ``known``:
    those of the variables the case's setup captures.
    """
    results: list[RowValidation] = []
    for row in rows:
        errors = validate_body(schema, variables.example(row["body"], known))
        problem = intent_problem(row["kind"], row["keyword"], row["pointer"], errors)
        results.append(
            RowValidation(
                name=row["name"], valid=not errors, errors=errors, matches_intent=problem is None, problem=problem
            )
        )
    mismatched = [item["name"] for item in results if not item["matches_intent"]]
    return ValidationResult(rows=results, all_match=not mismatched, mismatched=mismatched)


def problems_of(result: ValidationResult) -> dict[str, list[str]]:
    """Row name -> the problem and each schema error, for the rows that miss their intent."""
    return {
        item["name"]: [item["problem"] or ""]
        + [f"{error['keyword']} at {error['pointer'] or '/'}: {error['message']}" for error in item["errors"]]
        for item in result["rows"]
        if not item["matches_intent"]
    }


def _only_branch(error: ValidationError) -> int | None:
    """For a value other than null refused by ``anyOf``/``oneOf`` [X, {"type": "null"}]: the index of X."""
    if error.validator not in ("anyOf", "oneOf") or error.instance is None or not error.context:
        return None
    return other_than_null(error.validator_value if isinstance(error.validator_value, list) else [])
