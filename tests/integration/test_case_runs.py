"""Running automation cases against a base URL: requests, checks, failures and the stored runs."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from core import service
from core.database import session_scope
from core.errors import Forbidden, InvalidInput, NotFound
from core.library import case_requests
from core.library.response_checks import check_failure, row_checks
from db.models import CaseRun
from tests.support import strict_api
from tests.support.cases import all_scenes, offline_case
from tests.support.cli import ok
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


def test_a_form_operation_is_sent_as_a_form_and_variables_are_fresh_on_every_run(users: dict[str, str]) -> None:
    kennel = RAIL.parent / "kennel-swagger2.json"
    service.import_openapi(kennel.read_bytes(), kennel.name, user=users["engineer"])
    assert service.get_scene("uploadPhoto")["request_media_type"] == "multipart/form-data"
    case_id = offline_case("uploadPhoto")
    with serve(all_scenes()) as api:
        service.run_case(case_id, api.base_url, user=users["engineer"])
    baseline = api.received[0]
    assert baseline["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert 'name="file"' in baseline["body"] and not baseline["body"].lstrip().startswith("{")

    created = offline_case("createDog")
    sent = []
    for _ in range(2):
        with serve(all_scenes()) as api:
            run = service.run_case(created, api.base_url, user=users["engineer"])
        sent.append(json.loads(api.received[0]["body"])["name"])
        assert "{{" not in api.received[0]["body"], "every template is resolved before it is sent"
        assert run["rows"][0]["body"]["name"] == sent[-1], "the run keeps what it sent"
    assert sent[0] != sent[1] and all(name.startswith("rex") for name in sent)


def test_a_run_reports_spec_drift_and_server_defects_and_exports_as_junit(users: dict[str, str], db_url: str,
                                                                         tmp_path: Path) -> None:
    with strict_api.serve() as api:
        service.import_openapi(api.document, "strict.json", user=users["engineer"])
        case_id = offline_case("createNote")  # documented 200, answers 201; more than 3 tags crash it
        run = service.run_case(case_id, api.base_url, user=users["engineer"])
    rows = {row["name"]: row for row in run["rows"]}
    accepted = [row for row in rows.values() if row["status_code"] == 201]
    assert accepted and all(row["drift"] == {"documented": 200, "answered": 201} for row in accepted)
    assert all(row["passed"] for row in accepted if not row["failures"]), "drift alone fails no row"
    crashed = [row for row in rows.values() if row["status_code"] == 500]
    assert crashed and all(row["defect"]["curl"].startswith("curl -X POST ") for row in crashed)
    assert run["drift"] == len(accepted) and run["defects"] == len(crashed)
    junit = tmp_path / "run.xml"
    ok("run-case", str(case_id), "--base-url", "http://127.0.0.1:9", "--junit", str(junit), "--user",
       users["engineer"], db_url=db_url)
    suite = ElementTree.fromstring(service.run_junit(run["id"]))
    assert suite.tag == "testsuite" and int(suite.get("tests")) == run["total"]
    names = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(names) == set(rows)
    defect = next(iter(crashed))["name"]
    assert names[defect].find("properties/property[@name='server_defect']").get("value").startswith("curl")
    assert ElementTree.parse(junit).getroot().get("failures") == str(len(rows)), "an unreachable run fails all"


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


def test_credentials_in_the_base_url_are_refused_and_never_stored(rail: dict[str, str]) -> None:
    """A password in a URL ends up in logs and histories: an environment's basic auth holds it instead."""
    case_id = offline_case("createBooking")
    with serve(all_scenes()) as api:
        host = api.base_url.removeprefix("http://")
        with pytest.raises(InvalidInput, match="must not hold credentials") as refused:
            service.run_case(case_id, f"http://bob:pw%40SECRET-789@{host}/", user=rail["engineer"])
    assert "SECRET" not in refused.value.message and api.received == []
    assert service.get_automation_case(case_id)["runs"] == [], "the refused run stored nothing"


def test_a_timeout_that_is_not_a_positive_number_of_seconds_is_refused(rail: dict[str, str]) -> None:
    case_id = offline_case("createBooking")
    for timeout in (-1, 0, float("nan"), float("inf"), 301, "10", True):
        with pytest.raises(InvalidInput, match="The timeout must be"):
            service.run_case(case_id, "http://127.0.0.1:9", user=rail["engineer"], timeout=timeout)
    assert service.get_automation_case(case_id)["runs"] == []


def test_path_and_query_parameters_get_documented_or_schema_values(rail: dict[str, str]) -> None:
    trips = service.get_scene("searchTrips")
    request = case_requests.case_request("GET", trips["path"], trips["parameters"], [{"body": {}}])
    assert request.query == {"origin": "SHH", "destination": "BJP", "date": "2026-12-24"}
    assert not request.send_body and request.path == "/trips"
    update = service.get_scene("updateBooking")
    filled = case_requests.case_request("PATCH", update["path"], update["parameters"], [])
    assert filled.send_body and filled.path.startswith("/bookings/BK") and len(filled.path) == len("/bookings/") + 10
    flag = case_requests.parameter_value({"name": "notify", "in": "query",
                                          "schema": {"type": "boolean", "default": True}})
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
