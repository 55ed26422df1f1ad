"""Prometheus metrics: what runs in a process is counted, what the database holds is read on scrape."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta

import pytest
from prometheus_client import generate_latest
from sqlalchemy import update

from core import service
from core.config import get_settings
from core.database import session_scope
from core.tasks import lifecycle, telemetry
from db.models import WorkflowTask
from db.types import utcnow
from testing.fake_openai import FakeOpenAI, running
from tests.conftest import wait_for
from tests.support.cases import first_case_and_scene
from tests.support.cli import ROOT

MODEL = "gpt-4o-mini"


def _value(name: str, **labels: str) -> float:
    return telemetry.registry().get_sample_value(name, labels) or 0.0


@pytest.fixture
def model_worker(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    """An in-process worker whose provider is the OpenAI-compatible one, talking to the fake server."""
    from core.tasks.worker import in_process_worker, stop_in_process_worker

    with running() as fake:
        for name, value in {"OPENAI_API_KEY": "sk-test-telemetry", "OPENAI_BASE_URL": fake.url,
                            "OPENAI_MODEL": MODEL}.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        in_process_worker()
        yield fake
        stop_in_process_worker()


def test_a_run_is_counted_and_the_database_is_read_on_scrape(demo, users, model_worker) -> None:
    before = {
        "claims": _value("caseflow_claim_latency_seconds_count"),
        "step": _value("caseflow_step_duration_seconds_count", step="generate_bodies"),
        "calls": _value("caseflow_ai_calls_total", provider="openai", model=MODEL, outcome="ok"),
        "tokens": _value("caseflow_ai_tokens_total", provider="openai", model=MODEL, kind="prompt"),
    }
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    wait_for(task_id, "reviewing")

    assert _value("caseflow_claim_latency_seconds_count") == before["claims"] + 1
    assert _value("caseflow_step_duration_seconds_count", step="generate_bodies") == before["step"] + 1
    calls = _value("caseflow_ai_calls_total", provider="openai", model=MODEL, outcome="ok") - before["calls"]
    assert calls == len(model_worker.received) > 0
    assert _value("caseflow_ai_tokens_total", provider="openai", model=MODEL, kind="prompt") > before["tokens"]
    assert _value("caseflow_tasks", status="reviewing") == 1
    assert _value("caseflow_reviews_waiting") == 1 and _value("caseflow_oldest_review_age_seconds") >= 0
    assert _value("caseflow_reviews_overdue") == 0, "a review asked for just now is not overdue"
    assert _value("caseflow_database_up") == 1
    assert b"caseflow_queue_depth 0.0" in generate_latest(telemetry.registry())


def test_queue_depth_oldest_pending_and_lease_recoveries(demo, users) -> None:
    case_id, scene_id = first_case_and_scene()
    tasks = [service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"] for _ in range(3)]
    with session_scope() as session:
        session.execute(update(WorkflowTask).where(WorkflowTask.id == tasks[0])
                        .values(created_at=utcnow() - timedelta(hours=1)))
    assert _value("caseflow_queue_depth") == 3 and _value("caseflow_tasks", status="pending") == 3
    assert _value("caseflow_oldest_pending_age_seconds") >= 3600
    recovered = _value("caseflow_lease_recoveries_total", outcome="requeued")
    lifecycle.claim("w", 1, 30)
    with session_scope() as session:
        session.execute(update(WorkflowTask).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    assert len(lifecycle.requeue_expired(max_attempts=3)) == 1
    assert _value("caseflow_lease_recoveries_total", outcome="requeued") == recovered + 1
    service.pause_queue(user=users["admin"])
    assert _value("caseflow_queue_paused") == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_worker_process_serves_its_metrics(db_url: str) -> None:
    port = _free_port()
    worker = subprocess.Popen([sys.executable, "-m", "core", "worker"], cwd=ROOT,
                              env={**os.environ, "DATABASE_URL": db_url, "METRICS_PORT": str(port)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        worker.stdout.readline()  # started, metrics served
        text = _scrape(port)
    finally:
        worker.terminate()
        worker.communicate(timeout=30)
    assert "caseflow_queue_depth 0.0" in text and 'caseflow_tasks{status="pending"} 0.0' in text
    assert "caseflow_claim_latency_seconds_bucket" in text


def _scrape(port: int, attempts: int = 50) -> str:
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
                return answer.read().decode()
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing served on port {port}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
