"""The specification's workflow endpoints: start, read, list, review; plus cancel and retry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from core import service
from core.api.auth import Caller
from core.api.schemas.common import MAX_OFFSET, Key, PathId, Search, errors
from core.api.schemas.tasks import (
    ReviewCompleted,
    ReviewRequest,
    StartRequest,
    StartResponse,
    TaskDetail,
    TaskPage,
)
from core.config import get_settings
from core.service import MAX_PAGE, TaskStatus

router = APIRouter(prefix="/api/v1/automation/workflow", tags=["workflow"], responses=errors(401, 422))


@router.post("/start", response_model=StartResponse, responses=errors(403, 404))
def start(body: StartRequest, caller: Caller) -> dict[str, Any]:
    """Queues a workflow for a test case and a scene and answers at once (status "pending")."""
    return service.start_workflow(body.test_case_id, body.scene_id, name=body.name, module_id=body.module_id,
                                  priority=body.priority, user=caller.username)


@router.get("/tasks/{task_id}", response_model=TaskDetail, responses=errors(404))
def get_task(task_id: PathId, caller: Caller) -> dict[str, Any]:
    """One task with every column: status, current_step, progress, need_review, interrupt_data, times."""
    return service.get_task(task_id)


@router.get("/tasks", response_model=TaskPage, responses=errors(400))
def list_tasks(
    caller: Caller,
    status: Annotated[list[TaskStatus] | None, Query(description="One or more statuses")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 10,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    user: Annotated[Key | None, Query(description="Only tasks launched by this username")] = None,
    search: Annotated[Search | None, Query(description="Text in the thread id, name, scene or module")] = None,
) -> dict[str, Any]:
    """A page of tasks, newest first: {total, total_capped, items, limit, offset}."""
    return service.list_tasks(status=[s.value for s in status or []], user=user, search=search, limit=limit,
                              offset=offset)


@router.post(
    "/{thread_id}/review", response_model=ReviewCompleted, responses={
        202: {"model": TaskDetail, "description": "Not completed yet (still running, rejected, or failed): "
                                                  "the task as it stands"},
        **errors(400, 403, 404, 409),
    },
)
def review(thread_id: Annotated[Key, Path()], body: ReviewRequest, caller: Caller) -> Any:
    """Approves or rejects the rows of a task awaiting review.

    An approval waits up to REVIEW_WAIT_SECONDS for step 10 and answers the completed
    case; otherwise, and for a rejection (the task goes back to generating rows), it
    answers 202 with the task. A second decision on the same round answers 409 naming
    who decided first.
    """
    approved = body.review_status == "approved"
    result = service.submit_review(
        thread_id, body.review_status, corrected_body=body.corrected_body, feedback=body.feedback,
        reviewer=caller.username, expected_round=body.expected_round, corrected_setup=body.corrected_setup,
        wait_seconds=get_settings().review_wait_seconds if approved else 0,
    )
    if result["status"] == TaskStatus.COMPLETED.value:
        return result
    task = TaskDetail.model_validate(service.get_task_by_thread(thread_id))
    return JSONResponse(jsonable_encoder(task), status_code=202)


@router.post("/tasks/{task_id}/cancel", response_model=TaskDetail, responses=errors(403, 404, 409))
def cancel(task_id: PathId, caller: Caller) -> dict[str, Any]:
    """Stops a pending, running or reviewing task; a running worker stops at its next step."""
    return service.cancel_task(task_id, user=caller.username)


@router.post("/tasks/{task_id}/retry", response_model=TaskDetail, responses=errors(403, 404, 409))
def retry(task_id: PathId, caller: Caller) -> dict[str, Any]:
    """Requeues a failed or cancelled task; it resumes from its last checkpoint."""
    return service.retry_task(task_id, user=caller.username)
