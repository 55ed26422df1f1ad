"""The product's public surface: the specification's HTTP API as Python functions.

Pages, the command line and any later HTTP API call only these. Each returns the
specification's JSON shape; bad input raises a typed error from core.errors and
writes nothing.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.orm import Session, defer

from core import (
    ai_calls, cleanup, events, library, metrics, notifications, reviews, task_status, user_admin, wakeup, workers,
)
from core.config import Settings, get_settings
from core.database import database, session_scope
from core.errors import CaseFlowError, Conflict, InvalidInput, NotFound
from core.generation.schema_walk import InvalidSchemaError
from core.generation.validation import validate_rows
from core.users import Actor, actor_of, require_admin, require_operator
from core.workflow.steps import STEP_BY_NODE
from db.models import Review, Scene, TaskStatus, TestCase, User, WorkflowTask
from db.types import isoformat, utcnow

MAX_LIST_LIMIT = 500
LIST_DEFERRED = tuple(
    defer(column) for column in (WorkflowTask.interrupt_data, WorkflowTask.created_case, WorkflowTask.result_data)
)
"""Large JSON columns a task listing never shows (tens of KB per task)."""
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
    with session_scope(read_only=True) as session:
        task = session.get(WorkflowTask, task_id)
        if task is None:
            raise NotFound(f"No task with id {task_id}.")
        return _task_detail(session, task)


def get_task_by_thread(thread_id: str) -> dict[str, Any]:
    with session_scope(read_only=True) as session:
        task = session.scalar(select(WorkflowTask).where(WorkflowTask.thread_id == thread_id))
        if task is None:
            raise NotFound(f"No task with thread_id {thread_id!r}.")
        return _task_detail(session, task)


def list_tasks(
    *, status: str | list[str] | None = None, user: str | None = None, search: str | None = None,
    limit: int = 10, offset: int = 0, created_from: datetime | None = None, created_to: datetime | None = None,
) -> dict[str, Any]:
    """A page of tasks, newest first: {total, items, limit, offset}.

    ``created_from`` (inclusive) and ``created_to`` (exclusive) bound the creation time;
    they must be timezone-aware.
    """
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
    for bound, name in ((created_from, "created_from"), (created_to, "created_to")):
        if bound is not None and bound.tzinfo is None:
            raise InvalidInput(f"{name} must be timezone-aware.")
    if created_from is not None:
        filters.append(WorkflowTask.created_at >= created_from)
    if created_to is not None:
        filters.append(WorkflowTask.created_at < created_to)
    with session_scope(read_only=True) as session:
        base = (
            select(WorkflowTask, User.username)
            .join(User, User.id == WorkflowTask.user_id)
            .where(*filters)
            .options(*LIST_DEFERRED)
        )
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
    with session_scope(read_only=True) as session:
        if session.get(WorkflowTask, task_id) is None:
            raise NotFound(f"No task with id {task_id}.")
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


# The dashboard's surface: bulk actions, queue position, notifications, users, scenes and
# test cases, the review queue, settings. Permission checks live here, as above.


def current_actor(username: str) -> Actor:
    """The signed-in user as they are now (role changes and deactivation apply at once)."""
    with session_scope() as session:
        return actor_of(session, username)


def cancel_tasks(task_ids: Sequence[int], *, user: str) -> list[dict[str, Any]]:
    """Cancels each task in its own transaction: [{task_id, ok, status, message}], in the order given."""
    return _bulk(task_ids, user, "cancel tasks", lambda task_id: cancel_task(task_id, user=user), "Cancelled")


def retry_tasks(task_ids: Sequence[int], *, user: str) -> list[dict[str, Any]]:
    """Requeues each failed or cancelled task: [{task_id, ok, status, message}], in the order given."""
    return _bulk(task_ids, user, "retry tasks", lambda task_id: retry_task(task_id, user=user), "Requeued")


def _bulk(task_ids: Sequence[int], user: str, action: str, apply: Any, done: str) -> list[dict[str, Any]]:
    ids = list(dict.fromkeys(int(task_id) for task_id in task_ids))
    if not ids:
        raise InvalidInput("Select at least one task.")
    if len(ids) > MAX_LIST_LIMIT:
        raise InvalidInput(f"Select at most {MAX_LIST_LIMIT} tasks at a time.")
    with session_scope() as session:
        require_operator(actor_of(session, user), action)
    outcomes = []
    for task_id in ids:
        try:
            task = apply(task_id)
        except CaseFlowError as error:
            outcomes.append({"task_id": task_id, "ok": False, "status": None, "message": error.message})
        else:
            outcomes.append({"task_id": task_id, "ok": True, "status": task["status"], "message": done})
    return outcomes


def queue_position(task_id: int) -> dict[str, Any]:
    """{task_id, status, ahead, runnable}: how many pending tasks a worker takes before this one."""
    return task_status.queue_position(task_id)


def explain_task(task_id: int, *, zone: str | None = None) -> dict[str, Any]:
    """Why the task is where it is: {status, tone, headline, details}, times in ``zone`` (default UTC)."""
    return task_status.explain(task_id, zone=zone)


def task_counts() -> dict[str, int]:
    """Tasks per status, every status present (0 when none)."""
    with session_scope() as session:
        rows = dict(session.execute(select(WorkflowTask.status, func.count()).group_by(WorkflowTask.status)).all())
    return {status.value: int(rows.get(status.value, 0)) for status in TaskStatus}


def latest_event_id() -> int:
    return notifications.latest_event_id()


def events_since(user: str, after_event_id: int, *, limit: int = 20) -> list[dict[str, Any]]:
    """Notifications for ``user``: started, need review, failed and completed events on their own tasks."""
    return notifications.events_since(user, after_event_id, limit=limit)


def list_users(*, user: str) -> list[dict[str, Any]]:
    return user_admin.list_users(user)


def usernames() -> list[str]:
    return user_admin.usernames()


def add_user(username: str, role: str, password: str, *, user: str) -> dict[str, Any]:
    return user_admin.add_user(user, username, role, password)


def update_user(
    username: str, *, role: str | None = None, active: bool | None = None, password: str | None = None, user: str
) -> dict[str, Any]:
    return user_admin.update_user(user, username, role=role, active=active, password=password)


def change_password(username: str, current: str, new: str) -> None:
    user_admin.change_password(username, current, new)


def reviews_of_task(task_id: int) -> list[dict[str, Any]]:
    """Every decision on the task, oldest first: {round, reviewer, review_status, feedback, corrected, rows, created_at}."""
    with session_scope(read_only=True) as session:
        rows = session.execute(
            select(Review, User.username).join(User, User.id == Review.reviewer_id)
            .where(Review.task_id == task_id).order_by(Review.round, Review.id)
        ).all()
        return [
            {
                "round": review.round, "reviewer": username, "review_status": review.review_status,
                "feedback": review.feedback, "corrected": review.corrected_body is not None,
                "rows": len(review.corrected_body) if review.corrected_body is not None else None,
                "created_at": isoformat(review.created_at),
            }
            for review, username in rows
        ]


def list_modules() -> list[str]:
    """The modules that have scenes, sorted."""
    with session_scope(read_only=True) as session:
        return [m for m in session.scalars(select(Scene.module).distinct().order_by(Scene.module)) if m]


def list_scenes(module: str | None = None) -> list[dict[str, Any]]:
    """Scenes, by id, optionally of one module: {id, name, module, method, path, summary, fields}."""
    with session_scope(read_only=True) as session:
        query = select(Scene).order_by(Scene.id)
        if module:
            query = query.where(Scene.module == module)
        return [
            {"id": s.id, "name": s.name, "module": s.module, "method": s.method, "path": s.path, "summary": s.summary,
             "fields": len((s.request_schema or {}).get("properties", {}))}
            for s in session.scalars(query)
        ]


def get_scene(scene_id: str) -> dict[str, Any]:
    """One scene with its request schema and documented responses."""
    with session_scope(read_only=True) as session:
        scene = session.get(Scene, scene_id)
        if scene is None:
            raise NotFound(f"No scene with id {scene_id!r}.")
        return {
            "id": scene.id, "name": scene.name, "module": scene.module, "method": scene.method, "path": scene.path,
            "summary": scene.summary, "request_schema": scene.request_schema, "responses": scene.responses,
        }


def list_test_cases(
    *, search: str | None = None, module: str | None = None, scene_id: str | None = None, limit: int = 200,
) -> list[dict[str, Any]]:
    """Manual test cases by id, matching ``search`` in the title, steps or expected result."""
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidInput(f"limit must be from 1 to {MAX_LIST_LIMIT}.")
    query = select(TestCase).order_by(TestCase.id).limit(limit)
    if module:
        query = query.where(TestCase.module == module)
    if scene_id:
        query = query.where(TestCase.scene_id == scene_id)
    if search and search.strip():
        term = f"%{search.strip()}%"
        query = query.where(or_(TestCase.title.ilike(term), TestCase.steps.ilike(term),
                                TestCase.expected_result.ilike(term)))
    with session_scope(read_only=True) as session:
        return [
            {"id": c.id, "title": c.title, "module": c.module, "priority": c.priority, "scene_id": c.scene_id,
             "preconditions": c.preconditions, "steps": c.steps, "expected_result": c.expected_result}
            for c in session.scalars(query)
        ]


def review_queue(*, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """Tasks awaiting review, the longest-waiting first: {total, items, limit, offset}.

    Each item is a task summary with ``waiting_since`` (when it last asked for a review),
    ``round`` and ``rows`` (how many generated rows wait).
    """
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidInput(f"limit must be from 1 to {MAX_LIST_LIMIT}.")
    reviewing = WorkflowTask.status == TaskStatus.REVIEWING.value
    asked = metrics.review_requested()
    waiting = (
        select(WorkflowTask.id, asked.c.asked)
        .outerjoin(asked, asked.c.task_id == WorkflowTask.id)
        .where(reviewing)
        .order_by(asked.c.asked.is_(None), asked.c.asked, WorkflowTask.id)
        .limit(limit).offset(offset)
    )
    with session_scope(read_only=True) as session:
        total = session.scalar(select(func.count()).select_from(WorkflowTask).where(reviewing)) or 0
        page = session.execute(waiting).all()
        found = {
            task.id: (task, username)
            for task, username in session.execute(
                select(WorkflowTask, User.username).join(User, User.id == WorkflowTask.user_id)
                .where(WorkflowTask.id.in_([task_id for task_id, _ in page]))
            )
        }
        items = []
        for task_id, asked_at in page:
            task, username = found[task_id]
            data = task.interrupt_data or {}
            items.append({
                **_task_summary(task, username),
                "waiting_since": isoformat(asked_at or task.updated_at or task.created_at),
                "round": data.get("round"),
                "rows": len(data.get("generated_body", [])),
            })
    return {"total": total, "items": items, "limit": limit, "offset": offset}


def check_review_rows(task_id: int, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Validates a reviewer's rows against the task's scene schema, as step 5 does (no writes)."""
    task = get_task(task_id)
    scene = get_scene((task["input_params"] or {}).get("scene_id", ""))
    try:
        return dict(validate_rows(scene["request_schema"], rows))
    except InvalidSchemaError as error:
        raise InvalidInput(str(error)) from None


def system_overview(*, user: str) -> dict[str, Any]:
    """What the settings page shows admins: AI provider (key masked), workers, retention, database."""
    with session_scope() as session:
        require_admin(actor_of(session, user), "see the settings")
    settings = get_settings()
    return {
        "ai": ai_provider_info(settings),
        "workers": {
            **workers.health(),
            "run_scheduler": settings.run_scheduler, "concurrency": settings.worker_concurrency,
            "lease_seconds": settings.lease_seconds, "poll_seconds": settings.poll_seconds,
            "max_attempts": settings.max_attempts,
        },
        "retention": {"days": settings.retention_days, "batch_size": settings.cleanup_batch_size,
                      "schedule": "daily at 03:17 UTC"},
        "database": {"backend": database().url.get_backend_name(),
                     "url": database().url.render_as_string(hide_password=True)},
        "review": {"max_review_rounds": settings.max_review_rounds, "max_repair_rounds": settings.max_repair_rounds},
    }


def run_cleanup(*, user: str, dry_run: bool, days: int | None = None) -> dict[str, Any]:
    """Applies the retention now (or, dry, counts what it would remove); admins only."""
    with session_scope() as session:
        require_admin(actor_of(session, user), "run the cleanup")
    settings = get_settings()
    days = settings.retention_days if days is None else days
    if days < 1:
        raise InvalidInput("The retention must be at least 1 day.")
    return dict(cleanup.cleanup(days, dry_run=dry_run, batch_size=settings.cleanup_batch_size))


def ai_provider_info(settings: Settings) -> dict[str, Any]:
    """Which AI provider runs the steps, and how it is configured; the key is masked."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key is not None else None
    choice = getattr(settings, "ai_provider", "auto")
    provider = "offline" if choice == "offline" or (choice == "auto" and not key) else "openai"
    return {
        "provider": provider,
        "setting": choice,
        "model": settings.openai_model if provider == "openai" else "offline (derived from the schema)",
        "base_url": settings.openai_base_url or ("https://api.openai.com/v1" if provider == "openai" else None),
        "api_key": mask_secret(key),
        "timeout_seconds": settings.ai_timeout_seconds,
        "latency_seconds": settings.ai_latency_seconds,
    }


def mask_secret(secret: str | None) -> str | None:
    """sk-proj-abcdef1234 -> sk-…1234: enough to tell keys apart, never enough to use one."""
    if not secret:
        return None
    if len(secret) <= 8:
        return "•" * len(secret)
    return f"{secret[:3]}…{secret[-4:]}"


def get_test_case(test_case_id: int) -> dict[str, Any]:
    """One manual test case, with its linked scene (see core.library.get_test_case)."""
    return library.get_test_case(test_case_id)


def task_steps(task_id: int) -> list[dict[str, Any]]:
    """The ten steps of a task with their state, runs and durations (see core.task_status.step_timeline)."""
    return task_status.step_timeline(task_id)


def ai_calls_of_task(task_id: int) -> list[dict[str, Any]]:
    """Every request the task made to the AI provider, oldest first, with tokens and estimated cost."""
    return ai_calls.calls_for_task(task_id)


def ai_usage(since: datetime | None = None) -> dict[str, Any]:
    """AI calls, tokens and estimated cost since ``since``, in all and per completed case."""
    return ai_calls.usage_summary(since)
