"""The product's public surface: the specification's HTTP API as Python functions.

Pages, the command line and any later HTTP API call only these. Each returns the
specification's JSON shape; bad input raises a typed error from core.errors and
writes nothing.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.orm import Session

from core import events, reviews, wakeup
from core.database import session_scope
from core.errors import Conflict, InvalidInput, NotFound
from core.users import actor_of, require_operator
from core.workflow.steps import STEP_BY_NODE
from db.models import Scene, TaskStatus, TestCase, User, WorkflowTask
from db.types import isoformat, utcnow

MAX_LIST_LIMIT = 500
PRIORITIES = range(0, 10)


def start_workflow(
    test_case_id: int, scene_id: str, *, name: str | None = None, module_id: str | None = None,
    priority: int = 5, user: str,
) -> dict[str, Any]:
    """Queues a new task and returns at once: {task_id, thread_id, status, message, test_case_id}."""
    if priority not in PRIORITIES:
        raise InvalidInput(f"Priority must be a whole number from 0 to 9 (9 runs first), not {priority!r}.")
    with session_scope() as session:
        actor = actor_of(session, user)
        require_operator(actor, "launch workflows")
        case = session.get(TestCase, test_case_id)
        if case is None:
            raise NotFound(f"No test case with id {test_case_id}.")
        scene = session.get(Scene, scene_id)
        if scene is None:
            raise NotFound(f"No scene with id {scene_id!r}.")
        task = WorkflowTask(
            thread_id=f"workflow_{actor.id}_{secrets.token_hex(6)}",
            user_id=actor.id,
            test_case_id=case.id,
            priority=priority,
            input_params={
                "test_case_id": case.id,
                "scene_id": scene.id,
                "name": (name or "").strip() or case.title,
                "module_id": module_id if module_id is not None else case.module,
            },
        )
        session.add(task)
        session.flush()
        events.record(session, task.id, events.TASK_CREATED, f"Queued by {actor.username}",
                      data={"status": TaskStatus.PENDING.value, "priority": priority})
        response = {
            "task_id": task.id,
            "thread_id": task.thread_id,
            "status": TaskStatus.PENDING.value,
            "message": "工作流已启动，正在后台执行...",
            "test_case_id": case.id,
        }
    wakeup.notify()
    return response


def get_task(task_id: int) -> dict[str, Any]:
    """One task with every field, as the specification's GET /tasks/{id}."""
    with session_scope() as session:
        task = session.get(WorkflowTask, task_id)
        if task is None:
            raise NotFound(f"No task with id {task_id}.")
        return _task_detail(session, task)


def get_task_by_thread(thread_id: str) -> dict[str, Any]:
    with session_scope() as session:
        task = session.scalar(select(WorkflowTask).where(WorkflowTask.thread_id == thread_id))
        if task is None:
            raise NotFound(f"No task with thread_id {thread_id!r}.")
        return _task_detail(session, task)


def list_tasks(
    *, status: str | list[str] | None = None, user: str | None = None, search: str | None = None,
    limit: int = 10, offset: int = 0,
) -> dict[str, Any]:
    """A page of tasks, newest first: {total, items, limit, offset}."""
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidInput(f"limit must be from 1 to {MAX_LIST_LIMIT}.")
    if offset < 0:
        raise InvalidInput("offset cannot be negative.")
    statuses = [status] if isinstance(status, str) else list(status or [])
    known = {s.value for s in TaskStatus}
    if unknown := [s for s in statuses if s not in known]:
        raise InvalidInput(f"Unknown status {unknown[0]!r}: use one of {', '.join(sorted(known))}.")
    filters = []
    if statuses:
        filters.append(WorkflowTask.status.in_(statuses))
    if user:
        filters.append(User.username == user)
    if search and search.strip():
        term = f"%{search.strip()}%"
        filters.append(or_(WorkflowTask.thread_id.ilike(term), cast(WorkflowTask.input_params, Text).ilike(term)))
    with session_scope() as session:
        base = select(WorkflowTask, User.username).join(User, User.id == WorkflowTask.user_id).where(*filters)
        total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
        rows = session.execute(
            base.order_by(WorkflowTask.created_at.desc(), WorkflowTask.id.desc()).limit(limit).offset(offset)
        ).all()
        items = [_task_summary(task, username) for task, username in rows]
    return {"total": total, "items": items, "limit": limit, "offset": offset}


def submit_review(
    thread_id: str, review_status: str, *, corrected_body: Any = None, feedback: str | None = None,
    reviewer: str, expected_round: int | None = None, wait_seconds: float = 0,
) -> dict[str, Any]:
    """Applies a decision to a task awaiting review.

    Returns {thread_id, status, current_step, new_usercase_id, created_case}. The task
    resumes in the background; with ``wait_seconds`` the call waits that long for it to
    settle (completed, back in review, failed), as the specification's synchronous call did.
    """
    with session_scope() as session:
        actor = actor_of(session, reviewer)
    require_operator(actor, "review tasks")
    task_id = reviews.submit(thread_id, review_status, corrected_body, feedback, actor, expected_round)
    wakeup.notify()
    task = _wait_until_settled(task_id, wait_seconds)
    return {key: task[key] for key in ("thread_id", "status", "current_step", "new_usercase_id", "created_case")}


def cancel_task(task_id: int, *, user: str) -> dict[str, Any]:
    """Stops a pending, running or reviewing task; a running worker stops at its next step."""
    with session_scope() as session:
        actor = actor_of(session, user)
        require_operator(actor, "cancel tasks")
        task = _task_for_update(session, task_id)
        if task.status in {s.value for s in TaskStatus.terminal()}:
            raise Conflict(f"Task {task_id} is already {task.status}.")
        task.status = TaskStatus.CANCELLED.value
        task.need_review = False
        task.lease_owner = None
        task.lease_expires_at = None
        task.completed_at = utcnow()
        events.record(session, task.id, events.TASK_CANCELLED, f"Cancelled by {actor.username}",
                      data={"status": task.status})
        return _task_detail(session, task)


def retry_task(task_id: int, *, user: str) -> dict[str, Any]:
    """Requeues a failed or cancelled task; it resumes from its last checkpoint, not from scratch."""
    with session_scope() as session:
        actor = actor_of(session, user)
        require_operator(actor, "retry tasks")
        task = _task_for_update(session, task_id)
        if task.status not in (TaskStatus.FAILED.value, TaskStatus.CANCELLED.value):
            raise Conflict(f"Only failed or cancelled tasks can be retried; task {task_id} is {task.status}.")
        if (task.result_data or {}).get("outcome") == "rejected":
            raise Conflict(f"Task {task_id} used all its review rounds; start a new task instead.")
        task.status = TaskStatus.PENDING.value
        task.error_message = None
        task.completed_at = None
        task.attempts = 0
        task.run_after = None
        events.record(session, task.id, events.TASK_RETRIED, f"Retried by {actor.username}",
                      data={"status": task.status})
        detail = _task_detail(session, task)
    wakeup.notify()
    return detail


def task_timeline(task_id: int) -> list[dict[str, Any]]:
    """The task's events, oldest first."""
    with session_scope() as session:
        _task_for_update(session, task_id)
        return [
            {
                "id": e.id, "type": e.type, "step": e.step, "message": e.message, "data": e.data,
                "duration_ms": e.duration_ms, "worker": e.worker, "created_at": isoformat(e.created_at),
            }
            for e in events.task_events(session, task_id)
        ]


def _task_for_update(session: Session, task_id: int) -> WorkflowTask:
    task = session.get(WorkflowTask, task_id, with_for_update=True)
    if task is None:
        raise NotFound(f"No task with id {task_id}.")
    return task


def _wait_until_settled(task_id: int, wait_seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + wait_seconds
    while True:
        task = get_task(task_id)
        if task["status"] not in (TaskStatus.PENDING.value, TaskStatus.PROCESSING.value):
            return task
        if time.monotonic() >= deadline:
            return task
        time.sleep(0.05)


def _task_summary(task: WorkflowTask, username: str) -> dict[str, Any]:
    params = task.input_params or {}
    return {
        "id": task.id,
        "thread_id": task.thread_id,
        "status": task.status,
        "current_step": task.current_step,
        "progress": task.progress,
        "test_case_id": task.test_case_id,
        "scene_id": params.get("scene_id"),
        "name": params.get("name"),
        "priority": task.priority,
        "user": username,
        "attempts": task.attempts,
        "need_review": task.need_review,
        "error_message": task.error_message,
        "created_at": isoformat(task.created_at),
        "started_at": isoformat(task.started_at),
        "completed_at": isoformat(task.completed_at),
        "updated_at": isoformat(task.updated_at),
    }


def _task_detail(session: Session, task: WorkflowTask) -> dict[str, Any]:
    username = session.scalar(select(User.username).where(User.id == task.user_id)) or ""
    step = STEP_BY_NODE.get(task.current_step or "")
    return {
        **_task_summary(task, username),
        "task_type": task.task_type,
        "user_id": task.user_id,
        "step_number": step.number if step else None,
        "input_params": task.input_params,
        "result_data": task.result_data,
        "interrupt_data": task.interrupt_data,
        "new_usercase_id": task.new_usercase_id,
        "created_case": task.created_case,
        "lease_owner": task.lease_owner,
        "lease_expires_at": isoformat(task.lease_expires_at),
        "run_after": isoformat(task.run_after),
    }
