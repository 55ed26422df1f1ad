"""The plain records the workflow, the AI providers and the schema toolkit exchange.

Every record is a TypedDict: the workflow keeps them in its LangGraph state, so they
must round-trip through the checkpoint serializer and JSON columns unchanged.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

RowKind = Literal["valid", "boundary", "invalid"]
"""valid: an ordinary accepted body; boundary: accepted, at a limit; invalid: breaks one constraint."""

RowSource = Literal["offline", "model", "offline-fallback"]
"""Who produced a row: the offline provider, the model, or the offline provider standing in for bad model output."""


class TestCaseInput(TypedDict):
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
    setup: NotRequired[list[SetupStep]]
    """What each row's request needs to exist first (core.library.setup_plan); absent in older checkpoints."""
    lessons: NotRequired[Lessons]
    """What reviewers taught on earlier tasks of this scene (core.library.review_lessons); absent: none."""


class SetupStep(TypedDict):
    """A request sent before each row: it creates (or finds) a resource the row's path names or its body refers to."""

    name: str
    """What it does, for the reviewer: "create bucket", "find a dag"."""
    method: str
    path: str
    """May hold the variables earlier steps captured: ``/buckets/{{bucket_id}}/collections``."""
    query: dict[str, str]
    body: Any
    """None: no body is sent."""
    media_type: str
    captures: dict[str, list[str]]
    """Variable -> dotted paths into the answer, the first that holds a value wins (``data.id``, ``id``)."""
    cleanup: str | None
    """The DELETE path of what the step created (with its variables), sent after the row; None: kept."""
    scene_id: str | None
    """The scene of the operation the step sends, when it came from the document."""
    repairs: NotRequired[list[str]]
    """What the sandbox run changed in its body after the server refused it, one sentence each."""
    examples: NotRequired[dict[str, Any]]
    """A value each capture may stand for, that the schema accepts where a row's body uses it: what the rows
    are checked with before a run has captured the real one (``{"project_id": 7}``)."""


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
    value: NotRequired[Any]
    """A valid variant's choice at ``pointer``: the enum member or boolean it sends, or the index of
    the oneOf/anyOf branch it takes."""


class Verdict(TypedDict):
    """A sandbox server's answer to one row, before review."""

    status: int | None
    """The HTTP status; None when the request failed."""
    excerpt: str
    """The start of the answer's body (or why the request failed)."""
    duration_ms: int
    agrees: bool
    """The answer fits the row's kind: 2xx for a valid or boundary row, 4xx for an invalid one."""
    fails_with: NotRequired[list[str]]
    """A valid row the server failed (5xx), or refused as before its repair: the JSON pointers of the fields it
    accepted the row without."""


class SandboxRun(TypedDict):
    """What a sandbox run found: each row's verdict, and the setup as the server accepted it."""

    verdicts: dict[str, Verdict]
    setup: list[SetupStep]


class DataRow(RowPlan):
    """Step 4: a planned row with its request body."""

    body: Any
    """The JSON request body: an object for most operations, an array or a scalar where the schema says so."""
    sandbox: NotRequired[Verdict]
    """The sandbox server's latest answer, when the module has a sandbox environment."""
    repairs: NotRequired[list[str]]
    """What was changed after the sandbox's answers, one sentence each."""
    source: RowSource


def setup_row(body: Any) -> DataRow:
    """A setup step's body as a valid row, to be varied, bound and repaired the way a valid row is."""
    return DataRow(name="setup", kind="valid", keyword=None, pointer="", description="", expected_status=200,
                   body=body, source="offline")


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


class RowKey(TypedDict):
    """What a row tests, without its body: the rows reviewers removed are named so."""

    kind: RowKind
    keyword: str | None
    pointer: str


class Preference(TypedDict):
    """A value reviewers put in a valid row's field in place of the generated one."""

    pointer: str
    value: Any


class Lessons(TypedDict):
    """What the reviews of earlier tasks of a scene teach its next generation (core.library.review_lessons)."""

    rounds: int
    """The reviewed rounds they come from."""
    preferred: list[Preference]
    """For valid rows: the values reviewers wrote, newest first, one per field."""
    dropped: list[RowKey]
    """Rows reviewers removed before approving: not generated again."""
    examples: list[dict[str, Any]]
    """Rows reviewers wrote or corrected and then approved (name, kind, keyword, pointer, expected_status, body)."""
    feedback: list[str]
    """What reviewers said when they rejected earlier tasks' rows, newest first."""

