"""A real `streamlit run serve.py` server (app.py with its session-cookie routes) on a fresh SQLite database,
and headless Debian chromium driving it.

One server per test module; a module with EMPTY_LIBRARY = True gets one without the demo data (the
first-run guide shows). Without /usr/bin/chromium the tests skip (CI=true: they fail).
Screenshots go to test-artifacts/screenshots/ (git-ignored), kept as the run's artefacts; with
CASEFLOW_SCREENSHOTS=docs/images the user guide's walk also writes its pictures there (guide_shot).
"""

from __future__ import annotations

import json
import os
import re
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
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
GENERIC_ERROR = "This app has encountered an error"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@dataclass(frozen=True)
class Server:
    url: str
    log: Path
    env: dict[str, str]  # the server's environment: the CLI run with it works on the server's database

    def cli(self, *args: str) -> Any:
        """Runs ``python -m core ARGS`` against the server's database; its JSON answer."""
        return run_cli(list(args), self.env)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_cli(args: list[str], env: dict[str, str]) -> Any:
    done = subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
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
    if getattr(request.module, "EMPTY_LIBRARY", False):
        run_cli(["db", "upgrade"], env)
        run_cli(["create-user", "--username", "admin", "--role", "admin", "--password", ADMIN_PASSWORD], env)
    else:
        run_cli(["setup"], env)
    run_cli(["create-user", "--username", "alice", "--role", "engineer", "--password", TEST_PASSWORD], env)
    run_cli(["create-user", "--username", "victor", "--role", "viewer", "--password", TEST_PASSWORD], env)
    port = free_port()
    log = workdir / "streamlit.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.headless", "true",
             "--server.port", str(port), "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield Server(url=url, log=log, env=env)
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


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1100}, locale="en-US",
                                  timezone_id="Asia/Shanghai")
    tab = context.new_page()
    yield tab
    context.close()


def settle(page: Any, pause: float = 0.6) -> None:
    page.wait_for_selector(IDLE, timeout=30_000)
    time.sleep(pause)
    page.wait_for_selector(IDLE, timeout=30_000)


def check_page(page: Any, name: str) -> None:
    """No exception on the page; a screenshot of it as an artefact."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert page.locator("[data-testid='stException']").count() == 0, f"{name}: an exception is shown"
    assert GENERIC_ERROR not in page.inner_text("body"), f"{name}: the app reported an error"


GUIDE_VIEWPORT = {"width": 1280, "height": 800}
"""The user guide's pictures: one fixed viewport keeps them small and alike."""


def guide_shot(page: Any, name: str) -> None:
    """check_page, and the viewport as docs/images/<name>.png when CASEFLOW_SCREENSHOTS names that folder."""
    check_page(page, f"guide-{name}")
    if folder := os.environ.get("CASEFLOW_SCREENSHOTS"):
        target = ROOT / folder
        target.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target / f"{name}.png"))


def sign_in(page: Any, server: Server, username: str, password: str, path: str = "/") -> None:
    """Opens ``path`` signed out (the context's cookies dropped first) and signs in; the page at ``path`` then shows."""
    page.context.clear_cookies()
    page.goto(server.url + path)
    settle(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation(timeout=30_000):  # to /auth/session for the cookie, and back to ``path``
        page.get_by_role("button", name="Sign in").click()
    settle(page, 1.0)


def wait_for_text(page: Any, text: str, timeout: float = 60) -> None:
    page.get_by_text(text).first.wait_for(timeout=timeout * 1000)


def cell(page: Any, column: int, row: int, grid: int = 0) -> str:
    grids = page.locator("[data-testid='stDataFrame']")
    locator = grids.nth(grid).locator(f"[data-testid='glide-cell-{column}-{row}']")
    return locator.inner_text() if locator.count() else ""


def wait_for_cell(page: Any, column: int, row: int, pattern: str, timeout: float = 60, grid: int = 0) -> str:
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        seen = cell(page, column, row, grid)
        if re.search(pattern, seen):
            return seen
        time.sleep(0.25)
    raise AssertionError(f"cell ({column}, {row}) never matched {pattern!r}; last: {seen!r}")
