"""A real HTTP server standing in for an OpenAI-compatible chat completions endpoint.

It answers like a perfect model (the offline provider computes each answer from the
request the provider sent), and plays scripted faults per step on demand: 429 with
Retry-After, 500, answers slower than the client's timeout, invalid JSON, JSON of the
wrong shape, or a refusal of structured outputs. It keeps every request it received.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from core.generation.offline.checks import case_assertions
from core.generation.offline.provider import OfflineProvider
from core.records import DataRow, SceneInput, TestCaseInput

Brain = Callable[[str, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Reply:
    """One scripted reply: an HTTP error, a delay, or a chat answer with this content."""

    status: int = 200
    content: str | None = None
    """The answer's text; None for the brain's correct answer."""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    message: str = ""

    @classmethod
    def rate_limited(cls, retry_after: str | None = None) -> Reply:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return cls(status=429, headers=headers, message="Rate limit reached for requests")

    @classmethod
    def server_error(cls, status: int = 500) -> Reply:
        return cls(status=status, message="The server had an error while processing your request.")

    @classmethod
    def slow(cls, seconds: float) -> Reply:
        return cls(delay=seconds)

    @classmethod
    def text(cls, content: str) -> Reply:
        return cls(content=content)


FAULTS = (
    Reply.rate_limited(retry_after="0"), Reply.server_error(500), Reply.server_error(503), Reply.slow(3.0),
    Reply.text("this is not JSON"), Reply.text('{"unexpected": "shape"}'),
)
"""What a flaky provider answers: rate limits, server errors, answers past a 1 s timeout, bad JSON, wrong shapes."""


@dataclass
class Received:
    """One request the server got, and what it answered."""

    path: str
    headers: dict[str, str]
    raw: str
    body: dict[str, Any]
    step: str
    status: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def response_format(self) -> str | None:
        return (self.body.get("response_format") or {}).get("type")

    @property
    def is_repair(self) -> bool:
        return sum(1 for message in self.body.get("messages", []) if message["role"] == "user") > 1


class FakeOpenAI:
    """Start with :func:`running`; point the client at :attr:`url`."""

    def __init__(self, brain: Brain | None = None, supports_json_schema: bool = True, fault_rate: float = 0.0,
                 seed: int = 0) -> None:
        """``fault_rate``: the share of unscripted requests answered by a random fault (seeded)."""
        self.brain = brain or offline_brain
        self.fault_rate = fault_rate
        self._random = random.Random(seed)
        self.supports_json_schema = supports_json_schema
        self.received: list[Received] = []
        self._scripts: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, step: str, *replies: Reply) -> None:
        """Replies for the next requests of ``step`` (repairs included), in order; then correct answers."""
        with self._lock:
            self._scripts.setdefault(step, []).extend(replies)

    def calls(self, step: str | None = None) -> list[Received]:
        with self._lock:
            return [item for item in self.received if step is None or item.step == step]

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_reply(self, step: str) -> Reply:
        with self._lock:
            queue = self._scripts.get(step)
            if queue:
                return queue.pop(0)
            if self._random.random() < self.fault_rate:
                return self._random.choice(FAULTS)
            return Reply()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0)).decode()
        body = json.loads(raw)
        payload = _payload(body)
        step = str(payload.get("step", "unknown"))
        headers = {name.lower(): value for name, value in handler.headers.items()}
        item = Received(path=handler.path, headers=headers, raw=raw, body=body, step=step)
        with self._lock:
            self.received.append(item)
        if not handler.path.endswith("/chat/completions"):
            return self._send(handler, item, 404, {"error": {"message": f"No route {handler.path}"}})
        if item.response_format == "json_schema" and not self.supports_json_schema:
            message = "response_format json_schema is not supported by this model"
            return self._send(handler, item, 400, {"error": {"message": message, "type": "invalid_request_error"}})
        reply = self._next_reply(step)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.status != 200:
            error = {"error": {"message": reply.message, "type": "server_error", "code": None}}
            return self._send(handler, item, reply.status, error, reply.headers)
        content = reply.content if reply.content is not None else json.dumps(self.brain(step, payload))
        item.prompt_tokens, item.completion_tokens = len(raw) // 4 + 1, len(content) // 4 + 1
        completion = {
            "id": f"chatcmpl-fake-{len(self.received)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": content, "refusal": None}}],
            "usage": {"prompt_tokens": item.prompt_tokens, "completion_tokens": item.completion_tokens,
                      "total_tokens": item.prompt_tokens + item.completion_tokens},
        }
        self._send(handler, item, 200, completion, reply.headers)

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler, item: Received, status: int, data: Any, headers: dict[str, str] | None = None
    ) -> None:
        item.status = status
        encoded = json.dumps(data).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(encoded)))
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(encoded)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
            pass

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        return Handler


@contextmanager
def running(**options: Any) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI(**options)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def _payload(body: dict[str, Any]) -> dict[str, Any]:
    """The provider's JSON request: its first user message."""
    for message in body.get("messages", []):
        if message.get("role") == "user":
            try:
                value = json.loads(message["content"])
            except (json.JSONDecodeError, TypeError):
                return {}
            return value if isinstance(value, dict) else {}
    return {}


def offline_brain(step: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The correct answer to a request, worked out by the offline provider."""
    offline = OfflineProvider()
    case = TestCaseInput(id=0, **payload["test_case"])
    api = payload["api"]
    documented = (payload.get("statuses") or {}).get("documented", [])
    scene = SceneInput(
        scene_id="fake", name=api["name"], method=api["method"], path=api["path"],
        request_schema=api.get("request_schema", {}),
        responses=api.get("responses") or {str(code): {"description": ""} for code in documented},
    )
    if step in ("analyse_case", "plan_rows"):
        analysis = offline.analyse(case, scene)
        plan = offline.plan_rows(case, scene, analysis, payload.get("reviewer_feedback", []))
        return {**analysis, "rows": plan} if step == "analyse_case" else {"rows": plan}
    if step == "generate_bodies":
        rows = offline.generate_bodies(case, scene, payload["rows"], payload.get("reviewer_feedback", []))
        return {"rows": [{"name": row["name"], "body_json": json.dumps(row["body"])} for row in rows]}
    if step == "generate_assertions":
        rows = [DataRow(**row, source="model") for row in payload["rows"]]
        return {"assertions": [dict(item) for item in case_assertions(case, scene, rows)]}
    raise ValueError(f"unknown step {step!r}")
