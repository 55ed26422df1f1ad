"""Tasks at the door: start, read, list, review, cancel and retry them, and what the dashboard shows of them.

These are the specification's HTTP API as Python functions: each returns the
specification's JSON shape; bad input raises a typed error from core.errors and writes
nothing. Who may act is checked here; the modules below trust the Actor they are given.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, column, func, literal, select, table, union_all
from sqlalchemy.orm import Session, defer

from core import inputs, paging
from core.accounts.users import actor_of, current_actor, require_operator
from core.database import database, session_scope
from core.errors import CaseFlowError, InvalidInput, NotFound
from core.inputs import label, max_length
from core.library import setup_plan, spec_impact
from core.library.automation_cases import case_as_dict
from core.messages import phrase
from core.schema import variables
from core.schema.validation import validate_rows
from core.schema.walk import InvalidSchemaError
from core.tasks import ai_calls, events, lifecycle, metrics, notifications, progress, review_payload, reviews, wakeup
from core.workflow.checkpointer import get_saver, prune_finished
from core.workflow.graph import thread_config
from core.workflow.steps import step_of
from db.models import AutomationCase, Review, Scene, TaskStatus, TestCase, User, WorkflowTask
from db.types import isoformat, utcnow

LIST_DEFERRED = tuple(
    defer(column) for column in (WorkflowTask.interrupt_data, WorkflowTask.created_case, WorkflowTask.result_data)
)
"""Large JSON columns a task listing never shows (tens of KB per task)."""
TASK_PRIORITIES = range(0, 10)
"""A task's priority: 9 runs first."""
NAME_LIMIT = max_length(AutomationCase.name)
MODULE_LIMIT = max_length(AutomationCase.module_id)
SCENE_ID_LIMIT = max_length(Scene.id)
"""A task's name, module and scene end up in its automation case: no longer than those columns."""
MAX_WAIT_SECONDS = 600
MAX_REVIEW_BODY_BYTES = reviews.MAX_BODY_BYTES
"""The most a review's corrected body may be, as JSON."""


def start_workflow(
    test_case_id: int, scene_id: str, *, name: str | None = None, module_id: str | None = None,
    priority: int = 5, user: str,
) -> dict[str, Any]:
    """Queues a new task and returns at once: {task_id, thread_id, status, message, test_case_id}.

    The name (default: the test case's title) and the module (default: the test case's) are
    trimmed; they are checked here against the automation case's columns, so that a task
    cannot run nine steps and then fail to store its case.
    """
    if priority not in TASK_PRIORITIES:
        raise InvalidInput("Priority must be a whole number from 0 to 9 (9 runs first), not {priority!r}.",
                           priority=priority)
    test_case_id = inputs.record_id(test_case_id, "test case")
    scene_id = label(scene_id, "The scene id", SCENE_ID_LIMIT)
    name = "" if name is None else label(name, "The task name", NAME_LIMIT)
    module_id = None if module_id is None else label(module_id, "The module", MODULE_LIMIT)
    with session_scope() as session:  # one transaction: the user, the case and the scene read, the task written
        actor = require_operator(actor_of(session, user), "launch workflows")
        case = session.get(TestCase, test_case_id)
        if case is None:
            raise NotFound("No test case with id {test_case_id}.", test_case_id=test_case_id)
        scene = session.get(Scene, scene_id)
        if scene is None:
            raise NotFound("No scene with id {scene_id!r}.", scene_id=scene_id)
        now = utcnow()
        task = WorkflowTask(
            thread_id=f"workflow_{actor.id}_{secrets.token_hex(6)}",
            created_at=now,
            ranked_at=lifecycle.queue_rank(priority, now),
            user_id=actor.id,
            test_case_id=case.id,
            priority=priority,
            input_params={
                "test_case_id": case.id,
                "scene_id": scene.id,
                "name": name or case.title,
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
        published = wakeup.publish_in(session, task.id)  # the row, its event and the NOTIFY: one commit
    wakeup.notify(response["task_id"], published=published)
    return response


def get_task(task_id: int) -> dict[str, Any]:
    """One task with every field, as the specification's GET /tasks/{id}."""
    task_id = inputs.record_id(task_id, "task")
    with session_scope(read_only=True) as session:
        task = session.get(WorkflowTask, task_id)
        if task is None:
            raise NotFound("No task with id {task_id}.", task_id=task_id)
        return _task_detail(session, task)


def get_task_by_thread(thread_id: str) -> dict[str, Any]:
    """The task of a workflow thread, as :func:`get_task`."""
    with session_scope(read_only=True) as session:
        task = session.scalar(select(WorkflowTask).where(WorkflowTask.thread_id == thread_id))
        if task is None:
            raise NotFound("No task with thread_id {thread_id!r}.", thread_id=thread_id)
        return _task_detail(session, task)


COUNT_CAP = 10_000
"""list_tasks and task_counts count this many matches at most."""
SEARCH_COUNT_CAP = 1_000
"""list_tasks counts this many matches of a free-text search at most: each is a row read, not an index entry."""


def list_tasks(
    *, status: str | list[str] | None = None, user: str | None = None, search: str | None = None,
    limit: int = 10, offset: int = 0, created_from: datetime | None = None, created_to: datetime | None = None,
) -> dict[str, Any]:
    """A page of tasks, newest first: {total, total_capped, items, limit, offset}.

    ``total`` counts at most COUNT_CAP matches, SEARCH_COUNT_CAP with a ``search`` (``total_capped``
    then says there are more): a page refreshing every two seconds must not count a million rows each time.

    ``created_from`` (inclusive) and ``created_to`` (exclusive) bound the creation time;
    they must be timezone-aware.
    """
    paging.check(limit, offset)
    statuses = _statuses(status)
    filters = []
    if statuses:
        filters.append(WorkflowTask.status.in_(statuses))
    if user := inputs.optional_text(user, "The owner filter"):
        filters.append(WorkflowTask.user_id == select(User.id).where(User.username == user).scalar_subquery())
    candidates, cap = None, COUNT_CAP
    if term := paging.search_term(search):
        filters.append(paging.containing(term, WorkflowTask.thread_id, cast(WorkflowTask.input_params, Text)))
        candidates, cap = _indexed(term), SEARCH_COUNT_CAP
    for bound, name in ((created_from, "created_from"), (created_to, "created_to")):
        if bound is not None and (not isinstance(bound, datetime) or bound.tzinfo is None):
            raise InvalidInput("{name} must be a timezone-aware datetime.", name=name)
    if created_from is not None:
        filters.append(WorkflowTask.created_at >= created_from)
    if created_to is not None:
        filters.append(WorkflowTask.created_at < created_to)
    with session_scope(read_only=True) as session:
        total, narrowed = _counted(session, filters, candidates, cap)
        rows = session.execute(
            select(WorkflowTask, User.username)
            .join(User, User.id == WorkflowTask.user_id)
            .where(*filters, *narrowed)
            .options(*LIST_DEFERRED)
            .order_by(WorkflowTask.created_at.desc(), WorkflowTask.id.desc()).limit(limit).offset(offset)
        ).all()
        items = [task_summary(task, username) for task, username in rows]
    return {"total": min(total, cap), "total_capped": total > cap, "items": items, "limit": limit,
            "offset": offset}


TASK_SEARCH = table("task_search", column("rowid"), column("task_search"))
"""SQLite's FTS5 trigram index of the tasks' thread ids and input parameters (migration 0016)."""
TRIGRAM = 3
"""The shortest text a trigram index serves."""


def _indexed(term: str) -> ColumnElement[bool] | None:
    """On SQLite, an FTS5 query for the tasks that may contain ``term``; None where none serves.

    The query asks for the term as a phrase in any column: it finds every task the ILIKE matches and
    maybe more (FTS5 folds the case of every letter, LIKE only ASCII's), so the ILIKE still decides.
    PostgreSQL's planner takes its trigram indexes for the ILIKE by itself.
    """
    if len(term) < TRIGRAM or not database().is_sqlite:
        return None
    return TASK_SEARCH.c.task_search.op("MATCH")('"' + term.replace('"', '""') + '"')


def _counted(session: Session, filters: list[ColumnElement[bool]], candidates: ColumnElement[bool] | None,
             cap: int) -> tuple[int, list[ColumnElement[bool]]]:
    """The tasks matching ``filters`` counted up to ``cap`` + 1, and the filters that narrow their page.

    The count reads only the tasks' indexes where the filters allow (no join to the owners). With
    FTS5 ``candidates``, it walks the index's matches and stops at the cap. A page of a search under
    the cap reads only those; a search matching more than that finds its newest page soonest by
    reading the newest tasks, so it does without the index.
    """
    counted = select(WorkflowTask.id).where(*filters)
    if candidates is not None:
        counted = counted.join(TASK_SEARCH, TASK_SEARCH.c.rowid == WorkflowTask.id).where(candidates)
    total = session.scalar(select(func.count()).select_from(counted.limit(cap + 1).subquery())) or 0
    if candidates is not None and total <= cap:
        return total, [WorkflowTask.id.in_(select(TASK_SEARCH.c.rowid).where(candidates))]
    return total, []


def _statuses(status: Any) -> list[str]:
    """The status filter as a list of known statuses: one status, or a list of them."""
    statuses = [status] if isinstance(status, str) else status or []
    known = {s.value for s in TaskStatus}
    if not isinstance(statuses, (list, tuple)) or not all(isinstance(s, str) for s in statuses):
        raise InvalidInput("The status filter is a status or a list of statuses: {value}.",
                           value=', '.join(sorted(known)))
    if unknown := [s for s in statuses if s not in known]:
        raise InvalidInput("Unknown status {value!r}: use one of {value2}.",
                           value=unknown[0][:50], value2=', '.join(sorted(known)))
    return list(statuses)


def submit_review(
    thread_id: str, review_status: str, *, corrected_body: Any = None, feedback: str | None = None,
    reviewer: str, expected_round: int | None = None, wait_seconds: float = 0, corrected_setup: Any = None,
) -> dict[str, Any]:
    """Applies a decision to a task awaiting review.

    Returns {thread_id, status, current_step, new_usercase_id, created_case}. The task
    resumes in the background; with ``wait_seconds`` the call waits that long for it to
    settle (completed, back in review, failed), as the specification's synchronous call did:
    at most MAX_WAIT_SECONDS, checked before the decision is recorded. ``corrected_setup`` replaces the
    requests sent before each row (interrupt_data.setup).
    """
    if not _is_wait(wait_seconds):
        raise InvalidInput("The wait must be a number of seconds from 0 to {max_wait_seconds}, not "
                           "{wait_seconds!r}.",
                           max_wait_seconds=MAX_WAIT_SECONDS, wait_seconds=wait_seconds)
    thread_id, feedback = inputs.text(thread_id, "The thread id"), inputs.optional_text(feedback, "The feedback")
    actor = require_operator(current_actor(reviewer), "review tasks")
    task_id = reviews.submit(thread_id, review_status, corrected_body, feedback, actor, expected_round,
                             corrected_setup)
    wakeup.notify(task_id)
    task = _wait_until_settled(task_id, wait_seconds)
    return {key: task[key] for key in ("thread_id", "status", "current_step", "new_usercase_id", "created_case")}


def cancel_task(task_id: int, *, user: str) -> dict[str, Any]:
    """Stops a pending, running or reviewing task; a running worker stops at its next step."""
    task_id = inputs.record_id(task_id, "task")
    actor = require_operator(current_actor(user), "cancel tasks")
    with session_scope() as session:
        detail = _task_detail(session, lifecycle.cancel(session, task_id, actor.username))
    prune_finished(get_saver(database()), thread_config(detail["thread_id"]))
    return detail


def retry_task(task_id: int, *, user: str) -> dict[str, Any]:
    """Requeues a failed or cancelled task; it resumes from its last checkpoint, not from scratch."""
    task_id = inputs.record_id(task_id, "task")
    actor = require_operator(current_actor(user), "retry tasks")
    with session_scope() as session:
        detail = _task_detail(session, lifecycle.retry(session, task_id, actor.username))
    wakeup.notify(task_id)
    return detail


def task_timeline(task_id: int) -> list[dict[str, Any]]:
    """The task's events, oldest first."""
    task_id = inputs.record_id(task_id, "task")
    with session_scope(read_only=True) as session:
        if session.get(WorkflowTask, task_id) is None:
            raise NotFound("No task with id {task_id}.", task_id=task_id)
        return [
            {
                "id": e.id, "type": e.type, "step": e.step, "message": e.message, "data": e.data,
                "duration_ms": e.duration_ms, "worker": e.worker, "created_at": isoformat(e.created_at),
            }
            for e in events.task_events(session, task_id)
        ]


def _is_wait(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and 0 <= value <= MAX_WAIT_SECONDS)


def _wait_until_settled(task_id: int, wait_seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + wait_seconds
    while True:
        task = get_task(task_id)
        if task["status"] not in (TaskStatus.PENDING.value, TaskStatus.PROCESSING.value):
            return task
        if time.monotonic() >= deadline:
            return task
        time.sleep(0.05)


def task_summary(task: WorkflowTask, username: str) -> dict[str, Any]:
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
    step = step_of(task.current_step)
    return {
        **task_summary(task, username),
        "task_type": task.task_type,
        "user_id": task.user_id,
        "step_number": step.number if step else None,
        "input_params": task.input_params,
        "result_data": task.result_data,
        "interrupt_data": review_payload.expanded(session, task.id, task.interrupt_data),
        "new_usercase_id": task.new_usercase_id,
        "created_case": task.created_case or _created_case(session, task),
        "lease_owner": task.lease_owner,
        "lease_expires_at": isoformat(task.lease_expires_at),
        "run_after": isoformat(task.run_after),
    }


def _created_case(session: Session, task: WorkflowTask) -> dict[str, Any] | None:
    """The specification's ``created_case``, read from the automation case: the task row keeps no copy of it."""
    if task.new_usercase_id is None:
        return None
    case = session.scalar(select(AutomationCase).where(AutomationCase.task_id == task.id))
    return case_as_dict(case) if case is not None else None


# What the dashboard shows of tasks besides the specification's calls: bulk actions, the
# queue, notifications, reviews, steps and AI calls.


def cancel_tasks(task_ids: Sequence[int], *, user: str) -> list[dict[str, Any]]:
    """Cancels each task in its own transaction: [{task_id, ok, status, message}], in the order given."""
    return _bulk(task_ids, user, "cancel tasks", lambda task_id: cancel_task(task_id, user=user), "Cancelled")


def retry_tasks(task_ids: Sequence[int], *, user: str) -> list[dict[str, Any]]:
    """Requeues each failed or cancelled task: [{task_id, ok, status, message}], in the order given."""
    return _bulk(task_ids, user, "retry tasks", lambda task_id: retry_task(task_id, user=user), "Requeued")


def regenerate_cases(case_ids: Sequence[int], *, user: str) -> list[dict[str, Any]]:
    """Starts a task per automation case from its test case and (current) scene, named and filed as the case:
    [{case_id, ok, task_id, message}], in the order given. The cases stay until someone retires them."""
    ids = _selected(case_ids, phrase("automation case"), phrase("automation cases"))
    require_operator(current_actor(user), "regenerate automation cases")
    outcomes = []
    for case_id in ids:
        try:
            with session_scope(read_only=True) as session:
                target = spec_impact.regeneration_target(session, case_id)
            started = start_workflow(**target, user=user)
        except CaseFlowError as error:
            outcomes.append({"case_id": case_id, "ok": False, "task_id": None, "message": error.message})
        else:
            outcomes.append({"case_id": case_id, "ok": True, "task_id": started["task_id"], "message": "Queued"})
    return outcomes


def _selected(ids: Sequence[int], kind: str, kinds: str) -> list[int]:
    """The ids of a bulk action, each once, checked: at least one, at most a page."""
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Sequence):
        raise InvalidInput("Give the {kinds} as a list of ids.", kinds=kinds)
    unique = list(dict.fromkeys(inputs.record_id(item, kind) for item in ids))
    if not unique:
        raise InvalidInput("Select at least one {kind}.", kind=kind)
    if len(unique) > paging.MAX_PAGE:
        raise InvalidInput("Select at most {count} {kinds} at a time.", count=paging.MAX_PAGE, kinds=kinds)
    return unique


def _bulk(task_ids: Sequence[int], user: str, action: str, apply: Any, done: str) -> list[dict[str, Any]]:
    ids = _selected(task_ids, phrase("task"), phrase("tasks"))
    require_operator(current_actor(user), action)
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
    return progress.queue_position(inputs.record_id(task_id, "task"))


def explain_task(task_id: int, *, zone: str | None = None) -> dict[str, Any]:
    """Why the task is where it is: {status, tone, headline, details}, times in ``zone`` (default UTC)."""
    zone = inputs.optional_text(zone, "The time zone", limit=100, single_line=True)
    return progress.explain(inputs.record_id(task_id, "task"), zone=zone)


def task_counts(*, exact: bool = False) -> dict[str, int]:
    """Tasks per status, every status present (0 when none); a count stops at COUNT_CAP + 1 ("10,000+").

    Pages refresh these every two seconds: each status counts at most COUNT_CAP + 1 entries of the
    status index, never every task of a large table. ``exact`` sums the metric rollups instead (kept
    by triggers, see db.models.MetricRollup): exact at any size, for the monitoring scrape.
    """
    with session_scope(read_only=True) as session:
        if exact:
            return metrics.status_totals(session)
        rows = session.execute(union_all(*(
            select(literal(status.value), func.count()).select_from(
                select(WorkflowTask.status).where(WorkflowTask.status == status.value)
                .limit(COUNT_CAP + 1).subquery())
            for status in TaskStatus)))
        counts = {status: int(count or 0) for status, count in rows}
    return {status.value: counts.get(status.value, 0) for status in TaskStatus}


def latest_event_id() -> int:
    """The newest event id: where a freshly signed-in user starts listening."""
    return notifications.latest_event_id()


def events_since(user: str, after_event_id: int, *, limit: int = 20) -> list[dict[str, Any]]:
    """Notifications for ``user``: started, need review, failed and completed events on their own tasks."""
    after_event_id = inputs.whole_number(after_event_id, "The last event id seen")
    paging.check(limit)
    return notifications.events_since(current_actor(user), after_event_id, limit=limit)


def reviews_of_task(task_id: int) -> list[dict[str, Any]]:
    """Every decision on the task, oldest first.

    Each: {round, reviewer, review_status, feedback, corrected, rows, created_at}.
    """
    task_id = inputs.record_id(task_id, "task")
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


def corrected_rows(generated: list[dict[str, Any]], corrected_body: Any) -> list[dict[str, Any]]:
    """The rows a reviewer's corrected body stands for, completed from the generated rows (no writes).

    The same rule :func:`submit_review` applies: bodies one per generated row, or row objects
    with a name and a body to add, remove or reorder rows; bad shapes raise InvalidInput.
    """
    return reviews.corrected_rows(corrected_body, generated)


def variable_example(value: Any, setup: list[dict[str, Any]] | None = None) -> Any:
    """A row's body with its run-time variables as one run would send them (what the reviewer is shown); what
    the case's ``setup`` captures as its steps' examples."""
    return variables.example(value, variables.setup_examples(setup))


def check_setup(steps: Any) -> list[dict[str, Any]]:
    """A reviewer's setup steps as they would be kept, or InvalidInput saying what is wrong (no writes)."""
    return [dict(step) for step in setup_plan.checked(steps)]


def check_review_rows(scene_id: str, rows: list[dict[str, Any]],
                      setup: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Validates a reviewer's rows against the scene's request schema, as step 5 does (no writes); ``setup``: the
    task's setup steps, whose captures the rows may use."""
    scene_id = inputs.text(scene_id, "The scene id")
    with session_scope(read_only=True) as session:
        schema = session.scalar(select(Scene.request_schema).where(Scene.id == scene_id))
    if schema is None:
        raise NotFound("No scene with id {scene_id!r}.", scene_id=scene_id)
    try:
        return dict(validate_rows(schema, rows, variables.setup_examples(setup)))
    except InvalidSchemaError as error:
        raise InvalidInput(str(error)) from None


def task_steps(task_id: int) -> list[dict[str, Any]]:
    """The ten steps of a task with their state, runs and durations (see core.task_status.step_timeline)."""
    return progress.step_timeline(inputs.record_id(task_id, "task"))


def ai_calls_of_task(task_id: int) -> list[dict[str, Any]]:
    """Every request the task made to the AI provider, oldest first, with tokens and estimated cost."""
    return ai_calls.calls_for_task(inputs.record_id(task_id, "task"))
