"""Sessions that last, in real chromium: a reload, a new tab and a deep link stay signed in; sign-out ends the cookie.

The cookie is HTTP-only (the page's script cannot read it) and set by the server's
/auth/session route; replaying it after sign-out in a fresh browser context signs nobody in.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Server, check_page, settle, sign_in
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

COOKIE = "caseflow_session"


def signed_in_as(page: Any, username: str) -> bool:
    sidebar = page.locator("[data-testid='stSidebar']")
    return sidebar.count() > 0 and username in sidebar.inner_text()


def shows_sign_in_form(page: Any) -> bool:
    return page.get_by_role("button", name="Sign in").count() > 0


def session_cookie(context: Any) -> dict[str, Any]:
    found = [cookie for cookie in context.cookies() if cookie["name"] == COOKIE]
    assert found, f"no {COOKIE} cookie: {[cookie['name'] for cookie in context.cookies()]}"
    return found[0]


def test_a_sign_in_survives_reloads_new_tabs_and_deep_links(server: Server, browser: Any, page: Any) -> None:
    sign_in(page, server, "alice", TEST_PASSWORD)
    assert signed_in_as(page, "alice")
    cookie = session_cookie(page.context)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["expires"] > 0
    assert page.evaluate("document.cookie").find(COOKIE) == -1, "the page's script cannot read the cookie"

    page.reload()
    settle(page, 1.0)
    assert signed_in_as(page, "alice") and not shows_sign_in_form(page), "a reload keeps the user signed in"

    tab = page.context.new_page()
    tab.goto(server.url + "/review?task=7")
    settle(tab, 1.0)
    assert signed_in_as(tab, "alice") and not shows_sign_in_form(tab), "a new tab on a deep link is signed in"
    assert tab.url.endswith("/review?task=7")
    check_page(tab, "sessions-01-deep-link")

    with tab.expect_navigation(timeout=30_000):  # to /auth/signout, which drops the cookie, and back
        tab.locator("[data-testid='stSidebar']").get_by_role("button", name="Sign out").click()
    settle(tab, 1.0)
    tab.get_by_role("button", name="Sign in").first.wait_for(timeout=30_000)
    assert not [c for c in tab.context.cookies() if c["name"] == COOKIE], "sign-out drops the cookie"

    replay = browser.new_context()
    try:
        replay.add_cookies([{key: cookie[key] for key in ("name", "value", "domain", "path")}])
        stale = replay.new_page()
        stale.goto(server.url + "/tasks")
        settle(stale, 1.0)
        assert shows_sign_in_form(stale) and not signed_in_as(stale, "alice"), "a revoked cookie signs nobody in"
        check_page(stale, "sessions-02-replayed-cookie")
    finally:
        replay.close()


def test_a_signed_out_deep_link_lands_on_its_page_after_sign_in(server: Server, page: Any) -> None:
    sign_in(page, server, "victor", TEST_PASSWORD, path="/review?task=7")
    assert signed_in_as(page, "victor")
    assert page.url.endswith("/review?task=7"), page.url
    assert "No task with id 7." in page.locator("[data-testid='stMain']").inner_text(), "the review page, for task 7"
    check_page(page, "sessions-03-deep-link-after-sign-in")
    session_cookie(page.context)
