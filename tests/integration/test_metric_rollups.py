"""The metrics page reads rollups kept by triggers: its figures equal the old aggregates over the rows."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import delete, select, update

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
                session.add(Review(task_id=task.id, round=1, reviewer_id=user, created_at=created + timedelta(hours=1),
                                   review_status=rng.choice(("approved", "approved", "rejected")),
                                   scene_id=task.input_params["scene_id"], edited=rng.random() < 0.4,
                                   provider=rng.choice(("offline", "openai", None))))


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
        patch.setattr(metrics, "_split", lambda window: (None, None, [window]))
        return _everything(window)


def _assert_equal(rollup: dict[str, Any], rows: dict[str, Any], *, deleted: bool = False) -> None:
    """Equal figures; after deletes a step's slowest run may be one that is gone (a peak is never lowered)."""
    assert rollup["per_day"] == rows["per_day"] and rollup["approvals"] == rows["approvals"]
    assert rollup["unedited"] == rows["unedited"]
    summary = {key: value for key, value in rollup["summary"].items() if key != "avg_duration_seconds"}
    assert summary == {key: value for key, value in rows["summary"].items() if key != "avg_duration_seconds"}
    assert rollup["summary"]["avg_duration_seconds"] == pytest.approx(rows["summary"]["avg_duration_seconds"])
    assert [d["day"] for d in rollup["durations"]] == [d["day"] for d in rows["durations"]]
    for mine, exact in zip(rollup["durations"], rows["durations"], strict=True):
        assert mine["tasks"] == exact["tasks"] and mine["avg_seconds"] == pytest.approx(exact["avg_seconds"])
        assert (mine["p50_seconds"], mine["p95_seconds"]) == pytest.approx((exact["p50_seconds"], exact["p95_seconds"]))
    assert [(s["step"], s["runs"]) for s in rollup["steps"]] == [(s["step"], s["runs"]) for s in rows["steps"]]
    for mine, exact in zip(rollup["steps"], rows["steps"], strict=True):
        assert mine["max_ms"] >= exact["max_ms"] if deleted else mine["max_ms"] == exact["max_ms"]
    assert [s["avg_ms"] for s in rollup["steps"]] == pytest.approx([s["avg_ms"] for s in rows["steps"]])


def test_the_rollups_give_the_figures_of_the_rows_after_inserts_changes_and_deletes(demo, monkeypatch) -> None:
    _seed()
    now = utcnow()
    windows = [TimeRange.last(30, now=now), TimeRange.last(5, now=now),
               TimeRange(since=now - timedelta(days=9, hours=5), until=now - timedelta(days=2, hours=3)),
               TimeRange(since=now - timedelta(hours=30), until=now - timedelta(hours=29))]
    for window in windows:
        _assert_equal(_everything(window), _from_rows(window, monkeypatch))
    _change_some()
    for window in windows:
        _assert_equal(_everything(window), _from_rows(window, monkeypatch), deleted=True)
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
    assert {key: value for key, value in after.items() if key != "unedited"} == {
        key: value for key, value in before.items() if key != "unedited"}
    _assert_equal(after, _from_rows(window, monkeypatch))
    assert {item["scene_id"] for item in after["unedited"]["by_scene"]} == {"SC001", "SC002"}
