"""The sandbox run against a real server stricter than its document: rows repaired from its answers before
review, and an approved case that passes on its first run and again on the next."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core import service
from core.errors import InvalidInput
from tests.conftest import wait_for
from tests.support import strict_api
from tests.support.exports import run_pytest

CASE_CSV = (b"title,module,scene_id,steps,expected_result\n"
            b"Create a project,Projects,createProject,1. Send the project,201 with the project's id\n")


def test_rows_a_strict_server_refuses_are_repaired_before_review_and_pass_on_every_run(users, worker,
                                                                                     tmp_path: Path) -> None:
    engineer = users["engineer"]
    with strict_api.serve() as api:
        service.import_openapi(api.document, "strict.json", user=engineer)
        [case_id] = service.import_test_cases(CASE_CSV, "cases.csv", user=engineer)["ids"]
        service.create_environment({"name": "staging", "base_url": api.base_url, "sandbox_for": ["Projects"],
                                    "default_for": ["Projects"]}, user=engineer)
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
        first = service.run_case(int(code.removeprefix("UC")), user=engineer)  # the module's default environment
        second = service.run_case(int(code.removeprefix("UC")), user=engineer)
        exported = service.export_case(int(code.removeprefix("UC")), "pytest")
        test_file = tmp_path / exported.filename
        test_file.write_bytes(exported.content)
        for _ in range(2):  # an exported file resolves the variables afresh on each run too
            outcome = run_pytest(test_file, BASE_URL=api.base_url)
            assert outcome.returncode == 0, outcome.stdout[-2000:]
    for run in (first, second):
        wrong = [(row["name"], row["status_code"], row["failures"]) for row in run["rows"] if not row["passed"]]
        assert run["status"] == "passed", wrong
    duplicates = [item for item in api.received if item["rule"] == "duplicate"]
    assert not duplicates, "no valid row ever sent a name the server already had"


def test_without_a_sandbox_nothing_is_sent_before_review(users, worker) -> None:
    engineer = users["engineer"]
    with strict_api.serve() as api:
        service.import_openapi(api.document, "strict.json", user=engineer)
        [case_id] = service.import_test_cases(CASE_CSV, "cases.csv", user=engineer)["ids"]
        service.create_environment({"name": "staging", "base_url": api.base_url, "default_for": ["Projects"]},
                                   user=engineer)
        task = wait_for(service.start_workflow(case_id, "createProject", user=engineer)["task_id"], "reviewing")
    assert api.received == [] and not any("sandbox" in row for row in task["interrupt_data"]["generated_body"])


def passes_twice_and_exported(api: strict_api.StrictApi, case: int, user: str, tmp_path: Path) -> set[str]:
    """Runs the approved case twice and its exported pytest file once, all passing; the projects left after."""
    runs = [service.run_case(case, user=user) for _ in range(2)]
    exported = service.export_case(case, "pytest")
    test_file = tmp_path / exported.filename
    test_file.write_bytes(exported.content)
    outcome = run_pytest(test_file, BASE_URL=api.base_url)
    assert outcome.returncode == 0, outcome.stdout[-2000:]
    for run in runs:
        assert run["status"] == "passed", [(row["name"], row["failures"]) for row in run["rows"] if not row["passed"]]
    return set(api.projects)


def test_a_resource_the_path_names_is_created_first_and_deleted_after(users, worker, tmp_path: Path) -> None:
    engineer = users["engineer"]
    with strict_api.serve() as api:
        task = strict_api.reviewing_task(api, engineer, "putProjectSettings", "Replace settings", default=True)
        [step] = task["interrupt_data"]["setup"]
        assert (step["method"], step["path"], step["cleanup"]) == ("POST", "/projects", "/projects/{{project_name}}")
        assert any("lower" in note for note in step["repairs"]), "the server's unstated rule fixed the setup's body"
        rows = task["interrupt_data"]["generated_body"]
        refused = [(row["name"], row["sandbox"]) for row in rows if not row["sandbox"]["agrees"]]
        assert not refused and len(rows) >= 4

        with pytest.raises(InvalidInput, match="method must be one of"):
            service.submit_review(task["thread_id"], "approved", reviewer=engineer,
                                  corrected_setup=[{**step, "method": "FETCH"}])
        assert service.get_task(task["id"])["status"] == "reviewing", "a bad setup changes nothing"
        renamed = [{**step, "name": "make a project to configure"}]
        service.submit_review(task["thread_id"], "approved", reviewer=engineer, corrected_setup=renamed,
                              wait_seconds=30)
        case = int(service.get_task(task["id"])["new_usercase_id"].removeprefix("UC"))
        assert [item["name"] for item in service.get_automation_case(case)["setup"]] == ["make a project to configure"]
        left = passes_twice_and_exported(api, case, engineer, tmp_path)
    settings = [item for item in api.received if item["path"].endswith("/settings")]
    assert settings and not any(item["rule"] == "no_project" for item in settings)
    assert left == set(), "every project a setup created was deleted after its row"


def test_a_resource_the_body_refers_to_is_created_first_and_its_id_sent(users, worker, tmp_path: Path) -> None:
    engineer = users["engineer"]
    with strict_api.serve() as api:
        task = strict_api.reviewing_task(api, engineer, "createTask", "Create a task", default=True)
        [step] = task["interrupt_data"]["setup"]
        assert (step["method"], step["path"], step["cleanup"]) == ("POST", "/projects", "/projects/{{project_id}}")
        assert isinstance(step["examples"]["project_id"], int)
        rows = task["interrupt_data"]["generated_body"]
        positive = [row for row in rows if row["kind"] != "invalid"]
        assert positive and all(row["body"]["project_id"] == "{{project_id}}" for row in positive)
        refused = [(row["name"], row["sandbox"]) for row in rows if not row["sandbox"]["agrees"]]
        assert not refused
        service.submit_review(task["thread_id"], "approved", reviewer=engineer, wait_seconds=30)
        case = int(service.get_task(task["id"])["new_usercase_id"].removeprefix("UC"))
        left = passes_twice_and_exported(api, case, engineer, tmp_path)
    tasks = [item for item in api.received if item["path"] == "/tasks"]
    sent = [json.loads(item["body"]) for item in tasks if item["rule"] == "ok"]
    assert sent and all(isinstance(body["project_id"], int) for body in sent), "the captured id sent as a number"
    assert not any(item["rule"] == "no_project" for item in tasks)
    assert left == set(), "every project a setup created was deleted after its row"


def test_a_resource_the_server_names_as_missing_is_created_first(users, worker, tmp_path: Path) -> None:
    """``fallback_project_id`` does not say it names a project; the server's 404 does ("Project 12 not found")."""
    engineer = users["engineer"]
    with strict_api.serve() as api:
        task = strict_api.reviewing_task(api, engineer, "putArchive", "Archive to a fallback project", default=True)
        [step] = task["interrupt_data"]["setup"]
        assert (step["method"], step["path"], list(step["captures"])) == ("POST", "/projects", ["fallback_project_id"])
        rows = task["interrupt_data"]["generated_body"]
        positive = [row for row in rows if row["kind"] != "invalid"]
        unbound = [(row["name"], row["body"]) for row in positive
                   if row["body"]["fallback_project_id"] != "{{fallback_project_id}}"]
        assert positive and not unbound, unbound
        assert not any(row["pointer"] == "/fallback_project_id" for row in rows if row["kind"] == "boundary"), \
            "a boundary of an id the setup fills says nothing"
        refused = [(row["name"], row["sandbox"]) for row in rows if not row["sandbox"]["agrees"]]
        assert not refused
        service.submit_review(task["thread_id"], "approved", reviewer=engineer, wait_seconds=30)
        case = int(service.get_task(task["id"])["new_usercase_id"].removeprefix("UC"))
        left = passes_twice_and_exported(api, case, engineer, tmp_path)
    assert left == set(), "every project a setup created was deleted after its row"


def test_a_missing_resource_the_sandbox_cannot_make_leaves_the_setup_as_it_was(users, worker) -> None:
    """Every row would go unsent behind a setup step that fails: the step is not taken, and the invalid rows
    keep the refusals they agree with."""
    engineer = users["engineer"]
    with strict_api.serve() as api:
        api.projects_fail = True
        task = strict_api.reviewing_task(api, engineer, "putArchive", "Archive to a fallback project")
    rows = task["interrupt_data"]["generated_body"]
    assert task["interrupt_data"]["setup"] == []
    assert any(item["path"] == "/projects" and item["rule"] == "defect" for item in api.received), "it was tried"
    invalid = [row for row in rows if row["kind"] == "invalid"]
    assert invalid and all(row["sandbox"]["agrees"] for row in invalid)
    assert all(row["sandbox"]["status"] == 404 for row in rows if row["kind"] == "valid"), "still flagged"
