"""The service functions the dashboard adds, and core.metrics' SQL aggregates, on each backend."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from core import service
from core.database import session_scope
from core.errors import Conflict, Forbidden, InvalidInput
from core.tasks import metrics
from core.tasks import progress as task_status
from db.models import Review, TaskEvent, User, WorkflowTask
from db.models import Worker as WorkerRow
from db.types import utcnow
from tests.conftest import wait_for
from tests.support.cases import first_case


def _start(users: dict[str, str], count: int = 1, **kwargs: Any) -> list[int]:
    case = first_case()
    return [service.start_workflow(case["id"], case["scene_id"], user=users["engineer"], **kwargs)["task_id"]
            for _ in range(count)]


def _set(task_id: int, **values: Any) -> None:
    with session_scope() as session:
        session.execute(update(WorkflowTask).where(WorkflowTask.id == task_id).values(**values))


def test_list_tasks_filters_by_creation_time(demo, users) -> None:
    old, new = _start(users, 2)
    now = utcnow()
    _set(old, created_at=now - timedelta(days=3))
    assert [t["id"] for t in service.list_tasks(created_from=now - timedelta(days=1))["items"]] == [new]
    assert [t["id"] for t in service.list_tasks(created_to=now - timedelta(days=1))["items"]] == [old]
    both = service.list_tasks(created_from=now - timedelta(days=4), created_to=now + timedelta(minutes=1))
    assert both["total"] == 2
    with pytest.raises(InvalidInput, match="timezone-aware"):
        service.list_tasks(created_from=now.replace(tzinfo=None))


def test_bulk_cancel_and_retry_report_each_task(demo, users) -> None:
    first, second = _start(users, 2)
    outcomes = service.cancel_tasks([first, second, first, 999999], user=users["engineer"])
    assert [(o["task_id"], o["ok"], o["status"]) for o in outcomes] == [
        (first, True, "cancelled"), (second, True, "cancelled"), (999999, False, None)]
    assert outcomes[2]["message"] == "No task with id 999999."
    again = service.cancel_tasks([first], user=users["engineer"])
    assert not again[0]["ok"] and "already cancelled" in again[0]["message"]
    assert [o["status"] for o in service.retry_tasks([first, second], user=users["engineer"])] == ["pending"] * 2
    with pytest.raises(Forbidden):
        service.retry_tasks([first], user=users["viewer"])
    with pytest.raises(InvalidInput):
        service.cancel_tasks([], user=users["engineer"])


def test_queue_position_follows_the_claim_order(demo, users) -> None:
    low, high, later_high = _start(users, 1, priority=2) + _start(users, 2, priority=8)
    assert service.queue_position(high)["ahead"] == 0
    assert service.queue_position(later_high)["ahead"] == 1
    assert service.queue_position(low) == {"task_id": low, "status": "pending", "ahead": 2, "runnable": 3}
    _set(high, run_after=utcnow() + timedelta(minutes=5))  # waiting out a retry backoff: not claimable
    assert service.queue_position(low)["ahead"] == 1
    service.cancel_task(later_high, user=users["engineer"])
    assert service.queue_position(later_high)["ahead"] is None


def test_explain_says_why_a_task_is_where_it_is(demo, users) -> None:
    first, second = _start(users, 2)
    pending = service.explain_task(second)
    assert pending["tone"] == "warning" and "queued behind 1 task" in pending["headline"]
    assert any("No worker is alive" in line for line in pending["details"])

    with session_scope() as session:
        session.add(WorkerRow(id="w-1", hostname="h", pid=1, concurrency=3, started_at=utcnow(),
                              last_heartbeat_at=utcnow()))
    assert service.explain_task(second)["tone"] == "info"
    assert "1 worker(s) alive with 3 slot(s)" in service.explain_task(second)["details"][-1]

    expired = utcnow() - timedelta(seconds=5)
    _set(first, status="processing", lease_owner="w-1", lease_expires_at=expired, current_step="plan_rows",
         attempts=1)
    running = service.explain_task(first)
    assert running["headline"].startswith("Running on worker w-1") and "step 3 of 10" in running["headline"]
    assert running["tone"] == "warning" and "lease expired" in running["details"][0]

    from core.tasks.lifecycle import requeue_expired

    requeue_expired(3)
    requeued = service.explain_task(first)
    assert "The lease of worker w-1 expired at" in requeued["headline"] and "requeued" in requeued["headline"]

    service.cancel_task(second, user=users["engineer"])
    assert service.explain_task(second)["headline"].startswith("Cancelled by alice at")
    _set(second, status="failed", current_step="validate_bodies", error_message="Step 5 failed: boom")
    failed = service.explain_task(second)
    assert failed["tone"] == "error" and "step 5 (Validate against the schema)" in failed["headline"]
    assert failed["details"][0] == "Step 5 failed: boom"


def test_the_step_timeline_of_a_task_in_review(demo, users, worker) -> None:
    task_id = _start(users)[0]
    wait_for(task_id, "reviewing")
    steps = {s["node"]: s for s in service.task_steps(task_id)}
    assert [s["state"] for s in service.task_steps(task_id)] == [
        "done", "done", "done", "done", "done", "skipped", "done", "done", "waiting", "not_started"]
    assert steps["plan_rows"]["runs"] == 1 and steps["plan_rows"]["last_ms"] is not None
    assert service.explain_task(task_id)["headline"].startswith("Waiting for a reviewer since")


def test_notifications_are_the_users_own_notifying_events_in_order(demo, users, worker) -> None:
    start = service.latest_event_id()
    mine = _start(users)[0]
    case = first_case()
    theirs = service.start_workflow(case["id"], case["scene_id"], user=users["engineer2"])["task_id"]
    wait_for(mine, "reviewing")
    wait_for(theirs, "reviewing")
    events = service.events_since(users["engineer"], start)
    assert [(e["task_id"], e["type"]) for e in events] == [(mine, "workflow_started"), (mine, "workflow_need_review")]
    assert events[1]["message_json"] == {
        "type": "workflow_need_review",
        "data": {"thread_id": events[1]["thread_id"], "message": "AI已生成测试数据，请进行人工审核",
                 "status": "reviewing", "rows": len(service.get_task(mine)["interrupt_data"]["generated_body"])},
    }
    assert service.events_since(users["engineer"], events[-1]["id"]) == []
    service.submit_review(service.get_task(mine)["thread_id"], "approved", reviewer=users["engineer"],
                          wait_seconds=20)
    assert [e["type"] for e in service.events_since(users["engineer"], events[-1]["id"])] == ["workflow_completed"]


def test_the_review_queue_is_oldest_first_and_reviews_are_listed(demo, users, worker) -> None:
    first = _start(users)[0]
    wait_for(first, "reviewing")
    second = _start(users)[0]
    wait_for(second, "reviewing")
    queue = service.review_queue()
    assert [item["id"] for item in queue["items"]] == [first, second] and queue["total"] == 2
    assert queue["items"][0]["round"] == 1 and queue["items"][0]["rows"] > 10
    thread = service.get_task(first)["thread_id"]
    service.submit_review(thread, "rejected", feedback="more boundary rows", reviewer=users["engineer2"])
    [decision] = service.reviews_of_task(first)
    assert decision["reviewer"] == users["engineer2"] and decision["review_status"] == "rejected"
    assert decision["feedback"] == "more boundary rows" and decision["round"] == 1 and not decision["corrected"]


def test_check_review_rows_validates_against_the_scene_schema(demo, users, worker) -> None:
    task = wait_for(_start(users)[0], "reviewing")
    rows = task["interrupt_data"]["generated_body"]
    assert service.check_review_rows(task["scene_id"], rows)["all_match"]
    broken = [{**rows[0], "body": {**rows[0]["body"], "age": 7}}] + rows[1:]
    result = service.check_review_rows(task["scene_id"], broken)
    assert result["mismatched"] == [rows[0]["name"]]
    assert result["rows"][0]["errors"][0]["keyword"] == "minimum"


def test_scenes_and_test_cases_for_the_launch_page(demo) -> None:
    modules = service.list_modules()
    assert modules == sorted(modules) and modules
    for module in modules:
        assert {s["module"] for s in service.list_scenes(module)} == {module}
    scene = service.get_scene("SC001")
    assert scene["method"] == "POST" and "username" in scene["request_schema"]["properties"]
    linked = service.list_test_cases(scene_id="SC001")["items"]
    assert linked and all(c["scene_id"] == "SC001" for c in linked)
    found = service.list_test_cases(search="手机号")["items"]
    assert found and all("手机号" in c["title"] + c["steps"] + c["expected_result"] for c in found)
    assert service.get_test_case(found[0]["id"])["title"] == found[0]["title"]


def test_user_management_is_for_admins_and_keeps_an_admin(users) -> None:
    admin = users["admin"]
    created = service.add_user("carol", "viewer", "amber-lantern-quay", user=admin)
    assert created == {"id": created["id"], "username": "carol", "role": "viewer", "is_active": True}
    assert service.update_user("carol", role="engineer", user=admin)["role"] == "engineer"
    service.update_user("carol", password="new-password-1", user=admin)
    from core.accounts.users import authenticate

    assert authenticate("carol", "new-password-1") is not None
    service.update_user("carol", active=False, user=admin)
    assert authenticate("carol", "new-password-1") is None
    assert "carol" not in service.usernames()
    with pytest.raises(Conflict, match="last active admin"):
        service.update_user(admin, role="viewer", user=admin)
    with pytest.raises(InvalidInput, match="at least 10"):
        service.update_user(users["engineer"], password="short", user=admin)
    with pytest.raises(Forbidden):
        service.list_users(user=users["engineer"])

    service.change_password(users["engineer"], "correct-horse-battery", "another-horse-battery")
    assert authenticate(users["engineer"], "another-horse-battery") is not None
    with pytest.raises(Forbidden, match="current password is wrong"):
        service.change_password(users["engineer"], "nope", "whatever-long")


def test_the_settings_overview_masks_the_key(users, monkeypatch) -> None:
    from core.config import get_settings

    overview = service.system_overview(user=users["admin"])
    assert overview["ai"]["provider"] == "offline" and overview["ai"]["api_key"] is None
    assert overview["retention"]["days"] == get_settings().retention_days
    assert overview["queue"]["paused"] is False and overview["workers"]["executor"] == "apscheduler"
    assert service.mask_secret("sk-proj-abcdefghijkl1234") == "sk-…1234"
    assert service.mask_secret("short") == "•••••"
    report = service.run_cleanup(user=users["admin"], dry_run=True)
    assert report["dry_run"] and report["tasks"] == 0


# --- metrics --------------------------------------------------------------------------------


def test_metrics_are_computed_in_sql(demo, users) -> None:
    """Six completed tasks of 10..60 s and two failed ones on one day, one completed the day before."""
    now = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    ids = _start(users, 10)
    day = now - timedelta(hours=1)
    for seconds, task_id in zip((10, 20, 30, 40, 50, 60), ids[:6], strict=True):
        _set(task_id, status="completed", created_at=day, started_at=day, completed_at=day + timedelta(seconds=seconds))
    for task_id in ids[6:8]:
        _set(task_id, status="failed", created_at=day, started_at=day, completed_at=day)
    _set(ids[8], status="completed", created_at=day - timedelta(days=1), started_at=day - timedelta(days=1),
         completed_at=day - timedelta(days=1) + timedelta(seconds=100))
    _set(ids[9], status="reviewing", updated_at=now - timedelta(minutes=30),
         review_asked_at=now - timedelta(minutes=30))
    with session_scope() as session:
        reviewer = session.scalar(select(User.id))
        for task_id, status in ((ids[0], "approved"), (ids[1], "approved"), (ids[2], "rejected")):
            session.add(Review(task_id=task_id, round=1, reviewer_id=reviewer, review_status=status,
                               created_at=day))
        session.add(TaskEvent(task_id=ids[0], type="step_completed", step="plan_rows", duration_ms=100,
                              message="", created_at=day))
        session.add(TaskEvent(task_id=ids[1], type="step_completed", step="plan_rows", duration_ms=300,
                              message="", created_at=day))
        for minutes in (50, 30):  # asked for a review twice (after a rejection): the latest is review_asked_at
            session.add(TaskEvent(task_id=ids[9], type="workflow_need_review", message="",
                                  created_at=now - timedelta(minutes=minutes)))

    window = metrics.TimeRange(since=now - timedelta(days=3), until=now + timedelta(hours=1))
    tiles = metrics.summary(window, now=now)
    assert tiles["completed"] == 7 and tiles["failed"] == 2
    assert tiles["success_rate"] == pytest.approx(7 / 9)
    assert tiles["avg_duration_seconds"] == pytest.approx((10 + 20 + 30 + 40 + 50 + 60 + 100) / 7, abs=0.01)
    assert tiles["approval_rate"] == pytest.approx(2 / 3) and tiles["reviews"] == 3
    assert tiles["backlog"] == 0 and tiles["awaiting_review"] == 1
    assert tiles["oldest_review_age_seconds"] == pytest.approx(1800, abs=1)

    today, yesterday = day.strftime("%Y-%m-%d"), (day - timedelta(days=1)).strftime("%Y-%m-%d")
    per_day = {(r["day"], r["status"]): r["tasks"] for r in metrics.tasks_per_day(window)}
    assert per_day[(today, "completed")] == 6 and per_day[(today, "failed")] == 2
    assert per_day[(yesterday, "completed")] == 1

    durations = {r["day"]: r for r in metrics.duration_per_day(window)}
    assert durations[today]["tasks"] == 6
    assert durations[today]["p50_seconds"] == pytest.approx(30, abs=0.01)  # nearest rank: 3rd of 6
    assert durations[today]["p95_seconds"] == pytest.approx(60, abs=0.01)  # 6th of 6
    assert durations[yesterday]["p50_seconds"] == pytest.approx(100, abs=0.01)

    assert metrics.average_of(metrics.duration_per_day(window)) == pytest.approx(tiles["avg_duration_seconds"])
    assert metrics.summary(window, now=now, durations=False)["avg_duration_seconds"] is None

    [approvals] = metrics.approval_per_day(window)
    assert approvals == {
        "day": today, "reviews": 3, "approved": 2, "rejected": 1, "approval_rate": pytest.approx(2 / 3),
    }
    steps = {s["step"]: s for s in metrics.step_durations(window)}
    assert steps["plan_rows"]["avg_ms"] == pytest.approx(200) and steps["plan_rows"]["number"] == 3

    empty = metrics.TimeRange(since=now - timedelta(days=30), until=now - timedelta(days=20))
    assert metrics.summary(empty, now=now)["success_rate"] is None
    assert metrics.tasks_per_day(empty) == metrics.duration_per_day(empty) == []
    with pytest.raises(InvalidInput):
        metrics.summary(metrics.TimeRange(since=now, until=now - timedelta(days=1)))


def test_worker_health_tells_alive_lost_and_stopped(db_url) -> None:
    from core.tasks import health as workers

    now = utcnow()
    with session_scope() as session:
        session.add_all([
            WorkerRow(id="alive", hostname="h", pid=1, concurrency=4, started_at=now, last_heartbeat_at=now),
            WorkerRow(id="lost", hostname="h", pid=2, concurrency=2, started_at=now - timedelta(hours=1),
                      last_heartbeat_at=now - timedelta(minutes=10)),
            WorkerRow(id="stopped", hostname="h", pid=3, concurrency=2, started_at=now - timedelta(hours=2),
                      last_heartbeat_at=now - timedelta(hours=1), stopped_at=now - timedelta(hours=1)),
            WorkerRow(id="ancient", hostname="h", pid=4, concurrency=2, started_at=now - timedelta(days=9),
                      last_heartbeat_at=now - timedelta(days=9)),
        ])
    health = workers.health(now=now)
    assert [(w["id"], w["state"]) for w in health["workers"]] == [("alive", "alive"), ("lost", "lost"),
                                                                   ("stopped", "stopped")]
    assert health["alive"] == 1 and health["slots"] == 4 and health["running"] == 0
    assert "streamlit" not in task_status.__dict__  # core never imports Streamlit


def test_the_settings_overview_never_shows_the_database_password(pg_cluster, monkeypatch) -> None:
    """The throwaway cluster trusts every connection, so a URL with a password still connects."""
    from tests.conftest import configure

    url = pg_cluster.create_database("masked").replace("postgres@", "postgres:s3cret-pw@")
    configure(monkeypatch, url)
    service.upgrade_database()
    service.create_user("root", "admin", "correct-horse-battery")
    shown = json.dumps(service.system_overview(user="root"))
    assert "s3cret-pw" not in shown and "postgres:***@" in shown
