"""Learning from reviews: what one reviewer corrects on a scene, its next task generates; the metrics count it."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from core import service
from core.database import session_scope
from core.library import review_lessons
from core.tasks import metrics
from core.tasks.metrics import TimeRange
from db.models import Review, Scene
from db.types import utcnow
from tests.conftest import wait_for
from tests.support.cases import first_case_and_scene

PASSWORD = "Lead-QA-Passw0rd"
AGE = 42


def _review_round(users: dict[str, Any]) -> dict[str, Any]:
    """A task on the demo's first case, once it waits for review."""
    case_id, scene_id = first_case_and_scene()
    return wait_for(service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"], "reviewing")


def _baseline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return next(row for row in rows if row["kind"] == "valid" and row["keyword"] is None)


def _unedited_today() -> dict[str, Any]:
    now = utcnow()
    return metrics.unedited_approvals(TimeRange(since=now - timedelta(days=1), until=now + timedelta(minutes=1)))


def test_what_a_reviewer_corrects_the_next_task_of_the_scene_generates(demo, worker, users) -> None:
    _, scene_id = first_case_and_scene()
    first = _review_round(users)
    generated = first["interrupt_data"]["generated_body"]
    baseline = _baseline(generated)
    removed = next(row for row in generated if row["kind"] == "invalid" and row["keyword"] == "additionalProperties")
    corrected = []
    for row in generated:
        if row["name"] == removed["name"]:
            continue
        body = {**row["body"], "password": PASSWORD, "age": AGE} if row is baseline else row["body"]
        corrected.append({**copy.deepcopy(row), "body": body})
    done = service.submit_review(first["thread_id"], "approved", corrected_body=corrected,
                                 reviewer=users["engineer2"], wait_seconds=20)
    assert done["status"] == "completed"
    with session_scope() as session:
        review = session.scalar(select(Review))
        assert (review.scene_id, review.provider, review.edited) == (scene_id, "offline", True)
        assert {(item["row"], item["pointer"], item["after"]) for item in review.edits["changed"]} == {
            (baseline["name"], "/password", PASSWORD), (baseline["name"], "/age", AGE)}
        assert review.edits["removed"] == [{"kind": "invalid", "keyword": "additionalProperties",
                                            "pointer": removed["pointer"]}]
        lessons = review_lessons.for_scene(session, scene_id)
    assert lessons is not None and lessons["rounds"] == 1
    assert {item["pointer"]: item["value"] for item in lessons["preferred"]} == {"/password": PASSWORD, "/age": AGE}
    assert [example["name"] for example in lessons["examples"]] == [baseline["name"]]

    second = _review_round(users)
    rows = second["interrupt_data"]["generated_body"]
    assert (_baseline(rows)["body"]["password"], _baseline(rows)["body"]["age"]) == (PASSWORD, AGE)
    derived = [row for row in rows if row["kind"] != "valid" and row["pointer"] not in ("", "/password", "/age")]
    assert derived and all(row["body"]["password"] == PASSWORD for row in derived)  # rows built on the baseline
    assert not [row for row in rows if (row["kind"], row["keyword"], row["pointer"])
                == ("invalid", "additionalProperties", removed["pointer"])]
    assert second["interrupt_data"]["validation_result"]["all_match"]
    assert second["interrupt_data"]["lessons"] == {  # what the review page tells the reviewer
        "rounds": 1, "preferred": ["/password", "/age"], "dropped": lessons["dropped"], "examples": 1, "feedback": 0}
    service.submit_review(second["thread_id"], "approved", reviewer=users["engineer2"], wait_seconds=20)

    shares = _unedited_today()
    assert [(day["provider"], day["rounds"], day["unedited"], day["share"]) for day in shares["per_day"]] == [
        ("offline", 2, 1, 0.5)]
    assert [(item["scene_id"], item["provider"], item["rounds"], item["unedited"]) for item in shares["by_scene"]] == [
        (scene_id, "offline", 2, 1)]
    assert shares["by_scene"][0]["scene"]  # the scene's name


def test_rejection_feedback_and_a_changed_scene_are_taught_only_where_they_still_hold(demo, worker, users) -> None:
    _, scene_id = first_case_and_scene()
    first = _review_round(users)
    service.submit_review(first["thread_id"], "rejected", feedback="Use the company's phone numbers (139...)",
                          reviewer=users["engineer2"], wait_seconds=20)
    again = wait_for(first["id"], "reviewing")
    rows = copy.deepcopy(again["interrupt_data"]["generated_body"])
    baseline = _baseline(rows)
    baseline["body"] = {**baseline["body"], "phone": "13900000000", "username": "lead_{{run_id}}"}
    service.submit_review(first["thread_id"], "approved", corrected_body=rows, reviewer=users["engineer2"],
                          wait_seconds=20)
    with session_scope() as session:
        lessons = review_lessons.for_scene(session, scene_id)
    assert lessons is not None and lessons["rounds"] == 2
    assert lessons["feedback"] == ["Use the company's phone numbers (139...)"]
    # a value made per run is no preference: every run makes its own
    assert [item["pointer"] for item in lessons["preferred"]] == ["/phone"]

    with session_scope() as session:  # the document changed (as a re-import would): 139... is no longer valid
        scene = session.get(Scene, scene_id)
        scene.request_schema = {**scene.request_schema, "properties": {
            **scene.request_schema["properties"], "phone": {"type": "string", "pattern": "^0[0-9]{10}$"}}}
    second = _review_round(users)
    body = _baseline(second["interrupt_data"]["generated_body"])["body"]
    assert body["phone"] != "13900000000" and second["interrupt_data"]["validation_result"]["all_match"]
    shares = _unedited_today()
    assert [(day["rounds"], day["unedited"]) for day in shares["per_day"]] == [(2, 0)]  # the third waits
