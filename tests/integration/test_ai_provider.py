"""The workflow on the OpenAI-compatible provider, against a real local HTTP server, on each backend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text, update

from core import service
from core.config import get_settings
from core.database import session_scope
from core.tasks import ai_calls
from db.models import AICall, Review, Scene, TestCase, WorkflowTask
from db.types import utcnow
from testing.fake_openai import FakeOpenAI, Reply, running
from tests.conftest import wait_for
from tests.support.cases import first_case_and_scene
from tests.support.secrets import secret_case, secret_scene

API_KEY = "sk-test-workflow-0123456789abcdef"
PLANTED = (
    "S3cr3t-Pa55!", "tok_live_9f8e7d6c5b4a", "Zion-2199!", "ak_1234567890abcdef",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "tkn-0123456789abcdef", "sk-test-ABCDEFGHIJKLMNOP",
    "Abc@12345678",
)


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with running() as server:
        yield server


@pytest.fixture
def ai_worker(db_url: str, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A worker whose provider is the OpenAI-compatible one, pointed at the fake server.

    Tasks do not retry transient faults (RETRY_BUDGET_SECONDS=0) unless a test says otherwise.
    """
    from core.tasks.worker import in_process_worker, stop_in_process_worker

    for name, value in {
        "OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": fake.url, "OPENAI_MODEL": "gpt-4o-mini",
        "AI_TIMEOUT_SECONDS": "0.5", "AI_BACKOFF_SECONDS": "0.01", "AI_BACKOFF_MAX_SECONDS": "0.5",
        "RETRY_BUDGET_SECONDS": "0",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield in_process_worker()
    stop_in_process_worker()


def test_a_case_through_the_model_takes_three_calls_and_is_accounted(demo, users, fake, ai_worker) -> None:
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    task = wait_for(task_id, "reviewing")
    rows = task["interrupt_data"]["generated_body"]
    assert rows and {row["source"] for row in rows} == {"model"}
    assert task["interrupt_data"]["validation_result"]["all_match"]

    calls = ai_calls.calls_for_task(task_id)
    assert [(call["step"], call["purpose"], call["outcome"]) for call in calls] == [
        ("analyse_case", "generate", "ok"),
        ("generate_bodies", "generate", "ok"),
        ("generate_assertions", "generate", "ok"),
    ]
    assert [(call["prompt_tokens"], call["completion_tokens"]) for call in calls] == [
        (item.prompt_tokens, item.completion_tokens) for item in fake.received
    ]
    first = calls[0]
    assert first["model"] == "gpt-4o-mini" and first["provider"] == "openai" and first["task_id"] == task_id
    assert first["latency_ms"] >= 0 and first["response_format"] == "json_schema" and first["created_at"]
    assert first["estimated_cost"] == pytest.approx(
        (first["prompt_tokens"] * 0.00015 + first["completion_tokens"] * 0.0006) / 1000, abs=1e-6
    )

    service.submit_review(task["thread_id"], "approved", reviewer=users["engineer"], wait_seconds=20)
    done = service.get_task(task_id)
    assert done["status"] == "completed"
    assert done["result_data"]["provider"] == "openai" and done["result_data"]["model"] == "gpt-4o-mini"
    assert (done["created_case"]["provider"], done["created_case"]["model"]) == ("openai", "gpt-4o-mini")

    prompt = sum(item.prompt_tokens for item in fake.received)
    completion = sum(item.completion_tokens for item in fake.received)
    usage = ai_calls.usage_summary()
    assert usage["completed_cases"] == 1 and usage["calls_per_case"] == 3.0 and usage["calls"] == 3
    assert usage["tokens_per_case"] == prompt + completion and usage["prompt_tokens"] == prompt
    cost = (prompt * 0.00015 + completion * 0.0006) / 1000
    assert usage["cost_per_case"] == pytest.approx(cost, abs=1e-6)
    assert usage["estimated_cost"] == pytest.approx(cost, abs=1e-6)
    assert usage["by_model"][0]["model"] == "gpt-4o-mini" and usage["unpriced_models"] == []
    assert usage["outcomes"] == {"ok": 3}
    assert ai_calls.task_usage(task_id)["calls"] == 3
    assert ai_calls.usage_summary(since=utcnow() + timedelta(minutes=1))["calls"] == 0


def test_the_workflow_gets_through_retries_and_repair(demo, users, fake, ai_worker) -> None:
    fake.script("analyse_case", Reply.rate_limited(retry_after="0.2"), Reply.server_error())
    fake.script("generate_bodies", Reply.slow(1.2))
    fake.script("generate_assertions", Reply.text("{not json"), Reply.text('{"assertions": "later"}'))
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    task = wait_for(task_id, "reviewing")

    calls = ai_calls.calls_for_task(task_id)
    assert [(call["step"], call["purpose"], call["attempt"], call["outcome"]) for call in calls] == [
        ("analyse_case", "generate", 1, "rate_limited"),
        ("analyse_case", "generate", 2, "server_error"),
        ("analyse_case", "generate", 3, "ok"),
        ("generate_bodies", "generate", 1, "timeout"),
        ("generate_bodies", "generate", 2, "ok"),
        ("generate_assertions", "generate", 1, "invalid_output"),
        ("generate_assertions", "repair", 1, "invalid_output"),
    ]
    assert calls[0]["error"].startswith("429 Too Many Requests (rate limit)")
    rows = task["interrupt_data"]["generated_body"]
    assert {row["source"] for row in rows} == {"offline-fallback"}  # the model's checks were unusable twice
    assert all(row["checks"][0] == {"kind": "status", "path": None, "expected": row["expected_status"]} for row in rows)
    assert service.get_task(task_id)["attempts"] == 1
    usage = ai_calls.usage_summary()
    assert usage["outcomes"] == {"rate_limited": 1, "server_error": 1, "timeout": 1, "ok": 2, "invalid_output": 2}
    assert usage["completed_cases"] == 0 and usage["calls_per_case"] is None


def test_the_model_is_shown_what_reviewers_corrected_on_the_scene_before(demo, users, fake, ai_worker) -> None:
    case_id, scene_id = first_case_and_scene()
    first = wait_for(service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"], "reviewing")
    assert not any("reviewer_lessons" in json.loads(item.body["messages"][1]["content"]) for item in fake.received)
    rows = first["interrupt_data"]["generated_body"]
    rows[0]["body"] = {**rows[0]["body"], "password": "Lead-QA-Passw0rd", "age": 42}
    service.submit_review(first["thread_id"], "approved", corrected_body=rows, reviewer=users["engineer"],
                          wait_seconds=20)
    with session_scope() as session:
        assert session.scalar(select(Review.provider)) == "openai"
    fake.received.clear()
    wait_for(service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"], "reviewing")
    for step in ("analyse_case", "generate_bodies"):
        lessons = json.loads(fake.calls(step)[0].body["messages"][1]["content"])["reviewer_lessons"]
        assert lessons["preferred"] == [{"pointer": "/age", "value": 42}]  # a password typed is not sent
        assert [example["name"] for example in lessons["examples"]] == [rows[0]["name"]]
        assert "Lead-QA-Passw0rd" not in json.dumps(lessons)
        assert "reviewer_lessons" in fake.calls(step)[0].body["messages"][0]["content"]  # the system prompt says why


def test_a_provider_that_keeps_failing_fails_the_task_with_its_message(demo, users, fake, ai_worker) -> None:
    fake.script("analyse_case", *[Reply.rate_limited(retry_after="0")] * 3)
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    failed = wait_for(task_id, "failed")
    assert failed["error_message"] == (
        "Step 2 (Analyse the case) failed: AI provider error after 3 attempts: "
        "429 Too Many Requests (rate limit): Rate limit reached for requests (still failing after 0 s of retries)"
    )
    assert failed["current_step"] == "analyse_case" and "Traceback" not in failed["error_message"]
    assert [event["type"] for event in service.task_timeline(task_id)][-1] == "workflow_failed"
    assert [call["outcome"] for call in ai_calls.calls_for_task(task_id)] == ["rate_limited"] * 3


def test_a_provider_failing_for_a_while_delays_the_task_instead_of_failing_it(demo, users, fake, ai_worker) -> None:
    ai_worker.runner.settings = ai_worker.runner.settings.model_copy(
        update={"retry_budget_seconds": 60, "retry_base_seconds": 0})
    fake.script("analyse_case", *[Reply.rate_limited(retry_after="0")] * 6)  # two tasks' worth of attempts
    case_id, scene_id = first_case_and_scene()
    task_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    task = wait_for(task_id, "reviewing")
    timeline = service.task_timeline(task_id)
    retries = [event for event in timeline if event["type"] == "retry_scheduled"]
    assert len(retries) == 2 and all("429 Too Many Requests" in event["message"] for event in retries)
    assert "workflow_failed" not in [event["type"] for event in timeline]
    assert task["attempts"] == 1, "waiting out a fault is not a lost run"
    outcomes = [call["outcome"] for call in ai_calls.calls_for_task(task_id)]
    assert outcomes[:6] == ["rate_limited"] * 6 and outcomes[6:] and set(outcomes[6:]) == {"ok"}


def test_no_secret_reaches_the_model_and_the_key_is_stored_nowhere(users, fake, ai_worker) -> None:
    scene, case = secret_scene(), secret_case()
    with session_scope() as session:
        session.add(Scene(id=scene["scene_id"], name=scene["name"], method=scene["method"], path=scene["path"],
                          request_schema=scene["request_schema"], responses=scene["responses"]))
        row = TestCase(title=case["title"], module=case["module"], preconditions=case["preconditions"],
                       steps=case["steps"], expected_result=case["expected_result"], scene_id=scene["scene_id"])
        session.add(row)
        session.flush()
        case_id = row.id
    fake.script("generate_bodies", Reply.text("oops"))  # the repair request carries the scene again
    task_id = service.start_workflow(case_id, scene["scene_id"], user=users["engineer"])["task_id"]
    task = wait_for(task_id, "reviewing")
    assert task["interrupt_data"]["validation_result"]["all_match"]
    assert len(fake.received) == 4 and fake.received[2].is_repair

    sent = "\n".join(item.raw for item in fake.received)
    assert [secret for secret in PLANTED if secret in sent] == []
    assert all(item.headers["authorization"] == f"Bearer {API_KEY}" for item in fake.received)
    with session_scope() as session:
        stored = [str(value) for table in ("workflow_tasks", "task_events", "ai_calls")
                  for value in session.execute(text(f"SELECT * FROM {table}")).all()]
    assert stored and not [value for value in stored if API_KEY in value]


def test_usage_prices_models_by_name_and_dated_variant(demo, users, monkeypatch) -> None:
    monkeypatch.setenv("AI_PRICES", '{"gpt-4o": {"prompt_per_1k": 1.0, "completion_per_1k": 2.0}, '
                                    '"gpt-4o-mini": {"prompt_per_1k": 0.1, "completion_per_1k": 0.2}}')
    get_settings.cache_clear()
    case_id, scene_id = first_case_and_scene()
    done_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    open_id = service.start_workflow(case_id, scene_id, user=users["engineer"])["task_id"]
    with session_scope() as session:
        session.execute(update(WorkflowTask).where(WorkflowTask.id == done_id)
                        .values(status="completed", completed_at=utcnow()))
        for task_id, model, prompt, completion in (
            (done_id, "gpt-4o-2024-08-06", 1000, 500),
            (done_id, "gpt-4o-mini-2024-07-18", 2000, 1000),
            (done_id, "llama3.1:8b", 400, None),
            (open_id, "gpt-4o", 10, 10),
        ):
            session.add(AICall(task_id=task_id, step="analyse_case", purpose="generate", attempt=1, provider="openai",
                               model=model, response_format="json_schema", outcome="ok", latency_ms=5,
                               prompt_tokens=prompt, completion_tokens=completion))
    calls = ai_calls.calls_for_task(done_id)
    assert [call["estimated_cost"] for call in calls] == [pytest.approx(2.0), pytest.approx(0.4), None]
    assert calls[2]["total_tokens"] == 400

    usage = ai_calls.usage_summary()
    assert usage["calls"] == 4 and usage["prompt_tokens"] == 3410 and usage["completion_tokens"] == 1510
    assert usage["unpriced_models"] == ["llama3.1:8b"]
    assert usage["estimated_cost"] == pytest.approx(2.0 + 0.4 + 0.03)
    assert usage["completed_cases"] == 1 and usage["calls_per_case"] == 3.0
    assert usage["tokens_per_case"] == 4900.0 and usage["cost_per_case"] == pytest.approx(2.4)

    with session_scope() as session:  # the task is deleted (retention): its calls stay, unlinked
        session.execute(text("DELETE FROM workflow_tasks WHERE id = :id"), {"id": open_id})
        assert session.scalar(select(AICall.task_id).where(AICall.model == "gpt-4o")) is None
    assert ai_calls.usage_summary()["calls"] == 4
