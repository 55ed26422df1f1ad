"""The HTTP API over a real uvicorn server: the specification's calls and shapes, auth, errors, reads, metrics."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from core import service
from core.database import session_scope
from db.models import TaskEvent, WorkflowTask
from tests.api.conftest import Api, assert_like_spec, spec_example, task_in
from tests.support.cases import first_case_and_scene

WORKFLOW = "/api/v1/automation/workflow"
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
"""For what does not depend on the backend: every PostgreSQL test costs a database of its own."""


def _start(client: httpx.Client, **overrides: Any) -> dict[str, Any]:
    case_id, scene_id = first_case_and_scene()
    body = {**spec_example("start_request"), "test_case_id": case_id, "scene_id": scene_id, **overrides}
    response = client.post(f"{WORKFLOW}/start", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _written() -> tuple[int, int]:
    """(tasks, events): what a refused request must leave as it was."""
    with session_scope() as session:
        return (session.scalar(select(func.count()).select_from(WorkflowTask)) or 0,
                session.scalar(select(func.count()).select_from(TaskEvent)) or 0)


def _the_core_refuses_bad_decisions(client: httpx.Client, thread_id: str) -> None:
    """A review the core refuses is 400 or 409, and leaves the task awaiting review."""
    before = _written()
    review = f"{WORKFLOW}/{thread_id}/review"
    no_feedback = client.post(review, json={"review_status": "rejected"})
    assert no_feedback.status_code == 400 and no_feedback.json()["error"] == "invalid_input"
    assert "feedback" in no_feedback.json()["message"]
    wrong_rows = client.post(review, json={"review_status": "approved", "corrected_body": [{"a": 1}]})
    assert wrong_rows.status_code == 400 and "rows" in wrong_rows.json()["message"]
    stale = client.post(review, json={"review_status": "approved", "expected_round": 2})
    assert stale.status_code == 409 and stale.json()["error"] == "conflict"
    assert _written() == before


def test_the_specifications_calls_answer_its_shapes(api: Api) -> None:
    alice = api.client("engineer")
    started = _start(alice)
    assert_like_spec(spec_example("start_response"), started)
    assert set(started) == set(spec_example("start_response"))
    assert started["status"] == "pending" and started["message"] == "工作流已启动，正在后台执行..."

    task = task_in(alice, started["task_id"], "reviewing")
    assert_like_spec(spec_example("task"), task)
    assert (task["current_step"], task["progress"], task["need_review"]) == ("awaiting_human_review", 80, True)
    assert task["interrupt_data"]["generated_body"] and task["created_at"].endswith("Z")
    assert {"task_type", "user_id", "input_params", "result_data", "error_message", "new_usercase_id",
            "created_case", "completed_at", "updated_at"} <= set(task)

    listed = alice.get(f"{WORKFLOW}/tasks", params={"status": "reviewing", "limit": 10}).json()
    assert_like_spec(spec_example("task_list"), listed)
    assert (listed["total"], listed["limit"], listed["offset"]) == (1, 10, 0)

    _the_core_refuses_bad_decisions(alice, started["thread_id"])
    review = alice.post(f"{WORKFLOW}/{started['thread_id']}/review", json=spec_example("review_request"))
    assert review.status_code == 200, review.text
    completed = review.json()
    assert_like_spec(spec_example("review_response"), completed)
    assert set(completed) == set(spec_example("review_response"))
    assert (completed["status"], completed["current_step"]) == ("completed", "case_created")
    code = completed["new_usercase_id"]
    assert code.startswith("UC") and completed["created_case"]["new_usercase_id"] == code

    again = api.client("engineer2").post(f"{WORKFLOW}/{started['thread_id']}/review",
                                         json={"review_status": "approved"})
    assert again.status_code == 409
    assert again.json()["error"] == "conflict" and "alice already approved round 1" in again.json()["message"]

    case = alice.get(f"/api/v1/automation-cases/{code}").json()
    assert case["code"] == code and case["task"]["thread_id"] == started["thread_id"] and case["rows"]
    assert alice.get(f"/api/v1/automation-cases/{code[2:]}").json()["id"] == case["id"]


def test_a_rejection_answers_202_with_the_task_going_back_to_generation(api: Api) -> None:
    alice = api.client("engineer")
    started = _start(alice)
    task_in(alice, started["task_id"], "reviewing")
    response = alice.post(f"{WORKFLOW}/{started['thread_id']}/review",
                          json={"review_status": "rejected", "feedback": "use Gmail addresses"})
    assert response.status_code == 202, response.text
    back = response.json()
    assert back["id"] == started["task_id"] and back["need_review"] is False
    assert back["status"] in ("pending", "processing", "reviewing")
    second = task_in(alice, started["task_id"], "reviewing")
    assert second["interrupt_data"]["round"] == 2

    cancelled = alice.post(f"{WORKFLOW}/tasks/{started['task_id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    twice = alice.post(f"{WORKFLOW}/tasks/{started['task_id']}/cancel")
    assert twice.status_code == 409 and twice.json()["error"] == "conflict"
    retried = alice.post(f"{WORKFLOW}/tasks/{started['task_id']}/retry")
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert task_in(alice, started["task_id"], "reviewing")["interrupt_data"]["round"] == 2


@SQLITE_ONLY
def test_an_approval_not_finished_in_time_answers_202_with_the_task(start_api: Any, demo: Any) -> None:
    from core.tasks.worker import Worker

    api = start_api(run_scheduler=False, REVIEW_WAIT_SECONDS="0.3")
    alice = api.client("engineer")
    started = _start(alice)
    worker = Worker()
    worker.start()
    try:
        task_in(alice, started["task_id"], "reviewing")
    finally:
        worker.stop()
    response = alice.post(f"{WORKFLOW}/{started['thread_id']}/review", json={"review_status": "approved"})
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "pending" and response.json()["thread_id"] == started["thread_id"]
    assert_like_spec(spec_example("task"), response.json())


def test_status_current_step_step_number_and_progress_agree_at_every_status(start_api: Any, demo: Any) -> None:
    """The specification's table (pending 0, processing 5-80, reviewing 80 at awaiting_human_review, completed 100
    at case_created, failed 0), with step_number naming the same step as current_step, read over HTTP."""
    from core.tasks import lifecycle
    from core.tasks.worker import Worker

    api = start_api(run_scheduler=False)
    alice = api.client("engineer")

    def where(task_id: int) -> tuple[Any, ...]:
        task = alice.get(f"{WORKFLOW}/tasks/{task_id}").json()
        return task["status"], task["current_step"], task["step_number"], task["progress"]

    task_id = _start(alice)["task_id"]
    assert where(task_id) == ("pending", None, None, 0)
    claim = lifecycle.claim_task(task_id, "test-worker", 60)
    assert claim is not None and where(task_id) == ("processing", None, None, 5)
    lifecycle.step_done(claim, "test-worker", "plan_rows", "Step 3", progress=25, duration_ms=1, number=3)
    assert where(task_id) == ("processing", "plan_rows", 3, 25)
    lifecycle.fail(claim, "test-worker", "boom", step="generate_bodies", current_step="generate_bodies")
    assert where(task_id) == ("failed", "generate_bodies", 4, 0)

    assert alice.post(f"{WORKFLOW}/tasks/{task_id}/retry").json()["status"] == "pending"
    worker = Worker()
    worker.start()
    try:
        task_in(alice, task_id, "reviewing")
        assert where(task_id) == ("reviewing", "awaiting_human_review", 9, 80)
        thread_id = alice.get(f"{WORKFLOW}/tasks/{task_id}").json()["thread_id"]
        approved = alice.post(f"{WORKFLOW}/{thread_id}/review", json={"review_status": "approved"})
        assert approved.status_code == 200, approved.text
        assert where(task_id) == ("completed", "case_created", 10, 100)
    finally:
        worker.stop()

    other = _start(alice)["task_id"]
    assert alice.post(f"{WORKFLOW}/tasks/{other}/cancel").json()["status"] == "cancelled"
    assert where(other) == ("cancelled", None, None, 0)


def test_lists_filter_and_page(api_without_worker: Api) -> None:
    alice, bob = api_without_worker.client("engineer"), api_without_worker.client("engineer2")
    ids = [_start(alice, name=f"alice {n}")["task_id"] for n in range(3)] + [_start(bob, name="bob 1")["task_id"]]
    page = alice.get(f"{WORKFLOW}/tasks", params={"limit": 2, "offset": 1}).json()
    assert (page["total"], page["total_capped"]) == (4, False)
    assert [item["id"] for item in page["items"]] == ids[::-1][1:3]
    assert alice.get(f"{WORKFLOW}/tasks", params={"user": "bob"}).json()["items"][0]["id"] == ids[3]
    assert alice.get(f"{WORKFLOW}/tasks", params={"search": "alice 1"}).json()["total"] == 1
    both = alice.get(f"{WORKFLOW}/tasks", params=[("status", "pending"), ("status", "failed")]).json()
    assert both["total"] == 4


@SQLITE_ONLY
def test_library_reads_in_pages_and_one_at_a_time(api_without_worker: Api) -> None:
    viewer = api_without_worker.client("viewer")
    cases = viewer.get("/api/v1/test-cases", params={"limit": 3}).json()
    assert cases["limit"] == 3 and len(cases["items"]) == 3 and cases["total"] >= 3
    one = viewer.get(f"/api/v1/test-cases/{cases['items'][0]['id']}").json()
    assert one == cases["items"][0]

    scenes = viewer.get("/api/v1/scenes", params={"limit": 2, "offset": 1}).json()
    assert len(scenes["items"]) == 2 and scenes["offset"] == 1
    everything = viewer.get("/api/v1/scenes").json()
    assert [s["id"] for s in scenes["items"]] == [s["id"] for s in everything["items"][1:3]]
    scene = viewer.get(f"/api/v1/scenes/{scenes['items'][0]['id']}").json()
    assert scene["request_schema"]["type"] == "object" and scene["request_fields"]

    assert viewer.get("/api/v1/automation-cases").json() == {"total": 0, "items": [], "limit": 50, "offset": 0}


@SQLITE_ONLY
def test_who_may_do_what(api_without_worker: Api, users: dict[str, str]) -> None:
    api = api_without_worker
    task = _start(api.client("engineer"))
    before = _written()
    writes = [
        ("POST", f"{WORKFLOW}/start", {"test_case_id": task["test_case_id"], "scene_id": "SC001"}),
        ("POST", f"{WORKFLOW}/{task['thread_id']}/review", {"review_status": "approved"}),
        ("POST", f"{WORKFLOW}/tasks/{task['task_id']}/cancel", None),
        ("POST", f"{WORKFLOW}/tasks/{task['task_id']}/retry", None),
    ]
    reads = [("GET", path, None) for path in (
        f"{WORKFLOW}/tasks/{task['task_id']}", f"{WORKFLOW}/tasks", "/api/v1/test-cases", "/api/v1/test-cases/1",
        "/api/v1/scenes", "/api/v1/scenes/SC001", "/api/v1/automation-cases",
    )]
    strangers = (api.client(), api.client(token="cf_not-a-token"), api.client(token="garbage"))
    for method, path, body in writes + reads:
        for client in strangers:
            answer = client.request(method, path, json=body)
            assert answer.status_code == 401, (method, path, answer.text)
            assert answer.json()["error"] == "unauthorized" and answer.headers["www-authenticate"] == "Bearer"
    viewer = api.client("viewer")
    for method, path, body in writes:
        answer = viewer.request(method, path, json=body)
        assert answer.status_code == 403, (method, path, answer.text)
        assert answer.json() == {"error": "forbidden", "message": answer.json()["message"]}
        assert "viewer" in answer.json()["message"]
    for method, path, body in reads:
        assert viewer.request(method, path, json=body).status_code == 200, path
    assert _written() == before, "a refused request wrote nothing"
    admin = api.client("admin").post(f"{WORKFLOW}/tasks/{task['task_id']}/cancel")
    assert admin.status_code == 200 and admin.json()["status"] == "cancelled", "admins act on anyone's tasks"


@SQLITE_ONLY
def test_revoked_tokens_and_deactivated_users_stop_working(api_without_worker: Api, users: dict[str, str]) -> None:
    api = api_without_worker
    assert api.client("engineer").get(f"{WORKFLOW}/tasks").status_code == 200
    mine = service.list_api_tokens(user=users["engineer"])
    assert mine and all("token" not in item and item["prefix"].startswith("cf_") for item in mine)
    service.revoke_api_token(mine[0]["id"], user=users["engineer"])
    assert api.client("engineer").get(f"{WORKFLOW}/tasks").status_code == 401

    assert api.client("engineer2").get(f"{WORKFLOW}/tasks").status_code == 200
    service.update_user(users["engineer2"], active=False, user=users["admin"])
    assert api.client("engineer2").get(f"{WORKFLOW}/tasks").status_code == 401


BAD_REQUESTS = [
    ("GET", f"{WORKFLOW}/tasks/999999", None, 404),
    ("GET", "/api/v1/test-cases/999999", None, 404),
    ("GET", "/api/v1/scenes/NOPE", None, 404),
    ("GET", "/api/v1/automation-cases/UC999999", None, 404),
    ("GET", "/api/v1/no-such-thing", None, 404),
    ("POST", f"{WORKFLOW}/no_such_thread/review", {"review_status": "approved"}, 404),
    ("POST", f"{WORKFLOW}/start", {"test_case_id": 999999, "scene_id": "SC001"}, 404),
    ("POST", f"{WORKFLOW}/start", {"test_case_id": "one", "scene_id": "SC001"}, 422),
    ("POST", f"{WORKFLOW}/start", {"scene_id": "SC001"}, 422),
    ("POST", f"{WORKFLOW}/start", {"test_case_id": 1, "scene_id": "SC001", "priority": 10}, 422),
    ("POST", f"{WORKFLOW}/start", {"test_case_id": 1, "scene_id": "SC\u0000"}, 422),
    ("POST", f"{WORKFLOW}/start", "not json", 422),
    ("POST", f"{WORKFLOW}/x/review", {"review_status": "maybe"}, 422),
    ("GET", f"{WORKFLOW}/tasks?limit=0", None, 422),
    ("GET", f"{WORKFLOW}/tasks?status=bogus", None, 422),
    ("GET", f"{WORKFLOW}/tasks/99999999999999", None, 422),
    ("GET", "/api/v1/automation-cases/case-1", None, 422),
    ("DELETE", f"{WORKFLOW}/tasks/1", None, 405),
]


def test_errors_are_json_with_a_code_and_a_message(api_without_worker: Api) -> None:
    before = _written()
    client = api_without_worker.client("admin")
    for method, path, body, status in BAD_REQUESTS:
        answer = client.request(method, path, content=body) if isinstance(body, str) else \
            client.request(method, path, json=body)
        assert answer.status_code == status, (method, path, answer.text)
        payload = answer.json()
        assert set(payload) <= {"error", "message", "details"} and payload["error"] and payload["message"], payload
        assert "Traceback" not in answer.text
        if status == 422:
            assert payload["error"] == "invalid_input" and payload["details"][0]["loc"], payload
    assert _written() == before, "nothing written on error"


@SQLITE_ONLY
def test_openapi_docs_and_metrics(api: Api) -> None:
    anonymous = api.client()
    document = anonymous.get("/openapi.json").json()
    assert {f"{WORKFLOW}/start", f"{WORKFLOW}/tasks", f"{WORKFLOW}/tasks/{{task_id}}",
            f"{WORKFLOW}/{{thread_id}}/review", f"{WORKFLOW}/tasks/{{task_id}}/cancel",
            f"{WORKFLOW}/tasks/{{task_id}}/retry", "/api/v1/test-cases", "/api/v1/scenes/{scene_id}",
            "/api/v1/automation-cases/{case_id}"} <= set(document["paths"])
    assert document["components"]["securitySchemes"]["ApiToken"]["scheme"] == "bearer"
    review = document["paths"][f"{WORKFLOW}/{{thread_id}}/review"]["post"]["responses"]
    assert {"200", "202", "409", "422"} <= set(review)
    docs = anonymous.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()

    api.client("viewer").get(f"{WORKFLOW}/tasks/424242")
    anonymous.get(f"{WORKFLOW}/tasks")
    metrics = anonymous.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert f'caseflow_api_requests_total{{method="GET",route="{WORKFLOW}/tasks/{{task_id}}",status="404"}} 1.0' in text
    assert f'caseflow_api_requests_total{{method="GET",route="{WORKFLOW}/tasks",status="401"}} 1.0' in text
    assert 'caseflow_api_requests_total{method="GET",route="/openapi.json",status="200"}' in text
    assert f'caseflow_api_request_duration_seconds_bucket{{le="0.005",method="GET",route="{WORKFLOW}/tasks"}}' in text
    assert "caseflow_api_websockets_open 0.0" in text
    assert 'caseflow_tasks{status="pending"}' in text
