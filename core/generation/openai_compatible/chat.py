"""One structured chat call to an OpenAI-compatible endpoint: timeout, retries, response format, records.

The client's own retries are off; this loop retries 408, 409, 429, 5xx, timeouts and
connection errors with exponential backoff and jitter, honouring Retry-After (capped by
AI_BACKOFF_MAX_SECONDS), and records every request it makes. After the last attempt it
raises :class:`AIProviderError`, which fails the task with the provider's message.
Structured outputs (json_schema) are asked for; an endpoint that refuses them gets
json_object mode with the schema in the prompt, from then on.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import openai
from pydantic import SecretStr

from core.config import Settings
from core.errors import CaseFlowError, TransientError
from core.generation.openai_compatible.answer_schemas import AnswerSpec, Checked
from core.generation.openai_compatible.prompts import JSON_OBJECT_FORMAT, Message
from core.generation.openai_compatible.redaction import scrub

log = logging.getLogger(__name__)

T = TypeVar("T")
Mode = Literal["json_schema", "json_object"]
Outcome = Literal[
    "ok", "invalid_output", "rate_limited", "server_error", "timeout", "connection_error", "rejected"
]
RETRYABLE_STATUS = (408, 409, 429)
FORMAT_WORDS = ("response_format", "json_schema", "structured", "schema", "not supported", "unsupported")
PLACEHOLDER_KEY = "not-needed"
"""Sent to keyless local endpoints (AI_PROVIDER=openai without OPENAI_API_KEY)."""


class AIProviderError(CaseFlowError):
    """The AI provider refused the request (a wrong key, a bad request): retrying cannot help."""

    code = "ai_provider"


class AIProviderUnavailable(AIProviderError, TransientError):
    """The AI provider kept failing in ways that pass (rate limits, 5xx, timeouts): the task retries later."""


@dataclass(frozen=True, kw_only=True)
class CallRecord:
    """One request to the provider, as core.ai_calls stores it."""

    step: str
    purpose: Literal["generate", "repair"]
    attempt: int
    provider: str
    model: str
    response_format: Mode
    outcome: Outcome
    latency_ms: int
    prompt_tokens: int | None
    completion_tokens: int | None
    error: str | None


Recorder = Callable[[CallRecord], None]


@dataclass(frozen=True)
class Answer(Generic[T]):
    """A usable reply: its text (for a repair request) and what was parsed from it."""

    text: str
    checked: Checked[T]


@dataclass(frozen=True)
class _Failure:
    outcome: Outcome
    summary: str
    retryable: bool
    retry_after: float | None = None
    refuses_format: bool = False


class ChatClient:
    """Makes the provider's calls; shared by every task and thread of a worker."""

    provider = "openai"

    def __init__(self, settings: Settings, record: Recorder | None = None) -> None:
        self.model = settings.openai_model
        self.base_url = settings.openai_base_url or "https://api.openai.com/v1"
        self.timeout = settings.ai_timeout_seconds
        self.max_attempts = settings.ai_max_attempts
        self.backoff = settings.ai_backoff_seconds
        self.backoff_max = settings.ai_backoff_max_seconds
        self.temperature = settings.ai_temperature
        self.mode: Mode = "json_object" if settings.ai_response_format == "json_object" else "json_schema"
        self.can_fall_back = settings.ai_response_format == "auto"
        self._record = record or (lambda call: None)
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
        self._key = SecretStr(key)
        self._client = openai.OpenAI(
            api_key=key or PLACEHOLDER_KEY, base_url=self.base_url, timeout=self.timeout, max_retries=0
        )

    def __repr__(self) -> str:
        return f"ChatClient(model={self.model!r}, base_url={self.base_url!r})"

    def complete(
        self,
        step: str,
        purpose: Literal["generate", "repair"],
        conversation: list[Message],
        spec: AnswerSpec,
        parse: Callable[[str], Checked[T]],
    ) -> Answer[T]:
        """The parsed reply to ``conversation``; AIProviderError once every attempt failed."""
        attempt = failures = 0
        while True:
            attempt += 1
            mode = self.mode
            started = time.monotonic()
            try:
                response = self._client.chat.completions.create(**self._request(conversation, spec, mode))
            except openai.OpenAIError as exc:
                failure = self._failure(exc)
                self._note(step, purpose, attempt, mode, failure.outcome, started, None, failure.summary)
                if failure.refuses_format and mode == "json_schema" and self.can_fall_back:
                    log.warning("%s refuses structured outputs; using json_object mode from now on", self.base_url)
                    self.mode = "json_object"
                    continue
                failures += 1
                if not failure.retryable:
                    raise AIProviderError("AI provider error: {failure_summary}",
                                          failure_summary=failure.summary) from None
                if failures >= self.max_attempts:
                    attempts = f"{failures} attempt{'s' if failures > 1 else ''}"
                    raise AIProviderUnavailable("AI provider error after {attempts}: {failure_summary}",
                                                attempts=attempts, failure_summary=failure.summary) from None
                time.sleep(self._delay(failures, failure.retry_after))
                continue
            text, checked = self._parse(response, parse)
            outcome: Outcome = "invalid_output" if checked.problems else "ok"
            error = "; ".join(checked.problems)[:1000] if checked.problems else None
            self._note(step, purpose, attempt, mode, outcome, started, response.usage, error)
            return Answer(text=text, checked=checked)

    def _request(self, conversation: list[Message], spec: AnswerSpec, mode: Mode) -> dict[str, Any]:
        request: dict[str, Any] = {"model": self.model, "messages": list(conversation)}
        if mode == "json_schema":
            request["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": spec.name, "schema": spec.schema, "strict": True},
            }
        else:
            system = {**conversation[0]}
            schema = json.dumps(spec.schema, separators=(",", ":"))
            system["content"] += "\n\n" + JSON_OBJECT_FORMAT.format(schema=schema)
            request["messages"] = [system, *conversation[1:]]
            request["response_format"] = {"type": "json_object"}
        if self.temperature is not None:
            request["temperature"] = self.temperature
        return request

    @staticmethod
    def _parse(response: Any, parse: Callable[[str], Checked[T]]) -> tuple[str, Checked[T]]:
        choice = response.choices[0] if response.choices else None
        message = choice.message if choice is not None else None
        text = (message.content or "") if message is not None else ""
        checked = parse(text)
        if message is not None and getattr(message, "refusal", None):
            checked.problems.insert(0, f"The model refused: {message.refusal}")
        elif choice is not None and choice.finish_reason == "length" and checked.problems:
            checked.problems.insert(0, "The answer was cut off at the output token limit; answer more briefly.")
        return text, checked

    def _note(
        self, step: str, purpose: Literal["generate", "repair"], attempt: int, mode: Mode, outcome: Outcome,
        started: float, usage: Any, error: str | None,
    ) -> None:
        latency_ms = round((time.monotonic() - started) * 1000)
        log.info("AI call %s/%s attempt %d: %s in %d ms", step, purpose, attempt, outcome, latency_ms)
        self._record(CallRecord(
            step=step, purpose=purpose, attempt=attempt, provider=self.provider, model=self.model,
            response_format=mode, outcome=outcome, latency_ms=latency_ms,
            prompt_tokens=getattr(usage, "prompt_tokens", None),
            completion_tokens=getattr(usage, "completion_tokens", None),
            error=self._clean(error) if error else None,
        ))

    def _failure(self, exc: openai.OpenAIError) -> _Failure:
        if isinstance(exc, openai.APITimeoutError):
            return _Failure("timeout", f"no answer within {self.timeout:g} s (timeout)", retryable=True)
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc
            return _Failure("connection_error", self._clean(f"cannot reach {self.base_url}: {cause}"), retryable=True)
        if not isinstance(exc, openai.APIStatusError):
            return _Failure("rejected", self._clean(str(exc)), retryable=False)
        status, reason = exc.status_code, exc.response.reason_phrase
        detail = _provider_message(exc)
        if status == 429:
            label, outcome, retryable = "rate limit", "rate_limited", True
        elif status >= 500:
            label, outcome, retryable = "server error", "server_error", True
        elif status in RETRYABLE_STATUS:
            label, outcome, retryable = "try again", "server_error", True
        else:
            label, outcome, retryable = _rejection(status), "rejected", False
        summary = f"{status} {reason} ({label})" + (f": {detail}" if detail and detail != reason else "")
        refuses = status in (400, 422) and any(word in detail.lower() for word in FORMAT_WORDS)
        return _Failure(outcome, self._clean(summary)[:500], retryable, _retry_after(exc.response.headers), refuses)

    def _delay(self, failures: int, retry_after: float | None) -> float:
        """Retry-After when the provider sends one, else exponential backoff with jitter; capped."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.backoff_max)
        ceiling = min(self.backoff_max, self.backoff * 2 ** (failures - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _clean(self, text: str) -> str:
        """No credential in what is stored or shown, the API key least of all."""
        return scrub(text, self._key.get_secret_value())


def _provider_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"].strip()
    if isinstance(body, str):
        return body.strip()[:300]
    try:
        text = exc.response.text.strip()
    except Exception:  # a streamed or closed body
        return ""
    return "" if text.startswith("<") else text[:300]  # a proxy's HTML error page says nothing more


def _rejection(status: int) -> str:
    return {
        400: "bad request",
        401: "check OPENAI_API_KEY",
        403: "check OPENAI_API_KEY and the model's access",
        404: "check OPENAI_BASE_URL and OPENAI_MODEL",
    }.get(status, "rejected")


def _retry_after(headers: Any) -> float | None:
    """Seconds the provider asks to wait: retry-after-ms, retry-after in seconds, or an HTTP date."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return float(value) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(value).timestamp() - time.time()
    except (TypeError, ValueError):
        return None
