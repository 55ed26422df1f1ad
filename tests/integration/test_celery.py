"""The Celery executor with a real redis-server and real `python -m core celery-worker` processes."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import func, select

from core import service
from core.config import get_settings
from core.database import session_scope
from db.models import AutomationCase
from tests.conftest import wait_for
from tests.integration.test_crash import _wait_for_step
from tests.support.cases import first_case_and_scene
from tests.support.checkpoints import assert_history_linear, checkpoints_of
from tests.support.cli import ROOT


@pytest.fixture
def broker(db_url: str, redis_server, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """This process sends Celery messages to an empty Redis database."""
    url = redis_server.url()
    redis.Redis.from_url(url).flushdb()
    for name, value in {"TASK_EXECUTOR": "celery", "REDIS_URL": url, "CELERY_RESEND_SECONDS": "1"}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield url


def _celery_worker(db_url: str, concurrency: int = 1, **settings: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": db_url, **settings}
    return subprocess.Popen([sys.executable, "-m", "core", "celery-worker", "--concurrency", str(concurrency)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _stop(process: subprocess.Popen[bytes]) -> str:
    process.terminate()
    _, errors = process.communicate(timeout=60)
    assert process.returncode == 0, errors.decode()
    return errors.decode()


def test_celery_workers_run_tasks_to_the_end(demo, users, db_url, broker) -> None:
    case_id, scene_id = first_case_and_scene()
    tasks = [service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"] for _ in range(2)]
    worker = _celery_worker(db_url, concurrency=2)
    try:
        for task_id in tasks:
            reviewing = wait_for(task_id, "reviewing", timeout=90)
            service.submit_review(reviewing["thread_id"], "approved", reviewer=users["engineer"])
        done = [wait_for(task_id, "completed", timeout=90) for task_id in tasks]
    finally:
        log = _stop(worker)
    assert all(task["new_usercase_id"] for task in done)
    assert "caseflow.run_task" in log
    for task_id in tasks:
        kinds = collections.Counter(e["type"] for e in service.task_timeline(task_id))
        assert kinds["workflow_started"] == 1 and kinds["task_resumed"] == 1 and kinds["workflow_completed"] == 1
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(AutomationCase)) == 2


def test_a_sigkilled_celery_worker_is_replaced_and_the_case_is_created_once(demo, users, db_url, broker) -> None:
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    doomed = _celery_worker(db_url, AI_LATENCY_SECONDS="0.5", LEASE_SECONDS="2")
    try:
        _wait_for_step(task_id, "analyse_case", doomed)  # now inside step 3, waiting on the "AI"
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
    stranded = service.get_task(task_id)
    assert stranded["status"] == "processing" and stranded["lease_owner"].startswith("celery:")

    fresh = _celery_worker(db_url, LEASE_SECONDS="2")
    try:
        task = wait_for(task_id, "reviewing", timeout=90)
        assert_history_linear(task["thread_id"])
        service.submit_review(task["thread_id"], "approved", reviewer=users["engineer"])
        done = wait_for(task_id, "completed", timeout=90)
    finally:
        _stop(fresh)

    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(AutomationCase)) == 1
    timeline = service.task_timeline(task_id)
    kinds = [e["type"] for e in timeline]
    requeued = next(i for i, e in enumerate(timeline)
                    if e["type"] == "task_requeued" and stranded["lease_owner"] in e["message"])
    assert "task_resumed" in kinds[requeued:], "a fresh worker took the task over"
    completed_steps = collections.Counter(e["step"] for e in timeline if e["type"] == "step_completed")
    assert completed_steps["load_inputs"] == 1 and completed_steps["analyse_case"] == 1, completed_steps
    assert kinds.count("workflow_completed") == 1
    assert len(checkpoints_of(done["thread_id"])) == 1, "a finished thread keeps its last checkpoint only"


def test_a_task_whose_message_was_lost_is_sent_again_by_the_sweep(demo, users, db_url, broker, monkeypatch) -> None:
    monkeypatch.setenv("TASK_EXECUTOR", "apscheduler")  # started without a message, as if Redis had lost it
    get_settings.cache_clear()
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    assert redis.Redis.from_url(broker).llen("caseflow") == 0
    worker = _celery_worker(db_url, CELERY_RESEND_SECONDS="1")
    try:
        wait_for(task_id, "reviewing", timeout=90)
    finally:
        _stop(worker)
    assert [e["type"] for e in service.task_timeline(task_id)].count("workflow_started") == 1
