"""Why a task is where it is: its place in the queue, the worker running it, what last moved it."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.database import session_scope
from core.errors import NotFound
from core.messages import Text, phrase
from core.tasks import events, review_deadlines
from core.tasks import health as workers
from core.workflow.steps import STEP_BY_NODE
from db.models import TaskEvent, TaskStatus, WorkflowTask
from db.models import Worker as WorkerRow
from db.types import isoformat, utcnow

PENDING = TaskStatus.PENDING.value


def queue_position(task_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """{task_id, status, ahead, runnable}: pending tasks a worker would claim before this one.

    ``ahead`` is None unless the task is pending. Workers claim by rank (priority with aging,
    see lifecycle.queue_rank), then id; tasks waiting out a retry backoff are not claimable
    yet and do not count. The per-user and per-module caps are not counted in.
    """
    now = now or utcnow()
    with session_scope() as session:
        task = session.get(WorkflowTask, task_id)
        if task is None:
            raise NotFound("No task with id {task_id}.", task_id=task_id)
        return {"task_id": task_id, "status": task.status, **_queue(session, task, now)}


def _queue(session: Session, task: WorkflowTask, now: datetime) -> dict[str, Any]:
    t = WorkflowTask
    runnable = (t.status == PENDING, or_(t.run_after.is_(None), t.run_after <= now))
    total = session.scalar(select(func.count()).select_from(t).where(*runnable)) or 0
    if task.status != PENDING:
        return {"ahead": None, "runnable": total}
    earlier = or_(t.ranked_at < task.ranked_at, and_(t.ranked_at == task.ranked_at, t.id < task.id))
    ahead = session.scalar(select(func.count()).select_from(t).where(*runnable, earlier)) or 0
    return {"ahead": ahead, "runnable": total}


def explain(task_id: int, *, now: datetime | None = None, zone: str | None = None) -> dict[str, Any]:
    """{status, tone, headline, details}: a sentence a QA engineer can act on, and the facts behind it.

    tone is one of info, progress, warning, error, success (how the dashboard colours it).
    The headline and details are core.messages.Text (English; the dashboard translates them).
    Times are written in ``zone`` (an IANA name such as "Asia/Shanghai"), else in UTC.
    """
    now = now or utcnow()
    token = _zone.set(_zone_info(zone))
    with session_scope() as session:
        task = session.get(WorkflowTask, task_id)
        if task is None:
            raise NotFound("No task with id {task_id}.", task_id=task_id)
        last = _last_events(session, task_id)
        queue = _queue(session, task, now)
        alive = _alive_workers(session, now)
        try:
            explanation = _EXPLAINERS[task.status](task, last, queue, alive, now)
        finally:
            _zone.reset(token)
    return {"status": task.status, **explanation}


Facts = dict[str, TaskEvent]
"""The latest event of each type, and under LAST the latest of all."""
LAST = "__last__"


def _last_events(session: Session, task_id: int) -> Facts:
    """The latest event of each type (a task has tens of events, read through its index)."""
    found: Facts = {}
    for event in session.scalars(select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)):
        found[event.type] = found[LAST] = event
    return found


def _alive_workers(session: Session, now: datetime) -> list[WorkerRow]:
    return list(session.scalars(
        select(WorkerRow).where(WorkerRow.stopped_at.is_(None), WorkerRow.last_heartbeat_at >= workers.alive_after(now))
    ))


def _pending(task: WorkflowTask, last: Facts, queue: dict[str, Any], alive: list[WorkerRow],
             now: datetime) -> dict[str, Any]:
    details: list[str] = []
    previous = last.get(LAST)
    if task.run_after is not None and task.run_after > now:
        retry = last.get(events.RETRY_SCHEDULED)
        headline = Text("Waiting to retry at {at} after a transient error.", at=_at(task.run_after))
        if retry is not None:
            details.append(retry.message)
        return _result("warning", headline, details + _worker_details(alive))
    ahead = queue["ahead"] or 0
    if ahead == 0:
        place = phrase("next in the queue")
    elif ahead == 1:
        place = Text("queued behind {count} task", count=ahead)
    else:
        place = Text("queued behind {count} tasks", count=ahead)
    if previous is not None and previous.type == events.REVIEW_SUBMITTED:
        data = previous.data or {}
        headline = Text("{reviewer} {decision} it at {at}; waiting for a worker to resume it ({place}).",
                        reviewer=data.get("reviewer", "?"), decision=phrase(data.get("review_status", "reviewed")),
                        at=_at(previous.created_at), place=place)
    elif previous is not None and previous.type == events.TASK_REQUEUED:
        data = previous.data or {}
        headline = Text("The lease of worker {worker} expired at {at} and the task was requeued; it resumes from its "
                        "last checkpoint ({place}).", worker=data.get("previous_worker") or "?",
                        at=_short(data.get("lease_expired_at")), place=place)
    elif previous is not None and previous.type == events.TASK_RETRIED:
        by = (previous.data or {}).get("by")
        headline = (Text("Retried by {user} at {at}; {place}.", user=by, at=_at(previous.created_at), place=place)
                    if by else Text("{event} at {at}; {place}.", event=previous.message, at=_at(previous.created_at),
                                    place=place))
    else:
        headline = Text("Queued at {at} with priority {priority}; {place}.", at=_at(task.created_at),
                        priority=task.priority, place=place)
    details.append(Text("Priority {priority} (9 runs first, waiting raises it); {count} task(s) are waiting in all.",
                        priority=task.priority, count=queue["runnable"]))
    if task.attempts:
        details.append(Text("Runs so far since the last retry: {attempts}.", attempts=task.attempts))
    tone = "info"
    if not alive:
        tone = "warning"
        details.insert(0, phrase("No worker is alive: start one with `python -m core worker`, or run the dashboard "
                                 "with RUN_SCHEDULER=true."))
    return _result(tone, headline, details + _worker_details(alive))


def _processing(task: WorkflowTask, last: Facts, queue: dict[str, Any], alive: list[WorkerRow],
                now: datetime) -> dict[str, Any]:
    claims = [e for e in (last.get(events.WORKFLOW_STARTED), last.get(events.TASK_RESUMED)) if e is not None]
    since = max(claims, key=lambda e: e.id).created_at if claims else task.started_at
    step = STEP_BY_NODE.get(task.current_step or "")
    at_step = (Text("step {number} of 10 ({label}) done", number=step.number, label=step.label) if step
               else phrase("starting"))
    headline = Text("Running on worker {worker} since {at}; {step}.", worker=task.lease_owner, at=_at(since),
                    step=at_step)
    details: list[str] = [Text("Attempt {attempt}; lease held until {at}.", attempt=task.attempts,
                               at=_at(task.lease_expires_at))]
    tone = "progress"
    if task.lease_expires_at is not None and task.lease_expires_at < now:
        tone = "warning"
        details.insert(0, Text("The lease expired at {at}: the worker seems gone; the task will be requeued and "
                               "resume from its last checkpoint.", at=_at(task.lease_expires_at)))
    return _result(tone, headline, details)


def _reviewing(task: WorkflowTask, last: Facts, queue: dict[str, Any], alive: list[WorkerRow],
               now: datetime) -> dict[str, Any]:
    asked = last.get(events.WORKFLOW_NEED_REVIEW)
    since = asked.created_at if asked is not None else task.updated_at
    round_ = (task.interrupt_data or {}).get("round", 1)
    rows = len((task.interrupt_data or {}).get("generated_body", []))
    headline = Text("Waiting for a reviewer since {at} (round {round}, {rows} generated rows).", at=_at(since),
                    round=round_, rows=rows)
    details = [phrase("Approve, correct or reject the rows on the Review page.")]
    deadlines = review_deadlines.Deadlines.of(get_settings())
    reminded = last.get(events.REVIEW_REMINDER)
    if reminded is not None and since is not None and reminded.created_at >= since:
        waited = review_deadlines.waited((reminded.data or {}).get("waiting_hours", 0))
        details.append(Text("Reminder sent at {at}: waiting for review for {waited}.",
                            at=_at(reminded.created_at), waited=waited))
    if since is not None and (expires := deadlines.expires_at(since)) is not None:
        details.append(Text("Cancelled automatically at {at} unless reviewed (REVIEW_EXPIRE_DAYS).", at=_at(expires)))
    return _result("warning", headline, details)


def _completed(task: WorkflowTask, last: Facts, queue: dict[str, Any], alive: list[WorkerRow],
               now: datetime) -> dict[str, Any]:
    review = last.get(events.REVIEW_SUBMITTED)
    if review is not None:
        headline = Text("Completed at {at}: automation case {case} created, approved by {reviewer}.",
                        at=_at(task.completed_at), case=task.new_usercase_id,
                        reviewer=(review.data or {}).get("reviewer"))
    else:
        headline = Text("Completed at {at}: automation case {case} created.", at=_at(task.completed_at),
                        case=task.new_usercase_id)
    return _result("success", headline, [])


def _failed(task: WorkflowTask, last: Facts, queue: dict[str, Any], alive: list[WorkerRow],
            now: datetime) -> dict[str, Any]:
    step = STEP_BY_NODE.get(task.current_step or "")
    headline = (Text("Failed in step {number} ({label}) at {at}.", number=step.number, label=step.label,
                     at=_at(task.completed_at)) if step else Text("Failed at {at}.", at=_at(task.completed_at)))
    details = [task.error_message or phrase("No error message was recorded.")]
    if (task.result_data or {}).get("outcome") == "rejected":
        details.append(phrase("Every review round was used: start a new task instead of retrying."))
    else:
        details.append(phrase("Retry resumes it from its last checkpoint."))
    return _result("error", headline, details)


def _cancelled(task: WorkflowTask, last: Facts, queue: dict[str, Any], alive: list[WorkerRow],
               now: datetime) -> dict[str, Any]:
    cancelled = last.get(events.TASK_CANCELLED)
    by = (cancelled.data or {}).get("by") if cancelled is not None else None
    if by:
        headline = Text("Cancelled by {user} at {at}.", user=by, at=_at(task.completed_at))
    elif cancelled is not None:
        headline = Text("{event} at {at}.", event=cancelled.message, at=_at(task.completed_at))
    else:
        headline = Text("Cancelled at {at}.", at=_at(task.completed_at))
    return _result("info", headline, [phrase("Retry resumes it from its last checkpoint.")])


_EXPLAINERS = {
    TaskStatus.PENDING.value: _pending,
    TaskStatus.PROCESSING.value: _processing,
    TaskStatus.REVIEWING.value: _reviewing,
    TaskStatus.COMPLETED.value: _completed,
    TaskStatus.FAILED.value: _failed,
    TaskStatus.CANCELLED.value: _cancelled,
}


def _worker_details(alive: list[WorkerRow]) -> list[str]:
    if not alive:
        return []
    slots = sum(worker.concurrency for worker in alive)
    return [Text("{count} worker(s) alive with {slots} slot(s) in all.", count=len(alive), slots=slots)]


def _result(tone: str, headline: str, details: list[str]) -> dict[str, Any]:
    return {"tone": tone, "headline": headline, "details": details}


_zone: ContextVar[tzinfo] = ContextVar("explain_zone", default=UTC)


def _zone_info(name: str | None) -> tzinfo:
    if not name or name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name no zone file can have
        return UTC


def _at(value: datetime | None) -> str:
    """A moment as "2026-02-05 18:30:00" in the reader's zone ("… UTC" when that is UTC)."""
    if value is None:
        return phrase("an unknown time")
    zone = _zone.get()
    text = value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    return f"{text} UTC" if zone is UTC else text


def _short(value: str | None) -> str:
    """An API timestamp (2026-02-05T10:30:00.123456Z) as _at writes moments."""
    if not value:
        return phrase("an unknown time")
    return _at(datetime.fromisoformat(value.replace("Z", "+00:00")))


def step_timeline(task_id: int) -> list[dict[str, Any]]:
    """The ten steps as the task went through them.

    Each: {number, node, label, state, runs, last_ms, total_ms, finished_at}.

    state is done, running, waiting (step 9 awaiting a reviewer), failed, skipped (a later
    step finished without it, like an unneeded repair) or not_started. A step that ran more
    than once (repairs, regenerations after a rejection) shows its run count and total time.
    """
    with session_scope() as session:
        task = session.get(WorkflowTask, task_id)
        if task is None:
            raise NotFound("No task with id {task_id}.", task_id=task_id)
        done = session.execute(
            select(TaskEvent.step, TaskEvent.duration_ms, TaskEvent.created_at)
            .where(TaskEvent.task_id == task_id, TaskEvent.type == events.STEP_COMPLETED)
            .order_by(TaskEvent.id)
        ).all()
        status, current = task.status, task.current_step
    runs: dict[str, list[tuple[int | None, datetime]]] = {}
    for node, duration, at in done:
        runs.setdefault(node or "", []).append((duration, at))
    last_done = max((STEP_BY_NODE[n].number for n in runs if n in STEP_BY_NODE), default=0)
    timeline = []
    for step in STEP_BY_NODE.values():
        mine = runs.get(step.node, [])
        if mine:
            state = "done"
        elif status == TaskStatus.FAILED.value and current == step.node:
            state = "failed"
        elif status == TaskStatus.REVIEWING.value and step.node == "human_review":
            state = "waiting"
        elif step.number < last_done:
            state = "skipped"
        elif status == TaskStatus.PROCESSING.value and step.number == last_done + 1:
            state = "running"
        else:
            state = "not_started"
        durations = [d for d, _ in mine if d is not None]
        timeline.append({
            "number": step.number, "node": step.node, "label": step.label, "state": state, "runs": len(mine),
            "last_ms": durations[-1] if durations else None, "total_ms": sum(durations) if durations else None,
            "finished_at": isoformat(mine[-1][1]) if mine else None,
        })
    return timeline

