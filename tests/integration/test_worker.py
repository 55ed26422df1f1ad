"""The worker under load, and step 10 run twice."""

from __future__ import annotations

from sqlalchemy import func, select

from core import service
from core.database import session_scope
from core.library.automation_cases import create_automation_case
from core.tasks.worker import Worker
from db.models import AutomationCase
from tests.conftest import wait_for
from tests.support.cases import first_case_and_scene


def test_a_busy_single_slot_worker_drops_no_queued_task(demo, users, db_url) -> None:
    from core.config import get_settings

    case_id, scene_id = first_case_and_scene()
    ids = [service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"] for _ in range(8)]
    worker = Worker(get_settings().model_copy(update={"worker_concurrency": 1}))
    worker.start()
    try:
        for task_id in ids:
            wait_for(task_id, "reviewing", timeout=60)
    finally:
        worker.stop()
    timeline = service.task_timeline(ids[-1])
    assert [e["type"] for e in timeline].count("workflow_started") == 1


def test_step_10_creates_one_case_however_often_it_runs(demo, worker, users) -> None:
    case_id, scene_id = first_case_and_scene()
    task = service.start_workflow(case_id, scene_id, user=users["engineer"])
    reviewing = wait_for(task["task_id"], "reviewing")
    done = service.submit_review(reviewing["thread_id"], "approved", reviewer=users["engineer"], wait_seconds=20)
    assert done["status"] == "completed"

    from core.database import database
    from core.workflow.checkpointer import get_saver
    from core.workflow.graph import build_graph, thread_config

    state = build_graph(get_saver(database())).get_state(thread_config(reviewing["thread_id"])).values
    again = create_automation_case(state)
    assert again["new_usercase_id"] == done["new_usercase_id"]
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(AutomationCase)) == 1


def test_a_stopping_worker_hands_its_tasks_back_at_the_next_step(demo, users, db_url) -> None:
    from core.config import get_settings

    settings = get_settings().model_copy(update={"worker_concurrency": 1, "ai_latency_seconds": 0.3})
    case_id, scene_id = first_case_and_scene()
    ids = [service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"] for _ in range(2)]
    worker = Worker(settings)
    worker.start()
    import time

    deadline = time.monotonic() + 30
    while service.get_task(ids[0])["current_step"] is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    worker.stop()
    stopped = [service.get_task(task_id) for task_id in ids]
    assert [t["status"] for t in stopped] == ["pending", "pending"]
    assert stopped[0]["attempts"] == 0 and stopped[0]["lease_owner"] is None
    assert "stopped; requeued" in service.task_timeline(ids[0])[-1]["message"]

    successor = Worker()
    successor.start()
    try:
        for task_id in ids:
            wait_for(task_id, "reviewing")
    finally:
        successor.stop()
    steps = [e["step"] for e in service.task_timeline(ids[0]) if e["type"] == "step_completed"]
    assert steps.count("load_inputs") == 1, "the successor resumed from the checkpoint"
