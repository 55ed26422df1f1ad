"""The review desk's shared state: who is reviewing a task right now (claims) and whom a lead asked to (assignments).

A claim is a soft lock: the review page takes it when a reviewer opens a task and refreshes it
while the page stays open; it lapses REVIEW_CLAIM_MINUTES after the last refresh, and a lapsed
claim counts as none. A second reviewer is told who holds it and may take it over. Nothing
else reads claims: a decision (the dashboard's, the HTTP API's, the CLI's) never waits for or
checks one, and it ends the round's claim in its own transaction (core.tasks.reviews).

An assignment names the user a lead wants to review the task; it records a ``review_assigned``
event, which core.tasks.notifications turns into a toast for the assignee.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from core.accounts.users import Actor
from core.database import session_scope
from core.errors import Conflict, NotFound
from core.messages import phrase
from core.tasks import events
from db.models import ReviewAssignment, ReviewClaim, TaskStatus, User, WorkflowTask
from db.types import isoformat, utcnow


def claim(task_id: int, actor: Actor, ttl: timedelta, *, take_over: bool = False,
          now: datetime | None = None) -> dict[str, Any]:
    """Takes or refreshes the actor's claim on a task awaiting review; the claim as it is afterwards.

    Another reviewer's live claim is left alone (and returned) unless ``take_over``. Two
    reviewers claiming an unclaimed task at once: one insert wins, the other reads it.
    """
    now = now or utcnow()
    try:
        return _claim(task_id, actor, ttl, take_over, now)
    except IntegrityError:  # the other reviewer's insert committed first
        return _claim(task_id, actor, ttl, take_over, now)


def _claim(task_id: int, actor: Actor, ttl: timedelta, take_over: bool, now: datetime) -> dict[str, Any]:
    with session_scope() as session:
        _reviewing_task(session, task_id)
        row = session.get(ReviewClaim, task_id, with_for_update=True)
        if row is None:
            row = ReviewClaim(task_id=task_id, user_id=actor.id, claimed_at=now, expires_at=now + ttl)
            session.add(row)
            session.flush()
        elif row.user_id == actor.id or row.expires_at <= now or take_over:
            if row.user_id != actor.id or row.expires_at <= now:
                row.user_id, row.claimed_at = actor.id, now
            row.expires_at = now + ttl
        username = session.scalar(select(User.username).where(User.id == row.user_id)) or ""
        return _shape(row, username)


def release(task_id: int, actor: Actor) -> bool:
    """Ends the actor's own claim on the task (someone else's stays); whether there was one."""
    with session_scope() as session:
        done = session.execute(delete(ReviewClaim).where(ReviewClaim.task_id == task_id,
                                                         ReviewClaim.user_id == actor.id))
        return bool(done.rowcount)


def end_claims(session: Session, task_id: int) -> None:
    """The round was decided: whoever was reviewing it no longer is (in the decision's transaction)."""
    session.execute(delete(ReviewClaim).where(ReviewClaim.task_id == task_id))


def live_claims(session: Session, task_ids: list[int], now: datetime | None = None) -> dict[int, dict[str, Any]]:
    """The claims on these tasks that have not lapsed: task id -> {reviewer, since, expires_at}."""
    if not task_ids:
        return {}
    now = now or utcnow()
    rows = session.execute(
        select(ReviewClaim, User.username).join(User, User.id == ReviewClaim.user_id)
        .where(ReviewClaim.task_id.in_(task_ids), ReviewClaim.expires_at > now)
    ).all()
    return {row.task_id: _shape(row, username) for row, username in rows}


def assignments(session: Session, task_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Task id -> {assignee, by, at} for the tasks that have an assigned reviewer."""
    if not task_ids:
        return {}
    assignee, lead = aliased(User), aliased(User)
    rows = session.execute(
        select(ReviewAssignment, assignee.username, lead.username)
        .join(assignee, assignee.id == ReviewAssignment.assignee_id)
        .outerjoin(lead, lead.id == ReviewAssignment.assigned_by_id)
        .where(ReviewAssignment.task_id.in_(task_ids))
    ).all()
    return {row.task_id: {"assignee": name, "by": by, "at": isoformat(row.assigned_at)} for row, name, by in rows}


def assign(task_id: int, assignee: Actor | None, lead: Actor, now: datetime | None = None) -> dict[str, Any] | None:
    """Asks ``assignee`` to review the task (None: nobody), with a ``review_assigned`` event; the assignment."""
    now = now or utcnow()
    with session_scope() as session:
        task = _reviewing_task(session, task_id)
        session.execute(delete(ReviewAssignment).where(ReviewAssignment.task_id == task_id))
        data: dict[str, Any] = {"assignee": None, "assignee_id": None, "by": lead.username}
        message = f"{lead.username} unassigned the review"
        if assignee is not None:
            session.add(ReviewAssignment(task_id=task_id, assignee_id=assignee.id, assigned_by_id=lead.id,
                                         assigned_at=now))
            data.update(assignee=assignee.username, assignee_id=assignee.id)
            message = f"{lead.username} asked {assignee.username} to review"
        events.record(session, task_id, events.REVIEW_ASSIGNED, message, step=task.current_step, data=data)
        session.flush()
        return assignments(session, [task_id]).get(task_id)


def _reviewing_task(session: Session, task_id: int) -> WorkflowTask:
    task = session.get(WorkflowTask, task_id)
    if task is None:
        raise NotFound("No task with id {task_id}.", task_id=task_id)
    if task.status != TaskStatus.REVIEWING.value:
        raise Conflict("Task {task_id} is {status}, not awaiting review.", task_id=task_id, status=phrase(task.status))
    return task


def _shape(row: ReviewClaim, username: str) -> dict[str, Any]:
    return {"task_id": row.task_id, "reviewer": username, "since": isoformat(row.claimed_at),
            "expires_at": isoformat(row.expires_at)}
