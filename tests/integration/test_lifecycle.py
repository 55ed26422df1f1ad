"""Claims, priorities, leases and fencing, on each backend."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core import service
from core.database import session_scope
from core.errors import Conflict, LeaseLost
from core.tasks import lifecycle
from db.models import Review, WorkflowTask
from db.types import utcnow
from tests.conftest import wait_for
from tests.support.cases import first_case_and_scene


def test_claims_highest_priority_first_then_oldest(demo, users) -> None:
    case_id, scene_id = first_case_and_scene()
    ids = {p: service.start_workflow(case_id, scene_id, priority=p, user=users["engineer"])["task_id"]
           for p in (1, 5, 9)}
    older_low = ids[1]
    newer_low = service.start_workflow(case_id, scene_id, priority=1, user=users["engineer"])["task_id"]
    assert [c.task_id for c in lifecycle.claim("w1", 2, 30)] == [ids[9], ids[5]]
    assert [c.task_id for c in lifecycle.claim("w2", 10, 30)] == [older_low, newer_low]
    assert lifecycle.claim("w3", 10, 30) == []


def test_concurrent_claims_never_share_a_task(demo, users) -> None:
    case_id, scene_id = first_case_and_scene()
    created = {service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"] for _ in range(12)}
    claimed: dict[str, list[int]] = {}
    barrier = threading.Barrier(4)

    def claim(worker: str) -> None:
        barrier.wait()
        claimed[worker] = [c.task_id for _ in range(6) for c in lifecycle.claim(worker, 1, 30)]

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [t for ids in claimed.values() for t in ids]
    assert sorted(everything) == sorted(created), "every task claimed exactly once"


def test_writes_are_fenced_on_the_lease(demo, users) -> None:
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    [old] = lifecycle.claim("old-worker", 1, 30)
    with session_scope() as session:
        session.execute(update(WorkflowTask).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    assert lifecycle.requeue_expired(max_attempts=3) == [task_id]
    [new] = lifecycle.claim("new-worker", 1, 30)
    assert new.task_id == task_id and new.token == old.token + 1
    with pytest.raises(LeaseLost):
        lifecycle.transition(old, "old-worker", "step_completed", "late", progress=42)
    with pytest.raises(LeaseLost):
        lifecycle.transition(old, "new-worker", "step_completed", "late", progress=42)
    lifecycle.transition(new, "new-worker", "step_completed", "on time", progress=15)
    task = service.get_task(task_id)
    assert task["progress"] == 15 and task["lease_owner"] == "new-worker" and task["attempts"] == 2
    timeline = service.task_timeline(task_id)
    assert "task_requeued" in [e["type"] for e in timeline]
    assert "late" not in [e["message"] for e in timeline] and "on time" in [e["message"] for e in timeline]


def test_a_task_that_keeps_losing_its_worker_fails(demo, users) -> None:
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    for attempt in range(3):
        assert [c.task_id for c in lifecycle.claim(f"w{attempt}", 1, 30)] == [task_id]
        with session_scope() as session:
            session.execute(update(WorkflowTask).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
        lifecycle.requeue_expired(max_attempts=3)
    task = service.get_task(task_id)
    assert task["status"] == "failed" and "stopped responding 3 times" in task["error_message"]


def test_heartbeat_extends_only_own_leases(demo, users) -> None:
    case_id, scene_id = first_case_and_scene()
    mine = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    theirs = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    lifecycle.claim("me", 1, 5)
    lifecycle.claim("them", 1, 5)
    assert lifecycle.heartbeat("me", 600) == 1
    leases = {t: service.get_task(t)["lease_expires_at"] for t in (mine, theirs)}
    assert leases[mine] > leases[theirs]


def test_two_reviews_at_once_apply_exactly_one(demo, worker, users) -> None:
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    thread_id = wait_for(task_id, "reviewing")["thread_id"]
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def review(reviewer: str, decision: str) -> None:
        barrier.wait()
        try:
            outcomes[reviewer] = service.submit_review(
                thread_id, decision, feedback="concurrent", reviewer=reviewer, expected_round=1)
        except Conflict as conflict:
            outcomes[reviewer] = conflict

    threads = [threading.Thread(target=review, args=(users["engineer"], "approved")),
               threading.Thread(target=review, args=(users["engineer2"], "rejected"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    conflicts = [o for o in outcomes.values() if isinstance(o, Conflict)]
    assert len(conflicts) == 1, outcomes
    winner = next(name for name, o in outcomes.items() if not isinstance(o, Conflict))
    assert f"{winner} already" in conflicts[0].message
    with session_scope() as session:
        assert len(session.scalars(select(Review)).all()) == 1
