"""The development set: real open-source API servers, installed from the registries and started locally.

Each server runs on a free loopback port with throwaway storage in a temporary directory, in
its own process group, and is stopped (SIGTERM, then SIGKILL) when its ``with`` block ends,
errors included. :func:`started` yields a :class:`Target`: where the API is, its document, and
the token to send.

- **kinto** (PyPI ``kinto``): Pyramid/Cornice, JSON documents in buckets and collections, memory
  backend. It publishes Swagger 2.0, which the harness converts (``bench/quality/documents.py``).
  Its real authentication is HTTP Basic (accounts plugin), which ``run_case`` cannot send: the
  throwaway instance lets everyone create, read and write instead.
- **airflow** (PyPI ``apache-airflow``): the Airflow 3 public API (FastAPI, OpenAPI 3.1), SQLite,
  the simple auth manager; the harness gets a JWT from ``POST /auth/token`` and sends it as a
  Bearer token.
- **prefect** (PyPI ``prefect``): the Prefect 3 server (FastAPI, OpenAPI 3.1), SQLite, no auth, without its background
  services (``--no-services``: they hold the SQLite file and the API answers 503 meanwhile).
- **prism** (npm ``@stoplight/prism-cli``): a mock that validates every request against a document,
  here the repository's ``tests/fixtures/openapi/harbor-shop.yaml``: a server that knows the schema
  and nothing else.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.quality.installs import Install, Unavailable, npm_install, pip_install

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 180
STOP_TIMEOUT_SECONDS = 20


@dataclass
class Target:
    """A running API: ``base_url`` is what the document's paths are relative to."""

    name: str
    base_url: str
    document: bytes
    filename: str
    token: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    """Versions, install and start times, notes: reported with the figures."""
    process: Process | None = None
    """The server's process, when the harness started it: a run whose server died is not a measurement."""

    def died(self) -> str | None:
        """Why the server is gone (its exit code and last log lines), or None while it runs."""
        if self.process is None or self.process.popen.poll() is None:
            return None
        return f"the {self.name} server exited with {self.process.popen.returncode}: {self.process.tail()}"


@dataclass(frozen=True)
class Server:
    name: str
    style: str
    install: Callable[[], Install]
    start: Callable[[Install, Path, int], Iterator[Target]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Process:
    """A server process in its own session (so its children stop with it), output to a log file."""

    def __init__(self, command: list[str], workdir: Path, env: dict[str, str] | None = None) -> None:
        self.log = workdir / "server.log"
        self._out = self.log.open("wb")
        self.command = command
        self.popen = subprocess.Popen(command, cwd=workdir, stdout=self._out, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})},
                                      start_new_session=True)

    def tail(self, lines: int = 5) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])[:600]

    def wait_until(self, ready: Callable[[], bool], what: str, timeout: float = START_TIMEOUT_SECONDS) -> float:
        """Seconds until ``ready()`` holds; Unavailable when the process exits or the time runs out."""
        began = time.monotonic()
        while not ready():
            if self.popen.poll() is not None:
                raise Unavailable(f"{what} exited with {self.popen.returncode} before it was ready: {self.tail()}")
            if time.monotonic() - began > timeout:
                raise Unavailable(f"{what} was not ready after {timeout} s: {self.tail()}")
            time.sleep(0.25)
        return round(time.monotonic() - began, 1)

    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL after STOP_TIMEOUT_SECONDS."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(STOP_TIMEOUT_SECONDS)
            except ProcessLookupError:
                pass
        self._out.close()


def answers(url: str, status: int = 200) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return httpx.get(url, timeout=2).status_code == status
        except httpx.HTTPError:
            return False
    return check


def listening(port: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False
    return check


def fetch(url: str, headers: dict[str, str] | None = None) -> bytes:
    response = httpx.get(url, headers=headers, timeout=30)
    if response.status_code != 200:
        raise Unavailable(f"GET {url} answered {response.status_code}: {response.text[:200]}")
    return response.content


def base_url(origin: str, document: bytes) -> str:
    """Where the document's paths live: the origin plus Swagger's basePath or the first server's path."""
    content = json.loads(document) if document.lstrip().startswith(b"{") else {}
    if "swagger" in content:
        path = str(content.get("basePath") or "")
    else:
        servers = content.get("servers") or [{}]
        path = urlsplit(str(servers[0].get("url") or "")).path
    return origin + path.rstrip("/")


# kinto ------------------------------------------------------------------------------------------------

KINTO_OPEN = "\n".join(
    f"kinto.{resource}_{action}_principals = system.Everyone"
    for resource in ("bucket", "collection", "group", "record", "account")
    for action in ("create", "read", "write")
)


def _kinto(install: Install, workdir: Path, port: int) -> Iterator[Target]:
    ini = workdir / "kinto.ini"
    kinto = str(install.bin / "kinto")
    done = subprocess.run([kinto, "init", "--ini", str(ini), "--backend", "memory", "--cache-backend", "memory"],
                          cwd=workdir, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    if done.returncode != 0 or not ini.exists():
        raise Unavailable(f"kinto init failed: {(done.stderr or done.stdout).strip()[-300:]}")
    text = re.sub(r"(?m)^kinto\.\w+_principals\s*=.*$", "", ini.read_text(encoding="utf-8"))
    ini.write_text(text.replace("use = egg:kinto\n", f"use = egg:kinto\n{KINTO_OPEN}\n", 1), encoding="utf-8")
    process = Process([kinto, "start", "--ini", str(ini), "--port", str(port)], workdir)
    try:
        origin = f"http://127.0.0.1:{port}"
        seconds = process.wait_until(answers(f"{origin}/v1/__heartbeat__"), "kinto")
        document = fetch(f"{origin}/v1/__api__")
        yield Target(name="kinto", base_url=base_url(origin, document), document=document, filename="kinto.json",
                     process=process, facts={"start_seconds": seconds,
                            "auth": "none: kinto's own auth is HTTP Basic (accounts), which run_case cannot send; "
                                    "the throwaway instance grants create/read/write to everyone"})
    finally:
        process.stop()


# airflow ----------------------------------------------------------------------------------------------

def _airflow(install: Install, workdir: Path, port: int) -> Iterator[Target]:
    env = {
        "AIRFLOW_HOME": str(workdir),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{workdir / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "True",  # an Airflow with DAGs, as a team's is (parsed below)
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "quality:admin",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(32),
        "AIRFLOW__CORE__FERNET_KEY": "",
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",  # off by default: POST /connections/test answers 403 to all
    }
    airflow = str(install.bin / "airflow")
    began = time.monotonic()
    done = subprocess.run([airflow, "db", "migrate"], cwd=workdir, capture_output=True, text=True,
                          env={**os.environ, **env}, stdin=subprocess.DEVNULL, timeout=600)
    if done.returncode != 0:
        raise Unavailable(f"airflow db migrate failed: {(done.stderr or done.stdout).strip()[-300:]}")
    done = subprocess.run([airflow, "dags", "reserialize"], cwd=workdir, capture_output=True, text=True,
                          env={**os.environ, **env}, stdin=subprocess.DEVNULL, timeout=600)
    if done.returncode != 0:
        raise Unavailable(f"airflow dags reserialize failed: {(done.stderr or done.stdout).strip()[-300:]}")
    migrate_seconds = round(time.monotonic() - began, 1)
    process = Process([airflow, "api-server", "--host", "127.0.0.1", "--port", str(port)], workdir, env)
    try:
        origin = f"http://127.0.0.1:{port}"
        seconds = process.wait_until(answers(f"{origin}/api/v2/monitor/health"), "airflow api-server")
        passwords = json.loads((workdir / "simple_auth_manager_passwords.json.generated").read_text())
        response = httpx.post(f"{origin}/auth/token", json={"username": "quality", "password": passwords["quality"]},
                              timeout=30)
        if response.status_code not in (200, 201):
            raise Unavailable(f"POST /auth/token answered {response.status_code}: {response.text[:200]}")
        token = response.json()["access_token"]
        document = fetch(f"{origin}/openapi.json")
        yield Target(name="airflow", base_url=base_url(origin, document), document=document,
                     filename="airflow.json", token=token, process=process,
                     facts={"start_seconds": round(seconds + migrate_seconds, 1),
                            "auth": "Bearer JWT from the simple auth manager's POST /auth/token (role admin)",
                            "config": "connection testing enabled ([core] test_connection = Enabled)"})
    finally:
        process.stop()


# prefect ----------------------------------------------------------------------------------------------

def _prefect(install: Install, workdir: Path, port: int) -> Iterator[Target]:
    env = {
        "PREFECT_HOME": str(workdir),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{workdir / 'prefect.db'}",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_URL": "",
        "DO_NOT_TRACK": "1",
    }
    process = Process([str(install.bin / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port),
                       "--no-services"], workdir, env)  # its background services lock the SQLite file: 503s
    try:
        origin = f"http://127.0.0.1:{port}"
        seconds = process.wait_until(answers(f"{origin}/api/health"), "prefect server")
        document = fetch(f"{origin}/api/openapi.json")
        yield Target(name="prefect", base_url=base_url(origin, document), document=document,
                     filename="prefect.json", process=process,
                     facts={"start_seconds": seconds, "auth": "none (the server's default)"})
    finally:
        process.stop()


# prism ------------------------------------------------------------------------------------------------

PRISM_DOCUMENT = ROOT / "tests" / "fixtures" / "openapi" / "harbor-shop.yaml"


def _prism(install: Install, workdir: Path, port: int) -> Iterator[Target]:
    document = PRISM_DOCUMENT.read_bytes()
    process = Process([str(install.bin / "prism"), "mock", "-h", "127.0.0.1", "-p", str(port),
                       str(PRISM_DOCUMENT)], workdir)
    try:
        seconds = process.wait_until(listening(port), "prism mock")
        yield Target(name="prism", base_url=f"http://127.0.0.1:{port}", document=document,
                     filename=PRISM_DOCUMENT.name, token="quality-token", process=process,
                     facts={"start_seconds": seconds, "document": f"tests/fixtures/openapi/{PRISM_DOCUMENT.name}",
                            "auth": "any Bearer token (prism checks that one is sent)"})
    finally:
        process.stop()


SERVERS: dict[str, Server] = {
    server.name: server for server in (
        Server("kinto", "Pyramid/Cornice, Swagger 2.0, memory backend",
               lambda: pip_install("kinto", "kinto==26.5.0", "kinto"), _kinto),
        Server("airflow", "FastAPI/pydantic, OpenAPI 3.1, SQLite, JWT, example DAGs",
               lambda: pip_install("airflow", "apache-airflow==3.3.2", "apache-airflow"), _airflow),
        Server("prefect", "FastAPI/pydantic, OpenAPI 3.1, SQLite",
               lambda: pip_install("prefect", "prefect==3.9.1", "prefect"), _prefect),
        Server("prism", "Prism mock validating against an OpenAPI 3.0 fixture",
               lambda: npm_install("prism", "@stoplight/prism-cli", "5.14.2"), _prism),
    )
}


@contextmanager
def started(name: str) -> Iterator[Target]:
    """Installs (or reuses) the server, starts it with throwaway storage, yields it, stops it."""
    server = SERVERS[name]
    install = server.install()
    workdir = Path(tempfile.mkdtemp(prefix=f"caseflow-quality-{name}-"))
    try:
        with contextmanager(server.start)(install, workdir, free_port()) as target:
            target.facts = {"style": server.style, **install.facts(), **target.facts}
            yield target
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
