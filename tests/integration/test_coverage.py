"""The coverage map: a module's operations × documented statuses × constraint keywords, counted from approved rows
and their last run, against a real server; and tasks launched for its gaps."""

from __future__ import annotations

from core import service
from tests.conftest import wait_for
from tests.support import strict_api

MODULE = "Strict API"  # the document's title: its operations have no tags


def test_the_map_counts_approved_rows_and_their_last_run_and_launches_the_gaps(users, worker) -> None:
    engineer = users["engineer"]
    with strict_api.serve() as api:
        task = strict_api.reviewing_task(api, engineer, "createProject", "Create a project", default=True)
        empty = {item["scene_id"]: item for item in service.coverage_map(MODULE)["operations"]}
        assert set(empty) == {"createProject", "putProjectSettings", "deleteProject", "createTask", "putArchive",
                              "createNote"}
        project = empty["createProject"]
        assert set(project["statuses"]) == {"201", "409", "422"} and {"maxLength", "required"} <= set(
            project["keywords"])
        assert "status 201" in project["gaps"] and project["cases"] == 0

        service.submit_review(task["thread_id"], "approved", reviewer=engineer, wait_seconds=30)
        case_id = int(service.get_task(task["id"])["new_usercase_id"].removeprefix("UC"))
        rows = service.get_automation_case(case_id)["rows"]
        approved = service.coverage_map(MODULE)
        project = next(item for item in approved["operations"] if item["scene_id"] == "createProject")
        expecting = sum(row["expected_status"] == 201 for row in rows)
        assert project["cases"] == 1 and project["statuses"]["201"] == {"rows": expecting, "passed": 0, "failed": 0}
        aimed = sum(row["keyword"] == "maxLength" and row["kind"] != "valid" for row in rows)
        assert project["keywords"]["maxLength"]["rows"] == aimed > 0
        assert approved["covered"] > 0 and "status 201" not in project["gaps"]

        run = service.run_case(case_id, user=engineer)
        after = next(item for item in service.coverage_map(MODULE)["operations"] if item["scene_id"] == "createProject")
        passed = {row["name"] for row in run["rows"] if row["passed"]}
        assert after["statuses"]["201"]["passed"] == sum(row["expected_status"] == 201 and row["name"] in passed
                                                         for row in rows)
        assert sum(cell["passed"] + cell["failed"] for cell in after["statuses"].values()) == len(rows)

        launched = service.launch_for_gaps(MODULE, user=engineer)
        gapped = [item["scene_id"] for item in approved["operations"] if item["gaps"]]
        tasks = [service.get_task(task_id) for task_id in launched["started"]]
        assert sorted(item["scene_id"] for item in tasks) == sorted(gapped) and launched["remaining"] == 0
        written = [service.get_test_case(case) for case in launched["written"]]
        assert written and all(case["title"].startswith("Cover ") and case["scene_id"] in gapped for case in written)
        assert len(written) == len(gapped) - ("createProject" in gapped), "the linked test case is used, not copied"
        for item in tasks:
            wait_for(item["id"], "reviewing", timeout=120)
