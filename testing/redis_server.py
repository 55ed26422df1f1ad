"""A throwaway redis-server (the Debian package) on a free port, for the Celery executor's tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass


class RedisUnavailable(RuntimeError):
    """The machine has no redis-server."""


@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    port: int

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_redis(timeout: float = 10.0) -> RedisServer:
    """redis-server without persistence on a free loopback port; waits until it answers PING."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisUnavailable("redis-server not found on PATH (Debian package redis-server)")
    port = _free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while not _answers(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RedisUnavailable(f"redis-server did not answer on port {port}")
        time.sleep(0.05)
    return RedisServer(process=process, port=port)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
