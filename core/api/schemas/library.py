"""Response bodies of the library endpoints: test cases, scenes and automation cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class SceneRef(BaseModel):
    id: str
    name: str
    method: str
    path: str


class TestCase(BaseModel):
    """A manual test case."""

    __test__ = False  # not a pytest class

    id: int
    title: str
    module: str
    preconditions: str
    steps: str
    expected_result: str
    priority: str = Field(examples=["P2"])
    scene_id: str | None
    scene: SceneRef | None
    created_at: datetime
    updated_at: datetime | None


class TestCasePage(BaseModel):
    __test__ = False

    total: int
    items: list[TestCase]
    limit: int
    offset: int


class SceneSummary(BaseModel):
    """An API operation, as listings show it."""

    id: str = Field(examples=["SC001"])
    name: str
    module: str
    method: str
    path: str
    source: str | None = Field(description="The OpenAPI document it was imported from")
    updated_at: datetime | None
    summary: str
    fields: int = Field(description="Top-level fields of the request body")
    test_cases: int = Field(description="Test cases linked to it")


class ScenePage(BaseModel):
    total: int
    items: list[SceneSummary]
    limit: int
    offset: int


class LinkedTestCase(BaseModel):
    id: int
    title: str
    priority: str


class SceneDetail(BaseModel):
    """A scene with its schemas, a readable outline of each, and its test cases."""

    id: str
    name: str
    module: str
    method: str
    path: str
    source: str | None
    updated_at: datetime | None
    summary: str
    request_schema: dict[str, Any] = Field(description="JSON Schema of the request body")
    request_fields: list[dict[str, Any]]
    parameters: list[dict[str, Any]]
    parameter_fields: list[dict[str, Any]]
    responses: dict[str, dict[str, Any]] = Field(description="By status code")
    test_cases: list[LinkedTestCase]


class LastRun(BaseModel):
    id: int
    status: str
    passed: int
    total: int
    started_at: datetime


class AutomationCaseSummary(BaseModel):
    id: int
    code: str = Field(examples=["UC789"], description="The specification's new_usercase_id")
    name: str
    module_id: str
    scene_id: str | None
    method: str
    path: str
    rows: int = Field(description="How many requests the case sends")
    created_at: datetime
    last_run: LastRun | None


class AutomationCasePage(BaseModel):
    total: int
    items: list[AutomationCaseSummary]
    limit: int
    offset: int


class CaseTask(BaseModel):
    id: int
    thread_id: str
    status: str
    completed_at: datetime | None


class CaseReview(BaseModel):
    round: int
    feedback: str
    decided_at: datetime


class CaseTestCase(BaseModel):
    id: int
    title: str


class AutomationCaseDetail(BaseModel):
    """An automation case with its rows, where it came from, and its runs (newest first)."""

    id: int
    code: str
    new_usercase_id: str
    name: str
    module_id: str
    scene_id: str | None
    test_case_id: int | None
    method: str
    path: str
    rows: list[dict[str, Any]]
    provider: str
    model: str
    task_id: int | None
    created_at: datetime
    created_by: str | None
    reviewed_by: str | None
    task: CaseTask | None
    review: CaseReview | None
    test_case: CaseTestCase | None
    runs: list[dict[str, Any]]
