"""`python -m core` as a user runs it: JSON out, a clear message and exit code 2 on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_PASSWORD
from tests.support.cli import ROOT, ok, refused


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_setup_start_review_and_inspect_from_the_command_line(db_url: str, tmp_path: Path) -> None:
    setup = ok("setup", db_url=db_url)
    assert setup["demo_data"]["scenes"] >= 3 and len(setup["admin"]["password"]) >= 12
    assert "admin" not in ok("setup", db_url=db_url), "the generated password is shown once"

    started = ok("start", "--test-case", "1", "--scene", "SC001", "--priority", "8", "--user", "admin", db_url=db_url)
    assert started["status"] == "pending"
    listed = ok("tasks", "--status", "pending", db_url=db_url)
    assert listed["total"] == 1 and listed["items"][0]["priority"] == 8

    worker = subprocess.Popen([sys.executable, "-m", "core", "worker", "--concurrency", "1"], cwd=ROOT,
                              env={**os.environ, "DATABASE_URL": db_url, "POLL_SECONDS": "0.2"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        from tests.conftest import wait_for

        wait_for(started["task_id"], "reviewing", timeout=60)
        task = ok("task", str(started["task_id"]), "--events", db_url=db_url)
        bodies = [row["body"] for row in task["interrupt_data"]["generated_body"]]
        body_file = tmp_path / "fixed.json"
        body_file.write_text(json.dumps(bodies), encoding="utf-8")
        reviewed = ok("review", started["thread_id"], "--status", "approved", "--body-file", str(body_file),
                      "--wait", "30", "--user", "admin", db_url=db_url)
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=30)
    assert worker.returncode == 0, errors.decode()
    assert reviewed["status"] == "completed" and reviewed["new_usercase_id"].startswith("UC")
    assert [e["type"] for e in task["events"]][:2] == ["task_created", "workflow_started"]
    assert ok("cleanup", "--dry-run", db_url=db_url)["tasks"] == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_bad_input_gets_a_message_and_exit_code_2(db_url: str, tmp_path: Path) -> None:
    ok("setup", db_url=db_url, CASEFLOW_ADMIN_PASSWORD=TEST_PASSWORD)
    assert refused("start", "--test-case", "999", "--scene", "SC001", "--user", "admin", db_url=db_url)["message"] == \
        "No test case with id 999."
    assert "No scene" in refused("start", "--test-case", "1", "--scene", "NOPE", "--user", "admin",
                                 db_url=db_url)["message"]
    assert "No task with id 42" in refused("task", "42", db_url=db_url)["message"]
    assert "Unknown status" in refused("tasks", "--status", "done", db_url=db_url)["message"]
    broken = tmp_path / "broken.json"
    broken.write_text("[{", encoding="utf-8")
    assert "not valid JSON" in refused("review", "workflow_1_x", "--status", "approved", "--body-file",
                                       str(broken), "--user", "admin", db_url=db_url)["message"]
    assert "Invalid setting" in refused("worker", db_url=db_url, LEASE_SECONDS="0")["message"]
    assert "at least 10" in refused("create-user", "--username", "eve", "--role", "viewer", "--password", "short",
                                    db_url=db_url)["message"]
    assert "No password" in refused("create-user", "--username", "eve", "--role", "viewer", db_url=db_url)["message"]
    created = ok("create-user", "--username", "eve", "--role", "viewer", db_url=db_url,
                 CASEFLOW_PASSWORD="quiet-meadow-lantern")
    assert created == {"id": 2, "username": "eve", "role": "viewer"}
    assert "viewer" in refused("start", "--test-case", "1", "--scene", "SC001", "--user", "eve",
                               db_url=db_url)["message"]
    assert "already exists" in refused("create-user", "--username", "eve", "--role", "viewer", "--password",
                                       "quiet-meadow-lantern", db_url=db_url)["message"]
    assert ok("tasks", db_url=db_url)["total"] == 0, "nothing was written by the refused calls"
