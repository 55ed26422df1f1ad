"""A worker that dies between a step's saved writes and the next checkpoint: the next worker carries on.

The crash is made exact, not raced: the dying worker's checkpoint saver stops the process
(a BaseException, which no handler of the runner catches, as a SIGKILL would) when it is about
to save the checkpoint after the review step. The review step's writes are already saved
then (durability "sync"), so the latest checkpoint's `next` is empty while the thread has not
ended; a worker that took that for "finished" failed approved tasks as "rejected 0 times".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from core import service
from core.config import get_settings
from core.database import database, session_scope
from core.tasks import lifecycle
from core.tasks.runner import TaskRunner
from core.workflow.checkpointer import close_saver, open_saver
from core.workflow.graph import build_graph
from db.models import AutomationCase, WorkflowTask
from db.types import utcnow
from tests.conftest import wait_for
from tests.support.cases import first_case_and_scene


class Killed(BaseException):
    """The process died: nothing after this line of the dying worker runs."""


def dies_before_checkpoint(channel: str) -> Any:
    """A saver of its own on the test's database; it dies instead of saving a checkpoint holding ``channel``."""
    saver = open_saver(database(), pool_size=2)
    save = saver.put

    class Dying(type(saver)):  # type: ignore[misc]
        def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
            if channel in checkpoint["channel_values"]:
                raise Killed
            return save(config, checkpoint, metadata, new_versions)

    saver.__class__ = Dying
    return saver


@pytest.fixture
def runner(db_url: str) -> Iterator[TaskRunner]:
    yield TaskRunner("survivor", get_settings())


def _run_once(runner: TaskRunner, worker_id: str) -> None:
    [claim] = lifecycle.claim(worker_id, 1, 30)
    runner.worker_id = worker_id
    runner.run(claim)


@contextmanager
def dying_runner(channel: str) -> Iterator[TaskRunner]:
    doomed = TaskRunner("doomed", get_settings())
    saver = dies_before_checkpoint(channel)
    doomed.graph = build_graph(saver)
    try:
        yield doomed
    finally:
        close_saver(saver)


def _lose_the_lease(task_id: int) -> None:
    with session_scope() as session:
        session.execute(update(WorkflowTask).where(WorkflowTask.id == task_id)
                        .values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    assert lifecycle.requeue_expired(max_attempts=3) == [task_id]


@pytest.mark.parametrize("decision", ["approved", "rejected"])
def test_a_kill_after_the_review_steps_writes_loses_no_decision(demo, users, runner, decision) -> None:
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    _run_once(runner, "survivor")
    task = wait_for(task_id, "reviewing")
    service.submit_review(task["thread_id"], decision, feedback="more boundary rows", reviewer=users["engineer"])

    with dying_runner("decision") as doomed, pytest.raises(Killed):
        _run_once(doomed, "doomed")
    assert service.get_task(task_id)["status"] == "processing"
    _lose_the_lease(task_id)

    _run_once(runner, "survivor")
    after = service.get_task(task_id)
    if decision == "approved":
        assert after["status"] == "completed", after["error_message"]
        with session_scope() as session:
            assert session.scalar(select(func.count()).select_from(AutomationCase)) == 1
    else:
        assert after["status"] == "reviewing", after["error_message"]
        assert after["interrupt_data"]["round"] == 2, "the rejection regenerated the rows for round 2"
    assert "workflow_failed" not in [event["type"] for event in service.task_timeline(task_id)]


def test_review_rounds_do_not_use_up_the_attempts(demo, users, runner) -> None:
    """Two rejections, then one crash: the task resumes instead of failing as "stopped responding 3 times"."""
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    for _ in range(2):
        _run_once(runner, "survivor")
        task = wait_for(task_id, "reviewing")
        service.submit_review(task["thread_id"], "rejected", feedback="again", reviewer=users["engineer"])
    [claim] = lifecycle.claim("doomed", 1, 30)  # claimed, then the worker dies before any step
    _lose_the_lease(task_id)
    assert service.get_task(task_id)["status"] == "pending", "one crash after two reviews is not three"
    _run_once(runner, "survivor")
    assert service.get_task(task_id)["status"] == "reviewing"
    assert claim.task_id == task_id
