"""The metrics page reads rollups kept by triggers: its figures equal the old aggregates over the rows."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import delete, func, insert, select, update

from core.config import get_settings
from core.database import database, session_scope
from core.migrate import alembic_config
from core.tasks import metrics
from core.tasks.metrics import TimeRange
from db.models import MetricRollup, Review, TaskEvent, TestCase, User, WorkflowTask
from db.types import utcnow

STATUSES = ("completed", "completed", "completed", "failed", "cancelled", "reviewing", "pending")


def _seed(days: int = 12, per_day: int = 9) -> None:
    """Tasks over ``days`` days in every status, with reviews and step events, through the ORM (so the triggers)."""
    rng = random.Random(7)
    now = utcnow()
    with session_scope() as session:
        user = session.scalar(select(User.id))
        case_id = session.scalar(select(TestCase.id))
        for index in range(days * per_day):
            created = now - timedelta(days=days) + timedelta(hours=index * 24 / per_day + rng.uniform(0, 2))
            status = rng.choice(STATUSES)
            started = created + timedelta(seconds=rng.uniform(1, 20)) if status != "pending" else None
            ended = started + timedelta(seconds=rng.uniform(5, 900)) if status in ("completed", "failed") else None
            task = WorkflowTask(
                thread_id=f"rollup-{index}", user_id=user, test_case_id=case_id, status=status,
                input_params={"module_id": rng.choice(("orders", "users", "")),
                              "scene_id": rng.choice(("SC001", "SC002"))}, created_at=created,
                ranked_at=created, started_at=started, completed_at=ended,
            )
            session.add(task)
            session.flush()
            for step in ("load_inputs", "plan_rows", "generate_bodies")[: rng.randrange(4)]:
                session.add(TaskEvent(task_id=task.id, type="step_completed", step=step,
                                      duration_ms=rng.randrange(5, 5000), created_at=created))
            if status in ("completed", "reviewing") and rng.random() < 0.8:
                decided = min(created + timedelta(hours=1), now)  # nothing is decided in the future
                session.add(Review(task_id=task.id, round=1, reviewer_id=user, created_at=decided,
                                   review_status=rng.choice(("approved", "approved", "rejected")),
                                   scene_id=task.input_params["scene_id"], edited=rng.random() < 0.4,
                                   provider=rng.choice(("offline", "openai", None))))


def _ask_for_reviews() -> None:
    """The tasks awaiting review asked for it an hour after their creation (one in five never did: older rows)."""
    t = WorkflowTask
    with session_scope() as session:
        for task in session.scalars(select(t).where(t.status == "reviewing", t.id % 5 != 0)):
            task.review_asked_at = task.created_at + timedelta(hours=1)


def _bulk_rows(count: int = 300) -> None:
    """Tasks, their step events and reviews, each table in ONE statement (the statement-level triggers' case)."""
    rng = random.Random(11)
    now = utcnow()
    with session_scope() as session:
        user = session.scalar(select(User.id))
        case_id = session.scalar(select(TestCase.id))
        tasks = []
        for index in range(count):
            created = now - timedelta(days=6) + timedelta(minutes=index * 25)
            status = rng.choice(STATUSES)
            started = created + timedelta(seconds=rng.uniform(1, 20)) if status != "pending" else None
            ended = started + timedelta(seconds=rng.uniform(5, 900)) if status in ("completed", "failed") else None
            tasks.append({"thread_id": f"bulk-{index}", "user_id": user, "test_case_id": case_id, "status": status,
                          "input_params": {"module_id": rng.choice(("orders", "")), "scene_id": "SC001"},
                          "created_at": created, "ranked_at": created, "started_at": started, "completed_at": ended})
        session.execute(insert(WorkflowTask).values(tasks))
        ids = list(session.scalars(select(WorkflowTask.id).where(WorkflowTask.thread_id.like("bulk-%"))))
        session.execute(insert(TaskEvent).values([
            {"task_id": task_id, "type": "step_completed", "step": step, "duration_ms": rng.randrange(5, 5000),
             "message": "", "created_at": now} for task_id in ids for step in ("plan_rows", "generate_bodies")]))
        session.execute(insert(Review).values([
            {"task_id": task_id, "round": 1, "reviewer_id": user, "created_at": now, "feedback": "",
             "review_status": rng.choice(("approved", "rejected")), "scene_id": "SC001", "edited": False,
             "provider": "offline"} for task_id in ids[::2]]))


def _bulk_delete() -> None:
    """One DELETE per table: step events, reviews, then tasks, in the cleanup's order (core.tasks.cleanup)."""
    with session_scope() as session:
        ids = list(session.scalars(select(WorkflowTask.id).where(WorkflowTask.thread_id.like("bulk-%"))))
        session.execute(delete(TaskEvent).where(TaskEvent.task_id.in_(ids[::3] + ids[1::3])))
        session.execute(delete(Review).where(Review.task_id.in_(ids[1::3])))
        session.execute(delete(WorkflowTask).where(WorkflowTask.id.in_(ids[1::3])))


def _change_some() -> None:
    """Status changes, a duration change and deletes: what the update and delete triggers must follow."""
    with session_scope() as session:
        ids = list(session.scalars(select(WorkflowTask.id).order_by(WorkflowTask.id)))
        session.execute(update(WorkflowTask).where(WorkflowTask.id.in_(ids[::7]), WorkflowTask.status == "reviewing")
                        .values(status="completed", completed_at=utcnow()))
        session.execute(update(WorkflowTask).where(WorkflowTask.id.in_(ids[1::9]))
                        .values(started_at=WorkflowTask.created_at))
        gone = ids[2::11]
        session.execute(delete(TaskEvent).where(TaskEvent.task_id.in_(gone)))
        session.execute(delete(Review).where(Review.task_id.in_(gone)))
        session.execute(delete(WorkflowTask).where(WorkflowTask.id.in_(gone)))


def _everything(window: TimeRange) -> dict[str, Any]:
    return {"summary": metrics.summary(window), "per_day": metrics.tasks_per_day(window),
            "durations": metrics.duration_per_day(window), "approvals": metrics.approval_per_day(window),
            "steps": metrics.step_durations(window), "unedited": metrics.unedited_approvals(window)}


def _from_rows(window: TimeRange, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The same figures as the aggregates over every row compute them (the code before the rollups)."""
    with monkeypatch.context() as patch:
        patch.setattr(metrics, "_split", lambda window, **_: (None, None, [window]))
        return _everything(window)


def _live_from_rows(now: datetime) -> dict[str, Any]:
    """The summary's figures of the tasks as they are now, counted over the rows."""
    t = WorkflowTask
    with session_scope() as session:
        counts = dict(session.execute(select(t.status, func.count()).group_by(t.status)).all())
        waiting = list(session.scalars(select(t.review_asked_at).where(t.status == "reviewing",
                                                                       t.review_asked_at.is_not(None))))
    hours = get_settings().review_remind_hours
    return {"backlog": counts.get("pending", 0), "processing": counts.get("processing", 0),
            "awaiting_review": counts.get("reviewing", 0),
            "overdue_reviews": sum(asked <= now - timedelta(hours=hours) for asked in waiting) if hours else None,
            "oldest_review_age_seconds": (now - min(waiting)).total_seconds() if waiting else None}


def _assert_equal(rollup: dict[str, Any], rows: dict[str, Any], *, deleted: bool = False) -> None:
    """Equal figures; after deletes a step's slowest run may be one that is gone (a peak is never lowered)."""
    assert rollup["per_day"] == rows["per_day"] and rollup["approvals"] == rows["approvals"]
    assert rollup["unedited"] == rows["unedited"]
    inexact = ("avg_duration_seconds", "oldest_review_age_seconds")  # float sums; an age read a moment later
    summary = {key: value for key, value in rollup["summary"].items() if key not in inexact}
    assert summary == {key: value for key, value in rows["summary"].items() if key not in inexact}
    assert rollup["summary"]["avg_duration_seconds"] == pytest.approx(rows["summary"]["avg_duration_seconds"])
    assert rollup["summary"]["oldest_review_age_seconds"] == pytest.approx(rows["summary"]["oldest_review_age_seconds"],
                                                                           abs=5)
    assert [d["day"] for d in rollup["durations"]] == [d["day"] for d in rows["durations"]]
    for mine, exact in zip(rollup["durations"], rows["durations"], strict=True):
        assert mine["tasks"] == exact["tasks"] and mine["avg_seconds"] == pytest.approx(exact["avg_seconds"])
        assert (mine["p50_seconds"], mine["p95_seconds"]) == pytest.approx((exact["p50_seconds"], exact["p95_seconds"]))
    assert [(s["step"], s["runs"]) for s in rollup["steps"]] == [(s["step"], s["runs"]) for s in rows["steps"]]
    for mine, exact in zip(rollup["steps"], rows["steps"], strict=True):
        assert mine["max_ms"] >= exact["max_ms"] if deleted else mine["max_ms"] == exact["max_ms"]
    assert [s["avg_ms"] for s in rollup["steps"]] == pytest.approx([s["avg_ms"] for s in rows["steps"]])


def _assert_same(after: dict[str, Any], before: dict[str, Any], leave_out: tuple[str, ...] = ()) -> None:
    """The same figures, but for float sums taken in another order (the backfill's, not the triggers')."""
    def plain(figures: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in figures.items() if key not in (*leave_out, "durations", "summary")}
    assert plain(after) == plain(before)
    if "summary" not in leave_out:
        assert after["summary"] == pytest.approx(before["summary"])
    assert [day["day"] for day in after["durations"]] == [day["day"] for day in before["durations"]]
    for mine, exact in zip(after["durations"], before["durations"], strict=True):
        assert {k: v for k, v in mine.items() if k != "day"} == pytest.approx({k: v for k, v in exact.items()
                                                                              if k != "day"})


def test_the_rollups_give_the_figures_of_the_rows_after_inserts_changes_and_deletes(demo, monkeypatch) -> None:
    _seed()
    _ask_for_reviews()
    now = utcnow()
    windows = [TimeRange.last(30, now=now), TimeRange.last(5, now=now),
               TimeRange(since=now - timedelta(days=9, hours=5), until=now - timedelta(days=2, hours=3)),
               TimeRange(since=now - timedelta(hours=30), until=now - timedelta(hours=29))]
    _assert_rollups_hold(windows, _change_some, monkeypatch)


def _assert_rollups_hold(windows: list[TimeRange], change: Any, monkeypatch: Any) -> None:
    """The figures from the rollups equal those from the rows in every window, before and after ``change``."""
    for deleted in (False, True):
        if deleted:
            change()
        for window in windows:
            _assert_equal(_everything(window), _from_rows(window, monkeypatch), deleted=deleted)
        live = _live_from_rows(utcnow())
        summary = metrics.summary(windows[0])
        assert live["awaiting_review"] and (live["overdue_reviews"] or live["overdue_reviews"] is None)
        assert {key: summary[key] for key in live if key != "oldest_review_age_seconds"} == {
            key: value for key, value in live.items() if key != "oldest_review_age_seconds"}
        assert summary["oldest_review_age_seconds"] == pytest.approx(live["oldest_review_age_seconds"], abs=5)
    with session_scope() as session:
        assert session.scalar(select(MetricRollup.count).where(MetricRollup.count < 0)) is None


def test_the_migration_fills_the_rollups_from_the_rows_there_are(demo, monkeypatch) -> None:
    _seed(days=4)
    window = TimeRange.last(10)
    before = _everything(window)
    config = alembic_config()
    db = database()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0014")
        command.upgrade(config, "head")
    with session_scope() as session:
        assert session.scalar(select(MetricRollup.count).limit(1)) is not None
    after = _everything(window)
    # what 0017 adds is backfilled: the scene from the task, edited where a corrected body was kept
    _assert_same(after, before, leave_out=("unedited",))
    _assert_equal(after, _from_rows(window, monkeypatch))
    assert {item["scene_id"] for item in after["unedited"]["by_scene"]} == {"SC001", "SC002"}


def test_0018_backfills_review_asked_at_and_rekeys_the_rollups_both_ways(demo, monkeypatch) -> None:
    """Down to 0017 and up again: the rollups survive the rebuilt key, waiting tasks get their latest request."""
    _seed(days=3)
    window = TimeRange.last(5)
    before = _everything(window)
    with session_scope() as session:
        waiting = list(session.scalars(select(WorkflowTask.id).where(WorkflowTask.status == "reviewing")))
        assert waiting, "the seed has tasks awaiting review"
        asked = utcnow() - timedelta(hours=3)
        for task_id in waiting:
            for hours in (5, 3):  # asked twice (after a rejection): the latest counts
                session.add(TaskEvent(task_id=task_id, type="workflow_need_review", message="",
                                      created_at=utcnow() - timedelta(hours=hours)))
    config = alembic_config()
    with database().engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0017")
        command.upgrade(config, "head")
    with session_scope() as session:
        found = dict(session.execute(select(WorkflowTask.id, WorkflowTask.review_asked_at)
                                     .where(WorkflowTask.status == "reviewing")).all())
        assert set(found) == set(waiting)
        assert all(abs((at - asked).total_seconds()) < 5 for at in found.values())
        assert session.scalar(select(WorkflowTask.id).where(WorkflowTask.status != "reviewing",
                                                            WorkflowTask.review_asked_at.is_not(None))) is None
    after = _everything(window)
    _assert_same(after, before, leave_out=("summary",))
    assert after["summary"]["oldest_review_age_seconds"] == pytest.approx(3 * 3600, abs=60)
    _change_some()  # the triggers still write the rebuilt table
    _assert_equal(_everything(window), _from_rows(window, monkeypatch), deleted=True)


def test_one_statement_of_many_rows_keeps_the_rollups(demo, monkeypatch) -> None:
    """A bulk load and a bulk delete (PostgreSQL: statement-level triggers over transition tables)."""
    _seed(days=3)
    _bulk_rows()
    _ask_for_reviews()
    now = utcnow()
    windows = [TimeRange.last(10, now=now), TimeRange(since=now - timedelta(days=5, hours=7), until=now)]
    _assert_rollups_hold(windows, _bulk_delete, monkeypatch)
