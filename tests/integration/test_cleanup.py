"""Retention: only terminal tasks older than the retention go, with their events and checkpoints."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from core import service
from core.database import database, session_scope
from core.tasks.cleanup import cleanup
from core.workflow.checkpointer import get_saver
from core.workflow.graph import thread_config
from db.models import AutomationCase, TaskEvent, WorkflowTask
from db.types import utcnow
from tests.conftest import wait_for
from tests.support.cases import first_case_and_scene


def _age(task_id: int, days: int) -> None:
    with session_scope() as session:
        session.execute(update(WorkflowTask).where(WorkflowTask.id == task_id)
                        .values(created_at=utcnow() - timedelta(days=days)))


def test_cleanup_removes_only_old_terminal_tasks_with_their_checkpoints(demo, worker, users) -> None:
    case_id, scene_id = first_case_and_scene()
    start = lambda: service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]  # noqa: E731
    old_completed, old_reviewing = start(), start()
    for task_id in (old_completed, old_reviewing):
        wait_for(task_id, "reviewing")
    threads = {t: service.get_task(t)["thread_id"] for t in (old_completed, old_reviewing)}
    service.submit_review(threads[old_completed], "approved", reviewer=users["engineer"], wait_seconds=20)
    wait_for(old_completed, "completed")
    worker.stop()
    old_cancelled, new_cancelled = start(), start()
    for task_id in (old_cancelled, new_cancelled):
        service.cancel_task(task_id, user=users["engineer"])
    for task_id in (old_completed, old_reviewing, old_cancelled):
        _age(task_id, 31)

    preview = cleanup(30, dry_run=True)
    assert preview["tasks"] == 2 and preview["events"] > 0 and preview["dry_run"]
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(WorkflowTask)) == 4

    report = cleanup(30, batch_size=1)
    assert report["tasks"] == 2 and report["events"] == preview["events"] and report["reviews"] == 1
    with session_scope() as session:
        remaining = set(session.scalars(select(WorkflowTask.id)))
        assert remaining == {old_reviewing, new_cancelled}
        assert session.scalar(select(func.count()).where(TaskEvent.task_id.in_([old_completed, old_cancelled]))) == 0
        case = session.scalar(select(AutomationCase))
        assert case is not None and case.task_id is None, "the automation case outlives its task"
    saver = get_saver(database())
    assert saver.get_tuple(thread_config(threads[old_completed])) is None
    assert saver.get_tuple(thread_config(threads[old_reviewing])) is not None
    assert cleanup(30)["tasks"] == 0
