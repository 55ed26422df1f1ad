"""The OpenAI-compatible provider against a real local HTTP server: calls, retries, repair, fallback."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from core.config import Settings
from core.errors import CaseFlowError, TransientError
from core.generation.openai_compatible.chat import AIProviderError, CallRecord
from core.generation.openai_compatible.provider import OpenAIProvider
from core.records import SceneInput, TestCaseInput
from core.schema.validation import validate_rows
from testing.fake_openai import FakeOpenAI, Reply, offline_brain, running
from tests.support.demo import demo_scene, first_case_of
from tests.support.secrets import secret_case, secret_scene

API_KEY = "sk-test-caseflow-0123456789abcdef"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with running() as server:
        yield server


class Harness:
    """A provider pointed at the fake server, recording its calls in a list."""

    def __init__(self, fake: FakeOpenAI, **settings: Any) -> None:
        options: dict[str, Any] = dict(
            openai_api_key=API_KEY, openai_base_url=fake.url, ai_timeout_seconds=0.5,
            ai_backoff_seconds=0.01, ai_backoff_max_seconds=0.5,
        )
        self.records: list[CallRecord] = []
        self.provider = OpenAIProvider(Settings(**{**options, **settings}), record=self.records.append)
        self.case: TestCaseInput = first_case_of("SC001")
        self.scene: SceneInput = demo_scene("SC001")

    def run(self) -> tuple[list[Any], list[Any]]:
        """Steps 2, 3, 4 and 7 as the workflow calls them."""
        provider, case, scene = self.provider, self.case, self.scene
        analysis = provider.analyse(case, scene)
        plan = provider.plan_rows(case, scene, analysis, [])
        rows = provider.generate_bodies(case, scene, plan, [])
        return rows, provider.generate_assertions(case, scene, rows)

    def outcomes(self, step: str | None = None) -> list[tuple[str, str]]:
        return [(item.purpose, item.outcome) for item in self.records if step is None or item.step == step]


def test_happy_path_makes_three_structured_calls_and_records_them(fake: FakeOpenAI) -> None:
    harness = Harness(fake)
    rows, assertions = harness.run()

    assert [item.step for item in harness.records] == ["analyse_case", "generate_bodies", "generate_assertions"]
    assert harness.outcomes() == [("generate", "ok")] * 3
    assert len(fake.received) == 3
    for received, record in zip(fake.received, harness.records, strict=True):
        assert received.headers["authorization"] == f"Bearer {API_KEY}"
        assert received.body["model"] == "gpt-4o-mini" == record.model
        assert received.body["response_format"]["type"] == "json_schema"
        assert received.body["response_format"]["json_schema"]["strict"] is True
        assert (record.prompt_tokens, record.completion_tokens) == (received.prompt_tokens, received.completion_tokens)
        assert record.latency_ms >= 0 and record.response_format == "json_schema" and record.error is None
    assert rows and {row["source"] for row in rows} == {"model"}
    assert {row["kind"] for row in rows} == {"valid", "boundary", "invalid"}
    assert validate_rows(harness.scene["request_schema"], rows)["all_match"]
    assert [item["name"] for item in assertions] == [row["name"] for row in rows]
    assert all("source" not in item and item["checks"][0]["kind"] == "status" for item in assertions)


def test_the_plan_comes_with_the_analysis_and_a_plan_of_its_own_costs_a_call(fake: FakeOpenAI) -> None:
    harness = Harness(fake)
    provider, case, scene = harness.provider, harness.case, harness.scene
    analysis = provider.analyse(case, scene)
    assert analysis["plan"] and analysis["plan"][0]["kind"] == "valid" and analysis["intent"]
    assert provider.plan_rows(case, scene, analysis, []) == analysis["plan"]
    assert len(fake.received) == 1

    without = {key: value for key, value in analysis.items() if key != "plan"}
    plan = provider.plan_rows(case, scene, without, [])  # e.g. a checkpoint written by an older version
    assert plan == analysis["plan"]
    assert [item.step for item in harness.records] == ["analyse_case", "plan_rows"]


def test_429_with_retry_after_and_500_are_retried(fake: FakeOpenAI) -> None:
    fake.script("analyse_case", Reply.rate_limited(retry_after="0.3"), Reply.server_error(503))
    harness = Harness(fake)
    started = time.monotonic()
    analysis = harness.provider.analyse(harness.case, harness.scene)
    assert time.monotonic() - started >= 0.3  # Retry-After honoured (the backoff alone is ~0.01 s)
    assert analysis["plan"]
    assert harness.outcomes() == [("generate", "rate_limited"), ("generate", "server_error"), ("generate", "ok")]
    assert [item.attempt for item in harness.records] == [1, 2, 3]
    assert "429 Too Many Requests (rate limit)" in (harness.records[0].error or "")
    assert harness.records[0].prompt_tokens is None


def test_an_answer_slower_than_the_timeout_is_retried(fake: FakeOpenAI) -> None:
    fake.script("generate_bodies", Reply.slow(4.0))
    harness = Harness(fake, ai_timeout_seconds=1.5)  # room for the answers that are not slow on a busy machine
    rows, _ = harness.run()
    assert harness.outcomes("generate_bodies") == [("generate", "timeout"), ("generate", "ok")]
    assert "no answer within 1.5 s" in (harness.records[1].error or "")
    assert {row["source"] for row in rows} == {"model"}


def test_after_the_last_attempt_the_error_names_the_provider_message(fake: FakeOpenAI) -> None:
    """Rate limits that outlast the client's attempts are transient: the task waits and retries later."""
    fake.script("analyse_case", *[Reply.rate_limited(retry_after="0")] * 3)
    harness = Harness(fake)
    with pytest.raises(AIProviderError) as raised:
        harness.provider.analyse(harness.case, harness.scene)
    error = raised.value
    assert isinstance(error, CaseFlowError) and isinstance(error, TransientError)
    assert error.message == (
        "AI provider error after 3 attempts: 429 Too Many Requests (rate limit): Rate limit reached for requests"
    )
    assert error.__cause__ is None and error.__suppress_context__
    assert harness.outcomes() == [("generate", "rate_limited")] * 3


def test_a_rejected_key_fails_at_once_without_showing_the_key(fake: FakeOpenAI) -> None:
    fake.script("analyse_case", Reply(status=401, message=f"Incorrect API key provided: {API_KEY}."))
    harness = Harness(fake)
    with pytest.raises(AIProviderError) as raised:
        harness.provider.analyse(harness.case, harness.scene)
    assert raised.value.message.startswith("AI provider error: 401 Unauthorized (check OPENAI_API_KEY)")
    assert not isinstance(raised.value, TransientError), "a wrong key does not pass by waiting"
    assert API_KEY not in raised.value.message and API_KEY not in repr(harness.provider.chat)
    assert API_KEY not in (harness.records[0].error or "") and len(fake.received) == 1


def test_invalid_json_gets_one_repair_call(fake: FakeOpenAI) -> None:
    fake.script("generate_bodies", Reply.text("Sure! Here are the bodies: {rows: ["))
    harness = Harness(fake)
    rows, _ = harness.run()
    assert harness.outcomes("generate_bodies") == [("generate", "invalid_output"), ("repair", "ok")]
    assert "not valid JSON" in (harness.records[1].error or "")
    repair = fake.calls("generate_bodies")[1]
    messages = repair.body["messages"]
    assert messages[-2] == {"role": "assistant", "content": "Sure! Here are the bodies: {rows: ["}
    assert "not valid JSON" in messages[-1]["content"] and "these rows only" not in messages[-1]["content"]
    assert {row["source"] for row in rows} == {"model"}


def test_wrong_shape_twice_is_filled_in_by_the_offline_provider(fake: FakeOpenAI) -> None:
    fake.script("generate_bodies", Reply.text('{"rows": "none"}'), Reply.text('{"bodies": []}'))
    fake.script("generate_assertions", Reply.text("[1, 2]"), Reply.text('{"assertions": [{"name": 1}]}'))
    harness = Harness(fake)
    rows, assertions = harness.run()
    assert harness.outcomes("generate_bodies") == [("generate", "invalid_output"), ("repair", "invalid_output")]
    assert {row["source"] for row in rows} == {"offline-fallback"}
    assert validate_rows(harness.scene["request_schema"], rows)["all_match"]
    assert {item.get("source") for item in assertions} == {"offline-fallback"}
    assert len(fake.received) == 5


def test_a_row_labelled_valid_that_breaks_the_schema_is_never_presented_as_valid(fake: FakeOpenAI) -> None:
    def brain(step: str, payload: dict[str, Any]) -> dict[str, Any]:
        answer = offline_brain(step, payload)
        if step == "generate_bodies":
            for item in answer["rows"]:
                if item["name"] == "baseline_valid":
                    item["body_json"] = json.dumps({**json.loads(item["body_json"]), "age": 7})
        return answer

    fake.brain = brain
    harness = Harness(fake)
    rows, _ = harness.run()
    baseline = next(row for row in rows if row["name"] == "baseline_valid")
    assert baseline["source"] == "offline-fallback" and baseline["body"]["age"] >= 18
    assert {row["source"] for row in rows if row["name"] != "baseline_valid"} == {"model"}
    assert validate_rows(harness.scene["request_schema"], rows)["all_match"]
    repair = fake.calls("generate_bodies")[1].body["messages"][-1]["content"]
    assert "these rows only: baseline_valid" in repair and "minimum at /age" in repair


def test_a_bad_plan_is_repaired_then_cleaned(fake: FakeOpenAI) -> None:
    def brain(step: str, payload: dict[str, Any]) -> dict[str, Any]:
        answer = offline_brain(step, payload)
        if step == "analyse_case":
            answer["rows"][1] = {**answer["rows"][1], "pointer": "/nickname"}
            answer["rows"][2] = {**answer["rows"][2], "kind": "invalid", "expected_status": 201}
        return answer

    fake.brain = brain
    harness = Harness(fake)
    analysis = harness.provider.analyse(harness.case, harness.scene)
    good = offline_brain("analyse_case", json.loads(fake.received[0].body["messages"][1]["content"]))["rows"]
    assert [row["name"] for row in analysis["plan"]] == [good[0]["name"]] + [row["name"] for row in good[3:]]
    assert harness.outcomes() == [("generate", "invalid_output"), ("repair", "invalid_output")]
    error = harness.records[0].error or ""
    assert "'/nickname' is not a field" in error and "cannot expect status 201" in error


def test_unusable_analysis_falls_back_to_the_offline_analysis_and_plan(fake: FakeOpenAI) -> None:
    fake.script("analyse_case", Reply.text("no"), Reply.text('{"intent": 3}'))
    harness = Harness(fake)
    analysis = harness.provider.analyse(harness.case, harness.scene)
    offline = harness.provider.offline
    assert analysis["intent"] == offline.analyse(harness.case, harness.scene)["intent"]
    assert analysis["plan"] == offline.plan_rows(harness.case, harness.scene, analysis, [])


def test_wrong_statuses_in_assertions_fall_back_per_row(fake: FakeOpenAI) -> None:
    def brain(step: str, payload: dict[str, Any]) -> dict[str, Any]:
        answer = offline_brain(step, payload)
        if step == "generate_assertions":
            first_invalid = next(item for item in answer["assertions"] if item["expected_status"] >= 400)
            first_invalid["expected_status"] = 201
            first_invalid["checks"].append({"kind": "json_path_exists", "path": None, "expected": None})
        return answer

    fake.brain = brain
    harness = Harness(fake)
    rows, assertions = harness.run()
    fallback = [item for item in assertions if item.get("source") == "offline-fallback"]
    assert len(fallback) == 1 and fallback[0]["expected_status"] == 422
    assert harness.outcomes("generate_assertions") == [("generate", "invalid_output"), ("repair", "invalid_output")]
    assert "cannot expect status 201; a json_path_exists check needs a path" in (harness.records[-1].error or "")


def test_json_object_mode_for_endpoints_without_structured_outputs() -> None:
    with running(supports_json_schema=False) as fake:
        harness = Harness(fake)
        rows, assertions = harness.run()
    assert [item.response_format for item in fake.received] == ["json_schema"] + ["json_object"] * 3
    assert [item.status for item in fake.received] == [400, 200, 200, 200]
    assert harness.outcomes("analyse_case") == [("generate", "rejected"), ("generate", "ok")]
    system = fake.received[1].body["messages"][0]["content"]
    assert "matches this JSON Schema" in system and '"case_analysis"' not in system and "intent" in system
    assert {row["source"] for row in rows} == {"model"} and len(assertions) == len(rows)


def test_json_object_mode_tolerates_a_markdown_fence(fake: FakeOpenAI) -> None:
    def brain(step: str, payload: dict[str, Any]) -> dict[str, Any]:
        return offline_brain(step, payload)

    harness = Harness(fake, ai_response_format="json_object")
    answer = json.dumps(offline_brain("analyse_case", _first_payload(harness)))
    fake.script("analyse_case", Reply.text(f"```json\n{answer}\n```"))
    analysis = harness.provider.analyse(harness.case, harness.scene)
    assert fake.received[0].response_format == "json_object" and analysis["plan"]
    assert harness.outcomes() == [("generate", "ok")]


def test_only_the_case_and_the_resolved_scene_are_sent_and_secrets_never(fake: FakeOpenAI) -> None:
    secrets = {
        "S3cr3t-Pa55!", "tok_live_9f8e7d6c5b4a", "Zion-2199!", "ak_1234567890abcdef",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        "tkn-0123456789abcdef", "sk-test-ABCDEFGHIJKLMNOP", "Abc@12345678",
    }
    harness = Harness(fake)
    harness.scene = secret_scene()
    harness.case = secret_case()
    rows, assertions = harness.run()
    raw = "\n".join(item.raw for item in fake.received)
    assert len(fake.received) == 3
    assert not [secret for secret in secrets if secret in raw]
    assert "***REDACTED***" in raw
    sent = json.loads(fake.received[0].body["messages"][1]["content"])
    schema = json.dumps(sent["api"]["request_schema"])
    assert "$ref" not in schema and "$defs" not in schema and "Unused" not in schema
    assert sent["api"]["request_schema"]["properties"]["account"]["properties"]["email"]["format"] == "email"
    assert set(sent["test_case"]) == {"title", "module", "preconditions", "steps", "expected_result"}
    assert "password: at least 8 characters" in sent["test_case"]["expected_result"]  # prose is not a secret
    assert validate_rows(harness.scene["request_schema"], rows)["all_match"]


def _first_payload(harness: Harness) -> dict[str, Any]:
    from core.generation.openai_compatible.prompts import SceneView

    return SceneView(harness.case, copy.deepcopy(harness.scene)).analyse()


def test_secrets_the_offline_provider_quotes_are_scrubbed_too(fake: FakeOpenAI) -> None:
    fake.script("analyse_case", Reply.text("no"), Reply.text("still no"))  # the offline plan stands in
    harness = Harness(fake)
    harness.scene = secret_scene()
    harness.scene["request_schema"]["properties"]["client_secret"] = {"type": "string", "const": "cs_live_ABCDEF987654"}
    harness.case = secret_case()
    rows, _ = harness.run()
    assert any("cs_live_ABCDEF987654" in row["description"] for row in rows)  # "other than its fixed value ..."
    assert any(row["body"].get("client_secret") == "cs_live_ABCDEF987654" for row in rows)
    assert not [item for item in fake.received if "cs_live_ABCDEF987654" in item.raw]
