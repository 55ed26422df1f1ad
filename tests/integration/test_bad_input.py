"""Bad input where tasks are started and reviewed: a typed error and nothing written, from Python and the CLI.

Every test runs on SQLite and PostgreSQL. Names and modules are checked against the
automation case's columns before the task is queued, so no task can run nine steps and
then fail to store its case; review bodies are checked before the decision is recorded.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from core import service
from core.database import session_scope
from core.errors import InvalidInput
from db.models import WorkflowTask
from tests.conftest import wait_for
from tests.integration.test_cli import refused
from tests.support.cases import first_case_and_scene
from tests.support.database import row_counts


def deep(levels: int) -> Any:
    value: Any = {}
    for _ in range(levels):
        value = {"a": value}
    return value


@pytest.fixture
def reviewing(demo: Any, worker: Any, users: dict[str, str]) -> dict[str, Any]:
    """A task awaiting its first review."""
    case_id, scene_id = first_case_and_scene()
    started = service.start_workflow(case_id, scene_id, user=users["engineer"])
    return wait_for(started["task_id"], "reviewing", timeout=60)


BAD_REVIEWS: list[tuple[dict[str, Any], str]] = [
    ({"corrected_body": [{"name": "x", "body": {"a": math.nan}}]}, r"\.body\.a is nan, which JSON cannot hold"),
    ({"corrected_body": [{"name": "x", "body": {"a": [math.inf]}}]}, "is inf, which JSON cannot hold"),
    ({"corrected_body": [{"name": {"x": 1}, "body": {}}]}, "must be text, not an object"),
    ({"corrected_body": [{"name": "x", "body": {}, "checks": "notalist"}]}, "checks must be a list of check objects"),
    ({"corrected_body": [{"name": "x", "body": {}, "checks": [{"kind": "status", "expected": 99}]}]},
     "not an HTTP status code"),
    ({"corrected_body": [{"name": "x", "body": {}, "expected_status": "201"}]}, "expected_status must be"),
    ({"corrected_body": [{"name": "x", "body": {}, "kind": "nope"}]}, "kind must be valid, boundary or invalid"),
    ({"corrected_body": [{"name": "x", "body": {}}, {"name": "x", "body": {}}]}, "row 2 needs a unique"),
    ({"corrected_body": [{"name": f"r{index}", "body": {}} for index in range(501)]}, "at most 500"),
    ({"corrected_body": [{"name": "x", "body": {"blob": "x" * 2_000_000}}]}, "at most 2,000,000 are allowed"),
    ({"corrected_body": [{"name": "x", "body": deep(100_000)}]}, "nested more than 64 levels deep"),
    ({"feedback": "f" * 10_001}, "The feedback has 10001 characters; at most 10000"),
    ({"feedback": "a NUL \x00 here"}, "The feedback contains a NUL character"),
    ({"wait_seconds": math.nan}, "The wait must be a number of seconds from 0 to 600, not nan"),
    ({"wait_seconds": math.inf}, "from 0 to 600, not inf"),
    ({"wait_seconds": -1}, "from 0 to 600, not -1"),
]


def test_bad_review_input_is_refused_before_anything_is_written(reviewing: dict[str, Any],
                                                                users: dict[str, str]) -> None:
    thread = reviewing["thread_id"]
    before = row_counts()
    for kwargs, message in BAD_REVIEWS:
        with pytest.raises(InvalidInput, match=message):
            service.submit_review(thread, "approved", reviewer=users["engineer"], **kwargs)
    with pytest.raises(InvalidInput, match="NUL"):
        service.submit_review(thread + "\x00", "approved", reviewer=users["engineer"])
    assert row_counts() == before
    assert service.get_task(reviewing["id"])["status"] == "reviewing"

    note = "N" * 10_000
    done = service.submit_review(thread, "approved", feedback=note, reviewer=users["engineer"], wait_seconds=30)
    assert done["status"] == "completed" and service.reviews_of_task(reviewing["id"])[0]["feedback"] == note


def test_names_and_modules_must_fit_the_automation_case(demo: Any, worker: Any, users: dict[str, str]) -> None:
    case_id, scene_id = first_case_and_scene()
    before = row_counts()
    for kwargs, message in [
        ({"name": "N" * 301}, "The task name has 301 characters; at most 300 are allowed"),
        ({"name": "a\x00b"}, "The task name contains a NUL character"),
        ({"name": 5}, "The task name must be text, not a number"),
        ({"module_id": "M" * 101}, "The module has 101 characters; at most 100 are allowed"),
        ({"module_id": "\x00"}, "The module contains a NUL character"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            service.start_workflow(case_id, scene_id, user=users["engineer"], **kwargs)
    with pytest.raises(InvalidInput, match="The scene id contains a NUL character"):
        service.start_workflow(case_id, scene_id + "\x00", user=users["engineer"])
    assert row_counts() == before

    name, module = "N" * 300, "M" * 100
    started = service.start_workflow(case_id, scene_id, name=f"  {name}\n", module_id=f" {module} ",
                                     user=users["engineer"])
    task = wait_for(started["task_id"], "reviewing", timeout=60)
    done = service.submit_review(task["thread_id"], "approved", reviewer=users["engineer"], wait_seconds=30)
    assert done["status"] == "completed", done
    assert (done["created_case"]["name"], done["created_case"]["module_id"]) == (name, module)


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_database_error_in_a_step_is_shown_without_its_sql(db_url: str, demo: Any, users: dict[str, str],
                                                             request: pytest.FixtureRequest) -> None:
    """A task queued before names were checked, with a name its case cannot store: the failure names no SQL."""
    case_id, scene_id = first_case_and_scene()
    started = service.start_workflow(case_id, scene_id, user=users["engineer"])
    too_long = "too long " * 120
    with session_scope() as session:
        task = session.get(WorkflowTask, started["task_id"])
        task.input_params = {**task.input_params, "name": too_long}
    request.getfixturevalue("worker")
    task = wait_for(started["task_id"], "reviewing", timeout=60)
    service.submit_review(task["thread_id"], "approved", reviewer=users["engineer"])
    failed = wait_for(started["task_id"], "failed", timeout=60)
    assert failed["error_message"] == (
        "Step 10 (Create the automation case) failed: DataError: value too long for type character varying(300)")


def test_the_command_line_refuses_bad_starts_and_reviews_with_exit_code_2(db_url: str, reviewing: dict[str, Any],
                                                                          tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEFLOW_USER", "admin")  # the commands act as the operator's admin
    case_id, scene_id = first_case_and_scene()
    files = {
        "nan.json": b'[{"name": "x", "body": {"a": NaN}}]',
        "deep.json": b"[" * 100_000 + b"]" * 100_000,
        "hugeint.json": b'[{"name": "x", "body": {"a": ' + b"9" * 5000 + b"}}]",
        "latin1.json": '[{"name": "café", "body": {}}]'.encode("latin-1"),
        "checks.json": b'[{"name": "x", "body": {}, "checks": "notalist"}]',
        "big.json": b"[" + b" " * 2_000_000 + b"]",
    }
    messages = {
        "nan.json": "corrected_body[0].body.a is nan, which JSON cannot hold",
        "deep.json": "is nested too deeply to read",
        "hugeint.json": "holds a number too long to read",
        "latin1.json": "is not UTF-8 text",
        "checks.json": "checks must be a list of check objects, not a string",
        "big.json": "has 2,000,002 bytes; at most 2,000,000 are allowed",
    }
    review = ("review", reviewing["thread_id"], "--status", "approved")
    start = ("start", "--test-case", str(case_id), "--scene", scene_id)
    calls: list[tuple[tuple[str, ...], str]] = [
        ((*start, "--name", "N" * 301), "The task name has 301 characters; at most 300 are allowed."),
        ((*start, "--module", "M" * 101), "The module has 101 characters; at most 100 are allowed."),
        ((*review, "--wait", "nan"), "The wait must be a number of seconds from 0 to 600, not nan."),
    ]
    for filename, content in files.items():
        (tmp_path / filename).write_bytes(content)
        calls.append(((*review, "--body-file", str(tmp_path / filename)), messages[filename]))
    before = row_counts()
    for args, message in calls:
        error = refused(*args, db_url=db_url)
        assert error["error"] == "invalid_input" and message in error["message"], (args[:4], error)
    assert row_counts() == before
    assert service.get_task(reviewing["id"])["status"] == "reviewing"
