"""Task events: the timeline of a task, and the source of in-app notifications.

The event types named after the specification's WebSocket messages carry the same data,
so :func:`to_message` gives exactly the message the specification pushes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import TaskEvent, TaskStatus, WorkflowTask

TASK_CREATED = "task_created"
WORKFLOW_STARTED = "workflow_started"  # the specification's message
TASK_RESUMED = "task_resumed"
STEP_COMPLETED = "step_completed"
WORKFLOW_NEED_REVIEW = "workflow_need_review"  # the specification's message
REVIEW_SUBMITTED = "review_submitted"
WORKFLOW_FAILED = "workflow_failed"  # the specification's message
WORKFLOW_COMPLETED = "workflow_completed"
TASK_CANCELLED = "task_cancelled"
TASK_RETRIED = "task_retried"
TASK_REQUEUED = "task_requeued"
RETRY_SCHEDULED = "retry_scheduled"
REVIEW_REMINDER = "review_reminder"  # waiting for review longer than REVIEW_REMIND_HOURS
REVIEW_ASSIGNED = "review_assigned"  # a lead asked a user to review (data: assignee, assignee_id, by)

NOTIFYING = (WORKFLOW_STARTED, WORKFLOW_NEED_REVIEW, WORKFLOW_FAILED, WORKFLOW_COMPLETED)
"""Events a user is told about as they happen (the specification's messages, in the HTTP API's feed too)."""
DASHBOARD_NOTIFYING = (*NOTIFYING, REVIEW_REMINDER, REVIEW_ASSIGNED)
"""Events the dashboard turns into toasts; a reminder also reaches those who reviewed the task before, an
assignment only its assignee."""


def record(
    session: Session,
    task_id: int,
    type_: str,
    message: str,
    *,
    step: str | None = None,
    data: dict[str, Any] | None = None,
    duration_ms: int | None = None,
    worker: str | None = None,
) -> TaskEvent:
    """Add one event to the session's transaction."""
    event = TaskEvent(
        task_id=task_id, type=type_, message=message, step=step, data=data, duration_ms=duration_ms, worker=worker
    )
    session.add(event)
    return event


PROGRESS = (STEP_COMPLETED, WORKFLOW_NEED_REVIEW, REVIEW_SUBMITTED, TASK_RETRIED, TASK_CREATED)
"""Events after which a run of transient faults counts afresh."""


def retry_streak(session: Session, task_id: int) -> tuple[int, datetime | None]:
    """(retries scheduled, when the first was) since the task last made progress."""
    progress = (select(func.max(TaskEvent.id))
                .where(TaskEvent.task_id == task_id, TaskEvent.type.in_(PROGRESS)).scalar_subquery())
    times = session.scalars(
        select(TaskEvent.created_at)
        .where(TaskEvent.task_id == task_id, TaskEvent.type == RETRY_SCHEDULED,
               TaskEvent.id > func.coalesce(progress, 0))
        .order_by(TaskEvent.id)
    ).all()
    return len(times), times[0] if times else None


def review_requests() -> Any:
    """(task_id, asked): when each task awaiting review last asked for one (its review_asked_at).

    Read from the partial index of the tasks awaiting review, not from their events.
    """
    t = WorkflowTask
    return (select(t.id.label("task_id"), t.review_asked_at.label("asked"))
            .where(t.status == TaskStatus.REVIEWING.value, t.review_asked_at.is_not(None))
            .subquery())


def task_events(session: Session, task_id: int) -> list[TaskEvent]:
    """A task's timeline, oldest first."""
    return list(session.scalars(select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)))


def to_message(event: TaskEvent, thread_id: str, interrupt_data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The specification's WebSocket message for an event: {"type": ..., "data": {...}}.

    A `workflow_need_review` message carries the task's interrupt data and generated body,
    which the event itself does not repeat.
    """
    data: dict[str, Any] = {"thread_id": thread_id, "message": event.message, **(event.data or {})}
    if event.type == WORKFLOW_NEED_REVIEW and interrupt_data is not None:
        data["interrupt_data"] = interrupt_data
        data["generated_body"] = interrupt_data.get("generated_body", [])
    return {"type": event.type, "data": data}
