"""The whole workflow on each backend: launch, run, review, approve or reject, complete."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import func, select

from core import service
from core.database import session_scope
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from db.models import AutomationCase, Review, TaskEvent, WorkflowTask
from tests.conftest import wait_for
from tests.support.cases import first_case_and_scene


def _event_types(task_id: int) -> list[str]:
    return [event["type"] for event in service.task_timeline(task_id)]


def test_approve_with_corrections_completes_with_one_case(demo, worker, users) -> None:
    case_id, scene_id = first_case_and_scene()
    started = service.start_workflow(case_id, scene_id, user=users["engineer"])
    assert started["status"] == "pending" and started["thread_id"].startswith("workflow_")
    assert started["test_case_id"] == case_id and started["message"]

    task = wait_for(started["task_id"], "reviewing")
    assert task["progress"] == 80 and task["current_step"] == "awaiting_human_review" and task["need_review"]
    rows = task["interrupt_data"]["generated_body"]
    assert rows and all({"name", "kind", "keyword", "pointer", "body", "expected_status"} <= row.keys() for row in rows)
    assert {row["kind"] for row in rows} == {"valid", "boundary", "invalid"}
    assert task["interrupt_data"]["validation_result"]["rows"]

    timeline = service.task_timeline(task["id"])
    steps = [e["step"] for e in timeline if e["type"] == "step_completed"]
    assert steps[:5] == ["load_inputs", "analyse_case", "plan_rows", "generate_bodies", "validate_bodies"]
    assert all(e["duration_ms"] is not None for e in timeline if e["type"] == "step_completed")
    assert [e["type"] for e in timeline][:2] == ["task_created", "workflow_started"]

    corrected = copy.deepcopy([row["body"] for row in rows])
    corrected[0] = {**corrected[0], "reviewer_note": "edited"}
    result = service.submit_review(task["thread_id"], "approved", corrected_body=corrected, feedback="looks right",
                                   reviewer=users["engineer2"], wait_seconds=20)
    assert result["status"] == "completed" and result["current_step"] == "case_created"
    assert result["new_usercase_id"].startswith("UC")
    assert result["created_case"]["rows"][0]["body"]["reviewer_note"] == "edited"
    assert result["created_case"]["rows"][0]["source"] == "reviewer"

    done = service.get_task(task["id"])
    assert done["progress"] == 100 and done["completed_at"] and not done["need_review"]
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(AutomationCase)) == 1
        review = session.scalar(select(Review))
        assert review.review_status == "approved" and review.feedback == "looks right"
    assert _event_types(task["id"])[-1] == "workflow_completed"


def test_rejections_regenerate_rows_then_fail_after_the_last_round(demo, worker, users) -> None:
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    task = wait_for(task_id, "reviewing")
    for round_ in range(1, 4):
        before = task["interrupt_data"]["generated_body"]
        service.submit_review(task["thread_id"], "rejected", feedback=f"round {round_}: use other values",
                              reviewer=users["engineer"])
        task = wait_for(task_id, "reviewing")
        after = task["interrupt_data"]["generated_body"]
        assert task["interrupt_data"]["round"] == round_ + 1
        assert [row["body"] for row in after] != [row["body"] for row in before]
    service.submit_review(task["thread_id"], "rejected", feedback="still wrong", reviewer=users["engineer"])
    failed = wait_for(task_id, "failed")
    assert "rejected 4 times" in failed["error_message"] and "3 regeneration rounds" in failed["error_message"]
    with pytest.raises(Conflict, match="review rounds"):
        service.retry_task(task_id, user=users["engineer"])
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(AutomationCase)) == 0


def test_bad_input_is_refused_and_writes_nothing(demo, users) -> None:
    case_id, scene_id = first_case_and_scene()
    with pytest.raises(NotFound, match="No test case with id 999999"):
        service.start_workflow(999999, scene_id, user=users["engineer"])
    with pytest.raises(NotFound, match="No scene"):
        service.start_workflow(case_id, "SC404", user=users["engineer"])
    with pytest.raises(InvalidInput, match="Priority"):
        service.start_workflow(case_id, scene_id, priority=12, user=users["engineer"])
    with pytest.raises(Forbidden, match="viewer"):
        service.start_workflow(case_id, scene_id, user=users["viewer"])
    with pytest.raises(NotFound, match="nobody"):
        service.start_workflow(case_id, scene_id, user="nobody")
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(WorkflowTask)) == 0
        assert session.scalar(select(func.count()).select_from(TaskEvent)) == 0


def test_review_input_is_checked_before_anything_changes(demo, worker, users) -> None:
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    task = wait_for(task_id, "reviewing")
    thread = task["thread_id"]
    bad_bodies: list[tuple[Any, str]] = [
        ({"a": 1}, "must be a non-empty list"),
        ([], "must be a non-empty list"),
        ([1, 2], "item 1 is a number"),
        ([{"a": 1}], "has 1 bodies but the task generated"),
    ]
    for body, message in bad_bodies:
        with pytest.raises(InvalidInput, match=message):
            service.submit_review(thread, "approved", corrected_body=body, reviewer=users["engineer"])
    with pytest.raises(InvalidInput, match="needs feedback"):
        service.submit_review(thread, "rejected", feedback="  ", reviewer=users["engineer"])
    with pytest.raises(InvalidInput, match="review_status"):
        service.submit_review(thread, "maybe", reviewer=users["engineer"])
    with pytest.raises(Forbidden):
        service.submit_review(thread, "approved", reviewer=users["viewer"])
    with pytest.raises(NotFound):
        service.submit_review("workflow_0_nope", "approved", reviewer=users["engineer"])
    assert service.get_task(task_id)["status"] == "reviewing"
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Review)) == 0

    service.submit_review(thread, "approved", reviewer=users["engineer"], wait_seconds=20)
    with pytest.raises(Conflict, match=f"{users['engineer']} already approved round 1"):
        service.submit_review(thread, "approved", reviewer=users["engineer2"])


def test_row_objects_can_add_and_remove_rows(demo, worker, users) -> None:
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    task = wait_for(task_id, "reviewing")
    generated = task["interrupt_data"]["generated_body"]
    kept = {"name": generated[0]["name"], "body": generated[0]["body"]}
    added = {"name": "reviewer_extra", "body": {**generated[0]["body"]}, "expected_status": 201}
    result = service.submit_review(task["thread_id"], "approved", corrected_body=[kept, added],
                                   reviewer=users["engineer"], wait_seconds=20)
    rows = result["created_case"]["rows"]
    assert [row["name"] for row in rows] == [generated[0]["name"], "reviewer_extra"]
    assert rows[0] == generated[0]
    assert rows[1]["source"] == "reviewer" and rows[1]["expected_status"] == 201 and rows[1]["kind"] == "valid"


def test_cancel_and_retry_resume_from_the_checkpoint(demo, worker, users) -> None:
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    wait_for(task_id, "reviewing")
    cancelled = service.cancel_task(task_id, user=users["engineer"])
    assert cancelled["status"] == "cancelled"
    with pytest.raises(Conflict, match="already cancelled"):
        service.cancel_task(task_id, user=users["engineer"])
    steps_before = [e for e in service.task_timeline(task_id) if e["type"] == "step_completed"]

    service.retry_task(task_id, user=users["engineer"])
    task = wait_for(task_id, "reviewing")
    steps_after = [e for e in service.task_timeline(task_id) if e["type"] == "step_completed"]
    assert steps_after == steps_before, "a retry resumed from the checkpoint, it did not run the steps again"
    assert task["interrupt_data"]["round"] == 1
    with pytest.raises(Conflict, match="Only failed or cancelled"):
        service.retry_task(task_id, user=users["engineer"])


def test_list_tasks_filters_and_pages(demo, users) -> None:
    case_id, scene_id = first_case_and_scene()
    for index in range(5):
        service.start_workflow(case_id, scene_id, name=f"batch {index} 注册", user=users["engineer"])
    service.start_workflow(case_id, scene_id, name="other", user=users["admin"])
    page = service.list_tasks(limit=2, offset=0)
    assert page["total"] == 6 and len(page["items"]) == 2 and page["limit"] == 2 and page["offset"] == 0
    assert page["items"][0]["name"] == "other"
    assert service.list_tasks(user=users["engineer"], limit=10)["total"] == 5
    assert service.list_tasks(search="注册", limit=10)["total"] == 5
    assert service.list_tasks(status="pending", limit=10)["total"] == 6
    assert service.list_tasks(status="completed", limit=10)["total"] == 0
    with pytest.raises(InvalidInput, match="Unknown status"):
        service.list_tasks(status="done")
    with pytest.raises(InvalidInput, match="limit"):
        service.list_tasks(limit=0)


def test_events_give_the_specifications_websocket_messages(demo, worker, users) -> None:
    from core.tasks.events import task_events, to_message

    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    task = wait_for(task_id, "reviewing")
    with session_scope() as session:
        messages = {e.type: to_message(e, task["thread_id"], task["interrupt_data"])
                    for e in task_events(session, task_id)}
    started = messages["workflow_started"]["data"]
    assert started == {"thread_id": task["thread_id"], "status": "processing", "message": "工作流已启动，正在执行..."}
    review = messages["workflow_need_review"]["data"]
    assert review["status"] == "reviewing" and review["message"] == "AI已生成测试数据，请进行人工审核"
    assert review["generated_body"] == task["interrupt_data"]["generated_body"]
    assert review["interrupt_data"]["validation_result"]
