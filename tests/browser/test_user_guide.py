"""The walk docs/user-guide.md tells, in real chromium on an empty database: sign in, the first-run guide, launch,
tasks, the review desk, the automation case and the metrics.

`CASEFLOW_SCREENSHOTS=docs/images pytest tests/browser/test_user_guide.py` refreshes the guide's pictures
(1280x800 viewports); ordinary runs keep theirs under test-artifacts/ only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import (
    ADMIN_PASSWORD,
    GUIDE_VIEWPORT,
    Server,
    guide_shot,
    settle,
    wait_for_cell,
    wait_for_text,
)

pytestmark = pytest.mark.browser
EMPTY_LIBRARY = True  # this module's server starts without the demo data: the first-run guide shows


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=GUIDE_VIEWPORT, locale="en-US", timezone_id="Asia/Shanghai")
    yield context.new_page()
    context.close()


def nav(page: Any, label: str) -> None:
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=label, exact=True).click()
    settle(page, 1.0)


def test_the_user_guide_walk(server: Server, tab: Any) -> None:
    tab.goto(server.url + "/")
    settle(tab)
    tab.get_by_label("Username").fill("admin")
    tab.get_by_label("Password", exact=True).fill(ADMIN_PASSWORD)
    guide_shot(tab, "01-sign-in")
    with tab.expect_navigation(timeout=30_000):
        tab.get_by_role("button", name="Sign in").click()
    settle(tab, 1.0)

    wait_for_text(tab, "Welcome to CaseFlow")
    guide_shot(tab, "02-first-run")
    tab.get_by_role("button", name="Load the demo data").click()
    settle(tab, 1.0)
    wait_for_text(tab, "Demo loaded")

    nav(tab, "Launch")
    grid = tab.locator("[data-testid='stDataFrame']").first.bounding_box()
    tab.mouse.click(grid["x"] + 18, grid["y"] + 34 + 17)  # the first test case's row marker
    settle(tab)
    wait_for_text(tab, "1 of")
    guide_shot(tab, "03-launch")
    tab.get_by_role("button", name="Launch 1 task").click()
    settle(tab)
    wait_for_text(tab, "Queued #1")

    nav(tab, "Tasks")
    wait_for_cell(tab, 3, 0, r"^reviewing$", timeout=90)
    guide_shot(tab, "04-tasks")

    nav(tab, "Review")
    wait_for_text(tab, "1 task waiting")
    guide_shot(tab, "05-review-queue")
    queue = tab.locator("[data-testid='stDataFrame']").first.bounding_box()
    tab.mouse.click(queue["x"] + 50, queue["y"] + 36 + 18)  # the "Review #1" button of the first row
    settle(tab, 1.5)
    wait_for_text(tab, "You are reviewing this task")
    guide_shot(tab, "06-review-desk")

    tab.get_by_role("button", name="By kind").click()
    tab.get_by_role("button", name=re.compile(r"^invalid · \d+$")).click()
    settle(tab)
    tab.get_by_role("button", name="Remove these").click()
    settle(tab, 1.0)
    tab.keyboard.press("Escape")
    tab.get_by_role("button", name="Approve").click()
    settle(tab)
    dialog = tab.get_by_role("dialog")
    assert re.search(r"\d+ rows removed", dialog.inner_text())
    guide_shot(tab, "07-review-diff")
    dialog.get_by_role("button", name="Approve").click()
    settle(tab)
    wait_for_text(tab, "created · ", timeout=60)

    nav(tab, "Automation cases")
    wait_for_cell(tab, 1, 0, r"^UC\d+$", timeout=15)
    guide_shot(tab, "08-automation-cases")

    nav(tab, "Metrics")
    wait_for_text(tab, "Success rate")
    guide_shot(tab, "09-metrics")
