"""Finding the demo data's test cases and scenes from tests, one way for every test module."""

from __future__ import annotations

from typing import Any

from core import service
from core.database import session_scope
from core.generation.offline.provider import OfflineProvider
from core.library.automation_cases import scene_input
from core.schema import uniqueness
from db.models import AutomationCase, Scene
from tests.conftest import wait_for


def first_case(scene_id: str | None = None) -> dict[str, Any]:
    """The oldest test case (linked to ``scene_id`` when given): the demo's first, where the demo is loaded."""
    items = service.list_test_cases(scene_id=scene_id, limit=service.MAX_PAGE)["items"]
    assert items, f"no test case{f' linked to {scene_id}' if scene_id else ''}"
    return min(items, key=lambda case: case["id"])


def first_case_and_scene() -> tuple[int, str]:
    """(test case id, scene id) of the demo's first test case."""
    case = first_case()
    return case["id"], case["scene_id"]


def all_scenes() -> list[dict[str, Any]]:
    """Every scene with its schemas, as service.get_scene gives them."""
    return [service.get_scene(item["id"]) for item in service.list_scenes()]


def approved_case(users: dict[str, str], scene_id: str, expected_result: str, module: str = "Orders") -> dict[str, Any]:
    """Runs the workflow (a worker must be running) for a new test case on ``scene_id`` and approves the rows as
    generated: the automation case."""
    case = service.create_test_case({"title": f"{scene_id} from the library", "module": module,
                                     "steps": "1. Send the request", "expected_result": expected_result,
                                     "scene_id": scene_id}, user=users["engineer"])
    started = service.start_workflow(case["id"], scene_id, user=users["engineer"])
    task = wait_for(started["task_id"], "reviewing", timeout=60)
    done = service.submit_review(task["thread_id"], "approved", reviewer=users["engineer2"], wait_seconds=30)
    assert done["status"] == "completed", done
    return service.get_automation_case(done["created_case"]["id"])


def offline_case(scene_id: str, test_case_id: int | None = None) -> int:
    """An automation case of the offline provider's rows and checks for an imported scene, without a task
    (unique-looking values varied per run, as step 4 does), made for ``test_case_id`` when given."""
    with session_scope() as session:
        scene = scene_input(session.get(Scene, scene_id))
    case = {"id": 0, "title": scene["name"], "module": "", "preconditions": "", "steps": "1. Send",
            "expected_result": "201 with booking_id; invalid bodies are rejected with 422"}
    provider = OfflineProvider()
    plan = provider.plan_rows(case, scene, provider.analyse(case, scene), [])
    rows = uniqueness.vary(scene["request_schema"], provider.generate_bodies(case, scene, plan, []))
    checks = {item["name"]: item["checks"] for item in provider.generate_assertions(case, scene, rows)}
    with session_scope() as session:
        created = AutomationCase(name=scene["name"], module_id="Bookings", scene_id=scene_id, method=scene["method"],
                                 path=scene["path"], test_case_id=test_case_id,
                                 rows=[{**row, "checks": checks[row["name"]]} for row in rows])
        session.add(created)
        session.flush()
        return created.id
