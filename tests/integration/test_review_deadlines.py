"""Reviews that do not wait for ever: reminders every REVIEW_REMIND_HOURS, cancellation after REVIEW_EXPIRE_DAYS.

Real workers run the workflow to its review on SQLite and PostgreSQL; time moves by
passing ``now`` to the check or by moving the review's events into the past, never by waiting.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import generate_latest
from sqlalchemy import select

from core import service
from core.config import get_settings
from core.database import session_scope
from core.tasks import events, lifecycle, metrics, review_deadlines, telemetry
from core.tasks.webhooks import delivery
from db.models import TaskEvent, WorkflowTask
from db.types import utcnow
from tests.support.cases import first_case_and_scene
from tests.support.http_server import serving

HOUR = timedelta(hours=1)


def reviewing_task(users: dict[str, str], wait: Any) -> dict[str, Any]:
    case_id, scene_id = first_case_and_scene()
    task = service.start_workflow(case_id, scene_id, user=users["engineer"])
    return wait(task["task_id"], "reviewing")


def age_review(task_id: int, by: timedelta) -> None:
    """Moves the task's review request and reminders ``by`` into the past, as if that long had gone by."""
    with session_scope() as session:
        for event in session.scalars(select(TaskEvent).where(
                TaskEvent.task_id == task_id,
                TaskEvent.type.in_([events.WORKFLOW_NEED_REVIEW, events.REVIEW_REMINDER]))):
            event.created_at -= by
        task = session.get(WorkflowTask, task_id)
        assert task is not None and task.review_asked_at is not None
        task.review_asked_at -= by


def reminders(task_id: int) -> list[dict[str, Any]]:
    return [e for e in service.task_timeline(task_id) if e["type"] == events.REVIEW_REMINDER]


def test_a_waiting_review_is_reminded_once_per_interval_then_cancelled(demo, worker, users, wait) -> None:
    task = reviewing_task(users, wait)
    task_id, settings = task["id"], get_settings()
    assert worker.scheduler.get_job("reviews") is not None, "every worker looks for due reviews"
    assert worker.reviews() == {"reminded": [], "expired": []}, "a fresh review is not due"

    age_review(task_id, 25 * HOUR)
    assert worker.reviews()["reminded"] == [task_id]
    assert worker.reviews()["reminded"] == [], "once per interval, however often the check runs"
    assert review_deadlines.check(settings, now=utcnow() + 22 * HOUR)["reminded"] == []
    [first] = reminders(task_id)
    assert first["message"] == "Waiting for review for 25 hours"
    explained = service.explain_task(task_id)
    assert any("Reminder sent at" in line for line in explained["details"])
    assert any("Cancelled automatically at" in line for line in explained["details"])

    assert review_deadlines.check(settings, now=utcnow() + 25 * HOUR)["reminded"] == [task_id]
    assert len(reminders(task_id)) == 2

    summary = metrics.summary(metrics.TimeRange.last(1))
    assert summary["overdue_reviews"] == 1 and summary["oldest_review_age_seconds"] >= 25 * 3600
    assert b"caseflow_reviews_overdue 1.0" in generate_latest(telemetry.registry())

    age_review(task_id, timedelta(days=14))
    assert worker.reviews() == {"reminded": [], "expired": [task_id]}
    done = service.get_task(task_id)
    assert done["status"] == "cancelled"
    explained = service.explain_task(task_id)
    assert explained["headline"].startswith("Cancelled: waited for review longer than 14 days")
    assert worker.reviews() == {"reminded": [], "expired": []}
    assert metrics.summary(metrics.TimeRange.last(1))["overdue_reviews"] == 0


@pytest.fixture
def private_webhooks(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Webhooks may go to 127.0.0.1, where the receiver listens; set before the worker starts, whose
    own delivery loop would otherwise refuse the delivery first."""
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()


def test_the_owner_and_earlier_reviewers_are_told_and_webhooks_receive_it(demo, private_webhooks, worker, users,
                                                                          wait) -> None:
    alice, bob = users["engineer"], users["engineer2"]
    task = reviewing_task(users, wait)
    service.submit_review(task["thread_id"], "rejected", feedback="Add a row with an empty name.", reviewer=bob)
    task = wait(task["id"], "reviewing")
    assert task["interrupt_data"]["round"] == 2
    received: list[dict[str, Any]] = []

    def answer(method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        received.append(json.loads(raw))
        return 200, {}

    with serving(answer, "webhook-receiver") as url:
        service.add_webhook(url + "/hook", events=["review_reminder"], user=alice)
        since = {name: service.latest_event_id() for name in (alice, bob, users["admin"])}
        age_review(task["id"], 30 * HOUR)
        assert worker.reviews()["reminded"] == [task["id"]]
        # the worker's own delivery loop may hold the delivery (and retry it): wait here, the receiver still up
        deadline = time.monotonic() + 30
        while not received and time.monotonic() < deadline:
            delivery.run_once(get_settings())
            time.sleep(0.1)
    for name in (alice, bob):
        told = [e for e in service.events_since(name, since[name]) if e["type"] == events.REVIEW_REMINDER]
        assert [e["task_id"] for e in told] == [task["id"]], name
        assert told[0]["title"] == "still waits for review"
    assert not service.events_since(users["admin"], since[users["admin"]]), "others are not told"
    assert [item["event"] for item in received] == ["review_reminder"]
    assert received[0]["task"]["id"] == task["id"] and received[0]["task"]["status"] == "reviewing"
    assert received[0]["message"] == "Waiting for review for 30 hours"


def test_a_decision_or_a_new_round_wins_over_a_late_expiry(demo, worker, users, wait) -> None:
    task = reviewing_task(users, wait)
    asked_before = utcnow() - HOUR  # what a check read before the task asked again
    with session_scope() as session:
        assert lifecycle.expire_review(session, task["id"], asked_before, "late") is False
    assert service.get_task(task["id"])["status"] == "reviewing"
    service.submit_review(task["thread_id"], "approved", reviewer=users["engineer2"])
    wait(task["id"], "completed")
    with session_scope() as session:
        assert lifecycle.expire_review(session, task["id"], utcnow(), "late") is False
    assert review_deadlines.check(get_settings(), now=utcnow() + timedelta(days=30)) == {"reminded": [],
                                                                                         "expired": []}


def test_zero_turns_reminders_and_expiry_off(demo, worker, users, wait, monkeypatch) -> None:
    task = reviewing_task(users, wait)
    monkeypatch.setenv("REVIEW_REMIND_HOURS", "0")
    monkeypatch.setenv("REVIEW_EXPIRE_DAYS", "0")
    get_settings.cache_clear()
    assert review_deadlines.check(now=utcnow() + timedelta(days=400)) == {"reminded": [], "expired": []}
    assert metrics.summary(metrics.TimeRange.last(1))["overdue_reviews"] is None
    assert service.get_task(task["id"])["status"] == "reviewing"
