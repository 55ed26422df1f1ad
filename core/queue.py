"""Claiming pending tasks, holding their leases, and requeueing the tasks of lost workers.

Every status write of a running task is fenced on its lease: it only applies while the
row still names this worker as owner and is still processing, so a worker whose lease
expired (or whose task was cancelled) can never overwrite what happened since.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NamedTuple

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core import events
from core.database import session_scope
from core.errors import LeaseLost
from db.models import TaskStatus, WorkflowTask
from db.types import isoformat, utcnow

PENDING, PROCESSING = TaskStatus.PENDING.value, TaskStatus.PROCESSING.value


class Claim(NamedTuple):
    """One claim of a task; ``token`` (the task's claim count) tells it from every other claim."""

    task_id: int
    token: int


def claim(worker_id: str, limit: int, lease_seconds: int) -> list[Claim]:
    """Takes up to ``limit`` runnable pending tasks, highest priority then oldest first."""
    if limit <= 0:
        return []
    now = utcnow()
    with session_scope() as session:
        candidates = session.scalars(
            select(WorkflowTask.id)
            .where(WorkflowTask.status == PENDING, or_(WorkflowTask.run_after.is_(None), WorkflowTask.run_after <= now))
            .order_by(WorkflowTask.priority.desc(), WorkflowTask.created_at, WorkflowTask.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        claimed = []
        for task_id in candidates:
            task = session.get(WorkflowTask, task_id)
            if task is None or task.status != PENDING:
                continue
            first_run = task.started_at is None
            task.status = PROCESSING
            task.lease_owner = worker_id
            task.lease_expires_at = now + timedelta(seconds=lease_seconds)
            task.attempts += 1
            task.claims += 1
            task.run_after = None
            task.started_at = task.started_at or now
            kind = events.WORKFLOW_STARTED if first_run else events.TASK_RESUMED
            message = "工作流已启动，正在执行..." if first_run else f"Resumed by worker {worker_id}"
            events.record(session, task_id, kind, message, data={"status": PROCESSING}, worker=worker_id)
            claimed.append(Claim(task_id, task.claims))
        return claimed


def fenced_update(session: Session, claim: Claim, worker_id: str, **values: Any) -> None:
    """Writes ``values`` to a task this claim still holds, or raises LeaseLost.

    The claim's token is part of the fence: when the same worker claims the task again
    (after a review, say), a late write of its earlier run is refused too.
    """
    task_id = claim.task_id
    result = session.execute(
        update(WorkflowTask)
        .where(
            WorkflowTask.id == task_id,
            WorkflowTask.lease_owner == worker_id,
            WorkflowTask.claims == claim.token,
            WorkflowTask.status == PROCESSING,
        )
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise LeaseLost(f"Worker {worker_id} no longer holds task {task_id}.")


def release(claim: Claim, worker_id: str) -> None:
    """Hands a claimed task back to the queue because its worker is stopping.

    The claim does not count as an attempt; the next run resumes from the last checkpoint.
    """
    try:
        with session_scope() as session:
            fenced_update(session, claim, worker_id, status=PENDING, lease_owner=None, lease_expires_at=None,
                          attempts=WorkflowTask.attempts - 1)
            events.record(session, claim.task_id, events.TASK_REQUEUED,
                          f"Worker {worker_id} stopped; requeued to resume from its last checkpoint.",
                          worker=worker_id)
    except LeaseLost:
        pass  # cancelled or taken over meanwhile: nothing to hand back


def heartbeat(worker_id: str, lease_seconds: int) -> int:
    """Extends the leases of every task this worker runs; returns how many."""
    with session_scope() as session:
        result = session.execute(
            update(WorkflowTask)
            .where(WorkflowTask.lease_owner == worker_id, WorkflowTask.status == PROCESSING)
            .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
            .execution_options(synchronize_session=False)
        )
        return result.rowcount


def requeue_expired(max_attempts: int) -> list[int]:
    """Sends tasks whose lease expired back to pending (they resume from their checkpoint).

    A task that has already used all its attempts fails instead, so a task that kills
    its worker every time cannot loop for ever.
    """
    now = utcnow()
    requeued = []
    with session_scope() as session:
        expired = session.scalars(
            select(WorkflowTask)
            .where(WorkflowTask.status == PROCESSING, WorkflowTask.lease_expires_at < now)
            .with_for_update(skip_locked=True)
        ).all()
        for task in expired:
            owner, expired_at = task.lease_owner, isoformat(task.lease_expires_at)
            task.lease_owner = None
            task.lease_expires_at = None
            data = {"previous_worker": owner, "lease_expired_at": expired_at}
            if task.attempts >= max_attempts:
                task.status = TaskStatus.FAILED.value
                task.progress = 0
                task.completed_at = now
                task.error_message = (
                    f"The worker running this task stopped responding {task.attempts} times "
                    f"(last: {owner}, lease expired at {expired_at}); giving up."
                )
                events.record(
                    session, task.id, events.WORKFLOW_FAILED, task.error_message,
                    step=task.current_step, data={"status": task.status, "error": task.error_message, **data},
                )
                continue
            task.status = PENDING
            events.record(
                session, task.id, events.TASK_REQUEUED,
                f"Lease of worker {owner} expired at {expired_at}; requeued to resume from its last checkpoint.",
                data=data,
            )
            requeued.append(task.id)
    return requeued
