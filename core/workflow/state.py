"""The workflow's state (what checkpoints hold) and its run-scoped context (what they don't)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict

from core.generation.provider import Provider
from core.records import Analysis, DataRow, RowAssertions, RowPlan, SandboxRun, SceneInput, SetupStep, TestCaseInput
from core.schema.validation import ValidationResult


class Decision(TypedDict):
    """A reviewer's decision, the value step 9's interrupt resumes with."""

    review_status: Literal["approved", "rejected"]
    rows: list[DataRow] | None
    """The corrected rows, or None to keep the generated ones."""
    feedback: str
    reviewer: str
    round: int
    setup: NotRequired[list[SetupStep] | None]
    """The corrected setup steps; absent or None keeps the generated ones."""


class CreatedCase(TypedDict):
    new_usercase_id: str
    created_case: dict[str, Any]


class WorkflowState(TypedDict, total=False):
    """Everything a task's thread remembers between steps; plain JSON values only."""

    task_id: int
    test_case_id: int
    scene_id: str
    name: str
    module_id: str
    case: TestCaseInput
    """The manual test case (the key stays "case": checkpoints of tasks paused for review hold it)."""
    scene: SceneInput
    analysis: Analysis
    plan: list[RowPlan]
    rows: list[DataRow]
    validation: ValidationResult
    repair_rounds: int
    """Repairs done since the bodies were last generated."""
    assertions: list[RowAssertions]
    draft: dict[str, Any]
    feedback: list[str]
    """Reviewer feedback from rejections, oldest first."""
    review_round: int
    """Reviews decided so far."""
    sandbox_rounds: int
    """Repairs made from a sandbox's answers since the bodies were last generated."""
    decision: Decision
    outcome: Literal["created", "rejected"]
    result: CreatedCase


@dataclass(frozen=True, kw_only=True)
class WorkflowContext:
    """What nodes need besides the state, given to each run (never checkpointed)."""

    provider: Provider
    load_inputs: Callable[[int, str], tuple[TestCaseInput, SceneInput]]
    """(test_case_id, scene_id) -> the case and the scene."""
    create_case: Callable[[WorkflowState], CreatedCase]
    """Creates the automation case of the state's task, or returns the one it already has."""
    max_repair_rounds: int = 5
    max_review_rounds: int = 3
    sandbox: Callable[[WorkflowState, list[DataRow]], SandboxRun | None] | None = None
    """Sends rows to the task's sandbox: each row's verdict and the setup as repaired; None (or no callable)
    when there is none."""
    max_sandbox_rounds: int = 3
