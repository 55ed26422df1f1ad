"""Review decisions: checking and recording them, and handing them to the workflow."""

from __future__ import annotations

from typing import Any, get_args, get_type_hints

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.accounts.users import Actor
from core.database import session_scope
from core.errors import Conflict, InvalidInput, NotFound
from core.inputs import json_type, label, max_length, plain_json
from core.library import review_lessons, setup_plan
from core.messages import phrase
from core.records import Check, RowKind
from core.tasks import events, lifecycle, review_desk
from core.workflow.state import Decision
from db.models import Review, TaskStatus, User, WorkflowTask
from db.types import isoformat

REVIEW_STATUSES = ("approved", "rejected")
ROW_KEYS = {"name", "body"}
ROW_KINDS: tuple[str, ...] = get_args(RowKind)
CHECK_KINDS: tuple[str, ...] = get_args(get_type_hints(Check)["kind"])
CHECK_KEYS = set(get_type_hints(Check))
PATH_KINDS = ("json_path_exists", "json_path_equals")
TEXT_FIELDS = {"keyword": True, "pointer": False, "description": False}
"""The row's text fields a reviewer may set, and whether each may be null."""
MAX_ROWS = 500
MAX_BODY_BYTES = 2_000_000
"""The most a corrected body may be, as the JSON stored for it."""
MAX_ROW_NAME = 200
"""The longest name of a row the reviewer adds."""
MAX_CHECKS = 100
"""Checks per row."""
MAX_FEEDBACK = 10_000
THREAD_ID_LIMIT = max_length(WorkflowTask.thread_id)


def submit(
    thread_id: str, review_status: str, corrected_body: Any, feedback: str | None, reviewer: Actor,
    expected_round: int | None = None, corrected_setup: Any = None,
) -> int:
    """Records one decision on a task awaiting review and requeues it; returns the task id.

    Exactly one decision per review round is ever applied: the status change is a
    compare-and-set on `reviewing`, and reviews are unique per task and round. A caller
    that showed the reviewer a given round passes it as ``expected_round``, so a decision
    can never land on a later round the reviewer has not seen. ``corrected_setup`` replaces the
    setup steps sent before each row (see core.library.setup_plan.checked).
    """
    thread_id = label(thread_id, "The thread_id", THREAD_ID_LIMIT)
    feedback = "" if feedback is None else label(feedback, "The feedback", MAX_FEEDBACK)
    if review_status not in REVIEW_STATUSES:
        raise InvalidInput("review_status must be 'approved' or 'rejected', not {review_status!r}.",
                           review_status=review_status)
    if review_status == "rejected" and not feedback:
        raise InvalidInput("A rejection needs feedback: say what is wrong so the rows can be regenerated.")
    try:
        with session_scope() as session:
            task = session.scalar(select(WorkflowTask).where(WorkflowTask.thread_id == thread_id))
            if task is None:
                raise NotFound("No task with thread_id {thread_id!r}.", thread_id=thread_id)
            if task.status != TaskStatus.REVIEWING.value or not task.interrupt_data:
                raise _not_reviewable(session, task)
            if expected_round is not None and expected_round != task.interrupt_data["round"]:
                raise _not_reviewable(session, task)
            generated = task.interrupt_data["generated_body"]
            rows = None if corrected_body is None else corrected_rows(corrected_body, generated)
            setup = None if corrected_setup is None else setup_plan.checked(corrected_setup)
            if not lifecycle.accept_review(session, task.id):
                raise _not_reviewable(session, task)
            round_ = task.interrupt_data["round"]
            change = review_lessons.edits(generated, rows, task.interrupt_data.get("setup", []), setup)
            session.add(
                Review(
                    task_id=task.id, round=round_, reviewer_id=reviewer.id, review_status=review_status,
                    corrected_body=rows, corrected_setup=setup, feedback=feedback,
                    scene_id=(task.input_params or {}).get("scene_id"), provider=task.interrupt_data.get("provider"),
                    edited=review_lessons.is_edited(change), edits=change,
                )
            )
            events.record(
                session, task.id, events.REVIEW_SUBMITTED, f"{reviewer.username} {review_status} round {round_}",
                data={"review_status": review_status, "reviewer": reviewer.username, "round": round_,
                      "corrected": rows is not None, "setup_corrected": setup is not None, "feedback": feedback},
            )
            review_desk.end_claims(session, task.id)
            return task.id
    except IntegrityError:
        with session_scope() as session:
            task = session.scalar(select(WorkflowTask).where(WorkflowTask.thread_id == thread_id))
            raise _not_reviewable(session, task) from None


def _not_reviewable(session: Session, task: WorkflowTask | None) -> Conflict:
    """The conflict to report, naming who decided last where someone did."""
    if task is None:
        return Conflict("The task no longer exists.")
    latest = session.execute(
        select(Review, User.username)
        .join(User, User.id == Review.reviewer_id)
        .where(Review.task_id == task.id)
        .order_by(Review.id.desc())
        .limit(1)
    ).first()
    status = session.scalar(select(WorkflowTask.status).where(WorkflowTask.id == task.id))
    if latest is None:
        return Conflict("Task {task_id} is {status}, not awaiting review.", task_id=task.id, status=phrase(status))
    review, username = latest
    return Conflict(
        "{username} already {review_status} round {round} of this task at {at}; it is now "
        "{status}. Reload it to see where it is.",
        username=username, review_status=phrase(review.review_status), round=review.round,
        at=isoformat(review.created_at),
        status=phrase(status)
    )


def corrected_rows(corrected_body: Any, generated: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows a reviewer's corrected body stands for.

    Either a list of request bodies, one per generated row in order, or a list of row
    objects with at least "name" and "body" (to add, remove or reorder rows). Anything
    else raises InvalidInput before a row is built, so no bad row can be stored.
    """
    if not isinstance(corrected_body, list) or not corrected_body:
        raise InvalidInput("corrected_body must be a non-empty list of JSON objects, one request body per row.")
    if len(corrected_body) > MAX_ROWS:
        raise InvalidInput("corrected_body has {corrected_body_count} rows; at most {max_rows} are allowed.",
                           corrected_body_count=len(corrected_body), max_rows=MAX_ROWS)
    plain_json(corrected_body, "corrected_body", max_bytes=MAX_BODY_BYTES)
    for index, item in enumerate(corrected_body):
        if not isinstance(item, dict):
            raise InvalidInput("corrected_body item {value} is {value2}, not a JSON object.",
                               value=index + 1, value2=json_type(item))
    if all(ROW_KEYS <= item.keys() and isinstance(item["body"], dict) for item in corrected_body):
        return _rows_from_row_objects(corrected_body, generated)
    if len(corrected_body) != len(generated):
        raise InvalidInput(
            "corrected_body has {corrected_body_count} bodies but the task generated {generated_count} rows; "
            "send row objects with a name and a body to add or remove rows.",
            corrected_body_count=len(corrected_body), generated_count=len(generated)
        )
    return [{**row, "body": body, "source": "reviewer"} if body != row["body"] else row
            for row, body in zip(generated, corrected_body, strict=True)]


def _rows_from_row_objects(items: list[dict[str, Any]], generated: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_name = {row["name"]: row for row in generated}
    default_status = next((r["expected_status"] for r in generated if r["kind"] == "valid"), 200)
    rows, seen = [], set()
    for index, item in enumerate(items):
        name = item["name"] if _is_generated(item["name"], by_name) else label(
            item["name"], f"The name of corrected_body row {index + 1}", MAX_ROW_NAME)
        if not name or name in seen:
            raise InvalidInput("corrected_body row {value} needs a unique, non-empty name.", value=index + 1)
        seen.add(name)
        base = by_name.get(name) or {
            "name": name, "kind": "valid", "keyword": None, "pointer": "", "description": "Added by the reviewer",
            "expected_status": default_status, "checks": [],
        }
        given = {key: value for key, value in item.items() if (key in base or key == "body") and key != "name"}
        if problem := _field_problem(given):
            raise InvalidInput("Row {name!r}: {problem}.", name=name, problem=problem)
        row = {**base, **given}
        changed = name not in by_name or row != by_name[name]
        rows.append({**row, "source": "reviewer"} if changed else row)
    return rows


def _is_generated(name: Any, by_name: dict[str, Any]) -> bool:
    """Whether ``name`` is a generated row's, kept as the generator wrote it (its length is the generator's)."""
    return isinstance(name, str) and name in by_name


def _field_problem(given: dict[str, Any]) -> str | None:
    """What is wrong with the fields a reviewer set on a row; the generated ones were checked when generated."""
    if "kind" in given and given["kind"] not in ROW_KINDS:
        return f"kind must be {', '.join(ROW_KINDS[:-1])} or {ROW_KINDS[-1]}"
    if "expected_status" in given and not _is_status(given["expected_status"]):
        return "expected_status must be an HTTP status code (100-599)"
    for key, nullable in TEXT_FIELDS.items():
        value = given.get(key, "")
        if not (isinstance(value, str) or (nullable and value is None)):
            return f"{key} must be text{' or null' if nullable else ''}, not {json_type(value)}"
    return _checks_problem(given["checks"]) if "checks" in given else None


def _checks_problem(checks: Any) -> str | None:
    if not isinstance(checks, list):
        return f"checks must be a list of check objects, not {json_type(checks)}"
    if len(checks) > MAX_CHECKS:
        return f"it has {len(checks)} checks; at most {MAX_CHECKS} are allowed"
    return next((f"check {number} {problem}" for number, check in enumerate(checks, 1)
                 if (problem := _check_problem(check))), None)


def _check_problem(check: Any) -> str | None:
    if not isinstance(check, dict):
        return f"is {json_type(check)}, not a check object"
    if unknown := sorted(set(check) - CHECK_KEYS):
        return f"has an unknown key {unknown[0]!r} (a check has {', '.join(sorted(CHECK_KEYS))})"
    kind, path, expected = check.get("kind"), check.get("path"), check.get("expected")
    if kind not in CHECK_KINDS:
        return f"has the kind {kind!r}; use {', '.join(CHECK_KINDS)}"
    if path is not None and not isinstance(path, str):
        return f"has a path that is {json_type(path)}, not text"
    if kind in PATH_KINDS and not (path or "").strip():
        return f"is a {kind} check without a path"
    if kind == "status" and not _is_status(expected):
        return "is a status check whose expected value is not an HTTP status code (100-599)"
    if kind == "body_contains" and not (isinstance(expected, str) and expected):
        return "is a body_contains check without the expected text"
    return None


def _is_status(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599


def decision_for(task_id: int, round_: int) -> Decision | None:
    """The decision submitted for a task's review round, if any."""
    with session_scope() as session:
        found = session.execute(
            select(Review, User.username)
            .join(User, User.id == Review.reviewer_id)
            .where(Review.task_id == task_id, Review.round == round_)
        ).first()
        if found is None:
            return None
        review, username = found
        return Decision(
            review_status=review.review_status, rows=review.corrected_body, feedback=review.feedback,
            reviewer=username, round=round_, setup=review.corrected_setup,
        )
