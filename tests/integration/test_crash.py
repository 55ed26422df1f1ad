"""A worker process killed mid-run: a fresh worker finishes the task from its checkpoint, once."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from core import service
from core.database import session_scope
from db.models import AutomationCase
from tests.conftest import wait_for
from tests.support.cases import first_case_and_scene
from tests.support.checkpoints import assert_history_linear, checkpoints_of

ROOT = Path(__file__).resolve().parents[2]


def _worker_process(db_url: str, **settings: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": db_url, "POLL_SECONDS": "0.2", "WORKER_CONCURRENCY": "1", **settings}
    return subprocess.Popen([sys.executable, "-m", "core", "worker"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for_step(task_id: int, step: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while service.get_task(task_id)["current_step"] != step:
        assert process.poll() is None, f"the worker exited: {process.stderr.read().decode()}"
        assert time.monotonic() < deadline, f"task never reached {step}: {service.get_task(task_id)}"
        time.sleep(0.02)


def test_sigkilled_worker_is_replaced_and_the_case_is_created_once(demo, users, db_url) -> None:
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    doomed = _worker_process(db_url, AI_LATENCY_SECONDS="0.5", LEASE_SECONDS="2")
    try:
        _wait_for_step(task_id, "analyse_case", doomed)  # now inside step 3, waiting on the "AI"
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
    stranded = service.get_task(task_id)
    assert stranded["status"] == "processing" and stranded["lease_owner"]

    fresh = _worker_process(db_url, LEASE_SECONDS="2")
    try:
        task = wait_for(task_id, "reviewing", timeout=60)
        assert_history_linear(task["thread_id"])
        service.submit_review(task["thread_id"], "approved", reviewer=users["engineer"])
        done = wait_for(task_id, "completed", timeout=60)
    finally:
        fresh.terminate()
        _, errors = fresh.communicate(timeout=30)
    assert fresh.returncode == 0, errors.decode()

    assert done["new_usercase_id"]
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(AutomationCase)) == 1
    timeline = service.task_timeline(task_id)
    kinds = [e["type"] for e in timeline]
    requeued = next(i for i, e in enumerate(timeline)
                    if e["type"] == "task_requeued" and doomed_owner(stranded) in e["message"])
    assert "task_resumed" in kinds[requeued:], "a fresh worker took the task over"
    completed_steps = collections.Counter(e["step"] for e in timeline if e["type"] == "step_completed")
    assert completed_steps["load_inputs"] == 1 and completed_steps["analyse_case"] == 1, completed_steps

    assert len(checkpoints_of(done["thread_id"])) == 1, "a finished thread keeps its last checkpoint only"


def doomed_owner(task: dict) -> str:
    return task["lease_owner"]
