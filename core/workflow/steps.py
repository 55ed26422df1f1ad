"""The ten steps: node names, labels and the progress a task shows once each is done."""

from __future__ import annotations

from dataclasses import dataclass

from core.messages import Text, phrase


@dataclass(frozen=True, kw_only=True)
class Step:
    number: int
    node: str  # the LangGraph node name, and the task's current_step once it is done
    label: str  # what the dashboard shows (a phrase: in the user's language)
    progress: int


STEPS: tuple[Step, ...] = (
    Step(number=1, node="load_inputs", label=phrase("Load the test case and the scene"), progress=5),
    Step(number=2, node="analyse_case", label=phrase("Analyse the case"), progress=15),
    Step(number=3, node="plan_rows", label=phrase("Plan data rows"), progress=25),
    Step(number=4, node="generate_bodies", label=phrase("Generate request bodies"), progress=40),
    Step(number=5, node="validate_bodies", label=phrase("Validate against the schema"), progress=50),
    Step(number=6, node="repair_bodies", label=phrase("Repair mismatched bodies"), progress=60),
    Step(number=7, node="generate_assertions", label=phrase("Generate assertions"), progress=70),
    Step(number=8, node="assemble_draft", label=phrase("Assemble the case draft"), progress=75),
    Step(number=9, node="human_review", label=phrase("Human review"), progress=80),
    Step(number=10, node="create_case", label=phrase("Create the automation case"), progress=100),
)
STEP_BY_NODE: dict[str, Step] = {step.node: step for step in STEPS}

AWAITING_REVIEW = "awaiting_human_review"  # current_step while paused at step 9 (the specification's)
CASE_CREATED = "case_created"  # current_step once completed (the specification's)
REVIEW_PROGRESS = STEP_BY_NODE["human_review"].progress
STARTED_PROGRESS = STEPS[0].progress  # the least a running task shows (the specification's processing: 5-80%)
_NODE_OF_MARKER = {AWAITING_REVIEW: "human_review", CASE_CREATED: "create_case"}


def step_of(current_step: str | None) -> Step | None:
    """The step a task's current_step names: the step it finished last (or failed in), step 9 while it awaits a
    review, step 10 once the case is created; None before its first step."""
    node = current_step or ""
    return STEP_BY_NODE.get(_NODE_OF_MARKER.get(node, node))


def describe(node: str | None) -> str | None:
    """"Step 4 (Generate request bodies)" for a step's node, None for no step; other names as they are."""
    if not node:
        return None
    step = STEP_BY_NODE.get(node)
    return Text("Step {number} ({label})", number=step.number, label=step.label) if step else node


def position(current_step: str | None, status: str | None = None) -> str:
    """"4/10 · Generate request bodies": where a task stands, from its last finished step."""
    if current_step == CASE_CREATED:
        return Text("{number}/{total} · {label}", number=len(STEPS), total=len(STEPS), label=phrase("Case created"))
    step = step_of(current_step)
    if step is None:
        return phrase("Queued") if status == "pending" else "—"
    return Text("{number}/{total} · {label}", number=step.number, total=len(STEPS), label=step.label)
