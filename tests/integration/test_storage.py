"""What a task leaves behind: one checkpoint once it stops, and no second copy of its rows."""

from __future__ import annotations

import dataclasses
import time

from sqlalchemy import select, text

from core import service
from core.database import database, session_scope
from db.models import WorkflowTask
from tests.conftest import wait_for
from tests.integration.test_failures import FlakyProvider
from tests.support.cases import first_case_and_scene


def _checkpoints(thread_id: str) -> int:
    with session_scope() as session:
        return int(session.scalar(text("SELECT count(*) FROM checkpoints WHERE thread_id = :t"), {"t": thread_id}))


def _writes(thread_id: str) -> int:
    table = "writes" if database().is_sqlite else "checkpoint_writes"
    with session_scope() as session:
        return int(session.scalar(text(f"SELECT count(*) FROM {table} WHERE thread_id = :t"), {"t": thread_id}))


def _pruned(thread_id: str, writes: bool = True, timeout: float = 10.0) -> bool:
    """One checkpoint (and, with ``writes``, no pending writes) within ``timeout``: the worker prunes right after
    it marks the task stopped, in its own transaction, so a reader may see the status a moment first."""
    deadline = time.monotonic() + timeout
    while _checkpoints(thread_id) != 1 or (writes and _writes(thread_id) != 0):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_completed_task_keeps_one_checkpoint_its_timeline_and_its_case(demo, worker, users) -> None:
    case_id, scene_id = first_case_and_scene()
    task = wait_for(service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"], "reviewing")
    assert _checkpoints(task["thread_id"]) > 5, "a paused thread keeps its history until it stops"
    generated = task["interrupt_data"]["generated_body"]
    service.submit_review(task["thread_id"], "approved", reviewer=users["engineer2"], wait_seconds=20)
    done = wait_for(task["id"], "completed")

    assert _pruned(task["thread_id"]), "a stopped thread keeps its latest checkpoint only"
    assert [row["name"] for row in done["created_case"]["rows"]] == [row["name"] for row in generated]
    assert done["result_data"]["rows"] == len(generated) and done["new_usercase_id"] == done["created_case"][
        "new_usercase_id"]
    with session_scope() as session:
        row = session.execute(select(WorkflowTask.created_case, WorkflowTask.interrupt_data)
                              .where(WorkflowTask.id == task["id"])).one()
    assert row[0] is None and "generated_body" not in row[1], "the rows are the automation case's, not copied"
    assert done["interrupt_data"]["generated_body"] == generated, "the review payload reads as it was"
    timeline = [event["type"] for event in service.task_timeline(task["id"])]
    assert timeline[0] == "task_created" and timeline[-1] == "workflow_completed"
    assert timeline.count("step_completed") >= 9 and "review_submitted" in timeline
    steps = {step["node"]: step["state"] for step in service.task_steps(task["id"])}
    assert steps["create_case"] == steps["human_review"] == "done"


def test_a_failed_task_keeps_its_last_checkpoint_and_a_retry_resumes_from_it(demo, worker, users) -> None:
    worker.runner.settings = worker.runner.settings.model_copy(
        update={"retry_budget_seconds": 0.3, "retry_base_seconds": 0})
    healthy = worker.runner.context
    worker.runner.context = dataclasses.replace(healthy, provider=FlakyProvider(failures=10_000))
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    failed = wait_for(task_id, "failed")
    assert _pruned(failed["thread_id"], writes=False)

    worker.runner.context = healthy
    service.retry_task(task_id, user=users["engineer"])
    resumed = wait_for(task_id, "reviewing")
    done_steps = [e["step"] for e in service.task_timeline(task_id) if e["type"] == "step_completed"]
    assert done_steps.count("load_inputs") == 1, "step 1 is not run again: the run resumed from the checkpoint"
    assert done_steps.count("analyse_case") == 1 and resumed["interrupt_data"]["generated_body"]


def test_the_task_list_counts_at_most_the_cap(demo, users, monkeypatch) -> None:
    from core.service import tasks as task_service

    case_id, scene_id = first_case_and_scene()
    for _ in range(3):
        service.start_workflow(case_id, scene_id, user=users["engineer"])
    assert service.list_tasks(limit=2)["total"] == 3 and not service.list_tasks(limit=2)["total_capped"]
    monkeypatch.setattr(task_service, "COUNT_CAP", 2)
    page = service.list_tasks(limit=1, user=users["engineer"])
    assert (page["total"], page["total_capped"], len(page["items"])) == (2, True, 1)
