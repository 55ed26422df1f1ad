"""The review desk at the door: the queue of tasks awaiting review, who is reviewing each, and assignments.

Claims only inform: :func:`submit_review` (and so the HTTP API and the CLI) never checks them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Select, func, select

from core import inputs, paging
from core.accounts.users import current_actor, require_admin, require_operator
from core.config import get_settings
from core.database import session_scope
from core.errors import InvalidInput
from core.service.tasks import task_summary
from core.tasks import review_desk
from db.models import ReviewAssignment, TaskStatus, User, WorkflowTask
from db.types import isoformat, utcnow

MAX_WAIT_FILTER_SECONDS = 366 * 86400


def review_queue(
    *, user: str | None = None, mine: bool = False, module: str | None = None,
    min_wait_seconds: float | None = None, limit: int = 50, offset: int = 0,
) -> dict[str, Any]:
    """Tasks awaiting review, the longest-waiting first: {total, items, limit, offset, modules}.

    Filters: ``mine`` (assigned to ``user``), ``module`` (the task's), ``min_wait_seconds`` (waiting at
    least that long). Each item is a task summary with ``waiting_since`` (when it last asked for a
    review), ``round``, ``rows`` (generated rows waiting), ``module``, ``claim`` (who is reviewing it
    now: {reviewer, since, expires_at}, or None) and ``assignment`` ({assignee, by, at}, or None).
    ``modules`` lists the modules of every task awaiting review, for the filter.
    """
    paging.check(limit, offset)
    asked = WorkflowTask.review_asked_at
    query = select(WorkflowTask.id, asked).where(WorkflowTask.status == TaskStatus.REVIEWING.value)
    query = _filtered(query, asked, user, mine, module, min_wait_seconds)
    with session_scope(read_only=True) as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        page = session.execute(query.order_by(asked.is_(None), asked, WorkflowTask.id)
                               .limit(limit).offset(offset)).all()
        ids = [task_id for task_id, _ in page]
        found = {task.id: (task, username) for task, username in session.execute(
            select(WorkflowTask, User.username).join(User, User.id == WorkflowTask.user_id)
            .where(WorkflowTask.id.in_(ids)))}
        claims, assigned = review_desk.live_claims(session, ids), review_desk.assignments(session, ids)
        items = [_item(*found[task_id], asked_at, claims.get(task_id), assigned.get(task_id))
                 for task_id, asked_at in page]
        modules = sorted(m for m in session.scalars(
            select(_module()).where(WorkflowTask.status == TaskStatus.REVIEWING.value).distinct()) if m)
    return {"total": total, "items": items, "limit": limit, "offset": offset, "modules": modules}


def _module() -> Any:
    return WorkflowTask.input_params["module_id"].as_string()


def _filtered(query: Select[Any], asked: Any, user: str | None, mine: bool, module: str | None,
              min_wait_seconds: float | None) -> Select[Any]:
    if mine:
        actor = current_actor(inputs.text(user, "The user"))
        query = query.where(WorkflowTask.id.in_(
            select(ReviewAssignment.task_id).where(ReviewAssignment.assignee_id == actor.id)))
    if module := inputs.optional_text(module, "The module filter", limit=100):
        query = query.where(_module() == module)
    if min_wait_seconds is not None:
        wait = inputs.seconds(min_wait_seconds, "The waiting time", maximum=MAX_WAIT_FILTER_SECONDS, allow_zero=True)
        query = query.where(func.coalesce(asked, WorkflowTask.updated_at) <= utcnow() - timedelta(seconds=wait))
    return query


def _item(task: WorkflowTask, username: str, asked_at: Any, claim: dict[str, Any] | None,
          assignment: dict[str, Any] | None) -> dict[str, Any]:
    data = task.interrupt_data or {}
    return {
        **task_summary(task, username),
        "waiting_since": isoformat(asked_at or task.updated_at or task.created_at),
        "round": data.get("round"),
        "rows": len(data.get("generated_body", [])),
        "module": (task.input_params or {}).get("module_id"),
        "claim": claim,
        "assignment": assignment,
    }


def claim_review(task_id: int, *, user: str, take_over: bool = False) -> dict[str, Any]:
    """Says ``user`` is reviewing the task now (or still is): {task_id, reviewer, since, expires_at, mine}.

    While another reviewer's claim is live it stays theirs (``mine`` False) unless ``take_over``.
    A claim lapses REVIEW_CLAIM_MINUTES after its last refresh.
    """
    task_id = inputs.record_id(task_id, "task")
    actor = require_operator(current_actor(user), "review tasks")
    ttl = timedelta(minutes=get_settings().review_claim_minutes)
    claim = review_desk.claim(task_id, actor, ttl, take_over=take_over is True)
    return {**claim, "mine": claim["reviewer"] == actor.username}


def release_review(task_id: int, *, user: str) -> bool:
    """``user`` stops reviewing the task (their claim ends; another's stays); whether they held one."""
    return review_desk.release(inputs.record_id(task_id, "task"), current_actor(user))


def review_desk_of(task_id: int) -> dict[str, Any]:
    """Who is reviewing the task now and whom it is assigned to: {claim, assignment} (each None when nobody)."""
    task_id = inputs.record_id(task_id, "task")
    with session_scope(read_only=True) as session:
        return {"claim": review_desk.live_claims(session, [task_id]).get(task_id),
                "assignment": review_desk.assignments(session, [task_id]).get(task_id)}


def assign_review(task_id: int, assignee: str | None, *, user: str) -> dict[str, Any] | None:
    """A lead (an admin) asks ``assignee`` to review the task (None: nobody); the assignee is notified.

    Returns {assignee, by, at}, or None after unassigning.
    """
    task_id = inputs.record_id(task_id, "task")
    lead = require_admin(current_actor(user), "assign reviews")
    reviewer = None
    if assignee is not None:
        reviewer = current_actor(inputs.text(assignee, "The assignee", limit=100))
        if not reviewer.can_operate:
            raise InvalidInput("{username} is a viewer and cannot review tasks; assign an engineer or an admin.",
                               username=reviewer.username)
    return review_desk.assign(task_id, reviewer, lead)
