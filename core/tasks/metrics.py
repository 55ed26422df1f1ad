"""Dashboard metrics: every aggregate is one SQL query, never rows loaded into Python.

Tasks count in the range by their creation time; reviews by their decision time. Days
are UTC days, written "YYYY-MM-DD" on both backends. Percentiles use the nearest-rank
definition (the smallest value with at least p% of the values at or below it), computed
with window functions so SQLite and PostgreSQL give the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, null, select

from core.config import get_settings
from core.database import database, session_scope
from core.errors import InvalidInput
from core.tasks import events
from core.workflow.steps import STEP_BY_NODE
from db.models import Review, TaskEvent, TaskStatus, WorkflowTask
from db.types import utcnow

MAX_RANGE_DAYS = 366


@dataclass(frozen=True, kw_only=True)
class TimeRange:
    """[since, until): timezone-aware UTC bounds."""

    since: datetime
    until: datetime

    @classmethod
    def last(cls, days: int, *, now: datetime | None = None) -> TimeRange:
        now = now or utcnow()
        return cls(since=now - timedelta(days=days), until=now)

    def check(self) -> None:
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise InvalidInput("A time range needs timezone-aware bounds.")
        if self.until <= self.since:
            raise InvalidInput("The end of the time range must be after its start.")
        if self.until - self.since > timedelta(days=MAX_RANGE_DAYS):
            raise InvalidInput("Choose a time range of at most {max_range_days} days.", max_range_days=MAX_RANGE_DAYS)


def summary(window: TimeRange, *, now: datetime | None = None, durations: bool = True) -> dict[str, Any]:
    """The tiles: success rate, average execution time, approval rate, backlog, reviews waiting and overdue.

    A review is overdue once it has waited REVIEW_REMIND_HOURS (None when reminders are off).

    ``durations=False`` leaves out the average execution time (None): on SQLite it is the one
    figure that reads whole task rows, and a caller that also charts duration_per_day can
    weight its daily averages instead (see average_of).
    """
    window.check()
    now = now or utcnow()
    t = WorkflowTask
    duration = _seconds_between(t.started_at, t.completed_at)
    completed, failed = t.status == TaskStatus.COMPLETED.value, t.status == TaskStatus.FAILED.value
    with session_scope() as session:
        tasks = session.execute(
            select(
                func.count(),
                func.sum(case((completed, 1), else_=0)),
                func.sum(case((failed, 1), else_=0)),
                func.avg(case((and_(completed, t.started_at.is_not(None)), duration))) if durations else null(),
            ).where(t.created_at >= window.since, t.created_at < window.until)
        ).one()
        reviews = session.execute(
            select(func.count(), func.sum(case((Review.review_status == "approved", 1), else_=0)))
            .where(Review.created_at >= window.since, Review.created_at < window.until)
        ).one()
        live = session.execute(
            select(
                func.sum(case((t.status == TaskStatus.PENDING.value, 1), else_=0)),
                func.sum(case((t.status == TaskStatus.PROCESSING.value, 1), else_=0)),
                func.sum(case((t.status == TaskStatus.REVIEWING.value, 1), else_=0)),
            ).where(t.status.in_([TaskStatus.PENDING.value, TaskStatus.PROCESSING.value,
                                  TaskStatus.REVIEWING.value]))
        ).one()
        asked = events.review_requests().c.asked
        overdue_after = now - timedelta(hours=get_settings().review_remind_hours or 0)
        oldest_review, overdue = session.execute(
            select(func.min(asked), func.sum(case((asked <= overdue_after, 1), else_=0)))).one()
    total, n_completed, n_failed, avg_duration = tasks
    n_reviews, n_approved = reviews
    n_completed, n_failed, n_approved = int(n_completed or 0), int(n_failed or 0), int(n_approved or 0)
    finished = n_completed + n_failed
    return {
        "tasks": int(total or 0),
        "completed": n_completed,
        "failed": n_failed,
        "success_rate": n_completed / finished if finished else None,
        "avg_duration_seconds": float(avg_duration) if avg_duration is not None else None,
        "reviews": int(n_reviews or 0),
        "approved": n_approved,
        "approval_rate": n_approved / n_reviews if n_reviews else None,
        "backlog": int(live[0] or 0),
        "processing": int(live[1] or 0),
        "awaiting_review": int(live[2] or 0),
        "oldest_review_age_seconds": (now - oldest_review).total_seconds() if oldest_review else None,
        "overdue_reviews": int(overdue or 0) if get_settings().review_remind_hours else None,
    }


def average_of(days: list[dict[str, Any]]) -> float | None:
    """The overall average of duration_per_day's days (each weighted by its task count)."""
    total = sum(day["tasks"] for day in days)
    return sum(day["avg_seconds"] * day["tasks"] for day in days) / total if total else None


def tasks_per_day(window: TimeRange) -> list[dict[str, Any]]:
    """[{day, status, tasks}] for tasks created in the range."""
    window.check()
    t = WorkflowTask
    day = _day(t.created_at)
    with session_scope() as session:
        rows = session.execute(
            select(day.label("day"), t.status, func.count())
            .where(t.created_at >= window.since, t.created_at < window.until)
            .group_by(day, t.status)
            .order_by(day, t.status)
        ).all()
    return [{"day": d, "status": status, "tasks": int(n)} for d, status, n in rows]


def duration_per_day(window: TimeRange) -> list[dict[str, Any]]:
    """[{day, tasks, p50_seconds, p95_seconds, avg_seconds}] of completed tasks, by creation day."""
    window.check()
    t = WorkflowTask
    duration = _seconds_between(t.started_at, t.completed_at)
    day = _day(t.created_at)
    ranked = (
        select(
            day.label("day"),
            duration.label("seconds"),
            func.row_number().over(partition_by=day, order_by=duration).label("rank"),
            func.count().over(partition_by=day).label("n"),
        )
        .where(
            t.status == TaskStatus.COMPLETED.value, t.started_at.is_not(None), t.completed_at.is_not(None),
            t.created_at >= window.since, t.created_at < window.until,
        )
        .subquery()
    )
    r = ranked.c
    with session_scope() as session:
        rows = session.execute(
            select(
                r.day, func.max(r.n),
                func.max(case((r.rank == _nearest_rank(r.n, 50), r.seconds))),
                func.max(case((r.rank == _nearest_rank(r.n, 95), r.seconds))),
                func.avg(r.seconds),
            ).group_by(r.day).order_by(r.day)
        ).all()
    return [
        {"day": d, "tasks": int(n), "p50_seconds": float(p50), "p95_seconds": float(p95), "avg_seconds": float(avg)}
        for d, n, p50, p95, avg in rows
    ]


def approval_per_day(window: TimeRange) -> list[dict[str, Any]]:
    """[{day, reviews, approved, rejected, approval_rate}] of review decisions made in the range."""
    window.check()
    day = _day(Review.created_at)
    approved = func.sum(case((Review.review_status == "approved", 1), else_=0))
    with session_scope() as session:
        rows = session.execute(
            select(day, func.count(), approved)
            .where(Review.created_at >= window.since, Review.created_at < window.until)
            .group_by(day)
            .order_by(day)
        ).all()
    return [
        {"day": d, "reviews": int(n), "approved": int(a or 0), "rejected": int(n) - int(a or 0),
         "approval_rate": int(a or 0) / int(n)}
        for d, n, a in rows
    ]


def step_durations(window: TimeRange) -> list[dict[str, Any]]:
    """[{step, number, label, runs, avg_ms, max_ms}] over the step runs of tasks created in the range."""
    window.check()
    e, t = TaskEvent, WorkflowTask
    tasks = select(t.id).where(t.created_at >= window.since, t.created_at < window.until)
    with session_scope() as session:
        rows = session.execute(
            select(e.step, func.count(), func.avg(e.duration_ms), func.max(e.duration_ms))
            .where(e.type == events.STEP_COMPLETED, e.duration_ms.is_not(None), e.task_id.in_(tasks))
            .group_by(e.step)
        ).all()
    result = []
    for step, runs, avg_ms, max_ms in rows:
        known = STEP_BY_NODE.get(step or "")
        result.append({
            "step": step, "number": known.number if known else None, "label": known.label if known else step,
            "runs": int(runs), "avg_ms": float(avg_ms), "max_ms": int(max_ms),
        })
    return sorted(result, key=lambda item: (item["number"] is None, item["number"] or 0, item["step"] or ""))


def _is_sqlite() -> bool:
    return database().is_sqlite


def _seconds_between(start: ColumnElement[Any], end: ColumnElement[Any]) -> ColumnElement[Any]:
    if _is_sqlite():
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


def _day(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The UTC day of a timestamp as "YYYY-MM-DD" (SQLite stores UTC text; PostgreSQL converts)."""
    if _is_sqlite():
        return func.date(column)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")


def _nearest_rank(n: ColumnElement[Any], percent: int) -> ColumnElement[Any]:
    """ceil(n * percent / 100) in integer arithmetic, on both backends."""
    return (n * percent + 99) // 100
