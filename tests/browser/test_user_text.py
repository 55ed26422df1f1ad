"""User text in a real browser: markdown in a task name, a test-case title and a scene shows as typed,
and a remote image written into them is never fetched.

The image points at a local HTTP server started here, which counts every request it gets.
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Server, check_page, settle, sign_in, wait_for_text
from tests.conftest import TEST_PASSWORD
from tests.support.hostile import hostile_text, openapi_document

pytestmark = pytest.mark.browser


@dataclass
class Tracker:
    url: str
    hits: list[str] = field(default_factory=list)


@pytest.fixture
def tracker() -> Iterator[Tracker]:
    """A local HTTP server that records each request: what a tracking pixel's owner would see."""
    hits: list[str] = []

    class Pixel(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Pixel)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield Tracker(url=f"http://127.0.0.1:{http.server_address[1]}/track.png", hits=hits)
    finally:
        http.shutdown()
        http.server_close()


def assert_no_markup(page: Any, tracker: Tracker, where: str) -> None:
    """No element made from the text's markdown: no image from the tracker, no heading "H1", no bold "B"."""
    check_page(page, where)
    assert page.locator(f"img[src^='{tracker.url.rsplit('/', 1)[0]}']").count() == 0, f"{where}: an image"
    headings = page.locator("h1, h2, h3, h4, h5, h6").all_inner_texts()
    assert not [h for h in headings if h.strip().startswith("H1")], f"{where}: a heading from the text: {headings}"
    assert not [s for s in page.locator("strong").all_inner_texts() if s.strip() == "B"], f"{where}: bold text"


def assert_shown_as_typed(page: Any, text: str, tracker: Tracker, where: str, *, times: int = 1) -> None:
    """``text`` is on the page ``times`` times or more, character for character, and made no element."""
    assert_no_markup(page, tracker, where)
    body = page.inner_text("body")
    assert body.count(text) >= times, f"{where}: the text shows {body.count(text)} times, not {times}"


def write_cases(path: Path, title: str, scene_id: str) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["title", "expected result", "scene"])
        writer.writerow([title, "201 with the new id", scene_id])
    return path


def test_markdown_in_user_text_shows_as_typed_and_fetches_nothing(server: Server, page: Any, tracker: Tracker,
                                                                 tmp_path: Path) -> None:
    text = hostile_text(image=tracker.url)
    document = tmp_path / "markdown.json"
    document.write_bytes(openapi_document(text))
    server.cli("import-openapi", str(document), "--user", "alice")
    scene_id = f"POST /md/{text}"
    imported = server.cli("import-cases", str(write_cases(tmp_path / "cases.csv", text, scene_id)), "--user", "alice")

    sign_in(page, server, "alice", TEST_PASSWORD)  # signed in first: the task's events come as toasts
    started = server.cli("start", "--test-case", str(imported["ids"][0]), "--scene", scene_id, "--name", text,
                         "--user", "alice")
    toast = page.locator("[data-testid='stToast']", has_text=f"#{started['task_id']} needs review")
    toast.first.wait_for(timeout=60_000)  # the toast of its step 9, shown for a few seconds
    assert text in toast.first.inner_text()
    assert_no_markup(page, tracker, "30-user-text-toasts")

    review = f"/review?task={started['task_id']}"
    sign_in(page, server, "alice", TEST_PASSWORD, path=review)  # a shared link, opened signed out
    wait_for_text(page, "edit any cell")
    assert page.url == server.url + review
    assert_shown_as_typed(page, text, tracker, "31-user-text-review", times=2)  # name, path

    server.cli("review", started["thread_id"], "--status", "approved", "--wait", "30", "--user", "alice")
    task = f"/task?task={started['task_id']}"
    sign_in(page, server, "alice", TEST_PASSWORD, path=task)  # completed: the page no longer refreshes
    wait_for_text(page, "Completed at")
    assert page.url == server.url + task
    assert_shown_as_typed(page, text, tracker, "32-user-text-task")
    page.get_by_role("tab", name="Inputs").click()
    settle(page)
    assert_shown_as_typed(page, text, tracker, "33-user-text-task-inputs", times=4)  # name, title, path, summary
    assert tracker.hits == [], f"the browser fetched the image in the text: {tracker.hits}"
