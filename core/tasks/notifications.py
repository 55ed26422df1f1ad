"""In-app notifications: the events a user is told about, read from task_events by polling.

The dashboard remembers the id of the last event it showed and asks for the ones after
it; ids only grow, so nothing is shown twice and nothing is missed between two polls.

:func:`feed` serves readers that must not miss an event even on PostgreSQL, where an id
is taken when a row is inserted but seen only when its transaction commits, so a lower
id can appear after a higher one: it also says up to which id events are *settled*
(older than SETTLE_SECONDS), and such a reader starts its next read there, skipping the
ids it already has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session

from core.accounts.users import Actor
from core.database import session_scope
from core.messages import phrase
from core.tasks import events, review_payload
from db.models import Review, TaskEvent, WorkflowTask
from db.types import isoformat, utcnow

MAX_BATCH = 50
MAX_FEED = 500
SETTLE_SECONDS = 5.0
"""Longer than any transaction that records an event stays open."""

TITLES = {  # phrases: the dashboard shows them in the user's language
    events.WORKFLOW_STARTED: phrase("started"),
    events.WORKFLOW_NEED_REVIEW: phrase("needs review"),
    events.WORKFLOW_FAILED: phrase("failed"),
    events.WORKFLOW_COMPLETED: phrase("completed"),
    events.REVIEW_REMINDER: phrase("still waits for review"),
    events.REVIEW_ASSIGNED: phrase("assigned to you for review"),
}


def latest_event_id() -> int:
    """The newest event id: where a freshly signed-in user starts listening."""
    with session_scope() as session:
        return session.scalar(select(func.max(TaskEvent.id))) or 0


def events_since(actor: Actor, after_event_id: int, *, limit: int = 20) -> list[dict[str, Any]]:
    """The notifying events on the actor's own tasks with an id above ``after_event_id``, oldest first; review
    reminders also on the tasks the actor reviewed before; review assignments only to their assignee.

    Each item: {id, task_id, thread_id, type, title, name, message, created_at, message_json}, where
    message_json is the specification's WebSocket message for the event.
    """
    limit = max(1, min(limit, MAX_BATCH))
    with session_scope() as session:
        rows = session.execute(
            select(TaskEvent, WorkflowTask.thread_id, WorkflowTask.input_params)
            .join(WorkflowTask, WorkflowTask.id == TaskEvent.task_id)
            .where(
                TaskEvent.id > after_event_id,
                TaskEvent.type.in_(events.DASHBOARD_NOTIFYING),
                or_((WorkflowTask.user_id == actor.id) & (TaskEvent.type != events.REVIEW_ASSIGNED),
                    (TaskEvent.type == events.REVIEW_REMINDER) & _reviewed_by(actor.id),
                    (TaskEvent.type == events.REVIEW_ASSIGNED)
                    & (TaskEvent.data["assignee_id"].as_integer() == actor.id)),
            )
            .order_by(TaskEvent.id)
            .limit(limit)
        ).all()
        return [
            {
                "id": event.id,
                "task_id": event.task_id,
                "thread_id": thread_id,
                "type": event.type,
                "title": TITLES.get(event.type, event.type),
                "name": (params or {}).get("name") or thread_id,
                "message": event.message,
                "created_at": isoformat(event.created_at),
                "message_json": events.to_message(event, thread_id),
            }
            for event, thread_id, params in rows
        ]


def _reviewed_by(user_id: int) -> ColumnElement[bool]:
    """The event's task had a review decision by this user."""
    return exists().where(Review.task_id == TaskEvent.task_id, Review.reviewer_id == user_id)


@dataclass(frozen=True)
class Feed:
    """Notifying events after an id, oldest first, and the id the next read starts after."""

    items: list[dict[str, Any]]
    settled: int


def feed(after_event_id: int, *, user_id: int | None = None, limit: int = MAX_FEED) -> Feed:
    """Notifying events with an id above ``after_event_id``, on one user's tasks or everyone's.

    Each item: {event_id, task_id, user_id, type, created_at, message}, where message is the
    specification's WebSocket message; a ``workflow_need_review`` message carries the
    task's interrupt data and generated body.
    """
    limit = max(1, min(limit, MAX_FEED))
    query = (
        select(TaskEvent, WorkflowTask.thread_id, WorkflowTask.user_id)
        .join(WorkflowTask, WorkflowTask.id == TaskEvent.task_id)
        .where(TaskEvent.id > after_event_id, TaskEvent.type.in_(events.NOTIFYING))
    )
    if user_id is not None:
        query = query.where(WorkflowTask.user_id == user_id)
    with session_scope(read_only=True) as session:
        rows = session.execute(query.order_by(TaskEvent.id).limit(limit)).all()
        reviews = _interrupt_data(session, {e.task_id for e, _, _ in rows if e.type == events.WORKFLOW_NEED_REVIEW})
        settled = settled_event_id(session, after_event_id)
    if len(rows) == limit:
        settled = min(settled, rows[-1][0].id)
    items = [
        {
            "event_id": event.id, "task_id": event.task_id, "user_id": owner, "type": event.type,
            "created_at": isoformat(event.created_at),
            "message": events.to_message(event, thread_id, reviews.get(event.task_id)),
        }
        for event, thread_id, owner in rows
    ]
    return Feed(items=items, settled=settled)


def settled_event_id(session: Session, floor: int) -> int:
    """The newest event id, above ``floor``, that no later commit can precede; else ``floor``."""
    cutoff = utcnow() - timedelta(seconds=SETTLE_SECONDS)
    newest = session.scalar(
        select(TaskEvent.id).where(TaskEvent.id > floor, TaskEvent.created_at <= cutoff)
        .order_by(TaskEvent.id.desc()).limit(1)
    )
    return newest or floor


def _interrupt_data(session: Session, task_ids: set[int]) -> dict[int, dict[str, Any]]:
    """The review data of these tasks ({} for a task that no longer has any)."""
    if not task_ids:
        return {}
    rows = session.execute(select(WorkflowTask.id, WorkflowTask.interrupt_data).where(WorkflowTask.id.in_(task_ids)))
    return {task_id: review_payload.expanded(session, task_id, data) or {} for task_id, data in rows}
