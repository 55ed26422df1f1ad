"""A real uvicorn server running the API on a free port, real HTTP and WebSocket clients, and API tokens.

The server runs in a thread of the test process, so it shares the database the `db_url`
fixture configured (both backends) and the process's embedded worker.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "spec"
FAST_API_SETTINGS = {"API_WS_POLL_SECONDS": "0.1", "WEBHOOK_BACKOFF_SECONDS": "0.2", "WEBHOOK_TIMEOUT_SECONDS": "3"}


def spec_example(name: str) -> Any:
    """One of the specification's JSON examples (tests/fixtures/spec/NAME.json)."""
    return json.loads((SPEC / f"{name}.json").read_text(encoding="utf-8"))


def assert_like_spec(example: Any, actual: Any, path: str = "$") -> None:
    """Every key of the specification's example is in ``actual``, its value of the same JSON type, recursively.

    An empty list or object in the example stands for any content (the specification's
    ``[...]`` and ``{...}``).
    """
    assert _json_type(actual) == _json_type(example), f"{path}: {_json_type(actual)}, spec has {_json_type(example)}"
    if isinstance(example, dict):
        for key, value in example.items():
            assert key in actual, f"{path}.{key} is missing (keys: {sorted(actual)})"
            assert_like_spec(value, actual[key], f"{path}.{key}")
    elif isinstance(example, list) and example:
        assert actual, f"{path}: empty list, spec shows items"
        for index, item in enumerate(actual):
            assert_like_spec(example[0], item, f"{path}[{index}]")


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object", type(None): "null"}.get(type(value), type(value).__name__)


@dataclass
class Api:
    """A running API server and what tests need to call it."""

    base_url: str
    tokens: dict[str, str] = field(default_factory=dict)  # role -> token
    user_ids: dict[str, int] = field(default_factory=dict)  # role -> user id

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://", 1)

    def client(self, role: str | None = None, token: str | None = None) -> httpx.Client:
        """An HTTP client, sending the token of ``role`` (or ``token``); none when both are None."""
        token = token or (self.tokens[role] if role else None)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30, trust_env=False)

    def socket(self, role: str, *, user_id: int | None = None, token: str | None = None,
               since: int | None = None) -> ClientConnection:
        """A WebSocket to /api/v1/ws/{user_id}, by default as ``role`` for their own id."""
        query = f"token={token or self.tokens[role]}" + (f"&since={since}" if since is not None else "")
        target = user_id if user_id is not None else self.user_ids[role]
        return connect(f"{self.ws_url}/api/v1/ws/{target}?{query}", open_timeout=10, proxy=None)


@pytest.fixture
def users(db_url: str) -> dict[str, str]:
    """The suite's users (role -> username), without passwords: API tokens need none, and skipping
    four argon2 hashes saves seconds per test."""
    from core.database import session_scope
    from db.models import User

    names = {"admin": "admin", "engineer": "alice", "engineer2": "bob", "viewer": "victor"}
    with session_scope() as session:
        session.add_all(User(username=name, role=role.rstrip("2")) for role, name in names.items())
    return names


@pytest.fixture
def start_api(users: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Api]]:
    """Starts the API (``run_scheduler``: with this process's embedded worker) with a token per role."""
    from core import service
    from core.api import create_app
    from core.api.server import build_server
    from core.config import get_settings

    running: list[tuple[Any, threading.Thread]] = []

    def start(*, run_scheduler: bool = True, **settings: str) -> Api:
        for name, value in {**FAST_API_SETTINGS, "RUN_SCHEDULER": str(run_scheduler).lower(), **settings}.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        # proto=IPPROTO_TCP, or asyncio leaves Nagle on for its connections (40 ms per answer)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        listener.bind(("127.0.0.1", 0))
        server = build_server("127.0.0.1", 0, app=create_app())
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
        thread.start()
        running.append((server, thread))
        deadline = time.monotonic() + 15
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the API server did not start"
            time.sleep(0.02)
        api = Api(base_url=f"http://127.0.0.1:{listener.getsockname()[1]}")
        for role, username in users.items():
            api.tokens[role] = service.create_api_token(username, name="tests")["token"]
            api.user_ids[role] = service.authenticate_token(api.tokens[role]).id
        return api

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def api(demo: dict[str, Any], start_api: Callable[..., Api]) -> Api:
    """The API with the demo data and a running embedded worker."""
    return start_api()


@pytest.fixture
def api_without_worker(demo: dict[str, Any], start_api: Callable[..., Api]) -> Api:
    """The API with the demo data and no worker: tasks stay where the test puts them."""
    return start_api(run_scheduler=False)


def wait_until(read: Callable[[], Any], done: Callable[[Any], bool], *, timeout: float = 30,
               what: str = "condition") -> Any:
    """Calls ``read`` until ``done`` holds for its result; fails with the last result otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not reached in {timeout}s; last: {value!r}"[:2000])
        time.sleep(0.05)


def task_in(client: httpx.Client, task_id: int, *statuses: str, timeout: float = 30) -> dict[str, Any]:
    """GET the task until its status is one of ``statuses``."""
    return wait_until(lambda: client.get(f"/api/v1/automation/workflow/tasks/{task_id}").json(),
                      lambda task: task.get("status") in statuses, timeout=timeout,
                      what=f"task {task_id} in {statuses}")
