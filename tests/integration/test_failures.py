"""How runs fail: a clear message naming the step, automatic retries of transient errors."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import delete

from core import service
from core.database import session_scope
from core.errors import TransientError
from core.generation.offline.provider import OfflineProvider
from core.tasks.worker import Worker
from db.models import TestCase
from tests.conftest import wait_for
from tests.support.cases import first_case_and_scene


class FlakyProvider(OfflineProvider):
    """The offline provider, but its analysis fails ``failures`` times first, as a rate-limited AI would."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def analyse(self, case: Any, scene: Any) -> Any:
        if self.failures > 0:
            self.failures -= 1
            raise TransientError("AI provider answered 429 Too Many Requests")
        return super().analyse(case, scene)


def _use_provider(worker: Any, provider: Any) -> None:
    worker.runner.context = dataclasses.replace(worker.runner.context, provider=provider)


def test_a_deleted_test_case_fails_the_task_naming_the_step(demo, users) -> None:
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    with session_scope() as session:
        session.execute(delete(TestCase).where(TestCase.id == case_id))
    worker = Worker()
    worker.start()
    try:
        failed = wait_for(task_id, "failed")
    finally:
        worker.stop()
    assert failed["error_message"] == f"Step 1 (Load the test case and the scene) failed: " \
                                      f"Test case {case_id} no longer exists."
    assert failed["current_step"] == "load_inputs" and failed["progress"] == 0
    assert "Traceback" not in failed["error_message"]
    event = service.task_timeline(task_id)[-1]
    assert event["type"] == "workflow_failed" and event["data"]["error"] == failed["error_message"]


def test_transient_errors_are_retried_with_backoff(demo, worker, users) -> None:
    worker.runner.settings = worker.runner.settings.model_copy(update={"retry_base_seconds": 0})
    _use_provider(worker, FlakyProvider(failures=2))
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    task = wait_for(task_id, "reviewing")
    assert task["attempts"] == 1, "waiting out a fault is not a lost run"
    retries = [e for e in service.task_timeline(task_id) if e["type"] == "retry_scheduled"]
    assert len(retries) == 2 and "429" in retries[0]["message"] and retries[0]["step"] == "analyse_case"


def test_transient_errors_fail_the_task_once_the_retry_budget_is_spent(demo, worker, users) -> None:
    worker.runner.settings = worker.runner.settings.model_copy(
        update={"retry_budget_seconds": 0.5, "retry_base_seconds": 0})
    _use_provider(worker, FlakyProvider(failures=10_000))
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    failed = wait_for(task_id, "failed")
    assert failed["error_message"].startswith(
        "Step 2 (Analyse the case) failed: AI provider answered 429 Too Many Requests (still failing after ")
    timeline = service.task_timeline(task_id)
    retries = [event for event in timeline if event["type"] == "retry_scheduled"]
    assert retries and timeline[-1]["type"] == "workflow_failed"
    assert retries[0]["created_at"] < timeline[-1]["created_at"]
