"""Reviews that do not wait for ever: a reminder every REVIEW_REMIND_HOURS, cancellation after REVIEW_EXPIRE_DAYS.

A task's wait starts when it last asked for a review (its latest need-review event). Once
it has waited REVIEW_REMIND_HOURS, and again each REVIEW_REMIND_HOURS after the previous
reminder, it gets a ``review_reminder`` event: a toast for its owner and for whoever
reviewed it before (core.tasks.notifications), and a webhook delivery for webhooks that
chose ``review_reminder``. After REVIEW_EXPIRE_DAYS it is cancelled with that reason
(core.tasks.lifecycle.expire_review). Every worker runs :func:`check` periodically; each
write re-checks under the task's row lock, so two workers never remind twice or cancel a
task a reviewer just decided. A worker down for days sends one reminder, not one per
missed interval. 0 turns either off. Every function takes ``now``: tests set timestamps
instead of waiting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from core.config import Settings, get_settings
from core.database import session_scope
from core.messages import Text
from core.tasks import events, lifecycle
from db.models import TaskEvent, TaskStatus, WorkflowTask
from db.types import isoformat, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deadlines:
    """When a review is due a reminder and when it expires (None: off)."""

    remind: timedelta | None
    expire: timedelta | None

    @classmethod
    def of(cls, settings: Settings) -> Deadlines:
        return cls(remind=timedelta(hours=settings.review_remind_hours) if settings.review_remind_hours else None,
                   expire=timedelta(days=settings.review_expire_days) if settings.review_expire_days else None)

    def expires_at(self, asked: datetime) -> datetime | None:
        return asked + self.expire if self.expire else None


def check(settings: Settings | None = None, *, now: datetime | None = None) -> dict[str, list[int]]:
    """Reminds and expires the reviews that are due; {"reminded": [task ids], "expired": [task ids]}."""
    deadlines = Deadlines.of(settings or get_settings())
    now = now or utcnow()
    done: dict[str, list[int]] = {"reminded": [], "expired": []}
    if deadlines.remind is None and deadlines.expire is None:
        return done
    for task_id, asked, reminded in waiting():
        if deadlines.expire and now - asked >= deadlines.expire:
            if _expire(task_id, asked, deadlines.expire):
                done["expired"].append(task_id)
        elif deadlines.remind and now - max(asked, reminded or asked) >= deadlines.remind:
            if _remind(task_id, asked, deadlines.remind, now):
                done["reminded"].append(task_id)
    if done["reminded"] or done["expired"]:
        log.info("reviews: reminded %s, expired %s", done["reminded"], done["expired"])
    return done


def waiting() -> list[tuple[int, datetime, datetime | None]]:
    """(task id, asked, last reminder or None) of every task awaiting review."""
    asked = events.review_requests()
    reminded = last_reminders()
    with session_scope(read_only=True) as session:
        rows = session.execute(
            select(asked.c.task_id, asked.c.asked, reminded.c.reminded)
            .outerjoin(reminded, reminded.c.task_id == asked.c.task_id)
        ).all()
    return [(task_id, when, last if last is not None and last >= when else None) for task_id, when, last in rows]


def last_reminders() -> Any:
    """(task_id, reminded): the latest reminder of each task awaiting review."""
    e, t = TaskEvent, WorkflowTask
    return (select(e.task_id, func.max(e.created_at).label("reminded"))
            .join(t, t.id == e.task_id)
            .where(t.status == TaskStatus.REVIEWING.value, e.type == events.REVIEW_REMINDER)
            .group_by(e.task_id).subquery())


def _remind(task_id: int, asked: datetime, every: timedelta, now: datetime) -> bool:
    """One reminder event, if the task still waits for that review and none came within ``every``."""
    with session_scope() as session:
        task = session.get(WorkflowTask, task_id, with_for_update=True)
        if task is None or task.status != TaskStatus.REVIEWING.value or task.review_asked_at != asked:
            return False
        last = session.scalar(select(func.max(TaskEvent.created_at)).where(
            TaskEvent.task_id == task_id, TaskEvent.type == events.REVIEW_REMINDER, TaskEvent.created_at >= asked))
        if now - (last or asked) < every:
            return False
        hours = (now - asked).total_seconds() / 3600
        events.record(session, task_id, events.REVIEW_REMINDER, f"Waiting for review for {waited(hours)}",
                      step=task.current_step,
                      data={"status": task.status, "waiting_since": isoformat(asked),
                            "waiting_hours": round(hours, 1)}).created_at = now
        return True


def _expire(task_id: int, asked: datetime, after: timedelta) -> bool:
    days = after.total_seconds() / 86400
    message = f"Cancelled: waited for review longer than {days:g} day{'s' if days != 1 else ''} (REVIEW_EXPIRE_DAYS)"
    with session_scope() as session:
        return lifecycle.expire_review(session, task_id, asked, message)


def waited(hours: float) -> Text:
    """How long a review has waited: "30 hours", "2.5 days"."""
    return Text("{hours:.0f} hours", hours=hours) if hours < 48 else Text("{days:.1f} days", days=hours / 24)

