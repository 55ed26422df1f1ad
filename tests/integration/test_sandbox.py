"""The sandbox run against a real server stricter than its document: rows repaired from its answers before
review, and an approved case that passes on its first run and again on the next."""

from __future__ import annotations

import dataclasses
from typing import Any

from core import service
from core.library import sandbox
from core.library.runs import case_request
from core.tasks.worker import Worker
from tests.conftest import wait_for
from tests.support import strict_api

CASE_CSV = (b"title,module,scene_id,steps,expected_result\n"
            b"Create a project,Projects,createProject,1. Send the project,201 with the project's id\n")


def _sandboxed(worker: Worker, target: sandbox.Target) -> None:
    """The worker's runs send their rows to ``target`` (as a module's sandbox environment would)."""
    def send(state: Any, rows: list[Any]) -> Any:
        scene = state["scene"]
        return sandbox.check(target, case_request(scene["method"], scene["path"], [], rows), rows, None)

    worker.runner.context = dataclasses.replace(worker.runner.context, sandbox=send)


def test_rows_a_strict_server_refuses_are_repaired_before_review_and_pass_on_every_run(users, worker) -> None:
    engineer = users["engineer"]
    with strict_api.serve() as api:
        service.import_openapi(api.document, "strict.json", user=engineer)
        [case_id] = service.import_test_cases(CASE_CSV, "cases.csv", user=engineer)["ids"]
        _sandboxed(worker, sandbox.Target(base_url=api.base_url))
        task = wait_for(service.start_workflow(case_id, "createProject", user=engineer)["task_id"], "reviewing")
        rows = task["interrupt_data"]["generated_body"]
        assert all("sandbox" in row for row in rows), "every row that passes the schema was sent"
        refused = [row for row in rows if not row["sandbox"]["agrees"]]
        assert not refused, [(row["name"], row["sandbox"]) for row in refused]
        repaired = [row for row in rows if row.get("repairs")]
        assert repaired and any("lower" in note for row in repaired for note in row["repairs"])
        assert sum(row["kind"] == "valid" for row in rows) >= 3

        service.submit_review(task["thread_id"], "approved", reviewer=engineer, wait_seconds=30)
        code = service.get_task(task["id"])["new_usercase_id"]
        first = service.run_case(int(code.removeprefix("UC")), api.base_url, user=engineer)
        second = service.run_case(int(code.removeprefix("UC")), api.base_url, user=engineer)
    for run in (first, second):
        wrong = [(row["name"], row["status_code"], row["failures"]) for row in run["rows"] if not row["passed"]]
        assert run["status"] == "passed", wrong
    duplicates = [item for item in api.received if item["rule"] == "duplicate"]
    assert not duplicates, "no valid row ever sent a name the server already had"
