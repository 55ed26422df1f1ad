"""Spec-change impact: a new version of a document names the cases and rows it breaks before anything is replaced,
and the broken cases can be regenerated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core import service
from core.database import session_scope
from core.errors import Forbidden, InvalidInput
from core.schema import variables
from core.tasks.worker import stop_in_process_worker
from db.models import WorkflowTask
from tests.support.cases import all_scenes, approved_case, offline_case
from tests.support.cli import in_process
from tests.support.documents import FIXTURES, RAIL, rail_version_two

SHOP = FIXTURES / "harbor-shop.yaml"


def expected_create_booking(row: dict[str, Any]) -> set[str]:
    """What the new version breaks in a createBooking row, worked out from the row alone."""
    body = variables.example(row["body"])
    body = body if isinstance(body, dict) else {}
    passengers = body.get("passengers") if isinstance(body.get("passengers"), list) else []
    too_long = any(isinstance(item, dict) and len(str(item.get("first_name", ""))) > 20 for item in passengers)
    targets_limit = row["kind"] == "invalid" and row["keyword"] == "maxLength" and row["pointer"].endswith(
        "/first_name")
    targets_removed = row["kind"] == "invalid" and row["pointer"] == "/bicycle_spaces"
    kinds = {"field_removed"} if "bicycle_spaces" in body else set()
    return kinds | {"constraint"} if too_long and not targets_limit and not targets_removed else kinds


def kinds_by_row(case: dict[str, Any]) -> dict[str, set[str]]:
    return {row["name"]: {reason["kind"] for reason in row["reasons"]} for row in case["rows"]}


def snapshot() -> tuple[Any, ...]:
    cases = service.list_automation_cases(limit=service.MAX_PAGE)["items"]
    with session_scope() as session:
        tasks = session.scalar(select(func.count()).select_from(WorkflowTask))
    return all_scenes(), [service.get_automation_case(item["id"]) for item in cases], tasks


def test_a_new_version_names_what_it_breaks_before_replacing_and_regenerates(users: dict[str, str],
                                                                            worker: Any) -> None:
    service.import_openapi(RAIL.read_bytes(), RAIL.name, user=users["engineer"])
    service.import_openapi(SHOP.read_bytes(), SHOP.name, user=users["engineer"])
    booking = approved_case(users, "createBooking", "201 with booking_id; invalid bodies are rejected with 422",
                            module="Bookings")
    update = approved_case(users, "updateBooking", "200 with the booking; invalid bodies get 422", module="Bookings")
    stop_in_process_worker()
    trips, cancel, untouched = offline_case("searchTrips"), offline_case("cancelBooking"), offline_case("createOrder")
    before = snapshot()

    preview = service.import_openapi(rail_version_two(), "lumen-rail-v2.json", user=users["engineer"], dry_run=True)
    assert snapshot() == before, "the preview changes nothing"
    impact = {case["case_id"]: case for case in preview["impact"]}
    assert list(impact) == [booking["id"], update["id"], trips, cancel], "exactly the broken cases, in id order"
    assert untouched not in impact

    expected = {row["name"]: kinds for row in booking["rows"] if (kinds := expected_create_booking(row))}
    assert kinds_by_row(impact[booking["id"]]) == expected
    assert {"field_removed"} in expected.values() and {"field_removed", "constraint"} in expected.values()
    boundary = next(row for row in impact[booking["id"]]["rows"]
                    if row["name"] == "passengers_first_name_maxLength_boundary")
    assert "maxLength 20 in the new document, 50 before" in boundary["reasons"][-1]["message"]
    assert kinds_by_row(impact[update["id"]]) == {row["name"]: {"field_required"} for row in update["rows"]}
    assert kinds_by_row(impact[trips]) == {row["name"]: {"status"} for row in service.get_automation_case(trips)[
        "rows"]}
    assert "It expects 200" in impact[trips]["rows"][0]["reasons"][0]["message"]
    assert impact[cancel]["reasons"][0]["kind"] == "operation_removed" and impact[cancel]["rows"] == []
    assert [case["regenerable"] for case in impact.values()] == [True, True, False, False]

    done = service.import_openapi(rail_version_two(), "lumen-rail-v2.json", user=users["engineer"])
    assert done["impact"] == preview["impact"] and done["removed"] == ["cancelBooking"]
    with pytest.raises(Forbidden, match="viewer"):
        service.regenerate_cases(list(impact), user=users["viewer"])
    outcomes = service.regenerate_cases(list(impact), user=users["engineer"])
    assert [item["ok"] for item in outcomes] == [True, True, False, False]
    assert "no manual test case" in outcomes[2]["message"] and "is gone" in outcomes[3]["message"]
    for item, case in zip(outcomes[:2], (booking, update), strict=True):
        task = service.get_task(item["task_id"])
        assert task["status"] == "pending" and task["input_params"] == {
            "test_case_id": case["test_case"]["id"], "scene_id": case["scene_id"], "name": case["name"],
            "module_id": "Bookings"}


def test_the_command_line_prints_the_impact_and_regenerates(users: dict[str, str], tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    service.import_openapi(RAIL.read_bytes(), RAIL.name, user=users["engineer"])
    test_case = service.create_test_case({"title": "Search trips", "expected_result": "200 with trips",
                                          "scene_id": "searchTrips"}, user=users["engineer"])
    trips = offline_case("searchTrips", test_case_id=test_case["id"])
    document = str(tmp_path / "lumen-rail-v2.json")
    Path(document).write_bytes(rail_version_two())
    code, preview = in_process(capsys, "import-openapi", document, "--dry-run", "--user", users["engineer"])
    assert code == 0 and preview["dry_run"] and [case["case_id"] for case in preview["impact"]] == [trips]
    assert service.get_scene("searchTrips")["responses"].keys() == {"200", "400"}, "nothing written"
    code, refused = in_process(capsys, "import-openapi", document, "--dry-run", "--regenerate", "--user",
                               users["engineer"])
    assert code == 2 and "--regenerate" in refused["message"]
    code, done = in_process(capsys, "import-openapi", document, "--regenerate", "--user", users["engineer"])
    assert code == 0 and done["impact"] == preview["impact"]
    [started] = done["regenerated"]
    assert started["ok"] and service.get_task(started["task_id"])["input_params"]["scene_id"] == "searchTrips"
    with pytest.raises(InvalidInput, match="at least one automation case"):
        service.regenerate_cases([], user=users["engineer"])
