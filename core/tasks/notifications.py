"""In-app notifications: the events a user is told about, read from task_events by polling.

The dashboard remembers the id of the last event it showed and asks for the ones after
it; ids only grow, so nothing is shown twice and nothing is missed between two polls.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.accounts.users import Actor
from core.database import session_scope
from core.tasks import events
from db.models import TaskEvent, WorkflowTask
from db.types import isoformat

MAX_BATCH = 50

TITLES = {
    events.WORKFLOW_STARTED: "started",
    events.WORKFLOW_NEED_REVIEW: "needs review",
    events.WORKFLOW_FAILED: "failed",
    events.WORKFLOW_COMPLETED: "completed",
}


def latest_event_id() -> int:
    """The newest event id: where a freshly signed-in user starts listening."""
    with session_scope() as session:
        return session.scalar(select(func.max(TaskEvent.id))) or 0


def events_since(actor: Actor, after_event_id: int, *, limit: int = 20) -> list[dict[str, Any]]:
    """The notifying events on the actor's own tasks with an id above ``after_event_id``, oldest first.

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
                TaskEvent.type.in_(events.NOTIFYING),
                WorkflowTask.user_id == actor.id,
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
