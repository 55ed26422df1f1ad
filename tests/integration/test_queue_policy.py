"""The queue policy on each backend: priority with aging, caps per user and per module, pausing the queue."""

from __future__ import annotations

import time

import pytest

from core import service
from core.config import get_settings
from core.errors import Forbidden
from core.tasks import lifecycle
from tests.support.cases import first_case_and_scene
from tests.support.cli import ok


def _settings(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()


def _start(user: str, priority: int = 5, module: str | None = None) -> int:
    case_id, scene_id = first_case_and_scene()
    return service.start_workflow(case_id, scene_id, priority=priority, module_id=module, user=user)["task_id"]


def _claimed(limit: int = 10) -> list[int]:
    return [c.task_id for c in lifecycle.claim("w", limit, 30)]


def test_a_low_priority_task_that_waited_long_enough_runs_before_newer_urgent_ones(demo, users, monkeypatch) -> None:
    _settings(monkeypatch, PRIORITY_AGING_SECONDS="0.5")
    patient = _start(users["engineer"], priority=0)
    time.sleep(1.2)  # more than two aging steps: priority 0 now counts as above 2
    newer = _start(users["engineer"], priority=2)
    urgent = _start(users["engineer"], priority=9)
    assert service.queue_position(patient)["ahead"] == 1
    assert _claimed() == [urgent, patient, newer]


def test_without_waiting_priority_decides(demo, users) -> None:
    low = _start(users["engineer"], priority=0)
    high = _start(users["engineer"], priority=2)
    assert _claimed() == [high, low]


def test_running_tasks_per_user_are_capped(demo, users, monkeypatch) -> None:
    _settings(monkeypatch, MAX_RUNNING_PER_USER="1")
    alice_first, alice_second = _start(users["engineer"], 9), _start(users["engineer"], 9)
    bob = _start(users["engineer2"], 1)
    claims = lifecycle.claim("w", 10, 30)
    assert [c.task_id for c in claims] == [alice_first, bob], "alice's second task waits though it ranks above bob's"
    assert _claimed() == [] and lifecycle.claim_task(alice_second, "w", 30) is None
    lifecycle.fail(claims[0], "w", "done with it", step=None)
    assert _claimed() == [alice_second]


def test_running_tasks_per_module_are_capped(demo, users, monkeypatch) -> None:
    _settings(monkeypatch, MAX_RUNNING_PER_MODULE="1")
    shop = [_start(users["engineer"], 5, "shop") for _ in range(2)]
    rail = _start(users["engineer2"], 5, "rail")
    loose = [_start(users["engineer"], 5, "") for _ in range(2)]
    assert _claimed() == [shop[0], rail, *loose], "tasks without a module are not capped"
    assert service.queue_status(user=users["admin"])["running"] == 4


def test_claim_task_takes_only_that_pending_runnable_task_once(demo, users) -> None:
    first, second = _start(users["engineer"]), _start(users["engineer"])
    claim = lifecycle.claim_task(second, "celery-w", 30)
    assert claim is not None and claim.task_id == second
    assert lifecycle.claim_task(second, "celery-w", 30) is None, "a second message does nothing"
    task = service.get_task(second)
    assert task["status"] == "processing" and task["lease_owner"] == "celery-w"
    assert [e["type"] for e in service.task_timeline(second)] == ["task_created", "workflow_started"]
    assert service.get_task(first)["status"] == "pending"


def test_a_paused_queue_claims_nothing_until_resumed(demo, users) -> None:
    task_id = _start(users["engineer"])
    for who in ("engineer", "viewer"):
        with pytest.raises(Forbidden):
            service.pause_queue(user=users[who])
    paused = service.pause_queue(user=users["admin"])
    assert paused["paused"] is True and paused["changed_by"] == users["admin"] and paused["runnable"] == 1
    assert _claimed() == [] and lifecycle.claim_task(task_id, "w", 30) is None
    assert service.resume_queue(user=users["admin"])["paused"] is False
    assert _claimed() == [task_id]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_queue_from_the_command_line(db_url: str) -> None:
    assert ok("queue", "status", db_url=db_url)["paused"] is False
    paused = ok("queue", "pause", db_url=db_url)
    assert paused["paused"] is True and paused["changed_by"] == "operator"
    assert ok("queue", "status", db_url=db_url)["paused"] is True
    assert ok("queue", "resume", db_url=db_url)["paused"] is False
