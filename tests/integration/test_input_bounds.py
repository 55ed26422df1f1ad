"""Every door answers bad input with a typed error and writes nothing: NUL bytes, ids past 64 bits, huge searches."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from core import service
from core.errors import InvalidInput, NotFound
from core.inputs import MAX_ID
from tests.support.cases import first_case_and_scene
from tests.support.db import row_counts

NUL = "a\x00b"


def refusals(users: dict[str, str]) -> dict[str, Callable[[], Any]]:
    """Calls with a NUL byte where PostgreSQL would raise ValueError."""
    case_id, scene_id = first_case_and_scene()
    engineer = users["engineer"]
    return {
        "list_tasks search": lambda: service.list_tasks(search=NUL),
        "list_tasks owner": lambda: service.list_tasks(user=NUL),
        "list_test_cases search": lambda: service.list_test_cases(search=NUL),
        "list_test_cases module": lambda: service.list_test_cases(module=NUL),
        "list_test_cases scene": lambda: service.list_test_cases(scene_id=NUL),
        "list_scenes search": lambda: service.list_scenes(search=NUL),
        "list_scenes module": lambda: service.list_scenes(NUL),
        "list_automation_cases search": lambda: service.list_automation_cases(search=NUL),
        "list_automation_cases module": lambda: service.list_automation_cases(module=NUL),
        "get_scene": lambda: service.get_scene(NUL),
        "check_review_rows": lambda: service.check_review_rows(NUL, []),
        "start_workflow scene": lambda: service.start_workflow(case_id, NUL, user=engineer),
        "start_workflow user": lambda: service.start_workflow(case_id, scene_id, user=NUL),
        "submit_review thread": lambda: service.submit_review(NUL, "approved", reviewer=engineer),
        "submit_review feedback": lambda: service.submit_review("workflow_1_x", "rejected", feedback=NUL,
                                                                reviewer=engineer),
        "create_test_case": lambda: service.create_test_case({"title": NUL, "expected_result": "201"}, user=engineer),
        "update_test_case": lambda: service.update_test_case(case_id, {"title": "t", "expected_result": NUL},
                                                             user=engineer),
        "add_user": lambda: service.add_user(NUL, "viewer", "amber-lantern-quay", user=users["admin"]),
        "update_user": lambda: service.update_user(NUL, role="viewer", user=users["admin"]),
        "import_test_cases": lambda: service.import_test_cases(f"title,expected result\n{NUL},ok\n".encode(),
                                                               "cases.csv", user=engineer),
        "import_openapi": lambda: service.import_openapi(json.dumps(document(title=NUL)).encode(), "api.json",
                                                         user=engineer),
        "import_openapi module": lambda: service.import_openapi(json.dumps(document()).encode(), "api.json",
                                                                user=engineer, module=NUL),
        "run_case base URL": lambda: service.run_case(1, f"http://h/{NUL}", user=engineer),
    }


def document(title: str = "T") -> dict[str, Any]:
    return {"openapi": "3.0.3", "info": {"title": title, "version": "1"},
            "paths": {"/x": {"get": {"responses": {"200": {"description": "ok"}}}}}}


def test_nul_bytes_are_refused_at_every_door(demo: dict[str, Any], users: dict[str, str]) -> None:
    before = row_counts()
    for name, call in refusals(users).items():
        with pytest.raises(InvalidInput, match="NUL") as refused:
            call()
        assert "NUL" in refused.value.message, name
    assert service.authenticate(NUL, "correct-horse-battery") is None, "no account has such a name"
    preview = service.preview_test_cases(f"title,expected result\n{NUL},ok\n".encode(), "cases.csv")
    assert not preview["valid"] and "NUL" in preview["rows"][0]["errors"][0]
    assert row_counts() == before


ID_DOORS: dict[str, Callable[[Any, str], Any]] = {
    "get_task": lambda i, u: service.get_task(i),
    "cancel_task": lambda i, u: service.cancel_task(i, user=u),
    "retry_task": lambda i, u: service.retry_task(i, user=u),
    "cancel_tasks": lambda i, u: service.cancel_tasks([i], user=u),
    "retry_tasks": lambda i, u: service.retry_tasks([i], user=u),
    "task_timeline": lambda i, u: service.task_timeline(i),
    "queue_position": lambda i, u: service.queue_position(i),
    "explain_task": lambda i, u: service.explain_task(i),
    "task_steps": lambda i, u: service.task_steps(i),
    "ai_calls_of_task": lambda i, u: service.ai_calls_of_task(i),
    "reviews_of_task": lambda i, u: service.reviews_of_task(i),
    "start_workflow": lambda i, u: service.start_workflow(i, "SC001", user=u),
    "get_test_case": lambda i, u: service.get_test_case(i),
    "update_test_case": lambda i, u: service.update_test_case(i, {"title": "t", "expected_result": "e"}, user=u),
    "get_automation_case": lambda i, u: service.get_automation_case(i),
    "run_case": lambda i, u: service.run_case(i, "http://127.0.0.1:9", user=u),
    "export_case": lambda i, u: service.export_case(i, "json"),
}


def test_ids_outside_what_a_database_holds_are_refused(demo: dict[str, Any], users: dict[str, str]) -> None:
    before = row_counts()
    for bad in (2**63, 2**70, -1, 0, "1", 1.0, True, None):
        for name, call in ID_DOORS.items():
            with pytest.raises(InvalidInput, match="id must be") as refused:
                call(bad, users["engineer"])
            assert "id" in refused.value.message, name
    for call in ID_DOORS.values():  # the largest id there can be is merely not there
        try:
            call(MAX_ID, users["engineer"])
        except NotFound:
            pass
    with pytest.raises(InvalidInput, match="list of ids"):
        service.cancel_tasks("12", user=users["engineer"])
    with pytest.raises(InvalidInput, match="whole number"):
        service.cancel_tasks(["x"], user=users["engineer"])
    assert service.list_automation_cases(search="UC99999999999999999999999")["total"] == 0
    assert row_counts() == before


def test_pages_and_searches_are_bounded(demo: dict[str, Any], users: dict[str, str]) -> None:
    for listing in (service.list_tasks, service.review_queue, service.list_test_cases, service.list_automation_cases):
        for limit, offset in ((10, -1), (10, 2**63), (0, 0), (service.MAX_PAGE + 1, 0), ("10", 0), (10, 1.5)):
            with pytest.raises(InvalidInput, match="limit must be|offset must be"):
                listing(limit=limit, offset=offset)
        assert listing(limit=1, offset=MAX_ID)["items"] == []
    huge = "x" * 100_000
    for search in (lambda term: service.list_tasks(search=term), lambda term: service.list_test_cases(search=term),
                   lambda term: service.list_scenes(search=term),
                   lambda term: service.list_automation_cases(search=term)):
        with pytest.raises(InvalidInput, match="at most 200"):
            search(huge)
        with pytest.raises(InvalidInput, match="must be text"):
            search(42)
        search("é" * service.MAX_SEARCH)  # the bound itself is fine
    with pytest.raises(InvalidInput):
        service.events_since(users["engineer"], -1)
    with pytest.raises(InvalidInput):
        service.events_since(users["engineer"], 0, limit=10**6)


def test_wrong_types_get_typed_errors(demo: dict[str, Any], users: dict[str, str]) -> None:
    engineer = users["engineer"]
    before = row_counts()
    for call in (
        lambda: service.list_tasks(status=5),
        lambda: service.list_tasks(status=[["pending"]]),
        lambda: service.list_tasks(created_from="2026-01-01"),
        lambda: service.list_tasks(created_to=datetime(2026, 1, 1)),
        lambda: service.list_modules(["scenes"]),
        lambda: service.create_test_case("title=x", user=engineer),
        lambda: service.create_test_case({"title": ["x"], "expected_result": "y"}, user=engineer),
        lambda: service.add_user("dora", ["admin"], "amber-lantern-quay", user=users["admin"]),
        lambda: service.update_user(users["viewer"], active="yes", user=users["admin"]),
        lambda: service.import_openapi("not bytes", "api.json", user=engineer),
        lambda: service.import_openapi(b"{}", None, user=engineer),
        lambda: service.import_test_cases(b"title\nx\n", "cases\n.csv", user=engineer),
        lambda: service.start_workflow(1, "SC001", user=None),
        lambda: service.explain_task(1, zone=5),
    ):
        with pytest.raises(InvalidInput):
            call()
    assert row_counts() == before
