"""Wake-ups across processes on PostgreSQL: a worker process that polls once an hour still claims at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from core import service
from tests.conftest import wait_for
from tests.support.cases import first_case_and_scene
from tests.support.cli import ROOT

HOUR = "3600"
SETTLE_SECONDS = 0.5
"""After a run pauses, its worker dispatches once more; wait for that so the next claim needs a wake-up."""


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_starting_and_reviewing_wake_an_idle_worker_process(demo, users, db_url) -> None:
    """With POLL_SECONDS at an hour, only NOTIFY can make the worker claim within the test's timeout."""
    case_id, scene_id = first_case_and_scene()
    worker = subprocess.Popen(
        [sys.executable, "-m", "core", "worker", "--concurrency", "1"], cwd=ROOT,
        env={**os.environ, "DATABASE_URL": db_url, "POLL_SECONDS": HOUR}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert b"worker" in worker.stdout.readline(), "the worker started"
        first = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
        reviewing = wait_for(first, "reviewing", timeout=60)
        time.sleep(SETTLE_SECONDS)
        second = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
        wait_for(second, "reviewing", timeout=60)
        time.sleep(SETTLE_SECONDS)
        service.submit_review(reviewing["thread_id"], "approved", reviewer=users["engineer"])
        done = wait_for(first, "completed", timeout=60)
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=30)
    assert worker.returncode == 0, errors.decode()
    assert done["new_usercase_id"]
    claims = [e for task in (first, second) for e in service.task_timeline(task)
              if e["type"] in ("workflow_started", "task_resumed")]
    assert len(claims) == 3 and len({e["worker"] for e in claims}) == 1
