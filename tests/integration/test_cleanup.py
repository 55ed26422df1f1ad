"""Retention: only terminal tasks older than the retention go, with their events and checkpoints."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from core import service
from core.database import database, session_scope
from core.tasks.cleanup import cleanup
from core.workflow.checkpointer import get_saver
from core.workflow.graph import thread_config
from db.models import AutomationCase, Review, TaskEvent, User, WorkflowTask
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


def _tasks_with_checkpoints(ages: dict[str, tuple[str, int]]) -> dict[str, int]:
    """thread id -> task id: a task per thread in (status, age in days), an event, a review and real checkpoints."""
    from langgraph.graph import END, START, StateGraph
    from typing_extensions import TypedDict

    class State(TypedDict):
        n: int

    graph = StateGraph(State)
    graph.add_node("one", lambda state: {"n": state["n"] + 1})
    graph.add_node("two", lambda state: {"n": state["n"] + 1})
    graph.add_edge(START, "one")
    graph.add_edge("one", "two")
    graph.add_edge("two", END)
    compiled = graph.compile(checkpointer=get_saver(database()))
    ids = {}
    with session_scope() as session:
        user = session.scalar(select(User.id))
        for thread_id, (status, days) in ages.items():
            created = utcnow() - timedelta(days=days)
            task = WorkflowTask(thread_id=thread_id, user_id=user, status=status, input_params={"name": thread_id},
                                created_at=created, ranked_at=created)
            session.add(task)
            session.flush()
            session.add(TaskEvent(task_id=task.id, type="step_completed", step="plan_rows", duration_ms=40,
                                  created_at=created))
            session.add(Review(task_id=task.id, round=1, reviewer_id=user, review_status="approved",
                               created_at=created))
            ids[thread_id] = task.id
    for thread_id in ages:
        compiled.invoke({"n": 0}, thread_config(thread_id))
    return ids


def test_batches_remove_exactly_the_old_terminal_tasks_and_their_checkpoints(demo) -> None:
    old = {f"old-{status}-{n}": (status, 31 + n) for status in ("completed", "failed", "cancelled") for n in range(3)}
    kept = {"new-completed": ("completed", 29), "old-reviewing": ("reviewing", 40), "old-pending": ("pending", 40),
            "old-processing": ("processing", 40)}
    ids = _tasks_with_checkpoints({**old, **kept})
    saver = get_saver(database())
    assert all(saver.get_tuple(thread_config(thread)) is not None for thread in ids)

    report = cleanup(30, batch_size=4)
    assert (report["tasks"], report["events"], report["reviews"], report["checkpoint_threads"]) == (9, 9, 9, 9)
    with session_scope() as session:
        assert set(session.scalars(select(WorkflowTask.thread_id))) == set(kept)
        assert set(session.scalars(select(TaskEvent.task_id))) == {ids[thread] for thread in kept}
        assert set(session.scalars(select(Review.task_id))) == {ids[thread] for thread in kept}
    for thread in old:
        assert saver.get_tuple(thread_config(thread)) is None and not list(saver.list(thread_config(thread)))
    for thread in kept:
        assert saver.get_tuple(thread_config(thread)) is not None
    assert service.list_tasks(search="old-completed")["total"] == 0, "the search index lost the removed tasks"
    assert service.task_counts(exact=True) == service.task_counts(), "the rollups followed the deletes"
    assert cleanup(30)["tasks"] == 0
