"""The ten nodes: plain functions of the state and the run's context.

Nodes only compute; the runner writes progress and events from their updates. A node
may run again after a crash, so none has a side effect that is not idempotent.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from core.records import DataRow, SceneInput, Verdict
from core.schema import path_fields, references, uniqueness, variables
from core.schema.validation import problems_of, validate_rows
from core.workflow.state import CreatedCase, Decision, WorkflowContext, WorkflowState

Update = dict[str, Any]


def load_inputs(state: WorkflowState, runtime: Runtime[WorkflowContext]) -> Update:
    """Step 1: read the test case and the scene the task names."""
    case, scene = runtime.context.load_inputs(state["test_case_id"], state["scene_id"])
    return {"case": case, "scene": scene, "feedback": [], "review_round": 0}


def analyse_case(state: WorkflowState, runtime: Runtime[WorkflowContext]) -> Update:
    """Step 2: intent, fields involved and expected outcome."""
    return {"analysis": runtime.context.provider.analyse(state["case"], state["scene"])}


def plan_rows(state: WorkflowState, runtime: Runtime[WorkflowContext]) -> Update:
    """Step 3: valid, boundary and invalid rows tied to schema constraints."""
    provider = runtime.context.provider
    plan = provider.plan_rows(state["case"], state["scene"], state["analysis"], state.get("feedback", []))
    return {"plan": plan}


def generate_bodies(state: WorkflowState, runtime: Runtime[WorkflowContext]) -> Update:
    """Step 4: one request body per planned row, heeding the reviewers' feedback."""
    provider = runtime.context.provider
    rows = provider.generate_bodies(state["case"], state["scene"], state["plan"], state.get("feedback", []))
    return {"rows": _run_ready(state["scene"], rows), "repair_rounds": 0, "sandbox_rounds": 0}


def _run_ready(scene: SceneInput, rows: list[DataRow]) -> list[DataRow]:
    """Rows without made-up ids of resources nothing makes, nor boundaries of the ids the setup fills (a step the
    sandbox's answers added); values that must differ per run get templates; fields naming what the setup
    makes, its variable."""
    setup = scene.get("setup") or []
    schema, known, filled = scene["request_schema"], variables.setup_examples(setup), variables.setup_filled(setup)
    captured = {name for step in setup for name in step["captures"]}
    kept = references.without_made_up_ids(schema, [row for row in rows if row["kind"] != "boundary"
                                                    or row["pointer"] not in filled], scene["path"], captured, known)
    return path_fields.bind(schema, uniqueness.vary(schema, kept, known), scene["path"], setup)


def validate_bodies(state: WorkflowState, runtime: Runtime[WorkflowContext]) -> Update:
    """Step 5: check every body against the scene's JSON Schema and its row's intent, then, where the
    module has a sandbox, send the rows that pass to it and keep its answer on each row."""
    scene = state["scene"]
    validation = validate_rows(scene["request_schema"], state["rows"], variables.setup_examples(scene.get("setup")))
    sandbox = runtime.context.sandbox
    sendable = [row for row in state["rows"] if row["name"] not in validation["mismatched"]]
    run = sandbox(state, sendable) if sandbox is not None and sendable else None
    if run is None:
        return {"validation": validation}
    verdicts = run["verdicts"]
    rows = [DataRow(**{**row, "sandbox": verdicts[row["name"]]}) if row["name"] in verdicts else row
            for row in state["rows"]]
    return {"validation": validation, "rows": rows, "scene": {**state["scene"], "setup": run["setup"]}}


def repair_bodies(state: WorkflowState, runtime: Runtime[WorkflowContext]) -> Update:
    """Step 6: regenerate the bodies that do not do what their row intends: to the schema first, then to
    the sandbox's answers (within MAX_SANDBOX_ROUNDS)."""
    provider, scene = runtime.context.provider, state["scene"]
    problems = problems_of(state["validation"])
    rows = provider.repair_rows(scene, state["rows"], problems) if problems else state["rows"]
    update: Update = {"repair_rounds": state.get("repair_rounds", 0) + 1}
    refused = {name: verdict for name, verdict in _refused(state).items() if name not in problems}
    if refused and state.get("sandbox_rounds", 0) < runtime.context.max_sandbox_rounds:
        rows = provider.repair_from_server(state["case"], scene, rows, refused)
        update["sandbox_rounds"] = state.get("sandbox_rounds", 0) + 1
    return {**update, "rows": _run_ready(scene, rows)}


def _refused(state: WorkflowState) -> dict[str, Verdict]:
    """Rows whose sandbox answer contradicts their kind."""
    return {row["name"]: row["sandbox"] for row in state["rows"] if "sandbox" in row and not row["sandbox"]["agrees"]}


def generate_assertions(state: WorkflowState, runtime: Runtime[WorkflowContext]) -> Update:
    """Step 7: expected status and response checks for every row."""
    provider = runtime.context.provider
    return {"assertions": provider.generate_assertions(state["case"], state["scene"], state["rows"])}


def assemble_draft(state: WorkflowState, runtime: Runtime[WorkflowContext]) -> Update:
    """Step 8: the case as the reviewer will see it."""
    scene = state["scene"]
    checks = {assertion["name"]: assertion for assertion in state["assertions"]}
    rows = [
        {
            **row,
            "expected_status": checks[row["name"]]["expected_status"],
            "checks": checks[row["name"]]["checks"],
            "source": checks[row["name"]].get("source", row["source"]),  # checks the offline provider stood in for
        }
        if row["name"] in checks
        else {**row, "checks": []}
        for row in state["rows"]
    ]
    draft = {
        "name": state["name"],
        "module_id": state["module_id"],
        "test_case_id": state["test_case_id"],
        "scene_id": scene["scene_id"],
        "method": scene["method"],
        "path": scene["path"],
        "analysis": state["analysis"],
        "rows": rows,
        "setup": scene.get("setup", []),
        "provider": runtime.context.provider.name,
        "model": runtime.context.provider.model,
        "lessons": _lessons_shown(scene),
    }
    return {"draft": draft}


def _lessons_shown(scene: SceneInput) -> dict[str, Any] | None:
    """What the reviewer is told about the earlier reviews that shaped these rows (the fields, the rows left out)."""
    lessons = scene.get("lessons")
    if not lessons:
        return None
    return {"rounds": lessons["rounds"], "preferred": [item["pointer"] for item in lessons["preferred"]],
            "dropped": lessons["dropped"], "examples": len(lessons["examples"]), "feedback": len(lessons["feedback"])}


def human_review(state: WorkflowState) -> Update:
    """Step 9: pause until a reviewer decides; nothing else happens here."""
    decision: Decision = interrupt(
        {
            "generated_body": state["draft"]["rows"],
            "validation_result": state["validation"],
            "round": state.get("review_round", 0) + 1,
            "setup": state["draft"].get("setup", []),
            "provider": state["draft"].get("provider"),
            "lessons": state["draft"].get("lessons"),
        }
    )
    update: Update = {"decision": decision, "review_round": state.get("review_round", 0) + 1}
    if decision["review_status"] == "rejected":
        update["feedback"] = [*state.get("feedback", []), decision["feedback"]]
    return update


FINISHED = {"plan": [], "rows": [], "assertions": [], "draft": {}, "validation": {}}
"""What a finished thread forgets: its rows live on in the automation case and their validation in the
task's review payload, so its last checkpoint (the only one kept, see
core.workflow.checkpointer.prune_finished) holds neither again."""


def create_case(state: WorkflowState, runtime: Runtime[WorkflowContext]) -> Update:
    """Step 10: create the automation case (at most one per task, however often this runs).

    The state keeps the case's id and a summary of it (``result.created_case``: id, code, row
    count, provider, model), not its rows.
    """
    created = runtime.context.create_case(state)
    case = created["created_case"]
    summary = {"id": case["id"], "new_usercase_id": created["new_usercase_id"], "rows": len(case["rows"]),
               "provider": case["provider"], "model": case["model"]}
    decision = {**state["decision"], "rows": None, "setup": None}
    return {"result": CreatedCase(new_usercase_id=created["new_usercase_id"], created_case=summary),
            "outcome": "created", "decision": decision, **FINISHED}


def reject_out(state: WorkflowState) -> Update:
    """Ends a task whose rows were rejected more often than the rounds allow."""
    return {"outcome": "rejected"}


def after_validation(
    state: WorkflowState, runtime: Runtime[WorkflowContext]
) -> Literal["repair_bodies", "generate_assertions"]:
    """Repair while rows mismatch their intent (or a sandbox refused them) and rounds remain."""
    if state.get("repair_rounds", 0) >= runtime.context.max_repair_rounds:
        return "generate_assertions"
    if state["validation"]["mismatched"]:
        return "repair_bodies"
    if _refused(state) and state.get("sandbox_rounds", 0) < runtime.context.max_sandbox_rounds:
        return "repair_bodies"
    return "generate_assertions"


def after_review(
    state: WorkflowState, runtime: Runtime[WorkflowContext]
) -> Literal["create_case", "generate_bodies", "reject_out"]:
    """Approved: create the case; rejected: regenerate with the feedback, within the rounds."""
    if state["decision"]["review_status"] == "approved":
        return "create_case"
    if state["review_round"] > runtime.context.max_review_rounds:
        return "reject_out"
    return "generate_bodies"

