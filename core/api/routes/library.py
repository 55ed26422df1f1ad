"""Read endpoints for the library: test cases, scenes and automation cases, in pages and one at a time."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from core import service
from core.api.auth import Caller
from core.api.schemas.common import MAX_OFFSET, Key, PathId, Search, errors
from core.api.schemas.library import (
    AutomationCaseDetail,
    AutomationCasePage,
    SceneDetail,
    ScenePage,
    TestCase,
    TestCasePage,
)
from core.service import MAX_PAGE

router = APIRouter(prefix="/api/v1", tags=["library"], responses=errors(401, 422))
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
Module = Annotated[Key | None, Query(description="Only this module")]
Text = Annotated[Search | None, Query(description="Free text")]
CASE_ID = r"^(?:[Uu][Cc])?[0-9]{1,9}$"


@router.get("/test-cases", response_model=TestCasePage)
def test_cases(caller: Caller, search: Text = None, module: Module = None,
               scene_id: Annotated[Key | None, Query()] = None, limit: Limit = 50,
               offset: Offset = 0) -> dict[str, Any]:
    """Manual test cases, newest first; ``search`` looks in the title, steps and expected result."""
    page = service.list_test_cases(search=search, module=module, scene_id=scene_id, limit=limit, offset=offset)
    return {**page, "limit": limit, "offset": offset}


@router.get("/test-cases/{test_case_id}", response_model=TestCase, responses=errors(404))
def test_case(test_case_id: PathId, caller: Caller) -> dict[str, Any]:
    return service.get_test_case(test_case_id)


@router.get("/scenes", response_model=ScenePage)
def scenes(caller: Caller, search: Text = None, module: Module = None, limit: Limit = 50,
           offset: Offset = 0) -> dict[str, Any]:
    """Scenes (API operations) by module, then id; ``search`` looks in the id, name and path."""
    return service.list_scenes_page(module, search=search, limit=limit, offset=offset)


@router.get("/scenes/{scene_id}", response_model=SceneDetail, responses=errors(404))
def scene(scene_id: Annotated[Key, Path()], caller: Caller) -> dict[str, Any]:
    return service.get_scene(scene_id)


@router.get("/automation-cases", response_model=AutomationCasePage)
def automation_cases(caller: Caller, search: Text = None, module: Module = None, limit: Limit = 50,
                     offset: Offset = 0) -> dict[str, Any]:
    """Automation cases, newest first, with each one's latest run; ``search`` also takes a code like UC12."""
    page = service.list_automation_cases(search=search, module=module, limit=limit, offset=offset)
    return {**page, "limit": limit, "offset": offset}


@router.get("/automation-cases/{case_id}", response_model=AutomationCaseDetail, responses=errors(404))
def automation_case(case_id: Annotated[str, Path(pattern=CASE_ID, description="12 or UC12")],
                    caller: Caller) -> dict[str, Any]:
    return service.get_automation_case(int(case_id.upper().removeprefix("UC")))
