"""The task lifecycle: every write of a task's status or lease, with the event that tells it.

Nothing else assigns ``status``, ``lease_owner`` or ``lease_expires_at``. A running task
moves by :func:`transition`, fenced on its claim: the write applies only while the row
still names this worker and this claim and is still processing, so a worker whose lease
expired (or whose task was cancelled) can never overwrite what happened since. The
event goes in the same transaction as the write it describes.

    pending ──claim──▶ processing ──review_requested──▶ reviewing ──accept_review──▶ pending
       ▲                   │ ├─complete──▶ completed
       └─release/retry_later/requeue_expired─┘ └─fail──▶ failed      cancel: any live status ▶ cancelled
    failed/cancelled ──retry──▶ pending
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, func, null, or_, select, text, update
from sqlalchemy.orm import Session

from core.config import get_settings
from core.database import session_scope
from core.errors import Conflict, LeaseLost, NotFound
from core.messages import phrase
from core.tasks import events, queue_control, review_payload, telemetry
from core.workflow.steps import AWAITING_REVIEW, CASE_CREATED, REVIEW_PROGRESS, STARTED_PROGRESS
from db.models import TaskStatus, WorkflowTask
from db.types import isoformat, utcnow

PENDING, PROCESSING = TaskStatus.PENDING.value, TaskStatus.PROCESSING.value
RELEASED = {"lease_owner": None, "lease_expires_at": None}
"""A task no worker holds."""
MODULE = func.coalesce(WorkflowTask.input_params["module_id"].as_string(), "")
"""A task's module ("" when it has none; no module cap applies then)."""
CLAIM_LOCK_KEY = 7_314_020_612
"""PostgreSQL advisory lock that serialises claims while caps are on (SQLite's BEGIN IMMEDIATE already does)."""


class Claim(NamedTuple):
    """One claim of a task; ``token`` (the task's claim count) tells it from every other claim."""

    task_id: int
    token: int


def queue_rank(priority: int, since: datetime) -> datetime:
    """A task's place in the queue: ``since`` moved earlier by one PRIORITY_AGING_SECONDS per priority level.

    A task's effective priority grows by one level per PRIORITY_AGING_SECONDS of waiting:
    priority + (now − created_at) / A, which is (now − ranked_at) / A. At every moment the
    oldest ``ranked_at`` therefore has the highest effective priority, so claims order by a
    plain indexed column on both backends, and a low-priority task that has waited long
    enough runs before newer urgent ones.
    """
    return since - timedelta(seconds=priority * get_settings().priority_aging_seconds)


class _Caps:
    """MAX_RUNNING_PER_USER / MAX_RUNNING_PER_MODULE against the tasks running now (0: no cap)."""

    def __init__(self, session: Session) -> None:
        settings = get_settings()
        self.per_user, self.per_module = settings.max_running_per_user, settings.max_running_per_module
        self.users: Counter[int] = Counter()
        self.modules: Counter[str] = Counter()
        if not self.active:
            return
        if session.get_bind().dialect.name == "postgresql":  # counts read then written: one claimer at a time
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK_KEY})
        running = session.execute(select(WorkflowTask.user_id, MODULE).where(WorkflowTask.status == PROCESSING))
        for user_id, module in running:
            self.users[user_id] += 1
            self.modules[module] += 1

    @property
    def active(self) -> bool:
        return bool(self.per_user or self.per_module)

    def exclusions(self) -> list[ColumnElement[bool]]:
        """Filters leaving out the users and modules already at their cap."""
        where = []
        if full := [user for user, count in self.users.items() if self.per_user and count >= self.per_user]:
            where.append(WorkflowTask.user_id.not_in(full))
        if full_modules := [m for m, n in self.modules.items() if m and self.per_module and n >= self.per_module]:
            where.append(MODULE.not_in(full_modules))
        return where

    def admit(self, user_id: int, module: str) -> bool:
        """True (and counted) when one more running task of this user and module stays within the caps."""
        if self.per_user and self.users[user_id] >= self.per_user:
            return False
        if module and self.per_module and self.modules[module] >= self.per_module:
            return False
        self.users[user_id] += 1
        self.modules[module] += 1
        return True


def claim(worker_id: str, limit: int, lease_seconds: int) -> list[Claim]:
    """Takes up to ``limit`` runnable pending tasks in rank order, within the caps; none while the queue is paused."""
    if limit <= 0:
        return []
    now = utcnow()
    with session_scope() as session:
        if queue_control.is_paused(session):
            return []
        caps = _Caps(session)
        claimed: list[Claim] = []
        while len(claimed) < limit:
            candidates = session.execute(
                _runnable(now).where(*caps.exclusions()).order_by(WorkflowTask.ranked_at, WorkflowTask.id)
                .limit(limit - len(claimed)).with_for_update(skip_locked=True)
            ).all()
            if not candidates:
                break
            for task_id, user_id, module in candidates:
                if caps.admit(user_id, module):
                    claimed.append(_take(session, task_id, worker_id, now, lease_seconds))
        return claimed


def claim_task(task_id: int, worker_id: str, lease_seconds: int) -> Claim | None:
    """Takes this one task if it is pending and runnable, the queue is not paused and the caps allow; else None.

    The executor's message for a task (Celery) names it; a message for a task already
    running, finished, waiting out a retry or held back by the caps does nothing.
    """
    now = utcnow()
    with session_scope() as session:
        if queue_control.is_paused(session):
            return None
        caps = _Caps(session)
        row = session.execute(
            _runnable(now).where(WorkflowTask.id == task_id).with_for_update(skip_locked=True)
        ).first()
        if row is None or not caps.admit(row.user_id, row.module):
            return None
        return _take(session, task_id, worker_id, now, lease_seconds)


def _runnable(now: datetime) -> Select[Any]:
    return select(WorkflowTask.id, WorkflowTask.user_id, MODULE.label("module")).where(
        WorkflowTask.status == PENDING, or_(WorkflowTask.run_after.is_(None), WorkflowTask.run_after <= now))


def _take(session: Session, task_id: int, worker_id: str, now: datetime, lease_seconds: int) -> Claim:
    """Marks a locked pending task processing for ``worker_id``, with its event."""
    task = session.get(WorkflowTask, task_id)
    assert task is not None  # locked by the caller's SELECT ... FOR UPDATE
    telemetry.claimed(now - max(task.updated_at or task.created_at, task.run_after or task.created_at))
    first_run = task.started_at is None
    task.status = PROCESSING
    task.progress = max(task.progress, STARTED_PROGRESS)
    task.lease_owner = worker_id
    task.lease_expires_at = now + timedelta(seconds=lease_seconds)
    task.attempts += 1
    task.claims += 1
    task.run_after = None
    task.started_at = task.started_at or now
    kind = events.WORKFLOW_STARTED if first_run else events.TASK_RESUMED
    message = "工作流已启动，正在执行..." if first_run else f"Resumed by worker {worker_id}"
    events.record(session, task_id, kind, message, data={"status": PROCESSING}, worker=worker_id)
    return Claim(task_id, task.claims)


def transition(
    claim: Claim, worker_id: str, event: str, message: str, *, step: str | None = None,
    duration_ms: int | None = None, data: dict[str, Any] | None = None, at: datetime | None = None, **values: Any,
) -> None:
    """Writes ``values`` to a task this claim still holds and records ``event``, in one transaction.

    Raises LeaseLost when the claim no longer holds the task. The claim's token is part of
    the fence: when the same worker claims the task again (after a review, say), a late
    write of its earlier run is refused too. ``at`` (default: now) is the row's updated_at and the
    event's time, so that a value written with it (review_asked_at) equals the event's.
    """
    now = at or utcnow()
    with session_scope() as session:
        result = session.execute(
            update(WorkflowTask)
            .where(
                WorkflowTask.id == claim.task_id,
                WorkflowTask.lease_owner == worker_id,
                WorkflowTask.claims == claim.token,
                WorkflowTask.status == PROCESSING,
            )
            .values(updated_at=now, **values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise LeaseLost("Worker {worker_id} no longer holds task {claim_task_id}.",
                            worker_id=worker_id, claim_task_id=claim.task_id)
        events.record(session, claim.task_id, event, message, step=step, duration_ms=duration_ms, data=data,
                      worker=worker_id).created_at = now


def step_done(claim: Claim, worker_id: str, node: str, label: str, *, progress: int, duration_ms: int,
              number: int) -> None:
    """A step finished: progress made, so only lost runs from here on count towards MAX_ATTEMPTS."""
    transition(claim, worker_id, events.STEP_COMPLETED, label, step=node, duration_ms=duration_ms,
               data={"step_number": number}, current_step=node, progress=progress, attempts=1)


def review_requested(claim: Claim, worker_id: str, payload: dict[str, Any]) -> None:
    """The task pauses at step 9: no worker holds it until a decision arrives."""
    now = utcnow()
    transition(
        claim, worker_id, events.WORKFLOW_NEED_REVIEW, "AI已生成测试数据，请进行人工审核", step=AWAITING_REVIEW,
        data={"status": TaskStatus.REVIEWING.value, "rows": len(payload.get("generated_body", []))},
        status=TaskStatus.REVIEWING.value, progress=REVIEW_PROGRESS, current_step=AWAITING_REVIEW,
        need_review=True, review_asked_at=now, interrupt_data=payload, at=now, **RELEASED,
    )


def complete(claim: Claim, worker_id: str, new_usercase_id: str, result_data: dict[str, Any]) -> None:
    """The case exists: the row keeps its code, not a copy of its rows (``created_case`` is read from the
    automation case, and so are the review's generated rows when the reviewer kept them; see review_payload)."""
    with session_scope(read_only=True) as session:
        review = review_payload.compacted(session, claim.task_id)
    transition(
        claim, worker_id, events.WORKFLOW_COMPLETED, f"Automation case {new_usercase_id} created",
        step=CASE_CREATED, data={"status": TaskStatus.COMPLETED.value, "new_usercase_id": new_usercase_id},
        status=TaskStatus.COMPLETED.value, progress=100, current_step=CASE_CREATED, need_review=False,
        review_asked_at=None, new_usercase_id=new_usercase_id, created_case=null(), interrupt_data=review,
        result_data=result_data, completed_at=utcnow(), **RELEASED,
    )
    telemetry.finished(TaskStatus.COMPLETED.value)


def retry_later(claim: Claim, worker_id: str, run_after: datetime, message: str, *, step: str | None,
                error: str) -> None:
    """Back to the queue after a transient fault; no worker claims it before ``run_after``.

    A fault that passes is not a lost run: the claim does not count towards MAX_ATTEMPTS.
    """
    transition(claim, worker_id, events.RETRY_SCHEDULED, message, step=step, data={"error": error},
               status=PENDING, run_after=run_after, attempts=WorkflowTask.attempts - 1, **RELEASED)


def retry_streak(task_id: int) -> tuple[int, datetime | None]:
    """(retries scheduled, when the first was) since the task last made progress."""
    with session_scope(read_only=True) as session:
        return events.retry_streak(session, task_id)


def fail(claim: Claim, worker_id: str, error: str, *, step: str | None, **values: Any) -> None:
    transition(
        claim, worker_id, events.WORKFLOW_FAILED, error, step=step,
        data={"status": TaskStatus.FAILED.value, "error": error},
        status=TaskStatus.FAILED.value, progress=0, error_message=error, need_review=False, review_asked_at=None,
        completed_at=utcnow(), **RELEASED, **values,
    )
    telemetry.finished(TaskStatus.FAILED.value)


def release(claim: Claim, worker_id: str) -> None:
    """Hands a claimed task back to the queue because its worker is stopping.

    The claim does not count as an attempt; the next run resumes from the last checkpoint.
    """
    try:
        transition(claim, worker_id, events.TASK_REQUEUED,
                   f"Worker {worker_id} stopped; requeued to resume from its last checkpoint.",
                   status=PENDING, attempts=WorkflowTask.attempts - 1, **RELEASED)
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


def extend_lease(claim: Claim, worker_id: str, lease_seconds: int) -> bool:
    """Extends the lease of one claim while it still holds its task; False once it does not."""
    with session_scope() as session:
        result = session.execute(
            update(WorkflowTask)
            .where(WorkflowTask.id == claim.task_id, WorkflowTask.lease_owner == worker_id,
                   WorkflowTask.claims == claim.token, WorkflowTask.status == PROCESSING)
            .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


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
                telemetry.lease_recovered("failed")
                continue
            task.status = PENDING
            events.record(
                session, task.id, events.TASK_REQUEUED,
                f"Lease of worker {owner} expired at {expired_at}; requeued to resume from its last checkpoint.",
                data=data,
            )
            requeued.append(task.id)
            telemetry.lease_recovered("requeued")
    return requeued


def cancel(session: Session, task_id: int, by: str) -> WorkflowTask:
    """Stops a pending, running or reviewing task; a running worker's next fenced write fails."""
    task = _for_update(session, task_id)
    if task.status in {s.value for s in TaskStatus.terminal()}:
        raise Conflict("Task {task_id} is already {task_status}.", task_id=task_id, task_status=phrase(task.status))
    return _cancelled(session, task, f"Cancelled by {by}", {"by": by})


def expire_review(session: Session, task_id: int, asked_by: datetime, message: str) -> bool:
    """Cancels a task still waiting for the review it asked for at or before ``asked_by``; False if it moved on.

    Checked under the row's lock: a decision or a newer review round since the caller looked wins.
    """
    task = session.get(WorkflowTask, task_id, with_for_update=True)
    if task is None or task.status != TaskStatus.REVIEWING.value:
        return False
    asked = task.review_asked_at
    if asked is None or asked > asked_by:
        return False
    _cancelled(session, task, message, {"reason": "review_expired"})
    return True


def _cancelled(session: Session, task: WorkflowTask, message: str, data: dict[str, Any]) -> WorkflowTask:
    task.status = TaskStatus.CANCELLED.value
    task.need_review = False
    task.review_asked_at = None
    task.lease_owner = None
    task.lease_expires_at = None
    task.completed_at = utcnow()
    events.record(session, task.id, events.TASK_CANCELLED, message, data={"status": task.status, **data})
    telemetry.finished(task.status)
    return task


def retry(session: Session, task_id: int, by: str) -> WorkflowTask:
    """Requeues a failed or cancelled task; it resumes from its last checkpoint, not from scratch."""
    task = _for_update(session, task_id)
    if task.status not in (TaskStatus.FAILED.value, TaskStatus.CANCELLED.value):
        raise Conflict("Only failed or cancelled tasks can be retried; task {task_id} is {task_status}.",
                       task_id=task_id, task_status=phrase(task.status))
    if (task.result_data or {}).get("outcome") == "rejected":
        raise Conflict("Task {task_id} used all its review rounds; start a new task instead.", task_id=task_id)
    task.status = PENDING
    task.error_message = None
    task.completed_at = None
    task.attempts = 0
    task.run_after = None
    events.record(session, task.id, events.TASK_RETRIED, f"Retried by {by}", data={"status": task.status, "by": by})
    return task


def accept_review(session: Session, task_id: int) -> bool:
    """Compare-and-set reviewing → pending, so one decision per round is ever applied; False if it lost.

    A decision starts a new run: lost runs before it no longer count towards MAX_ATTEMPTS.
    """
    moved = session.execute(
        update(WorkflowTask)
        .where(WorkflowTask.id == task_id, WorkflowTask.status == TaskStatus.REVIEWING.value)
        .values(status=PENDING, need_review=False, review_asked_at=None, attempts=0)
        .execution_options(synchronize_session=False)
    )
    return moved.rowcount == 1


def _for_update(session: Session, task_id: int) -> WorkflowTask:
    task = session.get(WorkflowTask, task_id, with_for_update=True)
    if task is None:
        raise NotFound("No task with id {task_id}.", task_id=task_id)
    return task
