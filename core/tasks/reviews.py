"""Review decisions: checking and recording them, and handing them to the workflow."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.accounts.users import Actor
from core.database import session_scope
from core.errors import Conflict, InvalidInput, NotFound
from core.tasks import events, lifecycle
from core.workflow.state import Decision
from db.models import Review, TaskStatus, User, WorkflowTask
from db.types import isoformat

REVIEW_STATUSES = ("approved", "rejected")
ROW_KEYS = {"name", "body"}


def submit(
    thread_id: str, review_status: str, corrected_body: Any, feedback: str | None, reviewer: Actor,
    expected_round: int | None = None,
) -> int:
    """Records one decision on a task awaiting review and requeues it; returns the task id.

    Exactly one decision per review round is ever applied: the status change is a
    compare-and-set on `reviewing`, and reviews are unique per task and round. A caller
    that showed the reviewer a given round passes it as ``expected_round``, so a decision
    can never land on a later round the reviewer has not seen.
    """
    feedback = (feedback or "").strip()
    if review_status not in REVIEW_STATUSES:
        raise InvalidInput(f"review_status must be 'approved' or 'rejected', not {review_status!r}.")
    if review_status == "rejected" and not feedback:
        raise InvalidInput("A rejection needs feedback: say what is wrong so the rows can be regenerated.")
    try:
        with session_scope() as session:
            task = session.scalar(select(WorkflowTask).where(WorkflowTask.thread_id == thread_id))
            if task is None:
                raise NotFound(f"No task with thread_id {thread_id!r}.")
            if task.status != TaskStatus.REVIEWING.value or not task.interrupt_data:
                raise _not_reviewable(session, task)
            if expected_round is not None and expected_round != task.interrupt_data["round"]:
                raise _not_reviewable(session, task)
            generated = task.interrupt_data["generated_body"]
            rows = None if corrected_body is None else corrected_rows(corrected_body, generated)
            if not lifecycle.accept_review(session, task.id):
                raise _not_reviewable(session, task)
            round_ = task.interrupt_data["round"]
            session.add(
                Review(
                    task_id=task.id, round=round_, reviewer_id=reviewer.id, review_status=review_status,
                    corrected_body=rows, feedback=feedback,
                )
            )
            events.record(
                session, task.id, events.REVIEW_SUBMITTED, f"{reviewer.username} {review_status} round {round_}",
                data={"review_status": review_status, "reviewer": reviewer.username, "round": round_,
                      "corrected": rows is not None, "feedback": feedback},
            )
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
        return Conflict(f"Task {task.id} is {status}, not awaiting review.")
    review, username = latest
    return Conflict(
        f"{username} already {review.review_status} round {review.round} of this task at "
        f"{isoformat(review.created_at)}; it is now {status}. Reload it to see where it is."
    )


def corrected_rows(corrected_body: Any, generated: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows a reviewer's corrected body stands for.

    Either a list of request bodies, one per generated row in order, or a list of row
    objects with at least "name" and "body" (to add, remove or reorder rows).
    """
    if not isinstance(corrected_body, list) or not corrected_body:
        raise InvalidInput("corrected_body must be a non-empty list of JSON objects, one request body per row.")
    for index, item in enumerate(corrected_body):
        if not isinstance(item, dict):
            raise InvalidInput(f"corrected_body item {index + 1} is {_json_type(item)}, not a JSON object.")
    if all(ROW_KEYS <= item.keys() and isinstance(item["body"], dict) for item in corrected_body):
        return _rows_from_row_objects(corrected_body, generated)
    if len(corrected_body) != len(generated):
        raise InvalidInput(
            f"corrected_body has {len(corrected_body)} bodies but the task generated {len(generated)} rows; "
            "send row objects with a name and a body to add or remove rows."
        )
    return [{**row, "body": body, "source": "reviewer"} if body != row["body"] else row
            for row, body in zip(generated, corrected_body, strict=True)]


def _rows_from_row_objects(items: list[dict[str, Any]], generated: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_name = {row["name"]: row for row in generated}
    default_status = next((r["expected_status"] for r in generated if r["kind"] == "valid"), 200)
    rows, seen = [], set()
    for index, item in enumerate(items):
        name = str(item["name"]).strip()
        if not name or name in seen:
            raise InvalidInput(f"corrected_body row {index + 1} needs a unique, non-empty name.")
        seen.add(name)
        base = by_name.get(name) or {
            "name": name, "kind": "valid", "keyword": None, "pointer": "", "description": "Added by the reviewer",
            "expected_status": default_status, "checks": [],
        }
        row = {**base, **{k: v for k, v in item.items() if k in base or k == "body"}}
        if row["kind"] not in ("valid", "boundary", "invalid"):
            raise InvalidInput(f"Row {name!r}: kind must be valid, boundary or invalid.")
        if not isinstance(row["expected_status"], int) or not 100 <= row["expected_status"] <= 599:
            raise InvalidInput(f"Row {name!r}: expected_status must be an HTTP status code.")
        changed = name not in by_name or row != by_name[name]
        rows.append({**row, "source": "reviewer"} if changed else row)
    return rows


def _json_type(value: Any) -> str:
    names = {str: "a string", int: "a number", float: "a number", bool: "a boolean", list: "a list"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


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
            reviewer=username, round=round_,
        )
