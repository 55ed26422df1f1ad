"""A real `streamlit run app.py` server on a fresh SQLite database, and headless Debian chromium driving it.

One server per test module. Without /usr/bin/chromium the tests skip (CI=true: they fail).
Screenshots go to test-artifacts/screenshots/ (git-ignored), kept as the run's artefacts.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_PASSWORD, unavailable

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
ADMIN_PASSWORD = "browser-copper-lantern"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@dataclass(frozen=True)
class Server:
    url: str
    log: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests")
    workdir = tmp_path_factory.mktemp("browser")
    env = {key: value for key, value in os.environ.items() if key not in ("OPENAI_API_KEY", "DATABASE_URL")}
    env.update({
        "DATABASE_URL": f"sqlite:///{workdir / 'caseflow.db'}",
        "CASEFLOW_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "POLL_SECONDS": "0.5",
        "AI_LATENCY_SECONDS": "0.15",  # each AI step takes a moment, so the row is seen moving
        "RUN_SCHEDULER": "true",
        "PYTHONUNBUFFERED": "1",
    })
    _run(["setup"], env)
    _run(["create-user", "--username", "alice", "--role", "engineer", "--password", TEST_PASSWORD], env)
    _run(["create-user", "--username", "victor", "--role", "viewer", "--password", TEST_PASSWORD], env)
    port = _free_port()
    log = workdir / "streamlit.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
             "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield Server(url=url, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_healthy(url: str, process: subprocess.Popen[Any], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"streamlit exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"streamlit did not answer /_stcore/health in {timeout}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
