"""Assertion strength on real runs: a case is tried on wrong responses made from what a real server answered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core import service
from core.database import session_scope
from core.errors import NotFound
from db.models import AutomationCase
from tests.support.cases import all_scenes, offline_case
from tests.support.cli import in_process
from tests.support.echo_api import serve

RAIL = Path(__file__).resolve().parents[1] / "fixtures" / "openapi" / "lumen-rail.json"


def case_checking(rows: list[dict[str, Any]], body_check: dict[str, dict[str, Any]] | None) -> int:
    """A copy of the rows with only a status check, plus ``body_check[kind]`` when given: a new case's id."""
    checked = [{**row, "checks": [{"kind": "status", "path": None, "expected": row["expected_status"]},
                                  *([body_check[row["kind"]]] if body_check else [])]} for row in rows]
    with session_scope() as session:
        case = AutomationCase(name="Book seats", module_id="Bookings", scene_id="createBooking", method="POST",
                              path="/trips/{tripId}/bookings", rows=checked)
        session.add(case)
        session.flush()
        return case.id


def test_a_case_reading_the_body_is_strong_and_one_checking_only_statuses_is_weak(
        users: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    service.import_openapi(RAIL.read_bytes(), RAIL.name, user=users["engineer"])
    generated = service.get_automation_case(offline_case("createBooking"))["rows"]
    rows = [next(row for row in generated if row["kind"] == kind) for kind in ("valid", "boundary", "invalid")]
    equals = {"kind": "json_path_equals", "path": "channel", "expected": "web"}  # the echo server repeats it
    strong = case_checking(rows, {"valid": equals, "boundary": equals, "invalid": {
        "kind": "json_path_equals", "path": "code", "expected": "VALIDATION_ERROR"}})
    weak = case_checking(rows, None)
    assert service.assertion_strength(strong)["verdict"] == "unknown", "never run"
    with serve(all_scenes()) as api:
        for case_id in (strong, weak):
            assert service.run_case(case_id, api.base_url, user=users["engineer"])["status"] == "passed"
        code, printed = in_process(capsys, "run-case", f"UC{weak}", "--base-url", api.base_url, "--mutants", "--user",
                                   users["engineer"])
    assert code == 0 and printed["assertion_strength"]["run_id"] == printed["id"]
    assert any(len(row["response_excerpt"]) == 500 and len(row["response_body"]) > 500 for row in printed["rows"])

    found = service.assertion_strength(strong)
    assert found["verdict"] == "strong" and found["weak_rows"] == [] and found["caught"] == found["mutants"] == 15
    assert all(row["survivors"] == [] for row in found["rows"])
    flagged = printed["assertion_strength"]
    assert flagged["verdict"] == "weak" and flagged["weak_rows"] == [row["name"] for row in rows]
    assert all(row["survivors"] == ["body emptied"] and row["caught"] == 2 for row in flagged["rows"]), \
        "a wrong status is caught, a wrong body with the right status is not"
    code, again = in_process(capsys, "assertion-strength", f"UC{weak}", "--run", str(flagged["run_id"]))
    assert code == 0 and again == flagged
    first_run = service.get_automation_case(weak)["runs"][-1]["id"]
    with pytest.raises(NotFound, match="no run with id"):
        service.assertion_strength(strong, first_run)


def test_rows_a_failing_server_answered_are_not_assessed(users: dict[str, str]) -> None:
    service.import_openapi(RAIL.read_bytes(), RAIL.name, user=users["engineer"])
    case_id = offline_case("createBooking")
    with serve(all_scenes(), fail_with=503) as api:
        service.run_case(case_id, api.base_url, user=users["engineer"])
    found = service.assertion_strength(case_id)
    assert found["verdict"] == "unknown" and found["mutants"] == 0
    assert {row["verdict"] for row in found["rows"]} == {"skipped"}
    assert "failed in the run" in found["rows"][0]["reason"]
