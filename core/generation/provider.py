"""The AI provider interface the workflow calls, and the plain records it exchanges.

Every record is a TypedDict: the workflow keeps them in its LangGraph state, so they
must round-trip through the checkpoint serializer and JSON columns unchanged.
The offline provider (``core.generation.offline``) and the OpenAI-compatible
provider both implement :class:`Provider`.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, Protocol, TypedDict

RowKind = Literal["valid", "boundary", "invalid"]
"""valid: an ordinary accepted body; boundary: accepted, at a limit; invalid: breaks one constraint."""

RowSource = Literal["offline", "model", "offline-fallback"]
"""Who produced a row: the offline provider, the model, or the offline provider standing in for bad model output."""


class CaseInput(TypedDict):
    """The manual test case, as the workflow sees it."""

    id: int
    title: str
    module: str
    preconditions: str
    steps: str
    expected_result: str


class SceneInput(TypedDict):
    """The API operation under test."""

    scene_id: str
    name: str
    method: str
    path: str
    request_schema: dict[str, Any]
    responses: dict[str, Any]
    """Documented responses by status code string, e.g. {"201": {"description": "...", "schema": {...}}}."""


class Analysis(TypedDict):
    """Step 2: what the test case is about."""

    intent: str
    fields: list[str]
    """JSON pointers (e.g. "/user/email") of the body fields the case involves."""
    expected_outcome: str
    plan: NotRequired[list[RowPlan]]
    """The rows planned in the same breath, when the provider plans during analysis (one model call
    for steps 2 and 3); step 3 then returns them instead of planning again."""


class RowPlan(TypedDict):
    """Step 3: one planned data row, before its body exists."""

    name: str
    """Unique within a task, e.g. "email_format_invalid"."""
    kind: RowKind
    keyword: str | None
    """The JSON Schema keyword the row targets ("maxLength", "required", ...); None for a plain valid row."""
    pointer: str
    """JSON pointer of the targeted field in the body ("" for the body itself)."""
    description: str
    expected_status: int


class DataRow(RowPlan):
    """Step 4: a planned row with its request body."""

    body: dict[str, Any]
    source: RowSource


class Check(TypedDict):
    """One response check of an assertion."""

    kind: Literal["status", "json_path_exists", "json_path_equals", "body_contains"]
    path: str | None
    """Dotted path into the JSON response body (e.g. "data.id"), where the kind needs one."""
    expected: Any


class RowAssertions(TypedDict):
    """Step 7: what the response to one row must satisfy."""

    name: str
    expected_status: int
    checks: list[Check]
    source: NotRequired[RowSource]
    """"offline-fallback" when the offline provider stood in for the model's checks; the row then says so."""


class Provider(Protocol):
    """What the workflow needs from an AI provider, one method per AI step."""

    name: str
    model: str

    def analyse(self, case: CaseInput, scene: SceneInput) -> Analysis:
        """Step 2: intent, fields involved and expected outcome of the case."""
        ...

    def plan_rows(
        self, case: CaseInput, scene: SceneInput, analysis: Analysis, feedback: list[str]
    ) -> list[RowPlan]:
        """Step 3: valid, boundary and invalid rows tied to the schema's constraints."""
        ...

    def generate_bodies(
        self, case: CaseInput, scene: SceneInput, plan: list[RowPlan], feedback: list[str]
    ) -> list[DataRow]:
        """Step 4: one request body per planned row; reviewer feedback, oldest first."""
        ...

    def repair_rows(
        self, scene: SceneInput, rows: list[DataRow], problems: dict[str, list[str]]
    ) -> list[DataRow]:
        """Step 6: new bodies for the rows named in ``problems`` (row name -> messages); others unchanged."""
        ...

    def generate_assertions(
        self, case: CaseInput, scene: SceneInput, rows: list[DataRow]
    ) -> list[RowAssertions]:
        """Step 7: expected status and response checks, one entry per row, same order."""
        ...
