"""The parts of the OpenAI-compatible provider: redaction, backoff, Retry-After, provider choice, prices."""

from __future__ import annotations

import copy
import email.utils
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from core.config import Settings
from core.errors import InvalidInput
from core.generation.factory import provider_from_settings
from core.generation.latency import DelayedProvider
from core.generation.offline.provider import OfflineProvider
from core.generation.openai_compatible.answer_schemas import ANALYSIS, ASSERTIONS, BODIES, PLAN, AnswerSpec
from core.generation.openai_compatible.chat import AIProviderError, ChatClient, _retry_after
from core.generation.openai_compatible.prompts import MAX_SCHEMA_CHARS, SceneView
from core.generation.openai_compatible.provider import OpenAIProvider
from core.generation.openai_compatible.redaction import REDACTED, Redactor, scrub
from tests.support.demo import demo_scene, first_case_of


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Header Authorization: Bearer abcdef123456", "abcdef123456"),
        ("use api_key=sk-live-0123456789abcdef", "sk-live-0123456789abcdef"),
        ('{"access_token": "x9y8z7w6"}', "x9y8z7w6"),
        ("cookie: SESSIONID=Zq81hh", "Zq81hh"),
        ("登录密码：Abc@1234", "Abc@1234"),
        ("jwt eyJhbGciOiJI.eyJzdWIiOiIx.c2ln", "eyJhbGciOiJI.eyJzdWIiOiIx.c2ln"),
        ("key AKIAABCDEFGHIJKLMNOP", "AKIAABCDEFGHIJKLMNOP"),
        ("password = hunter22", "hunter22"),
    ],
)
def test_credentials_in_text_are_redacted(text: str, secret: str) -> None:
    redacted = Redactor().text(text)
    assert secret not in redacted and REDACTED in redacted


@pytest.mark.parametrize(
    "text",
    [
        "password: at least 8 characters",
        "密码长度为8到32位",
        "the token expires after 30 minutes",
        "返回201，注册成功，响应中包含用户ID",
    ],
)
def test_prose_about_secrets_is_kept(text: str) -> None:
    assert Redactor().text(text) == text


def test_schema_values_of_secret_fields_are_redacted_and_remembered() -> None:
    redactor = Redactor()
    schema = redactor.schema({
        "properties": {
            "password": {"type": "string", "examples": ["Pa55word!"], "pattern": "^\\S+$"},
            "mode": {"type": "string", "enum": ["fast", "slow"], "default": "fast"},
            "session": {"type": "object", "properties": {"id": {"type": "string"}}, "default": {"id": "s-123456"}},
        },
        "required": ["password"],
    })
    assert schema["properties"]["password"] == {"type": "string", "examples": [REDACTED], "pattern": "^\\S+$"}
    assert schema["properties"]["mode"] == {"type": "string", "enum": ["fast", "slow"], "default": "fast"}
    assert schema["properties"]["session"]["default"] == {"id": REDACTED}
    assert schema["required"] == ["password"]
    assert redactor.strings({"note": "reuse Pa55word! here", "password": "generated1"}) == {
        "note": f"reuse {REDACTED} here", "password": "generated1",
    }


def test_scrub_removes_the_key_and_credentials() -> None:
    assert scrub("bad key sk-abcdefghijklmnop and my-key-123", "my-key-123") == f"bad key {REDACTED} and {REDACTED}"


def test_retry_after_in_seconds_milliseconds_or_a_date() -> None:
    assert _retry_after({"retry-after": "2"}) == 2.0
    assert _retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= (_retry_after({"retry-after": when}) or 0) <= 31
    assert _retry_after({"retry-after": "soon"}) is None
    assert _retry_after({}) is None


def test_backoff_doubles_with_jitter_and_every_delay_is_capped() -> None:
    client = ChatClient(Settings(openai_api_key="k", ai_backoff_seconds=1.0, ai_backoff_max_seconds=5.0))
    for failures, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (9, 5.0)):
        delays = [client._delay(failures, None) for _ in range(50)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(set(delays)) > 1
    assert client._delay(1, 3.0) == 3.0
    assert client._delay(1, 120.0) == 5.0
    assert client._delay(1, -4.0) == 0.0


def test_an_unreachable_endpoint_fails_with_a_clear_message() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(openai_api_key="sk-unreachable-0123456789", openai_base_url=f"http://127.0.0.1:{port}/v1",
                        ai_max_attempts=2, ai_backoff_seconds=0.01)
    provider = OpenAIProvider(settings)
    with pytest.raises(AIProviderError, match=rf"after 2 attempts: cannot reach http://127.0.0.1:{port}/v1"):
        provider.analyse(first_case_of("SC001"), demo_scene("SC001"))


def test_the_provider_follows_the_settings() -> None:
    assert isinstance(provider_from_settings(Settings()), OfflineProvider)
    assert isinstance(provider_from_settings(Settings(openai_api_key="")), OfflineProvider)
    chosen = provider_from_settings(Settings(openai_api_key="sk-x", openai_model="qwen-plus"))
    assert isinstance(chosen, OpenAIProvider) and (chosen.name, chosen.model) == ("openai", "qwen-plus")
    assert isinstance(provider_from_settings(Settings(openai_api_key="sk-x", ai_provider="offline")), OfflineProvider)
    local = provider_from_settings(Settings(ai_provider="openai", openai_base_url="http://127.0.0.1:11434/v1"))
    assert isinstance(local, OpenAIProvider)
    with pytest.raises(InvalidInput, match="OPENAI_BASE_URL"):
        provider_from_settings(Settings(ai_provider="openai"))
    slow = provider_from_settings(Settings(openai_api_key="sk-x", ai_latency_seconds=0.01))
    assert isinstance(slow, DelayedProvider) and slow.name == "openai"


def test_the_api_key_is_never_shown() -> None:
    settings = Settings(openai_api_key="sk-very-secret-0123456789")
    assert "sk-very-secret" not in repr(settings) and "sk-very-secret" not in str(settings.model_dump())
    assert "sk-very-secret" not in repr(OpenAIProvider(settings).chat)


def test_prices_come_from_json_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_PRICES", '{"local-llama": {"prompt_per_1k": 0, "completion_per_1k": 0.001}}')
    prices = Settings().ai_prices
    assert set(prices) == {"local-llama"} and prices["local-llama"].completion_per_1k == 0.001
    monkeypatch.delenv("AI_PRICES")
    assert {"gpt-4o-mini", "gpt-4o", "deepseek-chat"} <= set(Settings().ai_prices)


@pytest.mark.parametrize("spec", [ANALYSIS, PLAN, BODIES, ASSERTIONS], ids=lambda spec: spec.name)
def test_answer_schemas_fit_strict_structured_outputs(spec: AnswerSpec) -> None:
    def objects(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if node.get("type") == "object":
                yield node
            for value in node.values():
                yield from objects(value)
        elif isinstance(node, list):
            for value in node:
                yield from objects(value)

    found = list(objects(spec.schema))
    assert found and spec.schema["type"] == "object"
    for node in found:
        assert node["additionalProperties"] is False and set(node["required"]) == set(node["properties"])


def test_a_large_schema_is_sent_without_its_annotations() -> None:
    scene = demo_scene("SC001")
    schema = copy.deepcopy(scene["request_schema"])
    for name, node in schema["properties"].items():
        node["description"] = f"{name} " + "lorem ipsum " * 800
    view = SceneView(first_case_of("SC001"), {**scene, "request_schema": schema})
    sent = view.analyse()["api"]["request_schema"]
    assert "description" not in json.dumps(sent) and len(json.dumps(sent)) < MAX_SCHEMA_CHARS
    assert sent["properties"]["username"]["maxLength"] == 16 and sent["required"] == schema["required"]
    small = SceneView(first_case_of("SC001"), scene).analyse()["api"]["request_schema"]
    assert small["properties"]["phone"]["description"] == "Mainland China mobile number, 11 digits."
