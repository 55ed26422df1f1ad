"""Reading a task's inputs for the workflow, and creating its automation case exactly once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.database import session_scope
from core.errors import NotFound
from core.library import review_lessons, setup_plan
from core.records import SceneInput, TestCaseInput
from core.workflow.state import CreatedCase, WorkflowState
from db.models import AutomationCase, Scene, TestCase, User, WorkflowTask
from db.types import isoformat


def load_inputs(test_case_id: int, scene_id: str) -> tuple[TestCaseInput, SceneInput]:
    """The test case and the scene, as the workflow's records.

    Read-only: planning the setup walks the scene's schemas, which takes a while on large documents, and a
    write transaction would hold SQLite's one write lock meanwhile (heartbeats and claims failed "database
    is locked").
    """
    with session_scope(read_only=True) as session:
        case = session.get(TestCase, test_case_id)
        if case is None:
            raise NotFound("Test case {test_case_id} no longer exists.", test_case_id=test_case_id)
        scene = session.get(Scene, scene_id)
        if scene is None:
            raise NotFound("Scene {scene_id} no longer exists.", scene_id=scene_id)
        lessons = review_lessons.for_scene(session, scene.id)
        return test_case_input(case), SceneInput(**scene_input(scene),
                                                 setup=setup_plan.plan(session, scene, case.preconditions),
                                                 **({"lessons": lessons} if lessons else {}))


def test_case_input(case: TestCase) -> TestCaseInput:
    return TestCaseInput(
        id=case.id,
        title=case.title,
        module=case.module,
        preconditions=case.preconditions,
        steps=case.steps,
        expected_result=case.expected_result,
    )


def scene_input(scene: Scene) -> SceneInput:
    return SceneInput(
        scene_id=scene.id,
        name=scene.name,
        method=scene.method,
        path=scene.path,
        request_schema=scene.request_schema,
        responses=scene.responses,
    )


def create_automation_case(state: WorkflowState) -> CreatedCase:
    """Creates the case of the state's task, or returns the one it has (step 10 may run twice)."""
    task_id = state["task_id"]
    existing = _case_of_task(task_id)
    if existing is not None:
        return existing
    try:
        with session_scope() as session:
            session.add(_new_case(session, state))
    except IntegrityError:  # another run of step 10 won the unique key on task_id
        pass
    created = _case_of_task(task_id)
    assert created is not None, "the automation case vanished right after it was created"
    return created


def _new_case(session: Any, state: WorkflowState) -> AutomationCase:
    draft, decision = state["draft"], state["decision"]
    task = session.get(WorkflowTask, state["task_id"])
    reviewer = session.scalar(select(User.id).where(User.username == decision["reviewer"]))
    return AutomationCase(
        task_id=state["task_id"],
        name=draft["name"],
        module_id=draft["module_id"],
        scene_id=draft["scene_id"],
        test_case_id=draft["test_case_id"],
        method=draft["method"],
        path=draft["path"],
        rows=decision["rows"] if decision["rows"] is not None else draft["rows"],
        setup=decision.get("setup") or draft.get("setup") or [],
        provider=draft["provider"],
        model=draft["model"],
        created_by=task.user_id if task else None,
        reviewed_by=reviewer,
    )


def _case_of_task(task_id: int) -> CreatedCase | None:
    with session_scope() as session:
        case = session.scalar(select(AutomationCase).where(AutomationCase.task_id == task_id))
        if case is None:
            return None
        return CreatedCase(new_usercase_id=case.code, created_case=case_as_dict(case))


def case_as_dict(case: AutomationCase) -> dict[str, Any]:
    """The specification's `created_case`: the case as JSON."""
    return {
        "id": case.id,
        "new_usercase_id": case.code,
        "name": case.name,
        "module_id": case.module_id,
        "scene_id": case.scene_id,
        "test_case_id": case.test_case_id,
        "method": case.method,
        "path": case.path,
        "rows": case.rows,
        "setup": case.setup or [],
        "provider": case.provider,
        "model": case.model,
        "task_id": case.task_id,
        "created_at": isoformat(case.created_at),
    }
