"""Request and response bodies of the workflow endpoints, as the specification shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.api.schemas.common import MAX_ID, Feedback, Id, Key, Label, encodable
from core.service import TaskStatus


class StartRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"test_case_id": 123, "name": "自动化用例名称", "module_id": "1", "scene_id": "SC001"},
    ]})

    test_case_id: Id
    scene_id: Key
    name: Label | None = Field(default=None, description="Default: the test case's title")
    module_id: Key | None = Field(default=None, description="Default: the test case's module")
    priority: int = Field(default=5, ge=0, le=9, description="0-9; 9 runs first")


class StartResponse(BaseModel):
    task_id: int
    thread_id: str
    status: TaskStatus
    message: str
    test_case_id: int


class TaskSummary(BaseModel):
    """A task as listings show it."""

    id: int
    thread_id: str
    status: TaskStatus
    current_step: str | None = Field(description="The workflow step reached, e.g. awaiting_human_review")
    progress: int = Field(ge=0, le=100)
    test_case_id: int | None
    scene_id: str | None
    name: str | None
    priority: int
    user: str = Field(description="Who launched it")
    attempts: int
    need_review: bool
    error_message: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime | None


class InterruptData(BaseModel):
    """What step 9 asks the reviewer to decide on."""

    model_config = ConfigDict(extra="allow")

    generated_body: list[dict[str, Any]] = Field(default_factory=list,
                                                 description="One row per request: name, kind, body, checks, ...")
    validation_result: dict[str, Any] = Field(default_factory=dict, description="Each row checked against the schema")
    round: int | None = Field(default=None, description="The review round; 1 unless rows were rejected before")
    setup: list[dict[str, Any]] = Field(default_factory=list, description=(
        "Requests sent before each row to create (or find) what its path names: name, method, path, body, "
        "captures (variable -> dotted paths into the answer), cleanup (the DELETE path), repairs"))


class TaskDetail(TaskSummary):
    """A task with every column of the specification's table."""

    task_type: str
    user_id: int
    step_number: int | None
    input_params: dict[str, Any] | None
    result_data: dict[str, Any] | None
    interrupt_data: InterruptData | None
    new_usercase_id: str | None
    created_case: dict[str, Any] | None
    lease_owner: str | None = Field(description="The worker running it now")
    lease_expires_at: datetime | None
    run_after: datetime | None = Field(description="Not run before this (a retry's backoff)")


class TaskPage(BaseModel):
    total: int = Field(description="Matches counted, at most 10,000 (1,000 with a search)")
    total_capped: bool = Field(False, description="The count stopped at its cap: there are more matches")
    items: list[TaskSummary]
    limit: int
    offset: int


class ReviewRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"review_status": "approved", "corrected_body": None, "feedback": "数据正确"},
    ]})

    review_status: Literal["approved", "rejected"]
    corrected_body: list[dict[str, Any]] | None = Field(
        default=None,
        description="Request bodies, one per generated row in order; or row objects with a name and a body "
                    "to add, remove or reorder rows. null keeps the generated rows.",
    )
    corrected_setup: list[dict[str, Any]] | None = Field(
        default=None,
        description="The requests sent before each row (interrupt_data.setup), corrected: each with name, method, "
                    "path, query, body, media_type, captures (variable -> dotted paths) and cleanup. null keeps them.",
    )
    feedback: Feedback | None = Field(default=None, description="Required for a rejection: what to change")
    expected_round: int | None = Field(default=None, ge=1, le=MAX_ID,
                                       description="The round the reviewer saw; another round answers 409")

    @field_validator("corrected_body", "corrected_setup")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return encodable(value)


class ReviewCompleted(BaseModel):
    """The answer when step 10 created the case within REVIEW_WAIT_SECONDS."""

    thread_id: str
    status: TaskStatus
    current_step: str | None
    new_usercase_id: str | None = Field(examples=["UC789"])
    created_case: dict[str, Any] | None
