"""Two reviewers in two real browser contexts open the same review: the second sees the first, and may take over.

Nothing is blocked: the second reviewer can still decide, and the first learns who took over
at the page's next refresh (every few seconds, while it stays open).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import ADMIN_PASSWORD, Server, check_page, settle, sign_in, wait_for_cell, wait_for_text
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


def test_the_second_reviewer_sees_the_first(server: Server, browser: Any, page: Any) -> None:
    task_id = server.cli("start", "--test-case", "1", "--scene", "SC001", "--user", "alice")["task_id"]
    review = f"/review?task={task_id}"
    sign_in(page, server, "alice", TEST_PASSWORD, review)
    wait_for_text(page, "You are reviewing this task", timeout=90)  # the page opens the review once it waits
    check_page(page, "desk-01-alice-reviewing")

    second = browser.new_context(viewport={"width": 1440, "height": 1100}, locale="en-US",
                                 timezone_id="Asia/Shanghai")
    try:
        lead = second.new_page()
        sign_in(lead, server, "admin", ADMIN_PASSWORD, review)
        wait_for_text(lead, "alice is reviewing since", timeout=30)
        assert lead.get_by_role("button", name="Approve").is_enabled(), "the claim never blocks a decision"
        check_page(lead, "desk-02-admin-sees-alice")

        lead.get_by_role("button", name="Review queue").first.click()
        settle(lead, 1.0)
        wait_for_text(lead, "1 task waiting")
        wait_for_cell(lead, 2, 0, r"^alice · ", timeout=15)  # the queue's "Reviewing now"
        lead.goto(server.url + review)
        settle(lead, 1.0)
        wait_for_text(lead, "alice is reviewing since", timeout=30)
        lead.get_by_role("button", name="Take over").click()
        settle(lead)
        wait_for_text(lead, "You are reviewing this task", timeout=30)
        wait_for_text(page, "admin is reviewing since", timeout=30)  # alice's page, refreshed by itself
        check_page(page, "desk-03-alice-sees-the-take-over")
    finally:
        second.close()
