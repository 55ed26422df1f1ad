"""Running automation cases against a base URL: requests, checks, failures and the stored runs."""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core import service
from core.database import session_scope
from core.errors import Forbidden, InvalidInput, NotFound
from core.library import runs as case_runs
from core.library.response_checks import check_failure, row_checks
from db.models import CaseRun
from tests.support.cases import all_scenes, offline_case
from tests.support.echo_api import serve

RAIL = Path(__file__).resolve().parents[1] / "fixtures" / "openapi" / "lumen-rail.json"
TOKEN = "run-secret-token-77aa"


@pytest.fixture
def rail(users: dict[str, str]) -> dict[str, str]:
    service.import_openapi(RAIL.read_bytes(), RAIL.name, user=users["engineer"])
    return users


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_run_fills_parameters_sends_the_token_and_is_stored(rail: dict[str, str]) -> None:
    case_id = offline_case("createBooking")
    scenes = all_scenes()
    with serve(scenes) as api:
        run = service.run_case(case_id, api.base_url + "/", user=rail["engineer"], token=TOKEN)
    assert run["status"] == "passed" and run["passed"] == run["total"] > 10, run["rows"]
    assert {request["path"] for request in api.received} == {"/trips/4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f/bookings"}
    assert {request["headers"]["Authorization"] for request in api.received} == {f"Bearer {TOKEN}"}
    assert run["base_url"] == api.base_url
    with session_scope() as session:
        stored = session.scalar(select(CaseRun).where(CaseRun.id == run["id"]))
        assert TOKEN not in json.dumps(stored.rows) + stored.base_url
        assert stored.run_by is not None and stored.duration_ms >= 0


def test_an_unreachable_server_fails_every_row_and_is_stored(rail: dict[str, str]) -> None:
    case_id = offline_case("createBooking")
    run = service.run_case(case_id, f"http://127.0.0.1:{free_port()}", user=rail["engineer"], timeout=2)
    assert run["status"] == "failed" and run["passed"] == 0
    assert all(row["status_code"] is None and row["failures"][0].startswith("request failed: ConnectError")
               for row in run["rows"])
    assert service.get_automation_case(case_id)["runs"][0]["id"] == run["id"]


def test_bad_requests_are_refused_and_store_nothing(rail: dict[str, str]) -> None:
    case_id = offline_case("createBooking")
    for url in ("ftp://example.com", "example.com/api", "http://", ""):
        with pytest.raises(InvalidInput, match="must start with http:// or https://"):
            service.run_case(case_id, url, user=rail["engineer"])
    with pytest.raises(Forbidden, match="viewer"):
        service.run_case(case_id, "http://127.0.0.1:9", user=rail["viewer"])
    with pytest.raises(NotFound, match="UC999"):
        service.run_case(999, "http://127.0.0.1:9", user=rail["engineer"])
    assert service.get_automation_case(case_id)["runs"] == []


def test_credentials_in_the_base_url_are_sent_as_basic_auth_and_never_stored(rail: dict[str, str]) -> None:
    case_id = offline_case("createBooking")
    with serve(all_scenes()) as api:
        host = api.base_url.removeprefix("http://")
        run = service.run_case(case_id, f"http://bob:pw%40SECRET-789@{host}/", user=rail["engineer"])
        with pytest.raises(InvalidInput, match="not both"):
            service.run_case(case_id, f"http://bob:pw@{host}", user=rail["engineer"], token=TOKEN)
    basic = "Basic " + base64.b64encode(b"bob:pw@SECRET-789").decode()
    assert {request["headers"]["Authorization"] for request in api.received} == {basic}
    assert run["base_url"] == api.base_url and run["status"] == "passed"
    shown = json.dumps(service.get_automation_case(case_id)["runs"])
    with session_scope() as session:
        stored = session.scalar(select(CaseRun).where(CaseRun.id == run["id"]))
        kept = json.dumps(stored.rows) + stored.base_url
    assert all("SECRET" not in text and "bob" not in text for text in (json.dumps(run), shown, kept))
    assert len(service.get_automation_case(case_id)["runs"]) == 1, "the refused run stored nothing"


def test_a_timeout_that_is_not_a_positive_number_of_seconds_is_refused(rail: dict[str, str]) -> None:
    case_id = offline_case("createBooking")
    for timeout in (-1, 0, float("nan"), float("inf"), 301, "10", True):
        with pytest.raises(InvalidInput, match="The timeout must be"):
            service.run_case(case_id, "http://127.0.0.1:9", user=rail["engineer"], timeout=timeout)
    assert service.get_automation_case(case_id)["runs"] == []


def test_path_and_query_parameters_get_documented_or_schema_values(rail: dict[str, str]) -> None:
    trips = service.get_scene("searchTrips")
    request = case_runs.case_request("GET", trips["path"], trips["parameters"], [{"body": {}}])
    assert request.query == {"origin": "SHH", "destination": "BJP", "date": "2026-12-24"}
    assert not request.send_body and request.path == "/trips"
    update = service.get_scene("updateBooking")
    filled = case_runs.case_request("PATCH", update["path"], update["parameters"], [])
    assert filled.send_body and filled.path.startswith("/bookings/BK") and len(filled.path) == len("/bookings/") + 10
    flag = case_runs.parameter_value({"name": "notify", "in": "query", "schema": {"type": "boolean", "default": True}})
    assert flag == "true"


@pytest.mark.parametrize(("check", "status", "text", "failure"), [
    ({"kind": "status", "expected": 201}, 201, "", None),
    ({"kind": "status", "expected": 201}, 400, "", "status: expected 201, got 400"),
    ({"kind": "json_path_exists", "path": "data.items.1.id"}, 200, '{"data": {"items": [{}, {"id": 3}]}}', None),
    ({"kind": "json_path_exists", "path": "data.id"}, 200, "<html>",
     "json_path_exists data.id: the response has no 'data.id'"),
    ({"kind": "json_path_equals", "path": "name", "expected": "bo"}, 200, '{"name": "bo"}', None),
    ({"kind": "json_path_equals", "path": "n", "expected": 1}, 200, '{"n": 2}',
     "json_path_equals n: expected 1, got 2"),
    ({"kind": "body_contains", "expected": "手机号"}, 422, '{"message": "手机号格式不正确"}', None),
    ({"kind": "body_contains", "expected": "gone"}, 422, "{}", "body_contains: the response does not contain 'gone'"),
])
def test_checks_name_what_failed(check: dict[str, Any], status: int, text: str, failure: str | None) -> None:
    assert check_failure(check, status, text) == failure


def test_a_row_without_a_status_check_still_checks_its_expected_status() -> None:
    checks = row_checks({"expected_status": 201, "checks": [{"kind": "json_path_exists", "path": "id"}]})
    assert checks[0] == {"kind": "status", "path": None, "expected": 201} and len(checks) == 2
