"""The core loop: a running API in, every stored row and run out, all through ``core.service`` as a user would.

For one server and one provider, in a fresh SQLite database: import the server's document, create
one manual test case per operation with a JSON request body (title, steps and expected result
from the operation's summary and documented responses), start a task per operation, let an
in-process worker run them, approve each task unchanged as soon as it awaits review, then run
every automation case against the server ``runs`` times. What comes back is raw: the rows as
approved and the stored run rows; ``bench.quality.analysis`` turns it into figures.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import backends
from bench.quality.documents import import_document
from bench.quality.run import PROVIDERS
from bench.quality.servers import Target
from core import service
from core.schema import variables
from core.schema.responses import documented_codes, error_status
from core.schema.validation import validate_body
from core.schema.walk import InvalidSchemaError

USER = "quality"
PASSWORD = "bench-copper-lantern-7"
SANDBOX_TOKEN_VARIABLE = "CASEFLOW_QUALITY_TOKEN"
RUNS = 2
TASK_TIMEOUT_SECONDS = 1800.0
RUN_TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 0.05
DESCRIPTION_CHARS = 120


def measure(target: Target, provider: str, *, limit: int | None = None, runs: int = RUNS,
            timeout: float = TASK_TIMEOUT_SECONDS, learning: bool = False) -> dict[str, Any]:
    """{server, provider, document, cases: [{scene, task, rows, runs}], failed_tasks, coverage, learning, seconds}.

    ``learning`` (with a sandbox only): after the measured pass, two more rounds of tasks on the same test
    cases, reviewed by :func:`sandbox_reviewer`; ``learning`` then counts, per round, the tasks it approved
    without edits (what reviews taught the second round shows as a higher count).

    Changes this process's CaseFlow settings (DATABASE_URL and the AI provider) and leaves them
    pointing at a removed database: callers that need theirs back restore the environment.
    """
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; one of {', '.join(PROVIDERS)}")
    began = time.monotonic()
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "dispatch skipped" at a 50 ms poll
    base, _, sandboxed = provider.partition("+")
    with tempfile.TemporaryDirectory(prefix="caseflow-quality-db-") as directory, _provider(base) as settings:
        backends.configure(f"sqlite:///{Path(directory) / 'quality.db'}", POLL_SECONDS=str(POLL_SECONDS),
                           RUN_SCHEDULER="false", **settings)
        try:
            service.upgrade_database()
            service.create_user(USER, "engineer", PASSWORD)
            document = import_document(target.document, target.filename, user=USER, module=target.name)
            if sandboxed:
                _sandbox(target)
            scenes = body_scenes(target.name, limit)
            cases = create_test_cases(scenes)
            generated = time.monotonic()
            finished, failed, _ = run_tasks(cases, timeout)
            generation_seconds = time.monotonic() - generated
            case_ids = [finished[scene["id"]] for scene in scenes if scene["id"] in finished]
            sent = time.monotonic()
            for _ in range(runs):
                for case_id in case_ids:
                    service.run_case(case_id, target.base_url, user=USER, token=target.token,
                                     timeout=RUN_TIMEOUT_SECONDS)
            run_seconds = time.monotonic() - sent
            collected = [_collected(scene, finished[scene["id"]]) for scene in scenes if scene["id"] in finished]
            coverage = {key: value for key, value in service.coverage_map(target.name).items()
                        if key in ("cells", "covered", "failing")}
            rounds = [run_tasks(cases, timeout, sandbox_reviewer)[2]
                      for _ in range(2 if learning and sandboxed else 0)]
        finally:
            backends.release()
    return {
        "server": target.name, "provider": provider, "base_url": target.base_url, "facts": target.facts,
        "document": document, "operations": len(scenes), "cases": collected, "failed_tasks": failed, "runs": runs,
        "coverage": coverage,
        "learning": [{"tasks": len(edited), "unedited": edited.count(False)} for edited in rounds],
        "seconds": {"generation": round(generation_seconds, 1), "runs": round(run_seconds, 1),
                    "total": round(time.monotonic() - began, 1)},
    }


def _sandbox(target: Target) -> None:
    """The server itself as the module's sandbox environment, its token read from a variable of this process."""
    auth = {"kind": "none"}
    if target.token:
        os.environ[SANDBOX_TOKEN_VARIABLE] = target.token
        auth = {"kind": "bearer", "secret_variable": SANDBOX_TOKEN_VARIABLE}
    service.create_environment({"name": "sandbox", "base_url": target.base_url, "auth": auth,
                                "sandbox_for": [target.name]}, user=USER)


@contextmanager
def _provider(provider: str) -> Iterator[dict[str, str]]:
    """The settings for the provider; for "openai", the fake OpenAI-compatible server runs meanwhile."""
    if provider == "offline":
        yield {"AI_PROVIDER": "offline"}
        return
    from testing.fake_openai import running

    with running() as fake:
        yield {"AI_PROVIDER": "openai", "OPENAI_API_KEY": "sk-quality-harness", "OPENAI_BASE_URL": fake.url,
               "OPENAI_MODEL": "gpt-4o-mini"}


def body_scenes(module: str, limit: int | None = None) -> list[dict[str, Any]]:
    """The module's scenes with a JSON request body, ordered by scene id (the first ``limit`` of them)."""
    scenes = [service.get_scene(item["id"]) for item in service.list_scenes(module)]
    chosen = [scene for scene in scenes if scene["request_schema"]]
    return chosen[:limit] if limit else chosen


def manual_case_for(scene: dict[str, Any]) -> dict[str, str]:
    """A manual test case for the operation, as a tester would write it from the document."""
    responses = scene["responses"]
    codes = documented_codes(responses)
    success = [code for code in codes if 200 <= code < 300] or [200]
    error = error_status(responses)

    def described(code: int) -> str:
        text = " ".join(str((responses.get(str(code)) or {}).get("description", "")).split())
        return f"{code} {text[:DESCRIPTION_CHARS]}".strip().rstrip(".")

    summary = " ".join((scene["summary"] or "").split())[:200]
    steps = [f"1. Send {scene['method']} {scene['path']} with a JSON body"]
    if summary:
        steps.append(f"2. {summary}")
    expected = "; ".join([*(described(code) for code in success), f"an invalid body is rejected with {error}"])
    return {"title": scene["name"][:300], "module": scene["module"], "steps": "\n".join(steps),
            "expected result": expected, "priority": "P2", "scene": scene["id"]}


def create_test_cases(scenes: list[dict[str, Any]]) -> dict[str, int]:
    """One manual test case per scene, imported as a CSV file: scene id -> test case id."""
    if not scenes:
        return {}
    rows = [manual_case_for(scene) for scene in scenes]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    imported = service.import_test_cases(out.getvalue().encode("utf-8"), "quality.csv", user=USER)
    return {scene["id"]: case_id for scene, case_id in zip(scenes, imported["ids"], strict=True)}


Reviewer = Callable[[list[dict[str, Any]]], list[dict[str, Any]] | None]
"""What a reviewer makes of a round's generated rows: the rows to approve, or None to approve them unchanged."""


def run_tasks(cases: dict[str, int], timeout: float, reviewer: Reviewer | None = None,
              ) -> tuple[dict[str, int], list[dict[str, Any]], list[bool]]:
    """Starts a task per test case, approves each as ``reviewer`` says (unchanged without one), waits for the end.

    Returns (scene id -> automation case id, [failed or unfinished tasks], whether each review edited the rows).
    """
    from core.tasks.worker import Worker

    tasks = {service.start_workflow(case_id, scene_id, user=USER)["task_id"]: scene_id
             for scene_id, case_id in cases.items()}
    finished: dict[str, int] = {}
    failed: list[dict[str, Any]] = []
    approved: set[int] = set()
    edited: list[bool] = []
    worker = Worker()
    worker.start()
    try:
        deadline = time.monotonic() + timeout
        while tasks and time.monotonic() < deadline:
            for task_id, scene_id in list(tasks.items()):
                task = service.get_task(task_id)
                if task["status"] == "reviewing" and task_id not in approved:
                    rows = reviewer(task["interrupt_data"]["generated_body"]) if reviewer else None
                    service.submit_review(task["thread_id"], "approved", corrected_body=rows, reviewer=USER)
                    approved.add(task_id)
                    edited.append(rows is not None)
                elif task["status"] == "completed":
                    finished[scene_id] = int(re.sub(r"\D", "", str(task["new_usercase_id"])))
                    del tasks[task_id]
                elif task["status"] in ("failed", "cancelled"):
                    failed.append({"scene": scene_id, "status": task["status"], "error": task["error_message"]})
                    del tasks[task_id]
            time.sleep(POLL_SECONDS)
    finally:
        worker.stop()
    failed += [{"scene": scene_id, "status": "unfinished", "error": f"not completed in {timeout:.0f} s"}
               for scene_id in tasks.values()]
    return finished, failed, edited


def sandbox_reviewer(rows: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """What a QA engineer does with the sandbox's verdicts: removes the rows the server contradicted (a valid
    row it refused, an invalid one it accepted) and approves the rest; unchanged when none was contradicted."""
    kept = [row for row in rows if (row.get("sandbox") or {}).get("agrees", True)]
    return None if len(kept) == len(rows) or not kept else kept


def _collected(scene: dict[str, Any], case_id: int) -> dict[str, Any]:
    case = service.get_automation_case(case_id)
    return {
        "schema_problems": schema_problems(scene["request_schema"], case["rows"],
                                           variables.setup_examples(case["setup"])),
        "scene": {"id": scene["id"], "method": scene["method"], "path": scene["path"],
                  "path_parameters": [item["name"] for item in scene["parameters"] if item["in"] == "path"],
                  "documented": documented_codes(scene["responses"])},
        "case_id": case_id,
        "rows": case["rows"],
        "setup": len(case["setup"]),
        "runs": [run["rows"] for run in reversed(case["runs"])],  # oldest first
    }


def schema_problems(schema: dict[str, Any], rows: list[dict[str, Any]],
                    known: dict[str, Any] | None = None) -> dict[str, list[str]]:
    """Row index -> what CaseFlow's own validation finds wrong with a valid or boundary row's body (``known``: the
    example values of what the case's setup captures, as step 5 checks them)."""
    found: dict[str, list[str]] = {}
    for index, row in enumerate(rows):
        if row["kind"] == "invalid":
            continue
        try:
            errors = [f"{item['keyword']} at {item['pointer'] or '/'}"
                      for item in validate_body(schema, variables.example(row["body"], known))]
        except InvalidSchemaError as error:
            errors = [f"the schema cannot be checked: {error}"]
        if errors:
            found[str(index)] = errors
    return found
