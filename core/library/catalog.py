"""The library: test cases (listed, created, edited), scenes and automation cases, as the pages show them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, false, func, select
from sqlalchemy.orm import Session

from core import inputs, paging
from core.database import session_scope
from core.errors import InvalidInput, NotFound
from core.library.automation_cases import case_as_dict
from core.schema.outline import constraints, outline, type_of
from db.models import AutomationCase, CaseRun, Review, Scene, TestCase, User, WorkflowTask
from db.types import isoformat

TEST_CASE_PRIORITIES = ("P0", "P1", "P2", "P3")
DEFAULT_PRIORITY = "P2"
TEXT_LIMITS = {"title": 300, "module": 100}
CASE_FIELDS = ("title", "module", "preconditions", "steps", "expected_result", "priority", "scene_id")
CASE_CODE = re.compile(r"^\s*UC(\d+)\s*$", re.IGNORECASE)


def clean_test_case(values: Mapping[str, Any], scene_ids: set[str]) -> tuple[dict[str, Any], list[str]]:
    """A test case's fields trimmed and normalised, and what is wrong with them (empty when nothing)."""
    problems: dict[str, str] = {}
    text = {key: _field(values.get(key), key, problems) for key in CASE_FIELDS}
    errors = list(problems.values())
    if not text["title"] and "title" not in problems:
        errors.append("The title is empty.")
    if not text["expected_result"] and "expected_result" not in problems:
        errors.append("The expected result is empty: the workflow derives its assertions from it.")
    priority = text["priority"].upper() or DEFAULT_PRIORITY
    priority = f"P{priority}" if priority.isdigit() else priority
    if priority not in TEST_CASE_PRIORITIES:
        errors.append(f"Priority {text['priority'][:20]!r} is not one of {', '.join(TEST_CASE_PRIORITIES)}.")
    if text["scene_id"] and text["scene_id"] not in scene_ids:
        errors.append(f"No scene with id {text['scene_id'][:100]!r}; import its OpenAPI document first or leave it "
                      f"empty.")
    return {**text, "priority": priority, "scene_id": text["scene_id"] or None}, errors


def _field(value: Any, key: str, problems: dict[str, str]) -> str:
    """One field as trimmed text ("" when it is missing or unusable, with its problem in ``problems``)."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):  # a spreadsheet's number, a priority of 1
        value = str(value)
    if isinstance(value, str):
        value = value.strip()
    if problem := inputs.text_problem(value, f"The {key.replace('_', ' ')}", limit=TEXT_LIMITS.get(key)):
        problems[key] = problem
        return ""
    return value


def _values(values: Any) -> Mapping[str, Any]:
    if not isinstance(values, Mapping):
        raise InvalidInput("A test case is given as its fields ({value}), not as {name}.",
                           value=', '.join(CASE_FIELDS), name=type(values).__name__)
    return values


def scene_ids(session: Session) -> set[str]:
    return set(session.scalars(select(Scene.id)))


def list_test_cases(*, search: str | None = None, module: str | None = None, scene_id: str | None = None,
                    limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """A page of test cases, newest first: {total, items}.

    ``search`` looks in the title, the steps and the expected result; ``scene_id`` keeps the cases linked to it.
    """
    paging.check(limit, offset)
    filters = []
    if term := paging.search_term(search):
        filters.append(paging.containing(term, TestCase.title, TestCase.steps, TestCase.expected_result))
    if module := inputs.optional_text(module, "The module filter"):
        filters.append(TestCase.module == module)
    if scene_id := inputs.optional_text(scene_id, "The scene filter"):
        filters.append(TestCase.scene_id == scene_id)
    with session_scope(read_only=True) as session:
        total = session.scalar(select(func.count()).select_from(TestCase).where(*filters)) or 0
        query = (select(TestCase, Scene).outerjoin(Scene, Scene.id == TestCase.scene_id).where(*filters)
                 .order_by(TestCase.id.desc()).limit(limit).offset(offset))
        items = [_test_case(case, scene) for case, scene in session.execute(query)]
    return {"total": total, "items": items}


def get_test_case(case_id: int) -> dict[str, Any]:
    case_id = inputs.record_id(case_id, "test case")
    with session_scope(read_only=True) as session:
        case = session.get(TestCase, case_id)
        if case is None:
            raise NotFound("No test case with id {case_id}.", case_id=case_id)
        return _test_case(case, session.get(Scene, case.scene_id) if case.scene_id else None)


def create_test_case(values: Mapping[str, Any]) -> dict[str, Any]:
    """A new manual test case; bad fields raise InvalidInput listing every problem."""
    values = _values(values)
    with session_scope() as session:
        fields = _checked(session, values)
        case = TestCase(**fields)
        session.add(case)
        session.flush()
        return _test_case(case, session.get(Scene, case.scene_id) if case.scene_id else None)


def update_test_case(case_id: int, values: Mapping[str, Any]) -> dict[str, Any]:
    """Replaces the fields of a test case; tasks already started keep the text they were started with."""
    case_id, values = inputs.record_id(case_id, "test case"), _values(values)
    with session_scope() as session:
        case = session.get(TestCase, case_id, with_for_update=True)
        if case is None:
            raise NotFound("No test case with id {case_id}.", case_id=case_id)
        for key, value in _checked(session, values).items():
            setattr(case, key, value)
        session.flush()
        return _test_case(case, session.get(Scene, case.scene_id) if case.scene_id else None)


def _checked(session: Session, values: Mapping[str, Any]) -> dict[str, Any]:
    fields, errors = clean_test_case(values, scene_ids(session))
    if errors:
        raise InvalidInput(" ".join(errors))
    return fields


def _test_case(case: TestCase, scene: Scene | None) -> dict[str, Any]:
    return {
        "id": case.id, "title": case.title, "module": case.module, "preconditions": case.preconditions,
        "steps": case.steps, "expected_result": case.expected_result, "priority": case.priority,
        "scene_id": case.scene_id,
        "scene": None if scene is None else {"id": scene.id, "name": scene.name, "method": scene.method,
                                             "path": scene.path},
        "created_at": isoformat(case.created_at), "updated_at": isoformat(case.updated_at),
    }


def modules(kind: str = "scenes") -> list[str]:
    """The modules in use by "test_cases", "scenes" or "automation_cases", sorted."""
    column = {"test_cases": TestCase.module, "scenes": Scene.module, "automation_cases": AutomationCase.module_id}
    if not isinstance(kind, str) or kind not in column:
        raise InvalidInput("Unknown library kind {kind!r}.", kind=kind)
    with session_scope(read_only=True) as session:
        return sorted(value for value in session.scalars(select(column[kind]).distinct()) if value)


def list_scenes(module: str | None = None, *, search: str | None = None) -> list[dict[str, Any]]:
    """Every scene (id, name, module, method, path, summary, source, fields, linked test cases), by module then id."""
    filters = []
    if term := paging.search_term(search):
        filters.append(paging.containing(term, Scene.id, Scene.name, Scene.path))
    if module := inputs.optional_text(module, "The module filter"):
        filters.append(Scene.module == module)
    linked = (select(TestCase.scene_id, func.count().label("n")).group_by(TestCase.scene_id).subquery())
    with session_scope(read_only=True) as session:
        rows = session.execute(select(Scene, linked.c.n).outerjoin(linked, linked.c.scene_id == Scene.id)
                               .where(*filters).order_by(Scene.module, Scene.id)).all()
        return [{**_scene_summary(scene), "summary": scene.summary,
                 "fields": len((scene.request_schema or {}).get("properties", {})), "test_cases": count or 0}
                for scene, count in rows]


def get_scene(scene_id: str) -> dict[str, Any]:
    """A scene with its schemas, a readable outline of each, and the test cases linked to it."""
    scene_id = inputs.text(scene_id, "The scene id")
    with session_scope(read_only=True) as session:
        scene = session.get(Scene, scene_id)
        if scene is None:
            raise NotFound("No scene with id {scene_id!r}.", scene_id=scene_id)
        cases = session.scalars(select(TestCase).where(TestCase.scene_id == scene_id).order_by(TestCase.id))
        return {
            **_scene_summary(scene),
            "summary": scene.summary,
            "request_schema": scene.request_schema,
            "request_media_type": scene.request_media_type,
            "request_fields": outline(scene.request_schema) if scene.request_schema else [],
            "parameters": scene.parameters,
            "parameter_fields": [_parameter_row(item) for item in scene.parameters],
            "responses": {
                code: {**entry, "fields": outline(entry["schema"]) if isinstance(entry.get("schema"), dict) else []}
                for code, entry in scene.responses.items()
            },
            "test_cases": [{"id": case.id, "title": case.title, "priority": case.priority} for case in cases],
        }


def delete_path(session: Session, scene: Scene) -> str | None:
    """The path of the DELETE operation on one resource that ``scene`` creates (``/things/{id}`` for
    ``POST /things``), from the same document, if it has one."""
    if scene.method != "POST" or scene.source is None:
        return None
    collection = scene.path.rstrip("/")
    return session.scalar(select(Scene.path).where(
        Scene.method == "DELETE", Scene.source == scene.source, Scene.path.like(f"{collection}/{{%}}"),
        Scene.path.not_like(f"{collection}/{{%}}/%")).limit(1))


def _parameter_row(parameter: dict[str, Any]) -> dict[str, Any]:
    schema = parameter.get("schema") or {}
    return {"name": parameter["name"], "in": parameter["in"], "required": parameter.get("required", False),
            "type": type_of(schema), "constraints": constraints(schema),
            "description": parameter.get("description", ""), "example": parameter.get("example")}


def _scene_summary(scene: Scene) -> dict[str, Any]:
    return {"id": scene.id, "name": scene.name, "module": scene.module, "method": scene.method,
            "path": scene.path, "source": scene.source, "updated_at": isoformat(scene.updated_at or scene.created_at)}


def list_automation_cases(*, search: str | None = None, module: str | None = None, limit: int = 50,
                          offset: int = 0) -> dict[str, Any]:
    """A page of automation cases, newest first, with each one's latest run: {total, items}."""
    paging.check(limit, offset)
    filters = []
    if term := paging.search_term(search):
        code = CASE_CODE.match(search)
        filters.append(_code_filter(int(code.group(1))) if code else
                       paging.containing(term, AutomationCase.name, AutomationCase.path, AutomationCase.scene_id))
    if module := inputs.optional_text(module, "The module filter"):
        filters.append(AutomationCase.module_id == module)
    with session_scope(read_only=True) as session:
        total = session.scalar(select(func.count()).select_from(AutomationCase).where(*filters)) or 0
        cases = session.scalars(select(AutomationCase).where(*filters).order_by(AutomationCase.id.desc())
                                .limit(limit).offset(offset)).all()
        latest = _latest_runs(session, [case.id for case in cases])
        items = [{
            "id": case.id, "code": case.code, "name": case.name, "module_id": case.module_id,
            "scene_id": case.scene_id, "method": case.method, "path": case.path, "rows": len(case.rows),
            "created_at": isoformat(case.created_at), "last_run": latest.get(case.id),
        } for case in cases]
    return {"total": total, "items": items}


def _code_filter(number: int) -> ColumnElement[bool]:
    """The case UC<number>; none for a number no id can have (SQLite cannot even compare it)."""
    return AutomationCase.id == number if 1 <= number <= inputs.MAX_ID else false()


def _latest_runs(session: Session, case_ids: list[int]) -> dict[int, dict[str, Any]]:
    newest = (select(func.max(CaseRun.id)).where(CaseRun.case_id.in_(case_ids)).group_by(CaseRun.case_id))
    runs = session.scalars(select(CaseRun).where(CaseRun.id.in_(newest)))
    return {run.case_id: {"id": run.id, "status": run.status, "passed": run.passed, "total": run.total,
                          "started_at": isoformat(run.started_at)} for run in runs}


def get_automation_case(case_id: int) -> dict[str, Any]:
    """A case with its rows, the task and review that produced it, who made it, and its runs (newest first)."""
    case_id = inputs.record_id(case_id, "automation case")
    with session_scope(read_only=True) as session:
        case = session.get(AutomationCase, case_id)
        if case is None:
            raise NotFound("No automation case with id {case_id} (UC{case_id}).", case_id=case_id)
        names = {user_id: name for user_id, name in session.execute(
            select(User.id, User.username).where(User.id.in_([case.created_by, case.reviewed_by])))}
        task = session.get(WorkflowTask, case.task_id) if case.task_id else None
        review = session.scalar(select(Review).where(Review.task_id == case.task_id, Review.review_status == "approved")
                                .order_by(Review.round.desc()).limit(1)) if case.task_id else None
        test_case = session.get(TestCase, case.test_case_id) if case.test_case_id else None
        runs = session.scalars(select(CaseRun).where(CaseRun.case_id == case_id).order_by(CaseRun.id.desc()))
        return {
            **case_as_dict(case),
            "code": case.code,
            "created_by": names.get(case.created_by),
            "reviewed_by": names.get(case.reviewed_by),
            "task": None if task is None else {"id": task.id, "thread_id": task.thread_id, "status": task.status,
                                               "completed_at": isoformat(task.completed_at)},
            "review": None if review is None else {"round": review.round, "feedback": review.feedback,
                                                   "decided_at": isoformat(review.created_at)},
            "test_case": None if test_case is None else {"id": test_case.id, "title": test_case.title},
            "runs": [run_summary(run) for run in runs],
        }


def get_run(run_id: int) -> tuple[dict[str, Any], str]:
    """A stored run as JSON and the name of its case ("UC12 Create order")."""
    with session_scope(read_only=True) as session:
        run = session.get(CaseRun, run_id)
        if run is None:
            raise NotFound("No case run with id {run_id}.", run_id=run_id)
        case = session.get(AutomationCase, run.case_id)
        return run_summary(run), f"{case.code} {case.name}" if case else f"run {run_id}"


def run_summary(run: CaseRun) -> dict[str, Any]:
    """A stored run as JSON, rows included."""
    return {
        "id": run.id, "case_id": run.case_id, "environment": run.environment, "base_url": run.base_url,
        "status": run.status, "total": run.total, "passed": run.passed, "failed": run.failed,
        "duration_ms": run.duration_ms, "started_at": isoformat(run.started_at),
        "drift": sum(1 for row in run.rows if row.get("drift")),
        "defects": sum(1 for row in run.rows if row.get("defect")), "rows": run.rows,
    }
