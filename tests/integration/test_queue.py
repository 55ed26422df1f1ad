"""Claims, priorities, leases and fencing, on each backend."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core import queue, service
from core.database import session_scope
from core.errors import Conflict, LeaseLost
from db.models import Review, WorkflowTask
from db.types import utcnow
from tests.conftest import wait_for
from tests.integration.test_workflow import _first_case


def test_claims_highest_priority_first_then_oldest(demo, users) -> None:
    case_id, scene_id = _first_case(demo)
    ids = {p: service.start_workflow(case_id, scene_id, priority=p, user=users["engineer"])["task_id"]
           for p in (1, 5, 9)}
    older_low = ids[1]
    newer_low = service.start_workflow(case_id, scene_id, priority=1, user=users["engineer"])["task_id"]
    assert [c.task_id for c in queue.claim("w1", 2, 30)] == [ids[9], ids[5]]
    assert [c.task_id for c in queue.claim("w2", 10, 30)] == [older_low, newer_low]
    assert queue.claim("w3", 10, 30) == []


def test_concurrent_claims_never_share_a_task(demo, users) -> None:
    case_id, scene_id = _first_case(demo)
    created = {service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"] for _ in range(12)}
    claimed: dict[str, list[int]] = {}
    barrier = threading.Barrier(4)

    def claim(worker: str) -> None:
        barrier.wait()
        claimed[worker] = [c.task_id for _ in range(6) for c in queue.claim(worker, 1, 30)]

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [t for ids in claimed.values() for t in ids]
    assert sorted(everything) == sorted(created), "every task claimed exactly once"


def test_writes_are_fenced_on_the_lease(demo, users) -> None:
    case_id, scene_id = _first_case(demo)
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    [old] = queue.claim("old-worker", 1, 30)
    with session_scope() as session:
        session.execute(update(WorkflowTask).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    assert queue.requeue_expired(max_attempts=3) == [task_id]
    [new] = queue.claim("new-worker", 1, 30)
    assert new.task_id == task_id and new.token == old.token + 1
    with pytest.raises(LeaseLost), session_scope() as session:
        queue.fenced_update(session, old, "old-worker", progress=42)
    with pytest.raises(LeaseLost), session_scope() as session:
        queue.fenced_update(session, old, "new-worker", progress=42)
    with session_scope() as session:
        queue.fenced_update(session, new, "new-worker", progress=15)
    task = service.get_task(task_id)
    assert task["progress"] == 15 and task["lease_owner"] == "new-worker" and task["attempts"] == 2
    assert "task_requeued" in [e["type"] for e in service.task_timeline(task_id)]


def test_a_task_that_keeps_losing_its_worker_fails(demo, users) -> None:
    case_id, scene_id = _first_case(demo)
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    for attempt in range(3):
        assert [c.task_id for c in queue.claim(f"w{attempt}", 1, 30)] == [task_id]
        with session_scope() as session:
            session.execute(update(WorkflowTask).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
        queue.requeue_expired(max_attempts=3)
    task = service.get_task(task_id)
    assert task["status"] == "failed" and "stopped responding 3 times" in task["error_message"]


def test_heartbeat_extends_only_own_leases(demo, users) -> None:
    case_id, scene_id = _first_case(demo)
    mine = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    theirs = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    queue.claim("me", 1, 5)
    queue.claim("them", 1, 5)
    assert queue.heartbeat("me", 600) == 1
    leases = {t: service.get_task(t)["lease_expires_at"] for t in (mine, theirs)}
    assert leases[mine] > leases[theirs]


def test_two_reviews_at_once_apply_exactly_one(demo, worker, users) -> None:
    case_id, scene_id = _first_case(demo)
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
