"""WebSocket /api/v1/ws/{user_id} with a real client: the specification's messages, replay with ?since, 1008."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy import delete
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from core.database import session_scope
from db.models import TestCase
from tests.api.conftest import Api, assert_like_spec, spec_example
from tests.support.cases import first_case_and_scene

WORKFLOW = "/api/v1/automation/workflow"
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _receive(socket: ClientConnection, type_: str, timeout: float = 20) -> dict[str, Any]:
    """The next message of ``type_`` (earlier messages of other types are skipped)."""
    while True:
        message = json.loads(socket.recv(timeout=timeout))
        if message["type"] == type_:
            return message


def _start(api: Api, role: str = "engineer") -> dict[str, Any]:
    case_id, scene_id = first_case_and_scene()
    response = api.client(role).post(f"{WORKFLOW}/start", json={"test_case_id": case_id, "scene_id": scene_id})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_users_socket_gets_the_specifications_messages_for_their_tasks(api: Api) -> None:
    with api.socket("engineer") as alice, api.socket("engineer2") as bob:
        started = _start(api)
        message = _receive(alice, "workflow_started")
        assert_like_spec(spec_example("ws_workflow_started"), message)
        assert message["data"] == {"thread_id": started["thread_id"], "status": "processing",
                                   "message": "工作流已启动，正在执行..."}
        assert isinstance(message["event_id"], int)

        review = _receive(alice, "workflow_need_review")
        assert_like_spec(spec_example("ws_workflow_need_review"), review)
        assert review["data"]["status"] == "reviewing"
        assert review["data"]["message"] == "AI已生成测试数据，请进行人工审核"
        assert review["data"]["generated_body"] == review["data"]["interrupt_data"]["generated_body"]
        assert review["data"]["generated_body"] and review["data"]["interrupt_data"]["validation_result"]

        approved = api.client("engineer").post(f"{WORKFLOW}/{started['thread_id']}/review",
                                               json={"review_status": "approved"})
        completed = _receive(alice, "workflow_completed")
        assert completed["data"]["status"] == "completed"
        assert completed["data"]["new_usercase_id"] == approved.json()["new_usercase_id"]
        assert completed["event_id"] > review["event_id"] > message["event_id"]

        with pytest.raises(TimeoutError):
            bob.recv(timeout=0.5)  # nothing about alice's task reaches bob

    with api.socket("engineer", since=message["event_id"]) as again:  # a reconnecting client
        missed = [json.loads(again.recv(timeout=10)) for _ in range(2)]
        assert missed == [review, completed]
        with pytest.raises(TimeoutError):
            again.recv(timeout=0.3)


def test_a_failed_task_pushes_workflow_failed_with_the_error(api_without_worker: Api) -> None:
    from core.tasks.worker import Worker

    with api_without_worker.socket("engineer") as alice:
        started = _start(api_without_worker)
        with session_scope() as session:
            session.execute(delete(TestCase).where(TestCase.id == started["test_case_id"]))
        worker = Worker()
        worker.start()
        try:
            failed = _receive(alice, "workflow_failed")
        finally:
            worker.stop()
    assert_like_spec(spec_example("ws_workflow_failed"), failed)
    assert failed["data"]["status"] == "failed" and "no longer exists" in failed["data"]["error"]
    assert failed["data"]["thread_id"] == started["thread_id"]
    task = api_without_worker.client("viewer").get(f"{WORKFLOW}/tasks/{started['task_id']}").json()
    assert (task["status"], task["progress"], task["error_message"]) == ("failed", 0, failed["data"]["error"])


@SQLITE_ONLY
def test_a_wrong_token_or_another_users_id_closes_with_policy_violation(api_without_worker: Api) -> None:
    api = api_without_worker
    alice = api.user_ids["engineer"]
    sockets = {
        "wrong token": api.socket("engineer", token="cf_wrong"),
        "garbage token": api.socket("engineer", token="garbage"),
        "another user's id": api.socket("engineer", user_id=api.user_ids["engineer2"]),
        "no token": connect(f"{api.ws_url}/api/v1/ws/{alice}", open_timeout=10, proxy=None),
    }
    for case, socket in sockets.items():
        with socket, pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008, case


@SQLITE_ONLY
def test_open_sockets_are_counted_and_tokens_never_logged(api_without_worker: Api,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    api = api_without_worker
    with api.socket("engineer"):
        metrics = api.client().get("/metrics").text
        assert "caseflow_api_websockets_open 1.0" in metrics
    token = api.tokens["engineer"]
    assert "WebSocket" in caplog.text and "token=***" in caplog.text
    assert token not in caplog.text
