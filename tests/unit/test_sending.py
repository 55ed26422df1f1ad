"""A server too busy to take a request (503) gets it again after a pause; any other answer is the verdict."""

from __future__ import annotations

from collections import Counter

import httpx

from core.library.sending import BUSY_RETRIES, send
from tests.support.http_server import serving


def test_a_503_is_sent_again_and_other_answers_are_not() -> None:
    seen: Counter[str] = Counter()

    def answer(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
        seen[path] += 1
        if path == "/busy-once":
            return (503, {"detail": "busy"}) if seen[path] == 1 else (201, {"id": 1})
        return (503, {"detail": "busy"}) if path == "/busy" else (422, {"detail": "bad"})

    with serving(answer, "busy-server") as base, httpx.Client(base_url=base) as client:
        assert send(client, "POST", "/busy-once", json={"a": 1}).status_code == 201
        assert send(client, "POST", "/refused", json={"a": 1}).status_code == 422
        assert send(client, "POST", "/busy", json={"a": 1}).status_code == 503
    assert seen == {"/busy-once": 2, "/refused": 1, "/busy": 1 + BUSY_RETRIES}
