"""A server that drops a kept-alive connection after a failure: the next row is still sent and answered once."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from core.library.resending import row_client


@contextmanager
def dropping_after_failures() -> Iterator[tuple[str, list[str]]]:
    """A raw HTTP/1.1 server: ``/crash`` answers 500 keeping the connection open, and the next request on that
    connection is read and dropped unanswered (reset), as uvicorn does after an unhandled exception. Yields the
    base URL and the paths it answered."""
    listener = socket.create_server(("127.0.0.1", 0))
    answered: list[str] = []

    def serve(connection: socket.socket) -> None:
        failed, buffer = False, b""
        with connection:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(buffer) < length:
                    buffer += connection.recv(65536)
                buffer = buffer[length:]
                if failed:  # reset: SO_LINGER 0 closes with RST, no answer
                    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                path = head.split(b" ")[1].decode()
                answered.append(path)
                failed = path == "/crash"
                status = b"500 Internal Server Error" if failed else b"200 OK"
                body = b'{"ok": false}' if failed else b'{"ok": true}'
                connection.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
                                   b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", answered
    finally:
        listener.close()


def test_the_request_after_a_failure_is_sent_again_on_a_new_connection_and_answered_once() -> None:
    with dropping_after_failures() as (base_url, answered), row_client(base_url, {}, 5.0) as client:
        assert client.post("/crash", json={"a": 1}).status_code == 500
        second = client.post("/items", json={"name": "n"})
        assert second.status_code == 200 and second.json() == {"ok": True}
        assert client.get("/items").status_code == 200
    assert answered == ["/crash", "/items", "/items"]


def test_without_it_the_request_after_a_failure_fails() -> None:
    """The server above really drops the connection: a plain client gets no answer."""
    with dropping_after_failures() as (base_url, answered), httpx.Client(base_url=base_url, timeout=5.0) as client:
        assert client.post("/crash", json={"a": 1}).status_code == 500
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            client.post("/items", json={"name": "n"})
    assert answered == ["/crash"]
