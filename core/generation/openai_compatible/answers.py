"""Turning the model's answers into the workflow's records, and saying what is wrong with them.

Each ``check_*`` function parses an answer's text and returns what can be used of it
with a list of problems, phrased for the repair request. Row answers keep every good
row and name the rows still missing (``Checked.pending``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from core.generation.openai_compatible.answer_schemas import (
    AnalysisAnswer,
    AssertionAnswer,
    CheckAnswer,
    PlannedRow,
    Unparseable,
    describe_error,
    items_of,
    load_object,
)
from core.generation.openai_compatible.prompts import MAX_ROWS, ROOT, SceneView
from core.records import Analysis, Check, DataRow, RowAssertions, RowKind, RowPlan
from core.schema.validation import intent_problem, validate_body

PATH_KINDS = ("json_path_exists", "json_path_equals")
T = TypeVar("T")


@dataclass
class Rows:
    """A row answer: the good rows by name, the problems, and the rows still to get."""

    good: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)


@dataclass
class Whole(Generic[T]):
    """An answer taken as a whole (an analysis, a plan): None when it could not be parsed at all."""

    value: T | None = None
    problems: list[str] = field(default_factory=list)


def status_fits(kind: RowKind, status: int) -> bool:
    """Valid and boundary rows expect a 2xx status, invalid rows a 4xx."""
    return 400 <= status < 500 if kind == "invalid" else 200 <= status < 300


def check_analysis(text: str, view: SceneView) -> Whole[Analysis]:
    """Step 2's answer: the analysis and the plan."""
    try:
        data = load_object(text)
        answer = AnalysisAnswer.model_validate({**data, "rows": []})
        items = items_of(data, "rows")
    except Unparseable as exc:
        return Whole(problems=[str(exc)])
    except ValidationError as exc:
        return Whole(problems=[f"The answer does not have the required shape: {describe_error(exc)}"])
    plan, problems = check_plan(items, view)
    if not answer.intent.strip():
        problems.insert(0, "intent must say what the test case verifies.")
    fields = [pointer for pointer in (_pointer(item, view) for item in answer.fields) if pointer is not None]
    analysis = Analysis(
        intent=answer.intent.strip()[:400], fields=fields, expected_outcome=answer.expected_outcome.strip(), plan=plan
    )
    return Whole(value=analysis, problems=problems)


def check_plan_answer(text: str, view: SceneView) -> Whole[list[RowPlan]]:
    """Step 3's answer when it is asked for separately: the plan."""
    try:
        items = items_of(load_object(text), "rows")
    except Unparseable as exc:
        return Whole(problems=[str(exc)])
    plan, problems = check_plan(items, view)
    return Whole(value=plan, problems=problems)


def check_plan(items: list[Any], view: SceneView) -> tuple[list[RowPlan], list[str]]:
    """The good planned rows, and what is wrong with the others."""
    plan: list[RowPlan] = []
    problems: list[str] = []
    targets = set(view.targets)
    for index, item in enumerate(items[:MAX_ROWS]):
        try:
            row = PlannedRow.model_validate(item)
        except ValidationError as exc:
            problems.append(f"rows[{index}]: {describe_error(exc)}")
            continue
        name = re.sub(r"\s+", "_", row.name.strip())
        pointer = _pointer(row.pointer, view)
        keyword = None if row.kind == "valid" else (row.keyword or "").strip()
        problem = None
        if not name or any(planned["name"] == name for planned in plan):
            problem = f"rows[{index}]: the name {row.name!r} is empty or used twice."
        elif pointer is None:
            problem = f"Row {name}: {row.pointer!r} is not a field of the request schema."
        elif row.kind != "valid" and (row.kind, keyword, pointer) not in targets:
            problem = f'Row {name}: "{row.kind} {keyword} {pointer}" is not one of the constraints.'
        elif not status_fits(row.kind, row.expected_status):
            problem = f"Row {name}: a {row.kind} row cannot expect status {row.expected_status}."
        if problem:
            problems.append(problem)
            continue
        plan.append(RowPlan(name=name, kind=row.kind, keyword=keyword, pointer=pointer or "",
                            description=row.description.strip(), expected_status=row.expected_status))
    if not any(row["kind"] == "valid" for row in plan):
        problems.append('The plan needs a plain valid row (kind "valid", keyword null, pointer "").')
    return plan, problems


def check_bodies(text: str, schema: dict[str, Any], wanted: list[RowPlan]) -> Rows:
    """Step 4's answer: a body per wanted row that does exactly what its row intends."""
    by_name = {row["name"]: row for row in wanted}
    return _check_rows(text, "rows", list(by_name), lambda name, item: _checked_body(item, schema, by_name[name]))


def _checked_body(item: dict[str, Any], schema: dict[str, Any], row: RowPlan) -> tuple[Any, str | None]:
    body = _body(item)
    if not isinstance(body, dict):
        return None, "body_json must be the JSON text of an object."
    errors = validate_body(schema, body)
    problem = intent_problem(row["kind"], row["keyword"], row["pointer"], errors)
    if problem:
        details = "; ".join(f"{error['keyword']} at {error['pointer'] or '/'}: {error['message']}" for error in errors)
        return None, problem + (f" ({details[:400]})" if details else "")
    return body, None


def check_assertions(text: str, wanted: list[DataRow]) -> Rows:
    """Step 7's answer: the expected status and response checks of each wanted row."""
    by_name = {row["name"]: row for row in wanted}
    return _check_rows(text, "assertions", list(by_name), lambda name, item: _checked_assertions(item, by_name[name]))


def _checked_assertions(item: dict[str, Any], row: DataRow) -> tuple[Any, str | None]:
    try:
        answer = AssertionAnswer.model_validate(item)
    except ValidationError as exc:
        return None, describe_error(exc)
    problems = [] if status_fits(row["kind"], answer.expected_status) else [
        f"a {row['kind']} row cannot expect status {answer.expected_status}"
    ]
    problems += [problem for problem in map(_check_problem, answer.checks) if problem]
    if problems:
        return None, f"{'; '.join(problems)}."
    return RowAssertions(
        name=row["name"],
        expected_status=answer.expected_status,
        checks=[Check(kind="status", path=None, expected=answer.expected_status)] + [
            Check(kind=check.kind, path=check.path if check.kind in PATH_KINDS else None, expected=check.expected)
            for check in answer.checks
            if check.kind != "status"
        ],
    ), None


def _check_rows(
    text: str, key: str, names: list[str], check_one: Callable[[str, dict[str, Any]], tuple[Any, str | None]]
) -> Rows:
    """Parses the answer's list under ``key``; keeps, per wanted name, the first item ``check_one`` accepts."""
    result = Rows()
    try:
        items = items_of(load_object(text), key)
    except Unparseable as exc:
        return Rows(problems=[str(exc)], pending=list(names))
    for item in items:
        name = item.get("name") if isinstance(item, dict) else None
        if name not in names or name in result.good:
            continue
        value, problem = check_one(name, item)
        if problem:
            result.problems.append(f"Row {name}: {problem}")
            continue
        result.good[name] = value
    _pending(result, names)
    return result


def _check_problem(check: CheckAnswer) -> str | None:
    if check.kind in PATH_KINDS and not (check.path or "").strip():
        return f"a {check.kind} check needs a path"
    if check.kind == "body_contains" and not (isinstance(check.expected, str) and check.expected.strip()):
        return "a body_contains check needs the expected text"
    return None


def _pending(result: Rows, names: list[str]) -> None:
    reported = " ".join(result.problems)
    for name in names:
        if name not in result.good:
            result.pending.append(name)
            if f"Row {name}:" not in reported:
                result.problems.append(f"Row {name}: missing from the answer.")


def _body(item: dict[str, Any]) -> Any:
    body = item.get("body_json", item.get("body"))
    if isinstance(body, str):
        try:
            return json.loads(body)
        except json.JSONDecodeError:
            return None
    return body


def _pointer(value: str, view: SceneView) -> str | None:
    """A field's JSON pointer as the schema knows it ("email" and "/email" both name /email); None if unknown."""
    value = value.strip()
    if value in (ROOT, "/", "#"):
        value = ""
    dotted = re.sub(r"\[(\d+)\]", r".\1", value).lstrip("/").replace(".", "/")
    for candidate in (value, "/" + dotted):
        if candidate in view.fields:
            return candidate
    return None
