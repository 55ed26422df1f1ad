"""Dashboard metrics: aggregates in SQL, over the rollups (migration 0015) for whole days, never rows in Python.

Tasks count in the range by their creation time; reviews by their decision time. Days
are UTC days, written "YYYY-MM-DD" on both backends. Percentiles use the nearest-rank
definition (the smallest value with at least p% of the values at or below it), computed
with window functions so SQLite and PostgreSQL give the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, and_, case, delete, func, select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.database import database, session_scope
from core.errors import InvalidInput
from core.tasks import events
from core.workflow.steps import STEP_BY_NODE
from db.models import MetricRollup, Review, Scene, TaskEvent, TaskStatus, WorkflowTask
from db.types import utcnow

MAX_RANGE_DAYS = 366
MAX_SCENES = 20
"""Scenes listed by unedited_approvals, the most reviewed first."""


@dataclass(frozen=True, kw_only=True)
class TimeRange:
    """[since, until): timezone-aware UTC bounds."""

    since: datetime
    until: datetime

    @classmethod
    def last(cls, days: int, *, now: datetime | None = None) -> TimeRange:
        """The last ``days`` days up to the next whole minute, as the metrics page asks (the same range all minute
        long, so that its cache holds; and ending after now, so that today comes from the rollups, see _split)."""
        until = (now or utcnow()).replace(second=0, microsecond=0) + timedelta(minutes=1)
        return cls(since=until - timedelta(days=days), until=until)

    def check(self) -> None:
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise InvalidInput("A time range needs timezone-aware bounds.")
        if self.until <= self.since:
            raise InvalidInput("The end of the time range must be after its start.")
        if self.until - self.since > timedelta(days=MAX_RANGE_DAYS):
            raise InvalidInput("Choose a time range of at most {max_range_days} days.", max_range_days=MAX_RANGE_DAYS)


NO_BUCKET = -1000
"""The bucket of rollup rows without a duration. Timed completed tasks count in buckets [1.05^b, 1.05^(b+1))
seconds (migration 0015's triggers), a histogram for later; the page's percentiles are exact (_kept_percentiles)."""


def summary(window: TimeRange, *, now: datetime | None = None, durations: bool = True) -> dict[str, Any]:
    """The tiles: success rate, average execution time, approval rate, backlog, reviews waiting and overdue.

    A review is overdue once it has waited REVIEW_REMIND_HOURS (None when reminders are off).
    The whole UTC days of the window are read from the rollups, its partial first and last days
    from the rows. ``durations=False`` leaves out the average execution time (None), for a caller
    that weights duration_per_day's daily averages instead (see average_of).
    """
    window.check()
    now = now or utcnow()
    with session_scope() as session:
        total, n_completed, n_failed, seconds, timed, n_reviews, n_approved = _totals(session, window)
        now_live = live(session, now)
    by_status, oldest_review = now_live.by_status, now_live.oldest_review
    finished = n_completed + n_failed
    return {
        "tasks": total,
        "completed": n_completed,
        "failed": n_failed,
        "success_rate": n_completed / finished if finished else None,
        "avg_duration_seconds": seconds / timed if durations and timed else None,
        "reviews": n_reviews,
        "approved": n_approved,
        "approval_rate": n_approved / n_reviews if n_reviews else None,
        "backlog": by_status[TaskStatus.PENDING.value],
        "processing": by_status[TaskStatus.PROCESSING.value],
        "awaiting_review": by_status[TaskStatus.REVIEWING.value],
        "oldest_review_age_seconds": (now - oldest_review).total_seconds() if oldest_review else None,
        "overdue_reviews": now_live.overdue_reviews,
    }


LIVE = (TaskStatus.PENDING.value, TaskStatus.PROCESSING.value, TaskStatus.REVIEWING.value)


class Live(NamedTuple):
    """The tasks as they are now."""

    by_status: dict[str, int]
    """Tasks in each LIVE status."""
    oldest_review: datetime | None
    """When the longest-waiting review was asked for."""
    overdue_reviews: int | None
    """Reviews waiting REVIEW_REMIND_HOURS or longer (None when reminders are off)."""


def live(session: Session, now: datetime) -> Live:
    """The tasks as they are now, in one statement (one snapshot), at any size.

    The counts are the rollups' sums; the overdue reviews are the reviewing tasks less the few asked
    within REVIEW_REMIND_HOURS (or never), so that no query reads every waiting task.
    """
    t = WorkflowTask
    reviewing, asked = t.status == TaskStatus.REVIEWING.value, t.review_asked_at
    hours = get_settings().review_remind_hours
    *counts, oldest, recent, unasked = session.execute(_status_totals(LIVE).add_columns(
        select(func.min(asked)).where(reviewing).scalar_subquery(),
        select(func.count()).where(reviewing, asked > now - timedelta(hours=hours or 0)).scalar_subquery(),
        select(func.count()).where(reviewing, asked.is_(None)).scalar_subquery(),
    )).one()
    by_status = dict(zip(LIVE, (int(n or 0) for n in counts), strict=True))
    overdue = max(by_status[TaskStatus.REVIEWING.value] - recent - unasked, 0) if hours else None
    return Live(by_status=by_status, oldest_review=oldest, overdue_reviews=overdue)


def status_totals(session: Session) -> dict[str, int]:
    """Tasks per status, exact at any size: the rollups summed over every day (kept by triggers)."""
    statuses = [status.value for status in TaskStatus]
    return dict(zip(statuses, (int(n or 0) for n in session.execute(_status_totals(statuses)).one()), strict=True))


def _status_totals(statuses: Sequence[str]) -> Select[Any]:
    """One row: the tasks in each of ``statuses``, in that order, summed from the rollups."""
    r = MetricRollup
    return select(*(func.coalesce(func.sum(case((r.status == status, r.count), else_=0)), 0) for status in statuses)
                  ).where(r.kind == "task", r.status.in_(statuses))


def _totals(session: Session, window: TimeRange) -> list[float]:
    """[tasks, completed, failed, seconds of timed completed tasks, how many, reviews, approved] in the window."""
    first, last, edges = _split(window)
    r = MetricRollup
    sums = [0.0] * 7
    if first is not None:
        completed, task = r.status == TaskStatus.COMPLETED.value, r.kind == "task"
        row = session.execute(
            select(
                func.sum(case((task, r.count), else_=0)), func.sum(case((and_(task, completed), r.count), else_=0)),
                func.sum(case((and_(task, r.status == TaskStatus.FAILED.value), r.count), else_=0)),
                func.sum(case((and_(task, completed, r.bucket > NO_BUCKET), r.seconds), else_=0)),
                func.sum(case((and_(task, completed, r.bucket > NO_BUCKET), r.count), else_=0)),
                func.sum(case((r.kind == "review", r.count), else_=0)),
                func.sum(case((and_(r.kind == "review", r.status == "approved"), r.count), else_=0)),
            ).where(r.kind.in_(("task", "review")), r.day >= first, r.day < last)
        ).one()
        sums = [a + float(b or 0) for a, b in zip(sums, row, strict=True)]
    t = WorkflowTask
    timed = and_(t.status == TaskStatus.COMPLETED.value, t.started_at.is_not(None), t.completed_at.is_not(None))
    for edge in edges:
        row = session.execute(
            select(
                func.count(), func.sum(case((t.status == TaskStatus.COMPLETED.value, 1), else_=0)),
                func.sum(case((t.status == TaskStatus.FAILED.value, 1), else_=0)),
                func.sum(case((timed, _seconds_between(t.started_at, t.completed_at)), else_=0)),
                func.sum(case((timed, 1), else_=0)),
            ).where(t.created_at >= edge.since, t.created_at < edge.until)
        ).one()
        reviews = session.execute(
            select(func.count(), func.sum(case((Review.review_status == "approved", 1), else_=0)))
            .where(Review.created_at >= edge.since, Review.created_at < edge.until)
        ).one()
        sums = [a + float(b or 0) for a, b in zip(sums, [*row, *reviews], strict=True)]
    return [value if i == 3 else int(value) for i, value in enumerate(sums)]


def _split(window: TimeRange, *, through_today: bool = True) -> tuple[str | None, str | None, list[TimeRange]]:
    """The whole UTC days inside the window ([first, last) as "YYYY-MM-DD", None if none) and the rest of it.

    A window that runs from before today to now or later holds all of today so far: nothing was created
    after now, so today's rollups count exactly its rows (``through_today=False`` reads today's rows).
    """
    start = window.since.astimezone(UTC)
    first = start.replace(hour=0, minute=0, second=0, microsecond=0)
    first += timedelta(days=1) if first < start else timedelta(0)
    last = window.until.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if through_today and first <= last < window.until and window.until >= utcnow():
        edges = [TimeRange(since=window.since, until=first)] if window.since < first else []
        return first.strftime("%Y-%m-%d"), (last + timedelta(days=1)).strftime("%Y-%m-%d"), edges
    if last <= first:
        return None, None, [window]
    edges = [TimeRange(since=a, until=b) for a, b in ((window.since, first), (last, window.until)) if a < b]
    return first.strftime("%Y-%m-%d"), last.strftime("%Y-%m-%d"), edges


def _rollups(session: Session, window: TimeRange, kind: str, keys: list[Any], *sums: Any) -> list[Any]:
    """Rollup rows of ``kind`` on the window's whole days: ``keys`` and their ``sums``."""
    if _split(window)[0] is None:
        return []
    r = MetricRollup
    return list(session.execute(
        select(*keys, *sums).where(r.kind == kind, r.count != 0, *_whole_days(window)).group_by(*keys)
    ).all())


def average_of(days: list[dict[str, Any]]) -> float | None:
    """The overall average of duration_per_day's days (each weighted by its task count)."""
    total = sum(day["tasks"] for day in days)
    return sum(day["avg_seconds"] * day["tasks"] for day in days) / total if total else None


def tasks_per_day(window: TimeRange) -> list[dict[str, Any]]:
    """[{day, status, tasks}] for tasks created in the range."""
    window.check()
    r = MetricRollup
    with session_scope() as session:
        rows = _rollups(session, window, "task", [r.day, r.status], func.sum(r.count))
        for edge in _split(window)[2]:
            rows += _raw_tasks_per_day(session, edge)
    return [{"day": d, "status": status, "tasks": int(n)} for d, status, n in sorted(rows) if n]


def _raw_tasks_per_day(session: Session, window: TimeRange) -> list[Any]:
    t = WorkflowTask
    day = _day(t.created_at)
    return list(session.execute(
        select(day.label("day"), t.status, func.count())
        .where(t.created_at >= window.since, t.created_at < window.until)
        .group_by(day, t.status)
    ).all())


def duration_per_day(window: TimeRange) -> list[dict[str, Any]]:
    """[{day, tasks, p50_seconds, p95_seconds, avg_seconds}] of completed tasks, by creation day.

    Whole days: counts and averages from the rollups, exact percentiles computed once per day from its rows
    and kept (rollup kind "pct", ``peak`` holding the day's total seconds then) until the day's count or total
    seconds of timed completed tasks change. Partial days, today included (it changes all day long): rows.
    """
    window.check()
    r = MetricRollup
    first, last, edges = _split(window, through_today=False)
    whole = [r.day >= first, r.day < last] if first else []
    with session_scope() as session:
        days = {d: (int(n), float(seconds)) for d, n, seconds in session.execute(
            select(r.day, func.sum(r.count), func.sum(r.seconds))
            .where(r.kind == "task", r.status == TaskStatus.COMPLETED.value, r.bucket > NO_BUCKET, r.count != 0,
                   *whole)
            .group_by(r.day)
        ) if n} if whole else {}
        kept = _kept_percentiles(session, whole, days)
        result = [{"day": d, "tasks": n, "p50_seconds": kept[d][0], "p95_seconds": kept[d][1], "avg_seconds": sum_ / n}
                  for d, (n, sum_) in days.items()]
        result += [day for edge in edges for day in _raw_duration_per_day(session, edge)]
    return sorted(result, key=lambda day: day["day"])


def _kept_percentiles(session: Session, whole: list[ColumnElement[bool]],
                      days: dict[str, tuple[int, float]]) -> dict[str, Any]:
    """{day: (p50, p95)} for ``days`` ({day: (tasks, seconds)}, within the days ``whole`` selects), computing and
    keeping the missing or stale ones."""
    if not days:
        return {}
    r = MetricRollup
    kept: dict[str, dict[str, tuple[int, float, float]]] = {}
    for d, status, n, value, total in session.execute(
        select(r.day, r.status, r.count, r.seconds, r.peak).where(r.kind == "pct", *whole)
    ):
        kept.setdefault(d, {})[status] = (n, total or 0.0, value)
    result = {}
    for d, (n, seconds) in days.items():
        found = kept.get(d, {})
        if all(p in found and found[p][0] == n and math.isclose(found[p][1], seconds) for p in ("p50", "p95")):
            result[d] = (found["p50"][2], found["p95"][2])
            continue
        start = datetime.strptime(d, "%Y-%m-%d").replace(tzinfo=UTC)
        exact = {"tasks": None, **next(iter(_raw_duration_per_day(
            session, TimeRange(since=start, until=start + timedelta(days=1)))), {})}
        result[d] = (exact.get("p50_seconds"), exact.get("p95_seconds"))
        if exact["tasks"] == n:  # else the rows changed meanwhile: show them, keep nothing
            session.execute(delete(r).where(r.kind == "pct", r.day == d))
            session.add_all(MetricRollup(kind="pct", day=d, module="", status=p, bucket=NO_BUCKET, count=n,
                                         seconds=exact[f"{p}_seconds"], peak=seconds) for p in ("p50", "p95"))
    return result


def _whole_days(window: TimeRange) -> list[ColumnElement[bool]]:
    first, last, _ = _split(window)
    return [MetricRollup.day >= first, MetricRollup.day < last]


def _raw_duration_per_day(session: Session, window: TimeRange) -> list[dict[str, Any]]:
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
    rows = session.execute(
        select(
            r.day, func.max(r.n),
            func.max(case((r.rank == _nearest_rank(r.n, 50), r.seconds))),
            func.max(case((r.rank == _nearest_rank(r.n, 95), r.seconds))),
            func.avg(r.seconds),
        ).group_by(r.day)
    ).all()
    return [
        {"day": d, "tasks": int(n), "p50_seconds": float(p50), "p95_seconds": float(p95), "avg_seconds": float(avg)}
        for d, n, p50, p95, avg in rows
    ]


def approval_per_day(window: TimeRange) -> list[dict[str, Any]]:
    """[{day, reviews, approved, rejected, approval_rate}] of review decisions made in the range."""
    window.check()
    r = MetricRollup
    with session_scope() as session:
        rows = _rollups(session, window, "review", [r.day], func.sum(r.count),
                        func.sum(case((r.status == "approved", r.count), else_=0)))
        for edge in _split(window)[2]:
            day = _day(Review.created_at)
            rows += session.execute(
                select(day, func.count(), func.sum(case((Review.review_status == "approved", 1), else_=0)))
                .where(Review.created_at >= edge.since, Review.created_at < edge.until)
                .group_by(day)
            ).all()
    return [
        {"day": d, "reviews": int(n), "approved": int(a or 0), "rejected": int(n) - int(a or 0),
         "approval_rate": int(a or 0) / int(n)}
        for d, n, a in sorted(rows) if n
    ]


def unedited_approvals(window: TimeRange) -> dict[str, list[dict[str, Any]]]:
    """Review rounds approved without edits (the reviewer kept every row, value, check and setup step as
    generated) among the rounds decided in the range: per day and provider, and per scene and provider.

    {"per_day": [{day, provider, rounds, unedited, share}], "by_scene": [{scene_id, scene, provider, rounds,
    unedited, share}] (the scenes with the most rounds first)}; provider "" for rounds decided before it was kept.
    """
    window.check()
    r = MetricRollup
    with session_scope() as session:
        rows = _rollups(session, window, "round", [r.day, r.module, r.status], func.sum(r.count),
                        func.sum(case((r.bucket == 1, r.count), else_=0)))
        unedited = and_(Review.review_status == "approved", Review.edited.is_(False))
        for edge in _split(window)[2]:
            keys = [_day(Review.created_at), func.coalesce(Review.scene_id, ""), func.coalesce(Review.provider, "")]
            rows += session.execute(
                select(*keys, func.count(), func.sum(case((unedited, 1), else_=0)))
                .where(Review.created_at >= edge.since, Review.created_at < edge.until).group_by(*keys)
            ).all()
        per_day: dict[tuple[str, str], list[int]] = {}
        by_scene: dict[tuple[str, str], list[int]] = {}
        for day, scene_id, provider, rounds, kept in rows:
            for totals, key in ((per_day, (day, provider)), (by_scene, (scene_id, provider))):
                counts = totals.setdefault(key, [0, 0])
                counts[0] += int(rounds)
                counts[1] += int(kept or 0)
        top = sorted(by_scene.items(), key=lambda item: (-item[1][0], item[0]))[:MAX_SCENES]
        shown = {scene_id for (scene_id, _), _ in top}
        names = dict(session.execute(select(Scene.id, Scene.name).where(Scene.id.in_(shown))).all())
    return {
        "per_day": [{"day": day, "provider": provider, **_share(counts)}
                    for (day, provider), counts in sorted(per_day.items()) if counts[0]],
        "by_scene": [{"scene_id": scene_id, "scene": names.get(scene_id, ""), "provider": provider, **_share(counts)}
                     for (scene_id, provider), counts in top if counts[0]],
    }


def _share(counts: list[int]) -> dict[str, Any]:
    return {"rounds": counts[0], "unedited": counts[1], "share": counts[1] / counts[0]}


def step_durations(window: TimeRange) -> list[dict[str, Any]]:
    """[{step, number, label, runs, avg_ms, max_ms}] over the step runs of tasks created in the range."""
    window.check()
    r, e, t = MetricRollup, TaskEvent, WorkflowTask
    totals: dict[str, list[float]] = {}
    with session_scope() as session:
        rows = _rollups(session, window, "step", [r.status], func.sum(r.count), func.sum(r.seconds),
                        func.max(r.peak))
        for edge in _split(window)[2]:
            tasks = select(t.id).where(t.created_at >= edge.since, t.created_at < edge.until)
            rows += session.execute(
                select(func.coalesce(e.step, ""), func.count(), func.sum(e.duration_ms), func.max(e.duration_ms))
                .where(e.type == events.STEP_COMPLETED, e.duration_ms.is_not(None), e.task_id.in_(tasks))
                .group_by(e.step)
            ).all()
    for step, runs, total_ms, max_ms in rows:
        found = totals.setdefault(step, [0, 0.0, 0.0])
        found[0] += int(runs)
        found[1] += float(total_ms or 0)
        found[2] = max(found[2], float(max_ms or 0))
    result = []
    for step, (runs, total_ms, max_ms) in totals.items():
        if not runs:
            continue
        known = STEP_BY_NODE.get(step)
        result.append({
            "step": step or None, "number": known.number if known else None,
            "label": known.label if known else (step or None), "runs": int(runs), "avg_ms": total_ms / runs,
            "max_ms": int(max_ms),
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
